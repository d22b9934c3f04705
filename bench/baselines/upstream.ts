// Plain undici calls to the simulators for the baselines: no retries, no queues, no error mapping.
import { Agent, request } from 'undici'
import type { Credentials } from '../../src/config/credentials.js'

export class Upstream {
  readonly agent = new Agent({ connections: 64, keepAliveTimeout: 30_000 })

  constructor (readonly globusUrl: string, readonly scicatUrl: string) {}

  /** JSON call; throws on a status outside 2xx. */
  async json<T = Record<string, unknown>> (
    method: 'GET' | 'POST' | 'PATCH',
    url: string,
    options: { token?: string; body?: unknown; form?: string; basic?: string } = {}
  ): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' }
    if (options.token) headers.authorization = `Bearer ${options.token}`
    if (options.basic) headers.authorization = `Basic ${options.basic}`
    let body: string | undefined
    if (options.form !== undefined) {
      body = options.form
      headers['content-type'] = 'application/x-www-form-urlencoded'
    } else if (options.body !== undefined) {
      body = JSON.stringify(options.body)
      headers['content-type'] = 'application/json'
    }
    const res = await request(url, { dispatcher: this.agent, method, headers, body })
    const text = await res.body.text()
    if (res.statusCode < 200 || res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${text.slice(0, 200)}`)
    return (text ? JSON.parse(text) : undefined) as T
  }

  /** A client-credentials token of the service's Globus client. */
  async globusToken (credentials: Credentials, scope: string): Promise<string> {
    const { clientId, clientSecret } = credentials.globus
    const res = await this.json<{ access_token: string }>('POST', `${this.globusUrl}/v2/oauth2/token`, {
      basic: Buffer.from(`${clientId}:${clientSecret}`).toString('base64'),
      form: new URLSearchParams({ grant_type: 'client_credentials', scope }).toString(),
    })
    return res.access_token
  }

  /** The SciCat service account's token (POST /api/v3/auth/login). */
  async scicatToken (credentials: Credentials): Promise<string> {
    if ('token' in credentials.scicat) return credentials.scicat.token
    const res = await this.json<{ access_token: string }>('POST', `${this.scicatUrl}/api/v3/auth/login`, {
      body: { username: credentials.scicat.username, password: credentials.scicat.password },
    })
    return res.access_token
  }

  close (): Promise<void> {
    return this.agent.close()
  }
}

/** Runs `work` over `items` with at most `concurrency` at a time. */
export async function pool<T> (items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < items.length) await work(items[next++]!)
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker))
}
