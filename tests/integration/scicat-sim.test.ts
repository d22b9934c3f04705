// The SciCat simulator over real HTTP: status codes, error shapes, DTO rules and quirks of SciCat.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ScicatSimulator, type SimDataset, type SimUser } from '../../src/sandbox/scicat-sim/index.js'
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

interface Reply {
  status: number
  headers: Headers
  text: string
  body: any
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
  let parsed: unknown
  try {
    parsed = text ? JSON.parse(text) : undefined
  } catch {
    parsed = undefined
  }
  return { status: res.status, headers: res.headers, text, body: parsed }
}

const jobsUrl = (filter: unknown): string =>
  `/api/v4/jobs?filter=${encodeURIComponent(JSON.stringify(filter))}`

const transferJob = (extra: Record<string, unknown> = {}) => ({
  type: 'globus_transfer_job',
  ownerGroup: 'p12345',
  ownerUser: 'jdoe',
  contactEmail: 'jane.doe@example.org',
  jobParams: { datasetList: [{ pid: PID, files: [] }], globusTaskId: 't-1' },
  ...extra,
})

async function createTransfer (extra: Record<string, unknown> = {}): Promise<any> {
  const res = await call('POST', '/api/v4/jobs', { token: proxy, body: transferJob(extra) })
  expect(res.status).toBe(201)
  return res.body
}

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
    expect(res.body.userId).toBe(res.body.user._id)
    expect(res.body).not.toHaveProperty('expiresIn')
    const me = await call('GET', '/api/v3/users/my/identity', { token: res.body.access_token })
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
    const me = await call('GET', '/api/v3/users/my/identity', { token: res.body.access_token })
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
