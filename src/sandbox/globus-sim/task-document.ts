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

/** What the fields of one document are worked out from; the grouped ones computed once per document. */
interface Source {
  t: TaskRecord
  collections: Record<string, CollectionOptions>
  now: number
  nice?: ReturnType<typeof niceFields>
  sub?: ReturnType<typeof subtasks>
}

const nice = (c: Source) => (c.nice ??= niceFields(c.t))
const sub = (c: Source) => (c.sub ??= subtasks(c.t))

/** Getters of fields one computation gives together (`nice`, `sub`: worked out once per document). */
function together<G extends object> (group: (c: Source) => G, keys: ReadonlyArray<keyof G>): { [K in keyof G]: (c: Source) => G[K] } {
  return Object.fromEntries(keys.map((key) => [key, (c: Source) => group(c)[key]])) as { [K in keyof G]: (c: Source) => G[K] }
}

function effectiveRate ({ t, now }: Source): number {
  const end = t.completionTime ?? now
  const seconds = t.startedAt === undefined ? 0 : Math.max(1, (end - t.startedAt) / 1000)
  return seconds ? Math.floor(bytesTransferred(t) / seconds) : 0
}

/** Each field of a task document, in the order Globus's documents list them. */
const fieldOf: { [K in keyof TaskDocument]: (c: Source) => TaskDocument[K] } = {
  DATA_TYPE: () => 'task',
  task_id: ({ t }) => t.id,
  type: () => 'TRANSFER',
  status: ({ t }) => t.status,
  ...together(nice, ['nice_status', 'nice_status_short_description', 'nice_status_details', 'nice_status_expires_in', 'is_ok']),
  is_paused: () => false,
  label: ({ t }) => t.submission.label ?? null,
  owner_id: ({ t }) => t.ownerId,
  username: ({ t }) => `${t.ownerId}@clients.auth.globus.org`,
  command: () => 'API 0.10',
  request_time: ({ t }) => isoTime(t.requestTime),
  completion_time: ({ t }) => (t.completionTime === undefined ? null : isoTime(t.completionTime)),
  deadline: ({ t }) => isoTime(t.deadline),
  source_endpoint: ({ t }) => t.submission.source_endpoint,
  source_endpoint_id: ({ t }) => t.submission.source_endpoint,
  source_endpoint_display_name: ({ t, collections }) => displayName(collections, t.submission.source_endpoint),
  destination_endpoint: ({ t }) => t.submission.destination_endpoint,
  destination_endpoint_id: ({ t }) => t.submission.destination_endpoint,
  destination_endpoint_display_name: ({ t, collections }) => displayName(collections, t.submission.destination_endpoint),
  sync_level: ({ t }) => t.syncLevel,
  verify_checksum: ({ t }) => t.submission.verify_checksum ?? true,
  encrypt_data: ({ t }) => t.submission.encrypt_data ?? false,
  preserve_timestamp: ({ t }) => t.submission.preserve_timestamp ?? false,
  delete_destination_extra: ({ t }) => t.submission.delete_destination_extra ?? false,
  skip_source_errors: ({ t }) => t.submission.skip_source_errors ?? false,
  fail_on_quota_errors: ({ t }) => t.submission.fail_on_quota_errors ?? false,
  recursive_symlinks: ({ t }) => t.recursiveSymlinks,
  filter_rules: ({ t }) => t.submission.filter_rules ?? null,
  history_deleted: () => false,
  fatal_error: ({ t }) => (t.fatal ? { ...t.fatal } : null),
  faults: ({ t }) => t.events.filter((e) => e.isError && e.code !== 'CANCELED').length,
  files: ({ t }) => t.plan?.files ?? 0,
  directories: ({ t }) => t.plan?.directories ?? 0,
  symlinks: ({ t }) => t.plan?.symlinks ?? 0,
  files_skipped: ({ t }) => t.plan?.filesSkipped ?? 0,
  files_transferred: ({ t }) => filesTransferred(t),
  bytes_transferred: ({ t }) => bytesTransferred(t),
  bytes_checksummed: ({ t }) => (t.submission.verify_checksum === false ? 0 : bytesTransferred(t)),
  effective_bytes_per_second: effectiveRate,
  ...together(sub, ['subtasks_total', 'subtasks_pending', 'subtasks_retrying', 'subtasks_succeeded', 'subtasks_expired', 'subtasks_canceled', 'subtasks_failed', 'subtasks_skipped_errors']),
  canceled_by_admin: () => null,
  canceled_by_admin_message: () => null,
}

/** Every field of a task document, in order. */
export const taskDocumentFields = Object.keys(fieldOf) as ReadonlyArray<keyof TaskDocument>

/**
 * Only the named fields of the task's document, the others not worked out: a task_list answer
 * asked for a few fields (`fields=`) costs those fields, not the whole document for every task.
 */
export function taskFields (
  t: TaskRecord,
  collections: Record<string, CollectionOptions>,
  now: number,
  fields: ReadonlyArray<keyof TaskDocument>
): Partial<TaskDocument> {
  const source: Source = { t, collections, now }
  const doc: Record<string, unknown> = {}
  for (const field of fields) doc[field] = fieldOf[field](source)
  return doc as Partial<TaskDocument>
}

export function taskDocument (
  t: TaskRecord,
  collections: Record<string, CollectionOptions>,
  now: number
): TaskDocument {
  return taskFields(t, collections, now, taskDocumentFields) as TaskDocument
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
