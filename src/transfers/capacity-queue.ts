// Globus capacity (§6): the transfers waiting for a slot, in their fair order, and the slots in use.
import type { Config } from '../config/resolve.js'
import type { Metrics } from '../metrics.js'
import {
  aheadOfNewcomer,
  type FairOrder,
  type FairPolicy,
  fairOrder,
  type Hold,
  type OwnedTransfer,
  ownerOf,
  type QueuedJob,
  TaskCounts,
} from './fair-order.js'
import type { OwnerWaiting } from './queue-view.js'
import type { Transfer } from './transfer.js'

export function fairPolicy (config: Config): FairPolicy {
  const limits = config.facilities.flatMap((f) => (f.maxActiveTasks ? [[f.name, f.maxActiveTasks] as const] : []))
  return {
    fairShare: config.globus.fairShare,
    ...(config.globus.maxActiveTasksPerUser ? { maxActiveTasksPerUser: config.globus.maxActiveTasksPerUser } : {}),
    facilityLimits: new Map(limits),
  }
}

/** A job waiting for a slot: what the fair order knows of it, and the transfer itself (no lookup by id per job and order). */
export interface WaitingJob extends QueuedJob {
  transfer: Transfer
}

function owned (t: Transfer): OwnedTransfer {
  return {
    ...(t.owner.ownerUser ? { ownerUser: t.owner.ownerUser } : {}),
    ownerGroup: t.owner.ownerGroup,
    sourceFacility: t.params.sourceFacility,
    destFacility: t.params.destFacility,
  }
}

/**
 * Holds no state of its own beyond what the jobs say (createdAt, owner, facilities) and the
 * order in which this process met them, which only breaks ties of equal createdAt: after a
 * restart the order is rebuilt from the jobs alone.
 */
export class CapacityQueue {
  private readonly policy: FairPolicy
  private readonly maxActiveTasks: number
  private readonly facilityNames: string[]
  /** Jobs waiting for a Globus slot. */
  private readonly waiting = new Map<string, WaitingJob>()
  /** Jobs whose Globus task is being submitted or has not ended: at most globus.maxActiveTasks. */
  private readonly active = new Map<string, OwnedTransfer>()
  private readonly activeCounts: TaskCounts
  private readonly waitingCounts: TaskCounts
  /** Arrival order of the jobs met so far (kept while a job is tracked: a postponed job keeps its turn). */
  private readonly seqs = new Map<string, number>()
  private nextSeq = 0
  private cached: FairOrder<WaitingJob> | undefined
  /** The jobs the current fill gives slots to, in order (the ready part of the fair order). */
  private plan: WaitingJob[] = []
  /** True when every waiting job is held by a limit (and has stayed held since): a new job need not wait behind them. */
  private onlyHeldWait = false

  constructor (
    config: Config,
    private readonly lookup: (jobId: string) => Transfer | undefined,
    private readonly metrics?: Metrics
  ) {
    this.policy = fairPolicy(config)
    this.maxActiveTasks = config.globus.maxActiveTasks
    this.activeCounts = new TaskCounts(this.policy.fairShare)
    this.waitingCounts = new TaskCounts(this.policy.fairShare)
    this.facilityNames = config.facilities.map((f) => f.name)
  }

  /** The waiting job ids in their fair order ("N ahead" is the index). */
  get queued (): string[] {
    return this.order().jobs.map((q) => q.id)
  }

  get activeCount (): number {
    return this.active.size
  }

  get waitingCount (): number {
    return this.waiting.size
  }

  /** Owners (users; groups with globus.fairShare: group) with at least one job waiting. */
  get ownersWaiting (): number {
    return this.policy.fairShare === 'group' ? this.waitingCounts.byOwner.size : this.waitingCounts.byUser.size
  }

  /**
   * The owners waiting (users, or groups with globus.fairShare: group; a job without ownerUser
   * counts as its group), with how many transfers each: most waiting first, ties by name.
   */
  waitingOwners (): OwnerWaiting[] {
    const counts = this.policy.fairShare === 'group' ? this.waitingCounts.byOwner : this.waitingCounts.byUser
    return [...counts]
      .map(([key, queued]) => ({ owner: key.startsWith('\u0000') ? key.slice(1) : key, queued }))
      .sort((a, b) => b.queued - a.queued || (a.owner < b.owner ? -1 : a.owner > b.owner ? 1 : 0))
  }

  /** The ids holding a slot (submitting or unfinished at Globus). */
  activeIds (): string[] {
    return [...this.active.keys()]
  }

  hasFreeSlot (): boolean {
    return this.active.size < this.maxActiveTasks
  }

  /**
   * Admission of a new transfer: it may be submitted at once when a slot is free, no limit holds
   * it, and nobody waits (or only jobs a limit holds, which it would pass anyway).
   */
  admitsNow (t: Transfer): boolean {
    if (!this.hasFreeSlot() || this.activeCounts.holdOf(owned(t), this.policy)) return false
    return this.waiting.size === 0 || this.onlyHeldWait
  }

  /** Joins the queue, at its place in the fair order. */
  enqueue (jobId: string): void {
    const t = this.lookup(jobId)
    if (!t || this.waiting.has(jobId)) return
    let seq = this.seqs.get(jobId)
    if (seq === undefined) this.seqs.set(jobId, (seq = this.nextSeq++))
    const at = Date.parse(t.createdAt)
    const job: WaitingJob = { ...owned(t), id: jobId, createdAt: at, seq, place: undefined, transfer: t }
    const held = this.activeCounts.holdOf(job, this.policy) !== undefined
    // the first to wait, held: a job no limit holds may pass it at once
    if (this.waiting.size === 0) this.onlyHeldWait = held
    else if (!held) this.onlyHeldWait = false
    this.waiting.set(jobId, job)
    this.waitingCounts.add(job)
    this.cached = undefined
  }

  /** Back in the queue after a postponed submission: it keeps its turn (its createdAt and arrival). */
  requeue (jobId: string): void {
    this.enqueue(jobId)
  }

  /** Puts a job back that `remove` took out (a cancel that could not be recorded). */
  restore (jobId: string): void {
    this.enqueue(jobId)
  }

  /** Starts a round of submissions: the next ones follow the fair order as it is now. */
  beginFill (): void {
    this.plan = []
  }

  /**
   * The next queued transfer to submit, taken out of the queue; undefined when no slot is free or
   * every waiting job is held by a limit. The one place that decides the order of submissions.
   */
  takeNext (): Transfer | undefined {
    if (!this.hasFreeSlot()) return undefined
    for (let replanned = false; ;) {
      while (this.plan.length) {
        const next = this.plan.shift()!
        const t = this.waiting.get(next.id)?.transfer
        // the plan's jobs go in order; one a limit holds by now (a slot taken meanwhile) is passed over
        if (!t || t.state !== 'queued' || this.activeCounts.holdOf(next, this.policy)) continue
        this.remove(next.id)
        return t
      }
      if (replanned || this.waiting.size === 0) break
      const order = this.order()
      this.plan = order.jobs.slice(0, order.ready)
      replanned = true
    }
    this.onlyHeldWait = this.waiting.size > 0
    return undefined
  }

  /** The job's place in the fair order, -1 when it does not wait. */
  position (jobId: string): number {
    this.order()
    return this.waiting.get(jobId)?.place ?? -1
  }

  /**
   * The place of a job that has just joined the queue, from counts alone (see aheadOfNewcomer):
   * a request must not cost a sort of the whole queue; the next cycle writes the exact place.
   */
  placeOfNewcomer (jobId: string): number {
    const job = this.waiting.get(jobId)
    if (!job) return -1
    const owner = ownerOf(job, this.policy.fairShare)
    const others = new Map(this.waitingCounts.byOwner)
    others.set(owner, (others.get(owner) ?? 1) - 1)
    return aheadOfNewcomer(owner, others, this.activeCounts.byOwner)
  }

  /** The limit that holds a waiting job now, if any. */
  holdOfWaiting (jobId: string): Hold | undefined {
    const job = this.waiting.get(jobId)
    return job && this.activeCounts.holdOf(job, this.policy)
  }

  /** Every waiting job in its fair order, which of them are held, and why (computed once per change). */
  order (): FairOrder<WaitingJob> {
    this.cached ??= fairOrder(this.waiting.values(), this.active.values(), this.policy)
    return this.cached
  }

  /** Takes the job out of the queue; returns whether it was waiting. */
  remove (jobId: string): boolean {
    const job = this.waiting.get(jobId)
    if (!job) return false
    this.waiting.delete(jobId)
    this.waitingCounts.remove(job)
    this.cached = undefined
    return true
  }

  occupy (jobId: string): void {
    const t = this.lookup(jobId)
    if (!t || this.active.has(jobId)) return
    const task = owned(t)
    this.active.set(jobId, task)
    this.activeCounts.add(task)
    this.cached = undefined
  }

  release (jobId: string): void {
    const task = this.active.get(jobId)
    if (!task) return
    this.active.delete(jobId)
    this.activeCounts.remove(task)
    this.cached = undefined
    this.onlyHeldWait = false // a held job may go now
  }

  /** Neither waiting nor holding a slot any more. */
  drop (jobId: string): void {
    this.release(jobId)
    this.remove(jobId)
    this.seqs.delete(jobId)
  }

  /** Queued transfers by facility (each counts for both of its facilities) and the owners waiting. */
  updateGauges (): void {
    if (!this.metrics) return
    const queued = this.metrics.transfersQueued
    queued.reset()
    for (const name of this.facilityNames) queued.set({ facility: name }, 0)
    for (const [facility, n] of this.waitingCounts.byFacility) queued.set({ facility }, n)
    this.metrics.ownersWaiting.set(this.ownersWaiting)
  }
}
