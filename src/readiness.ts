// Whether the service can work: the SciCat service account and a Globus token, checked at most every few seconds.
import type { GlobusClient } from './globus/client.js'
import { UpstreamError } from './http/upstream-error.js'
import type { ScicatClient } from './scicat/client.js'

/** How long an answer is reused, so probes (and /status) do not hammer the upstreams. */
const cacheMs = 5000

export interface ReadinessResult {
  ready: boolean
  /** "ok", or what failed. */
  checks: { scicat: string; globus: string }
  /** Facilities whose scopes Globus Auth refuses: they fail their own transfers only, so still ready. */
  degraded: Array<{ facility: string; message: string }>
}

function problem (err: unknown): string {
  return err instanceof UpstreamError ? err.describe() : err instanceof Error ? err.message : String(err)
}

export class Readiness {
  private cached: { at: number; result: Promise<ReadinessResult> } | undefined

  constructor (
    private readonly deps: { scicat: ScicatClient; globus: GlobusClient },
    private readonly now: () => number = Date.now
  ) {}

  /** Concurrent callers share one check. */
  async check (): Promise<ReadinessResult> {
    if (!this.cached || this.now() - this.cached.at > cacheMs) {
      this.cached = { at: this.now(), result: this.run() }
    }
    return await this.cached.result
  }

  private async run (): Promise<ReadinessResult> {
    const [scicat, globus, degraded] = await Promise.allSettled([
      this.deps.scicat.checkServiceToken(),
      this.deps.globus.tokens.tasks.token(),
      this.deps.globus.tokens.degraded(),
    ])
    const result = {
      ready: scicat.status === 'fulfilled' && globus.status === 'fulfilled',
      checks: {
        scicat: scicat.status === 'fulfilled' ? 'ok' : problem(scicat.reason),
        globus: globus.status === 'fulfilled' ? 'ok' : problem(globus.reason),
      },
      degraded:
        degraded.status === 'fulfilled' ? degraded.value.map((f) => ({ facility: f.name, message: f.message })) : [],
    }
    // the cache counts from the answer, as before: a slow check is not repeated at once
    if (this.cached) this.cached.at = this.now()
    return result
  }
}
