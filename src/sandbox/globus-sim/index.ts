// GlobusSimulator: a stateful Globus Auth + Transfer model served over real loopback HTTP.
import { randomUUID } from 'node:crypto'
import type { RequestHandler } from 'msw'
import { type ServedHandlers, serveHandlers } from '../msw-server.js'
import { SimCore, systemClock } from '../sim-core.js'
import { TokenStore } from './auth.js'
import { globusHandlers, type SimState } from './handlers.js'
import { TransferModel } from './model.js'
import { defaultFaultBody } from './respond.js'
import { eventDocument, taskDocument } from './task-document.js'
import { isFinished } from './task-record.js'
import type {
  EventDocument,
  FatalError,
  GlobusSimOptions,
  IssuedToken,
  TaskDocument,
  TransferSubmission,
} from './types.js'

export type {
  CollectionOptions,
  EventDocument,
  FatalError,
  GlobusSimOptions,
  IssuedToken,
  TaskDocument,
  TaskStatus,
  TransferItemInput,
  TransferSubmission,
} from './types.js'

export class GlobusSimulator {
  readonly core: SimCore
  private readonly state: SimState
  private served?: ServedHandlers

  constructor (options: GlobusSimOptions = {}) {
    const clock = options.clock ?? systemClock
    this.core = new SimCore(clock, defaultFaultBody)
    const collections = { ...options.collections }
    this.state = {
      core: this.core,
      tokens: new TokenStore(clock, options.tokenLifetimeSeconds ?? 172_800),
      model: new TransferModel({
        clock,
        collections,
        bytesPerSecond: options.bytesPerSecond ?? 100_000_000,
        minTaskMs: options.minTaskMs ?? 1000,
        runningTasksLimit: options.runningTasksLimit ?? Number.POSITIVE_INFINITY,
      }),
      collections,
      clients: {
        ...(options.clients ?? { 'sandbox-client': 'sandbox-secret' }),
      },
      submissionIds: new Map(),
      maxPendingTasks: options.maxPendingTasks ?? Number.POSITIVE_INFINITY,
      maxFilterIds: options.maxFilterIds ?? 50,
    }
  }

  /**
   * Token endpoint and Transfer API. Paths are relative to the origin serving them; pass
   * `origin` (e.g. `https://transfer.api.globus.org`) to use them with msw's setupServer.
   */
  handlers (origin?: string): RequestHandler[] {
    return globusHandlers(this.state, origin)
  }

  /** Serves the handlers on loopback (default 127.0.0.1, a free port). */
  async listen (options: { port?: number; host?: string } = {}): Promise<{ url: string; port: number }> {
    if (this.served) throw new Error('Globus simulator: already listening')
    const handlers = this.handlers()
    this.served = await serveHandlers(() => handlers, options)
    return { url: this.served.url, port: this.served.port }
  }

  async close (): Promise<void> {
    const served = this.served
    this.served = undefined
    await served?.close()
  }

  /** Every task, in submission order, brought up to date. */
  /** What GET /submission_id does, without a request: an id a submission may then use (benchmark seeding). */
  issueSubmissionId (): string {
    const value = randomUUID()
    this.state.submissionIds.set(value, null)
    return value
  }

  tasks (): TaskDocument[] {
    this.state.model.update()
    const now = this.core.clock.now()
    return this.state.model.records.map((t) => taskDocument(t, this.state.collections, now))
  }

  task (taskId: string): TaskDocument | undefined {
    this.state.model.update()
    const record = this.state.model.get(taskId)
    return record && taskDocument(record, this.state.collections, this.core.clock.now())
  }

  /** The task's events, newest first (as event_list pages them). */
  events (taskId: string): EventDocument[] {
    this.state.model.update()
    return [...(this.state.model.get(taskId)?.events ?? [])].reverse().map(eventDocument)
  }

  /** The JSON body that created the task, as posted. */
  submission (taskId: string): TransferSubmission | undefined {
    const record = this.state.model.get(taskId)
    return record && structuredClone(record.submission)
  }

  taskIdForSubmission (submissionId: string): string | undefined {
    return this.state.submissionIds.get(submissionId) ?? undefined
  }

  unfinishedCount (): number {
    return this.state.model.unfinished()
  }

  /** Every token issued so far, expired and revoked ones included. */
  tokens (): IssuedToken[] {
    return this.state.tokens.list()
  }

  async tick (): Promise<void> {
    this.state.model.update()
  }

  /** Ends an unfinished task as FAILED with this fatal_error (throws if it already ended). */
  failTask (taskId: string, fatal: FatalError): void {
    this.state.model.fail(taskId, fatal)
  }

  /** A non-OK nice_status stops progress until it is set back to null. */
  setNiceStatus (taskId: string, niceStatus: string | null): void {
    this.state.model.setNiceStatus(taskId, niceStatus)
  }

  setInactive (taskId: string): void {
    this.state.model.setStatus(taskId, 'INACTIVE')
  }

  /** Back from INACTIVE to ACTIVE (what renewed credentials would do). */
  setActive (taskId: string): void {
    this.state.model.setStatus(taskId, 'ACTIVE')
  }

  revokeTokens (): void {
    this.state.tokens.revokeAll()
  }

  setBytesPerSecond (rate: number): void {
    this.state.model.setRate(rate)
  }

  /** Whether a task has ended (SUCCEEDED or FAILED). */
  isFinished (taskId: string): boolean {
    this.state.model.update()
    const record = this.state.model.get(taskId)
    return record !== undefined && isFinished(record)
  }
}
