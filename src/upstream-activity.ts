// Recent upstream requests in memory, for GET /status: the Globus request rate used and the last errors.
import type { RequestObserver } from './http/client.js'

export interface UpstreamErrorEntry {
  at: string
  service: 'globus' | 'scicat'
  operation: string
  status: string
  message: string
}

/** The window the Globus request rate is measured over. */
const windowMs = 60_000
/** How many failed requests are remembered. */
const keptErrors = 20

export class UpstreamActivity {
  /** Start times of the Globus requests of the last window, oldest first. */
  private readonly globusStarts: number[] = []
  private readonly errors: UpstreamErrorEntry[] = []

  constructor (private readonly now: () => number = Date.now) {}

  readonly observe: RequestObserver = ({ service, operation, status, error }) => {
    const now = this.now()
    if (service === 'globus') {
      this.globusStarts.push(now)
      this.prune(now)
    }
    if (status === 'error' || status >= 400) {
      this.errors.unshift({
        at: new Date(now).toISOString(),
        service,
        operation,
        status: String(status),
        message: error ?? '',
      })
      this.errors.length = Math.min(this.errors.length, keptErrors)
    }
  }

  /** Globus requests answered (or failed) in the last minute. */
  globusRequestsLastMinute (): number {
    this.prune(this.now())
    return this.globusStarts.length
  }

  /** The latest failed upstream requests, newest first. */
  lastErrors (): UpstreamErrorEntry[] {
    return this.errors.map((e) => ({ ...e }))
  }

  private prune (now: number): void {
    let drop = 0
    while (drop < this.globusStarts.length && now - this.globusStarts[drop]! > windowMs) drop++
    if (drop) this.globusStarts.splice(0, drop)
  }
}
