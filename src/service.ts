// The service's parts put together (upstream clients, then the app on them) and taken apart in the one order that works.
import type { FastifyInstance } from 'fastify'
import { buildApp } from './app.js'
import type { Credentials } from './config/credentials.js'
import type { Config } from './config/resolve.js'
import { createDeps, type Deps, type DepsOptions } from './deps.js'

export interface Service {
  app: FastifyInstance
  deps: Deps
  /** Closes the app (its tracker's last cycle and flush included), then the upstream clients. */
  close(): Promise<void>
}

/** The app, ready but not listening, and its tracker not started. */
export async function buildService (config: Config, credentials: Credentials, options: DepsOptions): Promise<Service> {
  const deps = createDeps(config, credentials, options)
  let app: FastifyInstance
  try {
    app = await buildApp(config, deps)
    await app.ready()
  } catch (err) {
    await deps.close()
    throw err
  }
  return {
    app,
    deps,
    // Not an onClose hook: Fastify runs those last-registered first, before the tracker's stop
    // (registered in buildApp); its last cycle and flush would find the upstream clients closed.
    async close () {
      await app.close()
      await deps.close()
    },
  }
}
