// ScicatClient and the service-account token against the SciCat simulator over real HTTP.
import { afterEach, describe, expect, it } from 'vitest'
import { UpstreamError } from '../../src/http/upstream-error.js'
import type { ScicatSimOptions, SimDataset, SimUser } from '../../src/sandbox/scicat-sim/index.js'
import { ManualClock } from '../../src/sandbox/sim-core.js'
import type { CreateJob } from '../../src/scicat/client.js'
import { buildScicat, recordingProxy, Resources, startScicat, type ScicatClientOptions } from '../helpers/upstreams.js'

const res = new Resources()
afterEach(() => res.close())

const PID = '20.500.12345/abc'

const USERS: SimUser[] = [
  { username: 'globus-proxy', password: 'proxy-pw', email: 'proxy@example.org', groups: ['admin'] },
  { username: 'jdoe', password: 'secret', email: 'jane.doe@example.org', groups: ['p12345', 'facility-a'] },
  { username: 'other', password: 'x', email: 'other@example.org', groups: ['p999'] },
  { username: 'ghost', password: 'g', email: 'ghost@example.org', groups: [], noIdentity: true },
]

const DATASETS: SimDataset[] = [
  {
    pid: PID,
    ownerGroup: 'p12345',
    accessGroups: ['facility-a'],
    sourceFolder: '/data/p12345/run42',
    datasetlifecycle: { archivable: false, retrievable: true, archiveStatusMessage: 'datasetOnDisk' },
  },
]

const JOB: CreateJob = {
  type: 'globus_transfer_job',
  ownerGroup: 'p12345',
  ownerUser: 'jdoe',
  contactEmail: 'jane.doe@example.org',
  jobParams: { datasetList: [{ pid: PID, files: [] }], globusTaskId: 'task-1' },
}

async function failure (promise: Promise<unknown>): Promise<UpstreamError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e
  )
  expect(err).toBeInstanceOf(UpstreamError)
  return err as UpstreamError
}

/**
 * A simulator on a ManualClock and a client on it; the service token reads the same clock
 * unless the test gives its own `now`.
 */
async function setup (client: Partial<ScicatClientOptions> = {}, sim: ScicatSimOptions = {}) {
  const scicat = await startScicat(res, { users: USERS, datasets: DATASETS, ...sim })
  const built = buildScicat(res, { url: scicat.url, now: () => scicat.clock.now(), ...client })
  const count = (op: string) => scicat.sim.core.count(op)
  return { ...scicat, ...built, count }
}

describe('service token', () => {
  it('logs in once (201) and reuses the token', async () => {
    const { client, sim, count } = await setup()
    const job = await client.createJob(JOB)
    await client.getJob(job.id)
    await client.findJobs({})
    expect(count('login')).toBe(1)
    expect(sim.job(job.id)?.createdBy).toBe('globus-proxy')
  })

  it('logs in once for 50 concurrent calls', async () => {
    const { client, sim, count } = await setup()
    const job = sim.insertJob({ type: 'globus_transfer_job', ownerGroup: 'p12345' })
    const jobs = await Promise.all(Array.from({ length: 50 }, () => client.getJob(job.id)))
    expect(jobs.every((j) => j.id === job.id)).toBe(true)
    expect(count('login')).toBe(1)
    expect(count('getJob')).toBe(50)
  })

  it('logs in again before the token expires: 60 s before for an hour, at 80 % for short lifetimes', async () => {
    const { client, clock, sim, count } = await setup()
    const job = sim.insertJob({ type: 'globus_transfer_job', ownerGroup: 'p12345' })
    await client.getJob(job.id)
    clock.advance(3_539_999)
    await client.getJob(job.id)
    expect(count('login')).toBe(1)
    clock.advance(1)
    await client.getJob(job.id)
    expect(count('login')).toBe(2)
    // the renewal came early enough that no call ever met an expired token
    expect(count('getJob')).toBe(3)

    const short = await setup({}, { jwtExpiresInSeconds: 100 })
    const other = short.sim.insertJob({ type: 'globus_transfer_job', ownerGroup: 'p12345' })
    await short.client.getJob(other.id)
    short.clock.advance(79_999)
    await short.client.getJob(other.id)
    expect(short.count('login')).toBe(1)
    short.clock.advance(1)
    await short.client.getJob(other.id)
    expect(short.count('login')).toBe(2)
  })

  it('logs in again and retries once when SciCat answers an expired service token with 403', async () => {
    // the client's clock stands still, so it believes its token is still good
    const frozen = new ManualClock()
    const { client, clock, sim, count } = await setup({ now: () => frozen.now() })
    const job = sim.insertJob({ type: 'globus_transfer_job', ownerGroup: 'p12345' })
    await client.getJob(job.id)
    clock.advance(3_600_000)
    const jobs = await client.findJobs({})
    expect(jobs.map((j) => j.id)).toEqual([job.id])
    expect(count('login')).toBe(2)
    expect(count('findJobs')).toBe(2)
  })

  it('logs in again and retries once when SciCat answers with 401', async () => {
    const { client, sim, count } = await setup()
    const job = sim.insertJob({ type: 'globus_transfer_job', ownerGroup: 'p12345' })
    await client.getJob(job.id)
    sim.core.inject('getJob', { status: 401 })
    expect((await client.getJob(job.id)).id).toBe(job.id)
    expect(count('login')).toBe(2)
    expect(count('getJob')).toBe(3)
  })

  it("counts the token's lifetime from SciCat's `created`, not from when the answer arrived", async () => {
    // the service's clock is 30 min ahead of SciCat's: by SciCat's clock the token expires
    // 30 min earlier than the service would think if it counted from its own clock
    const { client, clock, sim, count } = await setup({ now: () => clock.now() + 1_800_000 })
    const job = sim.insertJob({ type: 'globus_transfer_job', ownerGroup: 'p12345' })
    await client.getJob(job.id)
    // renewal is due 60 s before expiry by SciCat's clock: 59 min after `created`, which the
    // service's clock shows as 29 min from now (59 min if it counted from its own clock)
    clock.advance(1_740_000 - 1)
    await client.getJob(job.id)
    expect(count('login')).toBe(1)
    clock.advance(1)
    await client.getJob(job.id)
    expect(count('login')).toBe(2)
    expect(count('getJob')).toBe(3) // renewed in time: no call met an expired token
  })

  it('reports a login answer without a token as a 502 from SciCat', async () => {
    const { client, sim } = await setup()
    sim.core.inject('login', { status: 201, body: { id: 'x' } })
    const err = await failure(client.findJobs({}))
    expect(err).toMatchObject({ service: 'scicat', operation: 'login', status: 502, code: 'MalformedAnswer' })
  })

  it('surfaces a 403 that a new login does not cure, after one retry', async () => {
    const { client, sim, count } = await setup({ username: 'other', password: 'x' })
    const job = sim.insertJob({ type: 'globus_transfer_job', ownerGroup: 'p12345' })
    const err = await failure(client.updateJob(job.id, { statusCode: 'x', statusMessage: 'x', jobResultObject: {} }))
    expect(err).toMatchObject({ status: 403, message: 'Unauthorized to update this job.', notFound: false })
    expect(count('login')).toBe(2)
    expect(count('updateJob')).toBe(2)
  })

  it('surfaces a refused login as a 401', async () => {
    const { client, count } = await setup({ password: 'wrong' })
    const err = await failure(client.findJobs({}))
    expect(err).toMatchObject({ status: 401, operation: 'login', message: 'Unauthorized' })
    expect(count('login')).toBe(1)
    expect(count('findJobs')).toBe(0)
  })

  it('uses a static token as it is, and never logs in', async () => {
    const scicat = await startScicat(res, { users: USERS, datasets: DATASETS })
    const token = scicat.sim.issueToken('globus-proxy')
    const { client } = buildScicat(res, { url: scicat.url, staticToken: token })
    const job = await client.createJob(JOB)
    expect((await client.getJob(job.id)).id).toBe(job.id)
    expect(scicat.sim.core.count('login')).toBe(0)

    // an expired static token cannot be renewed: the 403 comes through after one call
    scicat.clock.advance(3_600_000)
    const err = await failure(client.getJob(job.id))
    expect(err.status).toBe(403)
    expect(scicat.sim.core.count('getJob')).toBe(2)
    expect(scicat.sim.core.count('login')).toBe(0)
  })
})

describe('user calls', () => {
  it('reads the identity of a valid user token', async () => {
    const { client, sim } = await setup()
    const identity = await client.getIdentity(sim.issueToken('jdoe'))
    expect(identity?.profile).toMatchObject({
      username: 'jdoe',
      email: 'jane.doe@example.org',
      accessGroups: ['p12345', 'facility-a'],
    })
  })

  it('answers undefined for a token SciCat refuses (401) and for an empty 200', async () => {
    const { client, clock, sim, count } = await setup()
    expect(await client.getIdentity('not-a-token')).toBeUndefined()
    expect(await client.getIdentity(sim.issueToken('ghost'))).toBeUndefined()
    const expiring = sim.issueToken('jdoe', { expiresInSeconds: 10 })
    clock.advance(10_000)
    expect(await client.getIdentity(expiring)).toBeUndefined()
    expect(count('identity')).toBe(3)
  })

  it('still throws other identity failures', async () => {
    const { client, sim } = await setup()
    sim.core.inject('identity', { status: 500, times: 6 })
    expect((await failure(client.getIdentity(sim.issueToken('jdoe')))).status).toBe(500)
  })

  it('reads a dataset whose PID contains a slash, sent as one encoded path segment', async () => {
    const scicat = await startScicat(res, { users: USERS, datasets: DATASETS })
    const proxy = await recordingProxy(res, scicat.url)
    const { client } = buildScicat(res, { url: proxy.url })
    const dataset = await client.getDataset(PID, scicat.sim.issueToken('jdoe'))
    expect(dataset).toMatchObject({ pid: PID, ownerGroup: 'p12345', sourceFolder: '/data/p12345/run42' })
    expect(proxy.requests.map((r) => r.url)).toEqual(['/api/v3/datasets/20.500.12345%2Fabc'])
  })

  it('keeps 404 (notFound) and 403 (no access) apart', async () => {
    const { client, sim } = await setup()
    const missing = await failure(client.getDataset('20.500.12345/none', sim.issueToken('jdoe')))
    expect(missing).toMatchObject({ status: 404, notFound: true, message: 'dataset: 20.500.12345/none not found' })
    const denied = await failure(client.getDataset(PID, sim.issueToken('other')))
    expect(denied).toMatchObject({ status: 403, notFound: false, message: 'Unauthorized access' })
    const anonymous = await failure(client.getDataset(PID, 'expired-or-bad'))
    expect(anonymous).toMatchObject({ status: 403, notFound: false })
  })
})

describe('jobs', () => {
  it('creates a job (201) with SciCat defaults', async () => {
    const { client, sim } = await setup()
    const job = await client.createJob(JOB)
    expect(job).toMatchObject({
      id: expect.any(String),
      type: 'globus_transfer_job',
      ownerGroup: 'p12345',
      ownerUser: 'jdoe',
      contactEmail: 'jane.doe@example.org',
      statusCode: 'jobSubmitted',
      jobParams: JOB.jobParams,
      jobResultObject: {},
    })
    expect(sim.job(job.id)).toEqual(job)
  })

  it('never repeats the job POST: not on a 503, not on a dropped connection', async () => {
    const { client, sim, count } = await setup()
    sim.core.inject('createJob', { status: 503, times: 3 })
    expect((await failure(client.createJob(JOB))).status).toBe(503)
    expect(count('createJob')).toBe(1)
    sim.core.clearFaults()
    sim.core.inject('createJob', { networkError: true, times: 3 })
    expect((await failure(client.createJob(JOB))).network).toBe(true)
    expect(count('createJob')).toBe(2)
    expect(sim.jobs()).toEqual([])
  })

  it('surfaces a DTO error with its messages joined', async () => {
    const { client } = await setup()
    const err = await failure(client.createJob({ ...JOB, contactEmail: '' }))
    expect(err.status).toBe(400)
    expect(err.message).toMatch(/contactEmail/)
  })

  it('replaces jobResultObject as a whole on each update', async () => {
    const { client, sim, count } = await setup()
    const job = await client.createJob(JOB)
    await client.updateJob(job.id, {
      statusCode: 'transferring',
      statusMessage: 'transferring',
      jobResultObject: { status: 'transferring', bytesTransferred: 10, filesTransferred: 1 },
    })
    sim.core.inject('updateJob', { status: 502 })
    await client.updateJob(job.id, {
      statusCode: 'finished',
      statusMessage: 'finished',
      jobResultObject: { status: 'finished' },
    })
    expect(count('updateJob')).toBe(3)
    expect(await client.getJob(job.id)).toMatchObject({ statusCode: 'finished', statusMessage: 'finished', jobResultObject: { status: 'finished' } })
    expect(sim.job(job.id)?.jobResultObject).toEqual({ status: 'finished' })
  })

  it('turns an unknown job id into notFound for updateJob, getJob and deleteJob', async () => {
    const { client } = await setup()
    const update = await failure(client.updateJob('nope', { statusCode: 'a', statusMessage: 'a', jobResultObject: {} }))
    expect(update).toMatchObject({ status: 400, notFound: true, message: 'Invalid job id.' })
    const get = await failure(client.getJob('nope'))
    expect(get).toMatchObject({ status: 400, notFound: true, message: 'Invalid job id.' })
    const del = await failure(client.deleteJob('nope'))
    expect(del).toMatchObject({ status: 400, notFound: true, message: "Job id nope doesn't exist." })
  })

  it('does not take other 400s for notFound', async () => {
    const { client } = await setup()
    const job = await client.createJob(JOB)
    const err = await failure(
      client.updateJob(job.id, { statusCode: 'a', statusMessage: 'a', jobResultObject: 'x' as unknown as Record<string, unknown> })
    )
    expect(err).toMatchObject({ status: 400, notFound: false })
  })

  it('reads and deletes a job', async () => {
    const { client, sim } = await setup()
    const job = await client.createJob(JOB)
    expect(await client.getJob(job.id)).toEqual(sim.job(job.id))
    await client.deleteJob(job.id)
    expect(sim.job(job.id)).toBeUndefined()
    expect((await failure(client.getJob(job.id))).notFound).toBe(true)
  })

  it('finds all of 2,500 matching jobs exactly once in 3 pages of 1000, despite limit-before-skip', async () => {
    const scicat = await startScicat(res, { users: USERS, datasets: DATASETS })
    const proxy = await recordingProxy(res, scicat.url)
    const { client } = buildScicat(res, { url: proxy.url })
    // 2,500 matching jobs among 400 that do not match, in 100 runs of 29
    const wanted: string[] = []
    for (let i = 0; i < 2900; i++) {
      const k = i % 29
      const job = scicat.sim.insertJob({
        type: k === 0 ? 'archive' : 'globus_transfer_job',
        ownerGroup: `p${i % 7}`,
        // k = 4: no status yet, which $nin matches too
        jobResultObject: k === 4 ? {} : { status: ['transferring', 'finished', 'failed', 'cancelled'][k] ?? 'transferring' },
      })
      if (k >= 4) wanted.push(job.id)
    }
    expect(wanted).toHaveLength(2500)
    const where = { type: 'globus_transfer_job', 'jobResultObject.status': { $nin: ['finished', 'failed', 'cancelled'] } }
    const jobs = await client.findJobs(where, 1000)
    expect(jobs.map((j) => j.id)).toEqual(wanted)
    expect(scicat.sim.core.count('findJobs')).toBe(3)
    const limits = proxy.requests
      .filter((r) => r.url.startsWith('/api/v4/jobs?'))
      .map((r) => JSON.parse(new URL(r.url, 'http://x').searchParams.get('filter') ?? '{}') as Record<string, unknown>)
    expect(limits.map((f) => f.where)).toEqual(Array(3).fill(where))
    expect(limits.map((f) => f.limits)).toEqual([
      { skip: 0, limit: 1000 },
      { skip: 1000, limit: 2000 },
      { skip: 2000, limit: 3000 },
    ])
  })

  it('stops after a page shorter than pageSize, and asks once more after an exactly full one', async () => {
    const { client, sim, count } = await setup()
    const ids = Array.from({ length: 6 }, () => sim.insertJob({ type: 'globus_transfer_job', ownerGroup: 'p1' }).id)
    expect((await client.findJobs({}, 4)).map((j) => j.id)).toEqual(ids)
    expect(count('findJobs')).toBe(2)
    expect((await client.findJobs({}, 3)).map((j) => j.id)).toEqual(ids)
    expect(count('findJobs')).toBe(2 + 3)
    expect(await client.findJobs({ ownerGroup: 'none' })).toEqual([])
  })
})

describe('markArchivable', () => {
  it('merges archivable and archiveStatusMessage into the dataset lifecycle', async () => {
    const { client, sim } = await setup()
    const before = sim.dataset(PID)?.datasetlifecycle
    await client.markArchivable(PID)
    expect(sim.dataset(PID)?.datasetlifecycle).toEqual({
      ...before,
      archivable: true,
      archiveStatusMessage: 'datasetCreated',
    })
    expect(before).toMatchObject({ retrievable: true, archivable: false })
  })

  it('surfaces an unknown dataset as a 404', async () => {
    const { client } = await setup()
    expect((await failure(client.markArchivable('20.500.12345/none'))).status).toBe(404)
  })
})
