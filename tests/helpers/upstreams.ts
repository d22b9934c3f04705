// Upstream clients pointed at the simulators (small retry delays), and a proxy recording what they send.
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Agent, request } from 'undici'
import { GlobusClient } from '../../src/globus/client.js'
import { GlobusTokens, type ScopedFacility } from '../../src/globus/token-sets.js'
import { HttpClient, type HttpClientOptions } from '../../src/http/client.js'
import { GlobusSimulator, type GlobusSimOptions } from '../../src/sandbox/globus-sim/index.js'
import { ScicatSimulator, type ScicatSimOptions } from '../../src/sandbox/scicat-sim/index.js'
import { ManualClock } from '../../src/sandbox/sim-core.js'
import { ScicatClient } from '../../src/scicat/client.js'
import { LoginServiceToken, type ServiceToken, StaticServiceToken } from '../../src/scicat/service-token.js'

export const TRANSFER_SCOPE = 'urn:globus:auth:scope:transfer.api.globus.org:all'
export const SRC = 'aa752cea-8222-5bc8-acd9-555b090c0ccb'
export const DST = '313ce13e-b597-5858-ae13-29e46fea26e6'
/** A collection whose transfers need its data_access scope in the token. */
export const GUARDED = '5b9bd3c4-2a7d-4d6c-9d83-1f5b1b6a0c11'
/** A collection without a data_access scope (a guest collection): Globus Auth refuses to name it. */
export const GUEST = '9c3f6a1e-0d4b-4e8a-b7a2-6f1d2c3b4a5e'
export const CLIENT_ID = 'sandbox-client'
export const CLIENT_SECRET = 'sandbox-secret'

export function dataAccess (collection: string): string {
  return `https://auth.globus.org/scopes/${collection}/data_access`
}

/** Retries without real waits: tests that measure waits set their own policy. */
export const fastRetry = { baseDelayMs: 5, maxDelayMs: 50 }

/** Everything a test opened, closed in reverse order by `close()` (call it in afterEach). */
export class Resources {
  private readonly closers: Array<() => Promise<void>> = []

  defer (fn: () => Promise<void>): void {
    this.closers.push(fn)
  }

  async close (): Promise<void> {
    for (const fn of this.closers.splice(0).reverse()) await fn()
  }

  async tempDir (): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'upstreams-'))
    this.defer(() => rm(dir, { recursive: true, force: true }))
    return dir
  }

  http (options: HttpClientOptions): HttpClient {
    const http = new HttpClient({ ...options, retry: { ...fastRetry, ...options.retry } })
    this.defer(() => http.close())
    return http
  }
}

export interface GlobusSetup {
  sim: GlobusSimulator
  clock: ManualClock
  url: string
}

/** A listening Globus simulator on a ManualClock with SRC, DST and GUARDED on temp folders. */
export async function startGlobus (res: Resources, options: GlobusSimOptions = {}): Promise<GlobusSetup> {
  const clock = new ManualClock()
  const src = await res.tempDir()
  const dst = await res.tempDir()
  const sim = new GlobusSimulator({
    clock,
    collections: {
      [SRC]: { root: src },
      [DST]: { root: dst },
      [GUARDED]: { root: dst, requireDataAccessConsent: true },
      [GUEST]: { root: dst, hasDataAccessScope: false },
    },
    ...options,
  })
  const { url } = await sim.listen()
  res.defer(() => sim.close())
  return { sim, clock, url }
}

export interface GlobusClientOptions {
  /** Transfer API base URL. */
  url: string
  /** Globus Auth base URL (default: `url`). */
  authUrl?: string
  clientId?: string
  clientSecret?: string
  /** The scopes of every facility (default: the Transfer scope alone). */
  scopes?: string[]
  /** Default: `src` (SRC), `dst` (DST) and `guarded` (GUARDED), each with `scopes`. */
  facilities?: ScopedFacility[]
  now?: () => number
  http?: Partial<HttpClientOptions>
}

export function buildGlobus (res: Resources, options: GlobusClientOptions) {
  const common = { service: 'globus' as const, ...options.http }
  const authHttp = res.http({ ...common, baseUrl: options.authUrl ?? options.url })
  const transferHttp = res.http({ ...common, baseUrl: options.url })
  const scopes = options.scopes ?? [TRANSFER_SCOPE]
  const tokens = new GlobusTokens(
    authHttp,
    { clientId: options.clientId ?? CLIENT_ID, clientSecret: options.clientSecret ?? CLIENT_SECRET },
    options.facilities ?? [
      { name: 'src', collection: SRC, scopes },
      { name: 'dst', collection: DST, scopes },
      { name: 'guarded', collection: GUARDED, scopes },
    ],
    options.now
  )
  return { client: new GlobusClient(transferHttp, tokens), tokens, http: transferHttp }
}

export interface ScicatSetup {
  sim: ScicatSimulator
  clock: ManualClock
  url: string
}

export async function startScicat (res: Resources, options: ScicatSimOptions = {}): Promise<ScicatSetup> {
  const clock = new ManualClock()
  const sim = new ScicatSimulator({ clock, ...options })
  const { url } = await sim.listen()
  res.defer(() => sim.close())
  return { sim, clock, url }
}

export interface ScicatClientOptions {
  url: string
  /** Log in as this account (default), or use `staticToken` as it is. */
  username?: string
  password?: string
  staticToken?: string
  now?: () => number
  http?: Partial<HttpClientOptions>
}

export function buildScicat (res: Resources, options: ScicatClientOptions) {
  const http = res.http({ service: 'scicat', baseUrl: options.url, ...options.http })
  const service: ServiceToken =
    options.staticToken !== undefined
      ? new StaticServiceToken(options.staticToken)
      : new LoginServiceToken(http, options.username ?? 'globus-proxy', options.password ?? 'proxy-pw', options.now)
  return { client: new ScicatClient(http, service), service, http }
}

export interface RecordedRequest {
  method: string
  /** Path and query, as sent. */
  url: string
  headers: IncomingHttpHeaders
  body: string
  /** When the request arrived (Date.now()). */
  at: number
}

const HOP_BY_HOP = new Set(['host', 'connection', 'keep-alive', 'transfer-encoding', 'content-length'])

/** A loopback proxy in front of `target` that records every request before forwarding it. */
export async function recordingProxy (
  res: Resources,
  target: string
): Promise<{ url: string; requests: RecordedRequest[] }> {
  const requests: RecordedRequest[] = []
  const agent = new Agent()
  const server = createServer((req, out) => {
    const forward = async () => {
      const chunks: Buffer[] = []
      for await (const chunk of req) chunks.push(chunk as Buffer)
      const body = Buffer.concat(chunks)
      requests.push({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body: body.toString(), at: Date.now() })
      const headers = Object.fromEntries(
        Object.entries(req.headers).filter(([name]) => !HOP_BY_HOP.has(name))
      ) as Record<string, string>
      const upstream = await request(`${target}${req.url ?? '/'}`, {
        dispatcher: agent,
        method: (req.method ?? 'GET') as 'GET',
        headers,
        body: body.length > 0 ? body : undefined,
      })
      const payload = Buffer.from(await upstream.body.arrayBuffer())
      const outHeaders = Object.fromEntries(
        Object.entries(upstream.headers).filter(([name]) => !HOP_BY_HOP.has(name))
      )
      out.writeHead(upstream.statusCode, { ...outHeaders, 'content-length': String(payload.length) })
      out.end(payload)
    }
    forward().catch(() => out.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  res.defer(async () => {
    await new Promise<void>((resolve) => {
      server.close(() => resolve())
      server.closeAllConnections()
    })
    await agent.close()
  })
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests }
}

/** Polls `condition` until it holds; throws after `timeoutMs`. */
export async function until (condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time')
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
}
