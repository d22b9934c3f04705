// server.errorStatuses (DESIGN §4): POST and DELETE /transfer answer Go 1.2.0's statuses under `go`, precise ones under `http`; the whole body is the same.
import type { LightMyRequestResponse } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { ingestorQuery, type Setup, startAll } from '../helpers/proxy.js'
import { parseAnswer, portOf, type RawAnswer, rawRequest, requestWhileClosing, timedOutRequest } from '../helpers/raw-http.js'
import { cancelTransfer, startTransfer } from '../helpers/transfers.js'

type Mode = 'go' | 'http'

let setup: Setup | undefined
afterEach(async () => {
  await setup?.close()
  setup = undefined
})

async function start (mode: Mode, extra = ''): Promise<Setup> {
  setup = await startAll({ globus: { bytesPerSecond: 10_000 } }, `server:\n  errorStatuses: ${mode}\n  bodyLimitMb: 0.01\n${extra}`)
  return setup
}

interface Answer {
  status: number
  body: { message: string; code: string; details?: string }
}

function answerOf (res: LightMyRequestResponse): Answer {
  expect(res.headers['content-type'], res.body).toMatch(/^application\/json/)
  return { status: res.statusCode, body: res.json() }
}

/** Sends raw bytes; the status and JSON body of the answer. */
async function raw (port: number, request: string): Promise<Pick<RawAnswer, 'status' | 'body'>> {
  const { status, body } = parseAnswer(await rawRequest(port, request))
  return { status, body }
}

const post = (s: Setup, options: { pid?: string; query?: string; token?: string | null; headers?: Record<string, string>; payload?: string } = {}) =>
  s.proxy.app.inject({
    method: 'POST',
    url: `/transfer?${options.query ?? ingestorQuery(options.pid ?? s.world.datasets[0]!.pid)}`,
    headers: {
      ...(options.token === null ? {} : { 'SciCat-API-Key': options.token ?? s.world.tokens.alice }),
      'content-type': 'application/json',
      ...options.headers,
    },
    payload: options.payload ?? JSON.stringify({ fileList: [{ path: 'README.txt', isSymlink: false }] }),
  })

const remove = (s: Setup, id: string, token: string | null = s.world.tokens.alice, query = '') =>
  s.proxy.app.inject({ method: 'DELETE', url: `/transfer/${id}${query}`, headers: token === null ? {} : { 'SciCat-API-Key': token } })

type Request = (s: Setup) => Promise<LightMyRequestResponse>

/** `request` once the upstream answers `operation` with 503 (past the client's retries). */
const failing = (upstream: 'scicat' | 'globus', operation: string, request: Request): Request => (s) => {
  s.world[upstream].core.inject(operation, { status: 503, times: 10 })
  return request(s)
}

/** What each error kind answers on POST /transfer: [kind, Go status, precise status, code, request]. */
const postKinds: [string, number, number, string, Request][] = [
  ['validation (a query parameter missing)', 400, 400, 'PROXY_VALIDATION', (s) => post(s, { query: 'sourceFacility=PSI' })],
  ['no token', 401, 401, 'PROXY_UNAUTHENTICATED', (s) => post(s, { token: null })],
  ['no facility access', 403, 403, 'PROXY_FACILITY_ACCESS', (s) => post(s, { token: s.world.tokens.carol })],
  ['unknown dataset', 400, 404, 'PROXY_DATASET_NOT_FOUND', (s) => post(s, { pid: '20.500.12345/no-such-dataset' })],
  [
    'body over server.bodyLimitMb',
    400,
    413,
    'PROXY_BODY_TOO_LARGE',
    (s) => post(s, { payload: JSON.stringify({ fileList: Array.from({ length: 500 }, (_, i) => ({ path: `f-${i}`, isSymlink: false })) }) }),
  ],
  ['a body that is not JSON (text/plain)', 400, 415, 'PROXY_VALIDATION', (s) => post(s, { headers: { 'content-type': 'text/plain' }, payload: 'hello' })],
  ['SciCat fails reading the dataset', 500, 502, 'PROXY_UPSTREAM_SCICAT', failing('scicat', 'getDataset', (s) => post(s))],
  ['Globus issues no submission id', 500, 502, 'PROXY_UPSTREAM_GLOBUS', failing('globus', 'submission_id', (s) => post(s))],
]

/** The same for DELETE /transfer/{scicatJobId}. */
const deleteKinds: [string, number, number, string, Request][] = [
  ['validation (delete is no boolean)', 400, 400, 'PROXY_VALIDATION', (s) => remove(s, 'some-id', s.world.tokens.alice, '?delete=maybe')],
  ['no token', 401, 401, 'PROXY_UNAUTHENTICATED', (s) => remove(s, 'some-id', null)],
  [
    'a job of another group',
    403,
    403,
    'PROXY_FORBIDDEN',
    async (s) => remove(s, await startTransfer(s.proxy, s.world, s.world.datasets[0]!.pid), s.world.tokens.bob),
  ],
  ['unknown job', 400, 404, 'PROXY_JOB_NOT_FOUND', (s) => remove(s, 'no-such-job')],
  [
    'a transfer already cancelled',
    400,
    409,
    'PROXY_JOB_ENDED',
    async (s) => {
      const jobId = await startTransfer(s.proxy, s.world, s.world.datasets[0]!.pid)
      expect((await cancelTransfer(s.proxy, s.world, jobId)).statusCode).toBe(200)
      return remove(s, jobId)
    },
  ],
  ['a path parameter too long', 400, 414, 'PROXY_VALIDATION', (s) => remove(s, 'x'.repeat(5000))],
  ['SciCat fails reading the job', 500, 502, 'PROXY_UPSTREAM_SCICAT', failing('scicat', 'getJob', (s) => remove(s, 'some-id'))],
]

/**
 * `request`'s answer from a fresh service in each mode, `check` run after each. SciCat job ids
 * (in a message such as the one naming a cancelled job) differ between the two services, so
 * they read `<jobId>`.
 */
async function inBothModes (request: Request, check: (s: Setup) => void = () => {}): Promise<Record<Mode, Answer>> {
  const answers: Partial<Record<Mode, Answer>> = {}
  for (const mode of ['go', 'http'] as const) {
    const s = await start(mode)
    try {
      const { status, body } = answerOf(await request(s))
      check(s)
      let text = JSON.stringify(body)
      for (const job of s.world.scicat.jobs()) text = text.replaceAll(job.id, '<jobId>')
      answers[mode] = { status, body: JSON.parse(text) as Answer['body'] }
    } finally {
      await s.close()
      setup = undefined
    }
  }
  return answers as Record<Mode, Answer>
}

describe('the two modes answer the same body with their own status', () => {
  it.each(postKinds)('POST /transfer, %s: %i under go, %i under http, the same body and precise code in both', async (_kind, go, precise, code, request) => {
    const answers = await inBothModes(request, (s) => {
      // nothing was created on the way to the refusal
      expect(s.world.scicat.jobs()).toHaveLength(0)
      expect(s.world.globus.tasks()).toHaveLength(0)
    })
    expect({ go: answers.go.status, http: answers.http.status }).toEqual({ go, http: precise })
    expect(answers.http.body).toEqual({ ...answers.http.body, message: expect.any(String), code })
    expect(answers.go.body).toEqual(answers.http.body)
  })

  it.each(deleteKinds)('DELETE /transfer/{id}, %s: %i under go, %i under http, the same body and precise code in both', async (_kind, go, precise, code, request) => {
    const answers = await inBothModes(request)
    expect({ go: answers.go.status, http: answers.http.status }).toEqual({ go, http: precise })
    expect(answers.http.body).toEqual({ ...answers.http.body, message: expect.any(String), code })
    expect(answers.go.body).toEqual(answers.http.body)
  })
})

describe.each(['go', 'http'] as const)('server.errorStatuses: %s', (mode) => {
  const expected = (go: number, precise: number) => (mode === 'go' ? go : precise)

  it('POST /transfer at capacity: 503 with Retry-After in both modes', async () => {
    const s = await start(mode, 'task:\n  maxConcurrency: 1\n  queueSize: 1\n')
    for (const d of s.world.datasets.slice(0, 2)) await startTransfer(s.proxy, s.world, d.pid)
    const res = await post(s, { pid: s.world.datasets[2]!.pid })
    expect({ status: res.statusCode, code: answerOf(res).body.code }).toEqual({ status: 503, code: 'PROXY_AT_CAPACITY' })
    expect(res.headers['retry-after']).toMatch(/^\d+$/)
  })

  it.each([
    ['POST', 503, 503, `POST /transfer?${ingestorQuery('x')} HTTP/1.1\r\nHost: proxy\r\nContent-Length: 0\r\n\r\n`],
    ['DELETE', 500, 503, 'DELETE /transfer/some-id HTTP/1.1\r\nHost: proxy\r\n\r\n'],
  ] as const)('%s /transfer while shutting down: %i under go, %i under http, PROXY_SHUTTING_DOWN', async (_method, go, precise, request) => {
    const [first, second] = await requestWhileClosing(await start(mode), request)
    expect(first.status).toBe(200)
    expect(second.status).toBe(expected(go, precise))
    expect(second.text).toMatch(/^retry-after: \d+/im)
    expect(second.body).toEqual({ message: expect.any(String), code: 'PROXY_SHUTTING_DOWN' })
  })

  it('GET /transfer/{id}, a route Go did not have, answers precise statuses in both modes', async () => {
    const s = await start(mode)
    const unknown = await s.proxy.app.inject({ method: 'GET', url: '/transfer/no-such-job', headers: { 'SciCat-API-Key': s.world.tokens.alice } })
    expect({ status: unknown.statusCode, code: answerOf(unknown).body.code }).toEqual({ status: 404, code: 'PROXY_JOB_NOT_FOUND' })
    s.world.scicat.core.inject('getJob', { status: 500, times: 10 })
    const failing = await s.proxy.app.inject({ method: 'GET', url: '/transfer/some-id', headers: { 'SciCat-API-Key': s.world.tokens.alice } })
    expect({ status: failing.statusCode, code: answerOf(failing).body.code }).toEqual({ status: 502, code: 'PROXY_UPSTREAM_SCICAT' })
  })

  describe('requests Node refuses before Fastify', () => {
    it('POST /transfer with headers over the size limit: 400 under go, 431 under http', async () => {
      const port = await portOf(await start(mode))
      const answer = await raw(port, `POST /transfer?${ingestorQuery('x')} HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`)
      expect(answer).toEqual({ status: expected(400, 431), body: { message: 'the request headers are too large', code: 'PROXY_VALIDATION' } })
    })

    it('GET /health with headers over the size limit: 431 in both modes (not a Go operation)', async () => {
      const port = await portOf(await start(mode))
      const answer = await raw(port, `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`)
      expect(answer.status).toBe(431)
    })

    it('DELETE /transfer/{id} with a malformed header: 400 JSON in both modes', async () => {
      const port = await portOf(await start(mode))
      const answer = await raw(port, 'DELETE /transfer/some-id HTTP/1.1\r\nHost: x\r\nSciCat-API-Key: to\x01ken\r\n\r\n')
      expect(answer).toEqual({ status: 400, body: { message: 'the request is not valid HTTP', code: 'PROXY_VALIDATION' } })
    })

    it('headers that never arrive completely name no route: 400 under go, 408 under http, even for GET /health', async () => {
      const answer = await timedOutRequest(await start(mode), 'GET /health HTTP/1.1\r\nHost: x\r\n')
      expect({ status: answer.status, body: answer.body }).toEqual({ status: expected(400, 408), body: { message: 'the request took too long to arrive', code: 'PROXY_VALIDATION' } })
    })

    it('a POST /transfer body that stops arriving (request timeout): 400 under go, 408 under http', async () => {
      const s = await start(mode)
      const answer = await timedOutRequest(
        s,
        `POST /transfer?${ingestorQuery(s.world.datasets[0]!.pid)} HTTP/1.1\r\nHost: x\r\nSciCat-API-Key: ${s.world.tokens.alice}\r\n` +
          'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"fileList":',
        () => s.world.scicat.core.count('identity') === 1
      )
      expect({ status: answer.status, body: answer.body }).toEqual({
        status: expected(400, 408),
        body: { message: 'the request took too long to arrive', code: 'PROXY_VALIDATION' },
      })
      expect(s.world.scicat.jobs()).toHaveLength(0)
    })
  })
})

describe('an HTTP/1.1 request without Host', () => {
  it.each(['GET /health', 'POST /transfer?sourceFacility=PSI', 'DELETE /transfer/some-id'])(
    '%s: 400 with the JSON of every malformed request, not Node\'s empty 400',
    async (line) => {
      const port = await portOf(await start('go'))
      const answer = await raw(port, `${line} HTTP/1.1\r\nConnection: close\r\n\r\n`)
      expect(answer.status).toBe(400)
      expect(answer.body).toEqual({
        message: 'the request is not valid HTTP',
        details: 'an HTTP/1.1 request must carry a Host header',
        code: 'PROXY_VALIDATION',
      })
    }
  )

  it('an HTTP/1.0 request needs none', async () => {
    const port = await portOf(await start('go'))
    const answer = await raw(port, 'GET /version HTTP/1.0\r\n\r\n')
    expect(answer.status).toBe(200)
    expect(answer.body).toHaveProperty('version')
  })
})
