// Entry point of `serve`: config → service → listen; signals and graceful shutdown.
import closeWithGrace from 'close-with-grace'
import { loadCredentials } from './config/credentials.js'
import { ConfigError, loadConfig } from './config/loader.js'
import { hostPort } from './config/resolve.js'
import { UpstreamError } from './http/upstream-error.js'
import { createLogger } from './logger.js'
import { Metrics } from './metrics.js'
import { buildService, type Service } from './service.js'
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
  let service: Service
  try {
    service = await buildService(config, credentials, { logger, metrics: new Metrics({ defaultMetrics: true }) })
  } catch (err) {
    // an option Fastify refuses that the config check let through (server.trustProxy, ...)
    logger.debug({ err }, 'building the app failed')
    throw new ConfigError(`could not set up the HTTP server from ${path}: ${(err as Error).message}`)
  }
  const { app, deps } = service

  try {
    await deps.scicatServiceToken.token()
  } catch (err) {
    await service.close()
    const why = err instanceof UpstreamError ? err.describe() : (err as Error).message
    throw new ConfigError(`the SciCat service account could not log in at ${config.scicatUrl}: ${why}`)
  }
  // Globus being briefly unreachable must not stop the service: the tracker retries.
  let closing = false
  deps.globus.tokens.tasks.token().catch((err: unknown) => {
    // closed before the answer came (a failed start): nothing to warn about
    if (!closing) logger.warn({ err: err instanceof UpstreamError ? err.describe() : String(err) }, 'no Globus token yet')
  })
  const close = async () => {
    closing = true
    await service.close()
  }
  try {
    await app.listen({ port: config.port, host: config.host })
  } catch (err) {
    await close()
    // an address that does not resolve or is not local, a port in use or not allowed
    throw new ConfigError(`could not listen on ${hostPort(config.host, config.port)}: ${(err as Error).message}`)
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
