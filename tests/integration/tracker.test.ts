// The tracker against the simulators: batched polling at scale, the Globus capacity queue, outcomes, transient errors.
import { afterEach, describe, expect, it } from 'vitest'
import type { WorldOptions } from '../../src/sandbox/world.js'
import { cyclesUntil, type Setup, startAll as startWorld } from '../helpers/proxy.js'
import {
  addDatasets,
  globusSubmissionOrder,
  jobOf,
  postTransfer,
  resultOf,
  startTransfer,
  submissionIdOf,
  tasksForSubmission,
  yaml,
} from '../helpers/transfers.js'

let setup: Setup | undefined
afterEach(async () => {
  await setup?.close()
  setup = undefined
})

// Globus documents no limit on the ids of one task_list filter: everything here also runs with
// a simulator that refuses more than 25 (the tracker then learns to ask for 25 at a time).
describe.each([{ filterIds: 50 }, { filterIds: 25 }])('with task_list taking $filterIds ids', ({ filterIds }) => {
  const startAll = (options: WorldOptions = {}, extra = '') =>
    startWorld({ ...options, globus: { maxFilterIds: filterIds, ...options.globus } }, extra)
  /** task_list calls per cycle for n tracked tasks, once the size that Globus takes is known. */
  const listsFor = (n: number) => Math.ceil(n / 50) * Math.ceil(50 / filterIds)

  describe('tracker at scale', () => {
    it('polls 300 transfers in batches of 50, updates each one every cycle, and costs nothing when idle', async () => {
      const n = 300
      setup = await startAll(
        { datasets: 0, globus: { bytesPerSecond: 1000 } },
        yaml({ task: { maxConcurrency: 2 }, globus: { maxActiveTasks: 1000, maxRequestsPerSecond: 1000 } })
      )
      const { world, proxy, clock } = setup
      const pids = addDatasets(world, n, 20_000)
      const jobIds = await Promise.all(pids.map((pid) => startTransfer(proxy, world, pid, { query: { autoArchive: 'false' } })))
      expect(new Set(jobIds).size).toBe(n)
      expect(world.globus.tasks()).toHaveLength(n)

      // 20 kB at 1 kB/s: about 20 s each; one cycle a second
      let before = jobIds.map((id) => resultOf(world, id).bytesTransferred)
      for (let cycle = 0; cycle < 3; cycle++) {
        world.globus.core.resetCounts()
        world.scicat.core.resetCounts()
        clock.advance(1000)
        await proxy.app.tracker.runCycle()
        // the first cycle may also count the refused chunks that taught it the size
        expect(world.globus.core.count('task_list')).toBeLessThanOrEqual(listsFor(n) + (cycle === 0 && filterIds < 50 ? 2 : 0))
        expect(world.globus.core.count('task')).toBe(0)
        expect(world.scicat.core.count('updateJob')).toBe(n)
        const after = jobIds.map((id) => resultOf(world, id).bytesTransferred)
        after.forEach((bytes, i) => expect(bytes).toBeGreaterThan(before[i]!))
        for (const id of jobIds) expect(jobOf(world, id).statusMessage).toMatch(/^transferring: 0 of 1 files, [\d.]+ kB/)
        before = after
      }

      // nothing moves: the first cycle records the stall, later ones send nothing to SciCat
      world.globus.setBytesPerSecond(0)
      clock.advance(1000)
      await proxy.app.tracker.runCycle()
      for (let cycle = 0; cycle < 3; cycle++) {
        world.globus.core.resetCounts()
        world.scicat.core.resetCounts()
        clock.advance(5000)
        await proxy.app.tracker.runCycle()
        expect(world.globus.core.count('task_list')).toBe(listsFor(n))
        expect(world.scicat.core.count('updateJob')).toBe(0)
      }

      world.globus.setBytesPerSecond(1000)
      await cyclesUntil(setup, () => jobIds.every((id) => jobOf(world, id).statusCode === 'finished'), { stepMs: 5000, max: 20 })
      for (const id of jobIds) expect(resultOf(world, id)).toMatchObject({ status: 'finished', error: '', bytesTransferred: 20_000 })

      // all ended: a cycle asks nobody anything
      world.globus.core.resetCounts()
      world.scicat.core.resetCounts()
      clock.advance(5000)
      await proxy.app.tracker.runCycle()
      expect(world.globus.core.count('task_list')).toBe(0)
      expect(world.scicat.core.count('updateJob')).toBe(0)
    }, 120_000)
  })

  describe('Globus capacity queue', () => {
    it('answers a burst beyond globus.maxActiveTasks at once, queues the rest in SciCat and submits them in request order', async () => {
    // maxConcurrency 1 puts every upstream call of the requests in one FIFO line, so requests
    // started one after the other reach SciCat and the tracker in the order they were started:
    // that is the request order the Globus submission order is compared with.
      setup = await startAll(
        { datasets: 0, globus: { bytesPerSecond: 10_000 } },
        yaml({ task: { maxConcurrency: 1 }, globus: { maxActiveTasks: 5, maxRequestsPerSecond: 1000 } })
      )
      const { world, proxy } = setup
      const pids = addDatasets(world, 30, 10_000)
      const responses = await Promise.all(pids.map((pid) => postTransfer(proxy, world, pid)))
      expect(responses.map((r) => r.statusCode)).toEqual(pids.map(() => 200))
      const jobIds = responses.map((r) => (r.json() as { jobId: string }).jobId)
      expect(world.scicat.jobs().filter((j) => j.type === 'globus_transfer_job').map((j) => j.id)).toEqual(jobIds)

      // answered before any cycle ran: 5 at Globus, 25 waiting in their SciCat jobs
      expect(world.globus.unfinishedCount()).toBe(5)
      for (const id of jobIds.slice(0, 5)) expect(jobOf(world, id).statusCode).toBe('submitted')
      jobIds.slice(5).forEach((id, ahead) => {
        const job = jobOf(world, id)
        expect(job.statusCode).toBe('queued')
        expect(job.statusMessage).toMatch(/^queued for Globus: \d+\+? ahead$/)
        if (ahead < 10) expect(job.statusMessage).toBe(`queued for Globus: ${ahead} ahead`)
        expect(job.jobResultObject).toMatchObject({ globusTaskId: '', status: 'transferring', error: '', bytesTransferred: 0 })
        expect(world.globus.taskIdForSubmission(submissionIdOf(world, id))).toBeUndefined()
      })

      let cycles = 0
      await cyclesUntil(
        setup,
        () => {
          cycles++
          expect(world.globus.unfinishedCount()).toBeLessThanOrEqual(5)
          return jobIds.every((id) => jobOf(world, id).statusCode === 'finished')
        },
        { stepMs: 500, max: 100 }
      )
      expect(cycles).toBeGreaterThan(5)
      expect(world.globus.tasks()).toHaveLength(30)
      expect(globusSubmissionOrder(world, jobIds)).toEqual(jobIds)
      for (const id of jobIds) expect(resultOf(world, id)).toMatchObject({ status: 'finished', error: '' })
    })

    it('keeps a submission Globus refuses for load (503, too many pending tasks) queued and submits it later', async () => {
    // the service allows 5 tasks, but Globus holds only 2 pending tasks for the identity
      setup = await startAll({ globus: { bytesPerSecond: 1_000_000, maxPendingTasks: 2 } }, yaml({ globus: { maxActiveTasks: 5, maxRequestsPerSecond: 1000 } }))
      const { world, proxy } = setup
      const pids = addDatasets(world, 4, 1_000_000, 'load')

      // Globus is overloaded for every retry of the first submission
      world.globus.core.inject('transfer', { status: 503, times: 6 })
      const a = await startTransfer(proxy, world, pids[0]!)
      expect(jobOf(world, a)).toMatchObject({ statusCode: 'queued', statusMessage: 'queued for Globus: 0 ahead' })
      expect(world.globus.tasks()).toHaveLength(0)
      await proxy.app.tracker.runCycle()
      expect(jobOf(world, a).statusCode).toBe('submitted')

      const b = await startTransfer(proxy, world, pids[1]!)
      expect(jobOf(world, b).statusCode).toBe('submitted')
      // Globus answers 409 "Too many pending tasks": the job waits, it does not fail
      const c = await startTransfer(proxy, world, pids[2]!)
      const d = await startTransfer(proxy, world, pids[3]!)
      expect(jobOf(world, c)).toMatchObject({ statusCode: 'queued', statusMessage: 'queued for Globus: 0 ahead' })
      expect(jobOf(world, d)).toMatchObject({ statusCode: 'queued', statusMessage: 'queued for Globus: 1 ahead' })
      expect(resultOf(world, c)).toMatchObject({ status: 'transferring', error: '', globusTaskId: '' })
      expect(world.globus.tasks()).toHaveLength(2)

      const jobIds = [a, b, c, d]
      await cyclesUntil(
        setup,
        () => {
          for (const id of jobIds) expect(resultOf(world, id).status).not.toBe('failed')
          return jobIds.every((id) => jobOf(world, id).statusCode === 'finished')
        },
        { stepMs: 500, max: 40 }
      )
      expect(globusSubmissionOrder(world, jobIds)).toEqual(jobIds)
      for (const id of jobIds) expect(tasksForSubmission(world, submissionIdOf(world, id))).toHaveLength(1)
    })
  })

  describe('job updates', () => {
    it('PATCHes of one job land in the order they were made: a slow "queued" cannot overwrite "submitted"', async () => {
      setup = await startAll({}, yaml({ globus: { maxActiveTasks: 1, maxRequestsPerSecond: 1000 } }))
      const { world, proxy, clock } = setup
      const first = await startTransfer(proxy, world, world.datasets[0]!.pid)
      clock.advance(5000)
      expect(world.globus.isFinished(resultOf(world, first).globusTaskId)).toBe(true)

      // the second request waits for the slot; SciCat is slow to store its "queued"
      world.scicat.core.resetCounts()
      world.scicat.core.inject('updateJob', { latencyMs: 500 })
      const posting = startTransfer(proxy, world, world.datasets[1]!.pid)
      while (world.scicat.core.count('updateJob') === 0) await new Promise((resolve) => setImmediate(resolve))
      // meanwhile a cycle frees the slot and submits it
      await proxy.app.tracker.runCycle()
      const second = await posting
      await proxy.app.tracker.runCycle()
      const taskId = world.globus.taskIdForSubmission(submissionIdOf(world, second))
      expect(taskId).toBeDefined()
      expect(resultOf(world, second).globusTaskId).toBe(taskId)
      expect(jobOf(world, second).statusCode).not.toBe('queued')
      await cyclesUntil(setup, () => jobOf(world, second).statusCode === 'finished', { stepMs: 1000, max: 20 })
    })
  })
})
