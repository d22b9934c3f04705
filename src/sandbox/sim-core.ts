// What both simulators share: a clock, request counts per operation, and injected faults.
import { delay, HttpResponse } from 'msw'

export interface Clock {
  now(): number
}

export const systemClock: Clock = { now: () => Date.now() }

/** A clock that only moves when told to; tests use it to drive transfer progress. */
export class ManualClock implements Clock {
  constructor (private ms = Date.UTC(2026, 0, 1)) {}
  now (): number {
    return this.ms
  }

  advance (ms: number): void {
    this.ms += ms
  }
}

export interface Fault {
  /** HTTP status to answer with; omitted with `networkError` or for latency alone. */
  status?: number
  /** JSON body of the error answer (default: a body in the simulated service's own shape). */
  body?: unknown
  /** Seconds, sent as the Retry-After header. */
  retryAfter?: number
  /** Delay before answering (or failing), in milliseconds. */
  latencyMs?: number
  /** Drop the connection instead of answering; the handler does not run, so nothing happens. */
  networkError?: boolean
  /**
   * A lost answer: the handler runs (a job is created, a task submitted), then the connection
   * is dropped instead of sending its answer. `status` and `body` are not used with it.
   */
  dropAnswer?: boolean
  /** How many calls the fault applies to (default 1). */
  times?: number
}

type Resolver<A extends unknown[]> = (...args: A) => Response | Promise<Response>

export class SimCore {
  readonly counts = new Map<string, number>()
  private readonly faults = new Map<string, Fault[]>()

  constructor (
    readonly clock: Clock,
    private readonly defaultErrorBody: (status: number) => unknown
  ) {}

  /** The next `fault.times` calls of `operation` fail (or are delayed) as described. */
  inject (operation: string, fault: Fault): void {
    const list = this.faults.get(operation) ?? []
    list.push({ times: 1, ...fault })
    this.faults.set(operation, list)
  }

  clearFaults (): void {
    this.faults.clear()
  }

  count (operation: string): number {
    return this.counts.get(operation) ?? 0
  }

  resetCounts (): void {
    this.counts.clear()
  }

  /** Wraps a handler's resolver: counts the call and applies a pending fault first (`dropAnswer`: after). */
  op<A extends unknown[]>(operation: string, resolver: Resolver<A>): Resolver<A> {
    return async (...args: A) => {
      this.counts.set(operation, this.count(operation) + 1)
      const fault = this.takeFault(operation)
      if (fault?.latencyMs) await delay(fault.latencyMs)
      if (fault?.networkError) return HttpResponse.error()
      if (fault?.dropAnswer) {
        await resolver(...args)
        return HttpResponse.error()
      }
      if (fault?.status) {
        const headers: Record<string, string> = {}
        if (fault.retryAfter !== undefined) headers['retry-after'] = String(fault.retryAfter)
        return HttpResponse.json((fault.body ?? this.defaultErrorBody(fault.status)) as never, {
          status: fault.status,
          headers,
        })
      }
      return resolver(...args)
    }
  }

  private takeFault (operation: string): Fault | undefined {
    const list = this.faults.get(operation)
    const fault = list?.[0]
    if (!list || !fault) return undefined
    fault.times = (fault.times ?? 1) - 1
    if (fault.times <= 0) list.shift()
    return fault
  }
}
