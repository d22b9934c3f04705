// What one cycle's reading of a Globus task means for its transfer: the tracker's decisions.
import { type GlobusTask, taskFieldNames } from '../globus/client.js'
import { cancelledView, failedView, fatalNiceStatuses, type JobView, runningView } from './job-state.js'
import type { Transfer } from './transfer.js'

/** Cycles in a row without the task in Globus's answer before the transfer fails. */
export const missingCyclesLimit = 3

export type TaskOutcome =
  /** Nothing to write this cycle. */
  | { kind: 'wait' }
  /** The transfer succeeded: the post-success steps follow. */
  | { kind: 'succeeded'; task: GlobusTask }
  /** The transfer ended (failed or cancelled at Globus): write this and forget it. */
  | { kind: 'ended'; view: JobView }
  /** A fatal condition lasted too long: cancel the Globus task, then write this. */
  | { kind: 'fail-fast'; taskId: string; view: JobView }
  /** Still running; `progressOnly` when only counts, bytes or rate changed. */
  | { kind: 'running'; view: JobView; progressOnly: boolean }

/**
 * Decides what to do with an active transfer given its task as Globus returned it (undefined
 * when Globus did not return it). Keeps the counters it needs across cycles on the transfer
 * (`missing`, `fatalSince`, `seenBytes`).
 */
export function readTask (t: Transfer, task: GlobusTask | undefined, now: number, failFastAfterSeconds: number): TaskOutcome {
  if (!task) {
    t.missing = (t.missing ?? 0) + 1
    if (t.missing < missingCyclesLimit) return { kind: 'wait' }
    return { kind: 'ended', view: failedView(t.view, `Globus does not know task ${t.view.jobResultObject.globusTaskId}`) }
  }
  t.missing = 0
  if (task.status === 'SUCCEEDED') return { kind: 'succeeded', task }
  if (task.status === 'FAILED') {
    const fatal = task.fatal_error
    return {
      kind: 'ended',
      view:
        fatal?.code === 'CANCELED'
          ? cancelledView(t.view, task)
          : failedView(t.view, fatal ? `${fatal.code}: ${fatal.description}` : 'Globus reports the task failed', task),
    }
  }
  if (hasFatalNiceStatus(task)) {
    t.fatalSince ??= now
    if (now - t.fatalSince > failFastAfterSeconds * 1000) {
      const short = task.nice_status_short_description
      const why = `${task.nice_status}${short ? ` (${short})` : ''}`
      return {
        kind: 'fail-fast',
        taskId: task.task_id,
        view: failedView(t.view, `${why} for more than ${failFastAfterSeconds} s; the Globus task was cancelled`, task),
      }
    }
  } else {
    t.fatalSince = undefined
  }
  // compared with the previous reading, not with the job: a stall shows even when the last
  // progress could not be written yet (task.progressUpdatesPerCycle)
  const view = runningView(t.view, task, t.seenBytes)
  t.seenBytes = task.bytes_transferred
  return { kind: 'running', view, progressOnly: isProgressOnly(t.want ?? t.view, view) }
}

/** A nice_status that will not heal by itself: its fail-fast clock runs (task.failFastAfterSeconds). */
function hasFatalNiceStatus (task: GlobusTask): boolean {
  return !!task.nice_status && fatalNiceStatuses.includes(task.nice_status)
}

/**
 * Two readings the tracker acts on alike: every field it asks Globus for (taskFieldNames) equal,
 * except that effective_bytes_per_second need only be present in both or in neither. Globus's
 * rate is an average over the task's life that keeps falling while nothing moves, and with
 * bytes_transferred unchanged runningView shows no rate whatever its value.
 */
function sameReading (a: GlobusTask, b: GlobusTask): boolean {
  return taskFieldNames.every((key) => {
    if (key === 'effective_bytes_per_second') return (a[key] === undefined) === (b[key] === undefined)
    if (key === 'fatal_error') return a[key]?.code === b[key]?.code && a[key]?.description === b[key]?.description
    return a[key] === b[key]
  })
}

/**
 * Whether this reading of a running task is the previous one again, that previous reading showed
 * nothing new (the poller keeps `t.idle` only then), the job is unchanged since and nothing waits
 * to be written: then every decision readTask and the poller would make is the one they made then
 * (nothing), and an idle transfer costs a comparison instead of building and comparing a view.
 * Not for a fatal nice_status, whose fail-fast clock runs on.
 */
export function unchangedReading (t: Transfer, task: GlobusTask | undefined): boolean {
  const idle = t.idle
  if (t.state !== 'active' || !idle || !task || t.want || t.view !== idle.view) return false
  return !hasFatalNiceStatus(task) && sameReading(task, idle.task)
}

/**
 * Nothing but progress: a plain "transferring: ..." line after another one (only counts, bytes
 * or rate differ), or after "submitted" (the Ingestor reads `transferring` in both: the job's
 * jobResultObject.status does not change).
 */
function isProgressOnly (current: JobView, next: JobView): boolean {
  const plain = (v: JobView) => v.statusCode === 'transferring' && v.statusMessage.startsWith('transferring: ')
  const before = plain(current) || current.statusCode === 'submitted'
  return before && plain(next) && current.jobResultObject.error === next.jobResultObject.error
}
