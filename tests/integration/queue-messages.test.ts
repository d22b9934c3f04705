// The queued jobs' "N ahead" messages: rewritten only when the queue changed, and again after a failed write.
import { afterEach, describe, expect, it } from 'vitest'
import { type Setup, startAll } from '../helpers/proxy.js'
import { addDatasets, cancelTransfer, jobOf, startTransfer, yaml } from '../helpers/transfers.js'

let setup: Setup | undefined
afterEach(async () => {
  await setup?.close()
  setup = undefined
})

const cycle = async (s: Setup) => {
  s.clock.advance(1000)
  await s.proxy.app.tracker.runCycle()
}

describe('queued jobs show their place', () => {
  it('sends nothing while the queue is unchanged, and writes a place again after its update failed', async () => {
    // one Globus slot, held by a task that does not end during the test; four jobs wait behind it
    setup = await startAll({ datasets: 0, globus: { bytesPerSecond: 0 } }, yaml({ globus: { maxActiveTasks: 1, maxRequestsPerSecond: 1000 } }))
    const s = setup
    const pids = addDatasets(s.world, 5, 1_000_000)
    const ids: string[] = []
    for (const pid of pids) ids.push(await startTransfer(s.proxy, s.world, pid, { query: { autoArchive: 'false' } }))
    await cycle(s)
    const queued = ids.slice(1)
    expect(queued.map((id) => jobOf(s.world, id).statusMessage)).toEqual([0, 1, 2, 3].map((n) => `queued for Globus: ${n} ahead`))

    // nothing changed: no PATCH at all
    const before = s.world.scicat.core.count('updateJob')
    await cycle(s)
    await cycle(s)
    expect(s.world.scicat.core.count('updateJob') - before).toBe(0)

    // the first in line leaves: the other three move up, but SciCat refuses their updates once
    expect((await cancelTransfer(s.proxy, s.world, queued[0]!)).statusCode).toBe(200)
    s.world.scicat.core.inject('updateJob', { status: 400, times: 3 })
    await cycle(s)
    expect(queued.slice(1).map((id) => jobOf(s.world, id).statusMessage)).toEqual([1, 2, 3].map((n) => `queued for Globus: ${n} ahead`))

    // the queue is as it was after the cancel; the places that did not land are written now
    await cycle(s)
    expect(queued.slice(1).map((id) => jobOf(s.world, id).statusMessage)).toEqual([0, 1, 2].map((n) => `queued for Globus: ${n} ahead`))
    const settled = s.world.scicat.core.count('updateJob')
    await cycle(s)
    expect(s.world.scicat.core.count('updateJob')).toBe(settled)
  })
})
