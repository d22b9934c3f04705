// Entry point of `serve`: config → deps → app → listen; signals and graceful shutdown.
import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import { loadCredentials } from './config/credentials.js'
import { ConfigError, loadConfig } from './config/loader.js'
import { createDeps } from './deps.js'
import { UpstreamError } from './http/upstream-error.js'
import { createLogger } from './logger.js'
import { Metrics } from './metrics.js'
import { version } from './version.js'

export interface ServeOptions {
  configFlag?: string | undefined
  env: Readonly<Record<string, string | undefined>>
  cwd: string
}

/** Resolves with the exit code once the service has shut down. */
export async function serve (options: ServeOptions): Promise<number> {
  const { path, config } = loadConfig({ flag: options.configFlag, env: options.env, cwd: options.cwd })
  const credentials = loadCredentials(options.env)
  const logger = createLogger(options.env.LOG_LEVEL || 'info')
  const deps = createDeps(config, credentials, { logger, metrics: new Metrics({ defaultMetrics: true }) })

  try {
    await deps.scicatServiceToken.token()
  } catch (err) {
    await deps.close()
    const why = err instanceof UpstreamError ? err.describe() : (err as Error).message
    throw new ConfigError(`the SciCat service account could not log in at ${config.scicatUrl}: ${why}`)
  }
  // Globus being briefly unreachable must not stop the service: the tracker retries.
  let closing = false
  deps.globus.tokens.token().catch((err: unknown) => {
    // closed before the answer came (a failed start): nothing to warn about
    if (!closing) logger.warn({ err: err instanceof UpstreamError ? err.describe() : String(err) }, 'no Globus token yet')
  })

  let app: Awaited<ReturnType<typeof buildApp>>
  try {
    app = await buildApp(config, deps)
  } catch (err) {
    closing = true
    await deps.close()
    // an option Fastify refuses that the config check let through (server.trustProxy, ...)
    logger.debug({ err }, 'building the app failed')
    throw new ConfigError(`could not set up the HTTP server from ${path}: ${(err as Error).message}`)
  }
  // Not an onClose hook: Fastify runs those last-registered first, before the tracker's stop
  // (registered in buildApp); its last cycle and flush would find the upstream clients closed.
  const close = async () => {
    closing = true
    await app.close()
    await deps.close()
  }
  try {
    await app.listen({ port: config.port, host: config.host })
  } catch (err) {
    await close()
    // an address that does not resolve or is not local, a port in use or not allowed
    const where = config.host.includes(':') ? `[${config.host}]:${config.port}` : `${config.host}:${config.port}`
    throw new ConfigError(`could not listen on ${where}: ${(err as Error).message}`)
  }
  app.tracker.start()
  logger.info({ version, config: path, facilities: config.facilities.map((f) => f.name) }, 'scicat-globus-proxy started')

  return await new Promise<number>((resolve) => {
    closeWithGrace({ delay: 10_000, logger }, async ({ signal, err }) => {
      if (err) logger.error({ err }, 'shutting down after an error')
      else logger.info({ signal }, 'shutting down')
      await close()
      resolve(err ? 1 : 0)
    })
  })
}
