// Globus capacity (§6): the transfers waiting for a slot, in the order they get one, and the slots in use.
import type { Transfer } from './transfer.js'

export class CapacityQueue {
  /** Jobs waiting for a Globus slot, in the order they were accepted. */
  private readonly waiting: string[] = []
  /** Jobs whose Globus task is being submitted or has not ended: at most globus.maxActiveTasks. */
  private readonly active = new Set<string>()

  constructor (
    private readonly maxActiveTasks: number,
    private readonly lookup: (jobId: string) => Transfer | undefined
  ) {}

  /** The waiting job ids in queue order ("N ahead" is the index). */
  get queued (): readonly string[] {
    return this.waiting
  }

  get activeCount (): number {
    return this.active.size
  }

  get waitingCount (): number {
    return this.waiting.length
  }

  /** The ids holding a slot (submitting or unfinished at Globus). */
  activeIds (): string[] {
    return [...this.active]
  }

  hasFreeSlot (): boolean {
    return this.active.size < this.maxActiveTasks
  }

  /** Admission of a new transfer: it may be submitted at once when a slot is free and nobody waits. */
  admitsNow (): boolean {
    return this.waiting.length === 0 && this.hasFreeSlot()
  }

  /** Joins the back of the queue. */
  enqueue (jobId: string): void {
    this.waiting.push(jobId)
  }

  /** Back to the front: a postponed submission keeps its turn. */
  requeue (jobId: string): void {
    this.waiting.unshift(jobId)
  }

  /**
   * The next queued transfer to submit, taken out of the queue; undefined when none waits.
   * The one place that decides the order of submissions (FIFO today).
   */
  takeNext (): Transfer | undefined {
    while (this.waiting.length) {
      const t = this.lookup(this.waiting.shift()!)
      if (t && t.state === 'queued') return t
    }
    return undefined
  }

  /** The job's place in the queue, -1 when it does not wait. */
  position (jobId: string): number {
    return this.waiting.indexOf(jobId)
  }

  /** Takes the job out of the queue; returns where it was (-1: it did not wait). */
  remove (jobId: string): number {
    const i = this.waiting.indexOf(jobId)
    if (i !== -1) this.waiting.splice(i, 1)
    return i
  }

  /** Puts a job back where `remove` took it from. */
  restore (jobId: string, position: number): void {
    this.waiting.splice(position, 0, jobId)
  }

  occupy (jobId: string): void {
    this.active.add(jobId)
  }

  release (jobId: string): void {
    this.active.delete(jobId)
  }

  /** Neither waiting nor holding a slot any more. */
  drop (jobId: string): void {
    this.release(jobId)
    this.remove(jobId)
  }
}
