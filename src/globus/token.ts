// One Globus client-credentials token for one scope set: cached, renewed early, fetched once at a time.
import type { HttpClient } from '../http/client.js'
import { UpstreamError } from '../http/upstream-error.js'

export const TRANSFER_RESOURCE_SERVER = 'transfer.api.globus.org'
export const TRANSFER_SCOPE = 'urn:globus:auth:scope:transfer.api.globus.org:all'

/** How long a scope set Globus Auth refused is answered from memory before Auth is asked again. */
export const refusalMemoryMs = 60_000

export interface ClientCredentials {
  clientId: string
  clientSecret: string
}

interface CachedToken {
  token: string
  renewAt: number
}

interface TokenBody {
  access_token?: unknown
  expires_in?: unknown
  resource_server?: unknown
  other_tokens?: unknown
}

/**
 * The Transfer token of a token response: the one whose `resource_server` is
 * transfer.api.globus.org, at the top level or in `other_tokens` (Globus Auth answers one
 * token per resource server; the SDK indexes them the same way, globus_sdk/response/oauth.py
 * `by_resource_server`). A response without `resource_server` at all is taken as Transfer's.
 */
export function transferToken (body: TokenBody | undefined): TokenBody | undefined {
  if (!body) return undefined
  const all = [body, ...(Array.isArray(body.other_tokens) ? (body.other_tokens as TokenBody[]) : [])]
  const named = all.filter((t) => typeof t === 'object' && t !== null && t.resource_server !== undefined)
  if (named.length === 0) return body
  return named.find((t) => t.resource_server === TRANSFER_RESOURCE_SERVER)
}

/** Whether Globus Auth refused the request itself (a scope it does not know, ...), not the service's credentials. */
export function isScopeRefusal (err: unknown): err is UpstreamError {
  return (
    err instanceof UpstreamError &&
    err.operation === 'token' &&
    err.status !== undefined &&
    err.status >= 400 &&
    err.status < 500 &&
    err.status !== 401 &&
    err.status !== 429
  )
}

export class ScopedToken {
  readonly scopeString: string
  private cached: CachedToken | undefined
  private inflight: Promise<string> | undefined
  private refused: { error: UpstreamError; until: number } | undefined

  constructor (
    private readonly http: HttpClient,
    private readonly credentials: ClientCredentials,
    readonly scopes: string[],
    private readonly now: () => number = Date.now
  ) {
    this.scopeString = scopes.join(' ')
  }

  /** A valid Transfer token; at most one token request is in flight however many callers wait. */
  async token (): Promise<string> {
    if (this.cached && this.now() < this.cached.renewAt) return this.cached.token
    if (this.refused && this.now() < this.refused.until) throw this.refused.error
    this.inflight ??= this.fetch().finally(() => {
      this.inflight = undefined
    })
    return this.inflight
  }

  /** Drops `token` after a 401, unless a newer one has replaced it already. */
  invalidate (token: string): void {
    if (this.cached?.token === token) this.cached = undefined
  }

  private async fetch (): Promise<string> {
    // Not form-encoded first: the Globus SDK sends id:secret as they are
    const { clientId, clientSecret } = this.credentials
    const basic = Buffer.from(`${clientId}:${clientSecret}`).toString('base64')
    const form = new URLSearchParams({ grant_type: 'client_credentials', scope: this.scopeString })
    const started = this.now()
    let body: TokenBody | undefined
    try {
      body = (
        await this.http.send<TokenBody>({
          operation: 'token',
          method: 'POST',
          path: '/v2/oauth2/token',
          headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
          body: form.toString(),
          retry: true,
        })
      ).body
    } catch (err) {
      if (isScopeRefusal(err)) {
        const error = new UpstreamError({
          service: 'globus',
          operation: 'token',
          status: err.status,
          code: err.code,
          message: `Globus Auth refused the scopes "${this.scopeString}": ${err.message}`,
          requestId: err.requestId,
          cause: err,
        })
        this.refused = { error, until: this.now() + refusalMemoryMs }
        throw error
      }
      throw err
    }
    const picked = transferToken(body)
    if (!picked) {
      throw UpstreamError.malformed(
        'globus',
        'token',
        `no token for ${TRANSFER_RESOURCE_SERVER} among the tokens issued for the scopes "${this.scopeString}" (do they include ${TRANSFER_SCOPE}?)`
      )
    }
    const token = picked.access_token
    const lifetime = Number(picked.expires_in)
    if (typeof token !== 'string' || !Number.isFinite(lifetime)) {
      throw UpstreamError.malformed('globus', 'token', 'no access_token and expires_in')
    }
    this.refused = undefined
    // Renew at the later of 60 s before expiry and half the lifetime, so that short-lived
    // tokens are not fetched again on every call.
    this.cached = { token, renewAt: started + Math.max(lifetime - 60, lifetime / 2) * 1000 }
    return token
  }
}
