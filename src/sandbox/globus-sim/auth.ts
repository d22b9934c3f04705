// Simulated Globus Auth: client-credentials tokens, their scopes and their validity.
import { randomBytes, randomUUID } from 'node:crypto'
import { HttpResponse } from 'msw'
import { parseScope, splitScopes } from '../../globus/scopes.js'
import type { Clock } from '../sim-core.js'
import type { IssuedToken } from './types.js'

export const TRANSFER_SCOPE = 'urn:globus:auth:scope:transfer.api.globus.org:all'

export function dataAccessScope (collection: string): string {
  return `https://auth.globus.org/scopes/${collection}/data_access`
}

/** Top-level scopes of a scope string, each with its dependent scopes (`*` optional marker removed). */
export function parseScopes (scope: string): Map<string, string[]> {
  const result = new Map<string, string[]>()
  for (const entry of splitScopes(scope)) {
    const { base, deps } = parseScope(entry)
    result.set(base, [...(result.get(base) ?? []), ...deps.map((d) => d.replace(/^\*/, ''))])
  }
  return result
}

/**
 * `Authorization: Basic base64(id:secret)` → the [id, secret] readings to accept: as sent (what
 * the Globus SDK does), and form-urldecoded (RFC 6749 §2.3.1) when that differs.
 */
export function parseBasic (header: string | null): Array<[string, string]> {
  const match = /^Basic\s+(\S+)$/i.exec(header ?? '')
  if (!match?.[1]) return []
  const decoded = Buffer.from(match[1], 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon < 0) return []
  const raw: [string, string] = [decoded.slice(0, colon), decoded.slice(colon + 1)]
  const formDecode = (s: string) => {
    try {
      return decodeURIComponent(s.replace(/\+/g, ' '))
    } catch {
      return s
    }
  }
  const form: [string, string] = [formDecode(raw[0]), formDecode(raw[1])]
  return form[0] === raw[0] && form[1] === raw[1] ? [raw] : [raw, form]
}

interface TokenRecord extends IssuedToken {
  revoked: boolean
}

export class TokenStore {
  private readonly issued = new Map<string, TokenRecord>()

  constructor (
    private readonly clock: Clock,
    private readonly lifetimeSeconds: number
  ) {}

  issue (clientId: string, scope: string): IssuedToken & { expiresIn: number } {
    const token = randomBytes(24).toString('base64url')
    const record: TokenRecord = {
      token,
      clientId,
      scope,
      expiresAt: this.clock.now() + this.lifetimeSeconds * 1000,
      revoked: false,
    }
    this.issued.set(token, record)
    return { ...this.view(record), expiresIn: this.lifetimeSeconds }
  }

  /** The valid, unexpired transfer token named by an `Authorization: Bearer` header. */
  validate (header: string | null): IssuedToken | undefined {
    const match = /^Bearer\s+(\S+)$/i.exec(header ?? '')
    const record = match?.[1] ? this.issued.get(match[1]) : undefined
    if (!record || record.revoked || this.clock.now() >= record.expiresAt) {
      return undefined
    }
    if (!parseScopes(record.scope).has(TRANSFER_SCOPE)) return undefined
    return this.view(record)
  }

  revokeAll (): void {
    for (const record of this.issued.values()) record.revoked = true
  }

  /** Every token issued so far, in issue order (expired and revoked ones included). */
  list (): IssuedToken[] {
    return [...this.issued.values()].map((r) => this.view(r))
  }

  private view (r: TokenRecord): IssuedToken {
    return {
      token: r.token,
      clientId: r.clientId,
      scope: r.scope,
      expiresAt: r.expiresAt,
    }
  }
}

/**
 * The resource server a top-level scope belongs to: `urn:globus:auth:scope:<server>:<name>`,
 * `https://auth.globus.org/scopes/<server>/<name>`, and OpenID Connect scopes for Globus Auth
 * itself (globus_sdk/scopes: each scope collection names its resource_server this way).
 */
export function resourceServerOf (scope: string): string {
  const urn = /^urn:globus:auth:scope:([^:]+):/.exec(scope)
  if (urn?.[1]) return urn[1]
  const url = /^https:\/\/auth\.globus\.org\/scopes\/([^/]+)\//.exec(scope)
  if (url?.[1]) return url[1]
  return 'auth.globus.org'
}

/**
 * The request's scopes grouped by resource server, in the order first asked: Globus Auth issues
 * one token per resource server, the first at the top level of its answer and the others in
 * `other_tokens` (globus_sdk/response/oauth.py reads both; which one comes first Globus
 * documents nothing about, so the simulator puts the first scope's server first).
 */
export function scopesByResourceServer (scope: string): Map<string, string[]> {
  const groups = new Map<string, string[]>()
  for (const entry of splitScopes(scope)) {
    const server = resourceServerOf(parseScope(entry).base)
    groups.set(server, [...(groups.get(server) ?? []), entry])
  }
  return groups
}

/** Whether a token's scope carries `data_access` of `collection` as a dependency of Transfer. */
export function hasDataAccess (scope: string, collection: string): boolean {
  return parseScopes(scope).get(TRANSFER_SCOPE)?.includes(dataAccessScope(collection)) ?? false
}

/**
 * Globus Auth refusing a token request that names scopes it does not know, e.g. the data_access
 * scope of a collection that has none. The body has the shape of Globus Auth's errors in
 * globus_sdk/testing/data/auth/_common.py (`errors[]` with status, id, code, detail, title, plus
 * `error` and `error_description`); `invalid_scope` is the token endpoint's error for this
 * (RFC 6749 §5.2); the wording and the UNKNOWN_SCOPE_ERROR code are Globus Auth's own, as users
 * quote them ("client_id=... requested unknown scopes: [...]", XSEDE/oauth-ssh#79,
 * esgf2-us/metagrid#790). The status (400) Globus documents nothing about; RFC 6749 §5.2 says 400.
 */
export function authError (clientId: string, unknownScopes: string[]): Response {
  const detail = `client_id=${clientId} requested unknown scopes: [${unknownScopes.map((s) => `'${s}'`).join(', ')}]`
  return HttpResponse.json(
    {
      errors: [{ status: '400', id: randomUUID(), code: 'UNKNOWN_SCOPE_ERROR', detail, title: 'Unknown Scope' }],
      error: 'invalid_scope',
      error_description: detail,
    },
    { status: 400 }
  )
}
