// Entry point of `serve`: config → service → listen; signals and graceful shutdown.
import closeWithGrace from 'close-with-grace'
import { loadCredentials } from './config/credentials.js'
import { ConfigError, loadConfig } from './config/loader.js'
import { hostPort } from './config/resolve.js'
import type { Leadership } from './ha/leadership.js'
import { createLogger } from './logger.js'
import { Metrics } from './metrics.js'
import { buildService, type Service } from './service.js'
import { describe } from './transfers/cycle-helpers.js'
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
  const metrics = new Metrics({ defaultMetrics: true })
  let leadership: Leadership | undefined
  if (config.ha) {
    // loaded only with ha.lease: @kubernetes/client-node alone takes about a second to import
    const { createLeadership } = await import('./ha/leadership.js')
    try {
      leadership = createLeadership(config.ha.lease, { env: options.env, logger, registry: metrics.registry })
    } catch (err) {
      throw new ConfigError(`${path}: ${(err as Error).message}`)
    }
  }
  let service: Service
  try {
    service = await buildService(config, credentials, { logger, metrics, ...(leadership ? { role: leadership.elector } : {}) })
  } catch (err) {
    // an option Fastify refuses that the config check let through (server.trustProxy, ...)
    logger.debug({ err }, 'building the app failed')
    throw new ConfigError(`could not set up the HTTP server from ${path}: ${(err as Error).message}`)
  }
  const { app, deps } = service

  const loginFailed = (err: unknown) => `the SciCat service account could not log in at ${config.scicatUrl}: ${describe(err)}`
  // Alone, bad credentials stop the start at once. With ha.lease a standby calls no upstream
  // (DESIGN §11): it logs in when it becomes active.
  if (!leadership) {
    try {
      await deps.scicatServiceToken.token()
    } catch (err) {
      await service.close()
      throw new ConfigError(loginFailed(err))
    }
  }
  // Globus being briefly unreachable must not stop the service: the tracker retries.
  let closing = false
  const logInScicat = () => {
    // the tracker's first discovery shares this login (single-flight)
    deps.scicatServiceToken.token().catch((err: unknown) => {
      if (!closing) logger.error({ err: describe(err) }, loginFailed(err))
    })
  }
  const warmGlobus = () => {
    deps.globus.tokens.tasks.token().catch((err: unknown) => {
      // closed before the answer came (a failed start): nothing to warn about
      if (!closing) logger.warn({ err: describe(err) }, 'no Globus token yet')
    })
  }
  // A standby asks Globus nothing: its token is fetched when it becomes active.
  if (!leadership) warmGlobus()
  const close = async () => {
    closing = true
    leadership?.retire()
    // the tracker's last cycle and flush, still under the lease; then the lease is given up
    await service.close()
    await leadership?.release()
  }
  try {
    await app.listen({ port: config.port, host: config.host })
  } catch (err) {
    await close()
    // an address that does not resolve or is not local, a port in use or not allowed
    throw new ConfigError(`could not listen on ${hostPort(config.host, config.port)}: ${(err as Error).message}`)
  }
  if (leadership) {
    leadership.start({
      // the new active instance starts as a fresh process would: with discovery
      becameActive: () => {
        logInScicat()
        warmGlobus()
        app.tracker.reset()
        app.tracker.start()
      },
      // nothing may be written any more (the write gate is closed): stop, and let go of every transfer
      becameStandby: async () => {
        await app.tracker.stop()
        app.tracker.reset()
      },
    })
  } else {
    app.tracker.start()
  }
  logger.info(
    { version, config: path, facilities: config.facilities.map((f) => f.name), ...(leadership ? { lease: config.ha?.lease.name } : {}) },
    'scicat-globus-proxy started'
  )

  return await new Promise<number>((resolve) => {
    closeWithGrace({ delay: 10_000, logger }, async ({ signal, err }) => {
      if (err) logger.error({ err }, 'shutting down after an error')
      else logger.info({ signal }, 'shutting down')
      await close()
      resolve(err ? 1 : 0)
    })
  })
}
