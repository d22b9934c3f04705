// Renders internal task records as Globus task and event documents.
import * as path from 'node:path'
import { isoTime } from './respond.js'
import {
  bytesTransferred,
  describeCode,
  filesTransferred,
  isFinished,
  type TaskRecord,
} from './task-record.js'
import type { CollectionOptions, EventDocument, TaskDocument } from './types.js'

function niceFields (t: TaskRecord) {
  if (isFinished(t)) {
    return {
      nice_status: null,
      nice_status_short_description: null,
      nice_status_details: null,
      nice_status_expires_in: null,
      is_ok: null,
    }
  }
  const trouble = t.forcedNice ?? t.problem?.code
  if (trouble) {
    return {
      nice_status: trouble,
      nice_status_short_description: describeCode(trouble),
      nice_status_details: t.problem && !t.forcedNice ? t.problem.details : null,
      nice_status_expires_in: -1,
      is_ok: trouble === 'Queued',
    }
  }
  const nice = t.startedAt === undefined ? 'Queued' : 'OK'
  return {
    nice_status: nice,
    nice_status_short_description: nice,
    nice_status_details: null,
    nice_status_expires_in: -1,
    is_ok: true,
  }
}

function subtasks (t: TaskRecord) {
  const total = t.plan?.entries.length ?? t.submission.DATA.length
  const rest = t.status === 'SUCCEEDED' ? 0 : total - t.done
  const ended = (kind: TaskRecord['endedAs']) => (isFinished(t) && t.endedAs === kind ? rest : 0)
  return {
    subtasks_total: total,
    subtasks_pending: isFinished(t) ? 0 : rest,
    subtasks_retrying: !isFinished(t) && t.problem ? 1 : 0,
    subtasks_succeeded: t.status === 'SUCCEEDED' ? total : t.done,
    subtasks_expired: ended('expired'),
    subtasks_canceled: ended('canceled'),
    subtasks_failed: ended('failed'),
    subtasks_skipped_errors: 0,
  }
}

/** A collection's name as Globus shows it, worked out once per collection (each task document names two). */
const displayNames = new WeakMap<CollectionOptions, string>()

function displayName (collections: Record<string, CollectionOptions>, id: string): string {
  const c = collections[id]
  if (!c) return id
  let name = displayNames.get(c)
  if (name === undefined) {
    name = c.displayName ?? path.basename(path.resolve(c.root))
    displayNames.set(c, name)
  }
  return name
}

export function taskDocument (
  t: TaskRecord,
  collections: Record<string, CollectionOptions>,
  now: number
): TaskDocument {
  const s = t.submission
  const bytes = bytesTransferred(t)
  const end = t.completionTime ?? now
  const seconds = t.startedAt === undefined ? 0 : Math.max(1, (end - t.startedAt) / 1000)
  return {
    DATA_TYPE: 'task',
    task_id: t.id,
    type: 'TRANSFER',
    status: t.status,
    ...niceFields(t),
    is_paused: false,
    label: s.label ?? null,
    owner_id: t.ownerId,
    username: `${t.ownerId}@clients.auth.globus.org`,
    command: 'API 0.10',
    request_time: isoTime(t.requestTime),
    completion_time: t.completionTime === undefined ? null : isoTime(t.completionTime),
    deadline: isoTime(t.deadline),
    source_endpoint: s.source_endpoint,
    source_endpoint_id: s.source_endpoint,
    source_endpoint_display_name: displayName(collections, s.source_endpoint),
    destination_endpoint: s.destination_endpoint,
    destination_endpoint_id: s.destination_endpoint,
    destination_endpoint_display_name: displayName(collections, s.destination_endpoint),
    sync_level: t.syncLevel,
    verify_checksum: s.verify_checksum ?? true,
    encrypt_data: s.encrypt_data ?? false,
    preserve_timestamp: s.preserve_timestamp ?? false,
    delete_destination_extra: s.delete_destination_extra ?? false,
    skip_source_errors: s.skip_source_errors ?? false,
    fail_on_quota_errors: s.fail_on_quota_errors ?? false,
    recursive_symlinks: t.recursiveSymlinks,
    filter_rules: s.filter_rules ?? null,
    history_deleted: false,
    fatal_error: t.fatal ? { ...t.fatal } : null,
    faults: t.events.filter((e) => e.isError && e.code !== 'CANCELED').length,
    files: t.plan?.files ?? 0,
    directories: t.plan?.directories ?? 0,
    symlinks: t.plan?.symlinks ?? 0,
    files_skipped: t.plan?.filesSkipped ?? 0,
    files_transferred: filesTransferred(t),
    bytes_transferred: bytes,
    bytes_checksummed: s.verify_checksum === false ? 0 : bytes,
    effective_bytes_per_second: seconds ? Math.floor(bytes / seconds) : 0,
    ...subtasks(t),
    canceled_by_admin: null,
    canceled_by_admin_message: null,
  }
}

export function eventDocument (e: TaskRecord['events'][number]): EventDocument {
  return {
    DATA_TYPE: 'event',
    code: e.code,
    description: e.description,
    details: e.details,
    is_error: e.isError,
    time: isoTime(e.time),
  }
}
