// ScicatSimulator: a stateful SciCat backend (login, identity, datasets, jobs v4) served on loopback.
import type { RequestHandler } from 'msw'
import { type ServedHandlers, serveHandlers } from '../msw-server.js'
import { SimCore, systemClock } from '../sim-core.js'
import { storeJob } from './job-store.js'
import { buildHandlers, type HandlerOptions } from './handlers.js'
import { clone, ScicatModel } from './model.js'
import { nestDefaultBody } from './respond.js'
import type { Job, OrigDatablock, ScicatSimOptions, SimDataFile, SimDataset, SimUser } from './types.js'

export { DEFAULT_JOB_TYPES } from './model.js'
export type { HandlerOptions, ScicatOperation } from './handlers.js'
export type { Job, JobAuth, JobTypeConfig, OrigDatablock, ScicatSimOptions, SimDataFile, SimDataset, SimUser } from './types.js'

export class ScicatSimulator {
  readonly core: SimCore
  private readonly model: ScicatModel
  private readonly served: RequestHandler[]
  private server: ServedHandlers | undefined

  constructor (options: ScicatSimOptions = {}) {
    const clock = options.clock ?? systemClock
    this.core = new SimCore(clock, nestDefaultBody)
    this.model = new ScicatModel(clock, options)
    this.served = buildHandlers(this.model, this.core)
  }

  /** The msw handlers; by default relative to the served origin, with Express's 404 fallback. */
  handlers (options?: HandlerOptions): RequestHandler[] {
    return options ? buildHandlers(this.model, this.core, options) : this.served
  }

  /** Serves the handlers on a real port (default 127.0.0.1, a free port). */
  async listen (options: { port?: number; host?: string } = {}): Promise<{ url: string; port: number }> {
    if (this.server) throw new Error('scicat-sim: already listening')
    this.server = await serveHandlers(() => this.served, options)
    return { url: this.server.url, port: this.server.port }
  }

  async close (): Promise<void> {
    const server = this.server
    this.server = undefined
    await server?.close()
  }

  /** Adds a user, or replaces the one with that username (its tokens stay valid). */
  addUser (user: SimUser): void {
    this.model.addUser(user)
  }

  addDataset (dataset: SimDataset): void {
    this.model.addDataset(dataset)
  }

  /** Registers an original datablock of a dataset, as the Ingestor (scicat-cli) does after creating it. */
  addOrigDatablock (block: { datasetId: string; size?: number; dataFileList: SimDataFile[] }): OrigDatablock {
    return this.model.addOrigDatablock(block)
  }

  /** A token for the user as if they had logged in; throws for an unknown user. */
  issueToken (username: string, options: { expiresInSeconds?: number } = {}): string {
    return this.model.issueToken(username, options.expiresInSeconds)
  }

  dataset (pid: string): (SimDataset & { datasetlifecycle: Record<string, unknown> }) | undefined {
    const dataset = this.model.datasets.get(pid)
    return dataset && clone(dataset)
  }

  /** The stored jobs in creation order (copies). */
  jobs (): Job[] {
    return [...this.model.jobs.values()].map(clone)
  }

  /** The parsed `filter` of the latest job list requests, oldest first (at most 1,000). */
  jobListFilters (): unknown[] {
    return this.model.jobListFilters.map((raw) => (raw ? JSON.parse(raw) : {}))
  }

  job (id: string): Job | undefined {
    const job = this.model.jobs.get(id)
    return job && clone(job)
  }

  /** Stores a job directly, as if an earlier run had created (and maybe updated) it. */
  insertJob (partial: Partial<Job> & { type: string; ownerGroup: string }): Job {
    const base = storeJob(this.model, null, {
      type: partial.type,
      ownerGroup: partial.ownerGroup,
      ownerUser: partial.ownerUser,
      contactEmail: partial.contactEmail ?? '',
      jobParams: partial.jobParams ?? {},
    })
    const id = partial.id ?? partial._id ?? base.id
    const job: Job = { ...base, ...clone(partial), _id: id, id }
    this.model.jobs.delete(base.id)
    this.model.jobs.set(id, job)
    return clone(job)
  }
}
