// A seeded world with the app built on a config written by the test (its own facilities), on one ManualClock.
import { ManualClock } from '../../src/sandbox/sim-core.js'
import { startWorld, type World, type WorldOptions } from '../../src/sandbox/world.js'
import { type Setup, startProxy } from './proxy.js'

/**
 * Like startAll, but the app reads `configFor(world)` instead of the world's config: facilities
 * cannot be added by appending YAML to the world's own facility list.
 */
export async function startWithConfig (configFor: (world: World) => string, options: WorldOptions = {}): Promise<Setup> {
  const clock = new ManualClock(Date.now())
  const world = await startWorld({
    ...options,
    globus: { clock, ...options.globus },
    scicat: { clock, ...options.scicat },
  })
  try {
    // startProxy parses world.configText + the extra text when the extra text is not empty
    const proxy = await startProxy({ ...world, configText: configFor(world) }, '\n', clock)
    return {
      world,
      proxy,
      clock,
      async close () {
        await proxy.close()
        await world.close()
      },
    }
  } catch (err) {
    await world.close()
    throw err
  }
}
