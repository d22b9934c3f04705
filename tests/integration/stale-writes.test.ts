// No stale writes (§5): a Duplicate submission answer never moves a job back, and a transfer gets one archive job however often its finish step runs.
import { afterEach, describe, expect, it } from 'vitest'
import type { Job } from '../../src/sandbox/scicat-sim/index.js'
import type { World } from '../../src/sandbox/world.js'
import { cyclesUntil, type Proxy, type Setup, startAll, startProxy } from '../helpers/proxy.js'
import { jobOf, resultOf, startTransfer, submissionIdOf, tasksForSubmission, yaml } from '../helpers/transfers.js'

const extra = yaml({ globus: { maxRequestsPerSecond: 1000 } })

let opened: Array<{ close(): Promise<void> }> = []
afterEach(async () => {
  for (const o of opened.reverse()) await o.close()
  opened = []
})

/** The simulators and instance A; a second instance B of the same deployment on the same upstreams. */
async function twoInstances (bytesPerSecond: number): Promise<{ s: Setup; a: Proxy; b: Proxy }> {
  const s = await startAll({ globus: { bytesPerSecond } }, extra)
  opened.push(s)
  const b = await startProxy(s.world, extra, s.clock)
  opened.push(b)
  return { s, a: s.proxy, b }
}

/** A job accepted by A whose submission did not reach Globus: queued in SciCat, with its submission id. */
async function queuedJob (s: Setup, a: Proxy): Promise<string> {
  s.world.globus.core.inject('transfer', { networkError: true, times: 6 })
  const jobId = await startTransfer(a, s.world, s.world.datasets[0]!.pid)
  expect(jobOf(s.world, jobId)).toMatchObject({ statusCode: 'queued', jobResultObject: { globusTaskId: '' } })
  return jobId
}

/** Runs one tracker cycle of `proxy` after advancing the shared clock. */
async function cycle (s: Setup, proxy: Proxy, stepMs = 1000): Promise<void> {
  s.clock.advance(stepMs)
  await proxy.app.tracker.runCycle()
}

const order = ['queued', 'submitted', 'transferring', 'finished']
const archiveJobs = (w: World) => w.scicat.jobs().filter((j) => j.type === 'archive')

/** Fails when `next` shows the job further back than `prev`: state order, or a count that shrank. */
function expectNotBackwards (prev: Job, next: Job): void {
  expect(order.indexOf(next.statusCode)).toBeGreaterThanOrEqual(order.indexOf(prev.statusCode))
  const p = prev.jobResultObject as Record<string, number>
  const n = next.jobResultObject as Record<string, number>
  for (const key of ['bytesTransferred', 'filesTransferred', 'filesTotal']) expect(n[key]!).toBeGreaterThanOrEqual(p[key]!)
  if (p.globusTaskId) expect(n.globusTaskId).toBe(p.globusTaskId)
}

describe('a Duplicate submission answer', () => {
  it('over a job another instance finished writes nothing, and the job is no longer followed', async () => {
    const { s, a, b } = await twoInstances(100_000)
    const jobId = await queuedJob(s, a)
    expect(await b.app.tracker.discover()).toBe(1) // B holds the job as queued, a stale view
    await cyclesUntil({ clock: s.clock, proxy: a }, () => jobOf(s.world, jobId).statusCode === 'finished')
    const finished = jobOf(s.world, jobId)
    const transfers = s.world.globus.core.count('transfer')

    await cycle(s, b)
    expect(s.world.globus.core.count('transfer')).toBe(transfers + 1) // B did submit: Globus answered Duplicate
    expect(b.app.tracker.transfers.has(jobId)).toBe(false)
    for (let i = 0; i < 3; i++) await cycle(s, b)
    expect(jobOf(s.world, jobId)).toEqual(finished)
    expect(tasksForSubmission(s.world, submissionIdOf(s.world, jobId))).toHaveLength(1)
    expect(archiveJobs(s.world)).toHaveLength(1)
  })

  it('over a job in progress keeps what it shows (no zero counts, no "submitted" again), and both instances only move it forward', async () => {
    const { s, a, b } = await twoInstances(200_000)
    const jobId = await queuedJob(s, a)
    expect(await b.app.tracker.discover()).toBe(1)
    await cyclesUntil({ clock: s.clock, proxy: a }, () => resultOf(s.world, jobId).bytesTransferred > 0, { stepMs: 500 })
    expect(s.world.globus.isFinished(resultOf(s.world, jobId).globusTaskId)).toBe(false)
    const progressed = jobOf(s.world, jobId)
    expect(progressed.statusCode).toBe('transferring')

    // B's submission answers Duplicate: the job already shows the task, so B writes nothing now
    await b.app.tracker.runCycle()
    expect(jobOf(s.world, jobId)).toEqual(progressed)
    expect(b.app.tracker.transfers.get(jobId)?.state).toBe('active')

    let prev = progressed
    for (let i = 0; i < 100 && prev.statusCode !== 'finished'; i++) {
      await cycle(s, i % 2 ? a : b, 300)
      const next = jobOf(s.world, jobId)
      expectNotBackwards(prev, next)
      prev = next
    }
    expect(prev.statusCode).toBe('finished')
    for (const proxy of [a, b]) await proxy.app.tracker.runCycle()
    expect(jobOf(s.world, jobId).statusCode).toBe('finished')
    expect(tasksForSubmission(s.world, submissionIdOf(s.world, jobId))).toHaveLength(1)
    expect(archiveJobs(s.world)).toHaveLength(1)
  })
})

describe('the archive job', () => {
  it('is created once when the final PATCH keeps failing and the finish step runs again, in this instance and in another', async () => {
    const { s, a, b } = await twoInstances(100_000)
    const jobId = await startTransfer(a, s.world, s.world.datasets[0]!.pid)
    expect(await b.app.tracker.discover()).toBe(1) // B follows the same running task
    const taskId = resultOf(s.world, jobId).globusTaskId
    for (let i = 0; i < 1000 && !s.world.globus.isFinished(taskId); i++) s.clock.advance(1000)

    s.world.scicat.core.inject('updateJob', { status: 503, times: 1_000_000 })
    for (let i = 0; i < 3; i++) await cycle(s, a)
    expect(archiveJobs(s.world)).toHaveLength(1)
    const archive = archiveJobs(s.world)[0]!
    expect(archive.jobParams.transferJobId).toBe(jobId)
    expect(jobOf(s.world, jobId).statusCode).toBe('submitted')

    // A stops for good (a crash between creating the archive job and recording it); B finishes the transfer
    s.world.scicat.core.clearFaults()
    await cycle(s, b)
    expect(resultOf(s.world, jobId)).toMatchObject({ status: 'finished', archiveJobId: archive.id })
    // and had A only paused, its own retry lands the same
    await cycle(s, a)
    expect(resultOf(s.world, jobId)).toMatchObject({ status: 'finished', archiveJobId: archive.id })
    expect(archiveJobs(s.world)).toHaveLength(1)
  })
})
