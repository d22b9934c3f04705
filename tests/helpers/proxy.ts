// Test harness: a seeded world of simulators and the app built against it, with a log capture.
import { Writable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import { parseConfig } from '../../src/config/loader.js'
import type { Config } from '../../src/config/resolve.js'
import type { Deps } from '../../src/deps.js'
import { createLogger } from '../../src/logger.js'
import { ManualClock } from '../../src/sandbox/sim-core.js'
import { buildService } from '../../src/service.js'
import { startWorld, type World, type WorldOptions } from '../../src/sandbox/world.js'

export interface Proxy {
  app: FastifyInstance
  deps: Deps
  config: Config
  logs: string[]
  close(): Promise<void>
}

/** Builds the app against `world`; the tracker is not started: tests drive `app.tracker.runCycle()`. */
export async function startProxy (world: World, configExtra = '', clock?: ManualClock): Promise<Proxy> {
  const logs: string[] = []
  const sink = new Writable({
    write (chunk, _enc, done) {
      logs.push(String(chunk))
      done()
    },
  })
  const config = configExtra ? parseConfig(world.configText + configExtra, 'test', world.env) : world.config
  const service = await buildService(config, world.credentials, {
    logger: createLogger('debug', sink),
    retry: { baseDelayMs: 5, maxDelayMs: 50 },
    timeouts: { connectMs: 2000, headersMs: 5000, bodyMs: 5000 },
    ...(clock ? { now: () => clock.now() } : {}),
  })
  return { ...service, config, logs }
}

export interface Setup {
  world: World
  proxy: Proxy
  /** Drives the simulators' time and the tracker's. */
  clock: ManualClock
  close(): Promise<void>
}

/** Simulators and app on one ManualClock. */
export async function startAll (options: WorldOptions = {}, configExtra = ''): Promise<Setup> {
  const clock = new ManualClock(Date.now())
  const world = await startWorld({
    ...options,
    globus: { clock, ...options.globus },
    scicat: { clock, ...options.scicat },
  })
  const proxy = await startProxy(world, configExtra, clock)
  return {
    world,
    proxy,
    clock,
    async close () {
      await proxy.close()
      await world.close()
    },
  }
}

/** Config text for tests that assert the precise statuses of POST and DELETE /transfer (the default is Go's). */
export const preciseStatuses = 'server:\n  errorStatuses: http\n'

export const ingestorQuery = (pid: string, extra: Record<string, string> = {}) =>
  new URLSearchParams({
    sourceFacility: 'PSI',
    destFacility: 'CSCS',
    scicatPid: pid,
    collectionRootPath: '/',
    autoArchive: 'true',
    ...extra,
  }).toString()

/** Advances the clock by `stepMs` and runs a tracker cycle until `done()` holds; fails after `max` cycles. */
export async function cyclesUntil (
  setup: Pick<Setup, 'clock' | 'proxy'>,
  done: () => boolean | Promise<boolean>,
  { stepMs = 1000, max = 200 } = {}
): Promise<number> {
  for (let i = 1; i <= max; i++) {
    setup.clock.advance(stepMs)
    await setup.proxy.app.tracker.runCycle()
    if (await done()) return i
  }
  throw new Error(`condition not reached after ${max} tracker cycles`)
}
