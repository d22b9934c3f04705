// The transfer job as SciCat stores it: status fields and jobResultObject, computed from Globus tasks.
import type { GlobusTask } from '../globus/client.js'
import type { Job } from '../scicat/client.js'

export const transferStatuses = ['transferring', 'finished', 'failed', 'cancelled'] as const
export type TransferStatus = (typeof transferStatuses)[number]
export const statusCodes = ['queued', 'submitted', ...transferStatuses] as const
export type StatusCode = (typeof statusCodes)[number]
/** scicat.statusCodes: the statusCode a site's job configuration expects for each state (jobResultObject.status never changes). */
export type SiteStatusCodes = Record<StatusCode, string>
export const endedStatuses: readonly TransferStatus[] = ['finished', 'failed', 'cancelled']

/** The keys the Ingestor reads are the first six; the rest are extras for operators. */
export interface ResultObject {
  globusTaskId: string
  bytesTransferred: number
  filesTransferred: number
  filesTotal: number
  status: TransferStatus
  error: string
  submissionId?: string
  niceStatus?: string
  bytesPerSecond?: number
  completionTime?: string
  archiveJobId?: string
  /** Globus's latest error event while the task has trouble: "CODE: description (time)". */
  lastError?: string
  /** The dataset's size as SciCat records it (`dataset.size`), when it has one; Globus reports no total. */
  bytesTotal?: number
}

export interface JobView {
  statusCode: StatusCode
  statusMessage: string
  jobResultObject: ResultObject
}

/** nice_status values that will not heal by themselves: fail fast once they last too long. */
export const fatalNiceStatuses = ['PERMISSION_DENIED', 'FILE_NOT_FOUND', 'QUOTA_EXCEEDED']

export function formatBytes (n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB']
  let v = n
  let u = 0
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000
    u++
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`
}

export function isEnded (view: JobView): boolean {
  return endedStatuses.includes(view.jobResultObject.status)
}

export function emptyResult (submissionId: string): ResultObject {
  return {
    globusTaskId: '',
    bytesTransferred: 0,
    filesTransferred: 0,
    filesTotal: 0,
    status: 'transferring',
    error: '',
    submissionId,
  }
}

export function submittedView (prev: JobView, taskId: string): JobView {
  return {
    statusCode: 'submitted',
    statusMessage: `submitted to Globus as task ${taskId}`,
    jobResultObject: { ...prev.jobResultObject, globusTaskId: taskId, status: 'transferring', error: '' },
  }
}

function counts (prev: ResultObject, task: GlobusTask): ResultObject {
  const result: ResultObject = {
    ...prev,
    globusTaskId: task.task_id,
    bytesTransferred: task.bytes_transferred ?? prev.bytesTransferred,
    filesTransferred: task.files_transferred ?? prev.filesTransferred,
    filesTotal: Math.max(0, (task.files ?? 0) - (task.files_skipped ?? 0)),
  }
  if (task.effective_bytes_per_second !== undefined) result.bytesPerSecond = task.effective_bytes_per_second
  if (task.nice_status && task.nice_status !== 'OK') result.niceStatus = task.nice_status
  else delete result.niceStatus
  return result
}

function progressLine (r: ResultObject): string {
  const rate = r.bytesPerSecond ? `, ${formatBytes(r.bytesPerSecond)}/s` : ''
  return `${r.filesTransferred} of ${r.filesTotal} files, ${formatBytes(r.bytesTransferred)}${rate}`
}

/**
 * A task that has not ended: ACTIVE (possibly with trouble) or INACTIVE. `seenBytes`: the bytes
 * Globus reported at the previous reading, when that reading was not written to the job.
 */
export function runningView (prev: JobView, task: GlobusTask, seenBytes?: number): JobView {
  const result = { ...counts(prev.jobResultObject, task), status: 'transferring' as const, error: '' }
  // Globus's rate is an average over the task's life and keeps falling while nothing moves:
  // a stalled transfer shows no rate, so that it costs one update and then none (DESIGN §6).
  const before = seenBytes ?? prev.jobResultObject.bytesTransferred
  if (result.bytesTransferred === before && result.bytesPerSecond !== undefined) {
    result.bytesPerSecond = 0
  }
  const trouble = task.nice_status && !['OK', 'Queued'].includes(task.nice_status) ? task.nice_status : undefined
  const why = task.nice_status_short_description ? ` (${task.nice_status_short_description})` : ''
  let message = `transferring: ${progressLine(result)}`
  if (task.status === 'INACTIVE') message = `inactive at Globus${trouble ? `: ${trouble}${why}` : ''}: ${progressLine(result)}`
  else if (trouble) message = `transferring, Globus reports ${trouble}${why}: ${progressLine(result)}`
  else if (task.nice_status === 'Queued') message = `waiting at Globus: ${progressLine(result)}`
  return { statusCode: 'transferring', statusMessage: message, jobResultObject: result }
}

/** Globus's latest error event, shown while the task has trouble (nice_status not OK, or INACTIVE). */
export function withLastError (view: JobView, lastError: string | undefined): JobView {
  if (!lastError) {
    if (view.jobResultObject.lastError === undefined) return view
    const { lastError: _gone, ...result } = view.jobResultObject
    return { ...view, jobResultObject: result }
  }
  return {
    ...view,
    statusMessage: `${view.statusMessage}; latest Globus error: ${lastError}`,
    jobResultObject: { ...view.jobResultObject, lastError },
  }
}

/** `leftOut`: what the fileList did not send as items ("; 1 symlink not copied"); `problem`: a post-success step that failed. */
export function finishedView (prev: JobView, task: GlobusTask | undefined, note: { leftOut?: string; problem?: string } = {}): JobView {
  const { leftOut = '', problem } = note
  const result: ResultObject = {
    ...(task ? counts(prev.jobResultObject, task) : prev.jobResultObject),
    status: 'finished',
    error: problem ?? '',
  }
  delete result.niceStatus
  delete result.lastError
  if (task?.completion_time) result.completionTime = task.completion_time
  const archive = result.archiveJobId ? `; archive job ${result.archiveJobId}` : ''
  const trouble = problem ? `; ${problem}` : ''
  return {
    statusCode: 'finished',
    statusMessage: `finished: ${result.filesTransferred} files, ${formatBytes(result.bytesTransferred)}${leftOut}${archive}${trouble}`,
    jobResultObject: result,
  }
}

export function failedView (prev: JobView, error: string, task?: GlobusTask): JobView {
  const result: ResultObject = {
    ...(task ? counts(prev.jobResultObject, task) : prev.jobResultObject),
    status: 'failed',
    error,
  }
  if (task?.completion_time) result.completionTime = task.completion_time
  return { statusCode: 'failed', statusMessage: `failed: ${error}`, jobResultObject: result }
}

export function cancelledView (prev: JobView, task?: GlobusTask): JobView {
  const result: ResultObject = {
    ...(task ? counts(prev.jobResultObject, task) : prev.jobResultObject),
    status: 'cancelled',
    error: '',
  }
  delete result.niceStatus
  delete result.lastError
  return {
    statusCode: 'cancelled',
    statusMessage: `cancelled after ${progressLine(result)}`,
    jobResultObject: result,
  }
}

/**
 * Whether the job would show the same: both status fields, and jobResultObject key by key as
 * its JSON reads (keys in any order; a key set to undefined is no key). Called for every
 * tracked transfer every cycle, so without building strings.
 */
export function sameView (a: JobView, b: JobView): boolean {
  return a.statusCode === b.statusCode && a.statusMessage === b.statusMessage && sameResult(a.jobResultObject, b.jobResultObject)
}

function sameResult (a: ResultObject, b: ResultObject): boolean {
  const x = a as unknown as Record<string, unknown>
  const y = b as unknown as Record<string, unknown>
  let keys = 0
  for (const k in x) {
    const v = x[k]
    if (v === undefined) continue
    keys++
    if (!sameJson(v, y[k])) return false
  }
  for (const k in y) if (y[k] !== undefined) keys--
  return keys === 0
}

/** The values are strings and numbers; JSON writes every non-finite number as null. */
function sameJson (v: unknown, w: unknown): boolean {
  if (v === w) return true
  return typeof v === 'number' && typeof w === 'number' && !Number.isFinite(v) && !Number.isFinite(w)
}

/** The view stored in a SciCat job (as we wrote it, or defaults for a job we never updated). */
export function viewOf (job: Job, submissionId: string, codes?: SiteStatusCodes): JobView {
  const r = (job.jobResultObject ?? {}) as Partial<ResultObject>
  const status = transferStatuses.includes(r.status as TransferStatus) ? (r.status as TransferStatus) : 'transferring'
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0)
  return {
    // the site's name read back as the state it stands for (scicat.statusCodes)
    statusCode: ((codes && statusCodes.find((c) => codes[c] === job.statusCode)) ?? job.statusCode) as StatusCode,
    statusMessage: job.statusMessage,
    jobResultObject: {
      ...r,
      globusTaskId: typeof r.globusTaskId === 'string' ? r.globusTaskId : '',
      bytesTransferred: num(r.bytesTransferred),
      filesTransferred: num(r.filesTransferred),
      filesTotal: num(r.filesTotal),
      status,
      error: typeof r.error === 'string' ? r.error : '',
      submissionId: typeof r.submissionId === 'string' ? r.submissionId : submissionId,
    },
  }
}
