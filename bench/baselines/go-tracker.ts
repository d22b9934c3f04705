// Baseline: what the Go service does for each transfer every pollInterval (go-original.md W1/W2):
// one GET /task/{id}, then one PATCH of the job whether or not anything changed.
import type { Credentials } from '../../src/config/credentials.js'
import { pool, Upstream } from './upstream.js'

interface GoTask {
  status: string
  bytes_transferred?: number
  files_transferred?: number
  files?: number
  files_skipped?: number
  fatal_error?: { code: string; description: string } | null
}

export interface GoTransfer {
  jobId: string
  taskId: string
}

export class GoTracker {
  private readonly upstream: Upstream
  private globusToken = ''
  private scicatToken = ''

  constructor (
    globusUrl: string,
    scicatUrl: string,
    private readonly credentials: Credentials,
    /** Requests in flight at a time (the Go worker pool's maxConcurrency). */
    private readonly concurrency: number
  ) {
    this.upstream = new Upstream(globusUrl, scicatUrl)
  }

  async login (): Promise<void> {
    this.globusToken = await this.upstream.globusToken(this.credentials, 'urn:globus:auth:scope:transfer.api.globus.org:all')
    this.scicatToken = await this.upstream.scicatToken(this.credentials)
  }

  /** The transfer jobs to follow (the Go service holds them in memory; read once, not measured). */
  async transfers (jobType: string): Promise<GoTransfer[]> {
    const filter = JSON.stringify({ where: { type: jobType } })
    const jobs = await this.upstream.json<Array<{ id: string; jobResultObject: { globusTaskId?: string } }>>(
      'GET',
      `${this.upstream.scicatUrl}/api/v4/jobs?filter=${encodeURIComponent(filter)}`,
      { token: this.scicatToken }
    )
    return jobs.map((j) => ({ jobId: j.id, taskId: j.jobResultObject.globusTaskId ?? '' })).filter((t) => t.taskId)
  }

  /** One poll of every transfer. */
  async cycle (transfers: readonly GoTransfer[]): Promise<void> {
    await pool(transfers, this.concurrency, async (t) => {
      const task = await this.upstream.json<GoTask>('GET', `${this.upstream.globusUrl}/v0.10/task/${t.taskId}`, {
        token: this.globusToken,
      })
      const status = task.status === 'SUCCEEDED' ? 'finished' : task.status === 'FAILED' ? 'failed' : 'transferring'
      await this.upstream.json('PATCH', `${this.upstream.scicatUrl}/api/v4/jobs/${t.jobId}`, {
        token: this.scicatToken,
        body: {
          statusCode: status === 'transferring' ? '002' : status === 'finished' ? '003' : '998',
          statusMessage: status,
          jobResultObject: {
            globusTaskId: t.taskId,
            bytesTransferred: task.bytes_transferred ?? 0,
            filesTransferred: task.files_transferred ?? 0,
            filesTotal: (task.files ?? 0) - (task.files_skipped ?? 0),
            status,
            error: task.fatal_error ? `${task.fatal_error.code}: ${task.fatal_error.description}` : '',
          },
        },
      })
    })
  }

  close (): Promise<void> {
    return this.upstream.close()
  }
}
