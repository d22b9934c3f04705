// The SciCat service account's token: a login renewed before expiry (single-flight), or a fixed token.
import type { HttpClient } from '../http/client.js'
import { UpstreamError } from '../http/upstream-error.js'

export interface ServiceToken {
  token(): Promise<string>
  /** Called after a 401/403 with `token`; returns whether a new token may help. */
  invalidate(token: string): boolean
}

/** SCICAT_SERVICE_TOKEN: used as is, nothing to renew. */
export class StaticServiceToken implements ServiceToken {
  constructor (private readonly value: string) {}
  async token (): Promise<string> {
    return this.value
  }

  invalidate (): boolean {
    return false
  }
}

export class LoginServiceToken implements ServiceToken {
  private cached: { token: string; renewAt: number } | undefined
  private inflight: Promise<string> | undefined

  constructor (
    private readonly http: HttpClient,
    private readonly username: string,
    private readonly password: string,
    private readonly now: () => number = Date.now
  ) {}

  async token (): Promise<string> {
    if (this.cached && this.now() < this.cached.renewAt) return this.cached.token
    this.inflight ??= this.login().finally(() => {
      this.inflight = undefined
    })
    return this.inflight
  }

  invalidate (token: string): boolean {
    if (this.cached?.token === token) this.cached = undefined
    return true
  }

  private async login (): Promise<string> {
    const res = await this.http.send<{ access_token?: unknown; expires_in?: unknown; created?: unknown }>({
      operation: 'login',
      method: 'POST',
      path: '/api/v3/auth/login',
      body: { username: this.username, password: this.password },
      retry: true,
    })
    const { access_token: token, expires_in: expiresIn, created } = res.body ?? {}
    if (typeof token !== 'string') throw UpstreamError.malformed('scicat', 'login', 'no access_token')
    const lifetimeMs = (Number.isFinite(Number(expiresIn)) ? Number(expiresIn) : 3600) * 1000
    const createdMs = typeof created === 'string' ? Date.parse(created) : Number.NaN
    // Expiry is created + expires_in (SciCat's own clock); renew at 80% of the lifetime, or
    // 60 s before expiry when that is later, so a clock skew of a minute still works.
    const start = Number.isFinite(createdMs) ? Math.min(createdMs, this.now()) : this.now()
    this.cached = { token, renewAt: start + Math.max(lifetimeMs * 0.8, lifetimeMs - 60_000) }
    return token
  }
}
