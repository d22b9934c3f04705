// A standby instance (ha.lease): /health, /ready, /metrics answer; every API route 503 PROXY_STANDBY; no upstream call.
import { afterEach, describe, expect, it } from 'vitest'
import type { Role, RoleSource } from '../../src/ha/role.js'
import { createLogger } from '../../src/logger.js'
import { startWorld, type World } from '../../src/sandbox/world.js'
import { buildService, type Service } from '../../src/service.js'
import { ingestorQuery } from '../helpers/proxy.js'

let world: World | undefined
let service: Service | undefined
afterEach(async () => {
  await service?.close()
  await world?.close()
  service = undefined
  world = undefined
})

class FixedRole implements RoleSource {
  retryAfterSeconds = 15
  constructor (public role: Role, public holder: string) {}
  mayWrite (): boolean {
    return this.role === 'active'
  }
}

async function start (role?: RoleSource): Promise<{ w: World; s: Service }> {
  // the precise statuses: under the default server.errorStatuses a DELETE's 503 is answered 500
  const w = await startWorld({ configExtra: 'server:\n  errorStatuses: http\n' })
  world = w
  const s = await buildService(w.config, w.credentials, { logger: createLogger('silent'), ...(role ? { role } : {}) })
  service = s
  return { w, s }
}

const upstreamCalls = (w: World) =>
  [...w.globus.core.counts.values(), ...w.scicat.core.counts.values()].reduce((n, c) => n + c, 0)

describe('a standby instance', () => {
  it('answers health, metrics, version and the API documents, is not ready, and calls neither Globus nor SciCat', async () => {
    const { w, s } = await start(new FixedRole('standby', 'pod-a'))
    const inject = (url: string) => s.app.inject({ method: 'GET', url })
    expect((await inject('/health')).statusCode).toBe(200)
    expect((await inject('/version')).statusCode).toBe(200)
    expect((await inject('/metrics')).statusCode).toBe(200)
    expect((await inject('/openapi.json')).statusCode).toBe(200)
    const ready = await inject('/ready')
    expect(ready.statusCode).toBe(503)
    expect(ready.json()).toEqual({
      status: 'unavailable',
      role: 'standby',
      message: 'this instance is standby; the active instance is pod-a',
    })
    expect(upstreamCalls(w)).toBe(0)
  })

  it('answers every API route 503 PROXY_STANDBY with Retry-After, before authentication, without any upstream call', async () => {
    const { w, s } = await start(new FixedRole('standby', ''))
    const headers = { 'SciCat-API-Key': w.tokens.alice }
    const requests = [
      { method: 'POST' as const, url: `/transfer?${ingestorQuery(w.datasets[0]!.pid)}`, headers },
      { method: 'GET' as const, url: '/transfer/some-job', headers },
      { method: 'DELETE' as const, url: '/transfer/some-job', headers },
      { method: 'GET' as const, url: '/facilities', headers },
      { method: 'POST' as const, url: `/transfer?${ingestorQuery(w.datasets[0]!.pid)}` },
    ]
    for (const r of requests) {
      const res = await s.app.inject(r)
      expect(res.statusCode, `${r.method} ${r.url}`).toBe(503)
      expect(res.headers['retry-after']).toBe('15')
      expect(res.json()).toEqual({ code: 'PROXY_STANDBY', message: 'this instance is standby; no instance is active right now' })
    }
    expect(upstreamCalls(w)).toBe(0)
    expect(w.scicat.jobs()).toEqual([])
  })

  it('serves the API once active, and /ready then names its role', async () => {
    const role = new FixedRole('standby', 'pod-a')
    const { w, s } = await start(role)
    role.role = 'active'
    role.holder = 'pod-b'
    const res = await s.app.inject({ method: 'POST', url: `/transfer?${ingestorQuery(w.datasets[0]!.pid)}`, headers: { 'SciCat-API-Key': w.tokens.alice } })
    expect(res.statusCode, res.body).toBe(200)
    const ready = await s.app.inject({ method: 'GET', url: '/ready' })
    expect(ready.json()).toEqual({ status: 'ready', checks: { scicat: 'ok', globus: 'ok' }, role: 'active' })
  })

  it('without ha.lease nothing changes: /ready has no role', async () => {
    const { s } = await start()
    const ready = await s.app.inject({ method: 'GET', url: '/ready' })
    expect(ready.json()).toEqual({ status: 'ready', checks: { scicat: 'ok', globus: 'ok' } })
  })
})
