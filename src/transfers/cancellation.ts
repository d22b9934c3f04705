// Cancellation (DELETE /transfer/{jobId}): cancels the Globus task, then records `cancelled` in the job.
import type { Logger } from 'pino'
import { ProxyError, upstreamFailure } from '../errors.js'
import type { GlobusClient, GlobusTask } from '../globus/client.js'
import { UpstreamError } from '../http/upstream-error.js'
import type { Job } from '../scicat/client.js'
import type { CapacityQueue } from './capacity-queue.js'
import { unknownTask } from './deployment.js'
import { cancelledView, viewOf } from './job-state.js'
import type { JobWriter } from './job-writer.js'
import type { Submitter } from './submitter.js'
import type { TrackedTransfers } from './tracked-transfers.js'
import { type WriteGate, WritesFenced } from './write-gate.js'

export interface CancellationDeps {
  globus: GlobusClient
  log: Logger
  tracked: TrackedTransfers
  capacity: CapacityQueue
  writer: JobWriter
  submitter: Submitter
  canWrite: WriteGate
}

export class Cancellation {
  /** Jobs a DELETE is cancelling right now: discovery leaves them alone. */
  private readonly cancelling = new Set<string>()

  constructor (private readonly deps: CancellationDeps) {}

  isCancelling (jobId: string): boolean {
    return this.cancelling.has(jobId)
  }

  /** Cancels a transfer, tracked here or not (e.g. started before a restart). */
  async cancel (job: Job): Promise<void> {
    this.cancelling.add(job.id)
    try {
      await this.cancelNow(job)
    } finally {
      this.cancelling.delete(job.id)
    }
  }

  private async cancelNow (job: Job): Promise<void> {
    const { globus, tracked, capacity, writer, submitter, canWrite } = this.deps
    await submitter.running(job.id)
    const t = tracked.get(job.id)
    if (t && (t.state === 'finishing' || t.state === 'closing')) {
      throw new ProxyError('PROXY_JOB_ENDED', 'the transfer has already ended', { details: `job ${job.id}` })
    }
    if (!canWrite()) throw new WritesFenced('cancellation')
    const view = t ? (t.want ?? t.view) : viewOf(job, '')
    const taskId = view.jobResultObject.globusTaskId
    let task: GlobusTask | undefined
    if (taskId) {
      try {
        await globus.cancelTask(taskId)
        task = await globus.getTask(taskId)
      } catch (err) {
        // a 404 is not a success: Globus shows tasks only to the client that submitted them
        if (err instanceof UpstreamError && err.status === 404) throw unknownTask(job, taskId, globus.clientId)
        throw err instanceof UpstreamError ? upstreamFailure(err, 'Globus could not cancel the task') : err
      }
      if (task?.status === 'SUCCEEDED') {
        throw new ProxyError('PROXY_JOB_ENDED', 'the transfer finished before it could be cancelled', {
          details: `job ${job.id}, Globus task ${taskId}`,
        })
      }
    }
    const wasQueued = capacity.remove(job.id)
    if (t) t.state = 'closing'
    const target = t ?? { jobId: job.id, view }
    const cancelled = cancelledView(view, task)
    try {
      await writer.write(target, cancelled)
    } catch (err) {
      if (t && wasQueued) {
        t.state = 'queued'
        capacity.restore(job.id)
      }
      throw err instanceof UpstreamError ? upstreamFailure(err, 'SciCat could not record the cancellation') : err
    }
    if (t) tracked.forget(t, 'cancelled')
    else tracked.noteEnded(job.id, 'cancelled')
  }
}
