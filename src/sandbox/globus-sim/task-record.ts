// The simulator's internal record of one transfer task, and the facts derived from it.
import type { PathProblem, Plan, SymlinkMode } from './files.js'
import type { FatalError, TaskStatus, TransferSubmission } from './types.js'

export interface TaskEvent {
  code: string
  description: string
  details: string
  isError: boolean
  time: number
}

export interface TaskRecord {
  id: string
  ownerId: string
  submission: TransferSubmission
  requestTime: number
  deadline: number
  syncLevel: number | null
  recursiveSymlinks: SymlinkMode
  status: TaskStatus
  /** When the task got one of the running slots (undefined while queued). */
  startedAt?: number
  plan?: Plan
  /** Cumulative end offset (bytes) of each plan entry. */
  ends: number[]
  /** Plan entries performed so far. */
  done: number
  /** Bytes the task may have moved so far at the simulated speed. */
  budget: number
  /** Trouble the filesystem reported (path escape, missing source...). */
  problem?: PathProblem
  /** nice_status forced through the control API. */
  forcedNice?: string
  completionTime?: number
  fatal?: FatalError
  /** How the unfinished subtasks ended: canceled, expired or failed. */
  endedAs?: 'canceled' | 'expired' | 'failed'
  events: TaskEvent[]
}

export function isFinished (t: TaskRecord): boolean {
  return t.status === 'SUCCEEDED' || t.status === 'FAILED'
}

/** Moving bytes right now: started, active, nothing wrong. */
export function isProgressing (t: TaskRecord): boolean {
  return (
    t.status === 'ACTIVE' &&
    t.startedAt !== undefined &&
    t.plan !== undefined &&
    t.problem === undefined &&
    t.forcedNice === undefined
  )
}

export function describeCode (code: string): string {
  return code.toLowerCase().replace(/_/g, ' ')
}

export function addEvent (
  t: TaskRecord,
  time: number,
  code: string,
  details: string,
  isError: boolean,
  description = describeCode(code)
): void {
  t.events.push({ code, description, details, isError, time })
}

export function filesTransferred (t: TaskRecord): number {
  let n = 0
  const entries = t.plan?.entries ?? []
  for (let i = 0; i < t.done; i++) {
    const e = entries[i]
    if (e?.kind === 'file' && !e.skip) n++
  }
  return n
}

export function bytesTransferred (t: TaskRecord): number {
  return Math.floor(Math.min(t.budget, t.plan?.bytes ?? 0))
}

/** Finishes a task as FAILED (cancel, deadline, control API). */
export function failRecord (
  t: TaskRecord,
  time: number,
  fatal: FatalError,
  endedAs: TaskRecord['endedAs'],
  details: string
) {
  t.status = 'FAILED'
  t.fatal = fatal
  t.endedAs = endedAs
  t.completionTime = time
  addEvent(t, time, fatal.code, details, true, fatal.description)
}
