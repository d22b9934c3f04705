// The service account's Globus token (client credentials): cached, renewed early, fetched once at a time.
import type { HttpClient } from '../http/client.js'
import { UpstreamError } from '../http/upstream-error.js'
import { mergeScopes } from './scopes.js'

interface CachedToken {
  token: string
  renewAt: number
}

export class GlobusTokenProvider {
  private scopes: string[]
  private cached: CachedToken | undefined
  private inflight: { generation: number; promise: Promise<string> } | undefined
  /** Bumped whenever the scopes change, so a fetch started before does not overwrite the cache. */
  private generation = 0

  constructor (
    private readonly http: HttpClient,
    private readonly clientId: string,
    private readonly clientSecret: string,
    scopes: string[],
    private readonly now: () => number = Date.now
  ) {
    this.scopes = mergeScopes(scopes)
  }

  get scopeString (): string {
    return this.scopes.join(' ')
  }

  /** A valid token; at most one token request is in flight however many callers wait. */
  async token (): Promise<string> {
    if (this.cached && this.now() < this.cached.renewAt) return this.cached.token
    // A fetch started before addScopes() would bring a token without the scopes just added
    if (this.inflight?.generation !== this.generation) {
      const promise: Promise<string> = this.fetch().finally(() => {
        if (this.inflight?.promise === promise) this.inflight = undefined
      })
      this.inflight = { generation: this.generation, promise }
    }
    return this.inflight.promise
  }

  /** Drops `token` after a 401, unless a newer one has replaced it already. */
  invalidate (token: string): void {
    if (this.cached?.token === token) this.cached = undefined
  }

  /** Merges scopes Globus asked for (ConsentRequired); returns whether anything was new. */
  addScopes (required: string[]): boolean {
    const merged = mergeScopes([...this.scopes, ...required])
    if (merged.join(' ') === this.scopeString) return false
    this.scopes = merged
    this.cached = undefined
    this.generation++
    return true
  }

  private async fetch (): Promise<string> {
    const generation = this.generation
    // Not form-encoded first: the Globus SDK sends id:secret as they are
    const basic = Buffer.from(`${this.clientId}:${this.clientSecret}`).toString('base64')
    const form = new URLSearchParams({ grant_type: 'client_credentials', scope: this.scopeString })
    const started = this.now()
    const res = await this.http.send<{ access_token?: unknown; expires_in?: unknown }>({
      operation: 'token',
      method: 'POST',
      path: '/v2/oauth2/token',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
      retry: true,
    })
    const token = res.body?.access_token
    const lifetime = Number(res.body?.expires_in)
    if (typeof token !== 'string' || !Number.isFinite(lifetime)) {
      throw UpstreamError.malformed('globus', 'token', 'no access_token and expires_in')
    }
    // Renew at the later of 60 s before expiry and half the lifetime, so that short-lived
    // tokens are not fetched again on every call.
    const renewAt = started + Math.max(lifetime - 60, lifetime / 2) * 1000
    if (generation === this.generation) this.cached = { token, renewAt }
    return token
  }
}
