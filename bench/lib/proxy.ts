// The service as production builds it (buildService), pointed at the simulator child process.
import type { FastifyInstance } from 'fastify'
import { pino } from 'pino'
import { parseConfig } from '../../src/config/loader.js'
import type { Config } from '../../src/config/resolve.js'
import type { Deps } from '../../src/deps.js'
import { createLogger } from '../../src/logger.js'
import { buildService } from '../../src/service.js'
import type { RemoteWorld } from './remote-world.js'

export interface BenchProxy {
  app: FastifyInstance
  deps: Deps
  config: Config
  close(): Promise<void>
}

/** YAML for the sections the benchmarks set, appended to the world's config. */
export function yaml (sections: Record<string, Record<string, unknown>>): string {
  return `\n${Object.entries(sections)
    .map(([name, keys]) => `${name}:\n${Object.entries(keys).map(([k, v]) => `  ${k}: ${String(v)}`).join('\n')}`)
    .join('\n')}\n`
}

/**
 * Builds the app on the world's config plus `configExtra`, logging at info level to /dev/null
 * (the cost of logging is the service's cost). The tracker is not started: benchmarks drive it.
 */
export async function startProxy (world: RemoteWorld, configExtra: string): Promise<BenchProxy> {
  const config = parseConfig(world.info.configText + configExtra, 'bench', { ...world.info.env, HOST: '127.0.0.1' })
  const logger = createLogger('info', pino.destination({ dest: '/dev/null', sync: false }))
  const service = await buildService(config, world.info.credentials, { logger, now: () => world.clock.now() })
  return { ...service, config }
}
