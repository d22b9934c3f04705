// The upstream HTTP layer over real HTTP to the simulators: retry rules, Retry-After, timeouts, error shapes, observe.
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import type { HttpClientOptions, HttpRequest } from '../../src/http/client.js'
import { UpstreamError } from '../../src/http/upstream-error.js'
import {
  buildGlobus,
  buildScicat,
  CLIENT_ID,
  CLIENT_SECRET,
  DST,
  Resources,
  SRC,
  startGlobus,
  startScicat,
} from '../helpers/upstreams.js'

const res = new Resources()
afterEach(() => res.close())

interface Attempt {
  service: string
  operation: string
  status: number | 'error'
  durationMs: number
}

/** A Globus simulator, an HttpClient on it that records attempts, and a valid bearer token. */
async function setup (options: Partial<HttpClientOptions> = {}) {
  const globus = await startGlobus(res)
  const attempts: Attempt[] = []
  const http = res.http({
    service: 'globus',
    baseUrl: globus.url,
    observe: (a) => attempts.push(a),
    ...options,
  })
  const basic = Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')
  const token = await http.send<{ access_token: string }>({
    operation: 'token',
    method: 'POST',
    path: '/v2/oauth2/token',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
    retry: false,
  })
  attempts.length = 0
  globus.sim.core.resetCounts()
  /** GET /v0.10/submission_id, counted by the simulator as `submission_id`. */
  const submissionId = (extra: Partial<HttpRequest> = {}) =>
    http.send<{ value: string }>({
      operation: 'submission_id',
      method: 'GET',
      path: '/v0.10/submission_id',
      headers: { authorization: `Bearer ${token.body.access_token}` },
      retry: true,
      ...extra,
    })
  const count = () => globus.sim.core.count('submission_id')
  return { ...globus, http, attempts, submissionId, count }
}

async function failure (promise: Promise<unknown>): Promise<UpstreamError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e
  )
  expect(err).toBeInstanceOf(UpstreamError)
  return err as UpstreamError
}

describe('retry rules', () => {
  it('retries dropped connections and reports them as attempts without a status', async () => {
    const { sim, submissionId, count, attempts } = await setup()
    sim.core.inject('submission_id', { networkError: true, times: 2 })
    const reply = await submissionId()
    expect(reply.status).toBe(200)
    expect(reply.body.value).toMatch(/^[0-9a-f-]{36}$/)
    expect(count()).toBe(3)
    expect(attempts.map((a) => a.status)).toEqual(['error', 'error', 200])
  })

  it.each([429, 500, 502, 503, 504])('retries HTTP %i', async (status) => {
    const { sim, submissionId, count } = await setup()
    sim.core.inject('submission_id', { status })
    expect((await submissionId()).status).toBe(200)
    expect(count()).toBe(2)
  })

  it.each([400, 401, 403, 404, 409])('does not retry HTTP %i', async (status) => {
    const { sim, submissionId, count } = await setup()
    sim.core.inject('submission_id', { status, times: 3 })
    const err = await failure(submissionId())
    expect(err.status).toBe(status)
    expect(err.transient).toBe(false)
    expect(count()).toBe(1)
  })

  it.each([
    [502, 'ExternalError.DirListingFailed.GCDisconnected'],
    [502, 'EndpointError'],
    [500, 'ExternalError.MkdirFailed'],
  ])('does not retry a Globus %i with code %s', async (status, code) => {
    const { sim, submissionId, count } = await setup()
    sim.core.inject('submission_id', { status, body: { code, message: 'endpoint trouble', request_id: 'abc' }, times: 3 })
    const err = await failure(submissionId())
    expect(err.status).toBe(status)
    expect(err.code).toBe(code)
    expect(count()).toBe(1)
  })

  it('retries a Globus 503 even when its code names an ExternalError', async () => {
    const { sim, submissionId, count } = await setup()
    sim.core.inject('submission_id', {
      status: 503,
      body: { code: 'ExternalError.DirListingFailed.GCDisconnected', message: 'disconnected' },
    })
    expect((await submissionId()).status).toBe(200)
    expect(count()).toBe(2)
  })

  it('applies the ExternalError exception to Globus only: the same 502 from SciCat is retried', async () => {
    const { sim, submissionId, count } = await setup({ service: 'scicat' })
    sim.core.inject('submission_id', { status: 502, body: { code: 'ExternalError.X', message: 'x' } })
    expect((await submissionId()).status).toBe(200)
    expect(count()).toBe(2)
  })

  it('sends a request marked retry: false exactly once', async () => {
    const { sim, submissionId, count } = await setup()
    sim.core.inject('submission_id', { status: 503, times: 3 })
    expect((await failure(submissionId({ retry: false }))).status).toBe(503)
    expect(count()).toBe(1)
  })

  it('does not repeat the SciCat job POST on a 503, but repeats the Globus transfer POST', async () => {
    const scicat = await startScicat(res, {
      users: [{ username: 'globus-proxy', password: 'proxy-pw', email: 'proxy@example.org', groups: ['admin'] }],
      datasets: [{ pid: 'pid-1', ownerGroup: 'p1', sourceFolder: '/data/p1' }],
    })
    scicat.sim.core.inject('createJob', { status: 503, times: 3 })
    const { client: sc } = buildScicat(res, { url: scicat.url })
    const job = { type: 'globus_transfer_job', ownerGroup: 'p1', jobParams: { datasetList: [{ pid: 'pid-1', files: [] }] } }
    expect((await failure(sc.createJob(job))).status).toBe(503)
    expect(scicat.sim.core.count('createJob')).toBe(1)
    expect(scicat.sim.jobs()).toEqual([])

    const globus = await startGlobus(res)
    const { client: gc } = buildGlobus(res, { url: globus.url })
    const submissionId = await gc.getSubmissionId()
    globus.sim.core.inject('transfer', { status: 503, times: 2 })
    const result = await gc.submitTransfer({
      submissionId,
      facilities: ['src', 'dst'],
      sourceCollection: SRC,
      destinationCollection: DST,
      label: 'job 1',
      items: [{ sourcePath: '/ds', destinationPath: '/out/ds', recursive: true }],
      verifyChecksum: true,
    })
    expect(result.code).toBe('Accepted')
    expect(globus.sim.core.count('transfer')).toBe(3)
    expect(globus.sim.tasks().map((t) => t.task_id)).toEqual([result.taskId])
  })

  it('gives up after 5 retries (6 attempts) and surfaces the last error', async () => {
    const { sim, submissionId, count, attempts } = await setup()
    sim.core.inject('submission_id', { status: 503, times: 10 })
    const err = await failure(submissionId())
    expect(err.status).toBe(503)
    expect(err.operation).toBe('submission_id')
    expect(count()).toBe(6)
    expect(attempts).toHaveLength(6)
  })

  it('takes maxRetries from the policy', async () => {
    const { sim, submissionId, count } = await setup({ retry: { maxRetries: 2 } })
    sim.core.inject('submission_id', { networkError: true, times: 10 })
    const err = await failure(submissionId())
    expect(err.network).toBe(true)
    expect(count()).toBe(3)
  })

  it('retries a refused connection, then reports it with the socket error code', async () => {
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const { port } = closed.address() as AddressInfo
    await new Promise<void>((resolve) => closed.close(() => resolve()))
    const attempts: Attempt[] = []
    const http = res.http({
      service: 'scicat',
      baseUrl: `http://127.0.0.1:${port}`,
      observe: (a) => attempts.push(a),
    })
    const err = await failure(http.send({ operation: 'getJob', method: 'GET', path: '/api/v4/jobs/x', retry: true }))
    expect(err.status).toBeUndefined()
    expect(err.message).toContain('ECONNREFUSED')
    expect(err.describe()).toMatch(/^scicat getJob: no response: ECONNREFUSED/)
    expect(attempts.map((a) => a.status)).toEqual(Array(6).fill('error'))
  })

  it('stops waiting for the next try when the request is aborted', async () => {
    const { sim, submissionId, count, attempts } = await setup({ retry: { baseDelayMs: 60_000, maxDelayMs: 60_000 } })
    sim.core.inject('submission_id', { status: 503, retryAfter: 30, times: 3 })
    const controller = new AbortController()
    const started = performance.now()
    const outcome = submissionId({ signal: controller.signal }).then(
      () => 'resolved',
      (e: unknown) => (e as Error).name
    )
    // the attempt is reported just before its error turns into the 30 s wait
    await expect.poll(() => attempts.length).toBe(1)
    controller.abort()
    expect(await outcome).toBe('AbortError')
    expect(performance.now() - started).toBeLessThan(5000)
    expect(count()).toBe(1)
  })
})

describe('Retry-After', () => {
  it('listTasks waits the advertised Retry-After of two 503s and succeeds on the third call', async () => {
    const globus = await startGlobus(res)
    // a backoff of a few ms: any wait near a second can only come from Retry-After
    const { client } = buildGlobus(res, { url: globus.url, http: { retry: { baseDelayMs: 5, maxDelayMs: 10_000 } } })
    const submissionId = await client.getSubmissionId()
    const { taskId } = await client.submitTransfer({
      submissionId,
      facilities: ['src', 'dst'],
      sourceCollection: SRC,
      destinationCollection: DST,
      label: 'job 1',
      items: [{ sourcePath: '/ds', destinationPath: '/out/ds', recursive: true }],
      verifyChecksum: false,
    })
    globus.sim.core.inject('task_list', { status: 503, retryAfter: 1, times: 2 })
    const started = performance.now()
    const tasks = await client.listTasks([taskId])
    const elapsed = performance.now() - started
    expect([...tasks.keys()]).toEqual([taskId])
    expect(tasks.get(taskId)?.status).toBe('ACTIVE')
    expect(globus.sim.core.count('task_list')).toBe(3)
    expect(globus.sim.core.count('task')).toBe(0)
    expect(elapsed).toBeGreaterThanOrEqual(2 * 1000 - 20)
  })

  it('caps a long Retry-After at maxDelayMs, for 429 too', async () => {
    const { sim, submissionId, count } = await setup({ retry: { baseDelayMs: 5, maxDelayMs: 300 } })
    sim.core.inject('submission_id', { status: 429, retryAfter: 30 })
    const started = performance.now()
    expect((await submissionId()).status).toBe(200)
    const elapsed = performance.now() - started
    expect(count()).toBe(2)
    expect(elapsed).toBeGreaterThanOrEqual(300 - 20)
    expect(elapsed).toBeLessThan(5000)
  })
})

describe('timeouts', () => {
  it('fails an answer slower than headersTimeout without a status, naming the timeout', async () => {
    const { sim, submissionId, count, attempts } = await setup({ timeouts: { headersMs: 150 } })
    sim.core.inject('submission_id', { latencyMs: 2500 })
    const started = performance.now()
    const err = await failure(submissionId({ retry: false }))
    expect(performance.now() - started).toBeLessThan(2500)
    expect(err.status).toBeUndefined()
    expect(err.network).toBe(true)
    expect(err.transient).toBe(true)
    expect(err.message).toBe('timed out waiting for the response headers')
    expect(count()).toBe(1)
    expect(attempts.map((a) => a.status)).toEqual(['error'])
  })

  it('fails a response whose body stalls longer than bodyTimeout, naming the timeout', async () => {
    const stalling = createServer((_req, response) => {
      response.writeHead(200, { 'content-type': 'application/json' })
      response.write('{"value": ') // and nothing more
    })
    await new Promise<void>((resolve) => stalling.listen(0, '127.0.0.1', resolve))
    res.defer(async () => {
      stalling.closeAllConnections()
      await new Promise<void>((resolve) => stalling.close(() => resolve()))
    })
    const { port } = stalling.address() as AddressInfo
    const http = res.http({ service: 'scicat', baseUrl: `http://127.0.0.1:${port}`, timeouts: { bodyMs: 150 } })
    const started = performance.now()
    const err = await failure(http.send({ operation: 'getJob', method: 'GET', path: '/api/v4/jobs/x', retry: false }))
    expect(performance.now() - started).toBeLessThan(2500)
    expect(err.status).toBeUndefined()
    expect(err.transient).toBe(true)
    expect(err.message).toBe('timed out reading the response body')
  })

  it('retries after a timeout', async () => {
    const { sim, submissionId, count, attempts } = await setup({ timeouts: { headersMs: 150 } })
    sim.core.inject('submission_id', { latencyMs: 2500 })
    expect((await submissionId()).status).toBe(200)
    expect(count()).toBe(2)
    expect(attempts.map((a) => a.status)).toEqual(['error', 200])
  })
})

describe('error bodies', () => {
  const cases: Array<[string, number, unknown, Record<string, unknown>]> = [
    [
      'SciCat Nest error with a string message',
      404,
      { message: 'dataset: x not found', error: 'Not Found', statusCode: 404 },
      { code: 'Not Found', message: 'dataset: x not found' },
    ],
    ['SciCat bare 401', 401, { message: 'Unauthorized', statusCode: 401 }, { code: undefined, message: 'Unauthorized' }],
    [
      'SciCat ValidationPipe message list',
      400,
      { message: ['statusCode must be a string', 'statusMessage must be a string'], error: 'Bad Request', statusCode: 400 },
      { code: 'Bad Request', message: 'statusCode must be a string; statusMessage must be a string' },
    ],
    [
      'SciCat jobs {status, message}',
      400,
      { status: 400, message: 'Invalid job id.' },
      { code: undefined, message: 'Invalid job id.' },
    ],
    ['SciCat bare JSON string', 401, 'Not logged in', { code: undefined, message: 'Not logged in' }],
    ['SciCat bare 500 string', 500, 'Internal server error', { message: 'Internal server error' }],
    [
      'Globus Transfer {code, message, request_id}',
      400,
      {
        code: 'ClientError.BadRequest.NoTransferItems',
        message: 'A transfer requires at least one item',
        request_id: '7HgMVYazI',
        resource: '/transfer',
        'HTTP status': '400',
        error_name: 'ClientError',
      },
      {
        code: 'ClientError.BadRequest.NoTransferItems',
        message: 'A transfer requires at least one item',
        requestId: '7HgMVYazI',
        requiredScopes: undefined,
      },
    ],
    [
      'Globus ConsentRequired with required_scopes',
      403,
      {
        code: 'ConsentRequired',
        message: 'Missing required foo_bar consent',
        request_id: 'WmMV97A1w',
        required_scopes: ['urn:globus:auth:scope:transfer.api.globus.org:all[*foo *bar]'],
        resource: '/transfer',
      },
      {
        code: 'ConsentRequired',
        message: 'Missing required foo_bar consent',
        requestId: 'WmMV97A1w',
        requiredScopes: ['urn:globus:auth:scope:transfer.api.globus.org:all[*foo *bar]'],
      },
    ],
    [
      'Globus GARE with authorization_parameters.required_scopes',
      403,
      {
        code: 'ConsentRequired',
        message: 'Consent is required',
        request_id: 'r1',
        authorization_parameters: { session_message: 'consent', required_scopes: ['scope-a', 'scope-b'] },
      },
      { code: 'ConsentRequired', message: 'Consent is required', requiredScopes: ['scope-a', 'scope-b'] },
    ],
    ['Globus Auth {error}', 401, { error: 'invalid_grant' }, { code: 'invalid_grant', message: 'invalid_grant' }],
    [
      'Globus Auth {error, error_description}',
      401,
      { error: 'invalid_client', error_description: 'Invalid client credentials' },
      { code: 'invalid_client', message: 'Invalid client credentials' },
    ],
    [
      'Globus Auth {errors: [...]}',
      401,
      {
        errors: [
          { status: '401', id: 'e1', code: 'UNAUTHORIZED', detail: 'Call must be authenticated', title: 'Unauthorized' },
        ],
      },
      { code: 'UNAUTHORIZED', message: 'Call must be authenticated' },
    ],
    [
      'Globus Auth {errors} with only a title',
      403,
      { errors: [{ code: 'FORBIDDEN', title: 'Forbidden' }] },
      { code: 'FORBIDDEN', message: 'Forbidden' },
    ],
    ['an object without a message', 400, {}, { code: undefined, message: 'HTTP 400' }],
  ]

  it.each(cases)('normalises %s', async (_name, status, body, expected) => {
    const { sim, submissionId } = await setup()
    sim.core.inject('submission_id', { status, body })
    const err = await failure(submissionId({ retry: false }))
    expect(err.status).toBe(status)
    expect(err.service).toBe('globus')
    expect(err.operation).toBe('submission_id')
    expect(err).toMatchObject(expected)
  })

  it('describes an error with service, operation, status, code and message', async () => {
    const { sim, submissionId } = await setup()
    sim.core.inject('submission_id', { status: 404, body: { code: 'ClientError.NotFound', message: 'no such thing' } })
    const err = await failure(submissionId())
    expect(err.describe()).toBe('globus submission_id: 404 ClientError.NotFound: no such thing')
    expect(err.retryAfterMs).toBeUndefined()
  })

  it('keeps Retry-After on the error', async () => {
    const { sim, submissionId } = await setup()
    sim.core.inject('submission_id', { status: 503, retryAfter: 7 })
    const err = await failure(submissionId({ retry: false }))
    expect(err.retryAfterMs).toBe(7000)
    expect(err.code).toBe('ServiceUnavailable')
  })
})

describe('observe', () => {
  it('reports every attempt with service, operation, status and duration', async () => {
    const { sim, submissionId, attempts } = await setup()
    sim.core.inject('submission_id', { status: 503 })
    sim.core.inject('submission_id', { networkError: true })
    sim.core.inject('submission_id', { latencyMs: 120 })
    await submissionId()
    expect(attempts).toEqual([
      { service: 'globus', operation: 'submission_id', status: 503, durationMs: expect.any(Number), error: 'Simulated failure (HTTP 503)' },
      { service: 'globus', operation: 'submission_id', status: 'error', durationMs: expect.any(Number), error: expect.stringContaining('other side closed') },
      { service: 'globus', operation: 'submission_id', status: 200, durationMs: expect.any(Number) },
    ])
    expect(attempts.every((a) => a.durationMs >= 0)).toBe(true)
    expect(attempts[2]?.durationMs).toBeGreaterThanOrEqual(100)
  })
})

describe('the request itself (dispatched without a body stream)', () => {
  /** A raw server on loopback that answers with `answer`; what it was asked is in `seen`. */
  async function rawServer (answer: (url: string, response: ServerResponse) => void) {
    const seen: Array<{ method: string; url: string; body: string; headers: IncomingHttpHeaders }> = []
    const server = createServer((req, response) => {
      let body = ''
      req.setEncoding('utf8')
      req.on('data', (c: string) => (body += c))
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, body, headers: req.headers })
        answer(req.url!, response)
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    res.defer(async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    })
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen }
  }

  it('keeps the path of the base URL and encodes the query', async () => {
    const { url, seen } = await rawServer((_u, response) => response.end('{"ok":true}'))
    const http = res.http({ service: 'scicat', baseUrl: `${url}/scicat/backend/`, observe: () => undefined })
    const answer = await http.send<{ ok: boolean }>({
      operation: 'getJob',
      method: 'PATCH',
      path: '/api/v4/jobs/a%2Fb',
      query: { filter: '{"where":{"a":"b c"}}', none: undefined },
      body: { statusCode: 'x' },
      retry: false,
    })
    expect(answer).toEqual({ status: 200, headers: expect.objectContaining({ 'content-length': '11' }), body: { ok: true } })
    expect(seen).toEqual([
      expect.objectContaining({
        method: 'PATCH',
        url: `/scicat/backend/api/v4/jobs/a%2Fb?filter=${encodeURIComponent('{"where":{"a":"b c"}}')}`,
        body: '{"statusCode":"x"}',
        headers: expect.objectContaining({ 'content-type': 'application/json', accept: 'application/json' }),
      }),
    ])
  })

  it('decodes a UTF-8 body split inside a character, and drops a byte-order mark', async () => {
    const bytes = Buffer.from('\uFEFF{"name":"Zürich ✓"}', 'utf8')
    const cut = bytes.indexOf(Buffer.from('✓', 'utf8')) + 1
    const { url } = await rawServer((_u, response) => {
      response.writeHead(200, { 'content-type': 'application/json' })
      response.write(bytes.subarray(0, cut))
      setImmediate(() => response.end(bytes.subarray(cut)))
    })
    const http = res.http({ service: 'scicat', baseUrl: url })
    const answer = await http.send<{ name: string }>({ operation: 'getJob', method: 'GET', path: '/x', retry: false })
    expect(answer.body).toEqual({ name: 'Zürich ✓' })
  })

  it('discardBody: a successful answer is read off the connection but not parsed; an error body still gives the message', async () => {
    let status = 200
    const { url } = await rawServer((_u, response) => {
      response.writeHead(status, { 'content-type': 'application/json' })
      response.end(status === 200 ? '{"id":"job-1","huge":"not needed"' : '{"message":"Invalid job id."}')
    })
    const http = res.http({ service: 'scicat', baseUrl: url })
    const patch: HttpRequest = { operation: 'updateJob', method: 'PATCH', path: '/x', body: {}, retry: false, discardBody: true }
    // one after another on the keep-alive connections: each answer is consumed although not kept
    for (let i = 0; i < 3; i++) expect((await http.send(patch)).body).toBeUndefined()
    // without discardBody the same (cut off) answer would come back as a string
    expect((await http.send({ ...patch, discardBody: false })).body).toBe('{"id":"job-1","huge":"not needed"')
    status = 400
    const err = await http.send(patch).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(UpstreamError)
    expect((err as UpstreamError).message).toBe('Invalid job id.')
  })

  it('aborts a request in flight, reports it once and does not retry it', async () => {
    const { url, seen } = await rawServer(() => undefined) // never answers
    const attempts: Attempt[] = []
    const http = res.http({ service: 'scicat', baseUrl: url, observe: (a) => attempts.push(a) })
    const controller = new AbortController()
    const outcome = http.send({ operation: 'getJob', method: 'GET', path: '/x', retry: true, signal: controller.signal }).then(
      () => 'resolved',
      (e: unknown) => e
    )
    await expect.poll(() => seen.length).toBe(1)
    controller.abort()
    const err = (await outcome) as UpstreamError
    expect(err).toBeInstanceOf(UpstreamError)
    expect(err.message).toBe('This operation was aborted')
    expect(attempts.map((a) => a.status)).toEqual(['error'])
    expect(seen).toHaveLength(1)
  })

  it('does not send a request whose signal was aborted before it', async () => {
    const { url, seen } = await rawServer((_u, response) => response.end('{}'))
    const http = res.http({ service: 'scicat', baseUrl: url })
    const err = await failure(http.send({ operation: 'getJob', method: 'GET', path: '/x', retry: true, signal: AbortSignal.abort() }))
    expect(err.message).toBe('This operation was aborted')
    // a request that does reach the server afterwards shows that nothing was sent before
    await http.send({ operation: 'getJob', method: 'GET', path: '/y', retry: false })
    expect(seen.map((s) => s.url)).toEqual(['/y'])
  })
})
