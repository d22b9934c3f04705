// openapi.yaml declares every status each operation answers, in both server.errorStatuses modes (DESIGN §4).
import { beforeAll, describe, expect, it } from 'vitest'
import type { Role, RoleSource } from '../../src/ha/role.js'
import { createLogger } from '../../src/logger.js'
import { type OpenApiDocument, specDocument } from '../../src/openapi.js'
import { buildService } from '../../src/service.js'
import { ingestorQuery, type Setup, startAll, startProxy } from '../helpers/proxy.js'
import { parseAnswer, portOf, rawRequest, requestWhileClosing, timedOutRequest } from '../helpers/raw-http.js'
import { cancelTransfer, startTransfer } from '../helpers/transfers.js'

type Json = Record<string, unknown>
type Mode = 'go' | 'http'
const modes = ['go', 'http'] as const

/** operationId → status → the error kinds that answered it. */
type Answers = Map<string, Map<number, string[]>>

interface Operation {
  operationId: string
  method: 'GET' | 'POST' | 'DELETE'
  /** The URL of a request that passes validation. */
  url: (s: Setup) => string
  authenticated: boolean
}

const operations: Operation[] = [
  { operationId: 'GetVersion', method: 'GET', url: () => '/version', authenticated: false },
  { operationId: 'GetHealth', method: 'GET', url: () => '/health', authenticated: false },
  { operationId: 'GetReady', method: 'GET', url: () => '/ready', authenticated: false },
  { operationId: 'GetMetrics', method: 'GET', url: () => '/metrics', authenticated: false },
  { operationId: 'GetFacilities', method: 'GET', url: () => '/facilities', authenticated: true },
  { operationId: 'PostTransferTask', method: 'POST', url: (s) => `/transfer?${ingestorQuery(s.world.datasets[0]!.pid)}`, authenticated: true },
  { operationId: 'GetTransferTask', method: 'GET', url: () => '/transfer/some-job', authenticated: true },
  { operationId: 'DeleteTransferTask', method: 'DELETE', url: () => '/transfer/some-job', authenticated: true },
  { operationId: 'GetTransfers', method: 'GET', url: () => '/transfers', authenticated: true },
  { operationId: 'GetStatus', method: 'GET', url: () => '/status', authenticated: true },
]

function operationObject (doc: OpenApiDocument, operationId: string): Json {
  for (const item of Object.values(doc.paths)) {
    for (const op of Object.values(item)) if ((op as Json).operationId === operationId) return op
  }
  throw new Error(`openapi.yaml has no operation ${operationId}`)
}

/** A response object, its `$ref` to a shared response component followed. */
function resolved (doc: OpenApiDocument, response: Json): Json {
  const ref = response.$ref
  if (typeof ref !== 'string') return response
  const name = ref.replace('#/components/responses/', '')
  return (doc.components.responses as Record<string, Json>)[name]!
}

/** The statuses openapi.yaml declares for an operation. */
function declaredStatuses (doc: OpenApiDocument, operationId: string): Set<number> {
  return new Set(Object.keys(operationObject(doc, operationId).responses as Json).map(Number))
}

/** Statuses the service answered that openapi.yaml does not declare for the operation; [] when none. */
function undeclared (answers: Answers, doc: OpenApiDocument): string[] {
  const problems: string[] = []
  for (const [operationId, statuses] of answers) {
    const declared = declaredStatuses(doc, operationId)
    for (const [status, kinds] of statuses) {
      if (!declared.has(status)) problems.push(`${operationId} answers ${status} (${kinds.join('; ')}), openapi.yaml does not declare it`)
    }
  }
  return problems
}

/** Declared error statuses no request answered (500, a bug, cannot be provoked); [] when none. */
function unanswered (answers: Answers, doc: OpenApiDocument): string[] {
  const problems: string[] = []
  for (const { operationId } of operations) {
    const answered = answers.get(operationId) ?? new Map()
    for (const status of declaredStatuses(doc, operationId)) {
      if (status >= 400 && status !== 500 && !answered.has(status)) problems.push(`${operationId} declares ${status}, which no request answered`)
    }
  }
  return problems
}

class FixedRole implements RoleSource {
  retryAfterSeconds = 15
  holder = 'pod-a'
  constructor (public role: Role) {}
  mayWrite (): boolean {
    return this.role === 'active'
  }
}

const requestLine = (s: Setup, op: Operation) => `${op.method} ${op.url(s)} HTTP/1.1`

/** Every answer one mode gives, per operation and error kind. */
async function collect (mode: Mode): Promise<Answers> {
  const answers: Answers = new Map()
  const record = (operationId: string, kind: string, status: number) => {
    const byStatus = answers.get(operationId) ?? new Map<number, string[]>()
    answers.set(operationId, byStatus)
    byStatus.set(status, [...(byStatus.get(status) ?? []), kind])
  }
  const config = `server:\n  errorStatuses: ${mode}\n  bodyLimitMb: 0.01\ntask:\n  maxConcurrency: 1\n  queueSize: 1\n`
  const s = await startAll({}, config)
  try {
    const { world, proxy } = s
    const port = await portOf(s)
    const raw = async (request: string) => parseAnswer(await rawRequest(port, request)).status
    const inject = async (op: Operation, options: { url?: string; token?: string | null; headers?: Record<string, string>; payload?: string } = {}) => {
      const token = options.token === undefined ? world.tokens.alice : options.token
      const res = await proxy.app.inject({
        method: op.method,
        url: options.url ?? op.url(s),
        headers: { ...(token === null || !op.authenticated ? {} : { 'SciCat-API-Key': token }), ...options.headers },
        ...(options.payload === undefined ? {} : { payload: options.payload }),
      })
      expect(res.headers['content-type'], `${op.operationId}: ${res.body}`).toMatch(/^(application\/json|text\/plain)/)
      return res.statusCode
    }
    const fresh = () => world.scicat.issueToken('alice')
    const op = (id: string) => operations.find((o) => o.operationId === id)!
    const bigList = JSON.stringify({ fileList: Array.from({ length: 500 }, (_, i) => ({ path: `f-${i}`, isSymlink: false })) })
    const failing = async (upstream: 'scicat' | 'globus', operation: string, send: () => Promise<number>) => {
      world[upstream].core.inject(operation, { status: 503, times: 10 })
      try {
        return await send()
      } finally {
        world[upstream].core.clearFaults()
      }
    }
    /** A request whose `partial` bytes never complete: Node's request timeout, emitted as Node does. */
    const timedOut = async (partial: string, arrived: () => boolean) => (await timedOutRequest(s, partial, arrived)).status

    for (const o of operations) {
      const line = requestLine(s, o)
      const url = o.url(s)
      record(o.operationId, 'a malformed header', await raw(`${line}\r\nHost: x\r\nX-Bad: a\x01b\r\n\r\n`))
      record(o.operationId, 'no Host', await raw(`${line}\r\nConnection: close\r\n\r\n`))
      record(o.operationId, 'headers over 16 KiB', await raw(`${line}\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`))
      const longLine = `${o.method} ${url}${url.includes('?') ? '&' : '?'}x=${'a'.repeat(20_000)} HTTP/1.1`
      record(o.operationId, 'a request line over 16 KiB', await raw(`${longLine}\r\nHost: x\r\n\r\n`))
      record(o.operationId, 'headers that never complete', await timedOut(`${line}\r\nHost: x\r\n`, () => true))
      if (o.authenticated) {
        record(o.operationId, 'no token', await inject(o, { token: null }))
        record(o.operationId, 'an invalid token', await inject(o, { token: 'not-a-token' }))
        record(o.operationId, 'SciCat fails the token check', await failing('scicat', 'identity', () => inject(o, { token: fresh() })))
      }
    }
    for (const o of [op('PostTransferTask'), op('DeleteTransferTask')]) {
      const token = fresh()
      const identity = world.scicat.core.count('identity')
      const partial = `${requestLine(s, o)}\r\nHost: x\r\nSciCat-API-Key: ${token}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"fileList":`
      record(o.operationId, 'a body that stops arriving', await timedOut(partial, () => world.scicat.core.count('identity') > identity))
      record(o.operationId, 'a body over server.bodyLimitMb', await inject(o, { headers: { 'content-type': 'application/json' }, payload: bigList }))
      record(o.operationId, 'a text/plain body', await inject(o, { headers: { 'content-type': 'text/plain' }, payload: 'hello' }))
      record(o.operationId, 'a body without Content-Type', await raw(`${requestLine(s, o)}\r\nHost: x\r\nSciCat-API-Key: ${token}\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello`))
      record(o.operationId, 'a body that is not JSON', await inject(o, { headers: { 'content-type': 'application/json' }, payload: '{"fileList":' }))
    }

    const post = op('PostTransferTask')
    const pid = world.datasets[0]!.pid
    record(post.operationId, 'a query parameter missing', await inject(post, { url: '/transfer?sourceFacility=PSI' }))
    record(post.operationId, 'an unknown facility', await inject(post, { url: `/transfer?${ingestorQuery(pid, { sourceFacility: 'NOPE' })}` }))
    record(post.operationId, 'no access to a facility', await inject(post, { token: world.tokens.carol }))
    record(post.operationId, 'an unknown dataset', await inject(post, { url: `/transfer?${ingestorQuery('20.500.12345/no-such-dataset')}` }))
    record(post.operationId, 'SciCat fails reading the dataset', await failing('scicat', 'getDataset', () => inject(post)))
    record(post.operationId, 'Globus issues no submission id', await failing('globus', 'submission_id', () => inject(post)))

    const one = op('GetTransferTask')
    const remove = op('DeleteTransferTask')
    for (const o of [one, remove]) {
      record(o.operationId, 'an unknown job', await inject(o, { url: '/transfer/no-such-job' }))
      record(o.operationId, 'a job id over 100 characters', await inject(o, { url: `/transfer/${'x'.repeat(5000)}` }))
      record(o.operationId, 'bad percent-encoding in the path', await inject(o, { url: '/transfer/%zz' }))
      record(o.operationId, 'SciCat fails reading the job', await failing('scicat', 'getJob', () => inject(o)))
    }
    record(remove.operationId, 'delete is no boolean', await inject(remove, { url: '/transfer/some-job?delete=maybe' }))
    // capacity 1 + queue 1: the first transfer is active, the second queued, the third refused
    const jobId = await startTransfer(proxy, world, world.datasets[0]!.pid)
    await startTransfer(proxy, world, world.datasets[1]!.pid)
    record(post.operationId, 'at capacity', await inject(post, { url: `/transfer?${ingestorQuery(world.datasets[2]!.pid)}` }))
    for (const o of [one, remove]) record(o.operationId, 'a job of another group', await inject(o, { url: `/transfer/${jobId}`, token: world.tokens.bob }))
    expect((await cancelTransfer(proxy, world, jobId)).statusCode).toBe(200)
    record(remove.operationId, 'a transfer already cancelled', await inject(remove, { url: `/transfer/${jobId}` }))

    const list = op('GetTransfers')
    record(list.operationId, 'limit 0', await inject(list, { url: '/transfers?limit=0' }))
    world.scicat.core.inject('findJobs', { status: 403 })
    record(list.operationId, 'SciCat does not let the caller list jobs', await inject(list))
    record(list.operationId, 'SciCat fails listing the jobs', await failing('scicat', 'findJobs', () => inject(list)))
    record('GetStatus', 'not in server.adminGroups', await inject(op('GetStatus')))

    // a proxy whose service account SciCat refuses is not ready
    const refused = await startProxy({ ...world, credentials: { ...world.credentials, scicat: { username: 'globus-proxy', password: 'wrong' } } }, config)
    try {
      record('GetReady', 'the service account refused', (await refused.app.inject({ method: 'GET', url: '/ready' })).statusCode)
    } finally {
      await refused.close()
    }

    // a standby answers the API 503 (through the mapping)
    const standby = await buildService(proxy.config, world.credentials, { logger: createLogger('silent'), role: new FixedRole('standby') })
    try {
      for (const o of operations) {
        const res = await standby.app.inject({ method: o.method, url: o.url(s), headers: { 'SciCat-API-Key': world.tokens.alice } })
        record(o.operationId, 'a standby instance', res.statusCode)
      }
    } finally {
      await standby.close()
    }

    // requests that arrive while the app closes (on a connection whose first request is still in flight)
    for (const o of operations) {
      const closing = await startAll({}, config)
      try {
        const request = `${requestLine(closing, o)}\r\nHost: x\r\nSciCat-API-Key: ${closing.world.tokens.alice}\r\nContent-Length: 0\r\n\r\n`
        const [, second] = await requestWhileClosing(closing, request)
        record(o.operationId, 'shutting down', second.status)
      } finally {
        await closing.close()
      }
    }
  } finally {
    await s.close()
  }
  return answers
}

describe('openapi.yaml declares every status the service answers', () => {
  const answers = {} as Record<Mode, Answers>
  beforeAll(async () => {
    for (const mode of modes) answers[mode] = await collect(mode)
  }, 120_000)

  it.each(modes)('under server.errorStatuses: %s, every answer of every operation is declared for it', (mode) => {
    expect(undeclared(answers[mode], specDocument)).toEqual([])
    // the probes reached every operation
    expect([...answers[mode].keys()].sort()).toEqual(operations.map((o) => o.operationId).sort())
  })

  it('declares no error status that neither mode answers (but 500, a bug)', () => {
    const both: Answers = new Map()
    for (const mode of modes) {
      for (const [id, statuses] of answers[mode]) {
        const byStatus = both.get(id) ?? new Map<number, string[]>()
        both.set(id, byStatus)
        for (const [status, kinds] of statuses) byStatus.set(status, [...(byStatus.get(status) ?? []), ...kinds])
      }
    }
    expect(unanswered(both, specDocument)).toEqual([])
  })

  it('answers what DESIGN §4 maps: POST and DELETE /transfer only Go 1.2.0 statuses under go', () => {
    const errors = (id: string) => [...answers.go.get(id)!.keys()].filter((n) => n >= 400).sort()
    expect(errors('PostTransferTask')).toEqual([400, 401, 403, 500, 503])
    expect(errors('DeleteTransferTask')).toEqual([400, 401, 403, 500])
    // a request whose headers never arrived names no operation: under go it answers as the Go operations do
    for (const { operationId } of operations) {
      expect(answers.go.get(operationId)!.get(400), operationId).toContain('headers that never complete')
      expect(answers.http.get(operationId)!.get(408), operationId).toContain('headers that never complete')
    }
    expect(answers.http.get('PostTransferTask')!.get(415)).toEqual(['a text/plain body', 'a body without Content-Type'])
  })

  it('says in the description of a status only one mode answers which mode that is', () => {
    for (const { operationId } of operations) {
      const responses = operationObject(specDocument, operationId).responses as Record<string, Json>
      const go = answers.go.get(operationId)!
      for (const status of answers.http.get(operationId)!.keys()) {
        if (go.has(status)) continue
        expect(String(resolved(specDocument, responses[status]!).description), `${operationId} ${status}`).toMatch(/^`http` only \((400|500) under `go`\)/)
      }
    }
  })

  it('declares Retry-After with every 503 (the service sends it with each: shutdown, standby, capacity), and with DELETE\'s 500', () => {
    const without = (operationId: string, status: number) => {
      const response = (operationObject(specDocument, operationId).responses as Record<string, Json>)[status]
      return response && !(resolved(specDocument, response).headers as Json | undefined)?.['Retry-After']
    }
    for (const { operationId } of operations) expect(without(operationId, 503), operationId).toBeFalsy()
    // under go DELETE answers its 503 as 500, Retry-After included
    expect(without('DeleteTransferTask', 500)).toBe(false)
  })

  it('notices a status the document lost', () => {
    const lost = structuredClone(specDocument)
    delete (operationObject(lost, 'PostTransferTask').responses as Json)['415']
    delete (operationObject(lost, 'GetVersion').responses as Json)['431']
    expect(undeclared(answers.http, lost)).toEqual([
      'GetVersion answers 431 (headers over 16 KiB; a request line over 16 KiB), openapi.yaml does not declare it',
      'PostTransferTask answers 415 (a text/plain body; a body without Content-Type), openapi.yaml does not declare it',
    ])
  })
})
