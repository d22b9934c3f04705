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
  deps.globus.tokens.token().catch((err: unknown) => {
    logger.warn({ err: err instanceof UpstreamError ? err.describe() : String(err) }, 'no Globus token yet')
  })

  const app = await buildApp(config, deps)
  // Not an onClose hook: Fastify runs those last-registered first, before the tracker's stop
  // (registered in buildApp); its last cycle and flush would find the upstream clients closed.
  const close = async () => {
    await app.close()
    await deps.close()
  }
  try {
    await app.listen({ port: config.port, host: config.host })
  } catch (err) {
    await close()
    throw err
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
