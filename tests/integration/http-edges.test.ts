// Requests refused before any route runs (by Node's HTTP parser or Fastify's router) still get a JSON error with a code.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Setup, startAll } from '../helpers/proxy.js'
import { parseAnswer, rawRequest } from '../helpers/raw-http.js'

let setup: Setup
let port: number
beforeAll(async () => {
  setup = await startAll()
  await setup.proxy.app.listen({ port: 0, host: '127.0.0.1' })
  port = (setup.proxy.app.server.address() as { port: number }).port
})
afterAll(async () => {
  await setup?.close()
})

const raw = (request: string) => rawRequest(port, request)
const parse = parseAnswer

describe('errors before any route', () => {
  it('a header with a control character: 400 JSON with a code', async () => {
    const { status, body } = parse(await raw('GET /health HTTP/1.1\r\nHost: x\r\nSciCat-API-Key: to\x01ken\r\n\r\n'))
    expect(status).toBe(400)
    expect(body).toEqual({ message: 'the request is not valid HTTP', code: 'PROXY_VALIDATION' })
  })

  it('headers over the size limit: 431 JSON with a code', async () => {
    const { status, body } = parse(await raw(`GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`))
    expect(status).toBe(431)
    expect(body).toEqual({ message: 'the request headers are too large', code: 'PROXY_VALIDATION' })
  })

  it('bad percent-encoding in the path: 400 JSON with a code, no upstream call', async () => {
    const reads = setup.world.scicat.core.count('getJob')
    const res = await fetch(`http://127.0.0.1:${port}/transfer/%FF%FE`, { headers: { 'SciCat-API-Key': setup.world.tokens.alice } })
    expect(res.status).toBe(400)
    expect(await res.json()).toEqual({ message: 'the URL is not valid (bad percent-encoding)', code: 'PROXY_VALIDATION' })
    expect(setup.world.scicat.core.count('getJob')).toBe(reads)
  })

  it('a path parameter over the length limit: 414 JSON with a code, without echoing the URL', async () => {
    const id = 'x'.repeat(5000)
    const res = await fetch(`http://127.0.0.1:${port}/transfer/${id}`, { headers: { 'SciCat-API-Key': setup.world.tokens.alice } })
    expect(res.status).toBe(414)
    const text = await res.text()
    expect(JSON.parse(text)).toEqual({ message: 'a path parameter is too long', code: 'PROXY_VALIDATION' })
    expect(text).not.toContain(id)
  })

  it('a path the static docs refuse (403) keeps the forbidden code', async () => {
    const answer = await raw('GET /docs/static/../../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
    const { status, body } = parse(answer)
    expect({ status, code: body.code }).toEqual({ status: 403, code: 'PROXY_FORBIDDEN' })
  })
})
