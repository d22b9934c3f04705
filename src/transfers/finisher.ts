// After Globus SUCCEEDED: mark the dataset archivable, create the archive job once, then `finished`.
import type { Logger } from 'pino'
import type { Config } from '../config/resolve.js'
import { UpstreamError } from '../http/upstream-error.js'
import type { ScicatClient } from '../scicat/client.js'
import { leftOutNote } from './file-plan.js'
import { finishedView, type JobView } from './job-state.js'
import { filePlanOf, type Transfer } from './transfer.js'

/** Cycles in which a failing post-success step is tried before the job ends with the problem in `error`. */
export const maxFinishAttempts = 10

export class Finisher {
  constructor (
    private readonly config: Config,
    private readonly scicat: ScicatClient,
    private readonly log: Logger
  ) {}

  /** The final view, or undefined when a step failed and should be tried again next cycle. */
  async finish (t: Transfer): Promise<JobView | undefined> {
    const result = { ...t.view.jobResultObject }
    const plan = filePlanOf(t.params, this.config)
    const leftOut = plan ? leftOutNote(plan) : ''
    try {
      await this.scicat.markArchivable(t.params.pid)
      if (t.params.autoArchive && !result.archiveJobId) result.archiveJobId = await this.archiveJob(t)
    } catch (err) {
      t.finishAttempts = (t.finishAttempts ?? 0) + 1
      const problem = err instanceof UpstreamError ? err.describe() : String(err)
      if (t.finishAttempts < maxFinishAttempts) {
        this.log.warn({ jobId: t.jobId, attempt: t.finishAttempts, err: problem }, 'post-transfer step failed; will retry')
        if (result.archiveJobId) t.view = { ...t.view, jobResultObject: result }
        return undefined
      }
      return finishedView({ ...t.view, jobResultObject: result }, t.finalTask, { leftOut, problem: `post-transfer step failed: ${problem}` })
    }
    return finishedView({ ...t.view, jobResultObject: result }, t.finalTask, { leftOut })
  }

  /** Exactly once: an archive job made for this transfer before a crash is found and reused. */
  private async archiveJob (t: Transfer): Promise<string> {
    const type = this.config.scicat.archiveJobType
    const [existing] = await this.scicat.findJobs({ type, 'jobParams.transferJobId': t.jobId }, 10)
    if (existing) return existing.id
    const job = await this.scicat.createJob({
      type,
      ownerGroup: t.owner.ownerGroup,
      ...(t.owner.ownerUser ? { ownerUser: t.owner.ownerUser } : {}),
      ...(t.owner.contactEmail ? { contactEmail: t.owner.contactEmail } : {}),
      jobParams: {
        datasetList: [{ pid: t.params.pid, files: [] }],
        tapeCopies: 'one',
        username: t.owner.ownerUser ?? '',
        ownerGroup: t.owner.ownerGroup,
        transferJobId: t.jobId,
      },
    })
    this.log.info({ jobId: t.jobId, archiveJobId: job.id }, 'archive job created')
    return job.id
  }
}
