// GET /transfers: the caller's transfer jobs from SciCat (read with their own token), newest first.
import type { Config } from '../config/resolve.js'
import { ProxyError, upstreamFailure } from '../errors.js'
import { UpstreamError } from '../http/upstream-error.js'
import type { Job, ScicatClient } from '../scicat/client.js'
import { isAdmin, type User } from './access.js'
import { endedStatuses, type TransferStatus } from './job-state.js'
import type { QueueView, TrackerReadView } from './queue-view.js'
import { statusView, type TransferStatusView } from './status-view.js'

export interface ListQuery {
  status?: TransferStatus | undefined
  limit: number
  skip: number
}

export interface TransferListItem extends TransferStatusView {
  /** The dataset's PID (jobParams.datasetList[0].pid), so a list can name what is transferred. */
  pid?: string
  queuePosition?: number
  bytesPerSecond?: number
  error?: string
}

export interface TransferListPage {
  transfers: TransferListItem[]
  limit: number
  skip: number
  /** The caller is an admin and sees every transfer of the deployment. */
  all: boolean
}

export interface TransferListDeps {
  config: Config
  scicat: ScicatClient
  tracker: TrackerReadView
  queue: () => QueueView
}

export class TransferList {
  constructor (private readonly deps: TransferListDeps) {}

  async list (user: User, query: ListQuery): Promise<TransferListPage> {
    const all = isAdmin(user, this.deps.config.server.adminGroups)
    const where: Record<string, unknown> = { type: this.deps.config.scicat.jobType }
    // a job nobody updated yet has no status and counts as transferring, as GET /transfer/{id} shows it
    if (query.status === 'transferring') where['jobResultObject.status'] = { $nin: endedStatuses }
    else if (query.status) where['jobResultObject.status'] = query.status
    let jobs: Job[]
    try {
      jobs = await this.deps.scicat.jobPage(
        { where, sort: { createdAt: -1 }, skip: query.skip, limit: query.limit },
        all ? undefined : user.token
      )
    } catch (err) {
      if (err instanceof UpstreamError && (err.status === 401 || err.status === 403)) {
        throw new ProxyError('PROXY_FORBIDDEN', 'SciCat does not let you list jobs', { details: err.describe(), cause: err })
      }
      throw err instanceof UpstreamError ? upstreamFailure(err, 'SciCat could not list the transfer jobs') : err
    }
    const positions = this.deps.queue().positions()
    const transfers = jobs.slice(0, query.limit).map((job) => {
      const tracked = this.deps.tracker.transfers.get(job.id)
      const item: TransferListItem = statusView(job, tracked)
      const pid = (job.jobParams?.datasetList as Array<{ pid?: unknown }> | undefined)?.[0]?.pid
      if (typeof pid === 'string') item.pid = pid
      const position = positions.get(job.id)
      if (position !== undefined) item.queuePosition = position
      const result = tracked ? (tracked.want ?? tracked.view).jobResultObject : undefined
      if (result?.bytesPerSecond !== undefined) item.bytesPerSecond = result.bytesPerSecond
      const error = (tracked ? result : (job.jobResultObject as { error?: unknown } | undefined))?.error
      if (typeof error === 'string' && error) item.error = error
      return item
    })
    return { transfers, limit: query.limit, skip: query.skip, all }
  }
}
