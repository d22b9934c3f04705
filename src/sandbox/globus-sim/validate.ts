// Validation of `POST /v0.10/transfer` bodies, with Globus's error codes.
import type { CollectionOptions } from './types.js'

export interface Invalid {
  status: number
  code: string
  message: string
}

const bad = (message: string, code = 'ClientError.BadRequest'): Invalid => ({
  status: 400,
  code,
  message,
})

const BOOLEAN_FIELDS = [
  'verify_checksum',
  'preserve_timestamp',
  'encrypt_data',
  'skip_source_errors',
  'fail_on_quota_errors',
  'delete_destination_extra',
  'notify_on_succeeded',
  'notify_on_failed',
  'notify_on_inactive',
  // task_submit's transfer fields (@globus/sdk TransferFields)
  'store_base_path_info',
] as const

const ITEM_TYPES = ['transfer_item', 'transfer_symlink_item']

function isRecord (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** DATA_TYPE and submission_id: what must hold before a duplicate can be recognised. */
export function checkEnvelope (body: unknown): Invalid | undefined {
  if (!isRecord(body)) return bad('The request body must be a JSON object')
  if (body.DATA_TYPE !== 'transfer') {
    return bad(`Invalid DATA_TYPE '${String(body.DATA_TYPE)}': expected 'transfer'`)
  }
  if (typeof body.submission_id !== 'string' || body.submission_id === '') {
    return bad("Missing required field 'submission_id'")
  }
  return undefined
}

function checkLabel (label: unknown): Invalid | undefined {
  if (label === undefined || label === null) return undefined
  if (typeof label !== 'string') {
    return bad("Invalid 'label': must be a string")
  }
  if (label.length > 128) {
    return bad("Invalid 'label': longer than 128 characters")
  }
  if (/[\r\n]/.test(label)) {
    return bad("Invalid 'label': must not contain line breaks")
  }
  if (label.trim() !== label) {
    return bad("Invalid 'label': must not start or end with whitespace")
  }
  return undefined
}

function checkItem (item: unknown, index: number): Invalid | undefined {
  const where = `DATA[${index}]`
  if (!isRecord(item)) return bad(`${where} must be an object`)
  if (!ITEM_TYPES.includes(item.DATA_TYPE as string)) {
    return bad(`${where}: DATA_TYPE must be 'transfer_item' or 'transfer_symlink_item'`)
  }
  for (const key of ['source_path', 'destination_path']) {
    if (typeof item[key] !== 'string' || item[key] === '') {
      return bad(`${where}: missing required field '${key}'`)
    }
  }
  if (item.recursive !== undefined && item.recursive !== null && typeof item.recursive !== 'boolean') {
    return bad(`${where}: 'recursive' must be a boolean`)
  }
  if (item.DATA_TYPE === 'transfer_symlink_item' && item.recursive === true) {
    return bad(`${where}: 'recursive' is not allowed on a transfer_symlink_item`)
  }
  return undefined
}

/** Everything else, in the order Globus reports it. */
export function checkFields (
  body: Record<string, unknown>,
  collections: Record<string, CollectionOptions>,
  now: number
): Invalid | undefined {
  for (const key of ['source_endpoint', 'destination_endpoint']) {
    if (typeof body[key] !== 'string' || body[key] === '') {
      return bad(`Missing required field '${key}'`)
    }
  }
  for (const key of ['source_endpoint', 'destination_endpoint']) {
    const id = body[key] as string
    if (!Object.hasOwn(collections, id)) {
      return {
        status: 404,
        code: 'EndpointNotFound',
        message: `No such endpoint '${id}'`,
      }
    }
  }
  if (!Array.isArray(body.DATA)) return bad("Missing required field 'DATA'")
  if (body.DATA.length === 0) {
    return bad('A transfer requires at least one item', 'ClientError.BadRequest.NoTransferItems')
  }
  for (const [i, item] of body.DATA.entries()) {
    const invalid = checkItem(item, i)
    if (invalid) return invalid
  }
  const label = checkLabel(body.label)
  if (label) return label
  if (body.deadline !== undefined && body.deadline !== null) {
    const ms = typeof body.deadline === 'string' ? Date.parse(body.deadline) : Number.NaN
    if (Number.isNaN(ms)) {
      return bad(`Invalid 'deadline': '${String(body.deadline)}' is not a date`)
    }
    if (ms <= now) return bad("Invalid 'deadline': must be in the future")
  }
  const sync = body.sync_level
  if (
    sync !== undefined &&
    sync !== null &&
    !(Number.isInteger(sync) && [0, 1, 2, 3].includes(sync as number))
  ) {
    return bad("Invalid 'sync_level': must be 0, 1, 2 or 3")
  }
  for (const key of BOOLEAN_FIELDS) {
    if (body[key] !== undefined && typeof body[key] !== 'boolean') {
      return bad(`Invalid '${key}': must be a boolean`)
    }
  }
  const symlinks = body.recursive_symlinks
  if (symlinks !== undefined && !['ignore', 'keep', 'copy'].includes(symlinks as string)) {
    return bad("Invalid 'recursive_symlinks': must be 'ignore', 'keep' or 'copy'")
  }
  return undefined
}
