// The page's files as the service serves them (built into dist/ui by npm run build, which `npm test` runs first).
import { afterEach, describe, expect, it } from 'vitest'
import { type Setup, startAll } from '../helpers/proxy.js'

let setup: Setup
afterEach(async () => {
  await setup?.close()
})

describe('the web page at /ui/', () => {
  it('serves the page, its script and its style from this origin only, under a strict Content-Security-Policy', async () => {
    setup = await startAll()
    const { app } = setup.proxy
    const redirect = await app.inject({ method: 'GET', url: '/ui' })
    expect(redirect.statusCode).toBe(301)
    expect(redirect.headers.location).toBe('/ui/')
    const page = await app.inject({ method: 'GET', url: '/ui/' })
    expect(page.statusCode).toBe(200)
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8')
    const csp = String(page.headers['content-security-policy'])
    expect(csp).toContain("default-src 'none'")
    expect(csp).toContain("connect-src 'self'")
    expect(csp).toContain("script-src 'self'")
    expect(page.body).toContain('<script type="module" src="main.js"></script>')
    // nothing from another origin: no CDN, no web font
    expect(page.body).not.toMatch(/(src|href)="(https?:)?\/\//)
    for (const [file, type] of [['main.js', 'text/javascript'], ['api.js', 'text/javascript'], ['style.css', 'text/css']]) {
      const res = await app.inject({ method: 'GET', url: `/ui/${file}` })
      expect({ file, status: res.statusCode, type: res.headers['content-type'] }).toEqual({ file, status: 200, type: `${type}; charset=utf-8` })
      expect(res.body).not.toMatch(/https?:\/\//)
    }
    expect((await app.inject({ method: 'GET', url: '/ui/style.css' })).body).not.toContain('@import')
  })

  it('answers anything else under /ui/ with a JSON 404', async () => {
    setup = await startAll()
    for (const url of ['/ui/missing.js', '/ui/%2E%2E%2Fpackage.json', '/ui/main.ts', '/ui/sub/main.js']) {
      const res = await setup.proxy.app.inject({ method: 'GET', url })
      expect({ url, status: res.statusCode, code: res.json().code }).toEqual({ url, status: 404, code: 'PROXY_NOT_FOUND' })
    }
  })
})
