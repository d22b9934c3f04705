// Garbage collections of this process between two calls of take(): their pause time and how
// many were full (mark-compact) ones, from perf_hooks' 'gc' entries.
import { constants, type PerformanceEntry, PerformanceObserver } from 'node:perf_hooks'

export interface GcTotals {
  /** Time V8 reported for the collections, in milliseconds (pauses of the main thread). */
  gcMs: number
  /** Full collections (mark-compact) among them. */
  majorGcs: number
}

export class GcWatch {
  private totals: GcTotals = { gcMs: 0, majorGcs: 0 }
  private readonly observer = new PerformanceObserver((list) => this.add(list.getEntries()))

  constructor () {
    this.observer.observe({ entryTypes: ['gc'] })
  }

  /** What was collected since the last call (entries not yet delivered are taken too). */
  take (): GcTotals {
    this.add(this.observer.takeRecords())
    const out = this.totals
    this.totals = { gcMs: 0, majorGcs: 0 }
    return { gcMs: Math.round(out.gcMs * 10) / 10, majorGcs: out.majorGcs }
  }

  stop (): void {
    this.observer.disconnect()
  }

  private add (entries: readonly PerformanceEntry[]): void {
    for (const e of entries) {
      this.totals.gcMs += e.duration
      const { detail } = e as PerformanceEntry & { detail?: { kind?: number } }
      if (detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) this.totals.majorGcs++
    }
  }
}
