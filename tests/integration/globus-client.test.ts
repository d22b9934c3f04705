// GlobusClient and its token provider against the Globus simulator over real HTTP.
import { afterEach, describe, expect, it } from 'vitest'
import { type GlobusClient, taskFields, type TransferSpec } from '../../src/globus/client.js'
import { UpstreamError } from '../../src/http/upstream-error.js'
import {
  buildGlobus,
  CLIENT_ID,
  CLIENT_SECRET,
  dataAccess,
  DST,
  GUARDED,
  GUEST,
  recordingProxy,
  Resources,
  SRC,
  startGlobus,
  TRANSFER_SCOPE,
  until,
} from '../helpers/upstreams.js'

const res = new Resources()
afterEach(() => res.close())

const UNKNOWN_TASK = '00000000-0000-4000-8000-000000000000'

async function failure (promise: Promise<unknown>): Promise<UpstreamError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e
  )
  expect(err).toBeInstanceOf(UpstreamError)
  return err as UpstreamError
}

/** A simulator on a ManualClock and a client whose token provider reads the same clock. */
async function setup (options: { scopes?: string[]; tokenLifetimeSeconds?: number; symlinkItems?: boolean } = {}) {
  // collections that take transfer_symlink_item (GCSv4-like); the default ones refuse it as GCSv5 does
  const symlinkCollections = options.symlinkItems
    ? { collections: { [SRC]: { root: await res.tempDir(), symlinkItems: true }, [DST]: { root: await res.tempDir(), symlinkItems: true } } }
    : {}
  const globus = await startGlobus(res, { tokenLifetimeSeconds: options.tokenLifetimeSeconds ?? 172_800, ...symlinkCollections })
  const built = buildGlobus(res, {
    url: globus.url,
    now: () => globus.clock.now(),
    ...(options.scopes ? { scopes: options.scopes } : {}),
  })
  const count = (op: string) => globus.sim.core.count(op)
  return { ...globus, ...built, count }
}

async function spec (client: GlobusClient, fields: Partial<TransferSpec> = {}): Promise<TransferSpec> {
  return {
    submissionId: await client.getSubmissionId(),
    facilities: ['src', 'dst'],
    sourceCollection: SRC,
    destinationCollection: DST,
    label: 'SciCat job 1',
    items: [{ sourcePath: '/ds', destinationPath: '/out/ds', recursive: true }],
    verifyChecksum: true,
    ...fields,
  }
}

describe('token', () => {
  it('asks Globus Auth with HTTP Basic and a form body: the Transfer scope alone for tasks, both facilities\' scopes merged for a submission', async () => {
    const globus = await startGlobus(res)
    const auth = await recordingProxy(res, globus.url)
    const { client } = buildGlobus(res, {
      url: globus.url,
      authUrl: auth.url,
      facilities: [
        { name: 'src', collection: SRC, scopes: [`${TRANSFER_SCOPE}[*${dataAccess(SRC)}]`, `${TRANSFER_SCOPE}[*${dataAccess(SRC)}]`] },
        { name: 'dst', collection: DST, scopes: [`${TRANSFER_SCOPE}[*${dataAccess(DST)}]`] },
      ],
    })
    const s = await spec(client)
    expect(auth.requests).toHaveLength(1)
    const [req] = auth.requests
    expect(req?.method).toBe('POST')
    expect(req?.url).toBe('/v2/oauth2/token')
    expect(req?.headers.authorization).toBe(`Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`)
    expect(req?.headers['content-type']).toBe('application/x-www-form-urlencoded')
    expect(Object.fromEntries(new URLSearchParams(req?.body))).toEqual({ grant_type: 'client_credentials', scope: TRANSFER_SCOPE })
    await client.submitTransfer(s)
    const merged = `${TRANSFER_SCOPE}[*${dataAccess(SRC)} *${dataAccess(DST)}]`
    expect(Object.fromEntries(new URLSearchParams(auth.requests[1]?.body))).toEqual({ grant_type: 'client_credentials', scope: merged })
    expect(globus.sim.tokens().map((t) => t.scope)).toEqual([TRANSFER_SCOPE, merged])
    // reading tasks keeps using the Transfer scope's token
    await client.listTasks([globus.sim.tasks()[0]!.task_id])
    expect(auth.requests).toHaveLength(2)
  })

  it('surfaces refused client credentials as a 401 invalid_client, asked once', async () => {
    const globus = await startGlobus(res)
    const { client } = buildGlobus(res, { url: globus.url, clientSecret: 'wrong' })
    const err = await failure(client.getSubmissionId())
    expect(err).toMatchObject({ status: 401, code: 'invalid_client', operation: 'token' })
    expect(globus.sim.core.count('token')).toBe(1)
    expect(globus.sim.core.count('submission_id')).toBe(0)
  })

  it('sends a client secret with +, /, = and % as it is, and Globus accepts it', async () => {
    const secret = 'abc+def/ghi%2Bx=='
    const globus = await startGlobus(res, { clients: { [CLIENT_ID]: secret } })
    const { client } = buildGlobus(res, { url: globus.url, clientSecret: secret })
    expect(await client.getSubmissionId()).toMatch(/^[0-9a-f-]{36}$/)
    expect(globus.sim.tokens()).toEqual([expect.objectContaining({ clientId: CLIENT_ID })])
  })

  it('makes one token request for 100 concurrent calls, at start and once the token expired', async () => {
    const { client, clock, sim, count } = await setup()
    const burst = () => Promise.all(Array.from({ length: 100 }, () => client.getSubmissionId()))
    expect(new Set(await burst()).size).toBe(100)
    expect(count('token')).toBe(1)
    clock.advance(172_800_000)
    const ids = await burst()
    expect(new Set(ids).size).toBe(100)
    expect(count('token')).toBe(2)
    expect(count('submission_id')).toBe(200)
    expect(sim.tokens()[1]?.expiresAt).toBe(clock.now() + 172_800_000)
  })

  it('renews a 100 s token at half its lifetime (50 s), not 60 s before expiry (40 s)', async () => {
    const { client, clock, count } = await setup({ tokenLifetimeSeconds: 100 })
    await client.getSubmissionId()
    clock.advance(40_000)
    await client.getSubmissionId()
    clock.advance(9_999)
    await client.getSubmissionId()
    expect(count('token')).toBe(1)
    clock.advance(1)
    await client.getSubmissionId()
    expect(count('token')).toBe(2)
    clock.advance(49_999)
    await client.getSubmissionId()
    expect(count('token')).toBe(2)
    clock.advance(10_001)
    await client.getSubmissionId()
    expect(count('token')).toBe(3)
    expect(count('submission_id')).toBe(6)
  })

  it('renews a 48 h token 60 s before expiry (at 172740 s)', async () => {
    const { client, clock, count } = await setup()
    await client.getSubmissionId()
    clock.advance(86_400_000)
    await client.getSubmissionId()
    clock.advance(172_739_999 - 86_400_000)
    await client.getSubmissionId()
    expect(count('token')).toBe(1)
    clock.advance(1)
    await client.getSubmissionId()
    expect(count('token')).toBe(2)
  })

  it('fetches a new token once and retries once after a 401', async () => {
    const { client, sim, count } = await setup()
    await client.getSubmissionId()
    sim.revokeTokens()
    expect(await client.getSubmissionId()).toMatch(/^[0-9a-f-]{36}$/)
    expect(count('token')).toBe(2)
    expect(count('submission_id')).toBe(3)

    // a burst meeting the revoked token fetches one new token between them
    sim.revokeTokens()
    const ids = await Promise.all(Array.from({ length: 100 }, () => client.getSubmissionId()))
    expect(new Set(ids).size).toBe(100)
    expect(count('token')).toBe(3)
    expect(count('submission_id')).toBe(3 + 200)

    sim.core.resetCounts()
    sim.core.inject('submission_id', { status: 401, times: 5 })
    const err = await failure(client.getSubmissionId())
    expect(err.status).toBe(401)
    expect(count('token')).toBe(1)
    expect(count('submission_id')).toBe(2)
  })
})

describe('ConsentRequired', () => {
  it('asks once for a token with the required data_access scope, then submits', async () => {
    const { client, tokens, sim, count } = await setup()
    const result = await client.submitTransfer(await spec(client, { destinationCollection: GUARDED }))
    expect(result.code).toBe('Accepted')
    const consented = `${TRANSFER_SCOPE}[*${dataAccess(GUARDED)}]`
    expect(sim.tokens().map((t) => t.scope)).toEqual([TRANSFER_SCOPE, consented])
    expect(tokens.scopesOf(['src', 'dst']).join(' ')).toBe(consented)
    expect(count('transfer')).toBe(2)
    // the new token is kept for the next submission
    await client.submitTransfer(await spec(client, { destinationCollection: GUARDED }))
    expect(count('token')).toBe(2)
    expect(sim.tasks()).toHaveLength(2)
  })

  it('reads the required scopes of a GARE (authorization_parameters)', async () => {
    const { client, sim, count } = await setup()
    sim.core.inject('transfer', {
      status: 403,
      body: {
        code: 'ConsentRequired',
        message: 'Missing consent',
        authorization_parameters: { required_scopes: [`${TRANSFER_SCOPE}[*${dataAccess(GUARDED)}]`] },
      },
    })
    const result = await client.submitTransfer(await spec(client, { destinationCollection: GUARDED }))
    expect(result.code).toBe('Accepted')
    expect(sim.tokens()[1]?.scope).toContain(dataAccess(GUARDED))
    expect(count('transfer')).toBe(2)
  })

  it('surfaces a second ConsentRequired with its required scopes', async () => {
    const { client, sim, count } = await setup()
    const wanted = `${TRANSFER_SCOPE}[*https://auth.globus.org/scopes/other/data_access]`
    sim.core.inject('transfer', {
      status: 403,
      body: { code: 'ConsentRequired', message: 'Missing consent', required_scopes: [wanted] },
      times: 2,
    })
    const err = await failure(client.submitTransfer(await spec(client)))
    expect(err).toMatchObject({ status: 403, code: 'ConsentRequired', requiredScopes: [wanted] })
    expect(count('transfer')).toBe(2)
    expect(count('token')).toBe(2)
    expect(sim.tasks()).toEqual([])
  })

  it('does not ask again when the token already has every required scope', async () => {
    const { client, sim, count } = await setup()
    sim.core.inject('transfer', {
      status: 403,
      body: { code: 'ConsentRequired', message: 'Missing consent', required_scopes: [TRANSFER_SCOPE] },
    })
    const err = await failure(client.submitTransfer(await spec(client)))
    expect(err.code).toBe('ConsentRequired')
    expect(count('transfer')).toBe(1)
    expect(count('token')).toBe(1)
  })

  it('does not reuse a token fetch started with the old scopes while consent was being added', async () => {
    const { client, clock, sim, count } = await setup()
    const transferSpec = await spec(client, { destinationCollection: GUARDED })
    // The submission reaches Globus and is held there...
    sim.core.inject('transfer', { latencyMs: 600 })
    const submitted = client.submitTransfer(transferSpec).then(
      (r) => r,
      (e: unknown) => e
    )
    await until(() => count('transfer') === 1)
    // ...while another call starts a (slow) renewal with the scopes of before
    clock.advance(172_750_000)
    sim.core.inject('token', { latencyMs: 2000 })
    const other = client.getSubmissionId()
    await until(() => count('token') === 2)
    const result = await submitted
    expect(result).toMatchObject({ code: 'Accepted' })
    expect(await other).toMatch(/^[0-9a-f-]{36}$/)
    expect(count('transfer')).toBe(2)
    // issued in the order they were answered: the slow renewal comes last
    expect(sim.tokens().map((t) => t.scope)).toEqual([
      TRANSFER_SCOPE,
      `${TRANSFER_SCOPE}[*${dataAccess(GUARDED)}]`,
      TRANSFER_SCOPE,
    ])
    // and the token kept is the one with consent, not the late one with the old scopes
    await client.submitTransfer(await spec(client, { destinationCollection: GUARDED }))
    expect(count('token')).toBe(3)
    expect(count('transfer')).toBe(3)
  })
})

describe('scope sets', () => {
  it('picks the Transfer token from other_tokens by resource_server when another server\'s token is at the top level', async () => {
    const globus = await startGlobus(res)
    const auth = await recordingProxy(res, globus.url)
    const scopes = ['openid', `${TRANSFER_SCOPE}[*${dataAccess(SRC)}]`]
    const { client } = buildGlobus(res, { url: globus.url, authUrl: auth.url, scopes })
    const result = await client.submitTransfer(await spec(client))
    expect(result.code).toBe('Accepted')
    // the submission's token request answered two tokens, Auth's first
    expect(globus.sim.tokens().map((t) => t.scope)).toEqual([TRANSFER_SCOPE, 'openid', `${TRANSFER_SCOPE}[*${dataAccess(SRC)}]`])
    expect(globus.sim.core.count('transfer')).toBe(1)
  })

  it('fails with an error naming the scopes when Auth issued no Transfer token', async () => {
    const { client, sim } = await setup({ scopes: ['openid'] })
    const err = await failure(client.submitTransfer(await spec(client)))
    expect(err.code).toBe('MalformedAnswer')
    expect(err.message).toContain('transfer.api.globus.org')
    expect(err.message).toContain('"openid"')
    expect(sim.core.count('transfer')).toBe(0)
  })

  it('fails only the submissions that need a data_access scope Auth refuses, naming the facility, and remembers the refusal', async () => {
    const globus = await startGlobus(res)
    const perCollection = (c: string) => [`${TRANSFER_SCOPE}[*${dataAccess(c)}]`]
    const { client, tokens } = buildGlobus(res, {
      url: globus.url,
      facilities: [
        { name: 'src', collection: SRC, scopes: perCollection(SRC) },
        { name: 'dst', collection: DST, scopes: perCollection(DST) },
        { name: 'guest', collection: GUEST, scopes: perCollection(GUEST) },
      ],
    })
    const err = await failure(client.submitTransfer(await spec(client, { facilities: ['src', 'guest'], destinationCollection: GUEST })))
    expect(err).toMatchObject({ status: 400, code: 'UNKNOWN_SCOPE_ERROR' })
    expect(err.message).toContain('facility guest')
    expect(err.message).toContain(`requested unknown scopes: ['${dataAccess(GUEST)}']`)
    expect(err.message).not.toContain('facility src')
    expect(globus.sim.core.count('transfer')).toBe(0)
    // every other pair keeps working
    expect((await client.submitTransfer(await spec(client))).code).toBe('Accepted')
    expect(await tokens.degraded()).toEqual([
      expect.objectContaining({ name: 'guest', scopes: perCollection(GUEST)[0], message: expect.stringContaining('unknown scopes') }),
    ])
    const tokenCalls = globus.sim.core.count('token')
    // the refused sets are not asked for again at once
    await failure(client.submitTransfer(await spec(client, { facilities: ['src', 'guest'], destinationCollection: GUEST })))
    expect(globus.sim.core.count('token')).toBe(tokenCalls)
  })

  it('adds ConsentRequired scopes to the facility of the collection they name, and drops them when Auth refuses them', async () => {
    const globus = await startGlobus(res)
    const { client, tokens } = buildGlobus(res, {
      url: globus.url,
      facilities: [
        { name: 'src', collection: SRC, scopes: [TRANSFER_SCOPE] },
        { name: 'guarded', collection: GUARDED, scopes: [TRANSFER_SCOPE] },
        { name: 'guest', collection: GUEST, scopes: [TRANSFER_SCOPE] },
      ],
    })
    await client.submitTransfer(await spec(client, { facilities: ['src', 'guarded'], destinationCollection: GUARDED }))
    expect(tokens.scopesOf(['guarded'])).toEqual([`${TRANSFER_SCOPE}[*${dataAccess(GUARDED)}]`])
    expect(tokens.scopesOf(['src'])).toEqual([TRANSFER_SCOPE])
    // a consent Auth will not grant: Transfer asks for the guest collection's data_access scope
    globus.sim.core.inject('transfer', {
      status: 403,
      body: { code: 'ConsentRequired', message: 'Missing consent', required_scopes: [`${TRANSFER_SCOPE}[*${dataAccess(GUEST)}]`] },
    })
    const err = await failure(client.submitTransfer(await spec(client, { facilities: ['src', 'guest'], destinationCollection: GUEST })))
    expect(err.code).toBe('UNKNOWN_SCOPE_ERROR')
    expect(tokens.scopesOf(['guest'])).toEqual([TRANSFER_SCOPE])
    expect(tokens.scopesOf(['guarded'])).toEqual([`${TRANSFER_SCOPE}[*${dataAccess(GUARDED)}]`])
  })
})

describe('submitTransfer', () => {
  it('posts folder, file and symlink items with label, checksum, sync level and deadline', async () => {
    const { client, sim } = await setup({ symlinkItems: true })
    const s = await spec(client, {
      label: 'SciCat job 7f3a',
      items: [
        { sourcePath: '/data/run42/', destinationPath: '/incoming/run42/', recursive: true },
        { sourcePath: '/data/run42.json', destinationPath: '/incoming/run42.json' },
        { sourcePath: '/data/latest', destinationPath: '/incoming/latest', symlink: true },
      ],
      verifyChecksum: true,
      syncLevel: 'checksum',
      deadline: '2026-02-01T00:00:00+00:00',
    })
    const result = await client.submitTransfer(s)
    expect(result).toEqual({ code: 'Accepted', taskId: expect.any(String), submissionId: s.submissionId })
    expect(sim.submission(result.taskId)).toEqual({
      DATA_TYPE: 'transfer',
      submission_id: s.submissionId,
      source_endpoint: SRC,
      destination_endpoint: DST,
      label: 'SciCat job 7f3a',
      verify_checksum: true,
      fail_on_quota_errors: true,
      skip_source_errors: false,
      store_base_path_info: true,
      sync_level: 3,
      deadline: '2026-02-01T00:00:00+00:00',
      notify_on_succeeded: false,
      notify_on_failed: false,
      notify_on_inactive: false,
      DATA: [
        { DATA_TYPE: 'transfer_item', source_path: '/data/run42/', destination_path: '/incoming/run42/', recursive: true },
        { DATA_TYPE: 'transfer_item', source_path: '/data/run42.json', destination_path: '/incoming/run42.json' },
        { DATA_TYPE: 'transfer_symlink_item', source_path: '/data/latest', destination_path: '/incoming/latest' },
      ],
    })
    expect(sim.task(result.taskId)).toMatchObject({ label: 'SciCat job 7f3a', sync_level: 3, verify_checksum: true })
  })

  it('sends sync level "exists" as 0 and leaves out "none" and a missing deadline', async () => {
    const { client, sim } = await setup()
    const exists = await client.submitTransfer(await spec(client, { syncLevel: 'exists', verifyChecksum: false }))
    expect(sim.submission(exists.taskId)).toMatchObject({ sync_level: 0, verify_checksum: false })
    const none = await client.submitTransfer(await spec(client, { syncLevel: 'none' }))
    const body = sim.submission(none.taskId)
    expect(body).not.toHaveProperty('sync_level')
    expect(body).not.toHaveProperty('deadline')
  })

  it('sends fail_on_quota_errors and skip_source_errors as configured, and Globus records them on the task', async () => {
    const { client, sim } = await setup()
    const r = await client.submitTransfer(await spec(client, { failOnQuotaErrors: false, skipSourceErrors: true }))
    expect(sim.submission(r.taskId)).toMatchObject({ fail_on_quota_errors: false, skip_source_errors: true, store_base_path_info: true })
    expect(sim.task(r.taskId)).toMatchObject({ fail_on_quota_errors: false, skip_source_errors: true })
  })

  it('answers Accepted, then Duplicate with the same task for the same submission id', async () => {
    const { client, sim, count } = await setup()
    const s = await spec(client)
    const first = await client.submitTransfer(s)
    const second = await client.submitTransfer(s)
    expect(first).toEqual({ code: 'Accepted', taskId: expect.any(String), submissionId: s.submissionId })
    expect(second).toEqual({ code: 'Duplicate', taskId: first.taskId, submissionId: s.submissionId })
    expect(sim.tasks()).toHaveLength(1)
    expect(sim.taskIdForSubmission(s.submissionId)).toBe(first.taskId)
    expect(count('transfer')).toBe(2)
  })

  it('surfaces an unknown collection as a 404 EndpointNotFound, not retried', async () => {
    const { client, count } = await setup()
    const err = await failure(client.submitTransfer(await spec(client, { destinationCollection: UNKNOWN_TASK })))
    expect(err).toMatchObject({ status: 404, code: 'EndpointNotFound', operation: 'transfer' })
    expect(count('transfer')).toBe(1)
  })
})

describe('tasks', () => {
  it('lists 120 tasks in 3 task_list calls of at most 50 ids with limit=50, keyed by id', async () => {
    const globus = await startGlobus(res)
    const transfer = await recordingProxy(res, globus.url)
    const { client } = buildGlobus(res, { url: transfer.url })
    const ids = await Promise.all(
      Array.from({ length: 120 }, async (_, i) => (await client.submitTransfer(await spec(client, { label: `job ${i}` }))).taskId)
    )
    transfer.requests.length = 0
    globus.sim.core.resetCounts()

    const tasks = await client.listTasks(ids)

    expect(globus.sim.core.count('task_list')).toBe(3)
    expect(globus.sim.core.count('task')).toBe(0)
    const lists = transfer.requests.map((r) => new URL(r.url, 'http://x'))
    expect(lists.map((u) => u.pathname)).toEqual(Array(3).fill('/v0.10/task_list'))
    expect(lists.map((u) => u.searchParams.get('limit'))).toEqual(['50', '50', '50'])
    expect(lists.map((u) => u.searchParams.get('fields'))).toEqual(Array(3).fill(taskFields))
    const asked = lists.map((u) => (u.searchParams.get('filter') ?? '').replace(/^task_id:/, '').split(','))
    expect(asked.map((chunk) => chunk.length)).toEqual([50, 50, 20])
    expect(asked.flat()).toEqual(ids)

    expect([...tasks.keys()].sort()).toEqual([...ids].sort())
    for (const [id, task] of tasks) {
      expect(task.task_id).toBe(id)
      expect(Object.keys(task).sort()).toEqual(taskFields.split(',').sort())
    }
  })

  it('splits a task_list chunk Globus refuses in halves, reads every task, and keeps the smaller size', async () => {
    const globus = await startGlobus(res, { maxFilterIds: 12 })
    const transfer = await recordingProxy(res, globus.url)
    const { client } = buildGlobus(res, { url: transfer.url })
    const ids = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => (await client.submitTransfer(await spec(client, { label: `job ${i}` }))).taskId)
    )
    transfer.requests.length = 0
    globus.sim.core.resetCounts()

    const tasks = await client.listTasks(ids)
    expect([...tasks.keys()].sort()).toEqual([...ids].sort())
    const sizes = transfer.requests.map((r) => (new URL(r.url, 'http://x').searchParams.get('filter') ?? '').split(',').length)
    // 50 refused, 25 refused, 13 refused, then chunks of 7 and 6
    expect(sizes.slice(0, 3)).toEqual([50, 25, 13])
    expect(sizes.slice(3).every((n) => n <= 7)).toBe(true)
    expect(client.chunkSize).toBe(7)
    expect(globus.sim.core.count('task')).toBe(0)

    // the next reading starts with the smaller size: nothing refused
    transfer.requests.length = 0
    globus.sim.core.resetCounts()
    expect((await client.listTasks(ids)).size).toBe(50)
    // seven chunks of 7 and the one id left over
    expect(globus.sim.core.count('task_list')).toBe(8)
    expect(globus.sim.core.count('task')).toBe(0)
  })

  it('falls back to one GET /task per id when Globus refuses even two ids in a filter', async () => {
    const globus = await startGlobus(res, { maxFilterIds: 1 })
    const { client } = buildGlobus(res, { url: globus.url })
    const ids = await Promise.all(Array.from({ length: 5 }, async () => (await client.submitTransfer(await spec(client))).taskId))
    globus.sim.core.resetCounts()
    const tasks = await client.listTasks(ids)
    expect([...tasks.keys()].sort()).toEqual([...ids].sort())
    expect(client.chunkSize).toBe(1)
    expect(globus.sim.core.count('task')).toBe(5)
    globus.sim.core.resetCounts()
    await client.listTasks(ids)
    expect(globus.sim.core.count('task_list')).toBe(0)
    expect(globus.sim.core.count('task')).toBe(5)
  })

  it('looks up an id the list left out with GET /task, and leaves it out when Globus does not know it', async () => {
    const { client, count } = await setup()
    const { taskId } = await client.submitTransfer(await spec(client))
    const tasks = await client.listTasks([taskId, UNKNOWN_TASK, taskId])
    expect([...tasks.keys()]).toEqual([taskId])
    expect(count('task_list')).toBe(1)
    expect(count('task')).toBe(1)
  })

  it('reads one task with the service fields, and 404 for an unknown one', async () => {
    const { client } = await setup()
    const { taskId } = await client.submitTransfer(await spec(client))
    const task = await client.getTask(taskId)
    expect(task).toMatchObject({ task_id: taskId, status: 'ACTIVE', fatal_error: null })
    expect(Object.keys(task).sort()).toEqual(taskFields.split(',').sort())
    const err = await failure(client.getTask(UNKNOWN_TASK))
    expect(err).toMatchObject({ status: 404, code: 'ClientError.NotFound', operation: 'task' })
  })

  it('cancels a task, reports TaskComplete for an ended one, and reads its events', async () => {
    const { client, sim } = await setup()
    const { taskId } = await client.submitTransfer(await spec(client))
    expect(await client.cancelTask(taskId)).toEqual({
      code: 'Canceled',
      message: 'The task has been cancelled successfully.',
    })
    expect(sim.task(taskId)).toMatchObject({ status: 'FAILED', fatal_error: { code: 'CANCELED' } })
    expect((await client.cancelTask(taskId)).code).toBe('TaskComplete')

    const events = await client.getEvents(taskId)
    expect(events).toEqual(sim.events(taskId).slice(0, 10))
    expect(events[0]).toMatchObject({ code: 'CANCELED', is_error: true })
    const all = sim.events(taskId)
    expect(await client.getEvents(taskId, { limit: 1, offset: all.length - 1 })).toEqual(all.slice(-1))
    // filter=is_error:1 leaves out the others
    expect(all.some((e) => !e.is_error)).toBe(true)
    expect(await client.getEvents(taskId, { errorsOnly: true })).toEqual(all.filter((e) => e.is_error).slice(0, 10))
  })

  it('cancels only existing tasks', async () => {
    const { client } = await setup()
    const err = await failure(client.cancelTask(UNKNOWN_TASK))
    expect(err).toMatchObject({ status: 404, operation: 'cancel' })
  })
})
