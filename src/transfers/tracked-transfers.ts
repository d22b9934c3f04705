// The transfers this process follows, and how one leaves them: its final state lands in SciCat, then it is forgotten.
import type { Metrics } from '../metrics.js'
import type { CapacityQueue } from './capacity-queue.js'
import type { JobView } from './job-state.js'
import type { JobWriter } from './job-writer.js'
import type { Transfer } from './transfer.js'

export class TrackedTransfers {
  readonly byJob = new Map<string, Transfer>()
  /**
   * One set per open watch (a discovery reading SciCat): jobs this process ends meanwhile,
   * which the list it gets back may still show unfinished (adopting them again would revive them).
   */
  private readonly endedWhileWatching = new Set<Set<string>>()

  constructor (
    private readonly capacity: CapacityQueue,
    private readonly writer: JobWriter,
    private readonly metrics: Metrics
  ) {}

  get (jobId: string): Transfer | undefined {
    return this.byJob.get(jobId)
  }

  has (jobId: string): boolean {
    return this.byJob.has(jobId)
  }

  add (t: Transfer): void {
    this.byJob.set(t.jobId, t)
  }

  get size (): number {
    return this.byJob.size
  }

  /** The transfers `keep` picks, without a copy of all of them first (100,000 tracked, a few picked). */
  where (keep: (t: Transfer) => unknown): Transfer[] {
    const found: Transfer[] = []
    for (const t of this.byJob.values()) if (keep(t)) found.push(t)
    return found
  }

  /** Collects the jobs ended from now until the returned stop(). */
  watchEnded (): { ended: ReadonlySet<string>; stop: () => void } {
    const ended = new Set<string>()
    this.endedWhileWatching.add(ended)
    return { ended, stop: () => this.endedWhileWatching.delete(ended) }
  }

  /** Notes that a job ended here (tracked or not), for open watches. */
  noteEnded (jobId: string, status?: string): void {
    for (const ended of this.endedWhileWatching) ended.add(jobId)
    if (status) this.metrics.transfersEnded.inc({ status })
  }

  /** Writes the final state; the transfer is forgotten once SciCat has it (else retried next cycle). */
  async close (t: Transfer, view: JobView): Promise<void> {
    t.state = 'closing'
    this.capacity.release(t.jobId)
    const landed = await this.writer.update(t, view)
    if (landed) this.forget(t, view.jobResultObject.status)
    else if (this.writer.isGone(t)) this.forget(t)
  }

  forget (t: Transfer, status?: string): void {
    this.byJob.delete(t.jobId)
    this.capacity.drop(t.jobId)
    this.noteEnded(t.jobId, status)
  }

  /**
   * Lets go of every transfer without writing anything (this instance became standby): the
   * instance that is active now adopts them from SciCat, and this one rebuilds from there too.
   */
  abandonAll (): number {
    const n = this.byJob.size
    for (const jobId of [...this.byJob.keys()]) {
      this.byJob.delete(jobId)
      this.capacity.drop(jobId)
    }
    return n
  }

  /** Sends every update that has not landed yet. */
  async flush (): Promise<void> {
    await Promise.all(
      this.where((t) => t.want).map(async (t) => {
        const landed = await this.writer.update(t, t.want!)
        if (landed && t.state === 'closing') this.forget(t, t.view.jobResultObject.status)
        if (this.writer.isGone(t)) this.forget(t)
      })
    )
  }

  updateGauges (): void {
    const counts: Record<string, number> = { queued: 0, submitting: 0, active: 0, finishing: 0, closing: 0 }
    for (const t of this.byJob.values()) counts[t.state] = (counts[t.state] ?? 0) + 1
    for (const [state, n] of Object.entries(counts)) this.metrics.transfersTracked.set({ state }, n)
  }
}
