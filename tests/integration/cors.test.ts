import { afterEach, describe, expect, it } from 'vitest'
import { parseConfig } from '../../src/config/loader.js'
import { type Setup, startAll } from '../helpers/proxy.js'

let setup: Setup
afterEach(async () => {
  await setup?.close()
})

const allowed = 'https://scicat.example.org'
const foreign = 'https://elsewhere.example.com'
const withCors = `server:\n  cors:\n    origins: [${allowed}, "http://localhost:4200"]\n`

function preflight (origin: string, method = 'POST', headers = 'scicat-api-key,content-type,idempotency-key') {
  return setup.proxy.app.inject({
    method: 'OPTIONS',
    url: '/transfer?sourceFacility=PSI',
    headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': headers },
  })
}

describe('CORS (server.cors.origins)', () => {
  it('answers a preflight from an allowed origin with the API\'s headers and methods', async () => {
    setup = await startAll({}, withCors)
    const res = await preflight(allowed)
    expect(res.statusCode).toBe(204)
    expect(res.headers['access-control-allow-origin']).toBe(allowed)
    const allowHeaders = String(res.headers['access-control-allow-headers']).toLowerCase().split(/,\s*/)
    expect(allowHeaders).toEqual(['scicat-api-key', 'authorization', 'content-type', 'idempotency-key'])
    expect(String(res.headers['access-control-allow-methods']).split(/,\s*/)).toEqual(['GET', 'POST', 'DELETE'])
    expect(res.headers.vary).toContain('Origin')
    // the second origin of the list too
    expect((await preflight('http://localhost:4200', 'DELETE')).headers['access-control-allow-origin']).toBe('http://localhost:4200')
  })

  it('gives a foreign origin no CORS header, in a preflight or a simple request', async () => {
    setup = await startAll({}, withCors)
    const pre = await preflight(foreign)
    // without Access-Control-Allow-Origin the browser refuses to send the request
    expect(pre.headers['access-control-allow-origin']).toBeUndefined()
    expect(pre.headers['access-control-allow-credentials']).toBeUndefined()
    const simple = await setup.proxy.app.inject({
      method: 'GET',
      url: '/facilities',
      headers: { origin: foreign, 'scicat-api-key': setup.world.tokens.alice },
    })
    expect(simple.statusCode).toBe(200)
    expect(simple.headers['access-control-allow-origin']).toBeUndefined()
    // a look-alike of an allowed origin is foreign too
    const lookalike = await preflight(`${allowed}.evil.example`)
    expect(lookalike.headers['access-control-allow-origin']).toBeUndefined()
  })

  it('marks simple requests from an allowed origin, errors included, and lets the page read Retry-After', async () => {
    setup = await startAll({}, withCors)
    const ok = await setup.proxy.app.inject({
      method: 'GET',
      url: '/facilities',
      headers: { origin: allowed, 'scicat-api-key': setup.world.tokens.alice },
    })
    expect(ok.statusCode).toBe(200)
    expect(ok.headers['access-control-allow-origin']).toBe(allowed)
    expect(ok.headers['access-control-expose-headers']).toBe('Retry-After')
    const denied = await setup.proxy.app.inject({ method: 'POST', url: '/transfer', headers: { origin: allowed } })
    expect(denied.statusCode).toBe(401)
    expect(denied.json().code).toBe('PROXY_UNAUTHENTICATED')
    expect(denied.headers['access-control-allow-origin']).toBe(allowed)
  })

  it('sends no CORS header at all without server.cors.origins', async () => {
    setup = await startAll()
    const pre = await preflight(allowed)
    expect(pre.statusCode).toBe(404)
    expect(pre.json().code).toBe('PROXY_NOT_FOUND')
    expect(Object.keys(pre.headers).filter((h) => h.startsWith('access-control-'))).toEqual([])
    const simple = await setup.proxy.app.inject({ method: 'GET', url: '/version', headers: { origin: allowed } })
    expect(Object.keys(simple.headers).filter((h) => h.startsWith('access-control-'))).toEqual([])
  })

  it('refuses an allowlist entry that is not an origin, at load', () => {
    const base = 'scicatUrl: http://scicat\nfacilities: [{name: A, collection: c}]\n'
    const problems = (origins: string) => {
      try {
        parseConfig(`${base}server: {cors: {origins: ${origins}}}\n`, 'test', {})
        return []
      } catch (err) {
        return String((err as Error).message).split('\n').filter((l) => l.includes('server.cors'))
      }
    }
    expect(problems('["https://scicat.example.org/", "scicat.example.org", "*", "https://a.example:8443"]')).toEqual([
      expect.stringContaining('server.cors.origins[0]: "https://scicat.example.org/" is not an origin such as https://scicat.example.org (did you mean "https://scicat.example.org"?)'),
      expect.stringContaining('server.cors.origins[1]'),
      expect.stringContaining('server.cors.origins[2]'),
    ])
    expect(parseConfig(`${base}server: {cors: {origins: ["https://a.example:8443"]}}\n`, 'test', {}).server.cors.origins).toEqual([
      'https://a.example:8443',
    ])
    expect(parseConfig(base, 'test', {}).server.cors.origins).toEqual([])
  })
})
