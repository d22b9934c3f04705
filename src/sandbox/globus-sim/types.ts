// Shapes of the simulated Globus Transfer documents and of the simulator's options.
import type { Clock } from '../sim-core.js'

export interface CollectionOptions {
  /** Local folder backing the collection: collection path `/a/b` is `<root>/a/b`. */
  root: string
  /** Transfers touching it need `https://auth.globus.org/scopes/<id>/data_access` in the token. */
  requireDataAccessConsent?: boolean
  /**
   * false: the collection has no data_access scope (a guest collection, a high-assurance or
   * GCP collection, a GCSv4 endpoint), and Globus Auth refuses a token request naming it.
   */
  hasDataAccessScope?: boolean
  /** `*_endpoint_display_name` in task documents (default: the root folder's base name). */
  displayName?: string
}

export interface GlobusSimOptions {
  clients?: Record<string, string>
  collections?: Record<string, CollectionOptions>
  clock?: Clock
  tokenLifetimeSeconds?: number
  bytesPerSecond?: number
  minTaskMs?: number
  runningTasksLimit?: number
  maxPendingTasks?: number
  /**
   * Task ids one task_list filter takes (default 50); more are refused with a 400. Globus documents
   * no such limit: tests set a low one to check that refused chunks are still read.
   */
  maxFilterIds?: number
}

export interface TransferItemInput {
  DATA_TYPE: 'transfer_item' | 'transfer_symlink_item'
  source_path: string
  destination_path: string
  recursive?: boolean
  external_checksum?: string
  checksum_algorithm?: string
}

/** The body of `POST /v0.10/transfer`, exactly as the client sent it. */
export interface TransferSubmission {
  DATA_TYPE: 'transfer'
  submission_id: string
  source_endpoint: string
  destination_endpoint: string
  label?: string | null
  deadline?: string
  sync_level?: number | null
  verify_checksum?: boolean
  preserve_timestamp?: boolean
  encrypt_data?: boolean
  skip_source_errors?: boolean
  fail_on_quota_errors?: boolean
  delete_destination_extra?: boolean
  recursive_symlinks?: 'ignore' | 'keep' | 'copy'
  notify_on_succeeded?: boolean
  notify_on_failed?: boolean
  notify_on_inactive?: boolean
  source_local_user?: string
  destination_local_user?: string
  filter_rules?: unknown[] | null
  DATA: TransferItemInput[]
  [key: string]: unknown
}

export type TaskStatus = 'ACTIVE' | 'INACTIVE' | 'SUCCEEDED' | 'FAILED'

export interface FatalError {
  code: string
  description: string
}

/** `GET /v0.10/task/<id>`, field for field as Globus returns it. */
export interface TaskDocument {
  DATA_TYPE: 'task'
  task_id: string
  type: 'TRANSFER'
  status: TaskStatus
  nice_status: string | null
  nice_status_short_description: string | null
  nice_status_details: string | null
  nice_status_expires_in: number | null
  is_ok: boolean | null
  is_paused: boolean
  label: string | null
  owner_id: string
  username: string
  command: string
  request_time: string
  completion_time: string | null
  deadline: string
  source_endpoint: string
  source_endpoint_id: string
  source_endpoint_display_name: string
  destination_endpoint: string
  destination_endpoint_id: string
  destination_endpoint_display_name: string
  sync_level: number | null
  verify_checksum: boolean
  encrypt_data: boolean
  preserve_timestamp: boolean
  delete_destination_extra: boolean
  skip_source_errors: boolean
  fail_on_quota_errors: boolean
  recursive_symlinks: string
  filter_rules: unknown[] | null
  history_deleted: boolean
  fatal_error: FatalError | null
  faults: number
  files: number
  directories: number
  symlinks: number
  files_skipped: number
  files_transferred: number
  bytes_transferred: number
  bytes_checksummed: number
  effective_bytes_per_second: number
  subtasks_total: number
  subtasks_pending: number
  subtasks_retrying: number
  subtasks_succeeded: number
  subtasks_expired: number
  subtasks_canceled: number
  subtasks_failed: number
  subtasks_skipped_errors: number
  canceled_by_admin: string | null
  canceled_by_admin_message: string | null
}

export interface EventDocument {
  DATA_TYPE: 'event'
  code: string
  description: string
  details: string
  is_error: boolean
  time: string
}

export interface IssuedToken {
  token: string
  clientId: string
  scope: string
  expiresAt: number
}
