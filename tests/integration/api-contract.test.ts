// The HTTP contract: routes agree with openapi.yaml, the Go 1.2.0 names hold, and the ops and docs endpoints answer.
import { readFileSync } from 'node:fs'
import type { LightMyRequestResponse } from 'fastify'
import yaml from 'js-yaml'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { RegisteredRoute } from '../../src/app.js'
import { errorStatus } from '../../src/errors.js'
import { type OpenApiDocument, specDocument, specOperations, specText } from '../../src/openapi.js'
import { ManualClock } from '../../src/sandbox/sim-core.js'
import { ingestorQuery, type Proxy, type Setup, startAll, startProxy } from '../helpers/proxy.js'
import { requestWhileClosing } from '../helpers/raw-http.js'

type Json = Record<string, unknown>

const methods = ['get', 'post', 'put', 'patch', 'delete'] as const

/** name → required, for one parameter location */
type ParamSet = Record<string, boolean>

interface SpecOp {
  method: string
  url: string
  operationId: string
  params: Record<'query' | 'path' | 'header', ParamSet>
  hasBody: boolean
}

function resolveRef (node: unknown, doc: OpenApiDocument): Json {
  const obj = node as Json
  if (typeof obj.$ref !== 'string') return obj
  return obj.$ref
    .replace(/^#\//, '')
    .split('/')
    .reduce<unknown>((acc, key) => (acc as Json)[key], doc) as Json
}

/** Every operation of the document with its parameters (path-level ones included) by location. */
function specOps (doc: OpenApiDocument): SpecOp[] {
  const ops: SpecOp[] = []
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of methods) {
      const op = item[method]
      if (!op) continue
      const params: SpecOp['params'] = { query: {}, path: {}, header: {} }
      for (const raw of [...((item.parameters as unknown as unknown[]) ?? []), ...((op.parameters as unknown[]) ?? [])]) {
        const p = resolveRef(raw, doc) as { name: string; in: 'query' | 'path' | 'header'; required?: boolean }
        params[p.in][p.in === 'header' ? p.name.toLowerCase() : p.name] = p.required === true
      }
      ops.push({
        method: method.toUpperCase(),
        url: path.replace(/\{([^}]+)\}/g, ':$1'),
        operationId: String(op.operationId),
        params,
        hasBody: op.requestBody !== undefined,
      })
    }
  }
  return ops
}

function routeParams (schema: unknown): ParamSet {
  const s = (schema ?? {}) as { properties?: Json; required?: string[] }
  return Object.fromEntries(Object.keys(s.properties ?? {}).map((name) => [name, (s.required ?? []).includes(name)]))
}

/** Where the registered routes and the document disagree; [] when they match. */
function contractProblems (routes: readonly RegisteredRoute[], doc: OpenApiDocument): string[] {
  const problems: string[] = []
  const ops = specOps(doc)
  const key = (method: string, url: string) => `${method} ${url}`
  const byKey = new Map(routes.map((r) => [key(r.method, r.url), r]))
  for (const op of ops) {
    const route = byKey.get(key(op.method, op.url))
    if (!route) {
      problems.push(`${op.operationId}: no route ${op.method} ${op.url}`)
      continue
    }
    const schema = (route.schema ?? {}) as Json
    if (schema.operationId !== op.operationId) {
      problems.push(`${op.method} ${op.url}: route schema is ${String(schema.operationId)}, spec says ${op.operationId}`)
    }
    const where = [
      ['query', 'querystring'],
      ['path', 'params'],
      ['header', 'headers'],
    ] as const
    for (const [location, fastifyKey] of where) {
      const want = op.params[location]
      const have = routeParams(schema[fastifyKey])
      if (JSON.stringify(Object.entries(have).sort()) !== JSON.stringify(Object.entries(want).sort())) {
        problems.push(`${op.operationId} ${location} parameters: route ${JSON.stringify(have)}, spec ${JSON.stringify(want)}`)
      }
    }
    if (op.hasBody !== (schema.body !== undefined)) problems.push(`${op.operationId}: request body in one but not the other`)
  }
  const specified = new Set(ops.map((op) => key(op.method, op.url)))
  for (const route of routes) {
    if (route.method === 'HEAD' || route.schema?.hide) continue
    if (!specified.has(key(route.method, route.url))) problems.push(`route ${route.method} ${route.url} is not in openapi.yaml`)
  }
  return problems
}

const copyOfSpec = () => structuredClone(specDocument)

describe('routes and openapi.yaml agree', () => {
  let setup: Setup
  beforeAll(async () => {
    setup = await startAll()
  })
  afterAll(async () => {
    await setup?.close()
  })

  it('has a route for every operation, with the same parameters, and no undocumented route', () => {
    const { app } = setup.proxy
    expect(contractProblems(app.registeredRoutes, specDocument)).toEqual([])
    for (const op of specOperations()) expect(app.hasRoute({ method: op.method as 'GET', url: op.url })).toBe(true)
    // the comparison covers the whole API
    const visible = app.registeredRoutes.filter((r) => r.method !== 'HEAD' && !r.schema?.hide)
    expect(visible.map((r) => `${r.method} ${r.url}`).sort()).toEqual(
      [
        'GET /version',
        'GET /health',
        'GET /ready',
        'GET /metrics',
        'GET /facilities',
        'POST /transfer',
        'GET /transfer/:scicatJobId',
        'DELETE /transfer/:scicatJobId',
        'GET /transfers',
        'GET /status',
      ].sort()
    )
  })

  it('notices every kind of disagreement', () => {
    const routes = setup.proxy.app.registeredRoutes
    const missingOp = copyOfSpec()
    delete missingOp.paths['/facilities']
    expect(contractProblems(routes, missingOp)).toEqual(['route GET /facilities is not in openapi.yaml'])

    const extraParam = copyOfSpec()
    ;(extraParam.paths['/transfer']!.post!.parameters as Json[]).push({ name: 'priority', in: 'query', schema: { type: 'integer' } })
    expect(contractProblems(routes, extraParam).join()).toContain('PostTransferTask query parameters')

    const notRequired = copyOfSpec()
    ;(notRequired.paths['/transfer']!.post!.parameters as Json[])[0]!.required = false
    expect(contractProblems(routes, notRequired).join()).toContain('PostTransferTask query parameters')

    const renamedPath = copyOfSpec()
    renamedPath.paths['/transfer/{jobId}'] = renamedPath.paths['/transfer/{scicatJobId}']!
    delete renamedPath.paths['/transfer/{scicatJobId}']
    expect(contractProblems(routes, renamedPath).join()).toContain('no route GET /transfer/:jobId')

    const renamedOp = copyOfSpec()
    renamedOp.paths['/version']!.get!.operationId = 'Version'
    expect(contractProblems(routes, renamedOp).join()).toContain('spec says Version')

    const newOp = copyOfSpec()
    newOp.paths['/transfer']!.get = { operationId: 'ListTransfers', responses: {} }
    expect(contractProblems(routes, newOp)).toEqual(['ListTransfers: no route GET /transfer'])
  })

  it('keeps to strict OpenAPI 3.0: no $ref with sibling keys, and a servers entry', () => {
    const siblings: string[] = []
    const walk = (node: unknown, at: string) => {
      if (typeof node !== 'object' || node === null) return
      const keys = Object.keys(node)
      if (keys.includes('$ref') && keys.length > 1) siblings.push(`${at}: ${keys.join(', ')}`)
      for (const [key, value] of Object.entries(node)) walk(value, `${at}/${key}`)
    }
    walk(specDocument, '#')
    expect(siblings).toEqual([])
    expect(specDocument.servers).toEqual([{ url: '/', description: expect.any(String) }])
  })

  it('lists exactly the error codes the service uses', () => {
    const error = (specDocument.components.schemas as Json).GeneralError as { properties: { code: { enum: string[] } } }
    expect([...error.properties.code.enum].sort()).toEqual(Object.keys(errorStatus).sort())
  })
})

describe('the Go service 1.2.0 contract holds in openapi.yaml', () => {
  const doc = specDocument as unknown as {
    paths: Record<string, Record<string, Json & { parameters?: Json[] }>>
    components: { schemas: Record<string, Json>; responses: Record<string, Json>; securitySchemes: Record<string, Json> }
    security: Array<Record<string, unknown>>
  }
  const param = (op: Json & { parameters?: Json[] }, name: string, pathItem?: { parameters?: unknown }) =>
    [...((pathItem?.parameters as Json[]) ?? []), ...(op.parameters ?? [])].find((p) => p.name === name)

  it('keeps the operation ids, paths and methods', () => {
    const ids = Object.fromEntries(specOperations().map((op) => [op.operationId, `${op.method} ${op.url}`]))
    expect(ids).toMatchObject({
      GetVersion: 'GET /version',
      PostTransferTask: 'POST /transfer',
      DeleteTransferTask: 'DELETE /transfer/:scicatJobId',
    })
  })

  it('keeps the names and types of every parameter of POST /transfer and DELETE /transfer/{scicatJobId}', () => {
    const post = doc.paths['/transfer']!.post!
    for (const name of ['sourceFacility', 'destFacility', 'scicatPid', 'collectionRootPath']) {
      expect(param(post, name)).toMatchObject({ in: 'query', required: true, schema: { type: 'string' } })
    }
    const autoArchive = param(post, 'autoArchive')!
    expect(autoArchive).toMatchObject({ in: 'query', schema: { type: 'boolean', default: true } })
    expect(autoArchive.required ?? false).toBe(false)
    const body = post.requestBody as { required?: boolean; content: Record<string, { schema: Json }> }
    expect(body.required ?? false).toBe(false)
    expect(body.content['application/json']!.schema).toMatchObject({
      type: 'object',
      properties: { fileList: { type: 'array', items: { $ref: '#/components/schemas/FileToTransfer' } } },
    })
    const jobId = (post.responses as Record<string, Json>)['200']!
    expect(jobId).toMatchObject({
      content: { 'application/json': { schema: { properties: { jobId: { type: 'string' } }, required: ['jobId'] } } },
    })
    for (const status of ['400', '401', '403', '500', '503']) {
      expect((post.responses as Record<string, Json>)[status]).toMatchObject({ $ref: '#/components/responses/GeneralErrorResponse' })
    }

    const item = doc.paths['/transfer/{scicatJobId}']!
    const del = item.delete!
    expect(param(del, 'scicatJobId', item)).toMatchObject({ in: 'path', required: true, schema: { type: 'string' } })
    const remove = param(del, 'delete', item)!
    expect(remove).toMatchObject({ in: 'query', schema: { type: 'boolean' } })
    expect(remove.required ?? false).toBe(false)
    expect((del.responses as Record<string, Json>)['200']).not.toHaveProperty('content')
    for (const status of ['400', '401', '403', '500']) {
      expect((del.responses as Record<string, Json>)[status]).toMatchObject({ $ref: '#/components/responses/GeneralErrorResponse' })
    }
  })

  it('keeps the schemas FileToTransfer, TransferItem and the GeneralErrorResponse {message, details}', () => {
    const { schemas, responses } = doc.components
    expect(schemas.FileToTransfer).toMatchObject({
      type: 'object',
      properties: { path: { type: 'string' }, isSymlink: { type: 'boolean' } },
      required: ['path', 'isSymlink'],
    })
    expect(schemas.TransferItem).toMatchObject({
      type: 'object',
      properties: {
        transferId: { type: 'string' },
        status: { type: 'string', enum: ['waiting', 'transferring', 'finished', 'failed', 'cancelled', 'invalid status'] },
        message: { type: 'string' },
        bytesTransferred: { type: 'integer' },
        bytesTotal: { type: 'integer' },
        filesTransferred: { type: 'integer' },
        filesTotal: { type: 'integer' },
      },
      required: ['transferId', 'status'],
    })
    const error = resolveRef(
      ((responses.GeneralErrorResponse as { content: Record<string, { schema: Json }> }).content['application/json']!).schema,
      specDocument
    ) as { properties: Record<string, Json>; required?: string[] }
    expect(error.properties.message).toMatchObject({ type: 'string' })
    expect(error.properties.details).toMatchObject({ type: 'string' })
    expect(error.required ?? []).not.toContain('message')
    expect(error.required ?? []).not.toContain('details')
  })

  it('keeps the ScicatKeyAuth scheme, applied globally, and an open GET /version', () => {
    expect(doc.components.securitySchemes.ScicatKeyAuth).toEqual({ type: 'apiKey', in: 'header', name: 'SciCat-API-Key' })
    expect(doc.security).toContainEqual({ ScicatKeyAuth: [] })
    expect(doc.paths['/version']!.get!.security).toEqual([])
    expect(doc.paths['/version']!.get!.responses).toMatchObject({
      200: { content: { 'application/json': { schema: { properties: { version: { type: 'string' } }, required: ['version'] } } } },
    })
  })
})

describe('docs and operations endpoints', () => {
  let setup: Setup
  let extra: Proxy | undefined
  beforeAll(async () => {
    setup = await startAll()
  })
  afterEach(async () => {
    await extra?.close()
    extra = undefined
  })
  afterAll(async () => {
    await setup?.close()
  })

  const get = (url: string, headers: Record<string, string> = {}, proxy: Proxy = setup.proxy) =>
    proxy.app.inject({ method: 'GET', url, headers })

  /** Follows redirects like a browser would. */
  async function follow (url: string): Promise<{ res: LightMyRequestResponse; hops: string[] }> {
    const hops = [url]
    let res = await get(url)
    while (res.statusCode >= 300 && res.statusCode < 400) {
      expect(hops.length).toBeLessThan(5)
      const next = new URL(String(res.headers.location), `http://proxy${hops.at(-1)}`)
      hops.push(next.pathname + next.search)
      res = await get(hops.at(-1)!)
    }
    return { res, hops }
  }

  function upstreamCounts (): string {
    const { world } = setup
    return JSON.stringify([[...world.scicat.core.counts], [...world.globus.core.counts]])
  }

  it('serves the document as YAML and JSON', async () => {
    const asYaml = await get('/openapi.yaml')
    expect(asYaml.statusCode).toBe(200)
    expect(asYaml.headers['content-type']).toMatch(/yaml/)
    expect(asYaml.body).toBe(readFileSync(new URL('../../openapi.yaml', import.meta.url), 'utf8'))
    expect(asYaml.body).toBe(specText)
    const asJson = await get('/openapi.json')
    expect(asJson.statusCode).toBe(200)
    expect(asJson.headers['content-type']).toMatch(/^application\/json/)
    expect(asJson.json()).toEqual(yaml.load(asYaml.body))
  })

  it.each(['/docs', '/docs/', '/docs/index.html'])('reaches Swagger UI from %s', async (url) => {
    const { res } = await follow(url)
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toMatch(/^text\/html/)
    expect(res.body).toMatch(/swagger/i)
  })

  it('answers /version with the package version, without a token', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
    const res = await get('/version')
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ version: pkg.version })
  })

  it('answers /health without any upstream call', async () => {
    const before = upstreamCounts()
    const res = await get('/health')
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ status: 'ok' })
    expect(upstreamCounts()).toBe(before)
  })

  it('answers /ready 200 when SciCat and Globus both answer', async () => {
    const res = await get('/ready')
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ status: 'ready', checks: { scicat: 'ok', globus: 'ok' } })
  })

  it('answers /ready 503 naming SciCat when the service login fails', async () => {
    const { world } = setup
    extra = await startProxy({
      ...world,
      credentials: { ...world.credentials, scicat: { username: 'globus-proxy', password: 'wrong-password' } },
    })
    const res = await get('/ready', {}, extra)
    expect(res.statusCode).toBe(503)
    expect(res.headers['content-type']).toMatch(/^application\/json/)
    const body = res.json() as { status: string; message: string; checks: { scicat: string; globus: string } }
    expect(body.status).toBe('unavailable')
    // like every error body, with a message (what the Ingestor's client reads)
    expect(body.message).toBe('not ready: SciCat does not accept the service account')
    expect(body.checks.globus).toBe('ok')
    expect(body.checks.scicat).not.toBe('ok')
    expect(body.checks.scicat).toContain('401')
    expect(res.body).not.toContain('wrong-password')
  })

  it('answers /ready for a SCICAT_SERVICE_TOKEN by asking SciCat whether it accepts it, cached like the rest', async () => {
    const { world } = setup
    const clock = new ManualClock(Date.now())
    const identity = () => world.scicat.core.count('identity')
    const valid = world.scicat.issueToken('globus-proxy', { expiresInSeconds: 3600 })
    extra = await startProxy({ ...world, credentials: { ...world.credentials, scicat: { token: valid } } }, '', clock)
    const before = identity()
    const ok = await get('/ready', {}, extra)
    expect(ok.statusCode).toBe(200)
    expect(ok.json()).toEqual({ status: 'ready', checks: { scicat: 'ok', globus: 'ok' } })
    expect(identity()).toBe(before + 1)
    await get('/ready', {}, extra)
    expect(identity()).toBe(before + 1)
    clock.advance(6000)
    await get('/ready', {}, extra)
    expect(identity()).toBe(before + 2)
    await extra.close()

    extra = await startProxy({ ...world, credentials: { ...world.credentials, scicat: { token: 'not-a-scicat-token' } } }, '', clock)
    const res = await get('/ready', {}, extra)
    expect(res.statusCode).toBe(503)
    const body = res.json() as { status: string; checks: { scicat: string; globus: string } }
    expect(body.status).toBe('unavailable')
    expect(body.checks.globus).toBe('ok')
    expect(body.checks.scicat).toMatch(/^scicat serviceIdentity: 401\b/)
    expect(res.body).not.toContain('not-a-scicat-token')
    expect(identity()).toBe(before + 3)
  })

  it('answers /ready 503 naming Globus when no Globus token can be obtained', async () => {
    extra = await startProxy(setup.world)
    setup.world.globus.core.inject('token', { status: 401, body: { error: 'invalid_client' } })
    const res = await get('/ready', {}, extra)
    expect(res.statusCode).toBe(503)
    const body = res.json() as { message: string; checks: { scicat: string; globus: string } }
    expect(body.message).toBe('not ready: no Globus token can be obtained')
    expect(body.checks.scicat).toBe('ok')
    expect(body.checks.globus).toContain('invalid_client')
  })

  it('exposes Prometheus metrics with upstream requests by service, operation and status', async () => {
    const { world, proxy } = setup
    const res = await proxy.app.inject({
      method: 'POST',
      url: `/transfer?${ingestorQuery(world.datasets[0]!.pid)}`,
      headers: { 'SciCat-API-Key': world.tokens.alice },
    })
    expect(res.statusCode, res.body).toBe(200)
    const metrics = await get('/metrics')
    expect(metrics.statusCode).toBe(200)
    expect(metrics.headers['content-type']).toMatch(/^text\/plain/)
    expect(metrics.body).toContain('# TYPE scicat_globus_proxy_upstream_requests_total counter')
    const line = (service: string, operation: string) =>
      new RegExp(`^scicat_globus_proxy_upstream_requests_total\\{service="${service}",operation="${operation}",status="(\\d+)"\\} (\\d+)$`, 'm')
    expect(metrics.body).toMatch(line('globus', 'transfer'))
    expect(metrics.body).toMatch(line('globus', 'submission_id'))
    expect(metrics.body).toMatch(line('scicat', 'createJob'))
    expect(metrics.body.match(line('globus', 'transfer'))![1]).toBe('202')
  })

  it('tells alice and carol which facilities they may use', async () => {
    const { world } = setup
    const alice = await get('/facilities', { 'SciCat-API-Key': world.tokens.alice })
    expect(alice.statusCode).toBe(200)
    expect(alice.json()).toEqual({
      facilities: [
        { name: 'PSI', direction: 'SRC', source: true, destination: false },
        { name: 'CSCS', direction: 'DST', source: false, destination: true },
      ],
    })
    const carol = await get('/facilities', { authorization: `Bearer ${world.tokens.carol}` })
    expect(carol.json()).toEqual({
      facilities: [
        { name: 'PSI', direction: 'SRC', source: false, destination: false },
        { name: 'CSCS', direction: 'DST', source: false, destination: false },
      ],
    })
    const anonymous = await get('/facilities')
    expect(anonymous.statusCode).toBe(401)
    expect(anonymous.json()).toMatchObject({ code: 'PROXY_UNAUTHENTICATED', message: expect.any(String) })
  })

  it('answers an unknown route or method with a JSON 404', async () => {
    for (const req of [
      { method: 'GET', url: '/nope?x=1' },
      { method: 'PUT', url: '/transfer' },
      { method: 'GET', url: '/transfer' },
      { method: 'POST', url: '/transfer/abc/cancel' },
    ] as const) {
      const res = await setup.proxy.app.inject(req)
      expect(res.statusCode).toBe(404)
      expect(res.headers['content-type']).toMatch(/^application\/json/)
      expect(res.json()).toEqual({ message: expect.stringContaining(req.url.split('?')[0]!), code: 'PROXY_NOT_FOUND' })
    }
  })
})

describe('while the app closes', () => {
  let setup: Setup | undefined
  afterEach(async () => {
    await setup?.close()
    setup = undefined
  })

  it('answers a request arriving on an open keep-alive connection with a JSON 503 PROXY_SHUTTING_DOWN', async () => {
    setup = await startAll()
    const [first, second] = await requestWhileClosing(setup, 'GET /health HTTP/1.1\r\nHost: proxy\r\n\r\n')
    // the request in flight is finished
    expect(first.status).toBe(200)
    expect(second.status).toBe(503)
    expect(second.text).toMatch(/^content-type: application\/json/im)
    expect(second.text).toMatch(/^retry-after: \d+/im)
    expect(second.text).toMatch(/^connection: close/im)
    expect(second.body).toEqual({ message: expect.any(String), code: 'PROXY_SHUTTING_DOWN' })
  })
})
