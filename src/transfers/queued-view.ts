// The view of a job waiting in the capacity queue ("queued for Globus: N ahead"), and the check
// the tracker makes for every queued job each time the order changes.
import { type Hold, holdNote } from './fair-order.js'
import { emptyResult, type JobView } from './job-state.js'

/** The places that share n's rounded count: [from, from + size). */
function roughBand (n: number): { from: number; size: number } {
  const size = n < 10 ? 1 : 10 ** Math.floor(Math.log10(n))
  return { from: Math.floor(n / size) * size, size }
}

/** Queue positions are shown exactly below 10, then as 10+, 20+, ..., 100+, 200+, ... so they rarely change. */
export function roughCount (n: number): string {
  return n < 10 ? String(n) : `${roughBand(n).from}+`
}

function queuedMessage (ahead: number, note?: string): string {
  return `queued for Globus: ${roughCount(ahead)} ahead${note ? ` (${note})` : ''}`
}

/** `note`: why the job waits beyond its place, e.g. a limit that holds it (DESIGN §6). */
export function queuedView (submissionId: string, ahead: number, prev?: JobView, note?: string): JobView {
  return {
    statusCode: 'queued',
    statusMessage: queuedMessage(ahead, note),
    jobResultObject: {
      ...emptyResult(submissionId),
      ...(prev?.jobResultObject.archiveJobId ? { archiveJobId: prev.jobResultObject.archiveJobId } : {}),
      ...(prev?.jobResultObject.bytesTotal !== undefined ? { bytesTotal: prev.jobResultObject.bytesTotal } : {}),
    },
  }
}

/**
 * The message of each place in turn, for a loop over the queue (`hold`: the limit that holds the
 * job, if any): each string is built once per rounding step and hold rather than once per job.
 */
export function queuedMessages (): (ahead: number, hold?: Hold) => string {
  let band = { from: 0, size: 0 }
  let byHold = new Map<Hold | undefined, string>()
  return (ahead, hold) => {
    if (ahead < band.from || ahead >= band.from + band.size) {
      band = roughBand(ahead)
      byHold = new Map()
    }
    let message = byHold.get(hold)
    if (message === undefined) {
      message = queuedMessage(ahead, hold && holdNote(hold))
      byHold.set(hold, message)
    }
    return message
  }
}

/**
 * Whether `prev` already is what `queuedView(submissionId, ahead, prev, note)` would give
 * (`sameView` of the two; `message` is that view's, from queuedMessages) without building that
 * view: with 100,000 queued jobs and nearly all of them unmoved (places are rounded), the view
 * built per job and cycle was most of the work.
 */
export function showsQueued (prev: JobView, submissionId: string, message: string): boolean {
  if (prev.statusCode !== 'queued' || prev.statusMessage !== message) return false
  const r = prev.jobResultObject
  if (
    r.globusTaskId !== '' || r.bytesTransferred !== 0 || r.filesTransferred !== 0 || r.filesTotal !== 0 ||
    r.status !== 'transferring' || r.error !== '' || r.submissionId !== submissionId
  ) return false
  if (r.archiveJobId !== undefined && !r.archiveJobId) return false // queuedView keeps only one that is set
  // and nothing else: emptyResult's fields (above), archiveJobId and bytesTotal (kept as they are)
  const keys = emptyResultKeys + (r.archiveJobId !== undefined ? 1 : 0) + (r.bytesTotal !== undefined ? 1 : 0)
  return Object.keys(r).length === keys || definedKeys(r) === keys
}

const emptyResultKeys = Object.keys(emptyResult('')).length

/** Keys set to undefined are no keys in the JSON SciCat gets (as sameView counts them). */
function definedKeys (r: object): number {
  return Object.values(r).filter((v) => v !== undefined).length
}
