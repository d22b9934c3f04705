// Simulated Globus Auth: client-credentials tokens, their scopes and their validity.
import { randomBytes } from 'node:crypto'
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

/** Whether a token's scope carries `data_access` of `collection` as a dependency of Transfer. */
export function hasDataAccess (scope: string, collection: string): boolean {
  return parseScopes(scope).get(TRANSFER_SCOPE)?.includes(dataAccessScope(collection)) ?? false
}
