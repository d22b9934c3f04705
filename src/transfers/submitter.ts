// Submits transfers to Globus: a new one at once when a slot is free, queued ones as slots free up.
import type { GlobusClient } from '../globus/client.js'
import { submissionRefusal } from '../globus/refusals.js'
import { UpstreamError } from '../http/upstream-error.js'
import type { Metrics } from '../metrics.js'
import type { ScicatClient } from '../scicat/client.js'
import { describe } from './cycle-helpers.js'
import type { CycleParts } from './cycle-parts.js'
import { holdNote } from './fair-order.js'
import { failedView, isEnded, type JobView, runningView, submittedView, viewOf } from './job-state.js'
import { queuedMessages, queuedView, showsQueued } from './queued-view.js'
import { type Transfer, transferSpec } from './transfer.js'
import { WritesFenced } from './write-gate.js'

export type SubmitOutcome =
  | { outcome: 'submitted'; taskId: string }
  | { outcome: 'queued'; error?: UpstreamError | WritesFenced }
  | { outcome: 'rejected'; error: unknown }

export interface SubmitterDeps extends CycleParts {
  globus: GlobusClient
  scicat: ScicatClient
  metrics: Metrics
}

/** Longest wait between two attempts of a submission Globus refused for a retryable reason. */
const maxRetryDelayMs = 600_000

/**
 * The wait before attempt `attempts + 1`: one poll interval, doubled with each refusal, at most
 * 10 minutes, and never shorter than a Retry-After Globus sent.
 */
function retryDelayMs (attempts: number, pollIntervalSeconds: number, err: UpstreamError): number {
  const backoff = Math.min(maxRetryDelayMs, pollIntervalSeconds * 1000 * 2 ** (attempts - 1))
  return Math.max(backoff, err.retryAfterMs ?? 0)
}

function globusReason (err: unknown): string {
  return err instanceof UpstreamError ? `${err.code ?? `HTTP ${err.status}`}: ${err.message}` : String(err)
}

export class Submitter {
  /** The queue order every queued job was last shown its place in. */
  private shownOrder: object | undefined

  private readonly submissions = new Map<string, Promise<SubmitOutcome>>()

  constructor (private readonly deps: SubmitterDeps) {}

  /**
   * Takes a transfer whose job was just created: submits it now when a Globus slot is free, no
   * limit holds it and nobody is waiting, else queues it (PATCH "queued"). Resolves once the job
   * shows the outcome.
   */
  async startTransfer (t: Transfer): Promise<SubmitOutcome> {
    const { tracked, capacity, writer } = this.deps
    tracked.add(t)
    if (capacity.admitsNow(t)) {
      const result = await this.submit(t)
      if (result.outcome !== 'queued') return result
    } else {
      capacity.enqueue(t.jobId)
    }
    const hold = capacity.holdOfWaiting(t.jobId)
    await writer.update(t, queuedView(t.params.globusSubmissionId, capacity.placeOfNewcomer(t.jobId), t.view, hold && holdNote(hold)))
    return { outcome: 'queued' }
  }

  /** The submission of this job under way, if any (a cancel waits for it). */
  running (jobId: string): Promise<SubmitOutcome> | undefined {
    return this.submissions.get(jobId)
  }

  /** Submits queued transfers, in the capacity queue's order, while Globus slots are free. */
  async fillSlots (stopping: () => boolean): Promise<void> {
    const { capacity, now } = this.deps
    capacity.beginFill()
    // refused before and not due again yet: they keep their turn, the others go ahead
    const notDue: string[] = []
    try {
      while (!stopping() && capacity.hasFreeSlot()) {
        const t = capacity.takeNext()
        if (!t) return
        if (t.retryAt !== undefined && t.retryAt > now()) {
          notDue.push(t.jobId)
          continue
        }
        const result = await this.submit(t)
        if (result.outcome === 'queued') return // Globus is busy or unreachable: try next cycle
      }
    } finally {
      for (const jobId of notDue) capacity.requeue(jobId)
    }
  }

  /**
   * Keeps every queued job's "N ahead" message current: its place in the fair order, and the
   * limit that holds it, if any. A job whose rounded message did not change costs no PATCH.
   */
  async refreshQueued (): Promise<void> {
    const { capacity, writer } = this.deps
    const order = capacity.order()
    // the queue keeps one order object until a job joins, leaves, takes or frees a slot: when every
    // job was shown its place in this very order, nothing moved (a write that failed waits in
    // `want`, which every cycle's flush sends again)
    if (order === this.shownOrder) return
    // checked here, without a promise per job: with 100,000 queued, nearly every one shows its
    // place already (places are rounded), and only the few that moved past a rounding step are written
    const updates: Array<Promise<boolean>> = []
    const messageOf = queuedMessages()
    for (let i = 0; i < order.jobs.length; i++) {
      const t = order.jobs[i]!.transfer
      const hold = i >= order.ready ? order.holds[i - order.ready] : undefined
      if (!t.want && showsQueued(t.view, t.params.globusSubmissionId, messageOf(i, hold))) continue
      updates.push(writer.update(t, queuedView(t.params.globusSubmissionId, i, t.view, hold && holdNote(hold))))
    }
    await Promise.all(updates)
    this.shownOrder = order
  }

  private submit (t: Transfer): Promise<SubmitOutcome> {
    const running = this.submitNow(t).finally(() => this.submissions.delete(t.jobId))
    this.submissions.set(t.jobId, running)
    return running
  }

  private async submitNow (t: Transfer): Promise<SubmitOutcome> {
    const { config, globus, metrics, log, tracked, capacity, writer, canWrite } = this.deps
    if (!canWrite()) return this.postpone(t, new WritesFenced('Globus submission'))
    t.state = 'submitting'
    capacity.occupy(t.jobId)
    let submitted: { code: string; taskId: string }
    try {
      submitted = await globus.submitTransfer(transferSpec(t, config, this.deps.now()))
    } catch (err) {
      capacity.release(t.jobId)
      // fenced (HA): not a refusal; submitted later by whichever instance is active
      if (err instanceof WritesFenced) return this.postpone(t, err)
      let reason = globusReason(err)
      // README "When Globus refuses a submission": definitive refusals fail the job at once,
      // any other is retried on later cycles, at most globus.submitAttempts times
      if (err instanceof UpstreamError && submissionRefusal(err) === 'retryable') {
        const attempts = (t.submitAttempts ?? 0) + 1
        t.submitAttempts = attempts
        if (attempts < config.globus.submitAttempts) {
          t.retryAt = this.deps.now() + retryDelayMs(attempts, config.task.pollInterval, err)
          return this.postpone(t, err)
        }
        reason = `${reason} (refused ${attempts} times)`
      }
      log.warn({ jobId: t.jobId, err: describe(err) }, 'Globus refused the transfer')
      await tracked.close(t, failedView(t.view, reason))
      return { outcome: 'rejected', error: err }
    }
    const { taskId } = submitted
    if (submitted.code === 'Duplicate') return await this.resumeDuplicate(t, taskId)
    t.state = 'active'
    metrics.transfersSubmitted.inc()
    await writer.update(t, submittedView(t.view, taskId))
    return { outcome: 'submitted', taskId }
  }

  /**
   * Globus ran this submission id before (another instance, or an attempt whose answer was lost):
   * not a fresh start. The job keeps what it shows now in SciCat, the task is read first, and
   * only a step forward is written: nothing over a job that has ended or already shows the task.
   */
  private async resumeDuplicate (t: Transfer, taskId: string): Promise<SubmitOutcome> {
    const { scicat, globus, log, tracked, capacity, writer } = this.deps
    let shown: JobView
    try {
      shown = viewOf(await scicat.getJob(t.jobId), t.params.globusSubmissionId, this.deps.config.scicat.statusCodes)
    } catch (err) {
      if (!(err instanceof UpstreamError)) throw err
      capacity.release(t.jobId)
      if (!err.notFound) return this.postpone(t, err) // the next attempt answers Duplicate again
      tracked.forget(t)
      return { outcome: 'submitted', taskId }
    }
    t.view = shown
    t.want = undefined
    if (isEnded(shown)) {
      log.info({ jobId: t.jobId, taskId, status: shown.jobResultObject.status }, 'Globus answered Duplicate for a job that has ended; left as it is')
      tracked.forget(t)
      return { outcome: 'submitted', taskId }
    }
    t.state = 'active'
    if (shown.jobResultObject.globusTaskId === taskId) return { outcome: 'submitted', taskId } // polling goes on from here
    const task = await globus.getTask(taskId).catch(() => undefined)
    const base: JobView = { ...shown, jobResultObject: { ...shown.jobResultObject, globusTaskId: taskId } }
    const running = task && (task.status === 'ACTIVE' || task.status === 'INACTIVE')
    await writer.update(t, running ? runningView(base, task) : submittedView(base, taskId))
    return { outcome: 'submitted', taskId }
  }

  /** Back to the front of the queue: the stored submission id makes the later submission exactly-once. */
  private postpone (t: Transfer, err: UpstreamError | WritesFenced): SubmitOutcome {
    t.state = 'queued'
    this.deps.capacity.requeue(t.jobId)
    this.deps.log.warn({ jobId: t.jobId, err: describe(err) }, 'Globus submission postponed')
    return { outcome: 'queued', error: err }
  }
}
