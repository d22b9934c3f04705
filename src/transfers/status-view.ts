// A transfer job as GET /transfer/{id} and GET /transfers show it: SciCat's job, or the tracker's newer view of it.
import type { Job } from '../scicat/client.js'
import { viewOf } from './job-state.js'
import type { Transfer } from './transfer.js'

export interface TransferStatusView {
  jobId: string
  status: string
  message: string
  globusTaskId: string
  bytesTransferred: number
  filesTransferred: number
  filesTotal: number
  bytesTotal?: number
  sourceFacility: string
  destFacility: string
  createdAt: string
  updatedAt: string
}

/** `tracked`: the tracker's transfer of this job, whose view may be ahead of what SciCat has yet. */
export function statusView (job: Job, tracked: Transfer | undefined): TransferStatusView {
  const view = tracked ? (tracked.want ?? tracked.view) : viewOf(job, '')
  const r = view.jobResultObject
  const p = job.jobParams ?? {}
  return {
    jobId: job.id,
    status: r.status,
    message: view.statusMessage,
    globusTaskId: r.globusTaskId,
    bytesTransferred: r.bytesTransferred,
    filesTransferred: r.filesTransferred,
    filesTotal: r.filesTotal,
    ...(r.bytesTotal !== undefined ? { bytesTotal: r.bytesTotal } : {}),
    sourceFacility: typeof p.sourceFacility === 'string' ? p.sourceFacility : '',
    destFacility: typeof p.destFacility === 'string' ? p.destFacility : '',
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
  }
}
