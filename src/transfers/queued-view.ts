// The view of a job waiting in the capacity queue ("queued for Globus: N ahead"), and the check
// the tracker makes for every queued job each time the order changes.
import { emptyResult, type JobView } from './job-state.js'

/** Queue positions are shown exactly below 10, then as 10+, 20+, ..., 100+, 200+, ... so they rarely change. */
export function roughCount (n: number): string {
  if (n < 10) return String(n)
  const magnitude = 10 ** Math.floor(Math.log10(n))
  return `${Math.floor(n / magnitude) * magnitude}+`
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

/** What every queued view's jobResultObject holds besides submissionId, archiveJobId and bytesTotal. */
const emptyFields = emptyResult('') as unknown as Readonly<Record<string, unknown>>
const emptyFieldCount = Object.keys(emptyFields).length - 1 // all but submissionId

/**
 * Whether `prev` already is what `queuedView(submissionId, ahead, prev, note)` would give
 * (`sameView` of the two), without building that view: with 100,000 queued jobs and nearly all
 * of them unmoved (places are rounded), the view built per job and cycle was most of the work.
 */
export function showsQueued (prev: JobView, submissionId: string, ahead: number, note?: string): boolean {
  if (prev.statusCode !== 'queued' || prev.statusMessage !== queuedMessage(ahead, note)) return false
  const r = prev.jobResultObject as unknown as Record<string, unknown>
  let base = 0
  for (const k in r) {
    const v = r[k]
    if (v === undefined || k === 'bytesTotal') continue // undefined counts as absent; bytesTotal is kept as it is
    if (k === 'submissionId') {
      if (v !== submissionId) return false
    } else if (k === 'archiveJobId') {
      if (!v) return false // queuedView keeps only one that is set
    } else if (k in emptyFields && v === emptyFields[k]) {
      base++
    } else {
      return false
    }
  }
  return base === emptyFieldCount && r.submissionId === submissionId
}
