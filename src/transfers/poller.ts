// Polling (§6): reads every active task with task_list, 50 ids a call, and shows what changed within the progress budget.
import type { GlobusClient, GlobusEvent, GlobusTask } from '../globus/client.js'
import { taskListChunk } from '../globus/client.js'
import { describe, eachLimited } from './cycle-helpers.js'
import type { CycleParts } from './cycle-parts.js'
import { type JobView, sameView, withLastError } from './job-state.js'
import { readTask, unchangedReading } from './task-outcome.js'
import type { Transfer } from './transfer.js'

export interface PollerDeps extends CycleParts {
  globus: GlobusClient
}

type ProgressUpdate = { t: Transfer; view: JobView }
type TroubleRead = { t: Transfer; view: JobView; trouble: string }

/** What a task's trouble is ("INACTIVE/…", or its nice_status); undefined while it is fine. */
function troubleOf (task: GlobusTask): string | undefined {
  const nice = task.nice_status && !['OK', 'Queued'].includes(task.nice_status) ? task.nice_status : ''
  if (task.status === 'INACTIVE') return `INACTIVE/${nice}`
  return nice || undefined
}

/** One line for the job: "CODE: description (time)", with the first line of the details. */
function eventLine (e: GlobusEvent): string {
  const details = (e.details ?? '').split('\n').find((l) => l.trim() !== '')?.trim()
  const line = `${e.code}: ${e.description}${details ? ` — ${details}` : ''} (${e.time})`
  return line.length > 300 ? `${line.slice(0, 297)}...` : line
}

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
    const troubles: TroubleRead[] = []
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
      const observed: Array<Promise<void>> = []
      for (const t of chunk) {
        const task = tasks.get(t.view.jobResultObject.globusTaskId)
        if (unchangedReading(t, task)) continue
        t.idle = undefined // set again below if this reading, too, shows nothing new
        observed.push(this.observe(t, task, progress, troubles))
      }
      await Promise.all(observed)
    })
    await this.readTroubles(troubles)
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

  /**
   * Reads the latest error event of each task whose trouble changed, once per change, at most
   * task.progressUpdatesPerCycle a cycle like progress (the others are read on later cycles),
   * and shows it in statusMessage and jobResultObject.lastError.
   */
  private async readTroubles (troubles: TroubleRead[]): Promise<void> {
    const { config, globus, log, writer } = this.deps
    const budget = config.task.progressUpdatesPerCycle
    // beyond the budget: what the task shows now, its error event on a later cycle
    await eachLimited(troubles.slice(budget), this.workers, async ({ t, view }) => {
      await writer.update(t, view)
    })
    await eachLimited(troubles.slice(0, budget), this.workers, async ({ t, view, trouble }) => {
      let latest: GlobusEvent | undefined
      try {
        latest = (await globus.getEvents(t.view.jobResultObject.globusTaskId, { errorsOnly: true, limit: 1 }))[0]
      } catch (err) {
        log.warn({ jobId: t.jobId, err: describe(err) }, 'could not read the task\'s latest error; next cycle')
        await writer.update(t, view)
        return
      }
      t.troubleSeen = trouble
      t.lastError = latest ? eventLine(latest) : undefined
      if (t.state === 'active') await writer.update(t, withLastError(view, t.lastError))
    })
  }

  private async observe (
    t: Transfer,
    task: GlobusTask | undefined,
    progress: ProgressUpdate[],
    troubles: TroubleRead[]
  ): Promise<void> {
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
      case 'running': {
        const trouble = task && troubleOf(task)
        if (!trouble) {
          t.troubleSeen = undefined
          t.lastError = undefined
        } else if (trouble !== t.troubleSeen) {
          troubles.push({ t, view: outcome.view, trouble })
          return
        }
        const view = withLastError(outcome.view, trouble ? t.lastError : undefined)
        // nothing new to show (an idle transfer): not even a candidate for the progress budget
        if (!t.want && sameView(t.view, view)) {
          if (task) t.idle = { task, view: t.view }
          return
        }
        if (outcome.progressOnly && !trouble) progress.push({ t, view })
        else await writer.update(t, view)
      }
    }
  }
}
