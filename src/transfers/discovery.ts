// Discovery (§6): lists the unfinished transfer jobs in SciCat and adopts those this process should follow but does not yet.
import type { Logger } from 'pino'
import type { Config } from '../config/resolve.js'
import type { Job, ScicatClient } from '../scicat/client.js'
import type { CapacityQueue } from './capacity-queue.js'
import { endedStatuses } from './job-state.js'
import type { TrackedTransfers } from './tracked-transfers.js'
import { adoptedTransfer, type Transfer } from './transfer.js'

/**
 * Jobs per page when discovery lists SciCat's unfinished jobs. SciCat applies `limit` before
 * `skip`, so every page reads all jobs before it again: 100,000 jobs cost 101 pages and about
 * 5 million job reads in pages of 1,000, 11 pages and 0.7 million in pages of 10,000.
 */
export const discoveryPageSize = 10_000

/**
 * Whole jobs read at a time, by id, of those to adopt. A job carries its fileList, for the
 * Ingestor its dataset's whole file list (stored up to 15 MiB compressed), so a page of 10,000
 * whole jobs could take gigabytes. `id` is a unique index in SciCat (`job.schema.ts`), so a
 * batch costs SciCat an index lookup, not a scan.
 */
export const adoptionBatchSize = 200

/** What the listing reads of each unfinished job: enough to tell which to adopt. */
const listedFields = ['id', 'jobParams.globusClientId']

/** Which unfinished jobs this process may adopt at all (deployment scoping plugs in here). */
export type AdoptionFilter = (job: Job) => boolean

export interface DiscoveryDeps {
  config: Config
  scicat: ScicatClient
  log: Logger
  tracked: TrackedTransfers
  capacity: CapacityQueue
  /** Jobs a DELETE is cancelling right now: left alone. */
  isCancelling: (jobId: string) => boolean
  adopts: AdoptionFilter
  now: () => number
}

export class Discovery {
  /** Submission ids of jobs a request is creating right now: left alone too. */
  readonly creating = new Set<string>()
  /** Jobs whose jobParams cannot be tracked (warned about once). */
  private readonly skipped = new Set<string>()
  private lastRun = Number.NEGATIVE_INFINITY

  constructor (private readonly deps: DiscoveryDeps) {}

  /** On start, and every task.discoveryInterval. */
  get due (): boolean {
    return this.deps.now() - this.lastRun >= this.deps.config.task.discoveryInterval * 1000
  }

  /** Forgets what earlier runs learnt: the next cycle discovers again, as on start. */
  reset (): void {
    this.lastRun = Number.NEGATIVE_INFINITY
    this.skipped.clear()
  }

  /**
   * Adopts the unfinished jobs not followed yet, in creation order; returns how many. The
   * unfinished jobs are listed with a few fields each; those to adopt are then read whole,
   * adoptionBatchSize at a time, and each is turned into a transfer (which keeps what
   * re-submitting and tracking need, its fileList packed) before the next batch is read.
   */
  async discover (): Promise<number> {
    const { config, scicat, log, tracked, capacity, isCancelling, adopts } = this.deps
    this.lastRun = this.deps.now()
    const left = (id: string) => tracked.has(id) || this.skipped.has(id) || isCancelling(id)
    const where = { type: config.scicat.jobType, 'jobResultObject.status': { $nin: endedStatuses } }
    const found = new Map<string, Transfer>()
    const watch = tracked.watchEnded()
    try {
      const wanted = new Set<string>()
      for await (const page of scicat.jobPages(where, discoveryPageSize, listedFields)) {
        for (const job of page) if (!left(job.id) && adopts(job)) wanted.add(job.id)
      }
      const ids = [...wanted]
      for (let i = 0; i < ids.length; i += adoptionBatchSize) {
        const batch = ids.slice(i, i + adoptionBatchSize)
        // one page: a page size above the batch's never asks for a second, empty one
        for await (const page of scicat.jobPages({ ...where, id: { $in: batch } }, batch.length + 1)) {
          for (const job of page) {
            // the listing filtered by adopts(); only what happened since needs a second look
            if (found.has(job.id) || left(job.id)) continue
            const { transfer, problem } = adoptedTransfer(job, config.scicat.statusCodes)
            if (transfer) found.set(job.id, transfer)
            else {
              this.skipped.add(job.id)
              log.warn({ jobId: job.id, problem }, 'unfinished transfer job cannot be tracked')
            }
          }
        }
      }
    } finally {
      watch.stop()
    }
    const transfers = [...found.values()].sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0))
    let adopted = 0
    for (const t of transfers) {
      // what happened while the pages were read: a request started or ended it, or a DELETE is cancelling it
      if (left(t.jobId) || watch.ended.has(t.jobId) || this.creating.has(t.params.globusSubmissionId)) continue
      tracked.add(t)
      if (t.state === 'active') capacity.occupy(t.jobId)
      else capacity.enqueue(t.jobId)
      adopted++
    }
    if (adopted) log.info({ adopted, tracked: tracked.size }, 'adopted unfinished transfers')
    tracked.updateGauges()
    return adopted
  }
}
