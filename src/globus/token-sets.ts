// The service's Globus tokens, one per scope set: Transfer alone for tasks, a facility pair's scopes for a submission.
import type { Logger } from 'pino'
import type { HttpClient } from '../http/client.js'
import { UpstreamError } from '../http/upstream-error.js'
import { mergeScopes, parseScope, splitScopes } from './scopes.js'
import { type ClientCredentials, isScopeRefusal, ScopedToken, TRANSFER_SCOPE } from './token.js'

export interface ScopedFacility {
  name: string
  collection: string
  scopes: string[]
}

/** A facility whose own scope set Globus Auth refuses: its transfers fail, every other one keeps working. */
export interface DegradedFacility {
  name: string
  scopes: string
  message: string
}

export class GlobusTokens {
  /** Reading and cancelling tasks: tasks belong to the client identity, whatever token submitted them. */
  readonly tasks: ScopedToken
  private readonly facilities: Map<string, ScopedFacility>
  /** Scopes Globus asked for in a ConsentRequired, per facility (DESIGN §7). */
  private readonly consented = new Map<string, string[]>()
  private readonly sets = new Map<string, ScopedToken>()
  /** `facility\nscopes` already logged as refused: logged once, not once per transfer. */
  private readonly logged = new Set<string>()

  constructor (
    private readonly http: HttpClient,
    private readonly credentials: ClientCredentials,
    facilities: ScopedFacility[],
    private readonly now: () => number = Date.now,
    private readonly log?: Logger
  ) {
    this.facilities = new Map(facilities.map((f) => [f.name, f]))
    this.tasks = this.set([TRANSFER_SCOPE])
  }

  /** The service's Globus client id: not secret, it names the deployment (§11). */
  get clientId (): string {
    return this.credentials.clientId
  }

  /** The merged scopes of these facilities (a facility no longer configured adds the Transfer scope alone). */
  scopesOf (names: readonly string[]): string[] {
    const all = [...new Set(names)].flatMap((n) => [
      ...(this.facilities.get(n)?.scopes ?? [TRANSFER_SCOPE]),
      ...(this.consented.get(n) ?? []),
    ])
    return mergeScopes(all.length ? all : [TRANSFER_SCOPE])
  }

  /** The token for a submission between these facilities. */
  forFacilities (names: readonly string[]): ScopedToken {
    return this.set(this.scopesOf(names))
  }

  /**
   * Adds scopes of a ConsentRequired to the scope sets of the facilities whose collection they
   * name (both when they name neither). Returns the token to retry with, or undefined when
   * nothing was new (retrying would only repeat the refusal).
   */
  addConsent (names: readonly string[], required: string[]): ScopedToken | undefined {
    const before = this.scopesOf(names).join(' ')
    for (const name of this.consentTargets(names, required)) {
      this.consented.set(name, mergeScopes([...(this.consented.get(name) ?? []), ...required]))
    }
    const after = this.forFacilities(names)
    return after.scopeString === before ? undefined : after
  }

  /** Drops scopes of a ConsentRequired again after Globus Auth refused them. */
  dropConsent (names: readonly string[], required: string[]): void {
    const drop = new Set(required.flatMap((r) => dependencies(r)))
    for (const name of this.consentTargets(names, required)) {
      const kept = (this.consented.get(name) ?? []).flatMap((s) => {
        const { base, deps } = parseScope(s)
        const left = deps.filter((d) => !drop.has(d.replace(/^\*/, '')))
        if (deps.length && !left.length) return []
        return [left.length ? `${base}[${left.join(' ')}]` : base]
      })
      if (kept.length) this.consented.set(name, kept)
      else this.consented.delete(name)
    }
  }

  /**
   * After Globus Auth refused a submission's scope set: asks for each facility's own set to
   * learn which is at fault, logs each such facility once, and returns the error for the job,
   * naming them.
   */
  async refusal (names: readonly string[], err: UpstreamError): Promise<UpstreamError> {
    const unique = [...new Set(names)]
    const faulty: DegradedFacility[] = []
    if (unique.length > 1) {
      for (const name of unique) {
        const problem = await this.facilityProblem(name)
        if (problem) faulty.push(problem)
      }
    } else if (unique[0]) faulty.push({ name: unique[0], scopes: this.scopesOf(unique).join(' '), message: err.message })
    for (const f of faulty) this.logRefusal(f)
    if (!faulty.length) return err
    return new UpstreamError({
      service: 'globus',
      operation: 'token',
      status: err.status,
      code: err.code,
      message: faulty.map((f) => `facility ${f.name}: ${f.message}`).join('; '),
      requestId: err.requestId,
      cause: err,
    })
  }

  /** Every facility whose own scope set Globus Auth refuses now (for /ready). */
  async degraded (): Promise<DegradedFacility[]> {
    const found = await Promise.all([...this.facilities.keys()].map((name) => this.facilityProblem(name)))
    return found.filter((f): f is DegradedFacility => f !== undefined)
  }

  private async facilityProblem (name: string): Promise<DegradedFacility | undefined> {
    const set = this.forFacilities([name])
    try {
      await set.token()
      return undefined
    } catch (err) {
      if (!isScopeRefusal(err)) return undefined
      const problem = { name, scopes: set.scopeString, message: err.message }
      this.logRefusal(problem)
      return problem
    }
  }

  private logRefusal (f: DegradedFacility): void {
    const key = `${f.name}\n${f.scopes}`
    if (this.logged.has(key)) return
    this.logged.add(key)
    this.log?.error({ facility: f.name, scopes: f.scopes, err: f.message }, 'Globus Auth refuses the scopes of a facility; its transfers fail')
  }

  /** The facilities among `names` whose collection a required scope names; all of them when none is named. */
  private consentTargets (names: readonly string[], required: string[]): string[] {
    const text = required.join(' ')
    const unique = [...new Set(names)]
    const named = unique.filter((n) => {
      const c = this.facilities.get(n)?.collection
      return c !== undefined && c !== '' && text.includes(c)
    })
    return named.length ? named : unique
  }

  private set (scopes: string[]): ScopedToken {
    const key = scopes.join(' ')
    let set = this.sets.get(key)
    if (!set) {
      set = new ScopedToken(this.http, this.credentials, scopes, this.now)
      this.sets.set(key, set)
    }
    return set
  }
}

/** The dependent scopes of a scope string (`*` optional markers removed). */
function dependencies (scope: string): string[] {
  return splitScopes(scope).flatMap((s) => parseScope(s).deps.map((d) => d.replace(/^\*/, '')))
}
