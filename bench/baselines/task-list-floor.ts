// Floor of the tracker's idle cycle: the task_list calls DESIGN §6 makes (50 ids a call, the
// service's fields), with plain undici, each answer parsed and nothing done with it.
import type { Credentials } from '../../src/config/credentials.js'
import { taskFields, taskListChunk } from '../../src/globus/client.js'
import { pool, Upstream } from './upstream.js'

export class TaskListFloor {
  private readonly upstream: Upstream
  private token = ''

  constructor (globusUrl: string, scicatUrl: string, private readonly credentials: Credentials, private readonly concurrency: number) {
    this.upstream = new Upstream(globusUrl, scicatUrl)
  }

  async login (): Promise<void> {
    this.token = await this.upstream.globusToken(this.credentials, 'urn:globus:auth:scope:transfer.api.globus.org:all')
  }

  /** Reads every task once; returns how many Globus answered. */
  async cycle (taskIds: readonly string[]): Promise<number> {
    const chunks: string[][] = []
    for (let i = 0; i < taskIds.length; i += taskListChunk) chunks.push(taskIds.slice(i, i + taskListChunk))
    let read = 0
    await pool(chunks, this.concurrency, async (ids) => {
      const query = new URLSearchParams({ filter: `task_id:${ids.join(',')}`, limit: String(taskListChunk), fields: taskFields })
      const answer = await this.upstream.json<{ DATA: unknown[] }>('GET', `${this.upstream.globusUrl}/v0.10/task_list?${query}`, { token: this.token })
      read += answer.DATA.length
    })
    return read
  }

  close (): Promise<void> {
    return this.upstream.close()
  }
}
