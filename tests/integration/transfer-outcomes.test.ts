// How Globus outcomes, trouble and transient upstream errors end up in the SciCat job (DESIGN §5, §6).
import { afterEach, describe, expect, it } from 'vitest'
import { maxFinishAttempts } from '../../src/transfers/finisher.js'
import { cyclesUntil, type Setup, startAll } from '../helpers/proxy.js'
import { jobOf, resultOf, startTransfer, yaml } from '../helpers/transfers.js'

let setup: Setup | undefined
afterEach(async () => {
  await setup?.close()
  setup = undefined
})

/**
 * One transfer of the first seeded dataset (about 900 kB) at 10 kB/s: about 90 s at Globus.
 * The Globus rate limit runs on real time: lifted, so that many cycles do not wait for it.
 */
async function slowTransfer (task: Record<string, unknown> = {}) {
  setup = await startAll({ globus: { bytesPerSecond: 10_000 } }, yaml({ task, globus: { maxRequestsPerSecond: 1000 } }))
  const { world, proxy } = setup
  const jobId = await startTransfer(proxy, world, world.datasets[0]!.pid)
  const taskId = resultOf(world, jobId).globusTaskId
  expect(taskId).toBeTruthy()
  return { ...setup, s: setup, jobId, taskId }
}

/** Advances the clock by `ms` and runs one cycle. */
async function cycle (s: Setup, ms = 1000): Promise<void> {
  s.clock.advance(ms)
  await s.proxy.app.tracker.runCycle()
}

const archiveJobs = (s: Setup) => s.world.scicat.jobs().filter((j) => j.type === 'archive')

describe('Globus outcomes', () => {
  it('FAILED: the job fails with the fatal_error code and description, and is left alone afterwards', async () => {
    const { s, world, jobId, taskId } = await slowTransfer()
    await cycle(s)
    expect(jobOf(world, jobId).statusCode).toBe('transferring')
    world.globus.failTask(taskId, { code: 'ENDPOINT_ERROR', description: 'the destination endpoint is unreachable' })
    await cycle(s)
    const job = jobOf(world, jobId)
    expect(job.statusCode).toBe('failed')
    expect(job.jobResultObject).toMatchObject({
      globusTaskId: taskId,
      status: 'failed',
      error: 'ENDPOINT_ERROR: the destination endpoint is unreachable',
    })
    expect(job.statusMessage).toContain('ENDPOINT_ERROR')

    const patches = world.scicat.core.count('updateJob')
    await cycle(s, 10_000)
    expect(world.scicat.core.count('updateJob')).toBe(patches)
    expect(world.scicat.core.count('patchLifecycle')).toBe(0)
    expect(archiveJobs(s)).toHaveLength(0)
  })

  it('INACTIVE: stays transferring with the reason in statusMessage, for as long as it lasts, then finishes', async () => {
    const { s, world, jobId, taskId } = await slowTransfer({ failFastAfterSeconds: 30 })
    await cycle(s)
    world.globus.setInactive(taskId)
    for (let i = 0; i < 5; i++) {
      await cycle(s, 60_000)
      const job = jobOf(world, jobId)
      expect(job.statusCode).toBe('transferring')
      expect(job.statusMessage).toMatch(/^inactive at Globus/)
      expect(resultOf(world, jobId)).toMatchObject({ status: 'transferring', error: '' })
    }
    // never cancelled at Globus: renewed credentials let it go on
    expect(world.globus.task(taskId)!.status).toBe('INACTIVE')
    world.globus.setActive(taskId)
    await cyclesUntil(s, () => jobOf(world, jobId).statusCode === 'finished', { stepMs: 5000, max: 40 })
    expect(resultOf(world, jobId)).toMatchObject({ status: 'finished', error: '' })
  })

  it('a fatal nice_status (PERMISSION_DENIED) is shown; past task.failFastAfterSeconds the task is cancelled and the job fails', async () => {
    const { s, world, jobId, taskId } = await slowTransfer({ failFastAfterSeconds: 30 })
    await cycle(s)
    world.globus.setNiceStatus(taskId, 'PERMISSION_DENIED')
    await cycle(s)
    expect(jobOf(world, jobId)).toMatchObject({ statusCode: 'transferring' })
    expect(jobOf(world, jobId).statusMessage).toContain('PERMISSION_DENIED')

    // healed within the limit: the clock starts again next time
    await cycle(s, 20_000)
    world.globus.setNiceStatus(taskId, null)
    await cycle(s)
    expect(jobOf(world, jobId).statusMessage).not.toContain('PERMISSION_DENIED')
    world.globus.setNiceStatus(taskId, 'PERMISSION_DENIED')
    await cycle(s)
    await cycle(s, 20_000)
    expect(jobOf(world, jobId).statusCode).toBe('transferring')
    expect(world.globus.task(taskId)!.status).toBe('ACTIVE')

    await cycle(s, 20_000)
    const task = world.globus.task(taskId)!
    expect(task.status).toBe('FAILED')
    expect(task.fatal_error).toMatchObject({ code: 'CANCELED' })
    const job = jobOf(world, jobId)
    expect(job.statusCode).toBe('failed')
    expect(resultOf(world, jobId).status).toBe('failed')
    expect(resultOf(world, jobId).error).toMatch(/PERMISSION_DENIED.*30 s/)
    expect(world.globus.core.count('cancel')).toBe(1)
  })

  it('a dataset folder missing at the source (FILE_NOT_FOUND) fails the job once it lasted past the limit', async () => {
    setup = await startAll({}, yaml({ task: { failFastAfterSeconds: 30 }, globus: { maxRequestsPerSecond: 1000 } }))
    const s = setup
    s.world.scicat.addDataset({ pid: '20.500.12345/missing', ownerGroup: 'p12345', sourceFolder: '/data/p12345/missing' })
    const jobId = await startTransfer(s.proxy, s.world, '20.500.12345/missing')
    const taskId = resultOf(s.world, jobId).globusTaskId
    await cycle(s)
    expect(jobOf(s.world, jobId).statusCode).toBe('transferring')
    expect(jobOf(s.world, jobId).statusMessage).toContain('FILE_NOT_FOUND')
    await cyclesUntil(s, () => jobOf(s.world, jobId).statusCode === 'failed', { stepMs: 10_000, max: 5 })
    expect(resultOf(s.world, jobId).error).toContain('FILE_NOT_FOUND')
    expect(s.world.globus.task(taskId)!.fatal_error).toMatchObject({ code: 'CANCELED' })
  })

  it('CONNECT_FAILED is not fatal: the transfer waits it out however long it lasts', async () => {
    const { s, world, jobId, taskId } = await slowTransfer({ failFastAfterSeconds: 30 })
    await cycle(s)
    world.globus.setNiceStatus(taskId, 'CONNECT_FAILED')
    for (let i = 0; i < 5; i++) {
      await cycle(s, 60_000)
      expect(jobOf(world, jobId).statusCode).toBe('transferring')
      expect(jobOf(world, jobId).statusMessage).toContain('CONNECT_FAILED')
    }
    expect(world.globus.core.count('cancel')).toBe(0)
    world.globus.setNiceStatus(taskId, null)
    await cyclesUntil(s, () => jobOf(world, jobId).statusCode === 'finished', { stepMs: 5000, max: 40 })
  })
})

describe('transient upstream errors are never terminal', () => {
  it('Globus task_list answering 503 for several cycles only delays the update', async () => {
    const { s, world, jobId, taskId } = await slowTransfer()
    await cycle(s)
    const before = jobOf(world, jobId)
    // each cycle's task_list is tried 6 times (5 retries): 3 cycles fail
    world.globus.core.inject('task_list', { status: 503, times: 18 })
    for (let i = 0; i < 3; i++) {
      await cycle(s, 60_000)
      expect(jobOf(world, jobId)).toEqual(before)
    }
    expect(world.globus.isFinished(taskId)).toBe(true)
    await cycle(s)
    expect(jobOf(world, jobId).statusCode).toBe('finished')
    expect(resultOf(world, jobId)).toMatchObject({ status: 'finished', error: '' })
  })

  it('a PATCH SciCat refuses is re-sent every cycle until it lands; the archive job is created once meanwhile', async () => {
    const { s, world, jobId, taskId } = await slowTransfer()
    s.clock.advance(120_000)
    expect(world.globus.isFinished(taskId)).toBe(true)
    // the final PATCH fails in this cycle and the next (6 tries each)
    world.scicat.core.inject('updateJob', { status: 503, times: 12 })
    world.scicat.core.resetCounts()
    await cycle(s)
    expect(world.scicat.core.count('updateJob')).toBe(6)
    expect(jobOf(world, jobId).statusCode).toBe('submitted')
    expect(archiveJobs(s)).toHaveLength(1)
    await cycle(s)
    expect(world.scicat.core.count('updateJob')).toBe(12)
    expect(jobOf(world, jobId).statusCode).toBe('submitted')
    await cycle(s)
    expect(world.scicat.core.count('updateJob')).toBe(13)
    expect(jobOf(world, jobId).statusCode).toBe('finished')
    expect(resultOf(world, jobId)).toMatchObject({ status: 'finished', error: '', archiveJobId: archiveJobs(s)[0]!.id })
    await cycle(s)
    expect(world.scicat.core.count('updateJob')).toBe(13)
    expect(archiveJobs(s)).toHaveLength(1)
  })
})

describe('expired credentials that cannot be renewed for a while', () => {
  it('a failing SciCat login or Globus token request delays the updates and ends nothing', async () => {
    setup = await startAll(
      { globus: { bytesPerSecond: 10_000, tokenLifetimeSeconds: 120 }, scicat: { jwtExpiresInSeconds: 120 } },
      yaml({ globus: { maxRequestsPerSecond: 1000 } })
    )
    const s = setup
    const { world } = s
    const jobId = await startTransfer(s.proxy, world, world.datasets[0]!.pid)
    await cycle(s)
    const before = jobOf(world, jobId)
    // both tokens have expired (and Globus has finished meanwhile): renewing the Globus token
    // fails for two cycles (6 tries each), then the SciCat login for two more (no discovery is due)
    s.clock.advance(250_000)
    world.globus.core.inject('token', { status: 503, times: 12 })
    world.scicat.core.inject('login', { status: 503, times: 12 })
    world.globus.core.resetCounts()
    world.scicat.core.resetCounts()
    for (let i = 0; i < 4; i++) {
      await cycle(s)
      expect(jobOf(world, jobId)).toEqual(before)
    }
    expect(world.globus.core.count('token')).toBe(13)
    expect(world.scicat.core.count('login')).toBe(12)
    expect(world.globus.core.count('task_list')).toBe(1)
    await cyclesUntil(s, () => jobOf(world, jobId).statusCode === 'finished', { stepMs: 5000, max: 40 })
    expect(resultOf(world, jobId)).toMatchObject({ status: 'finished', error: '' })
  })
})

describe('after Globus SUCCEEDED', () => {
  it('retries marking the dataset archivable on later cycles; the job is finished only once it worked', async () => {
    const { s, world, jobId, taskId } = await slowTransfer()
    s.clock.advance(120_000)
    expect(world.globus.isFinished(taskId)).toBe(true)
    world.scicat.core.inject('patchLifecycle', { status: 503, times: 18 })
    for (let i = 0; i < 3; i++) {
      await cycle(s)
      expect(resultOf(world, jobId).status).toBe('transferring')
      expect(jobOf(world, jobId).statusCode).not.toBe('finished')
      expect(archiveJobs(s)).toHaveLength(0)
    }
    await cycle(s)
    expect(jobOf(world, jobId).statusCode).toBe('finished')
    expect(resultOf(world, jobId)).toMatchObject({ status: 'finished', error: '' })
    expect(world.scicat.dataset(world.datasets[0]!.pid)!.datasetlifecycle).toMatchObject({ archivable: true })
    expect(archiveJobs(s)).toHaveLength(1)
  })

  it('a step that keeps failing ends the job finished with the problem in error', async () => {
    const { s, world, jobId, taskId } = await slowTransfer()
    s.clock.advance(120_000)
    expect(world.globus.isFinished(taskId)).toBe(true)
    world.scicat.core.inject('patchLifecycle', { status: 503, times: 1_000_000 })
    for (let i = 1; i < maxFinishAttempts; i++) {
      await cycle(s)
      expect(jobOf(world, jobId).statusCode).not.toBe('finished')
    }
    await cycle(s)
    const job = jobOf(world, jobId)
    expect(job.statusCode).toBe('finished')
    expect(resultOf(world, jobId).status).toBe('finished')
    expect(resultOf(world, jobId).error).toMatch(/post-transfer step failed.*503/)
    expect(job.statusMessage).toContain('post-transfer step failed')
    world.scicat.core.clearFaults()
    const patches = world.scicat.core.count('updateJob')
    await cycle(s)
    expect(world.scicat.core.count('updateJob')).toBe(patches)
  })

  it('retries creating the archive job on later cycles; once it worked there is one, recorded in archiveJobId', async () => {
    const { s, world, jobId, taskId } = await slowTransfer()
    s.clock.advance(120_000)
    expect(world.globus.isFinished(taskId)).toBe(true)
    world.scicat.core.resetCounts()
    world.scicat.core.inject('createJob', { status: 503, times: 3 })
    for (let i = 1; i <= 3; i++) {
      await cycle(s)
      // the job POST is not repeated within a cycle: one try per cycle
      expect(world.scicat.core.count('createJob')).toBe(i)
      expect(jobOf(world, jobId).statusCode).not.toBe('finished')
      expect(resultOf(world, jobId)).toMatchObject({ status: 'transferring', error: '' })
      expect(resultOf(world, jobId).archiveJobId).toBeUndefined()
      expect(archiveJobs(s)).toHaveLength(0)
    }
    // the dataset was marked archivable before the archive job was tried
    expect(world.scicat.dataset(world.datasets[0]!.pid)!.datasetlifecycle).toMatchObject({ archivable: true })
    await cycle(s)
    expect(world.scicat.core.count('createJob')).toBe(4)
    const archives = archiveJobs(s)
    expect(archives).toHaveLength(1)
    expect(archives[0]!.jobParams).toMatchObject({ transferJobId: jobId, datasetList: [{ pid: world.datasets[0]!.pid, files: [] }] })
    expect(jobOf(world, jobId).statusCode).toBe('finished')
    expect(resultOf(world, jobId)).toMatchObject({ status: 'finished', error: '', archiveJobId: archives[0]!.id })
    await cycle(s)
    expect(world.scicat.core.count('createJob')).toBe(4)
    expect(archiveJobs(s)).toHaveLength(1)
  })

  it('an archive job whose creation answer was lost is found on the next cycle, not created again', async () => {
    const { s, world, jobId, taskId } = await slowTransfer()
    s.clock.advance(120_000)
    expect(world.globus.isFinished(taskId)).toBe(true)
    world.scicat.core.resetCounts()
    world.scicat.core.inject('createJob', { dropAnswer: true })
    await cycle(s)
    expect(archiveJobs(s)).toHaveLength(1)
    expect(jobOf(world, jobId).statusCode).not.toBe('finished')
    await cycle(s)
    expect(world.scicat.core.count('createJob')).toBe(1)
    const archives = archiveJobs(s)
    expect(archives).toHaveLength(1)
    expect(jobOf(world, jobId).statusCode).toBe('finished')
    expect(resultOf(world, jobId)).toMatchObject({ status: 'finished', error: '', archiveJobId: archives[0]!.id })
  })

  it('an archive job that cannot be created ends the job finished with the problem in error, after the last attempt', async () => {
    const { s, world, jobId, taskId } = await slowTransfer()
    s.clock.advance(120_000)
    expect(world.globus.isFinished(taskId)).toBe(true)
    world.scicat.core.resetCounts()
    world.scicat.core.inject('createJob', { status: 503, times: 1_000_000 })
    for (let i = 1; i < maxFinishAttempts; i++) {
      await cycle(s)
      expect(jobOf(world, jobId).statusCode).not.toBe('finished')
      expect(resultOf(world, jobId).status).toBe('transferring')
    }
    await cycle(s)
    expect(world.scicat.core.count('createJob')).toBe(maxFinishAttempts)
    const job = jobOf(world, jobId)
    expect(job.statusCode).toBe('finished')
    const result = resultOf(world, jobId)
    expect(result.status).toBe('finished')
    expect(result.error).toMatch(/post-transfer step failed.*createJob.*503/)
    expect(result.archiveJobId).toBeUndefined()
    expect(job.statusMessage).toContain('post-transfer step failed')
    expect(archiveJobs(s)).toHaveLength(0)
    // the transfer itself is done: the dataset is archivable; nothing is tried again
    expect(world.scicat.dataset(world.datasets[0]!.pid)!.datasetlifecycle).toMatchObject({ archivable: true })
    world.scicat.core.clearFaults()
    const patches = world.scicat.core.count('updateJob')
    await cycle(s)
    await cycle(s, s.proxy.config.task.discoveryInterval * 1000)
    expect(world.scicat.core.count('updateJob')).toBe(patches)
    expect(world.scicat.core.count('createJob')).toBe(maxFinishAttempts)
    expect(archiveJobs(s)).toHaveLength(0)
  })

  it('an archive job made for this transfer earlier (its answer lost, or before a restart) is reused, not created again', async () => {
    const { s, world, jobId, taskId } = await slowTransfer()
    const earlier = world.scicat.insertJob({
      type: 'archive',
      ownerGroup: 'p12345',
      ownerUser: 'alice',
      jobParams: { datasetList: [{ pid: world.datasets[0]!.pid, files: [] }], transferJobId: jobId },
    })
    s.clock.advance(120_000)
    expect(world.globus.isFinished(taskId)).toBe(true)
    await cycle(s)
    expect(jobOf(world, jobId).statusCode).toBe('finished')
    expect(archiveJobs(s).map((j) => j.id)).toEqual([earlier.id])
    expect(resultOf(world, jobId).archiveJobId).toBe(earlier.id)
  })
})
