// Task state over simulated time: running slots, byte progress, real copies, deadlines.
import type { Clock } from '../sim-core.js'
import { type PathProblem, PathProblemError, performEntry, planTransfer } from './files.js'
import {
  addEvent,
  describeCode,
  failRecord,
  isFinished,
  isProgressing,
  type TaskRecord,
} from './task-record.js'
import type { CollectionOptions, FatalError } from './types.js'

export interface ModelOptions {
  clock: Clock
  collections: Record<string, CollectionOptions>
  bytesPerSecond: number
  minTaskMs: number
  runningTasksLimit: number
}

const STARTED_DETAILS = JSON.stringify({ type: 'GridFTP Transfer', concurrency: 2, protocol: 'Globus' })

/**
 * Advances every task together through simulated time, event by event (a task finishing
 * frees a running slot at that instant), so the outcome does not depend on how often
 * anyone looks. Nothing runs in the background: callers bring the state up to date.
 */
export class TransferModel {
  readonly records: TaskRecord[] = []
  private readonly byId = new Map<string, TaskRecord>()
  /** Each record's index in `records` (submission order). */
  private readonly position = new Map<TaskRecord, number>()
  private updatedTo: number
  private rate: number
  /** Records before this index have all started or ended (tasks start in submission order). */
  private startFrom = 0
  /** The instant of the last settle, and whether settling again at that instant could change anything. */
  private settledAt = Number.NaN
  private unsettled = true

  constructor (private readonly o: ModelOptions) {
    this.updatedTo = o.clock.now()
    this.rate = o.bytesPerSecond
  }

  get (taskId: string): TaskRecord | undefined {
    return this.byId.get(taskId)
  }

  /**
   * The records with these ids, in submission order (as `records` holds them): a read of a few
   * named tasks costs those tasks, not a pass over every task the simulator holds.
   */
  named (taskIds: Iterable<string>): TaskRecord[] {
    const found: TaskRecord[] = []
    for (const id of taskIds) {
      const record = this.byId.get(id)
      if (record) found.push(record)
    }
    return found.sort((a, b) => this.position.get(a)! - this.position.get(b)!)
  }

  /** Adds a task (fields already validated) and starts it if a running slot is free. */
  add (record: TaskRecord): void {
    this.update()
    this.position.set(record, this.records.push(record) - 1)
    this.byId.set(record.id, record)
    this.unsettled = true
    this.update()
  }

  update (): void {
    const now = this.o.clock.now()
    // every request brings the model up to date: at an instant already settled, with no task
    // changed or in trouble since, that would be a pass over every task that changes nothing
    if (!this.unsettled && Math.max(now, this.updatedTo) === this.settledAt) return
    this.advanceTo(now)
  }

  setRate (bytesPerSecond: number): void {
    this.update()
    this.rate = bytesPerSecond
    this.unsettled = true
  }

  unfinished (ownerId?: string): number {
    this.update()
    return this.records.filter((t) => !isFinished(t) && (ownerId ?? t.ownerId) === t.ownerId).length
  }

  /** 'complete' when the task had already ended. */
  cancel (taskId: string): 'canceled' | 'complete' {
    const t = this.unfinishedTask(taskId, false)
    if (!t) return 'complete'
    const fatal = { code: 'CANCELED', description: 'canceled' }
    failRecord(t, this.o.clock.now(), fatal, 'canceled', 'Canceled by the task owner')
    this.unsettled = true
    this.update()
    return 'canceled'
  }

  fail (taskId: string, fatal: FatalError): void {
    const t = this.unfinishedTask(taskId, true)!
    failRecord(t, this.o.clock.now(), { ...fatal }, 'failed', fatal.description)
    this.unsettled = true
    this.update()
  }

  setNiceStatus (taskId: string, niceStatus: string | null): void {
    const t = this.unfinishedTask(taskId, true)!
    if (niceStatus === null || niceStatus === 'OK') t.forcedNice = undefined
    else {
      t.forcedNice = niceStatus
      addEvent(t, this.o.clock.now(), niceStatus, `${niceStatus} (simulated)`, true)
    }
    this.unsettled = true
    this.update()
  }

  setStatus (taskId: string, status: 'ACTIVE' | 'INACTIVE'): void {
    this.unfinishedTask(taskId, true)!.status = status
    this.unsettled = true
    this.update()
  }

  private unfinishedTask (taskId: string, required: boolean): TaskRecord | undefined {
    this.update()
    const t = this.byId.get(taskId)
    if (!t) throw new Error(`Globus simulator: no task ${taskId}`)
    if (!isFinished(t)) return t
    if (required) throw new Error(`Globus simulator: task ${taskId} already ended (${t.status})`)
    return undefined
  }

  private advanceTo (target: number): void {
    let cur = this.updatedTo
    for (;;) {
      this.settle(cur)
      if (cur >= target) break
      let next = target
      for (const t of this.records) {
        if (isFinished(t)) continue
        next = Math.min(next, t.deadline)
        if (isProgressing(t)) next = Math.min(next, this.finishTime(t, cur))
      }
      for (const t of this.records) {
        if (!isProgressing(t)) continue
        const total = t.plan!.bytes
        if (next >= this.bytesDoneAt(t, cur)) t.budget = total
        else t.budget = Math.min(total, t.budget + (this.rate * (next - cur)) / 1000)
      }
      cur = next
    }
    this.updatedTo = Math.max(this.updatedTo, target)
  }

  private bytesDoneAt (t: TaskRecord, cur: number): number {
    const remaining = t.plan!.bytes - t.budget
    if (remaining <= 0) return cur
    return this.rate > 0 ? cur + Math.ceil((remaining * 1000) / this.rate) : Number.POSITIVE_INFINITY
  }

  private finishTime (t: TaskRecord, cur: number): number {
    return Math.max(this.bytesDoneAt(t, cur), t.startedAt! + this.o.minTaskMs)
  }

  /** Everything that happens at one instant; repeated while tasks end and free slots. */
  private settle (cur: number): void {
    let ended = true
    let troubled = false
    while (ended) {
      ended = false
      troubled = false
      this.startQueued(cur)
      for (const t of this.records) {
        if (isFinished(t)) continue
        if (t.problem && t.status === 'ACTIVE' && t.startedAt !== undefined) this.retry(t, cur)
        const doneBefore = t.done
        if (isProgressing(t)) this.performCovered(t, cur)
        // completed work: entries done that moved bytes (creating folders at the start does not count)
        const bytesAt = (done: number) => (done > 0 ? (t.ends[done - 1] ?? 0) : 0)
        extendDeadline(t, cur, bytesAt(t.done) > bytesAt(doneBefore))
        const allDone = t.done === t.plan?.entries.length
        if (isProgressing(t) && allDone && cur >= t.startedAt! + this.o.minTaskMs) {
          t.status = 'SUCCEEDED'
          t.completionTime = cur
          addEvent(t, cur, 'SUCCEEDED', '', false)
          ended = true
        } else if (cur >= t.deadline) {
          this.expire(t, cur)
          ended = true
        }
        // a task in trouble is retried at every look: the filesystem may have changed
        if (!isFinished(t) && t.problem) troubled = true
      }
    }
    this.settledAt = cur
    this.unsettled = troubled
  }

  private startQueued (cur: number): void {
    while (this.startFrom < this.records.length) {
      const t = this.records[this.startFrom]!
      if (!isFinished(t) && t.startedAt === undefined) break
      this.startFrom++
    }
    if (this.startFrom === this.records.length) return
    const limited = Number.isFinite(this.o.runningTasksLimit)
    let running = limited ? this.records.filter((t) => !isFinished(t) && t.startedAt !== undefined).length : 0
    for (let i = this.startFrom; i < this.records.length; i++) {
      const t = this.records[i]!
      if (running >= this.o.runningTasksLimit) return
      if (isFinished(t) || t.startedAt !== undefined) continue
      t.startedAt = cur
      running++
      addEvent(t, cur, 'STARTED', STARTED_DETAILS, false)
      this.plan(t, cur)
    }
  }

  private plan (t: TaskRecord, cur: number): void {
    const s = t.submission
    try {
      const plan = planTransfer(s.DATA, {
        srcRoot: this.o.collections[s.source_endpoint]!.root,
        dstRoot: this.o.collections[s.destination_endpoint]!.root,
        recursiveSymlinks: t.recursiveSymlinks,
        syncLevel: t.syncLevel,
      })
      let end = 0
      t.ends = plan.entries.map((e) => {
        if (e.kind === 'file' && !e.skip) end += e.size
        return end
      })
      t.plan = plan
      t.problem = undefined
    } catch (err) {
      if (!(err instanceof PathProblemError)) throw err
      this.setProblem(t, cur, err.problem)
    }
  }

  /** Globus keeps retrying a task in trouble until its deadline. */
  private retry (t: TaskRecord, cur: number): void {
    if (!t.plan) return this.plan(t, cur)
    const entry = t.plan.entries[t.done]
    if (!entry) return
    try {
      performEntry(entry)
      t.done++
      t.budget = Math.max(t.budget, t.ends[t.done - 1] ?? 0)
      t.problem = undefined
    } catch (err) {
      if (!(err instanceof PathProblemError)) throw err
      this.setProblem(t, cur, err.problem)
    }
  }

  private performCovered (t: TaskRecord, cur: number): void {
    const entries = t.plan!.entries
    while (t.done < entries.length && t.budget >= (t.ends[t.done] ?? 0)) {
      try {
        performEntry(entries[t.done]!)
        t.done++
      } catch (err) {
        if (!(err instanceof PathProblemError)) throw err
        this.setProblem(t, cur, err.problem)
        t.budget = t.ends[t.done - 1] ?? 0
        return
      }
    }
  }

  private setProblem (t: TaskRecord, cur: number, problem: PathProblem): void {
    if (t.problem?.code !== problem.code) addEvent(t, cur, problem.code, problem.details, true)
    t.problem = problem
  }

  private expire (t: TaskRecord, cur: number): void {
    // The fatal_error of a task that runs out of time is not in any source read; the
    // trouble it was stuck on (FILE_NOT_FOUND, ...) is reported, else DEADLINE.
    const code = t.forcedNice ?? t.problem?.code
    const fatal = code
      ? { code, description: describeCode(code) }
      : { code: 'DEADLINE', description: 'deadline expired' }
    failRecord(t, cur, fatal, 'expired', 'The task deadline expired before it could complete')
  }
}

const HOUR_MS = 3600_000

/**
 * Globus's deadline policy for a transfer submitted without a deadline
 * (docs.globus.org/api/transfer/task_behavior §3): it starts 24 h after submission, is pushed to
 * 72 h after the latest completed work while the task makes progress, and to 24 h away while it
 * is queued without errors. An explicit deadline is never moved.
 */
function extendDeadline (t: TaskRecord, cur: number, completedWork: boolean): void {
  if (t.submission.deadline) return
  if (completedWork) t.deadline = Math.max(t.deadline, cur + 72 * HOUR_MS)
  else if (t.startedAt === undefined && !t.problem && !t.forcedNice) t.deadline = Math.max(t.deadline, cur + 24 * HOUR_MS)
}
