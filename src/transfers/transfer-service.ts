// What the transfer routes do: every check before anything is created, then submission-id → job → Globus.
import type { Logger } from 'pino'
import type { Config, Facility } from '../config/resolve.js'
import { ProxyError, upstreamFailure } from '../errors.js'
import type { GlobusClient } from '../globus/client.js'
import { UpstreamError } from '../http/upstream-error.js'
import type { Dataset, Job, ScicatClient } from '../scicat/client.js'
import { allows, hasAccess, type User } from './access.js'
import { assertOwnJob, isOwnJob } from './deployment.js'
import { endedStatuses, type JobView, viewOf } from './job-state.js'
import { checkPlan, planFileList } from './file-plan.js'
import { type StoredFileList, storeFileList } from './file-list-store.js'
import { checkFileList, confineRendered, pathVars } from './paths.js'
import { emptyDirectories } from './recorded-directories.js'
import { statusView, type TransferStatusView } from './status-view.js'
import type { Tracker } from './tracker.js'
import { PackedFileList } from './packed-file-list.js'
import { type FileToTransfer, newTransfer, type TransferParams, toJobParams } from './transfer.js'
import type { WriteGate } from './write-gate.js'

export interface TransferRequest {
  sourceFacility: string
  destFacility: string
  scicatPid: string
  collectionRootPath: string
  autoArchive: boolean
  fileList?: FileToTransfer[] | undefined
  idempotencyKey?: string | undefined
}

export interface TransferServiceDeps {
  config: Config
  globus: GlobusClient
  scicat: ScicatClient
  tracker: Tracker
  logger: Logger
  now?: () => number
  /** Checked before the SciCat job is created (ha.lease: only while this instance holds the lease). */
  canWrite?: WriteGate
}

/** How long a repeated Idempotency-Key is answered from memory; older keys are looked up in SciCat. */
const idempotencyMemoryMs = 24 * 3600 * 1000

export class TransferService {
  private readonly config: Config
  private readonly facilities: Map<string, Facility>
  private readonly idempotent = new Map<string, { at: number; jobId: Promise<string> }>()
  private readonly now: () => number
  private inflight = 0

  constructor (private readonly deps: TransferServiceDeps) {
    this.config = deps.config
    this.facilities = new Map(deps.config.facilities.map((f) => [f.name, f]))
    this.now = deps.now ?? Date.now
  }

  /** POST /transfer. With an Idempotency-Key, a repeat by the same user returns the first jobId. */
  async create (user: User, req: TransferRequest): Promise<{ jobId: string }> {
    if (!req.idempotencyKey) return { jobId: await this.createNow(user, req) }
    const key = `${user.username}\n${req.idempotencyKey}`
    const now = this.now()
    const known = this.idempotent.get(key)
    if (known && now - known.at < idempotencyMemoryMs) return { jobId: await known.jobId }
    const jobId = this.createIdempotent(user, req)
    this.idempotent.set(key, { at: now, jobId })
    jobId.catch(() => this.idempotent.delete(key))
    for (const [k, v] of this.idempotent) if (now - v.at >= idempotencyMemoryMs) this.idempotent.delete(k)
    return { jobId: await jobId }
  }

  private async createIdempotent (user: User, req: TransferRequest): Promise<string> {
    let earlier: Job[]
    try {
      earlier = await this.deps.scicat.findJobs(
        { type: this.config.scicat.jobType, ownerUser: user.username, 'jobParams.idempotencyKey': req.idempotencyKey },
        10
      )
    } catch (err) {
      throw err instanceof UpstreamError ? upstreamFailure(err, 'SciCat could not look up the Idempotency-Key') : err
    }
    // a key is this deployment's: the same key sent to another deployment is another request
    return earlier.find((j) => isOwnJob(j, this.deps.globus.clientId))?.id ?? (await this.createNow(user, req))
  }

  private async createNow (user: User, req: TransferRequest): Promise<string> {
    // both names first (400), then both directions (403)
    const src = this.facility(req.sourceFacility, 'source')
    const dst = this.facility(req.destFacility, 'destination')
    for (const [f, role] of [[src, 'source'], [dst, 'destination']] as const) {
      if (!allows(f, role)) {
        throw new ProxyError('PROXY_FACILITY_DIRECTION', `facility ${f.name} cannot be used as ${role}`, {
          details: `facility ${f.name} has direction ${f.direction}`,
        })
      }
    }
    for (const f of [src, dst]) {
      if (!hasAccess(user.identity, f)) {
        throw new ProxyError('PROXY_FACILITY_ACCESS', `you have no access to facility ${f.name}`, {
          details: `${f.accessPath} must contain "${f.accessValue}"`,
        })
      }
    }
    const dataset = await this.dataset(req.scicatPid, user)
    if (!user.groups.includes(dataset.ownerGroup)) {
      throw new ProxyError('PROXY_DATASET_FORBIDDEN', 'you are not a member of the dataset\'s owner group', {
        details: `dataset ${req.scicatPid} belongs to ${dataset.ownerGroup}`,
      })
    }
    if (typeof dataset.sourceFolder !== 'string' || !dataset.sourceFolder) {
      throw new ProxyError('PROXY_PATH_INVALID', 'the dataset has no sourceFolder', { details: `dataset ${req.scicatPid}` })
    }
    const vars = pathVars({
      pid: req.scicatPid,
      sourceFolder: dataset.sourceFolder,
      collectionRootPath: req.collectionRootPath,
      username: user.username,
    })
    if (req.fileList) {
      checkFileList(req.fileList)
      checkPlan(planFileList(req.fileList, this.config.globus.symlinks), this.config.globus.symlinks)
    }
    const sourcePath = confineRendered(src.sourcePath.render(vars), 'source')
    const destinationPath = confineRendered(dst.destinationPath.render(vars), 'destination')
    // how the list goes into the job, and whether it fits there, before anything is created
    const stored = req.fileList ? storeFileList(req.fileList) : undefined
    this.admit()
    this.inflight++
    try {
      const empty = req.fileList
        ? await emptyDirectories(this.deps.scicat, req.scicatPid, user.token, req.fileList, this.deps.logger)
        : []
      return await this.submit(user, dataset, req, { src, dst, sourcePath, destinationPath, emptyDirectories: empty }, stored)
    } finally {
      this.inflight--
    }
  }

  private async submit (
    user: User,
    dataset: Dataset,
    req: TransferRequest,
    where: { src: Facility; dst: Facility; sourcePath: string; destinationPath: string; emptyDirectories: string[] },
    stored: StoredFileList | undefined
  ): Promise<string> {
    let submissionId: string
    try {
      submissionId = await this.deps.globus.getSubmissionId()
    } catch (err) {
      throw err instanceof UpstreamError ? upstreamFailure(err, 'Globus did not issue a submission id') : err
    }
    const g = this.config.globus
    const params: TransferParams = {
      pid: req.scicatPid,
      sourceFacility: where.src.name,
      destFacility: where.dst.name,
      sourceCollection: where.src.collection,
      destinationCollection: where.dst.collection,
      sourcePath: where.sourcePath,
      destinationPath: where.destinationPath,
      // packed until submission: a queued transfer may wait long, and the queue may be long
      ...(req.fileList
        ? {
            fileList: PackedFileList.of(req.fileList, stored),
            symlinks: g.symlinks,
            ...(where.emptyDirectories.length ? { emptyDirectories: where.emptyDirectories } : {}),
          }
        : {}),
      autoArchive: req.autoArchive,
      globusSubmissionId: submissionId,
      globusClientId: this.deps.globus.clientId,
      ...(req.idempotencyKey ? { idempotencyKey: req.idempotencyKey } : {}),
      sourceFolder: dataset.sourceFolder,
      collectionRootPath: req.collectionRootPath,
      verifyChecksum: g.verifyChecksum,
      syncLevel: g.syncLevel,
    }
    const owner = {
      ownerGroup: dataset.ownerGroup,
      ownerUser: user.username,
      ...(user.email ? { contactEmail: user.email } : {}),
    }
    if (this.deps.canWrite && !this.deps.canWrite()) {
      throw new ProxyError('PROXY_STANDBY', 'this instance is no longer the active one; try again', { retryAfter: 5 })
    }
    this.deps.tracker.creating.add(submissionId)
    let job: Job
    try {
      job = await this.createJob({ type: this.config.scicat.jobType, ...owner, jobParams: toJobParams(params, stored) }, submissionId)
    } catch (err) {
      this.deps.tracker.creating.delete(submissionId)
      throw err
    }
    const t = newTransfer({
      jobId: job.id,
      params,
      owner,
      createdAt: job.createdAt,
      state: 'queued',
      view: withBytesTotal(viewOf(job, submissionId, this.config.scicat.statusCodes), dataset.size),
    })
    const started = this.deps.tracker.startTransfer(t)
    this.deps.tracker.creating.delete(submissionId)
    const result = await started
    if (result.outcome === 'rejected') {
      const reason = result.error instanceof UpstreamError ? result.error.describe() : String(result.error)
      throw new ProxyError('PROXY_TRANSFER_REJECTED', 'Globus refused the transfer; the job is marked failed', {
        details: `jobId: ${job.id}; ${reason}`,
        extra: { jobId: job.id },
        cause: result.error,
      })
    }
    this.deps.logger.info({ jobId: job.id, outcome: result.outcome, user: user.username }, 'transfer accepted')
    return job.id
  }

  /** The job POST is not retried; when its answer is lost, the job is looked up by its submission id. */
  private async createJob (dto: Parameters<ScicatClient['createJob']>[0], submissionId: string): Promise<Job> {
    try {
      return await this.deps.scicat.createJob(dto)
    } catch (err) {
      if (!(err instanceof UpstreamError)) throw err
      if (err.transient) {
        const where = { type: dto.type, 'jobParams.globusSubmissionId': submissionId }
        let found: Job | undefined
        try {
          found = (await this.deps.scicat.findJobs(where, 10))[0]
        } catch (lookupErr) {
          // the job may well exist: discovery will adopt and submit it, so "could not create" would mislead
          const lookup = lookupErr instanceof UpstreamError ? lookupErr.describe() : String(lookupErr)
          throw new ProxyError(
            'PROXY_UPSTREAM_SCICAT',
            'SciCat\'s answer to the job creation was lost and the job could not be looked up; if it was created, it will still be transferred',
            { details: `globusSubmissionId ${submissionId}; create: ${err.describe()}; lookup: ${lookup}`, cause: err }
          )
        }
        if (found) return found
      }
      throw upstreamFailure(err, 'SciCat could not create the transfer job')
    }
  }

  /** The facility of that name (400 when unknown); its direction is checked by the caller. */
  private facility (name: string, role: 'source' | 'destination'): Facility {
    const f = this.facilities.get(name)
    if (!f) {
      throw new ProxyError('PROXY_FACILITY_UNKNOWN', `unknown ${role} facility "${name}"`, {
        details: `known facilities: ${[...this.facilities.keys()].join(', ')}`,
      })
    }
    return f
  }

  private async dataset (pid: string, user: User): Promise<Dataset> {
    let dataset: unknown
    try {
      dataset = await this.deps.scicat.getDataset(pid, user.token)
    } catch (err) {
      if (!(err instanceof UpstreamError)) throw err
      if (err.status === 404) throw new ProxyError('PROXY_DATASET_NOT_FOUND', `dataset ${pid} not found`, { details: err.message })
      if (err.status === 403 || err.status === 401) {
        throw new ProxyError('PROXY_DATASET_FORBIDDEN', `you may not read dataset ${pid}`, { details: err.message })
      }
      throw upstreamFailure(err, 'SciCat could not read the dataset')
    }
    // anything but the dataset asked for (a list, another dataset) must not decide what is transferred
    const answered = typeof dataset === 'object' && dataset !== null && !Array.isArray(dataset) ? (dataset as Dataset) : undefined
    if (answered?.pid !== pid) {
      throw new ProxyError('PROXY_UPSTREAM_SCICAT', 'SciCat did not answer with the dataset', {
        details: `GET dataset ${pid} answered ${answered ? `pid ${JSON.stringify(answered.pid)}` : Array.isArray(dataset) ? 'a list' : 'no object'}`,
      })
    }
    return answered
  }

  /** task.queueSize > 0 bounds unfinished transfers to maxConcurrency + queueSize (DESIGN §6). */
  private admit (): void {
    const { queueSize, maxConcurrency, pollInterval } = this.config.task
    if (queueSize <= 0) return
    const limit = maxConcurrency + queueSize
    if (this.deps.tracker.transfers.size + this.inflight >= limit) {
      throw new ProxyError('PROXY_AT_CAPACITY', 'the service is at capacity, try again later', {
        details: `${limit} unfinished transfers (task.maxConcurrency + task.queueSize)`,
        retryAfter: Math.max(1, Math.ceil(pollInterval)),
      })
    }
  }

  /** A transfer job the caller may see: its ownerUser, or a member of its ownerGroup. */
  private async job (user: User, jobId: string): Promise<Job> {
    let job: Job
    try {
      job = await this.deps.scicat.getJob(jobId)
    } catch (err) {
      if (err instanceof UpstreamError && err.notFound) throw notFound(jobId)
      throw err instanceof UpstreamError ? upstreamFailure(err, 'SciCat could not read the job') : err
    }
    if (job.type !== this.config.scicat.jobType) throw notFound(jobId)
    if (!(job.ownerUser && job.ownerUser === user.username) && !user.groups.includes(job.ownerGroup)) {
      throw new ProxyError('PROXY_FORBIDDEN', 'you may not see or change this transfer', {
        details: `job ${jobId} belongs to group ${job.ownerGroup}`,
      })
    }
    return job
  }

  async get (user: User, jobId: string): Promise<TransferStatusView> {
    const job = await this.job(user, jobId)
    return statusView(job, this.deps.tracker.transfers.get(jobId))
  }

  /** DELETE /transfer/{jobId}: cancel an unfinished transfer; `remove` also deletes the SciCat job. */
  async cancel (user: User, jobId: string, remove: boolean): Promise<void> {
    const job = await this.job(user, jobId)
    assertOwnJob(job, this.deps.globus.clientId)
    const t = this.deps.tracker.transfers.get(jobId)
    const status = (t ? (t.want ?? t.view) : viewOf(job, '')).jobResultObject.status
    if (endedStatuses.includes(status)) {
      if (!remove) {
        throw new ProxyError('PROXY_JOB_ENDED', `the transfer has already ${status === 'finished' ? 'finished' : `ended (${status})`}`, {
          details: `job ${jobId}`,
        })
      }
    } else {
      try {
        await this.deps.tracker.cancel(job)
      } catch (err) {
        if (!(remove && err instanceof ProxyError && err.code === 'PROXY_JOB_ENDED')) throw err
      }
    }
    if (!remove) return
    try {
      await this.deps.scicat.deleteJob(jobId)
    } catch (err) {
      if (!(err instanceof UpstreamError && err.notFound)) {
        throw err instanceof UpstreamError ? upstreamFailure(err, 'SciCat could not delete the job') : err
      }
    }
    this.deps.logger.info({ jobId, user: user.username }, 'transfer job deleted')
  }

  /** GET /facilities: whether the caller may use each facility as source and as destination. */
  facilitiesFor (user: User): Array<{ name: string; direction: string; source: boolean; destination: boolean }> {
    return this.config.facilities.map((f) => {
      const access = hasAccess(user.identity, f)
      return {
        name: f.name,
        direction: f.direction,
        source: access && allows(f, 'source'),
        destination: access && allows(f, 'destination'),
      }
    })
  }
}

function notFound (jobId: string): ProxyError {
  return new ProxyError('PROXY_JOB_NOT_FOUND', `no transfer job ${jobId}`)
}

/** The dataset's size in SciCat goes with every update of the job, as `bytesTotal`. */
function withBytesTotal (view: JobView, size: unknown): JobView {
  if (typeof size !== 'number' || !Number.isFinite(size) || size < 0) return view
  return { ...view, jobResultObject: { ...view.jobResultObject, bytesTotal: size } }
}
