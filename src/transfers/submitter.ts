// Submits transfers to Globus: a new one at once when a slot is free, queued ones as slots free up.
import type { Logger } from 'pino'
import type { Config } from '../config/resolve.js'
import type { GlobusClient } from '../globus/client.js'
import { UpstreamError } from '../http/upstream-error.js'
import type { Metrics } from '../metrics.js'
import type { CapacityQueue } from './capacity-queue.js'
import { describe } from './cycle-helpers.js'
import { failedView, queuedView, submittedView } from './job-state.js'
import type { JobWriter } from './job-writer.js'
import type { TrackedTransfers } from './tracked-transfers.js'
import { type Transfer, transferSpec } from './transfer.js'
import { type WriteGate, WritesFenced } from './write-gate.js'

export type SubmitOutcome =
  | { outcome: 'submitted'; taskId: string }
  | { outcome: 'queued'; error?: UpstreamError | WritesFenced }
  | { outcome: 'rejected'; error: unknown }

export interface SubmitterDeps {
  config: Config
  globus: GlobusClient
  metrics: Metrics
  log: Logger
  tracked: TrackedTransfers
  capacity: CapacityQueue
  writer: JobWriter
  canWrite: WriteGate
}

/** A refusal because the service's Globus identity has too much going on: wait and submit later. */
function isLoadRefusal (err: UpstreamError): boolean {
  return err.status === 409 && /too many|limit/i.test(`${err.code} ${err.message}`)
}

function globusReason (err: unknown): string {
  return err instanceof UpstreamError ? `${err.code ?? `HTTP ${err.status}`}: ${err.message}` : String(err)
}

export class Submitter {
  private readonly submissions = new Map<string, Promise<SubmitOutcome>>()

  constructor (private readonly deps: SubmitterDeps) {}

  /**
   * Takes a transfer whose job was just created: submits it now when a Globus slot is free and
   * nobody is waiting, else queues it (PATCH "queued"). Resolves once the job shows the outcome.
   */
  async startTransfer (t: Transfer): Promise<SubmitOutcome> {
    const { tracked, capacity, writer } = this.deps
    tracked.add(t)
    if (capacity.admitsNow()) {
      const result = await this.submit(t)
      if (result.outcome !== 'queued') return result
    } else {
      capacity.enqueue(t.jobId)
    }
    await writer.update(t, queuedView(t.params.globusSubmissionId, capacity.position(t.jobId), t.view))
    return { outcome: 'queued' }
  }

  /** The submission of this job under way, if any (a cancel waits for it). */
  running (jobId: string): Promise<SubmitOutcome> | undefined {
    return this.submissions.get(jobId)
  }

  /** Submits queued transfers, in the capacity queue's order, while Globus slots are free. */
  async fillSlots (stopping: () => boolean): Promise<void> {
    const { capacity } = this.deps
    while (!stopping() && capacity.hasFreeSlot()) {
      const t = capacity.takeNext()
      if (!t) return
      const result = await this.submit(t)
      if (result.outcome === 'queued') return // Globus is busy or unreachable: try next cycle
    }
  }

  /** Keeps every queued job's "N ahead" message current. */
  async refreshQueued (): Promise<void> {
    const { tracked, capacity, writer } = this.deps
    await Promise.all(
      capacity.queued.map((jobId, i) => {
        const t = tracked.get(jobId)
        return t ? writer.update(t, queuedView(t.params.globusSubmissionId, i, t.view)) : undefined
      })
    )
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
    let taskId: string
    try {
      taskId = (await globus.submitTransfer(transferSpec(t, config))).taskId
    } catch (err) {
      capacity.release(t.jobId)
      if (err instanceof WritesFenced || (err instanceof UpstreamError && (err.transient || isLoadRefusal(err)))) return this.postpone(t, err)
      log.warn({ jobId: t.jobId, err: describe(err) }, 'Globus refused the transfer')
      await tracked.close(t, failedView(t.view, globusReason(err)))
      return { outcome: 'rejected', error: err }
    }
    t.state = 'active'
    metrics.transfersSubmitted.inc()
    await writer.update(t, submittedView(t.view, taskId))
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
