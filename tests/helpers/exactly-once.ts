// What every multi-process test checks at the end: all transfers finished, each submitted once, archived once.
import { expect } from 'vitest'
import type { Job } from '../../src/sandbox/scicat-sim/index.js'
import type { World } from '../../src/sandbox/world.js'
import { waitUntil } from './service-process.js'

const jobType = 'globus_transfer_job'

export const transferJobs = (w: World): Job[] => w.scicat.jobs().filter((j) => j.type === jobType)
export const statusOf = (j: Job | undefined): unknown => (j?.jobResultObject as { status?: unknown } | undefined)?.status

/** Waits until every job (and those named) is finished; the failure names a few open ones and `log()`. */
export async function allFinished (w: World, jobIds: Iterable<string>, timeoutMs: number, log: () => string): Promise<void> {
  const ids = [...jobIds]
  await waitUntil(
    'every transfer job finished',
    () => ids.every((id) => statusOf(w.scicat.job(id)) === 'finished') && transferJobs(w).every((j) => statusOf(j) === 'finished'),
    { timeoutMs, intervalMs: 100 }
  ).catch((err: unknown) => {
    const open = transferJobs(w).filter((j) => statusOf(j) !== 'finished')
    const sample = open.slice(0, 3).map((j) => ({ id: j.id, statusCode: j.statusCode, statusMessage: j.statusMessage, result: j.jobResultObject }))
    throw new Error(`${(err as Error).message}: ${open.length} unfinished, e.g. ${JSON.stringify(sample)}\n--- service log ---\n${log()}`)
  })
}

/**
 * Exactly once, seen from both sides: one Globus task per transfer job and one job per task
 * (by submission id, by label and by the task id the job shows), one archive job each.
 */
export function expectExactlyOnce (w: World): void {
  const jobs = transferJobs(w)
  const bySubmission = new Map(jobs.map((j) => [j.jobParams.globusSubmissionId as string, j]))
  expect(bySubmission.size).toBe(jobs.length)
  const tasks = w.globus.tasks()
  const taskOfJob = new Map<string, string>()
  for (const task of tasks) {
    const submissionId = w.globus.submission(task.task_id)?.submission_id ?? ''
    const job = bySubmission.get(submissionId)
    expect(job, `Globus task ${task.task_id} (${task.label}) has no job`).toBeDefined()
    expect(task.label).toBe(`SciCat job ${job!.id}`)
    expect(taskOfJob.get(job!.id), `job ${job!.id} has two Globus tasks`).toBeUndefined()
    taskOfJob.set(job!.id, task.task_id)
    expect(task.status).toBe('SUCCEEDED')
  }
  expect(tasks).toHaveLength(jobs.length)
  const archives = w.scicat.jobs().filter((j) => j.type === 'archive')
  for (const job of jobs) {
    expect(job).toMatchObject({ statusCode: 'finished', jobResultObject: { status: 'finished', error: '', globusTaskId: taskOfJob.get(job.id) } })
    const own = archives.filter((a) => a.jobParams.transferJobId === job.id)
    expect(own, `archive jobs of ${job.id}`).toHaveLength(1)
    expect((job.jobResultObject as { archiveJobId?: string }).archiveJobId).toBe(own[0]!.id)
  }
  expect(archives).toHaveLength(jobs.length)
}

/** The most Globus tasks unfinished at one moment, from the tasks' request and completion times. */
export function peakUnfinishedTasks (w: World): number {
  const events = w.globus.tasks().flatMap((t) => [
    { at: Date.parse(t.request_time), d: 1 },
    { at: t.completion_time ? Date.parse(t.completion_time) : Number.POSITIVE_INFINITY, d: -1 },
  ])
  // an end at the same instant as a start is counted first
  events.sort((a, b) => a.at - b.at || a.d - b.d)
  let now = 0
  let peak = 0
  for (const e of events) peak = Math.max(peak, (now += e.d))
  return peak
}
