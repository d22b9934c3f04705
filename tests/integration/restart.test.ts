// Restart safety: a new process adopts unfinished jobs from SciCat and submits each transfer exactly once.
import { randomUUID } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import type { ManualClock } from '../../src/sandbox/sim-core.js'
import type { World } from '../../src/sandbox/world.js'
import { adoptionBatchSize, discoveryPageSize } from '../../src/transfers/discovery.js'
import { toJobParams, type TransferParams } from '../../src/transfers/transfer.js'
import { cyclesUntil, type Proxy, type Setup, startAll, startProxy } from '../helpers/proxy.js'
import {
  addDatasets,
  globusSubmissionOrder,
  jobOf,
  resultOf,
  startTransfer,
  submissionIdOf,
  tasksForSubmission,
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

const fast = { maxRequestsPerSecond: 1000 }

async function start (options: Parameters<typeof startAll>[0], configExtra: string): Promise<Setup> {
  const setup = await startAll(options, configExtra)
  world = setup.world
  proxy = setup.proxy
  return setup
}

/** Closes the app (unless closed already) but not the simulators, and starts a new app on them. */
async function restart (s: Setup, configExtra: string): Promise<Setup> {
  await proxy?.close()
  proxy = undefined
  proxy = await startProxy(s.world, configExtra, s.clock)
  return { ...s, proxy }
}

const archiveJobs = (w: World) => w.scicat.jobs().filter((j) => j.type === 'archive')

/** The jobParams the service writes for the seeded dataset `i` (0-based), as TransferParams. */
function paramsFor (w: World, i: number, submissionId: string): TransferParams {
  const dataset = w.datasets[i]!
  const short = dataset.pid.split('/').pop()!
  return {
    pid: dataset.pid,
    sourceFacility: 'PSI',
    destFacility: 'CSCS',
    sourceCollection: w.config.facilities[0]!.collection,
    destinationCollection: w.config.facilities[1]!.collection,
    sourcePath: dataset.sourceFolder,
    destinationPath: `/archive/${short}`,
    autoArchive: true,
    globusSubmissionId: submissionId,
    sourceFolder: dataset.sourceFolder,
    collectionRootPath: '/',
    verifyChecksum: true,
    syncLevel: 'none',
  }
}

/** A transfer job as SciCat stores it right after the service created it (never updated). */
function insertCreatedJob (w: World, params: TransferParams) {
  return w.scicat.insertJob({
    type: 'globus_transfer_job',
    ownerGroup: 'p12345',
    ownerUser: 'alice',
    contactEmail: 'alice@example.org',
    jobParams: toJobParams(params),
  })
}

async function advanceUntilGlobusDone (w: World, clock: ManualClock, taskId: string): Promise<void> {
  for (let i = 0; i < 1000 && !w.globus.isFinished(taskId); i++) clock.advance(1000)
  expect(w.globus.isFinished(taskId)).toBe(true)
}

describe('restart', () => {
  // one user: first in, first out under fair share (the default) and under none
  it.each(['user', 'none'] as const)('a new process adopts running and queued transfers and finishes every one, each submitted once, in order (globus.fairShare: %s)', async (fairShare) => {
    const extra = yaml({ globus: { maxActiveTasks: 2, ...fast, fairShare } })
    let s = await start({ datasets: 0, globus: { bytesPerSecond: 10_000 } }, extra)
    const pids = addDatasets(s.world, 5, 50_000)
    const jobIds: string[] = []
    // the last one without an archive job: a restart must not turn autoArchive on
    for (const pid of pids) {
      const query: Record<string, string> = pid === pids[4] ? { autoArchive: 'false' } : {}
      jobIds.push(await startTransfer(s.proxy, s.world, pid, { query }))
    }
    s.clock.advance(1000)
    await s.proxy.app.tracker.runCycle()
    expect(jobIds.map((id) => jobOf(s.world, id).statusCode)).toEqual(['transferring', 'transferring', 'queued', 'queued', 'queued'])

    s = await restart(s, extra)
    expect(s.proxy.app.tracker.transfers.size).toBe(0)
    s.clock.advance(1000)
    await s.proxy.app.tracker.runCycle()
    expect(s.proxy.app.tracker.transfers.size).toBe(5)
    await cyclesUntil(s, () => jobIds.every((id) => jobOf(s.world, id).statusCode === 'finished'), { stepMs: 1000, max: 100 })
    expect(s.world.globus.tasks()).toHaveLength(5)
    for (const id of jobIds) expect(tasksForSubmission(s.world, submissionIdOf(s.world, id))).toHaveLength(1)
    expect(globusSubmissionOrder(s.world, jobIds)).toEqual(jobIds)
    // archive jobs made by the new process still know the user (W3: Go lost ownerUser and contactEmail)
    const archives = archiveJobs(s.world)
    expect(archives.map((j) => j.jobParams.transferJobId)).toEqual(expect.arrayContaining(jobIds.slice(0, 4)))
    expect(archives).toHaveLength(4)
    for (const a of archives) expect(a).toMatchObject({ ownerUser: 'alice', ownerGroup: 'p12345', contactEmail: 'alice@example.org' })
  })

  it('shutdown sends the updates that have not landed yet', async () => {
    const extra = yaml({ globus: fast })
    const s = await start({}, extra)
    const jobId = await startTransfer(s.proxy, s.world, s.world.datasets[0]!.pid)
    await advanceUntilGlobusDone(s.world, s.clock, resultOf(s.world, jobId).globusTaskId)
    s.world.scicat.core.inject('updateJob', { status: 503, times: 6 })
    await s.proxy.app.tracker.runCycle()
    expect(jobOf(s.world, jobId).statusCode).toBe('submitted')
    await s.proxy.close()
    proxy = undefined
    expect(jobOf(s.world, jobId).statusCode).toBe('finished')
  })

  it('a job whose submission never reached Globus before the restart is submitted exactly once', async () => {
    const extra = yaml({ globus: fast })
    let s = await start({}, extra)
    // every try of the submission is lost on the way
    s.world.globus.core.inject('transfer', { networkError: true, times: 6 })
    const jobId = await startTransfer(s.proxy, s.world, s.world.datasets[0]!.pid)
    const sid = submissionIdOf(s.world, jobId)
    expect(jobOf(s.world, jobId)).toMatchObject({ statusCode: 'queued', jobResultObject: { globusTaskId: '' } })
    expect(s.world.globus.taskIdForSubmission(sid)).toBeUndefined()

    // and one the previous process created and then crashed on, before it could submit or update it
    const crashed = insertCreatedJob(s.world, paramsFor(s.world, 1, await s.proxy.deps.globus.getSubmissionId()))
    expect(crashed.jobResultObject).toEqual({})

    s = await restart(s, extra)
    await cyclesUntil(s, () => [jobId, crashed.id].every((id) => jobOf(s.world, id).statusCode === 'finished'), { stepMs: 500 })
    // a later discovery changes nothing
    s.clock.advance(s.proxy.config.task.discoveryInterval * 1000)
    await s.proxy.app.tracker.runCycle()
    for (const id of [jobId, crashed.id]) {
      const tasks = tasksForSubmission(s.world, submissionIdOf(s.world, id))
      expect(tasks).toHaveLength(1)
      expect(resultOf(s.world, id)).toMatchObject({ status: 'finished', error: '', globusTaskId: tasks[0]!.task_id })
    }
    expect(s.world.globus.tasks()).toHaveLength(2)
    expect(archiveJobs(s.world)).toHaveLength(2)
  })

  it('discovery runs again every task.discoveryInterval while the service runs, not every cycle', async () => {
    const s = await start({}, yaml({ globus: fast, task: { discoveryInterval: 60 } }))
    await s.proxy.app.tracker.runCycle() // the first cycle discovers
    // a job another process (or a lost answer) left unsubmitted appears in SciCat
    const found = insertCreatedJob(s.world, paramsFor(s.world, 0, await s.proxy.deps.globus.getSubmissionId()))
    s.world.scicat.core.resetCounts()
    s.clock.advance(59_000)
    await s.proxy.app.tracker.runCycle()
    expect(s.world.scicat.core.count('findJobs')).toBe(0)
    expect(s.world.globus.tasks()).toHaveLength(0)
    s.clock.advance(1000)
    await s.proxy.app.tracker.runCycle()
    expect(s.world.scicat.core.count('findJobs')).toBeGreaterThan(0)
    const tasks = tasksForSubmission(s.world, submissionIdOf(s.world, found.id))
    expect(tasks).toHaveLength(1)
    expect(resultOf(s.world, found.id).globusTaskId).toBe(tasks[0]!.task_id)
  })

  it('a task Globus accepted whose id never reached SciCat is re-submitted after the restart and Globus answers Duplicate', async () => {
    const extra = yaml({ globus: fast })
    let s = await start({}, extra)
    s.world.scicat.core.inject('updateJob', { status: 503, times: 1_000_000 })
    const jobId = await startTransfer(s.proxy, s.world, s.world.datasets[0]!.pid)
    const sid = submissionIdOf(s.world, jobId)
    const taskId = s.world.globus.taskIdForSubmission(sid)
    expect(taskId).toBeDefined()
    expect(resultOf(s.world, jobId).globusTaskId).toBeUndefined()

    await s.proxy.close() // its last flush fails too
    proxy = undefined
    s.world.scicat.core.clearFaults()
    s.world.globus.core.resetCounts()
    s = await restart(s, extra)
    await s.proxy.app.tracker.runCycle()
    expect(s.world.globus.core.count('transfer')).toBe(1)
    expect(resultOf(s.world, jobId).globusTaskId).toBe(taskId)
    expect(s.world.globus.tasks()).toHaveLength(1)
    await cyclesUntil(s, () => jobOf(s.world, jobId).statusCode === 'finished', { stepMs: 500 })
    expect(s.world.globus.tasks()).toHaveLength(1)
  })

  it('the final PATCH lost before a restart: the new process finishes the job with the archive job made before', async () => {
    const extra = yaml({ globus: fast })
    let s = await start({}, extra)
    const jobId = await startTransfer(s.proxy, s.world, s.world.datasets[0]!.pid)
    await advanceUntilGlobusDone(s.world, s.clock, resultOf(s.world, jobId).globusTaskId)
    s.world.scicat.core.inject('updateJob', { status: 503, times: 1_000_000 })
    await s.proxy.app.tracker.runCycle()
    expect(archiveJobs(s.world)).toHaveLength(1)
    const archiveJobId = archiveJobs(s.world)[0]!.id
    expect(jobOf(s.world, jobId).statusCode).toBe('submitted')

    await s.proxy.close()
    proxy = undefined
    s.world.scicat.core.clearFaults()
    s = await restart(s, extra)
    await s.proxy.app.tracker.runCycle()
    expect(jobOf(s.world, jobId).statusCode).toBe('finished')
    expect(resultOf(s.world, jobId)).toMatchObject({ status: 'finished', error: '', archiveJobId })
    expect(archiveJobs(s.world)).toHaveLength(1)
  })

  it.each(['user', 'none'] as const)('discovery pages through more than one page of SciCat jobs and queues them in creation order (globus.fairShare: %s)', async (fairShare) => {
    const s = await start({}, yaml({ globus: { ...fast, fairShare } }))
    const n = discoveryPageSize + 5
    const inserted = Array.from({ length: n }, () => insertCreatedJob(s.world, paramsFor(s.world, 0, randomUUID())).id)
    s.world.scicat.core.resetCounts()
    expect(await s.proxy.app.tracker.discover()).toBe(n)
    // two pages of the listing (ids only), then the jobs to adopt, adoptionBatchSize at a time
    expect(s.world.scicat.core.count('findJobs')).toBe(2 + Math.ceil(n / adoptionBatchSize))
    expect(s.proxy.app.tracker.queue).toEqual(inserted)
    // nothing is adopted twice
    expect(await s.proxy.app.tracker.discover()).toBe(0)
    expect(s.proxy.app.tracker.transfers.size).toBe(n)
  })
})

describe('discovery reads whole jobs only in batches', () => {
  it('lists unfinished jobs without their jobParams, then reads the ones to adopt by id, at most adoptionBatchSize at a time', async () => {
    const s = await start({}, yaml({ globus: fast }))
    const n = adoptionBatchSize + 3
    for (let i = 0; i < n; i++) insertCreatedJob(s.world, paramsFor(s.world, 0, randomUUID()))
    const before = s.world.scicat.jobListFilters().length
    expect(await s.proxy.app.tracker.discover()).toBe(n)
    const filters = s.world.scicat.jobListFilters().slice(before) as Array<{ where: { id?: { $in: string[] } }; fields?: string[] }>
    const listing = filters.filter((f) => !f.where.id)
    const batches = filters.filter((f) => f.where.id)
    expect(listing.length).toBeGreaterThan(0)
    // the listing names only the fields it needs: no fileList, no whole jobParams
    for (const f of listing) expect(f.fields).toEqual(['id', 'jobParams.globusClientId'])
    expect(batches.map((f) => f.where.id!.$in.length)).toEqual([adoptionBatchSize, 3])
    expect(batches.every((f) => f.fields === undefined)).toBe(true)
  })
})
