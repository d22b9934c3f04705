// A transfer as the service tracks it, and its jobParams: everything needed to (re-)submit it.
import type { Config } from '../config/resolve.js'
import type { SyncLevel } from '../config/schema.js'
import type { GlobusTask, TransferItem, TransferSpec } from '../globus/client.js'
import type { Job } from '../scicat/client.js'
import { planFileList, type SymlinkMode } from './file-plan.js'
import { readFileList, type StoredFileList, storeFileList } from './file-list-store.js'
import { PackedFileList } from './packed-file-list.js'
import { type JobView, type SiteStatusCodes, viewOf } from './job-state.js'
import { joinPath, pathVars } from './paths.js'

export interface FileToTransfer {
  path: string
  isSymlink: boolean
}

export interface TransferParams {
  pid: string
  sourceFacility: string
  destFacility: string
  sourceCollection: string
  destinationCollection: string
  /** Rendered and confined collection paths. */
  sourcePath: string
  destinationPath: string
  /** Packed until it is needed (see PackedFileList). */
  fileList?: PackedFileList
  /** globus.symlinks when the transfer was accepted, so a re-submission sends the same items. */
  symlinks?: SymlinkMode
  /** fileList entries the dataset's datablocks record as directories with nothing listed under them. */
  emptyDirectories?: string[]
  autoArchive: boolean
  globusSubmissionId: string
  /** The Globus client id of the deployment that owns the transfer; absent on jobs created before it was recorded. */
  globusClientId?: string
  idempotencyKey?: string
  /** Kept so that the label renders the same on a re-submission. */
  sourceFolder: string
  collectionRootPath: string
  verifyChecksum: boolean
  syncLevel: SyncLevel
}

export interface Owner {
  ownerUser?: string
  ownerGroup: string
  contactEmail?: string
}

export type TransferState = 'queued' | 'submitting' | 'active' | 'finishing' | 'closing'

export interface Transfer {
  jobId: string
  params: TransferParams
  owner: Owner
  createdAt: string
  state: TransferState
  /** What the SciCat job shows now (the last update that landed). */
  view: JobView
  /** An update that has not landed yet; sent again every cycle until it does. */
  want?: JobView
  /** When a fatal nice_status was first seen (fail-fast). */
  fatalSince?: number
  /** Failed attempts of the post-success steps. */
  finishAttempts?: number
  /** Consecutive cycles in which Globus did not return the task. */
  missing?: number
  /** The SUCCEEDED task, kept for the post-success steps. */
  finalTask?: GlobusTask
  /** bytes_transferred at the last reading of the task. */
  seenBytes?: number
  /** The trouble (status and nice_status) whose latest error event was read, and that event. */
  troubleSeen?: string
  lastError?: string
  /** Submissions Globus refused for a retryable reason so far (in this process). */
  submitAttempts?: number
  /** Not submitted again before this time (ms): the backoff after a retryable refusal. */
  retryAt?: number
  /** Cycle number of the last progress-only update (fair share of task.progressUpdatesPerCycle). */
  progressCycle?: number
  /** The last reading that showed nothing new, and the view it left unchanged (see `unchangedReading`). */
  idle?: { task: GlobusTask; view: JobView }
}

/** What a transfer is made of when it starts being tracked; the rest starts unset. */
export type NewTransfer = Pick<Transfer, 'jobId' | 'params' | 'owner' | 'createdAt' | 'state' | 'view'>

/**
 * A transfer with every field present from the start (the optional ones undefined): the tracker
 * sets them as it goes, and objects that keep one shape keep V8's optimized code for the cycle
 * valid (a field added to 10,000 objects during a cycle changes their hidden class under it).
 */
export function newTransfer (t: NewTransfer): Transfer {
  return {
    jobId: t.jobId,
    params: t.params,
    owner: t.owner,
    createdAt: t.createdAt,
    state: t.state,
    view: t.view,
    want: undefined,
    fatalSince: undefined,
    finishAttempts: undefined,
    missing: undefined,
    finalTask: undefined,
    seenBytes: undefined,
    troubleSeen: undefined,
    lastError: undefined,
    submitAttempts: undefined,
    retryAt: undefined,
    progressCycle: undefined,
    idle: undefined,
  }
}

/** `stored`: the fileList as storeFileList() keeps it (computed here when not given). */
export function toJobParams (
  p: TransferParams,
  stored: StoredFileList | undefined = p.fileList ? storeFileList(p.fileList.unpack()) : undefined
): Record<string, unknown> {
  const { pid, fileList: _list, ...rest } = p
  return { datasetList: [{ pid, files: [] }], ...rest, ...stored }
}

const str = (v: unknown): v is string => typeof v === 'string'
const isSymlinkMode = (v: unknown): v is SymlinkMode => v === 'skip' || v === 'follow' || v === 'item'

/** Reads the jobParams this service wrote; undefined (with the reason) for anything else. */
export function paramsOf (job: Job): { params?: TransferParams; problem?: string } {
  const j = job.jobParams ?? {}
  const pid = Array.isArray(j.datasetList) ? (j.datasetList[0] as { pid?: unknown } | undefined)?.pid : undefined
  const required = [
    'sourceFacility',
    'destFacility',
    'sourceCollection',
    'destinationCollection',
    'sourcePath',
    'destinationPath',
    'globusSubmissionId',
  ] as const
  const missing = required.filter((k) => !str(j[k]))
  if (!str(pid)) missing.unshift('datasetList[0].pid' as never)
  if (missing.length) return { problem: `jobParams lacks ${missing.join(', ')}` }
  const { files: fileList, problem: listProblem } = readFileList(j)
  if (listProblem) return { problem: listProblem }
  return {
    params: {
      pid: pid as string,
      sourceFacility: j.sourceFacility as string,
      destFacility: j.destFacility as string,
      sourceCollection: j.sourceCollection as string,
      destinationCollection: j.destinationCollection as string,
      sourcePath: j.sourcePath as string,
      destinationPath: j.destinationPath as string,
      ...(fileList ? { fileList: PackedFileList.of(fileList) } : {}),
      ...(isSymlinkMode(j.symlinks) ? { symlinks: j.symlinks } : {}),
      ...(Array.isArray(j.emptyDirectories) ? { emptyDirectories: j.emptyDirectories.filter(str) } : {}),
      autoArchive: j.autoArchive !== false,
      globusSubmissionId: j.globusSubmissionId as string,
      ...(str(j.globusClientId) ? { globusClientId: j.globusClientId } : {}),
      ...(str(j.idempotencyKey) ? { idempotencyKey: j.idempotencyKey } : {}),
      sourceFolder: str(j.sourceFolder) ? j.sourceFolder : '',
      collectionRootPath: str(j.collectionRootPath) ? j.collectionRootPath : '/',
      verifyChecksum: j.verifyChecksum !== false,
      syncLevel: (str(j.syncLevel) ? j.syncLevel : 'none') as SyncLevel,
    },
  }
}

/** A transfer job found in SciCat, as this process tracks it from now on (after a restart, say). */
export function adoptedTransfer (job: Job, codes?: SiteStatusCodes): { transfer?: Transfer; problem?: string } {
  const { params, problem } = paramsOf(job)
  if (!params) return { problem: problem! }
  const view = viewOf(job, params.globusSubmissionId, codes)
  return {
    transfer: newTransfer({
      jobId: job.id,
      params,
      owner: {
        ownerGroup: job.ownerGroup,
        ...(job.ownerUser ? { ownerUser: job.ownerUser } : {}),
        ...(job.contactEmail ? { contactEmail: job.contactEmail } : {}),
      },
      createdAt: job.createdAt,
      state: view.jobResultObject.globusTaskId ? 'active' : 'queued',
      view,
    }),
  }
}

/** The plan of a fileList transfer (undefined without a fileList), as it was when the transfer was accepted. */
export function filePlanOf (p: TransferParams, config: Config) {
  return p.fileList ? planFileList(p.fileList.unpack(), p.symlinks ?? config.globus.symlinks, p.emptyDirectories) : undefined
}

/** No fileList: the whole folder, recursively; else the fileList's plan under the two folders. */
export function transferItems (p: TransferParams, config: Config): TransferItem[] {
  const plan = filePlanOf(p, config)
  if (!plan) return [{ sourcePath: p.sourcePath, destinationPath: p.destinationPath, recursive: true }]
  return plan.items.map((item) => ({
    sourcePath: joinPath(p.sourcePath, item.path),
    destinationPath: joinPath(p.destinationPath, item.path),
    ...(item.recursive ? { recursive: true } : {}),
    ...(item.symlink ? { symlink: true } : {}),
  }))
}

/** Globus labels: at most 128 characters, no line breaks, no surrounding whitespace. */
export function cleanLabel (label: string): string {
  return label.replace(/[\r\n]+/g, ' ').trim().slice(0, 128).trim()
}

/**
 * The Globus transfer document of a transfer, built when it is submitted: the deadline counts
 * from now (a job that waited in the queue must not carry a stale one), and without
 * globus.deadlineHours none is sent, so that Globus's own policy applies (it extends the
 * deadline of a task that makes progress; an explicit deadline is fixed).
 */
export function transferSpec (t: Transfer, config: Config, now = Date.now()): TransferSpec {
  const p = t.params
  const g = config.globus
  let label: string
  try {
    const vars = pathVars({
      pid: p.pid,
      sourceFolder: p.sourceFolder,
      collectionRootPath: p.collectionRootPath,
      username: t.owner.ownerUser ?? '',
    })
    label = config.globus.label.render({ ...vars, JobId: t.jobId })
  } catch {
    // an adopted job whose folder no longer fits the root: the label still names the job
    label = `SciCat job ${t.jobId}`
  }
  return {
    submissionId: p.globusSubmissionId,
    facilities: [p.sourceFacility, p.destFacility],
    sourceCollection: p.sourceCollection,
    destinationCollection: p.destinationCollection,
    label: cleanLabel(label),
    items: transferItems(p, config),
    verifyChecksum: p.verifyChecksum,
    syncLevel: p.syncLevel,
    ...(g.deadlineHours ? { deadline: new Date(now + g.deadlineHours * 3600_000).toISOString() } : {}),
    failOnQuotaErrors: g.failOnQuotaErrors,
    skipSourceErrors: g.skipSourceErrors,
  }
}
