// The SciCat simulator over real HTTP: status codes, error shapes, DTO rules and quirks of SciCat.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type Job, ScicatSimulator, type SimDataset, type SimUser } from '../../src/sandbox/scicat-sim/index.js'
import { ManualClock } from '../../src/sandbox/sim-core.js'

const PID = '20.500.12345/abc'
const ENC = encodeURIComponent(PID)

const USERS: SimUser[] = [
  { username: 'globus-proxy', password: 'proxy-pw', email: 'proxy@example.org', groups: ['globusproxy'] },
  { username: 'root', password: 'root-pw', email: 'root@example.org', groups: ['admin'] },
  {
    username: 'jdoe',
    password: 'secret',
    email: 'jane.doe@example.org',
    groups: ['p12345', 'facility-a'],
    displayName: 'Jane Doe',
  },
  { username: 'other', password: 'x', email: 'other@example.org', groups: ['p999'] },
  { username: 'ghost', password: 'g', email: 'ghost@example.org', groups: [], noIdentity: true },
]

const DATASETS: SimDataset[] = [
  {
    pid: PID,
    ownerGroup: 'p12345',
    accessGroups: ['facility-a'],
    sourceFolder: '/data/p12345/run42/',
    datasetlifecycle: { archivable: false },
  },
  { pid: 'public-1', ownerGroup: 'p999', sourceFolder: '/data/pub', isPublished: true },
]

type Doc = Record<string, unknown>

interface Reply {
  status: number
  headers: Headers
  text: string
  /** The parsed JSON body ({} when there is none or it is not JSON). */
  body: Doc
}

let sim: ScicatSimulator
let clock: ManualClock
let base: string
let proxy: string
let jdoe: string

async function call (
  method: string,
  path: string,
  options: { token?: string; body?: unknown; raw?: string; type?: string } = {}
): Promise<Reply> {
  const headers: Record<string, string> = {}
  if (options.token) headers.authorization = `Bearer ${options.token}`
  let body: string | undefined = options.raw
  if (options.body !== undefined) body = JSON.stringify(options.body)
  if (body !== undefined) headers['content-type'] = options.type ?? 'application/json'
  const res = await fetch(`${base}${path}`, { method, headers, body })
  const text = await res.text()
  let parsed: Doc = {}
  try {
    if (text) parsed = JSON.parse(text) as Doc
  } catch {}
  return { status: res.status, headers: res.headers, text, body: parsed }
}

const jobsUrl = (filter: unknown): string =>
  `/api/v4/jobs?filter=${encodeURIComponent(JSON.stringify(filter))}`

const transferJob = (extra: Doc = {}): Doc => ({
  type: 'globus_transfer_job',
  ownerGroup: 'p12345',
  ownerUser: 'jdoe',
  contactEmail: 'jane.doe@example.org',
  jobParams: { datasetList: [{ pid: PID, files: [] }], globusTaskId: 't-1' },
  ...extra,
})

async function createTransfer (extra: Doc = {}): Promise<Job> {
  const res = await call('POST', '/api/v4/jobs', { token: proxy, body: transferJob(extra) })
  expect(res.status).toBe(201)
  return res.body as unknown as Job
}

const items = (res: Reply): Doc[] => res.body as unknown as Doc[]

const FORBIDDEN = { message: 'Forbidden resource', error: 'Forbidden', statusCode: 403 }

beforeEach(async () => {
  clock = new ManualClock(Date.UTC(2026, 0, 1, 12))
  sim = new ScicatSimulator({
    clock,
    users: USERS,
    datasets: DATASETS,
    adminGroups: ['admin', 'globusproxy'],
    deleteJobGroups: ['globusproxy'],
  })
  base = (await sim.listen()).url
  proxy = sim.issueToken('globus-proxy')
  jdoe = sim.issueToken('jdoe')
})

afterEach(async () => {
  await sim.close()
})

describe('login and identity', () => {
  it('answers a good login with 201 and a token that works', async () => {
    const res = await call('POST', '/api/v3/auth/login', {
      body: { username: 'jdoe', password: 'secret' },
    })
    expect(res.status).toBe(201)
    expect(res.body).toMatchObject({
      expires_in: 3600,
      ttl: 3600,
      created: '2026-01-01T12:00:00.000Z',
      user: { username: 'jdoe', email: 'jane.doe@example.org', authStrategy: 'local', __v: 0 },
    })
    expect(res.body.id).toBe(res.body.access_token)
    expect(res.body.userId).toBe((res.body.user as Doc)._id)
    expect(res.body).not.toHaveProperty('expiresIn')
    const me = await call('GET', '/api/v3/users/my/identity', { token: String(res.body.access_token) })
    expect(me.status).toBe(200)
    expect(me.body.profile).toMatchObject({ username: 'jdoe', accessGroups: ['p12345', 'facility-a'] })
  })

  it('answers bad or missing credentials with the bare 401', async () => {
    for (const body of [
      { username: 'jdoe', password: 'wrong' },
      { username: 'JDOE', password: 'secret' },
      { username: 'jdoe' },
      {},
    ]) {
      const res = await call('POST', '/api/v3/auth/login', { body })
      expect(res.status).toBe(401)
      expect(res.body).toEqual({ message: 'Unauthorized', statusCode: 401 })
    }
  })

  it('returns the identity document, and 401 Unauthenticated without a token', async () => {
    const me = await call('GET', '/api/v3/users/my/identity', { token: jdoe })
    expect(me.body).toMatchObject({
      authStrategy: 'local',
      __v: 0,
      profile: {
        username: 'jdoe',
        email: 'jane.doe@example.org',
        displayName: 'Jane Doe',
        emails: [{ value: 'jane.doe@example.org' }],
        accessGroups: ['p12345', 'facility-a'],
      },
    })
    expect(me.body.id).toBe(me.body._id)
    const anon = await call('GET', '/api/v3/users/my/identity')
    expect(anon.status).toBe(401)
    expect(anon.body).toEqual({ message: 'Unauthenticated', error: 'Unauthorized', statusCode: 401 })
    const junk = await call('GET', '/api/v3/users/my/identity', { token: 'not-a-token' })
    expect(junk.status).toBe(401)
  })

  it('answers a user without identity document with 200 and an empty body', async () => {
    const res = await call('GET', '/api/v3/users/my/identity', { token: sim.issueToken('ghost') })
    expect(res.status).toBe(200)
    expect(res.text).toBe('')
  })

  it('turns an expired token into an anonymous caller: 401 on identity, 403 on jobs', async () => {
    const short = sim.issueToken('globus-proxy', { expiresInSeconds: 60 })
    clock.advance(59_000)
    expect((await call('GET', '/api/v3/users/my/identity', { token: short })).status).toBe(200)
    expect((await call('GET', '/api/v4/jobs', { token: short })).status).toBe(200)
    clock.advance(1_000)
    const identity = await call('GET', '/api/v3/users/my/identity', { token: short })
    expect(identity.status).toBe(401)
    const jobs = await call('GET', '/api/v4/jobs', { token: short })
    expect(jobs.status).toBe(403)
    expect(jobs.body).toEqual(FORBIDDEN)
    const create = await call('POST', '/api/v4/jobs', { token: short, body: transferJob() })
    expect(create.body).toEqual(FORBIDDEN)
  })

  it('sets expires_in from jwtExpiresInSeconds and expires login tokens after it', async () => {
    await sim.close()
    sim = new ScicatSimulator({ clock, users: USERS, jwtExpiresInSeconds: 120 })
    base = (await sim.listen()).url
    const res = await call('POST', '/api/v3/auth/login', {
      body: { username: 'jdoe', password: 'secret' },
    })
    expect(res.body.expires_in).toBe(120)
    clock.advance(120_000)
    const me = await call('GET', '/api/v3/users/my/identity', { token: String(res.body.access_token) })
    expect(me.status).toBe(401)
  })
})

describe('datasets', () => {
  it('reads a dataset by its encoded PID, with the full default lifecycle', async () => {
    const res = await call('GET', `/api/v3/datasets/${ENC}`, { token: jdoe })
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({
      pid: PID,
      ownerGroup: 'p12345',
      isPublished: false,
      sourceFolder: '/data/p12345/run42',
      datasetlifecycle: {
        archivable: false,
        retrievable: false,
        publishable: false,
        isOnCentralDisk: true,
        archiveStatusMessage: 'datasetCreated',
        retrieveStatusMessage: '',
        archiveReturnMessage: {},
        retrieveReturnMessage: {},
        retrieveIntegrityCheck: false,
      },
    })
    const mixedCase = await call('GET', `/api/v3/Datasets/${ENC}`, { token: jdoe })
    expect(mixedCase.status).toBe(200)
  })

  it('answers an unencoded slash with Express 404 "Cannot GET"', async () => {
    const res = await call('GET', `/api/v3/datasets/${PID}`, { token: jdoe })
    expect(res.status).toBe(404)
    expect(res.body).toEqual({
      message: `Cannot GET /api/v3/datasets/${PID}`,
      error: 'Not Found',
      statusCode: 404,
    })
  })

  it('checks existence (404) before access (403)', async () => {
    const missing = await call('GET', '/api/v3/datasets/nope')
    expect(missing.status).toBe(404)
    expect(missing.body).toEqual({ message: 'dataset: nope not found', error: 'Not Found', statusCode: 404 })
    const denied = { message: 'Unauthorized access', error: 'Forbidden', statusCode: 403 }
    const anon = await call('GET', `/api/v3/datasets/${ENC}`)
    expect(anon.status).toBe(403)
    expect(anon.body).toEqual(denied)
    const stranger = await call('GET', `/api/v3/datasets/${ENC}`, { token: sim.issueToken('other') })
    expect(stranger.body).toEqual(denied)
    expect((await call('GET', '/api/v3/datasets/public-1')).status).toBe(200)
    expect((await call('GET', `/api/v3/datasets/${ENC}`, { token: proxy })).status).toBe(200)
  })

  it('merges a lifecycle PATCH and answers with the whole lifecycle', async () => {
    const res = await call('PATCH', `/api/v3/Datasets/${ENC}/datasetlifecycle`, {
      token: jdoe,
      body: { archivable: true, archiveStatusMessage: 'datasetCreated' },
    })
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ archivable: true, retrievable: false, isOnCentralDisk: true })
    expect(sim.dataset(PID)?.datasetlifecycle).toEqual(res.body)
    const v4 = await call('PATCH', `/api/v4/datasets/${ENC}/datasetlifecycle`, {
      token: proxy,
      type: 'application/merge-patch+json',
      body: { retrievable: true },
    })
    expect(v4.body).toMatchObject({ archivable: true, retrievable: true })
  })

  it('rejects lifecycle PATCHes as SciCat does', async () => {
    const path = `/api/v3/datasets/${ENC}/datasetlifecycle`
    const empty = await call('PATCH', path, { token: jdoe, body: {} })
    expect(empty.body).toEqual({
      message: 'dataset lifecycle DTO must not be empty',
      error: 'Bad Request',
      statusCode: 400,
    })
    const unknown = await call('PATCH', '/api/v3/datasets/nope/datasetlifecycle', {
      token: jdoe,
      body: { archivable: true },
    })
    expect(unknown.status).toBe(404)
    expect(unknown.body.message).toBe('dataset with pid nope not found')
    const stranger = await call('PATCH', path, { token: sim.issueToken('other'), body: { archivable: true } })
    expect(stranger.status).toBe(403)
    expect(stranger.body.message).toBe('Unauthorized to update this dataset')
    const extra = await call('PATCH', path, { token: jdoe, body: { archivable: 'yes', foo: 1 } })
    expect(extra.body.message).toEqual(['property foo should not exist', 'archivable must be a boolean value'])
    expect((await call('PATCH', path, { body: { archivable: true } })).body).toEqual(FORBIDDEN)
    expect(sim.dataset(PID)?.datasetlifecycle.archivable).toBe(false)
  })
})

describe('job creation', () => {
  it('stores and returns the job document with SciCat defaults (201)', async () => {
    clock.advance(5_000)
    const res = await call('POST', '/api/v4/jobs', { token: proxy, body: transferJob() })
    expect(res.status).toBe(201)
    expect(res.body).toEqual({
      _id: res.body.id,
      id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
      type: 'globus_transfer_job',
      ownerGroup: 'p12345',
      accessGroups: [],
      isPublished: false,
      ownerUser: 'jdoe',
      contactEmail: 'jane.doe@example.org',
      statusCode: 'jobSubmitted',
      statusMessage: 'Job submitted.',
      configVersion: expect.any(String),
      jobParams: { datasetList: [{ pid: PID, files: [] }], globusTaskId: 't-1' },
      jobResultObject: {},
      createdBy: 'globus-proxy',
      updatedBy: 'globus-proxy',
      createdAt: '2026-01-01T12:00:05.000Z',
      updatedAt: '2026-01-01T12:00:05.000Z',
      __v: 0,
    })
    expect(sim.job(String(res.body.id))).toEqual(res.body)
  })

  it('applies CreateJobDto: unknown keys, an empty contactEmail, missing fields', async () => {
    const cases: Array<[Doc, string[]]> = [
      [transferJob({ datasetList: [] }), ['property datasetList should not exist']],
      [transferJob({ contactEmail: '' }), ['contactEmail must be an email']],
      [{ ownerGroup: 'p12345' }, ['type must be a string', 'jobParams must be an object']],
      [transferJob({ jobParams: [], ownerUser: 7 }), ['jobParams must be an object', 'ownerUser must be a string']],
    ]
    for (const [body, message] of cases) {
      const res = await call('POST', '/api/v4/jobs', { token: proxy, body })
      expect(res.status).toBe(400)
      expect(res.body).toEqual({ message, error: 'Bad Request', statusCode: 400 })
    }
    expect(sim.jobs()).toEqual([])
  })

  it('rejects an unknown type and bad dataset lists with {status, message}', async () => {
    const cases: Array<[Doc, string]> = [
      [transferJob({ type: 'nope' }), 'Invalid job type: nope'],
      [transferJob({ jobParams: { datasetList: [{ pid: 'missing', files: [] }] } }), 'Datasets with pid missing do not exist.'],
      [transferJob({ jobParams: { datasetList: [] } }), 'List of passed datasets is empty.'],
      [transferJob({ jobParams: { datasetList: [{ pid: PID }] } }), 'Dataset list is expected to contain sets of pid and files.'],
      [transferJob({ jobParams: {} }), "Invalid request. Requires 'jobParams.datasetList'"],
    ]
    for (const [body, message] of cases) {
      const res = await call('POST', '/api/v4/jobs', { token: proxy, body })
      expect(res.status).toBe(400)
      expect(res.body).toEqual({ status: 400, message })
    }
  })

  it('lets only admins create #jobAdmin jobs; anonymous callers meet the guard', async () => {
    const user = await call('POST', '/api/v4/jobs', { token: jdoe, body: transferJob() })
    expect(user.status).toBe(403)
    expect(user.body).toEqual({ message: 'Unauthorized to create this job.', error: 'Forbidden', statusCode: 403 })
    const anon = await call('POST', '/api/v4/jobs', { body: transferJob() })
    expect(anon.body).toEqual(FORBIDDEN)
    expect(sim.jobs()).toHaveLength(0)
  })

  it('resolves ownerUser and contactEmail for admin callers', async () => {
    const unknownOwner = await createTransfer({ ownerUser: 'nobody', contactEmail: undefined })
    expect(unknownOwner.ownerUser).toBe('globus-proxy')
    expect(unknownOwner.contactEmail).toBe('proxy@example.org')
    const owner = await createTransfer({ contactEmail: undefined })
    expect(owner.contactEmail).toBe('jane.doe@example.org')
    const none = await createTransfer({ ownerUser: undefined, contactEmail: undefined })
    expect(none).not.toHaveProperty('ownerUser')
    expect(none.contactEmail).toBe('proxy@example.org')
  })

  it('requires an owning group and an archivable dataset for archive jobs (#datasetOwner)', async () => {
    const archive = (ownerGroup: string): Doc => ({
      type: 'archive',
      ownerGroup,
      jobParams: { datasetList: [{ pid: PID, files: [] }], tapeCopies: 'one' },
    })
    const notArchivable = await call('POST', '/api/v4/jobs', { token: jdoe, body: archive('p12345') })
    expect(notArchivable.body).toEqual({
      status: 400,
      message: "Invalid request. Invalid value for 'datasetlifecycle.archivable'",
    })
    const path = `/api/v3/datasets/${ENC}/datasetlifecycle`
    expect((await call('PATCH', path, { token: jdoe, body: { archivable: true } })).status).toBe(200)
    const other = sim.issueToken('other')
    const stranger = await call('POST', '/api/v4/jobs', { token: other, body: archive('p999') })
    expect(stranger.status).toBe(403)
    expect(stranger.body.message).toBe('Unauthorized to create this job.')
    const notMember = await call('POST', '/api/v4/jobs', { token: other, body: archive('p12345') })
    expect(notMember.body).toEqual({ status: 400, message: 'Invalid new job. User needs to belong to job owner group.' })
    const ok = await call('POST', '/api/v4/jobs', { token: jdoe, body: archive('p12345') })
    expect(ok.status).toBe(201)
    expect(ok.body).toMatchObject({ ownerUser: 'jdoe', contactEmail: 'jane.doe@example.org', createdBy: 'jdoe' })
  })

  it('supports the other create.auth values of a site configuration', async () => {
    await sim.close()
    sim = new ScicatSimulator({
      clock,
      users: USERS,
      datasets: DATASETS,
      jobTypes: {
        open: { create: '#all', update: '#all' },
        facility: { create: '@facility-a', update: '#jobOwnerGroup' },
        access: { create: '#datasetAccess', update: 'jdoe' },
      },
    })
    base = (await sim.listen()).url
    const token = sim.issueToken('jdoe')
    const other = sim.issueToken('other')
    const list = { datasetList: [{ pid: PID, files: [] }] }
    const anon = await call('POST', '/api/v4/jobs', { body: { type: 'open', jobParams: {}, contactEmail: 'a@b.org' } })
    expect(anon.status).toBe(201)
    expect(anon.body).not.toHaveProperty('ownerGroup')
    expect(anon.body.createdBy).toBe('anonymous')
    const group = { type: 'facility', ownerGroup: 'p12345', jobParams: {} }
    expect((await call('POST', '/api/v4/jobs', { token, body: group })).status).toBe(201)
    const denied = await call('POST', '/api/v4/jobs', { token: other, body: { ...group, ownerGroup: 'p999' } })
    expect(denied.status).toBe(403)
    const access = { type: 'access', ownerGroup: 'facility-a', jobParams: list }
    expect((await call('POST', '/api/v4/jobs', { token, body: access })).status).toBe(201)
    const noAccess = { ...access, ownerGroup: 'p999' }
    expect((await call('POST', '/api/v4/jobs', { token: other, body: noAccess })).status).toBe(403)
  })
})

describe('privileged groups', () => {
  it('lets members of the literal group "admin" skip the dataset check that binds other admins', async () => {
    const path = `/api/v3/datasets/${ENC}/datasetlifecycle`
    await call('PATCH', path, { token: jdoe, body: { archivable: true } })
    const archive = { type: 'archive', ownerGroup: 'p999', jobParams: { datasetList: [{ pid: PID, files: [] }] } }
    const proxyTry = await call('POST', '/api/v4/jobs', { token: proxy, body: archive })
    expect(proxyTry.status).toBe(403)
    const rootTry = await call('POST', '/api/v4/jobs', { token: sim.issueToken('root'), body: archive })
    expect(rootTry.status).toBe(201)
    expect(rootTry.body).toMatchObject({ ownerGroup: 'p999', contactEmail: 'root@example.org' })
  })

  it('matches DELETE_JOB_GROUPS as substrings of the configured list', async () => {
    sim.addUser({ username: 'px', email: 'px@example.org', groups: ['proxy'] })
    const job = await createTransfer()
    const res = await call('DELETE', `/api/v4/jobs/${job.id}`, { token: sim.issueToken('px') })
    expect(res.status).toBe(200)
  })
})

describe('job updates', () => {
  const path = (id: string): string => `/api/v4/jobs/${id}`

  it('requires statusCode and statusMessage and nothing else', async () => {
    const job = await createTransfer()
    const missing = await call('PATCH', path(job.id), { token: proxy, body: { statusMessage: 'x' } })
    expect(missing.body).toEqual({ message: ['statusCode must be a string'], error: 'Bad Request', statusCode: 400 })
    const extra = await call('PATCH', path(job.id), {
      token: proxy,
      body: { statusCode: 'a', statusMessage: 'b', ownerGroup: 'x', jobResultObject: 'no' },
    })
    expect(extra.body.message).toEqual(['property ownerGroup should not exist', 'jobResultObject must be an object'])
  })

  it('answers an unknown id with 400 "Invalid job id." (never 404)', async () => {
    const res = await call('PATCH', path('nope'), { token: proxy, body: { statusCode: 'a', statusMessage: 'b' } })
    expect(res.status).toBe(400)
    expect(res.body).toEqual({ status: 400, message: 'Invalid job id.' })
  })

  it('replaces jobResultObject with application/json and merges it with merge-patch', async () => {
    const job = await createTransfer()
    clock.advance(1_000)
    const first = await call('PATCH', path(job.id), {
      token: proxy,
      body: { statusCode: 'transferring', statusMessage: 'going', jobResultObject: { a: 1, b: { c: 2 } } },
    })
    expect(first.status).toBe(200)
    expect(first.body).toMatchObject({ statusCode: 'transferring', updatedAt: '2026-01-01T12:00:01.000Z' })
    const replaced = await call('PATCH', path(job.id), {
      token: proxy,
      body: { statusCode: 'transferring', statusMessage: 'going', jobResultObject: { b: { d: 3 } } },
    })
    expect(replaced.body.jobResultObject).toEqual({ b: { d: 3 } })
    const kept = await call('PATCH', path(job.id), { token: proxy, body: { statusCode: 'x', statusMessage: 'y' } })
    expect(kept.body.jobResultObject).toEqual({ b: { d: 3 } })
    const merged = await call('PATCH', path(job.id), {
      token: proxy,
      type: 'application/merge-patch+json',
      body: { statusCode: 'x', statusMessage: 'y', jobResultObject: { a: 5, b: { e: 4, d: null } } },
    })
    expect(merged.body.jobResultObject).toEqual({ b: { e: 4 }, a: 5 })
    expect(sim.job(job.id)?.jobResultObject).toEqual({ b: { e: 4 }, a: 5 })
  })

  it('moves jobResultObject.executionTime into jobParams', async () => {
    const job = await createTransfer()
    const res = await call('PATCH', path(job.id), {
      token: proxy,
      body: { statusCode: 'a', statusMessage: 'b', jobResultObject: { executionTime: 'T', x: 1 } },
    })
    expect(res.body.jobResultObject).toEqual({ x: 1 })
    expect(res.body.jobParams).toMatchObject({ executionTime: 'T', globusTaskId: 't-1' })
  })

  it('applies update.auth: #jobAdmin refuses owners; anonymous meets the guard', async () => {
    const job = await createTransfer()
    const body = { statusCode: 'a', statusMessage: 'b' }
    const owner = await call('PATCH', path(job.id), { token: jdoe, body })
    expect(owner.status).toBe(403)
    expect(owner.body).toEqual({ message: 'Unauthorized to update this job.', error: 'Forbidden', statusCode: 403 })
    expect((await call('PATCH', path(job.id), { body })).body).toEqual(FORBIDDEN)
    expect(sim.job(job.id)?.statusCode).toBe('jobSubmitted')
  })
})

describe('reading and listing jobs', () => {
  it('gets one job: 200, 400 for an unknown id, 403 without token or access', async () => {
    const job = await createTransfer()
    const res = await call('GET', `/api/v4/jobs/${job.id}`, { token: proxy })
    expect(res.status).toBe(200)
    expect(res.body).toEqual(job)
    expect((await call('GET', `/api/v4/jobs/${job.id}`, { token: jdoe })).status).toBe(200)
    const unknown = await call('GET', '/api/v4/jobs/nope', { token: proxy })
    expect(unknown.body).toEqual({ status: 400, message: 'Invalid job id.' })
    expect((await call('GET', `/api/v4/jobs/${job.id}`)).body).toEqual(FORBIDDEN)
    const stranger = await call('GET', `/api/v4/jobs/${job.id}`, { token: sim.issueToken('other') })
    expect(stranger.body).toEqual({ message: 'Unauthorized to get this job.', error: 'Forbidden', statusCode: 403 })
  })

  it('applies limit before skip, in creation order, with no default limit', async () => {
    const ids: string[] = []
    for (let i = 0; i < 15; i++) {
      clock.advance(1_000)
      ids.push((await createTransfer()).id)
    }
    const page = async (limits: Doc): Promise<string[]> =>
      items(await call('GET', jobsUrl({ where: {}, limits }), { token: proxy })).map((j) => String(j.id))
    expect(await page({})).toEqual(ids)
    expect(await page({ limit: 10, skip: 0 })).toEqual(ids.slice(0, 10))
    expect(await page({ limit: 10, skip: 10 })).toEqual([])
    expect(await page({ limit: 20, skip: 10 })).toEqual(ids.slice(10))
    expect(await page({ skip: 12 })).toEqual(ids.slice(12))
    const sorted = items(await call('GET', jobsUrl({ sort: { createdAt: -1 } }), { token: proxy }))
    expect(sorted.map((j) => j.id)).toEqual([...ids].reverse())
  })

  it('matches $nin on a missing field and the other where operators', async () => {
    const fresh = await createTransfer()
    const running = await createTransfer()
    const done = await createTransfer()
    const patch = (id: string, status: string): Promise<Reply> =>
      call('PATCH', `/api/v4/jobs/${id}`, {
        token: proxy,
        body: { statusCode: status, statusMessage: status, jobResultObject: { status, bytes: status.length } },
      })
    await patch(running.id, 'transferring')
    await patch(done.id, 'finished')
    const ids = async (where: Doc): Promise<unknown[]> => {
      const res = await call('GET', jobsUrl({ where }), { token: proxy })
      expect(res.status).toBe(200)
      return items(res).map((j) => j.id)
    }
    const resume = { type: 'globus_transfer_job', 'jobResultObject.status': { $nin: ['finished', 'failed', 'cancelled'] } }
    expect(await ids(resume)).toEqual([fresh.id, running.id])
    expect(await ids({ 'jobResultObject.completed': false })).toEqual([])
    expect(await ids({ 'jobResultObject.status': { $exists: false } })).toEqual([fresh.id])
    expect(await ids({ 'jobResultObject.status': { $ne: 'finished' } })).toEqual([fresh.id, running.id])
    expect(await ids({ 'jobResultObject.bytes': { $gte: 8, $lt: 12 } })).toEqual([done.id])
    expect(await ids({ $or: [{ statusCode: 'finished' }, { statusCode: { $regex: '^TRANS', $options: 'i' } }] })).toEqual([running.id, done.id])
    expect(await ids({ jobResultObject: { status: 'finished', bytes: 8 } })).toEqual([done.id])
    expect(await ids({ 'jobParams.datasetList.pid': PID, id: { $in: [done.id] } })).toEqual([done.id])
    expect(await ids({ statusCode: { $not: { $in: ['finished', 'transferring'] } } })).toEqual([fresh.id])
  })

  it('rejects bad filters as SciCat does', async () => {
    const bad = await call('GET', '/api/v4/jobs?filter=%7Bwhere', { token: proxy })
    expect(bad.status).toBe(400)
    expect(String(bad.body.message)).toMatch(/^Invalid JSON in filter: /)
    for (const key of ['_id', 'accessGroups', 'isPublished']) {
      const res = await call('GET', jobsUrl({ where: { [key]: 'x' } }), { token: proxy })
      expect(res.body).toEqual({
        message: `Property where.${key} should not exist in the filter object`,
        error: 'Bad Request',
        statusCode: 400,
      })
    }
    const op = await call('GET', jobsUrl({ where: { statusCode: { $in: 'x' } } }), { token: proxy })
    expect(op.body).toEqual({ status: 400, message: '$in needs an array' })
  })

  it('ANDs the where with the caller’s access', async () => {
    const mine = await createTransfer()
    const theirs = await createTransfer({ ownerGroup: 'p999', ownerUser: 'other' })
    const other = sim.issueToken('other')
    const root = sim.issueToken('root')
    const list = async (token: string, where: Doc = {}): Promise<unknown[]> =>
      items(await call('GET', jobsUrl({ where }), { token })).map((j) => j.id)
    expect(await list(proxy)).toEqual([mine.id, theirs.id])
    expect(await list(root)).toEqual([mine.id, theirs.id])
    expect(await list(jdoe)).toEqual([mine.id])
    expect(await list(other)).toEqual([theirs.id])
    expect(await list(jdoe, { ownerGroup: 'p999' })).toEqual([])
    const fields = items(await call('GET', jobsUrl({ fields: ['statusCode'] }), { token: jdoe }))
    expect(fields).toEqual([{ _id: mine.id, statusCode: 'jobSubmitted' }])
  })
})

// the backend's jobs v4 fullfacet: src/jobs/jobs.v4.controller.ts, jobs.controller.utils.ts, src/common/utils.ts
describe('job facets (GET /api/v4/jobs/fullfacet)', () => {
  const facetUrl = (params: { fields?: unknown; facets?: unknown; filter?: unknown }): string => {
    const query = Object.entries(params).map(([k, v]) => `${k}=${encodeURIComponent(JSON.stringify(v))}`)
    return `/api/v4/jobs/fullfacet${query.length > 0 ? `?${query.join('&')}` : ''}`
  }
  const facet = async (params: Parameters<typeof facetUrl>[0], token = proxy): Promise<Doc> => {
    const res = await call('GET', facetUrl(params), { token })
    expect(res.status).toBe(200)
    const body = res.body as unknown as Doc[]
    expect(body).toHaveLength(1)
    return body[0] as Doc
  }

  function seed (): Job[] {
    return [
      sim.insertJob({
        type: 'globus_transfer_job',
        ownerGroup: 'p12345',
        ownerUser: 'jdoe',
        statusCode: 'finished',
        jobResultObject: { status: 'finished' },
        accessGroups: ['facility-a', 'beamline'],
        createdAt: '2026-01-01T09:00:00.000Z',
      }),
      sim.insertJob({
        type: 'globus_transfer_job',
        ownerGroup: 'p12345',
        statusCode: 'transferring',
        jobResultObject: { status: 'transferring' },
        accessGroups: ['facility-a'],
        createdAt: '2026-01-01T18:00:00.000Z',
      }),
      sim.insertJob({ type: 'archive', ownerGroup: 'p999', statusCode: 'jobSubmitted', createdAt: '2026-01-03T10:00:00.000Z' }),
      // a type the job configuration does not declare: only job readers without conditions see it
      sim.insertJob({ type: 'retrieve', ownerGroup: 'p12345', statusCode: 'jobSubmitted', createdAt: '2026-01-02T10:00:00.000Z' }),
    ]
  }

  it('counts the jobs that match `fields`, and answers all: [] for none', async () => {
    const [finished, running] = seed() as [Job, Job]
    expect(await facet({})).toEqual({ all: [{ totalSets: 4 }] })
    expect(await facet({ fields: { type: 'globus_transfer_job' } })).toEqual({ all: [{ totalSets: 2 }] })
    expect(await facet({ fields: { statusCode: ['finished', 'jobSubmitted'] } })).toEqual({ all: [{ totalSets: 3 }] })
    expect(await facet({ fields: { statusCode: { $regex: '^TRANS', $options: 'i' } } })).toEqual({ all: [{ totalSets: 1 }] })
    expect(await facet({ fields: { id: [finished.id, running.id], ownerGroup: 'p12345' } })).toEqual({ all: [{ totalSets: 2 }] })
    expect(await facet({ fields: { createdAt: { begin: '2026-01-01', end: '2026-01-02T12:00:00Z' } } })).toEqual({ all: [{ totalSets: 3 }] })
    expect(await facet({ fields: { accessGroups: ['beamline', 'nobody'] } })).toEqual({ all: [{ totalSets: 1 }] })
    expect(await facet({ fields: { userGroups: ['p999'] } })).toEqual({ all: [{ totalSets: 1 }] })
    expect(await facet({ fields: { userGroups: ['p999', 'globalaccess'] } })).toEqual({ all: [{ totalSets: 4 }] })
    // `mode` is a raw MongoDB expression; its `id` stands for `_id`
    expect(await facet({ fields: { mode: { 'jobResultObject.status': 'finished' } } })).toEqual({ all: [{ totalSets: 1 }] })
    expect(await facet({ fields: { mode: { id: running.id } } })).toEqual({ all: [{ totalSets: 1 }] })
    expect(await facet({ fields: { type: 'nothing-of-that-type' } })).toEqual({ all: [] })
  })

  it('ignores `filter`: the count the Ingestor asks for is of every job type it may read', async () => {
    seed()
    // SwissOpenEM/globus-transfer-service jobs/scicat.go GetJobCount, as the Ingestor calls it
    expect(await facet({ filter: { type: 'globus_transfer_job' } })).toEqual({ all: [{ totalSets: 4 }] })
  })

  it('counts each facet per value, by _id descending, after the fields match', async () => {
    seed()
    const all = await facet({ facets: ['type', 'statusCode', 'accessGroups', 'createdAt', 'notAField'] })
    expect(Object.keys(all)).toEqual(['type', 'statusCode', 'accessGroups', 'createdAt', 'all'])
    expect(all).toEqual({
      type: [
        { _id: 'retrieve', count: 1 },
        { _id: 'globus_transfer_job', count: 2 },
        { _id: 'archive', count: 1 },
      ],
      statusCode: [
        { _id: 'transferring', count: 1 },
        { _id: 'jobSubmitted', count: 2 },
        { _id: 'finished', count: 1 },
      ],
      // $unwind: a job with no access groups is in no group
      accessGroups: [
        { _id: 'facility-a', count: 2 },
        { _id: 'beamline', count: 1 },
      ],
      createdAt: [
        { _id: { year: 2026, month: 1, day: 3 }, count: 1 },
        { _id: { year: 2026, month: 1, day: 2 }, count: 1 },
        { _id: { year: 2026, month: 1, day: 1 }, count: 2 },
      ],
      all: [{ totalSets: 4 }],
    })
    const transfers = await facet({ fields: { type: 'globus_transfer_job' }, facets: ['statusCode', 'ownerUser'] })
    expect(transfers).toEqual({
      statusCode: [
        { _id: 'transferring', count: 1 },
        { _id: 'finished', count: 1 },
      ],
      ownerUser: [
        { _id: 'jdoe', count: 1 },
        { _id: null, count: 1 },
      ],
      all: [{ totalSets: 2 }],
    })
  })

  it('counts only the jobs the caller may read; anonymous callers meet the guard', async () => {
    seed()
    expect((await call('GET', facetUrl({}))).body).toEqual(FORBIDDEN)
    expect((await call('GET', facetUrl({}), { token: 'not-a-token' })).body).toEqual(FORBIDDEN)
    // jdoe: the p12345 jobs of configured types; the undeclared `retrieve` job is not among them
    expect(await facet({ facets: ['type'] }, jdoe)).toEqual({
      type: [{ _id: 'globus_transfer_job', count: 2 }],
      all: [{ totalSets: 2 }],
    })
    expect(await facet({}, sim.issueToken('other'))).toEqual({ all: [{ totalSets: 1 }] })
    expect(await facet({}, sim.issueToken('root'))).toEqual({ all: [{ totalSets: 4 }] })
    expect(await facet({}, sim.issueToken('ghost'))).toEqual({ all: [] })
  })

  it('answers what the backend fails on with 400 {status, message}', async () => {
    seed()
    const parseError = (text: string): string => {
      try {
        JSON.parse(text)
      } catch (err) {
        return (err as Error).message
      }
      return ''
    }
    const badFields = await call('GET', '/api/v4/jobs/fullfacet?fields=%7Btype', { token: proxy })
    expect(badFields.status).toBe(400)
    expect(badFields.body).toEqual({ status: 400, message: parseError('{type') })
    const badFacets = await call('GET', '/api/v4/jobs/fullfacet?facets=type', { token: proxy })
    expect(badFacets.body).toEqual({ status: 400, message: parseError('type') })
    const failures: [Parameters<typeof facetUrl>[0], string][] = [
      [{ facets: 'type' }, 'facets.forEach is not a function'],
      // a path the job schema does not know, with a string value: schemaTypeOf's `"begin" in value`
      [{ fields: { 'jobResultObject.status': 'finished' } }, "Cannot use 'in' operator to search for 'begin' in finished"],
      [{ fields: { text: 'finished' } }, '$match with $text is only allowed as the first pipeline stage'],
      [{ fields: { statusCode: { $in: 'x' } } }, '$in needs an array'],
    ]
    for (const [params, message] of failures) {
      const res = await call('GET', facetUrl(params), { token: proxy })
      expect(res.status).toBe(400)
      expect(res.body).toEqual({ status: 400, message })
    }
  })
})

describe('deleting jobs', () => {
  it('lets only DELETE_JOB_GROUPS members delete, and answers an unknown id with a numeric status', async () => {
    const job = await createTransfer()
    const admin = await call('DELETE', `/api/v4/jobs/${job.id}`, { token: sim.issueToken('root') })
    expect(admin.body).toEqual(FORBIDDEN)
    expect((await call('DELETE', `/api/v4/jobs/${job.id}`, { token: jdoe })).status).toBe(403)
    expect((await call('DELETE', `/api/v4/jobs/${job.id}`)).status).toBe(403)
    const res = await call('DELETE', `/api/v4/jobs/${job.id}`, { token: proxy })
    expect(res.status).toBe(200)
    expect(res.body).toEqual(job)
    expect(sim.jobs()).toEqual([])
    const again = await call('DELETE', `/api/v4/jobs/${job.id}`, { token: proxy })
    expect(again.status).toBe(400)
    expect(again.body).toEqual({ status: 400, message: `Job id ${job.id} doesn't exist.` })
  })
})

describe('simulator controls', () => {
  it('counts operations and injects faults', async () => {
    const job = await createTransfer()
    const body = { statusCode: 'a', statusMessage: 'b' }
    sim.core.inject('updateJob', { status: 503, retryAfter: 2, times: 2 })
    for (let i = 0; i < 2; i++) {
      const res = await call('PATCH', `/api/v4/jobs/${job.id}`, { token: proxy, body })
      expect(res.status).toBe(503)
      expect(res.headers.get('retry-after')).toBe('2')
      expect(res.body).toEqual({ message: 'Service Unavailable', statusCode: 503 })
    }
    expect(sim.job(job.id)?.statusCode).toBe('jobSubmitted')
    expect((await call('PATCH', `/api/v4/jobs/${job.id}`, { token: proxy, body })).status).toBe(200)
    expect(sim.core.count('updateJob')).toBe(3)
    expect(sim.core.count('createJob')).toBe(1)
    sim.core.inject('findJobs', { networkError: true })
    await expect(call('GET', '/api/v4/jobs', { token: proxy })).rejects.toThrow()
    expect((await call('GET', '/api/v4/jobs', { token: proxy })).status).toBe(200)
    expect(sim.core.count('findJobs')).toBe(2)
    sim.core.inject('getDataset', { status: 500, body: 'Internal server error' })
    const failed = await call('GET', `/api/v3/datasets/${ENC}`, { token: jdoe })
    expect(failed.status).toBe(500)
    expect(failed.text).toBe('"Internal server error"')
  })

  it('loses the answer of a job POST that took effect (dropAnswer)', async () => {
    sim.core.inject('createJob', { dropAnswer: true })
    await expect(call('POST', '/api/v4/jobs', { token: proxy, body: transferJob() })).rejects.toThrow()
    const jobs = sim.jobs()
    expect(jobs).toHaveLength(1)
    expect(jobs[0]).toMatchObject({ type: 'globus_transfer_job', ownerUser: 'jdoe', statusCode: 'jobSubmitted' })
    expect(jobs[0]!.jobParams).toMatchObject({ globusTaskId: 't-1' })
    const listed = await call('GET', jobsUrl({ where: { 'jobParams.globusTaskId': 't-1' } }), { token: proxy })
    expect(items(listed).map((j) => j.id)).toEqual([jobs[0]!.id])
    // once: the next POST is answered, and a networkError fault creates nothing
    await createTransfer()
    sim.core.inject('createJob', { networkError: true })
    await expect(call('POST', '/api/v4/jobs', { token: proxy, body: transferJob() })).rejects.toThrow()
    expect(sim.jobs()).toHaveLength(2)
    expect(sim.core.count('createJob')).toBe(3)
  })

  it('runs the real handler under dropAnswer: a request it refuses creates nothing either', async () => {
    sim.core.inject('createJob', { dropAnswer: true, times: 2 })
    await expect(call('POST', '/api/v4/jobs', { token: jdoe, body: transferJob() })).rejects.toThrow()
    await expect(call('POST', '/api/v4/jobs', { token: proxy, body: transferJob({ type: 'nope' }) })).rejects.toThrow()
    expect(sim.jobs()).toEqual([])
    expect((await call('POST', '/api/v4/jobs', { token: jdoe, body: transferJob() })).status).toBe(403)
  })

  it('seeds jobs with insertJob, as an earlier run left them', async () => {
    const seeded = sim.insertJob({
      type: 'globus_transfer_job',
      ownerGroup: 'p12345',
      jobParams: { globusSubmissionId: 's-1' },
      jobResultObject: { status: 'transferring', globusTaskId: 't-9' },
      statusCode: 'transferring',
    })
    const created = await createTransfer()
    expect(sim.jobs().map((j) => j.id)).toEqual([seeded.id, created.id])
    const res = await call('GET', jobsUrl({ where: { 'jobResultObject.globusTaskId': 't-9' } }), { token: proxy })
    expect(items(res)).toEqual([seeded])
    const fixed = sim.insertJob({ id: 'fixed-id', type: 'archive', ownerGroup: 'p12345' })
    expect(fixed._id).toBe('fixed-id')
    expect((await call('GET', '/api/v4/jobs/fixed-id', { token: jdoe })).body).toEqual(fixed)
  })

  it('limits bodies to 16 MB and answers bad JSON with 400', async () => {
    const big = 'x'.repeat(16 * 1024 * 1024)
    const tooBig = await call('POST', '/api/v4/jobs', { token: proxy, body: transferJob({ jobParams: { big } }) })
    expect(tooBig.status).toBe(413)
    expect(tooBig.body).toEqual({ message: 'request entity too large', error: 'Payload Too Large', statusCode: 413 })
    const broken = await call('POST', '/api/v4/jobs', { token: proxy, raw: '{"type":' })
    expect(broken.status).toBe(400)
    expect(broken.body).toMatchObject({ error: 'Bad Request', statusCode: 400 })
    expect(sim.jobs()).toEqual([])
  })
})
