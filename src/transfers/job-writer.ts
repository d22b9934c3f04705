// Writes job states to SciCat: only when something changed, and again every cycle until it lands.
import type { Logger } from 'pino'
import { UpstreamError } from '../http/upstream-error.js'
import type { Metrics } from '../metrics.js'
import type { ScicatClient } from '../scicat/client.js'
import { type JobView, sameView } from './job-state.js'
import type { Transfer } from './transfer.js'
import { alwaysWrite, type WriteGate, WritesFenced } from './write-gate.js'

export class JobWriter {
  private readonly gone = new WeakSet<Transfer>()
  /** The last PATCH made per job: the next one waits for it, so they land in the order they were made. */
  private readonly writing = new Map<string, Promise<void>>()

  constructor (
    private readonly scicat: ScicatClient,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly canWrite: WriteGate = alwaysWrite
  ) {}

  /**
   * Makes the job show `view`. Returns whether SciCat has it; a failed update stays in
   * `t.want` for the next cycle. Sends nothing when the job already shows `view`.
   */
  async update (t: Transfer, view: JobView): Promise<boolean> {
    if (!t.want && sameView(t.view, view)) return true
    t.want = view
    try {
      await this.write(t, view)
      if (t.want === view) t.want = undefined
      return true
    } catch (err) {
      if (err instanceof UpstreamError && err.notFound) {
        this.gone.add(t)
        this.log.warn({ jobId: t.jobId }, 'the job no longer exists in SciCat; no longer tracked')
      } else {
        this.log.warn({ jobId: t.jobId, err: err instanceof UpstreamError ? err.describe() : String(err) }, 'job update failed; will retry')
      }
      return false
    }
  }

  /**
   * One PATCH with both status fields and the whole jobResultObject (SciCat replaces it); throws on
   * failure. A job's PATCHes go one at a time: a slow one (e.g. "queued", retried) must not land
   * after a later one ("submitted") and hide the task id.
   */
  async write (target: { jobId: string; view: JobView }, view: JobView): Promise<void> {
    const previous = this.writing.get(target.jobId)
    const mine = (previous ? previous.catch(() => undefined) : Promise.resolve()).then(() => this.send(target, view))
    this.writing.set(target.jobId, mine)
    try {
      await mine
    } finally {
      if (this.writing.get(target.jobId) === mine) this.writing.delete(target.jobId)
    }
  }

  private async send (target: { jobId: string; view: JobView }, view: JobView): Promise<void> {
    if (!this.canWrite()) throw new WritesFenced(`update of job ${target.jobId}`)
    try {
      await this.scicat.updateJob(target.jobId, {
        statusCode: view.statusCode,
        statusMessage: view.statusMessage,
        jobResultObject: { ...view.jobResultObject },
      })
    } catch (err) {
      this.metrics.patches.inc({ result: 'failed' })
      throw err
    }
    this.metrics.patches.inc({ result: 'sent' })
    target.view = view
  }

  /** The job was deleted in SciCat behind the service's back. */
  isGone (t: Transfer): boolean {
    return this.gone.has(t)
  }
}
