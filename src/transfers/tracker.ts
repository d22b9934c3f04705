// The one tracker of a process: follows every unfinished transfer in batched cycles, submits queued ones.
import type { Logger } from 'pino'
import type { Config } from '../config/resolve.js'
import { ProxyError, upstreamFailure } from '../errors.js'
import type { GlobusClient, GlobusTask } from '../globus/client.js'
import { taskListChunk } from '../globus/client.js'
import { UpstreamError } from '../http/upstream-error.js'
import type { Metrics } from '../metrics.js'
import type { Job, ScicatClient } from '../scicat/client.js'
import { Finisher } from './finisher.js'
import { cancelledView, endedStatuses, failedView, type JobView, queuedView, submittedView, viewOf } from './job-state.js'
import { JobWriter } from './job-writer.js'
import { readTask } from './task-outcome.js'
import { adoptedTransfer, type Transfer, transferSpec } from './transfer.js'

export interface TrackerDeps {
  config: Config
  globus: GlobusClient
  scicat: ScicatClient
  logger: Logger
  metrics: Metrics
  now?: () => number
}

export type SubmitOutcome =
  | { outcome: 'submitted'; taskId: string }
  | { outcome: 'queued'; error?: UpstreamError }
  | { outcome: 'rejected'; error: unknown }

/** A refusal because the service's Globus identity has too much going on: wait and submit later. */
function isLoadRefusal (err: UpstreamError): boolean {
  return err.status === 409 && /too many|limit/i.test(`${err.code} ${err.message}`)
}

function globusReason (err: unknown): string {
  return err instanceof UpstreamError ? `${err.code ?? `HTTP ${err.status}`}: ${err.message}` : String(err)
}

export class Tracker {
  readonly transfers = new Map<string, Transfer>()
  /** Jobs waiting for a Globus slot, in the order they were accepted. */
  readonly queue: string[] = []
  /** Jobs whose Globus task is being submitted or has not ended: at most globus.maxActiveTasks. */
  private readonly active = new Set<string>()
  /** Submission ids of jobs a request is creating right now: discovery leaves them alone. */
  readonly creating = new Set<string>()
  /** Jobs a DELETE is cancelling right now: discovery leaves them alone too. */
  private readonly cancelling = new Set<string>()
  /**
   * One set per discovery reading SciCat: jobs this process ends meanwhile, which the list
   * it gets back may still show unfinished (adopting them again would revive them).
   */
  private readonly endedWhileDiscovering = new Set<Set<string>>()
  private readonly submissions = new Map<string, Promise<SubmitOutcome>>()
  private readonly skipped = new Set<string>()
  private readonly writer: JobWriter
  private readonly finisher: Finisher
  private readonly now: () => number
  private readonly log: Logger
  private timer: NodeJS.Timeout | undefined
  private cycle: Promise<void> | undefined
  private stopped = true
  /** Set by stop(): a running cycle submits nothing new. */
  private stopping = false
  private cycleNumber = 0
  private lastDiscovery = Number.NEGATIVE_INFINITY

  constructor (private readonly deps: TrackerDeps) {
    this.now = deps.now ?? Date.now
    this.log = deps.logger.child({ component: 'tracker' })
    this.writer = new JobWriter(deps.scicat, deps.metrics, this.log)
    this.finisher = new Finisher(deps.config, deps.scicat, this.log)
  }

  get activeCount (): number {
    return this.active.size
  }

  /** Starts the cycles (the first one at once, with discovery). Idempotent. */
  start (): void {
    if (!this.stopped) return
    this.stopped = false
    this.schedule(0)
  }

  /** Stops the cycles, waits for the running one, and gives pending job updates `flushMs` to land. */
  async stop (boundMs = 5000): Promise<void> {
    this.stopped = true
    this.stopping = true
    clearTimeout(this.timer)
    this.timer = undefined
    // A cycle stuck in upstream retries must not hold the shutdown: whatever has not landed
    // by the deadline is repaired by the next start's discovery.
    let timeout: NodeJS.Timeout | undefined
    await Promise.race([
      (async () => {
        await this.cycle
        await this.flush()
      })(),
      new Promise<void>((resolve) => {
        timeout = setTimeout(resolve, boundMs)
      }),
    ])
    clearTimeout(timeout)
  }

  private schedule (delayMs: number): void {
    this.timer = setTimeout(() => {
      this.runCycle()
        .catch((err: unknown) => this.log.error({ err }, 'tracker cycle failed'))
        .finally(() => {
          if (!this.stopped) this.schedule(this.deps.config.task.pollInterval * 1000)
        })
    }, delayMs)
  }

  /** One cycle; a call while a cycle runs waits for that cycle instead of starting another. */
  async runCycle (): Promise<void> {
    this.cycle ??= this.runOnce().finally(() => {
      this.cycle = undefined
    })
    return this.cycle
  }

  private async runOnce (): Promise<void> {
    const end = this.deps.metrics.cycleDuration.startTimer()
    if (this.now() - this.lastDiscovery >= this.deps.config.task.discoveryInterval * 1000) {
      await this.discover().catch((err: unknown) => this.log.warn({ err: describe(err) }, 'discovery failed'))
    }
    await this.flush()
    await this.poll()
    await Promise.all([...this.transfers.values()].filter((t) => t.state === 'finishing').map((t) => this.finish(t)))
    await this.fillSlots()
    await this.refreshQueued()
    this.updateGauges()
    end()
  }

  /** Lists unfinished transfer jobs in SciCat and adopts those this process does not follow yet. */
  async discover (): Promise<number> {
    this.lastDiscovery = this.now()
    const ended = new Set<string>()
    this.endedWhileDiscovering.add(ended)
    let jobs: Job[]
    try {
      jobs = await this.deps.scicat.findJobs({
        type: this.deps.config.scicat.jobType,
        'jobResultObject.status': { $nin: endedStatuses },
      })
    } finally {
      this.endedWhileDiscovering.delete(ended)
    }
    jobs.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0))
    let adopted = 0
    for (const job of jobs) {
      if (this.transfers.has(job.id) || this.skipped.has(job.id) || this.cancelling.has(job.id) || ended.has(job.id)) continue
      const { transfer: t, problem } = adoptedTransfer(job)
      if (!t) {
        this.skipped.add(job.id)
        this.log.warn({ jobId: job.id, problem }, 'unfinished transfer job cannot be tracked')
        continue
      }
      if (this.creating.has(t.params.globusSubmissionId)) continue
      this.transfers.set(job.id, t)
      if (t.state === 'active') this.active.add(job.id)
      else this.queue.push(job.id)
      adopted++
    }
    if (adopted) this.log.info({ adopted, tracked: this.transfers.size }, 'adopted unfinished transfers')
    this.updateGauges()
    return adopted
  }

  /**
   * Takes a transfer whose job was just created: submits it now when a Globus slot is free and
   * nobody is waiting, else queues it (PATCH "queued"). Resolves once the job shows the outcome.
   */
  async startTransfer (t: Transfer): Promise<SubmitOutcome> {
    this.transfers.set(t.jobId, t)
    if (this.queue.length === 0 && this.active.size < this.deps.config.globus.maxActiveTasks) {
      const result = await this.submit(t)
      if (result.outcome !== 'queued') return result
    } else {
      this.queue.push(t.jobId)
    }
    await this.writer.update(t, queuedView(t.params.globusSubmissionId, this.queue.indexOf(t.jobId), t.view))
    return { outcome: 'queued' }
  }

  private submit (t: Transfer): Promise<SubmitOutcome> {
    const running = this.submitNow(t).finally(() => this.submissions.delete(t.jobId))
    this.submissions.set(t.jobId, running)
    return running
  }

  private async submitNow (t: Transfer): Promise<SubmitOutcome> {
    t.state = 'submitting'
    this.active.add(t.jobId)
    let taskId: string
    try {
      taskId = (await this.deps.globus.submitTransfer(transferSpec(t, this.deps.config))).taskId
    } catch (err) {
      this.active.delete(t.jobId)
      if (err instanceof UpstreamError && (err.transient || isLoadRefusal(err))) {
        // the stored submission id makes the later submission exactly-once
        t.state = 'queued'
        this.queue.unshift(t.jobId)
        this.log.warn({ jobId: t.jobId, err: err.describe() }, 'Globus submission postponed')
        return { outcome: 'queued', error: err }
      }
      this.log.warn({ jobId: t.jobId, err: describe(err) }, 'Globus refused the transfer')
      await this.close(t, failedView(t.view, globusReason(err)))
      return { outcome: 'rejected', error: err }
    }
    t.state = 'active'
    this.deps.metrics.transfersSubmitted.inc()
    await this.writer.update(t, submittedView(t.view, taskId))
    return { outcome: 'submitted', taskId }
  }

  /** Submits queued transfers, oldest first, while Globus slots are free. */
  private async fillSlots (): Promise<void> {
    while (!this.stopping && this.queue.length && this.active.size < this.deps.config.globus.maxActiveTasks) {
      const t = this.transfers.get(this.queue.shift()!)
      if (!t || t.state !== 'queued') continue
      const result = await this.submit(t)
      if (result.outcome === 'queued') return // Globus is busy or unreachable: try next cycle
    }
  }

  private async refreshQueued (): Promise<void> {
    await Promise.all(
      this.queue.map((jobId, i) => {
        const t = this.transfers.get(jobId)
        return t ? this.writer.update(t, queuedView(t.params.globusSubmissionId, i, t.view)) : undefined
      })
    )
  }

  /** Reads every active task with task_list (50 ids a call) and updates the jobs that changed. */
  private async poll (): Promise<void> {
    const tracked = [...this.active]
      .map((id) => this.transfers.get(id)!)
      .filter((t) => t.state === 'active' && t.view.jobResultObject.globusTaskId)
    const chunks: Transfer[][] = []
    for (let i = 0; i < tracked.length; i += taskListChunk) chunks.push(tracked.slice(i, i + taskListChunk))
    const progress: Array<{ t: Transfer; view: JobView }> = []
    // A few chunks at a time rather than all: the upstream calls are bounded by task.maxConcurrency
    // anyway, and 10,000 pending updates held at once cost memory and garbage collection.
    await eachLimited(chunks, this.workers, async (chunk) => {
      let tasks: Map<string, GlobusTask>
      try {
        tasks = await this.deps.globus.listTasks(chunk.map((t) => t.view.jobResultObject.globusTaskId))
      } catch (err) {
        this.log.warn({ err: describe(err), transfers: chunk.length }, 'could not read Globus tasks; next cycle')
        return
      }
      await Promise.all(chunk.map((t) => this.observe(t, tasks.get(t.view.jobResultObject.globusTaskId), progress)))
    })
    // Progress alone is shown for the jobs that waited longest, at most progressUpdatesPerCycle:
    // SciCat has no bulk update, and with thousands of transfers one PATCH each per cycle
    // would be the service's main cost and SciCat's main load.
    this.cycleNumber++
    progress.sort((a, b) => (a.t.progressCycle ?? -1) - (b.t.progressCycle ?? -1))
    const chosen = progress.slice(0, this.deps.config.task.progressUpdatesPerCycle)
    await eachLimited(chosen, this.workers, async ({ t, view }) => {
      if (t.state !== 'active') return
      if (await this.writer.update(t, view)) t.progressCycle = this.cycleNumber
    })
  }

  /** Parallel workers for batches of upstream calls (which task.maxConcurrency bounds anyway). */
  private get workers (): number {
    return Math.max(2, this.deps.config.task.maxConcurrency)
  }

  private async observe (
    t: Transfer,
    task: GlobusTask | undefined,
    progress: Array<{ t: Transfer; view: JobView }>
  ): Promise<void> {
    if (t.state !== 'active') return // cancelled meanwhile
    const outcome = readTask(t, task, this.now(), this.deps.config.task.failFastAfterSeconds)
    switch (outcome.kind) {
      case 'wait':
        return
      case 'succeeded':
        this.active.delete(t.jobId)
        t.state = 'finishing'
        t.finalTask = outcome.task
        return
      case 'ended':
        return this.close(t, outcome.view)
      case 'fail-fast':
        try {
          await this.deps.globus.cancelTask(outcome.taskId)
        } catch (err) {
          this.log.warn({ jobId: t.jobId, err: describe(err) }, 'fail-fast cancel failed; next cycle')
          return
        }
        return this.close(t, outcome.view)
      case 'running':
        if (outcome.progressOnly) progress.push({ t, view: outcome.view })
        else await this.writer.update(t, outcome.view)
    }
  }

  private async finish (t: Transfer): Promise<void> {
    const view = await this.finisher.finish(t)
    if (view) await this.close(t, view)
  }

  /** Writes the final state; the transfer is forgotten once SciCat has it (else retried next cycle). */
  private async close (t: Transfer, view: JobView): Promise<void> {
    t.state = 'closing'
    this.active.delete(t.jobId)
    const landed = await this.writer.update(t, view)
    if (landed) this.forget(t, view.jobResultObject.status)
    else if (this.writer.isGone(t)) this.forget(t)
  }

  private forget (t: Transfer, status?: string): void {
    this.noteEnded(t.jobId)
    this.transfers.delete(t.jobId)
    this.active.delete(t.jobId)
    const i = this.queue.indexOf(t.jobId)
    if (i !== -1) this.queue.splice(i, 1)
    if (status) this.deps.metrics.transfersEnded.inc({ status })
  }

  /** Sends every update that has not landed yet. */
  async flush (): Promise<void> {
    await Promise.all(
      [...this.transfers.values()]
        .filter((t) => t.want)
        .map(async (t) => {
          const landed = await this.writer.update(t, t.want!)
          if (landed && t.state === 'closing') this.forget(t, t.view.jobResultObject.status)
          if (this.writer.isGone(t)) this.forget(t)
        })
    )
  }

  /**
   * Cancels a transfer (DELETE /transfer/{jobId}), tracked here or not (e.g. started before a
   * restart): cancels the Globus task, then records `cancelled` in the job.
   */
  async cancel (job: Job): Promise<void> {
    this.cancelling.add(job.id)
    try {
      await this.cancelNow(job)
    } finally {
      this.cancelling.delete(job.id)
    }
  }

  private noteEnded (jobId: string): void {
    for (const ended of this.endedWhileDiscovering) ended.add(jobId)
  }

  private async cancelNow (job: Job): Promise<void> {
    await this.submissions.get(job.id)
    const t = this.transfers.get(job.id)
    if (t && (t.state === 'finishing' || t.state === 'closing')) {
      throw new ProxyError('PROXY_JOB_ENDED', 'the transfer has already ended', { details: `job ${job.id}` })
    }
    const view = t ? (t.want ?? t.view) : viewOf(job, '')
    const taskId = view.jobResultObject.globusTaskId
    let task: GlobusTask | undefined
    if (taskId) {
      try {
        await this.deps.globus.cancelTask(taskId)
        task = await this.deps.globus.getTask(taskId)
      } catch (err) {
        if (err instanceof UpstreamError && err.status !== 404) throw upstreamFailure(err, 'Globus could not cancel the task')
      }
      if (task?.status === 'SUCCEEDED') {
        throw new ProxyError('PROXY_JOB_ENDED', 'the transfer finished before it could be cancelled', {
          details: `job ${job.id}, Globus task ${taskId}`,
        })
      }
    }
    const queuedAt = this.queue.indexOf(job.id)
    if (queuedAt !== -1) this.queue.splice(queuedAt, 1)
    if (t) t.state = 'closing'
    const target = t ?? { jobId: job.id, view }
    const cancelled = cancelledView(view, task)
    try {
      await this.writer.write(target, cancelled)
    } catch (err) {
      if (t && queuedAt !== -1) {
        t.state = 'queued'
        this.queue.splice(queuedAt, 0, job.id)
      }
      throw err instanceof UpstreamError ? upstreamFailure(err, 'SciCat could not record the cancellation') : err
    }
    if (t) this.forget(t, 'cancelled')
    else {
      this.noteEnded(job.id)
      this.deps.metrics.transfersEnded.inc({ status: 'cancelled' })
    }
  }

  private updateGauges (): void {
    const counts: Record<string, number> = { queued: 0, submitting: 0, active: 0, finishing: 0, closing: 0 }
    for (const t of this.transfers.values()) counts[t.state] = (counts[t.state] ?? 0) + 1
    for (const [state, n] of Object.entries(counts)) this.deps.metrics.transfersTracked.set({ state }, n)
  }
}

/** Runs `fn` over `items` with at most `limit` running at once. */
async function eachLimited<T> (items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!)
  }
  await Promise.all(Array.from({ length: Math.min(items.length, limit) }, worker))
}

function describe (err: unknown): string {
  return err instanceof UpstreamError ? err.describe() : err instanceof Error ? err.message : String(err)
}
