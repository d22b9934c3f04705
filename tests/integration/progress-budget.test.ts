import { afterEach, describe, expect, it } from 'vitest'
import { addDatasets, jobOf, resultOf, startTransfer, yaml } from '../helpers/transfers.js'
import { type Setup, startAll } from '../helpers/proxy.js'

let setup: Setup | undefined
afterEach(async () => {
  await setup?.close()
  setup = undefined
})

describe('task.progressUpdatesPerCycle', () => {
  it('updates at most that many jobs with progress alone per cycle (submitted → transferring included), longest-waiting first, and never holds back a status change', async () => {
    const n = 30
    setup = await startAll(
      { datasets: 0, globus: { bytesPerSecond: 100 } },
      yaml({ task: { progressUpdatesPerCycle: 10 }, globus: { maxActiveTasks: 100, maxRequestsPerSecond: 1000 } })
    )
    const { world, proxy, clock } = setup
    const jobIds = await Promise.all(
      addDatasets(world, n, 100_000).map((pid) => startTransfer(proxy, world, pid, { query: { autoArchive: 'false' } }))
    )
    // from "submitted" to "transferring" is progress too (the Ingestor sees `transferring` in
    // both), then progress alone: 10 a cycle, oldest first, so each job is updated exactly once
    // in every 3 cycles
    for (let round = 0; round < 2; round++) {
      const updated = new Map<string, number>()
      for (let cycle = 0; cycle < 3; cycle++) {
        const before = new Map(jobIds.map((id) => [id, jobOf(world, id).updatedAt]))
        world.scicat.core.resetCounts()
        clock.advance(1000)
        await proxy.app.tracker.runCycle()
        expect(world.scicat.core.count('updateJob')).toBe(10)
        for (const id of jobIds) {
          if (jobOf(world, id).updatedAt !== before.get(id)) updated.set(id, (updated.get(id) ?? 0) + 1)
        }
      }
      expect(updated.size).toBe(n)
      expect([...updated.values()].every((times) => times === 1)).toBe(true)
      if (round === 0) expect(jobIds.every((id) => jobOf(world, id).statusCode === 'transferring')).toBe(true)
    }

    // a failure in the middle of it is written in the cycle it is seen
    const failing = jobIds[7]!
    world.globus.failTask(resultOf(world, failing).globusTaskId, { code: 'ENDPOINT_ERROR', description: 'disk on fire' })
    world.scicat.core.resetCounts()
    clock.advance(1000)
    await proxy.app.tracker.runCycle()
    expect(resultOf(world, failing)).toMatchObject({ status: 'failed', error: 'ENDPOINT_ERROR: disk on fire' })
    expect(world.scicat.core.count('updateJob')).toBe(11)
  })
})
