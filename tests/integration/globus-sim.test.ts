// The Globus simulator over real HTTP: auth, submission, progress with real copies, listing, faults.
import { existsSync } from 'node:fs'
import { lstat, mkdir, mkdtemp, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { GlobusSimulator, type GlobusSimOptions } from '../../src/sandbox/globus-sim/index.js'
import { ManualClock } from '../../src/sandbox/sim-core.js'

const SRC = 'aa752cea-8222-5bc8-acd9-555b090c0ccb'
const DST = '313ce13e-b597-5858-ae13-29e46fea26e6'
const GUARDED = '5b9bd3c4-2a7d-4d6c-9d83-1f5b1b6a0c11'
const GCS5 = '0c5f8e8e-7d1a-4f0e-9a55-3b7e0f0d9a21'
const GUEST = '9c3f6a1e-0d4b-4e8a-b7a2-6f1d2c3b4a5e'
const TRANSFER = 'urn:globus:auth:scope:transfer.api.globus.org:all'
const BASIC = `Basic ${Buffer.from('sandbox-client:sandbox-secret').toString('base64')}`
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

interface Reply {
  status: number
  headers: Headers
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON bodies read field by field
  body: Record<string, any>
}

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn()
})

async function tempDir (): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'globus-sim-'))
  cleanups.push(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** A listening simulator with SRC, DST (both take symlink items), GUARDED (needs consent) and GCS5 (no symlink items) on temp folders. */
async function start (options: GlobusSimOptions = {}) {
  const clock = new ManualClock()
  const src = await tempDir()
  const dst = await tempDir()
  const sim = new GlobusSimulator({
    clock,
    collections: {
      [SRC]: { root: src, symlinkItems: true },
      [DST]: { root: dst, symlinkItems: true },
      [GUARDED]: { root: dst, requireDataAccessConsent: true },
      [GCS5]: { root: dst },
    },
    ...options,
  })
  const { url } = await sim.listen()
  cleanups.push(() => sim.close())
  const call = async (
    method: string,
    path: string,
    init: { token?: string; body?: unknown; headers?: Record<string, string> } = {}
  ): Promise<Reply> => {
    const headers: Record<string, string> = { ...init.headers }
    if (init.token) headers.authorization = `Bearer ${init.token}`
    let body: string | undefined
    if (init.body !== undefined) {
      body = typeof init.body === 'string' ? init.body : JSON.stringify(init.body)
      headers['content-type'] ??= 'application/json'
    }
    const res = await fetch(`${url}${path}`, { method, headers, body })
    const text = await res.text()
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : {} }
  }
  const getToken = async (scope = TRANSFER): Promise<string> => {
    const res = await call('POST', '/v2/oauth2/token', {
      headers: { authorization: BASIC, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope }).toString(),
    })
    expect(res.status).toBe(200)
    return res.body.access_token as string
  }
  const submissionId = async (token: string): Promise<string> =>
    (await call('GET', '/v0.10/submission_id', { token })).body.value as string
  /** Submits a transfer SRC → DST (override any field); returns the reply. */
  const submit = async (token: string, fields: Record<string, unknown> = {}): Promise<Reply> =>
    call('POST', '/v0.10/transfer', {
      token,
      body: {
        DATA_TYPE: 'transfer',
        submission_id: await submissionId(token),
        source_endpoint: SRC,
        destination_endpoint: DST,
        label: 'SciCat job 1',
        DATA: [
          { DATA_TYPE: 'transfer_item', source_path: '/ds', destination_path: '/out/ds', recursive: true },
        ],
        ...fields,
      },
    })
  return { sim, clock, url, src, dst, call, getToken, submissionId, submit }
}

describe('token endpoint', () => {
  it('issues a bearer token for good client credentials, in the fixture shape', async () => {
    const { sim, call, clock } = await start()
    const scope = `${TRANSFER}[*https://auth.globus.org/scopes/${SRC}/data_access]`
    const res = await call('POST', '/v2/oauth2/token', {
      headers: { authorization: BASIC, 'content-type': 'application/x-www-form-urlencoded' },
      body: `grant_type=client_credentials&scope=${encodeURIComponent(scope)}`,
    })
    expect(res.status).toBe(200)
    expect(res.body).toEqual({
      access_token: expect.any(String),
      scope,
      expires_in: 172800,
      token_type: 'Bearer',
      resource_server: 'transfer.api.globus.org',
      other_tokens: [],
    })
    expect(sim.tokens()).toEqual([
      {
        token: res.body.access_token,
        clientId: 'sandbox-client',
        scope,
        expiresAt: clock.now() + 172_800_000,
      },
    ])
    expect(sim.core.count('token')).toBe(1)
  })

  it('answers one token per resource server: the first scope\'s at the top level, the others in other_tokens', async () => {
    const { sim, call } = await start()
    const transfer = `${TRANSFER}[*https://auth.globus.org/scopes/${SRC}/data_access]`
    const res = await call('POST', '/v2/oauth2/token', {
      headers: { authorization: BASIC, 'content-type': 'application/x-www-form-urlencoded' },
      body: `grant_type=client_credentials&scope=${encodeURIComponent(`openid ${transfer}`)}`,
    })
    expect(res.status).toBe(200)
    const shape = { access_token: expect.any(String), expires_in: 172800, token_type: 'Bearer' }
    expect(res.body).toEqual({
      ...shape,
      scope: 'openid',
      resource_server: 'auth.globus.org',
      other_tokens: [{ ...shape, scope: transfer, resource_server: 'transfer.api.globus.org' }],
    })
    // only the Transfer token is good at the Transfer API
    const listed = (token: string) => call('GET', '/v0.10/task_list', { headers: { authorization: `Bearer ${token}` } })
    expect((await listed(res.body.access_token)).status).toBe(401)
    expect((await listed(res.body.other_tokens[0].access_token)).status).toBe(200)
    expect(sim.tokens().map((t) => t.scope)).toEqual(['openid', transfer])
  })

  it('refuses the data_access scope of a collection that has none with Globus Auth\'s error, issuing nothing', async () => {
    const { sim, call } = await start({ collections: { [GUEST]: { root: await tempDir(), hasDataAccessScope: false } } })
    const scope = `${TRANSFER}[*https://auth.globus.org/scopes/${SRC}/data_access *https://auth.globus.org/scopes/${GUEST}/data_access]`
    const res = await call('POST', '/v2/oauth2/token', {
      headers: { authorization: BASIC, 'content-type': 'application/x-www-form-urlencoded' },
      body: `grant_type=client_credentials&scope=${encodeURIComponent(scope)}`,
    })
    expect(res.status).toBe(400)
    const detail = `client_id=sandbox-client requested unknown scopes: ['https://auth.globus.org/scopes/${GUEST}/data_access']`
    expect(res.body).toEqual({
      errors: [{ status: '400', id: expect.stringMatching(UUID), code: 'UNKNOWN_SCOPE_ERROR', detail, title: 'Unknown Scope' }],
      error: 'invalid_scope',
      error_description: detail,
    })
    expect(sim.tokens()).toEqual([])
  })

  it('refuses wrong or missing credentials and other grant types', async () => {
    const { call, sim } = await start()
    const form = { 'content-type': 'application/x-www-form-urlencoded' }
    const body = `grant_type=client_credentials&scope=${TRANSFER}`
    const wrong = `Basic ${Buffer.from('sandbox-client:nope').toString('base64')}`
    for (const headers of [{ ...form, authorization: wrong }, form]) {
      const res = await call('POST', '/v2/oauth2/token', { headers, body })
      expect(res.status).toBe(401)
      expect(res.body).toEqual({ error: 'invalid_client' })
    }
    const grant = await call('POST', '/v2/oauth2/token', {
      headers: { ...form, authorization: BASIC },
      body: 'grant_type=password&scope=x',
    })
    expect(grant.status).toBe(400)
    expect(grant.body).toEqual({ error: 'unsupported_grant_type' })
    expect(sim.tokens()).toEqual([])
  })

  it('tokens expire with the clock and revokeTokens() invalidates them', async () => {
    const { call, getToken, clock, sim } = await start({ tokenLifetimeSeconds: 60 })
    const token = await getToken()
    expect((await call('GET', '/v0.10/submission_id', { token })).status).toBe(200)
    clock.advance(59_999)
    expect((await call('GET', '/v0.10/submission_id', { token })).status).toBe(200)
    clock.advance(1)
    const expired = await call('GET', '/v0.10/submission_id', { token })
    expect(expired.status).toBe(401)
    expect(expired.body).toEqual({
      code: 'ClientError.AuthenticationFailed',
      message: expect.any(String),
      request_id: expect.any(String),
      resource: '/submission_id',
    })
    const fresh = await getToken()
    expect((await call('GET', '/v0.10/task_list', { token: fresh })).status).toBe(200)
    sim.revokeTokens()
    expect((await call('GET', '/v0.10/task_list', { token: fresh })).status).toBe(401)
    expect((await call('GET', '/v0.10/task_list')).status).toBe(401)
  })
})

describe('submission', () => {
  it('hands out submission ids', async () => {
    const { call, getToken, sim } = await start()
    const token = await getToken()
    const res = await call('GET', '/v0.10/submission_id', { token })
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ DATA_TYPE: 'submission_id', value: expect.stringMatching(UUID) })
    expect(sim.core.count('submission_id')).toBe(1)
  })

  it('accepts a transfer once and answers Duplicate with the same task for a repeat', async () => {
    const { call, getToken, submissionId, sim, src } = await start()
    await mkdir(join(src, 'ds'))
    const token = await getToken()
    const body = {
      DATA_TYPE: 'transfer',
      submission_id: await submissionId(token),
      source_endpoint: SRC,
      destination_endpoint: DST,
      label: 'SciCat job 42',
      verify_checksum: true,
      sync_level: 3,
      deadline: '2026-01-03T00:00:00+00:00',
      DATA: [
        { DATA_TYPE: 'transfer_item', source_path: '/ds', destination_path: '/out/ds', recursive: true },
      ],
    }
    const first = await call('POST', '/v0.10/transfer', { token, body })
    expect(first.status).toBe(202)
    expect(first.body).toEqual({
      DATA_TYPE: 'transfer_result',
      code: 'Accepted',
      message: expect.any(String),
      request_id: expect.any(String),
      resource: '/transfer',
      submission_id: body.submission_id,
      task_id: expect.stringMatching(UUID),
      task_link: {
        DATA_TYPE: 'link',
        href: `task/${first.body.task_id}?format=json`,
        rel: 'related',
        resource: 'task',
        title: 'related task',
      },
    })
    const again = await call('POST', '/v0.10/transfer', { token, body })
    expect(again.status).toBe(200)
    expect(again.body.code).toBe('Duplicate')
    expect(again.body.task_id).toBe(first.body.task_id)
    expect(sim.tasks()).toHaveLength(1)
    expect(sim.submission(first.body.task_id)).toEqual(body)
    expect(sim.taskIdForSubmission(body.submission_id)).toBe(first.body.task_id)
    const task = sim.task(first.body.task_id)!
    expect(task).toMatchObject({
      label: 'SciCat job 42',
      sync_level: 3,
      verify_checksum: true,
      deadline: '2026-01-03T00:00:00+00:00',
      request_time: '2026-01-01T00:00:00+00:00',
    })
    expect(sim.core.count('transfer')).toBe(2)
  })

  it('defaults the deadline to request time + 24 h', async () => {
    const { getToken, submit, sim, src } = await start()
    await mkdir(join(src, 'ds'))
    const res = await submit(await getToken(), { label: undefined })
    expect(sim.task(res.body.task_id)).toMatchObject({ deadline: '2026-01-02T00:00:00+00:00', label: null })
  })

  it('pushes a deadline Globus chose to 72 h after completed work and 24 h ahead while queued, never an explicit one (task_behavior §3)', async () => {
    const { getToken, submit, sim, src, clock } = await start({ bytesPerSecond: 1, minTaskMs: 0, runningTasksLimit: 1 })
    await mkdir(join(src, 'ds'))
    // two files of an hour each at 1 byte/s
    await writeFile(join(src, 'ds', 'a'), 'a'.repeat(3600))
    await writeFile(join(src, 'ds', 'b'), 'b'.repeat(3600))
    const token = await getToken()
    const running = (await submit(token)).body.task_id as string
    const queued = (await submit(token)).body.task_id as string
    const fixed = (await submit(token, { deadline: '2026-01-01T06:00:00+00:00' })).body.task_id as string
    expect(sim.task(running)?.deadline).toBe('2026-01-02T00:00:00+00:00')
    clock.advance(3_600_000 + 1000)
    // the first file is done (seen at the look 1 s later): 72 h after that
    expect(sim.task(running)?.deadline).toBe('2026-01-04T01:00:01+00:00')
    expect(sim.task(queued)?.deadline).toBe('2026-01-02T01:00:01+00:00')
    expect(sim.task(fixed)?.deadline).toBe('2026-01-01T06:00:00+00:00')
  })

  const item = {
    DATA_TYPE: 'transfer_item',
    source_path: '/ds',
    destination_path: '/out/ds',
    recursive: true,
  }
  const invalid: Array<[string, Record<string, unknown>, number, string, string?]> = [
    ['DATA_TYPE not transfer', { DATA_TYPE: 'delete' }, 400, 'ClientError.BadRequest'],
    ['missing submission_id', { submission_id: undefined }, 400, 'ClientError.BadRequest'],
    [
      'submission_id never issued',
      { submission_id: '8a7e2a52-1c35-4c1b-9d4f-3c3e8f0b9e11' },
      400,
      'ClientError.BadRequest',
    ],
    [
      'unknown source endpoint',
      { source_endpoint: 'c0ffee00-0000-0000-0000-000000000000' },
      404,
      'EndpointNotFound',
      "No such endpoint 'c0ffee00-0000-0000-0000-000000000000'",
    ],
    [
      'unknown destination endpoint',
      { destination_endpoint: 'dead0000-0000-0000-0000-000000000000' },
      404,
      'EndpointNotFound',
      "No such endpoint 'dead0000-0000-0000-0000-000000000000'",
    ],
    ['no items', { DATA: [] }, 400, 'ClientError.BadRequest.NoTransferItems'],
    ['unknown item type', { DATA: [{ ...item, DATA_TYPE: 'delete_item' }] }, 400, 'ClientError.BadRequest'],
    [
      'item without destination_path',
      { DATA: [{ ...item, destination_path: undefined }] },
      400,
      'ClientError.BadRequest',
    ],
    ['label longer than 128', { label: 'x'.repeat(129) }, 400, 'ClientError.BadRequest'],
    ['label with a line break', { label: 'a\nb' }, 400, 'ClientError.BadRequest'],
    ['label with a carriage return', { label: 'a\rb' }, 400, 'ClientError.BadRequest'],
    ['label with leading whitespace', { label: ' job' }, 400, 'ClientError.BadRequest'],
    ['label with trailing whitespace', { label: 'job ' }, 400, 'ClientError.BadRequest'],
    ['deadline not a date', { deadline: 'tomorrow' }, 400, 'ClientError.BadRequest'],
    ['deadline in the past', { deadline: '2025-12-31T00:00:00+00:00' }, 400, 'ClientError.BadRequest'],
    ['sync_level out of range', { sync_level: 4 }, 400, 'ClientError.BadRequest'],
    [
      'a recursive symlink item',
      { DATA: [{ DATA_TYPE: 'transfer_symlink_item', source_path: '/l', destination_path: '/l', recursive: true }] },
      400,
      'ClientError.BadRequest',
    ],
  ]
  it.each(invalid)('rejects %s', async (_name, fields, status, code, message) => {
    const { getToken, submit, sim } = await start()
    const res = await submit(await getToken(), fields)
    expect(res.status).toBe(status)
    expect(res.body).toEqual({
      code,
      message: message ?? expect.any(String),
      request_id: expect.any(String),
      resource: '/transfer',
    })
    expect(sim.tasks()).toEqual([])
  })

  it('rejects a body that is not JSON, and the submission id stays usable', async () => {
    const { getToken, submissionId, call, submit } = await start()
    const token = await getToken()
    const sid = await submissionId(token)
    const res = await call('POST', '/v0.10/transfer', { token, body: `{"DATA_TYPE":"transfer","submission_id":"${sid}"` })
    expect(res.status).toBe(400)
    expect(res.body.code).toBe('ClientError.BadRequest')
    expect((await submit(token, { submission_id: sid })).status).toBe(202)
  })

  it('accepts a label of exactly 128 characters', async () => {
    const { getToken, submit } = await start()
    expect((await submit(await getToken(), { label: 'x'.repeat(128) })).status).toBe(202)
  })

  it('asks for data_access consent on a guarded collection, and accepts a token that has it', async () => {
    const { getToken, submit, sim } = await start()
    const plain = await submit(await getToken(), { destination_endpoint: GUARDED })
    expect(plain.status).toBe(403)
    expect(plain.body).toEqual({
      code: 'ConsentRequired',
      message: expect.any(String),
      request_id: expect.any(String),
      required_scopes: [`${TRANSFER}[*https://auth.globus.org/scopes/${GUARDED}/data_access]`],
      resource: '/transfer',
    })
    expect(sim.tasks()).toEqual([])
    const consented = await getToken(`${TRANSFER}[*https://auth.globus.org/scopes/${GUARDED}/data_access]`)
    expect((await submit(consented, { destination_endpoint: GUARDED })).status).toBe(202)
  })

  it('refuses submissions past maxPendingTasks, but still answers Duplicate', async () => {
    const { getToken, submit, call, clock, sim, src } = await start({ maxPendingTasks: 1 })
    await mkdir(join(src, 'ds'))
    const token = await getToken()
    const first = await submit(token)
    expect(first.status).toBe(202)
    const refused = await submit(token)
    expect(refused.status).toBe(409)
    expect(refused.body).toMatchObject({
      code: 'Conflict',
      message: 'Too many pending tasks (limit 1) for this identity',
    })
    const repeat = await call('POST', '/v0.10/transfer', { token, body: sim.submission(first.body.task_id) })
    expect(repeat.body).toMatchObject({ code: 'Duplicate', task_id: first.body.task_id })
    expect(sim.unfinishedCount()).toBe(1)
    clock.advance(1000)
    expect(sim.unfinishedCount()).toBe(0)
    expect((await submit(token)).status).toBe(202)
  })
})

/** ds/a.txt (100 B), ds/sub/b.bin (300 B), ds/sub/deeper/c.txt (600 B), ds/link → sub/b.bin */
async function dataset (src: string): Promise<void> {
  await mkdir(join(src, 'ds', 'sub', 'deeper'), { recursive: true })
  await writeFile(join(src, 'ds', 'a.txt'), 'a'.repeat(100))
  await writeFile(join(src, 'ds', 'sub', 'b.bin'), Buffer.alloc(300, 7))
  await writeFile(join(src, 'ds', 'sub', 'deeper', 'c.txt'), 'c'.repeat(600))
  await symlink('sub/b.bin', join(src, 'ds', 'link'))
}

describe('items Globus cannot copy as sent', () => {
  it('refuses transfer_symlink_item when a collection does not support symlink items (GCSv5)', async () => {
    const { getToken, submit, src } = await start()
    await dataset(src)
    const token = await getToken()
    const res = await submit(token, {
      destination_endpoint: GCS5,
      DATA: [
        { DATA_TYPE: 'transfer_item', source_path: '/ds/a.txt', destination_path: '/out/a.txt' },
        { DATA_TYPE: 'transfer_symlink_item', source_path: '/ds/link', destination_path: '/out/link' },
      ],
    })
    expect(res.status).toBe(400)
    expect(res.body).toMatchObject({ code: 'ClientError.BadRequest', message: expect.stringContaining(`DATA[1]: transfer_symlink_item is not supported by collection '${GCS5}'`) })
  })

  it('a non-recursive item naming a directory: the task cannot copy it and shows FILE_NOT_FOUND', async () => {
    const { getToken, submit, call, clock, src } = await start({ bytesPerSecond: 100 })
    await dataset(src)
    const token = await getToken()
    const res = await submit(token, {
      DATA: [{ DATA_TYPE: 'transfer_item', source_path: '/ds/sub', destination_path: '/out/sub' }],
    })
    expect(res.status).toBe(202)
    clock.advance(2000)
    const task = (await call('GET', `/v0.10/task/${res.body.task_id as string}`, { token })).body
    expect(task).toMatchObject({ status: 'ACTIVE', nice_status: 'FILE_NOT_FOUND', files_transferred: 0 })
    expect(task.nice_status_details).toContain('Is a directory (item not recursive): /ds/sub')
  })
})

describe('task progress', () => {
  it('copies a folder tree and a symlink item at the configured speed, then succeeds', async () => {
    const { getToken, submit, call, clock, sim, src, dst } = await start({ bytesPerSecond: 100 })
    await dataset(src)
    const token = await getToken()
    const res = await submit(token, {
      DATA: [
        { DATA_TYPE: 'transfer_item', source_path: '/ds/', destination_path: '/out/ds/', recursive: true },
        { DATA_TYPE: 'transfer_symlink_item', source_path: '/ds/link', destination_path: '/out/ds/link' },
      ],
    })
    const id = res.body.task_id as string
    const get = async () => (await call('GET', `/v0.10/task/${id}`, { token })).body
    const out = (...p: string[]) => join(dst, 'out', 'ds', ...p)

    const t0 = await get()
    expect(t0).toMatchObject({
      DATA_TYPE: 'task',
      task_id: id,
      type: 'TRANSFER',
      status: 'ACTIVE',
      nice_status: 'OK',
      is_ok: true,
      label: 'SciCat job 1',
      source_endpoint_id: SRC,
      destination_endpoint_id: DST,
      files: 3,
      directories: 3,
      symlinks: 1,
      files_transferred: 0,
      bytes_transferred: 0,
      completion_time: null,
      fatal_error: null,
      owner_id: 'sandbox-client',
      username: 'sandbox-client@clients.auth.globus.org',
    })
    expect(existsSync(out())).toBe(true) // folders are created as soon as they are reached
    expect(existsSync(out('a.txt'))).toBe(false)

    clock.advance(1000)
    expect(await get()).toMatchObject({ bytes_transferred: 100, files_transferred: 1 })
    expect(await readFile(out('a.txt'), 'utf8')).toBe('a'.repeat(100))
    expect(existsSync(out('sub', 'b.bin'))).toBe(false)

    clock.advance(2500)
    await sim.tick()
    expect(sim.task(id)).toMatchObject({ bytes_transferred: 350, files_transferred: 1, status: 'ACTIVE' })
    expect(existsSync(out('sub', 'b.bin'))).toBe(false)

    clock.advance(500)
    await sim.tick()
    expect(sim.task(id)).toMatchObject({ bytes_transferred: 400, files_transferred: 2 })
    expect(await readFile(out('sub', 'b.bin'))).toEqual(Buffer.alloc(300, 7))
    expect(existsSync(out('sub', 'deeper', 'c.txt'))).toBe(false)

    clock.advance(60_000) // far past the end: completion time is still exact
    const done = await get()
    expect(done).toMatchObject({
      status: 'SUCCEEDED',
      completion_time: '2026-01-01T00:00:10+00:00',
      nice_status: null,
      nice_status_short_description: null,
      nice_status_expires_in: null,
      is_ok: null,
      files_transferred: 3,
      bytes_transferred: 1000,
      effective_bytes_per_second: 100,
      subtasks_pending: 0,
      fatal_error: null,
    })
    expect(await readFile(out('sub', 'deeper', 'c.txt'), 'utf8')).toBe('c'.repeat(600))
    expect(await readlink(out('link'))).toBe('sub/b.bin')
    expect((await lstat(out('link'))).isSymbolicLink()).toBe(true)
    const events = await call('GET', `/v0.10/task/${id}/event_list`, { token })
    expect(events.body.DATA.map((e: { code: string }) => e.code)).toEqual(['SUCCEEDED', 'STARTED'])
  })

  it('copies symlinks inside a recursive item only with recursive_symlinks keep', async () => {
    const { getToken, submit, clock, sim, src, dst } = await start()
    await dataset(src)
    const token = await getToken()
    const ignore = await submit(token, {
      DATA: [{ DATA_TYPE: 'transfer_item', source_path: '/ds', destination_path: '/i', recursive: true }],
    })
    const keep = await submit(token, {
      recursive_symlinks: 'keep',
      DATA: [{ DATA_TYPE: 'transfer_item', source_path: '/ds', destination_path: '/k', recursive: true }],
    })
    clock.advance(1000)
    expect(sim.task(ignore.body.task_id)).toMatchObject({ status: 'SUCCEEDED', symlinks: 0 })
    expect(sim.task(keep.body.task_id)).toMatchObject({
      status: 'SUCCEEDED',
      symlinks: 1,
      recursive_symlinks: 'keep',
    })
    expect(existsSync(join(dst, 'i', 'link'))).toBe(false)
    expect(await readlink(join(dst, 'k', 'link'))).toBe('sub/b.bin')
  })

  it('never finishes faster than minTaskMs', async () => {
    const { getToken, submit, clock, sim, src } = await start({ minTaskMs: 5000 })
    await dataset(src)
    const res = await submit(await getToken())
    clock.advance(4999)
    expect(sim.task(res.body.task_id)).toMatchObject({
      status: 'ACTIVE',
      bytes_transferred: 1000,
      files_transferred: 3,
    })
    clock.advance(1)
    expect(sim.task(res.body.task_id)).toMatchObject({
      status: 'SUCCEEDED',
      completion_time: '2026-01-01T00:00:05+00:00',
    })
  })

  it('queues tasks beyond runningTasksLimit and starts them the moment a slot frees', async () => {
    const { getToken, submit, clock, sim, src } = await start({ bytesPerSecond: 100, runningTasksLimit: 1 })
    await dataset(src)
    const token = await getToken()
    const first = (await submit(token)).body.task_id
    const second = (await submit(token)).body.task_id
    clock.advance(5000)
    expect(sim.task(second)).toMatchObject({
      status: 'ACTIVE',
      nice_status: 'Queued',
      is_ok: true,
      bytes_transferred: 0,
    })
    clock.advance(20_000)
    expect(sim.task(first)).toMatchObject({
      status: 'SUCCEEDED',
      completion_time: '2026-01-01T00:00:10+00:00',
    })
    expect(sim.task(second)).toMatchObject({
      status: 'SUCCEEDED',
      completion_time: '2026-01-01T00:00:20+00:00',
    })
  })

  it('skips files the destination already has under sync_level', async () => {
    const { getToken, submit, clock, sim, src, dst } = await start()
    await dataset(src)
    await mkdir(join(dst, 'out', 'ds'), { recursive: true })
    await writeFile(join(dst, 'out', 'ds', 'a.txt'), 'a'.repeat(100))
    const res = await submit(await getToken(), { sync_level: 3 })
    clock.advance(1000)
    expect(sim.task(res.body.task_id)).toMatchObject({
      files: 3,
      files_skipped: 1,
      files_transferred: 2,
      bytes_transferred: 900,
    })
  })

  it('reports a missing source as FILE_NOT_FOUND and fails it at the deadline', async () => {
    const { getToken, submit, call, clock } = await start()
    const token = await getToken()
    const res = await submit(token, { deadline: '2026-01-01T02:00:00+00:00' })
    const get = async () => (await call('GET', `/v0.10/task/${res.body.task_id}`, { token })).body
    clock.advance(3_600_000)
    expect(await get()).toMatchObject({
      status: 'ACTIVE',
      nice_status: 'FILE_NOT_FOUND',
      is_ok: false,
      bytes_transferred: 0,
      fatal_error: null,
    })
    clock.advance(3_600_000)
    expect(await get()).toMatchObject({
      status: 'FAILED',
      fatal_error: { code: 'FILE_NOT_FOUND', description: 'file not found' },
      completion_time: '2026-01-01T02:00:00+00:00',
      nice_status: null,
    })
    const events = await call('GET', `/v0.10/task/${res.body.task_id}/event_list`, { token })
    expect(events.body.DATA.map((e: { code: string }) => e.code)).toEqual([
      'FILE_NOT_FOUND',
      'FILE_NOT_FOUND',
      'STARTED',
    ])
    expect(events.body.DATA[2]).toMatchObject({ DATA_TYPE: 'event', description: 'started', is_error: false })
  })

  it('resumes when a missing source appears before the deadline', async () => {
    const { getToken, submit, clock, sim, src } = await start()
    const res = await submit(await getToken())
    clock.advance(5000)
    expect(sim.task(res.body.task_id)?.nice_status).toBe('FILE_NOT_FOUND')
    await dataset(src)
    await sim.tick()
    clock.advance(1000)
    expect(sim.task(res.body.task_id)).toMatchObject({ status: 'SUCCEEDED', files_transferred: 3 })
  })

  it('treats a path outside the collection root as PERMISSION_DENIED', async () => {
    const { getToken, submit, clock, sim, src } = await start()
    await dataset(src)
    const res = await submit(await getToken(), {
      DATA: [
        { DATA_TYPE: 'transfer_item', source_path: '/ds/../../etc', destination_path: '/x', recursive: true },
      ],
    })
    clock.advance(10_000)
    expect(sim.task(res.body.task_id)).toMatchObject({
      status: 'ACTIVE',
      nice_status: 'PERMISSION_DENIED',
      is_ok: false,
    })
  })
})

describe('control API', () => {
  it('setNiceStatus and setInactive stop progress; failTask ends the task', async () => {
    const { getToken, submit, clock, sim, src } = await start({ bytesPerSecond: 100 })
    await dataset(src)
    const token = await getToken()
    const id = (await submit(token)).body.task_id
    clock.advance(1000)
    sim.setNiceStatus(id, 'PERMISSION_DENIED')
    clock.advance(5000)
    expect(sim.task(id)).toMatchObject({
      nice_status: 'PERMISSION_DENIED',
      is_ok: false,
      bytes_transferred: 100,
    })
    sim.setNiceStatus(id, null)
    clock.advance(1000)
    expect(sim.task(id)).toMatchObject({ nice_status: 'OK', is_ok: true, bytes_transferred: 200 })
    sim.setInactive(id)
    clock.advance(5000)
    expect(sim.task(id)).toMatchObject({ status: 'INACTIVE', bytes_transferred: 200 })
    sim.setBytesPerSecond(1000)
    sim.setActive(id)
    clock.advance(100)
    expect(sim.task(id)).toMatchObject({ status: 'ACTIVE', bytes_transferred: 300 })
    sim.failTask(id, { code: 'ENDPOINT_ERROR', description: 'endpoint error' })
    expect(sim.task(id)).toMatchObject({
      status: 'FAILED',
      fatal_error: { code: 'ENDPOINT_ERROR', description: 'endpoint error' },
    })
    expect(sim.unfinishedCount()).toBe(0)
    expect(() => sim.failTask(id, { code: 'X', description: 'x' })).toThrow(/already ended/)
  })
})

describe('cancel', () => {
  it('cancels a running task, and answers TaskComplete for a finished one', async () => {
    const { getToken, submit, call, clock, src } = await start({ bytesPerSecond: 100 })
    await dataset(src)
    const token = await getToken()
    const running = (await submit(token)).body.task_id
    const finished = (
      await submit(token, {
        DATA: [{ DATA_TYPE: 'transfer_item', source_path: '/ds/a.txt', destination_path: '/a.txt' }],
      })
    ).body.task_id
    clock.advance(2000)
    const res = await call('POST', `/v0.10/task/${running}/cancel`, { token })
    expect(res.status).toBe(200)
    expect(res.body).toEqual({
      DATA_TYPE: 'result',
      code: 'Canceled',
      message: 'The task has been cancelled successfully.',
      resource: `/task/${running}/cancel`,
      request_id: expect.any(String),
    })
    clock.advance(60_000)
    const task = (await call('GET', `/v0.10/task/${running}`, { token })).body
    expect(task).toMatchObject({
      status: 'FAILED',
      fatal_error: { code: 'CANCELED', description: 'canceled' },
      completion_time: '2026-01-01T00:00:02+00:00',
      bytes_transferred: 200,
      subtasks_pending: 0,
    })
    expect(task.subtasks_canceled).toBeGreaterThan(0)
    const events = (await call('GET', `/v0.10/task/${running}/event_list`, { token })).body
    expect(events.DATA[0]).toEqual({
      DATA_TYPE: 'event',
      code: 'CANCELED',
      description: 'canceled',
      details: expect.any(String),
      is_error: true,
      time: '2026-01-01T00:00:02+00:00',
    })
    for (const id of [running, finished]) {
      const again = await call('POST', `/v0.10/task/${id}/cancel`, { token })
      expect(again.status).toBe(200)
      expect(again.body.code).toBe('TaskComplete')
      expect(again.body.message).toMatch(/completed before the cancel/)
    }
    const unknown = await call('POST', '/v0.10/task/0b8c9a3e-0000-4000-8000-000000000000/cancel', { token })
    expect(unknown.status).toBe(404)
    expect(unknown.body.code).toBe('ClientError.NotFound')
  })
})

describe('task and task_list', () => {
  it('answers 404 ClientError.NotFound for an unknown task', async () => {
    const { getToken, call } = await start()
    const res = await call('GET', '/v0.10/task/0b8c9a3e-0000-4000-8000-000000000000', {
      token: await getToken(),
    })
    expect(res.status).toBe(404)
    expect(res.body).toMatchObject({ code: 'ClientError.NotFound', request_id: expect.any(String) })
  })

  it('pages 10 by default, newest first, filters by id, status, type and label, and selects fields', async () => {
    const { getToken, submit, call, clock, sim, src } = await start({ minTaskMs: 30_000 })
    await dataset(src)
    const token = await getToken()
    const ids: string[] = []
    for (let i = 1; i <= 12; i++) {
      ids.push((await submit(token, { label: `job-${i}` })).body.task_id)
      clock.advance(1000)
    }
    sim.setNiceStatus(ids[0]!, null)
    clock.advance(19_000) // job-1 and job-2 have run 30 s
    const list = async (query: string) => await call('GET', `/v0.10/task_list${query}`, { token })

    const page = await list('')
    expect(page.status).toBe(200)
    expect(page.body).toMatchObject({ DATA_TYPE: 'task_list', length: 10, limit: 10, offset: 0, total: 12 })
    expect(page.body.DATA.map((t: { label: string }) => t.label)).toEqual(
      [12, 11, 10, 9, 8, 7, 6, 5, 4, 3].map((i) => `job-${i}`)
    )
    const rest = await list('?offset=10')
    expect(rest.body.DATA.map((t: { label: string }) => t.label)).toEqual(['job-2', 'job-1'])

    const byId = await list(`?filter=task_id:${ids[0]},${ids[5]}&limit=50`)
    expect(byId.body.total).toBe(2)
    expect(byId.body.DATA.map((t: { task_id: string }) => t.task_id).sort()).toEqual([ids[0], ids[5]].sort())

    const succeeded = await list('?filter=status:SUCCEEDED/type:TRANSFER')
    expect(succeeded.body.DATA.map((t: { label: string }) => t.label)).toEqual(['job-2', 'job-1'])
    expect((await list('?filter=status:ACTIVE,INACTIVE')).body.total).toBe(10)
    expect((await list('?filter=type:DELETE')).body.total).toBe(0)

    expect((await list('?filter=label:=job-3')).body.DATA.map((t: { label: string }) => t.label)).toEqual([
      'job-3',
    ])
    expect((await list('?filter=label:=JOB-3')).body.total).toBe(0)
    const wild = await list('?filter=label:~JOB-1*')
    expect(wild.body.DATA.map((t: { label: string }) => t.label)).toEqual([
      'job-12',
      'job-11',
      'job-10',
      'job-1',
    ])

    const fields = await list(`?filter=task_id:${ids[0]}&fields=task_id,status,bytes_transferred`)
    expect(fields.body.DATA).toEqual([{ task_id: ids[0], status: 'SUCCEEDED', bytes_transferred: 1000 }])

    const fiftyOne = Array.from(
      { length: 51 },
      (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`
    )
    const tooMany = await list(`?filter=task_id:${fiftyOne.join(',')}`)
    expect(tooMany.status).toBe(400)
    expect(tooMany.body).toMatchObject({ code: 'ClientError.BadRequest', resource: '/task_list' })
    expect((await list(`?filter=task_id:${fiftyOne.slice(1).join(',')}`)).status).toBe(200)

    expect((await list('?limit=1000')).status).toBe(200)
    expect((await list('?limit=1001')).status).toBe(400)
    expect((await list('?offset=995&limit=10')).status).toBe(400)
    expect((await list('?filter=owner:me')).status).toBe(400)
  })

  it('fields= answers the same values as the whole documents, whatever fields its filter and order read', async () => {
    const { getToken, submit, call, clock, sim, src } = await start({ minTaskMs: 30_000 })
    await dataset(src)
    const token = await getToken()
    const ids: string[] = []
    for (const label of ['job-2', 'job-4', 'job-1', 'job-3']) {
      ids.push((await submit(token, { label })).body.task_id)
      clock.advance(1000)
    }
    sim.setNiceStatus(ids[1]!, 'PERMISSION_DENIED')
    clock.advance(40_000)
    const wanted = ['task_id', 'status', 'nice_status', 'nice_status_short_description', 'fatal_error', 'files', 'files_skipped', 'files_transferred', 'bytes_transferred', 'effective_bytes_per_second', 'completion_time', 'subtasks_pending', 'no_such_field']
    const whole = new Map<string, Record<string, unknown>>()
    for (const id of ids) whole.set(id, (await call('GET', `/v0.10/task/${id}`, { token })).body)
    const res = await call('GET', `/v0.10/task_list?filter=task_id:${ids.join(',')}/label:~job-*&orderby=label ASC&limit=50&fields=${wanted.join(',')}`, { token })
    expect(res.status).toBe(200)
    // filtered and ordered by a field it was not asked for, and does not show
    expect(res.body.DATA.map((t: { task_id: string }) => t.task_id)).toEqual([ids[2], ids[0], ids[3], ids[1]])
    for (const doc of res.body.DATA as Array<Record<string, unknown>>) {
      const full = whole.get(doc.task_id as string)!
      expect(doc).toEqual(Object.fromEntries(wanted.filter((f) => f in full).map((f) => [f, full[f]])))
    }
    expect(res.body.DATA.some((t: { status: string }) => t.status === 'SUCCEEDED')).toBe(true)
    expect(res.body.DATA.some((t: { nice_status: string }) => t.nice_status === 'PERMISSION_DENIED')).toBe(true)
  })

  it('shows a task only to the client identity that submitted it', async () => {
    const { getToken, submit, call, src } = await start({
      clients: { 'sandbox-client': 'sandbox-secret', other: 'other-secret' },
    })
    await dataset(src)
    const id = (await submit(await getToken())).body.task_id
    const res = await call('POST', '/v2/oauth2/token', {
      headers: {
        authorization: `Basic ${Buffer.from('other:other-secret').toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: `grant_type=client_credentials&scope=${TRANSFER}`,
    })
    const other = res.body.access_token as string
    expect((await call('GET', `/v0.10/task/${id}`, { token: other })).status).toBe(404)
    expect((await call('GET', '/v0.10/task_list', { token: other })).body.total).toBe(0)
  })
})

describe('event_list', () => {
  it('pages events newest first', async () => {
    const { getToken, submit, call, clock, sim, src } = await start()
    await dataset(src)
    const token = await getToken()
    const id = (await submit(token)).body.task_id
    sim.setNiceStatus(id, 'PERMISSION_DENIED')
    clock.advance(1000)
    sim.setNiceStatus(id, null)
    clock.advance(1000)
    const all = await call('GET', `/v0.10/task/${id}/event_list`, { token })
    expect(all.body).toMatchObject({ DATA_TYPE: 'event_list', length: 3, limit: 10, offset: 0, total: 3 })
    expect(all.body.DATA.map((e: { code: string; time: string }) => [e.code, e.time])).toEqual([
      ['SUCCEEDED', '2026-01-01T00:00:01+00:00'], // 1 ms after the pause ended
      ['PERMISSION_DENIED', '2026-01-01T00:00:00+00:00'],
      ['STARTED', '2026-01-01T00:00:00+00:00'],
    ])
    const second = await call('GET', `/v0.10/task/${id}/event_list?limit=1&offset=1`, { token })
    expect(second.body).toMatchObject({
      length: 1,
      limit: 1,
      offset: 1,
      total: 3,
      DATA: [{ code: 'PERMISSION_DENIED', is_error: true }],
    })
    expect(sim.core.count('event_list')).toBe(2)
  })
})

describe('faults and counts', () => {
  it('injects 503 with Retry-After for the given number of calls, then answers normally', async () => {
    const { getToken, call, sim } = await start()
    const token = await getToken()
    sim.core.inject('task_list', { status: 503, retryAfter: 1, times: 2 })
    for (let i = 0; i < 2; i++) {
      const res = await call('GET', '/v0.10/task_list', { token })
      expect(res.status).toBe(503)
      expect(res.headers.get('retry-after')).toBe('1')
      expect(res.body).toMatchObject({
        code: 'ServiceUnavailable',
        message: expect.any(String),
        request_id: expect.any(String),
      })
    }
    expect((await call('GET', '/v0.10/task_list', { token })).status).toBe(200)
    expect(sim.core.count('task_list')).toBe(3)
  })

  it('drops the connection for a networkError fault', async () => {
    const { getToken, call, sim, submit, src } = await start()
    await dataset(src)
    const token = await getToken()
    const id = (await submit(token)).body.task_id
    sim.core.inject('task', { networkError: true })
    await expect(call('GET', `/v0.10/task/${id}`, { token })).rejects.toThrow()
    expect((await call('GET', `/v0.10/task/${id}`, { token })).status).toBe(200)
    expect(sim.core.count('task')).toBe(2)
  })

  it('fails a submission with an injected error without creating a task', async () => {
    const { getToken, submit, sim, src } = await start()
    await dataset(src)
    const token = await getToken()
    sim.core.inject('transfer', {
      status: 502,
      body: {
        code: 'ExternalError.DirListingFailed.GCDisconnected',
        message: 'x',
        request_id: 'r',
        resource: '/transfer',
      },
    })
    const res = await submit(token)
    expect(res.status).toBe(502)
    expect(res.body.code).toBe('ExternalError.DirListingFailed.GCDisconnected')
    expect(sim.tasks()).toEqual([])
    expect((await submit(token)).status).toBe(202)
  })

  it('stops serving after close()', async () => {
    const sim = new GlobusSimulator({ clock: new ManualClock() })
    const { url } = await sim.listen()
    expect((await fetch(`${url}/v0.10/task_list`)).status).toBe(401)
    await sim.close()
    await expect(fetch(`${url}/v0.10/task_list`)).rejects.toThrow()
  })
})
