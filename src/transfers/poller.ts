// Polling (§6): reads every active task with task_list, 50 ids a call, and shows what changed within the progress budget.
import type { Logger } from 'pino'
import type { Config } from '../config/resolve.js'
import type { GlobusClient, GlobusTask } from '../globus/client.js'
import { taskListChunk } from '../globus/client.js'
import type { CapacityQueue } from './capacity-queue.js'
import { describe, eachLimited } from './cycle-helpers.js'
import type { JobView } from './job-state.js'
import type { JobWriter } from './job-writer.js'
import { readTask } from './task-outcome.js'
import type { TrackedTransfers } from './tracked-transfers.js'
import type { Transfer } from './transfer.js'
import type { WriteGate } from './write-gate.js'

export interface PollerDeps {
  config: Config
  globus: GlobusClient
  log: Logger
  tracked: TrackedTransfers
  capacity: CapacityQueue
  writer: JobWriter
  canWrite: WriteGate
  now: () => number
}

type ProgressUpdate = { t: Transfer; view: JobView }

export class Poller {
  private cycleNumber = 0

  constructor (private readonly deps: PollerDeps) {}

  /** Reads every active task with task_list (50 ids a call) and updates the jobs that changed. */
  async poll (): Promise<void> {
    const { config, globus, log, tracked, capacity, writer } = this.deps
    const polled = capacity
      .activeIds()
      .map((id) => tracked.get(id)!)
      .filter((t) => t.state === 'active' && t.view.jobResultObject.globusTaskId)
    const chunks: Transfer[][] = []
    for (let i = 0; i < polled.length; i += taskListChunk) chunks.push(polled.slice(i, i + taskListChunk))
    const progress: ProgressUpdate[] = []
    // A few chunks at a time rather than all: the upstream calls are bounded by task.maxConcurrency
    // anyway, and 10,000 pending updates held at once cost memory and garbage collection.
    await eachLimited(chunks, this.workers, async (chunk) => {
      let tasks: Map<string, GlobusTask>
      try {
        tasks = await globus.listTasks(chunk.map((t) => t.view.jobResultObject.globusTaskId))
      } catch (err) {
        log.warn({ err: describe(err), transfers: chunk.length }, 'could not read Globus tasks; next cycle')
        return
      }
      await Promise.all(chunk.map((t) => this.observe(t, tasks.get(t.view.jobResultObject.globusTaskId), progress)))
    })
    // Progress alone is shown for the jobs that waited longest, at most progressUpdatesPerCycle:
    // SciCat has no bulk update, and with thousands of transfers one PATCH each per cycle
    // would be the service's main cost and SciCat's main load.
    this.cycleNumber++
    progress.sort((a, b) => (a.t.progressCycle ?? -1) - (b.t.progressCycle ?? -1))
    const chosen = progress.slice(0, config.task.progressUpdatesPerCycle)
    await eachLimited(chosen, this.workers, async ({ t, view }) => {
      if (t.state !== 'active') return
      if (await writer.update(t, view)) t.progressCycle = this.cycleNumber
    })
  }

  /** Parallel workers for batches of upstream calls (which task.maxConcurrency bounds anyway). */
  private get workers (): number {
    return Math.max(2, this.deps.config.task.maxConcurrency)
  }

  private async observe (t: Transfer, task: GlobusTask | undefined, progress: ProgressUpdate[]): Promise<void> {
    const { config, globus, log, tracked, capacity, writer, canWrite, now } = this.deps
    if (t.state !== 'active') return // cancelled meanwhile
    const outcome = readTask(t, task, now(), config.task.failFastAfterSeconds)
    switch (outcome.kind) {
      case 'wait':
        return
      case 'succeeded':
        capacity.release(t.jobId)
        t.state = 'finishing'
        t.finalTask = outcome.task
        return
      case 'ended':
        return tracked.close(t, outcome.view)
      case 'fail-fast':
        if (!canWrite()) return
        try {
          await globus.cancelTask(outcome.taskId)
        } catch (err) {
          log.warn({ jobId: t.jobId, err: describe(err) }, 'fail-fast cancel failed; next cycle')
          return
        }
        return tracked.close(t, outcome.view)
      case 'running':
        if (outcome.progressOnly) progress.push({ t, view: outcome.view })
        else await writer.update(t, outcome.view)
    }
  }
}
