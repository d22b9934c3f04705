// Who the caller is (SciCat identity, cached by token hash) and what each facility lets them do.
import { createHash } from 'node:crypto'
import type { Direction } from '../config/schema.js'
import type { Facility } from '../config/resolve.js'
import { ProxyError, upstreamFailure } from '../errors.js'
import { UpstreamError } from '../http/upstream-error.js'
import type { Identity, ScicatClient } from '../scicat/client.js'

export interface User {
  username: string
  email: string
  groups: string[]
  identity: Identity
  /** The caller's own SciCat token, for the calls SciCat must answer as them (datasets). */
  token: string
}

/**
 * Resolves a dot path in the identity JSON. As in the Go service, each key matches with its
 * first letter in either case (Go capitalises it to find the struct field).
 */
export function resolvePath (data: unknown, path: string): unknown {
  let cur = data
  for (const key of path.split('.')) {
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur)) return undefined
    const obj = cur as Record<string, unknown>
    const flipped = key ? (key[0] === key[0]!.toUpperCase() ? key[0]!.toLowerCase() : key[0]!.toUpperCase()) + key.slice(1) : key
    cur = key in obj ? obj[key] : obj[flipped]
  }
  return cur
}

/** A list must contain the value, anything else must equal it. */
export function hasAccess (identity: Identity, facility: Facility): boolean {
  const value = resolvePath(identity, facility.accessPath)
  return Array.isArray(value) ? value.includes(facility.accessValue) : value === facility.accessValue
}

export function allows (facility: Facility, role: 'source' | 'destination'): boolean {
  const needed: Direction = role === 'source' ? 'SRC' : 'DST'
  return facility.direction === 'BOTH' || facility.direction === needed
}

/** The caller's groups for dataset and job ownership: profile.accessGroups. */
function userFrom (identity: Identity, token: string): User {
  const profile = identity.profile ?? {}
  return {
    username: typeof profile.username === 'string' ? profile.username : '',
    email: typeof profile.email === 'string' ? profile.email : '',
    groups: Array.isArray(profile.accessGroups) ? profile.accessGroups.filter((g) => typeof g === 'string') : [],
    identity,
    token,
  }
}

/** Remembers validated tokens for a few seconds, keyed by a hash of the token, never the token. */
export class IdentityCache {
  private readonly entries = new Map<string, { expiresAt: number; user: Promise<User> }>()

  constructor (
    private readonly scicat: ScicatClient,
    private readonly ttlSeconds: number,
    private readonly now: () => number = Date.now,
    private readonly maxEntries = 10_000
  ) {}

  /** The user behind `token`; 401 when SciCat does not accept it. Concurrent calls share one lookup. */
  async authenticate (token: string): Promise<User> {
    const key = createHash('sha256').update(token).digest('hex')
    const now = this.now()
    const hit = this.entries.get(key)
    if (hit && hit.expiresAt > now) return hit.user
    const user = this.lookup(token)
    this.entries.set(key, { expiresAt: now + this.ttlSeconds * 1000, user })
    user.catch(() => this.entries.delete(key))
    if (this.entries.size > this.maxEntries) this.prune(now)
    return user
  }

  private async lookup (token: string): Promise<User> {
    let identity: Identity | undefined
    try {
      identity = await this.scicat.getIdentity(token)
    } catch (err) {
      if (err instanceof UpstreamError) throw upstreamFailure(err, 'SciCat could not check the token')
      throw err
    }
    if (!identity) throw new ProxyError('PROXY_UNAUTHENTICATED', 'the SciCat token is invalid or expired')
    return userFrom(identity, token)
  }

  private prune (now: number): void {
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key)
    // still too many: drop the oldest (Map keeps insertion order)
    for (const key of this.entries.keys()) {
      if (this.entries.size <= this.maxEntries) break
      this.entries.delete(key)
    }
  }
}

/** The token from `SciCat-API-Key` (what the Ingestor sends) or `Authorization: Bearer`. */
export function tokenFrom (headers: Record<string, string | string[] | undefined>): string | undefined {
  const key = headers['scicat-api-key']
  if (typeof key === 'string' && key.trim()) return key.trim()
  const auth = headers.authorization
  const m = typeof auth === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(auth) : null
  return m?.[1]
}

/** Members of server.adminGroups read GET /status and every transfer of the deployment. */
export function isAdmin (user: User, adminGroups: readonly string[]): boolean {
  return user.groups.some((g) => adminGroups.includes(g))
}
