// The `filter` query parameter of the job list: parsing, key validation, paging and projection.
import { resolvePath } from './filter.js'
import { isPlainObject, nestError, SimHttpError } from './respond.js'

/** src/jobs/types/job-lookup.ts: fields a job `where` may name. */
const ALLOWED_FIELDS = new Set([
  'type',
  'jobParams',
  'ownerUser',
  'ownerGroup',
  'contactEmail',
  'id',
  'statusCode',
  'statusMessage',
  'configVersion',
  'jobResultObject',
  'createdBy',
  'updatedBy',
  'createdAt',
  'updatedAt',
])

/** src/common/pipes/filter-validation.pipe.ts: operators a `where` may use. */
const ALLOWED_OPERATORS = new Set([
  '$in',
  '$or',
  '$and',
  '$nor',
  '$match',
  '$eq',
  '$gt',
  '$gte',
  '$lt',
  '$lte',
  '$ne',
  '$nin',
  '$not',
  '$exists',
  '$regex',
  '$options',
])

export interface JobFilter {
  where: Record<string, unknown>
  fields?: string[]
  limit?: number
  skip?: number
  sort?: unknown
}

function badFilter (message: string): SimHttpError {
  return new SimHttpError(nestError(400, message))
}

function isFreeSubPath (key: string): boolean {
  return (
    key === 'jobParams' ||
    key === 'jobResultObject' ||
    key.startsWith('jobParams.') ||
    key.startsWith('jobResultObject.')
  )
}

function validateKeys (obj: Record<string, unknown>, path: string): void {
  for (const [key, value] of Object.entries(obj)) {
    const here = `${path}.${key}`
    if (isFreeSubPath(key)) continue
    if (ALLOWED_FIELDS.has(key)) {
      if (isPlainObject(value)) validateKeys(value, here)
      continue
    }
    if (!ALLOWED_OPERATORS.has(key)) {
      throw badFilter(`Property ${here} should not exist in the filter object`)
    }
    if (key === '$and' || key === '$or' || key === '$nor') {
      if (Array.isArray(value)) {
        value.forEach((item, i) => {
          if (isPlainObject(item)) validateKeys(item, `${here}.${i}`)
        })
      }
    } else if (key === '$not' && isPlainObject(value)) {
      validateKeys(value, here)
    }
  }
}

function toCount (value: unknown): number | undefined {
  const n = typeof value === 'string' ? Number(value) : value
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? Math.floor(n) : undefined
}

/** Parses `?filter=`; errors come out as the 400s SciCat sends. */
export function parseJobFilter (raw: string | null): JobFilter {
  if (raw === null || raw === '') return { where: {} }
  let parsed: unknown
  try {
    parsed = JSON.parse(raw)
  } catch (err) {
    throw badFilter(`Invalid JSON in filter: ${(err as Error).message}`)
  }
  if (!isPlainObject(parsed)) return { where: {} }
  const where = parsed.where ?? {}
  if (isPlainObject(where)) validateKeys(where, 'where')
  const limits = isPlainObject(parsed.limits) ? parsed.limits : {}
  const fields = Array.isArray(parsed.fields)
    ? parsed.fields.filter((f): f is string => typeof f === 'string')
    : undefined
  return {
    where: where as Record<string, unknown>,
    fields: fields && fields.length > 0 ? fields : undefined,
    limit: toCount(limits.limit),
    skip: toCount(limits.skip),
    sort: parsed.sort,
  }
}

/** SciCat's pipeline runs `$limit` before `$skip`: {limit: 10, skip: 10} is always empty. */
export function applyLimits<T> (docs: T[], filter: JobFilter): T[] {
  const limited = filter.limit === undefined ? docs : docs.slice(0, filter.limit)
  return filter.skip === undefined ? limited : limited.slice(filter.skip)
}

/** `$project` of the requested fields; `_id` always stays. */
export function project (doc: Record<string, unknown>, fields: string[] | undefined): Record<string, unknown> {
  if (!fields) return doc
  const out: Record<string, unknown> = { _id: doc._id }
  for (const field of fields) {
    const parts = field.split('.')
    const [value] = resolvePath(doc, parts)
    if (value === undefined) continue
    let target = out
    for (const part of parts.slice(0, -1)) {
      const next = isPlainObject(target[part]) ? (target[part] as Record<string, unknown>) : {}
      target[part] = next
      target = next
    }
    target[parts[parts.length - 1] as string] = value
  }
  return out
}
