// DELETE /transfer/{jobId}: cancel running and queued transfers, after a restart too; delete=true; 409 on ended jobs.
import { afterEach, describe, expect, it } from 'vitest'
import type { World } from '../../src/sandbox/world.js'
import { discoveryPageSize } from '../../src/transfers/discovery.js'
import { cyclesUntil, type Proxy, type Setup, startAll, startProxy } from '../helpers/proxy.js'
import {
  addDatasets,
  cancelTransfer,
  jobOf,
  resultOf,
  startTransfer,
  submissionIdOf,
  yaml,
} from '../helpers/transfers.js'

let world: World | undefined
let proxy: Proxy | undefined
afterEach(async () => {
  await proxy?.close()
  await world?.close()
  proxy = undefined
  world = undefined
})

const extra = (maxActiveTasks = 100) => yaml({ globus: { maxActiveTasks, maxRequestsPerSecond: 1000 }, server: { errorStatuses: 'http' } })

/** Slow transfers (10 kB/s) so that they are still running when cancelled. */
async function start (configExtra = extra()): Promise<Setup> {
  const setup = await startAll({ globus: { bytesPerSecond: 10_000 } }, configExtra)
  world = setup.world
  proxy = setup.proxy
  return setup
}

async function restart (s: Setup, configExtra = extra()): Promise<Setup> {
  await proxy?.close()
  proxy = undefined
  proxy = await startProxy(s.world, configExtra, s.clock)
  return { ...s, proxy }
}

async function cycle (s: Setup, ms = 1000): Promise<void> {
  s.clock.advance(ms)
  await s.proxy.app.tracker.runCycle()
}

function expectCancelledAtGlobus (w: World, taskId: string): void {
  const task = w.globus.task(taskId)!
  expect(task.status).toBe('FAILED')
  expect(task.fatal_error).toMatchObject({ code: 'CANCELED' })
}

/** Several cycles, through a discovery, change neither the job nor Globus. */
async function expectLeftAlone (s: Setup, jobId: string): Promise<void> {
  const job = jobOf(s.world, jobId)
  const tasks = s.world.globus.tasks().length
  const patches = s.world.scicat.core.count('updateJob')
  for (let i = 0; i < 3; i++) await cycle(s, 200_000)
  expect(jobOf(s.world, jobId)).toEqual(job)
  expect(s.world.scicat.core.count('updateJob')).toBe(patches)
  expect(s.world.globus.tasks()).toHaveLength(tasks)
  expect(s.proxy.app.tracker.transfers.has(jobId)).toBe(false)
}

describe('DELETE /transfer/{jobId}', () => {
  it('cancels a running transfer: the Globus task is cancelled, the job is cancelled and stays so', async () => {
    const s = await start()
    const jobId = await startTransfer(s.proxy, s.world, s.world.datasets[0]!.pid)
    const taskId = resultOf(s.world, jobId).globusTaskId
    await cycle(s, 5000)
    const moved = resultOf(s.world, jobId).bytesTransferred
    expect(moved).toBeGreaterThan(0)

    const res = await cancelTransfer(s.proxy, s.world, jobId)
    expect(res.statusCode).toBe(200)
    expectCancelledAtGlobus(s.world, taskId)
    const job = jobOf(s.world, jobId)
    expect(job.statusCode).toBe('cancelled')
    expect(job.statusMessage).toMatch(/^cancelled after/)
    expect(job.jobResultObject).toMatchObject({ status: 'cancelled', error: '', globusTaskId: taskId })
    expect(resultOf(s.world, jobId).bytesTransferred).toBeGreaterThanOrEqual(moved)
    await expectLeftAlone(s, jobId)
    expect(s.world.scicat.core.count('patchLifecycle')).toBe(0)
  })

  it('answers from the task\'s state whatever Globus answers the cancel of a task that ended before the tracker saw it', async () => {
    const s = await start()
    const [done, failed] = await Promise.all(s.world.datasets.slice(0, 2).map((d) => startTransfer(s.proxy, s.world, d.pid)))
    const taskOf = (jobId: string) => resultOf(s.world, jobId).globusTaskId
    // Globus ends the tasks between two cycles: the jobs still show them running
    s.world.globus.failTask(taskOf(failed!), { code: 'PERMISSION_DENIED', description: 'permission denied' })
    s.world.globus.setBytesPerSecond(1_000_000_000)
    s.clock.advance(60_000)
    expect(s.world.globus.task(taskOf(done!))?.status).toBe('SUCCEEDED')
    expect(jobOf(s.world, done!).statusCode).toBe('submitted')

    // 200 TaskComplete (as Globus answers it), then the task read back: SUCCEEDED → 409
    const finished = await cancelTransfer(s.proxy, s.world, done!)
    expect(finished.statusCode).toBe(409)
    expect(finished.json()).toMatchObject({ code: 'PROXY_JOB_ENDED' })
    expect(s.world.globus.core.count('task')).toBeGreaterThan(0)

    // a failed task: Globus refusing the cancel with anything (a 400 here) changes nothing: 409
    s.world.globus.core.inject('cancel', { status: 400, body: { code: 'ClientError.BadRequest', message: 'cannot cancel' } })
    expect(s.world.globus.task(taskOf(failed!))?.status).toBe('FAILED')
    expect(jobOf(s.world, failed!).statusCode).toBe('submitted')
    const ended = await cancelTransfer(s.proxy, s.world, failed!)
    expect(ended.statusCode).toBe(409)
    expect(ended.json()).toMatchObject({ code: 'PROXY_JOB_ENDED', message: expect.stringContaining('PERMISSION_DENIED') })
    // neither job was written by the cancel: the tracker records their outcome
    expect(jobOf(s.world, done!).statusCode).toBe('submitted')
    expect(jobOf(s.world, failed!).statusCode).toBe('submitted')
  })

  it('records cancelled when the task was already cancelled at Globus, whatever the cancel answered; a refused cancel of a running task is Globus\'s error', async () => {
    const s = await start()
    const [a, b] = await Promise.all(s.world.datasets.slice(0, 2).map((d) => startTransfer(s.proxy, s.world, d.pid)))
    const taskA = resultOf(s.world, a!).globusTaskId
    // cancelled at Globus by someone else: the service's own cancel answers an error
    s.world.globus.failTask(taskA, { code: 'CANCELED', description: 'canceled' })
    s.world.globus.core.inject('cancel', { status: 409, body: { code: 'Conflict', message: 'already ended' } })
    const res = await cancelTransfer(s.proxy, s.world, a!)
    expect(res.statusCode, res.body).toBe(200)
    expect(jobOf(s.world, a!).statusCode).toBe('cancelled')

    // still running, and Globus refuses the cancel: its error, nothing recorded
    s.world.globus.core.inject('cancel', { status: 403, body: { code: 'PermissionDenied', message: 'not yours' } })
    const refused = await cancelTransfer(s.proxy, s.world, b!)
    expect(refused.statusCode).toBe(502)
    expect(refused.json()).toMatchObject({ code: 'PROXY_UPSTREAM_GLOBUS' })
    expect(refused.json().details ?? refused.json().message).toContain('PermissionDenied')
    expect(jobOf(s.world, b!).statusCode).not.toBe('cancelled')
    expect(s.world.globus.task(resultOf(s.world, b!).globusTaskId)?.status).toBe('ACTIVE')
  })

  it('cancels a queued transfer, which is then never submitted', async () => {
    const s = await start(extra(1))
    const [first, second] = [
      await startTransfer(s.proxy, s.world, s.world.datasets[0]!.pid),
      await startTransfer(s.proxy, s.world, s.world.datasets[1]!.pid),
    ]
    expect(jobOf(s.world, second).statusCode).toBe('queued')
    expect((await cancelTransfer(s.proxy, s.world, second)).statusCode).toBe(200)
    expect(jobOf(s.world, second)).toMatchObject({ statusCode: 'cancelled', jobResultObject: { status: 'cancelled', globusTaskId: '' } })
    await cyclesUntil(s, () => jobOf(s.world, first).statusCode === 'finished', { stepMs: 5000 })
    await expectLeftAlone(s, second)
    expect(s.world.globus.taskIdForSubmission(submissionIdOf(s.world, second))).toBeUndefined()
    expect(s.world.globus.tasks()).toHaveLength(1)
  })

  it('cancels transfers started before a restart, running or queued, before the new process ran a cycle', async () => {
    let s = await start(extra(1))
    const running = await startTransfer(s.proxy, s.world, s.world.datasets[0]!.pid)
    const queued = await startTransfer(s.proxy, s.world, s.world.datasets[1]!.pid)
    const taskId = resultOf(s.world, running).globusTaskId
    await cycle(s)
    s = await restart(s, extra(1))
    expect(s.proxy.app.tracker.transfers.size).toBe(0)

    expect((await cancelTransfer(s.proxy, s.world, running)).statusCode).toBe(200)
    expectCancelledAtGlobus(s.world, taskId)
    expect(jobOf(s.world, running)).toMatchObject({ statusCode: 'cancelled', jobResultObject: { status: 'cancelled' } })
    expect((await cancelTransfer(s.proxy, s.world, queued)).statusCode).toBe(200)
    expect(jobOf(s.world, queued)).toMatchObject({ statusCode: 'cancelled', jobResultObject: { status: 'cancelled' } })

    await expectLeftAlone(s, running)
    await expectLeftAlone(s, queued)
    expect(s.world.globus.taskIdForSubmission(submissionIdOf(s.world, queued))).toBeUndefined()
  })

  it('cancels a queued transfer while the tracker is submitting it: the new Globus task is cancelled', async () => {
    const s = await start(extra(1))
    const first = await startTransfer(s.proxy, s.world, s.world.datasets[0]!.pid)
    const second = await startTransfer(s.proxy, s.world, s.world.datasets[1]!.pid)
    for (let i = 0; i < 1000 && !s.world.globus.isFinished(resultOf(s.world, first).globusTaskId); i++) s.clock.advance(1000)
    // the cycle frees the slot and submits the second transfer, which Globus takes its time to accept
    s.world.globus.core.resetCounts()
    s.world.globus.core.inject('transfer', { latencyMs: 300 })
    const cycling = s.proxy.app.tracker.runCycle()
    while (s.world.globus.core.count('transfer') === 0) await new Promise((resolve) => setImmediate(resolve))
    expect((await cancelTransfer(s.proxy, s.world, second)).statusCode).toBe(200)
    await cycling
    const taskId = s.world.globus.taskIdForSubmission(submissionIdOf(s.world, second))!
    expect(taskId).toBeDefined()
    expectCancelledAtGlobus(s.world, taskId)
    expect(jobOf(s.world, second)).toMatchObject({ statusCode: 'cancelled', jobResultObject: { status: 'cancelled', globusTaskId: taskId } })
    await expectLeftAlone(s, second)
    expect(s.world.globus.unfinishedCount()).toBe(0)
  })

  it('delete=true cancels the Globus task and deletes the SciCat job', async () => {
    const s = await start()
    const jobId = await startTransfer(s.proxy, s.world, s.world.datasets[0]!.pid)
    const taskId = resultOf(s.world, jobId).globusTaskId
    await cycle(s)
    expect((await cancelTransfer(s.proxy, s.world, jobId, true)).statusCode).toBe(200)
    expectCancelledAtGlobus(s.world, taskId)
    expect(s.world.scicat.job(jobId)).toBeUndefined()
    expect(s.proxy.app.tracker.transfers.has(jobId)).toBe(false)
    await cycle(s, 400_000)
    expect(s.world.scicat.job(jobId)).toBeUndefined()
  })

  it('touches only transfer jobs the caller may see: another type is 404, another group 403 (nothing cancelled or deleted)', async () => {
    const s = await start()
    const jobId = await startTransfer(s.proxy, s.world, s.world.datasets[0]!.pid)
    const taskId = resultOf(s.world, jobId).globusTaskId
    const other = s.world.scicat.insertJob({ type: 'archive', ownerGroup: 'p12345', ownerUser: 'alice' })
    for (const remove of [false, true]) {
      const res = await cancelTransfer(s.proxy, s.world, other.id, remove)
      expect(res.statusCode).toBe(404)
      expect(res.json()).toMatchObject({ message: expect.any(String) })
      expect(s.world.scicat.job(other.id)).toBeDefined()
      expect((await cancelTransfer(s.proxy, s.world, jobId, remove, s.world.tokens.bob)).statusCode).toBe(403)
    }
    expect((await cancelTransfer(s.proxy, s.world, 'no-such-job')).statusCode).toBe(404)
    expect(s.world.globus.task(taskId)!.status).toBe('ACTIVE')
    expect(jobOf(s.world, jobId).statusCode).toBe('submitted')
  })

  it('answers 409 for a finished, failed or cancelled transfer; with delete=true such a job is deleted', async () => {
    const s = await start()
    const pids = addDatasets(s.world, 3, 1000, 'ended')
    const [finished, failed, cancelled] = [
      await startTransfer(s.proxy, s.world, pids[0]!),
      await startTransfer(s.proxy, s.world, pids[1]!),
      await startTransfer(s.proxy, s.world, pids[2]!),
    ]
    s.world.globus.failTask(resultOf(s.world, failed).globusTaskId, { code: 'FILE_NOT_FOUND', description: 'file not found' })
    expect((await cancelTransfer(s.proxy, s.world, cancelled)).statusCode).toBe(200)
    await cyclesUntil(s, () => jobOf(s.world, finished).statusCode === 'finished' && jobOf(s.world, failed).statusCode === 'failed')

    for (const [jobId, status] of [[finished, 'finished'], [failed, 'failed'], [cancelled, 'cancelled']] as const) {
      const before = jobOf(s.world, jobId)
      const res = await cancelTransfer(s.proxy, s.world, jobId)
      expect(res.statusCode).toBe(409)
      expect(res.json()).toMatchObject({ code: 'PROXY_JOB_ENDED', message: expect.any(String) })
      expect(jobOf(s.world, jobId)).toEqual(before)
      expect(before.statusCode).toBe(status)
    }
    // also from a process that never tracked them
    const r = await restart(s)
    for (const jobId of [finished, failed, cancelled]) {
      expect((await cancelTransfer(r.proxy, r.world, jobId)).statusCode).toBe(409)
      expect((await cancelTransfer(r.proxy, r.world, jobId, true)).statusCode).toBe(200)
      expect(r.world.scicat.job(jobId)).toBeUndefined()
    }
    expect(r.world.globus.core.count('cancel')).toBe(1)
  })

  it.each([
    ['by this process', false],
    ['before a restart', true],
  ])('a transfer started %s and cancelled while discovery reads SciCat is not adopted again', async (_, restarted) => {
    let s = await start(extra(1))
    // queued: Globus cannot be reached for any try of the submission
    s.world.globus.core.inject('transfer', { networkError: true, times: 6 })
    const jobId = await startTransfer(s.proxy, s.world, s.world.datasets[0]!.pid)
    expect(jobOf(s.world, jobId).statusCode).toBe('queued')
    if (restarted) s = await restart(s, extra(1))
    // more than one page of unfinished jobs (ones this service cannot track: no jobParams)
    for (let i = 0; i < discoveryPageSize; i++) s.world.scicat.insertJob({ type: 'globus_transfer_job', ownerGroup: 'p12345' })
    // the first page (with our job) is read at once, the second one slowly
    s.world.scicat.core.resetCounts()
    s.world.scicat.core.inject('findJobs', { latencyMs: 0 })
    s.world.scicat.core.inject('findJobs', { latencyMs: 1500 })

    let cycleDone = false
    const running = s.proxy.app.tracker.runCycle().then(() => {
      cycleDone = true
    })
    await untilCount(s.world, 'findJobs', 2)
    expect((await cancelTransfer(s.proxy, s.world, jobId)).statusCode).toBe(200)
    expect(cycleDone).toBe(false)
    await running
    expect(s.proxy.app.tracker.transfers.has(jobId)).toBe(false)
    expect(jobOf(s.world, jobId).statusCode).toBe('cancelled')
    for (let i = 0; i < 3; i++) await cycle(s, 5000)
    expect(jobOf(s.world, jobId).statusCode).toBe('cancelled')
    expect(s.world.globus.tasks()).toHaveLength(0)
  })

  it('a discovery that ends while a cancel is being recorded leaves that job alone', async () => {
    let s = await start(extra(1))
    s.world.globus.core.inject('transfer', { networkError: true, times: 6 })
    const jobId = await startTransfer(s.proxy, s.world, s.world.datasets[0]!.pid)
    s = await restart(s, extra(1))
    // the PATCH that records the cancellation takes long; discovery reads the job still queued
    s.world.scicat.core.resetCounts()
    s.world.scicat.core.inject('updateJob', { latencyMs: 1500 })
    const cancelling = cancelTransfer(s.proxy, s.world, jobId)
    await untilCount(s.world, 'updateJob', 1)
    expect(await s.proxy.app.tracker.discover()).toBe(0)
    expect((await cancelling).statusCode).toBe(200)
    for (let i = 0; i < 3; i++) await cycle(s, 5000)
    expect(jobOf(s.world, jobId).statusCode).toBe('cancelled')
    expect(s.world.globus.tasks()).toHaveLength(0)
  })
})

/** Waits (turning the event loop, no timer) until the SciCat simulator has seen `n` calls of `operation`. */
async function untilCount (w: World, operation: string, n: number): Promise<void> {
  for (let i = 0; i < 100_000 && w.scicat.core.count(operation) < n; i++) await new Promise((resolve) => setImmediate(resolve))
  expect(w.scicat.core.count(operation)).toBe(n)
}
