// The simulators' server hands msw only the handlers that can match a request: what it leaves out
// must never change which handler answers.
import { http, HttpResponse, type RequestHandler } from 'msw'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ServedHandlers, serveHandlers } from '../../src/sandbox/msw-server.js'

let served: ServedHandlers
let handlers: RequestHandler[] = []

const answer = (name: string) => () => HttpResponse.json({ name })

beforeAll(async () => {
  served = await serveHandlers(() => handlers)
  const at = (path: string) => `${served.url}${path}`
  handlers = [
    http.get(at('/api/v4/jobs/fullfacet'), answer('fullfacet')),
    http.get(at('/api/v4/jobs/:id'), answer('job')),
    http.patch(at('/api/v4/jobs/:id'), answer('patch job')),
    http.get(at('/api/v4/jobs'), answer('jobs')),
    http.get(/\/regexp\/\d+$/, answer('regexp')),
    http.get('*/anywhere/:thing', answer('wildcard')),
  ]
})

afterAll(async () => {
  await served.close()
})

async function nameOf (method: string, path: string): Promise<string | number> {
  const res = await fetch(`${served.url}${path}`, { method })
  if (res.status !== 200) return res.status
  return ((await res.json()) as { name: string }).name
}

describe('serveHandlers', () => {
  it('answers each request with the first handler msw matches, as without the pre-selection', async () => {
    expect(await nameOf('GET', '/api/v4/jobs/fullfacet')).toBe('fullfacet')
    expect(await nameOf('GET', '/api/v4/jobs/abc')).toBe('job')
    expect(await nameOf('PATCH', '/api/v4/jobs/abc')).toBe('patch job')
    expect(await nameOf('GET', '/api/v4/jobs?filter=%7B%7D')).toBe('jobs')
  })

  it('matches string paths case-insensitively, as msw (and SciCat\'s routing) does', async () => {
    expect(await nameOf('GET', '/API/V4/Jobs/abc')).toBe('job')
    expect(await nameOf('GET', '/Api/v4/JOBS')).toBe('jobs')
  })

  it('still tries handlers whose path is a RegExp or starts with a wildcard', async () => {
    expect(await nameOf('GET', '/regexp/42')).toBe('regexp')
    expect(await nameOf('GET', '/anywhere/x')).toBe('wildcard')
  })

  it('answers 404 when no handler has the method and path', async () => {
    expect(await nameOf('DELETE', '/api/v4/jobs/abc')).toBe(404)
    expect(await nameOf('GET', '/api/v3/jobs/abc')).toBe(404)
  })
})
