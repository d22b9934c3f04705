// Globus Transfer API v0.10: submission ids, transfers, tasks (batched), cancel, events.
import type { SyncLevel } from '../config/schema.js'
import type { HttpClient, HttpRequest } from '../http/client.js'
import { UpstreamError } from '../http/upstream-error.js'
import type { ScopedToken } from './token.js'
import { isScopeRefusal } from './token.js'
import type { GlobusTokens } from './token-sets.js'

export interface TransferItem {
  sourcePath: string
  destinationPath: string
  recursive?: boolean
  symlink?: boolean
}

export interface TransferSpec {
  submissionId: string
  /** The two facilities' names: the submission's token carries their scopes (DESIGN §7). */
  facilities: string[]
  sourceCollection: string
  destinationCollection: string
  label: string
  items: TransferItem[]
  verifyChecksum: boolean
  syncLevel?: SyncLevel
  /** ISO 8601, computed at submission; none: Globus's own deadline policy applies. */
  deadline?: string
  /** Default true: a full destination fails the task at once (Globus's own default is false). */
  failOnQuotaErrors?: boolean
  /** Default false: paths with a permission or not-found error on the source fail the task. */
  skipSourceErrors?: boolean
}

export interface SubmitResult {
  code: 'Accepted' | 'Duplicate'
  taskId: string
  submissionId: string
}

/** The fields of a Globus task document the service reads. */
export interface GlobusTask {
  task_id: string
  status: 'ACTIVE' | 'INACTIVE' | 'SUCCEEDED' | 'FAILED'
  nice_status?: string | null
  nice_status_short_description?: string | null
  fatal_error?: { code: string; description: string } | null
  files?: number
  files_skipped?: number
  files_transferred?: number
  bytes_transferred?: number
  effective_bytes_per_second?: number
  completion_time?: string | null
}

export interface GlobusEvent {
  code: string
  description: string
  details: string
  is_error: boolean
  time: string
}

/** The task fields the tracker reads (the rest of Globus's task document is not asked for). */
export const taskFieldNames: ReadonlyArray<keyof GlobusTask> = [
  'task_id',
  'status',
  'nice_status',
  'nice_status_short_description',
  'fatal_error',
  'files',
  'files_skipped',
  'files_transferred',
  'bytes_transferred',
  'effective_bytes_per_second',
  'completion_time',
]
export const taskFields = taskFieldNames.join(',')

/** Globus does not document how many ids one task_list filter takes; 50 is its documented limit elsewhere. */
export const taskListChunk = 50

const syncLevels: Record<SyncLevel, number | undefined> = { none: undefined, exists: 0, size: 1, mtime: 2, checksum: 3 }

export class GlobusClient {
  /** Ids per task_list call: 50, or less once Globus refused a chunk (kept for the process's life). */
  chunkSize = taskListChunk

  constructor (
    private readonly http: HttpClient,
    readonly tokens: GlobusTokens
  ) {}

  /** The client id every task of this service runs under: one deployment (§11). */
  get clientId (): string {
    return this.tokens.clientId
  }

  async getSubmissionId (): Promise<string> {
    const res = await this.call<{ value?: unknown }>({
      operation: 'submission_id',
      method: 'GET',
      path: '/v0.10/submission_id',
      retry: true,
    })
    if (typeof res.value !== 'string') throw UpstreamError.malformed('globus', 'submission_id', 'no value')
    return res.value
  }

  /**
   * Submits a transfer. Retried on transient failures: the submission id makes a repeat
   * harmless (Globus answers Duplicate). On ConsentRequired one new token with the scopes
   * Globus asked for is requested and the submission tried once more.
   */
  async submitTransfer (spec: TransferSpec): Promise<SubmitResult> {
    const req: HttpRequest = {
      operation: 'transfer',
      method: 'POST',
      path: '/v0.10/transfer',
      body: transferBody(spec),
      retry: true,
    }
    let res: { code?: unknown; task_id?: unknown; submission_id?: unknown }
    try {
      res = await this.submitWith(req, spec.facilities, this.tokens.forFacilities(spec.facilities))
    } catch (err) {
      const scopes = err instanceof UpstreamError && err.code === 'ConsentRequired' ? err.requiredScopes : undefined
      const consented = scopes?.length ? this.tokens.addConsent(spec.facilities, scopes) : undefined
      if (!scopes || !consented) throw err
      try {
        res = await this.submitWith(req, spec.facilities, consented)
      } catch (retryErr) {
        // a consent scope Globus Auth refuses leaves the facility's scope set as it was
        if (isScopeRefusal(retryErr)) this.tokens.dropConsent(spec.facilities, scopes)
        throw retryErr
      }
    }
    if ((res.code !== 'Accepted' && res.code !== 'Duplicate') || typeof res.task_id !== 'string') {
      throw UpstreamError.malformed('globus', 'transfer', `unexpected result ${JSON.stringify(res.code)}`)
    }
    return { code: res.code, taskId: res.task_id, submissionId: spec.submissionId }
  }

  /** A refused scope set becomes an error naming the facility at fault. */
  private async submitWith<T> (req: HttpRequest, facilities: string[], set: ScopedToken): Promise<T> {
    try {
      return await this.call<T>(req, set)
    } catch (err) {
      if (isScopeRefusal(err)) throw await this.tokens.refusal(facilities, err as UpstreamError)
      throw err
    }
  }

  async getTask (taskId: string): Promise<GlobusTask> {
    return this.call<GlobusTask>({
      operation: 'task',
      method: 'GET',
      path: `/v0.10/task/${encodeURIComponent(taskId)}`,
      query: { fields: taskFields },
      retry: true,
    })
  }

  /**
   * Reads many tasks with task_list, at most `chunkSize` ids a call (Globus pages 10 items by
   * default, so limit is set too). Ids the list did not return are read one by one; ids Globus
   * does not know are left out of the result. Globus documents no limit on the ids of one
   * filter: a chunk it refuses (4xx) is split in halves down to single GET /task calls, and the
   * smaller size is kept for the life of the process, so no tracked task is left unread.
   */
  async listTasks (taskIds: Iterable<string>): Promise<Map<string, GlobusTask>> {
    const ids = [...new Set(taskIds)]
    const found = new Map<string, GlobusTask>()
    const pending: string[][] = []
    for (let i = 0; i < ids.length; i += this.chunkSize) pending.push(ids.slice(i, i + this.chunkSize))
    while (pending.length) {
      const chunk = pending.shift()!
      if (chunk.length > this.chunkSize) {
        // a smaller size was learnt meanwhile
        for (let i = 0; i < chunk.length; i += this.chunkSize) pending.push(chunk.slice(i, i + this.chunkSize))
        continue
      }
      if (chunk.length === 0) continue
      // Globus refused even two ids a call: single ids are read below with GET /task/{id}
      if (chunk.length === 1 && this.chunkSize === 1) continue
      let res: { DATA?: GlobusTask[] }
      try {
        res = await this.call<{ DATA?: GlobusTask[] }>({
          operation: 'task_list',
          method: 'GET',
          path: '/v0.10/task_list',
          query: { filter: `task_id:${chunk.join(',')}`, limit: taskListChunk, fields: taskFields },
          retry: true,
        })
      } catch (err) {
        if (!isRefusedChunk(err)) throw err
        if (chunk.length === 1) {
          this.chunkSize = 1
          continue
        }
        const half = Math.ceil(chunk.length / 2)
        this.chunkSize = Math.min(this.chunkSize, half)
        pending.unshift(chunk.slice(0, half), chunk.slice(half))
        continue
      }
      const asked = new Set(chunk)
      for (const task of res.DATA ?? []) if (asked.has(task.task_id)) found.set(task.task_id, task)
    }
    for (const id of ids) {
      if (found.has(id)) continue
      try {
        found.set(id, await this.getTask(id))
      } catch (err) {
        if (!(err instanceof UpstreamError && err.status === 404)) throw err
      }
    }
    return found
  }

  /** Cancels a task; `code` is "Canceled", or e.g. "TaskComplete" when it had already ended. */
  async cancelTask (taskId: string): Promise<{ code: string; message: string }> {
    const res = await this.call<{ code?: string; message?: string }>({
      operation: 'cancel',
      method: 'POST',
      path: `/v0.10/task/${encodeURIComponent(taskId)}/cancel`,
      retry: true,
    })
    return { code: res.code ?? '', message: res.message ?? '' }
  }

  /** A task's events, newest first; `errorsOnly` asks for `filter=is_error:1`. */
  async getEvents (
    taskId: string,
    options: { limit?: number; offset?: number; errorsOnly?: boolean } = {}
  ): Promise<GlobusEvent[]> {
    const res = await this.call<{ DATA?: GlobusEvent[] }>({
      operation: 'event_list',
      method: 'GET',
      path: `/v0.10/task/${encodeURIComponent(taskId)}/event_list`,
      query: {
        limit: options.limit ?? 10,
        offset: options.offset ?? 0,
        ...(options.errorsOnly ? { filter: 'is_error:1' } : {}),
      },
      retry: true,
    })
    return res.DATA ?? []
  }

  /** Calls with the current token; on 401 fetches a new token and tries once more. */
  private async call<T>(req: HttpRequest, set: ScopedToken = this.tokens.tasks): Promise<T> {
    const token = await set.token()
    try {
      return (await this.http.send<T>(withToken(req, token))).body
    } catch (err) {
      if (!(err instanceof UpstreamError) || err.status !== 401) throw err
      set.invalidate(token)
      return (await this.http.send<T>(withToken(req, await set.token()))).body
    }
  }
}

/** task_list refusing the request itself (too many ids, too long a URL), not the token or the load. */
function isRefusedChunk (err: unknown): boolean {
  return err instanceof UpstreamError && err.status !== undefined && err.status >= 400 && err.status < 500 && ![401, 403, 408, 429].includes(err.status)
}

function withToken (req: HttpRequest, token: string): HttpRequest {
  return { ...req, headers: { ...req.headers, authorization: `Bearer ${token}` } }
}

function transferBody (spec: TransferSpec): Record<string, unknown> {
  const syncLevel = spec.syncLevel ? syncLevels[spec.syncLevel] : undefined
  return {
    DATA_TYPE: 'transfer',
    submission_id: spec.submissionId,
    source_endpoint: spec.sourceCollection,
    destination_endpoint: spec.destinationCollection,
    label: spec.label,
    verify_checksum: spec.verifyChecksum,
    fail_on_quota_errors: spec.failOnQuotaErrors ?? true,
    skip_source_errors: spec.skipSourceErrors ?? false,
    // the Go service sends it; a field of the task_submit document (@globus/sdk TransferFields)
    store_base_path_info: true,
    ...(syncLevel === undefined ? {} : { sync_level: syncLevel }),
    ...(spec.deadline ? { deadline: spec.deadline } : {}),
    notify_on_succeeded: false,
    notify_on_failed: false,
    notify_on_inactive: false,
    DATA: spec.items.map((item) =>
      item.symlink
        ? { DATA_TYPE: 'transfer_symlink_item', source_path: item.sourcePath, destination_path: item.destinationPath }
        : {
            DATA_TYPE: 'transfer_item',
            source_path: item.sourcePath,
            destination_path: item.destinationPath,
            ...(item.recursive ? { recursive: true } : {}),
          }
    ),
  }
}
