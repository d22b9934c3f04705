// task_list and event_list query parameters: filters, ordering, paging and field selection.
import { taskDocumentFields } from './task-document.js'
import type { TaskDocument } from './types.js'

export interface Paging {
  limit: number
  offset: number
}

const MAX_WINDOW = 1000

function intParam (url: URL, name: string, fallback: number): number | undefined {
  const raw = url.searchParams.get(name)
  if (raw === null || raw === '') return fallback
  return /^\d+$/.test(raw) ? Number(raw) : undefined
}

/** `limit` (default 10, at most 1000) and `offset`; offset + limit may not exceed 1000. */
export function parsePaging (url: URL): Paging | string {
  const limit = intParam(url, 'limit', 10)
  const offset = intParam(url, 'offset', 0)
  if (limit === undefined || limit < 1 || limit > MAX_WINDOW) {
    return `Invalid 'limit': must be an integer between 1 and ${MAX_WINDOW}`
  }
  if (offset === undefined) {
    return "Invalid 'offset': must be a non-negative integer"
  }
  if (offset + limit > MAX_WINDOW) {
    return `'offset' + 'limit' must not exceed ${MAX_WINDOW}`
  }
  return { limit, offset }
}

type Predicate = (doc: TaskDocument) => boolean

function wildcard (pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')
  return new RegExp(`^${escaped}$`, 'i')
}

/** `label:~pat` (wildcard, case-insensitive), `label:=exact`, and `!` before either negates. */
function labelPredicate (value: string): Predicate {
  const negate = value.startsWith('!')
  const rest = negate ? value.slice(1) : value
  let test: (label: string) => boolean
  if (rest.startsWith('~')) {
    const re = wildcard(rest.slice(1))
    test = (label) => re.test(label)
  } else {
    const exact = rest.startsWith('=') ? rest.slice(1) : rest
    test = (label) => label === exact
  }
  return (doc) => (doc.label === null ? negate : test(doc.label) !== negate)
}

function timeRange (key: 'request_time' | 'completion_time', value: string): Predicate | string {
  const [from = '', to = ''] = value.split(',')
  const start = from ? Date.parse(from) : Number.NEGATIVE_INFINITY
  const end = to ? Date.parse(to) : Number.POSITIVE_INFINITY
  if (Number.isNaN(start) || Number.isNaN(end)) {
    return `Invalid ${key} filter '${value}'`
  }
  return (doc) => {
    const t = doc[key]
    if (t === null) return false
    const ms = Date.parse(t)
    return ms >= start && ms <= end
  }
}

/** Parses `key:values/key:values`; an error message when the filter is not acceptable. */
export function parseTaskFilter (filter: string | null, maxIds: number): Predicate | string {
  const predicates: Predicate[] = []
  for (const clause of (filter ?? '').split('/')) {
    if (clause === '') continue
    const colon = clause.indexOf(':')
    if (colon < 1) return `Invalid filter clause '${clause}'`
    const key = clause.slice(0, colon)
    const value = clause.slice(colon + 1)
    const values = value.split(',').filter((v) => v !== '')
    if (key === 'task_id') {
      // Globus documents no limit on the ids of one task_id filter (docs.globus.org/api/transfer/task
      // §6.1.1; reference/globus-api.md §3): the limit and the 400 answering it are this simulator's.
      if (values.length > maxIds) {
        return `Too many task ids in filter: ${values.length} (at most ${maxIds})`
      }
      const ids = new Set(values)
      predicates.push((doc) => ids.has(doc.task_id))
    } else if (key === 'status' || key === 'type') {
      const wanted = new Set(values.map((v) => v.toUpperCase()))
      predicates.push((doc) => wanted.has(doc[key]))
    } else if (key === 'label') {
      predicates.push(labelPredicate(value))
    } else if (key === 'request_time' || key === 'completion_time') {
      const range = timeRange(key, value)
      if (typeof range === 'string') return range
      predicates.push(range)
    } else return `Invalid filter field '${key}'`
  }
  return (doc) => predicates.every((p) => p(doc))
}

/**
 * The ids a `task_id:` clause of a valid filter allows (undefined without one): a task outside
 * it cannot match, so task_list renders only these instead of every task of the identity.
 */
export function filteredTaskIds (filter: string | null): Set<string> | undefined {
  for (const clause of (filter ?? '').split('/')) {
    if (clause.startsWith('task_id:')) return new Set(clause.slice('task_id:'.length).split(',').filter((v) => v !== ''))
  }
  return undefined
}

/** The words of each `orderby` part (`field [ASC|DESC]`); Globus's default is `request_time DESC`. */
function orderParts (orderby: string | null): string[][] {
  return (orderby || 'request_time DESC').split(',').map((part) => part.trim().split(/\s+/))
}

/** `orderby=field [ASC|DESC],...`. */
export function orderTasks (docs: TaskDocument[], orderby: string | null): TaskDocument[] | string {
  const keys: Array<{ field: keyof TaskDocument; desc: boolean }> = []
  for (const [field = '', dir = 'ASC', ...extra] of orderParts(orderby)) {
    if (extra.length || !/^(ASC|DESC)$/i.test(dir) || !/^[a-z_]+$/.test(field)) {
      return `Invalid orderby '${orderby}'`
    }
    keys.push({
      field: field as keyof TaskDocument,
      desc: dir.toUpperCase() === 'DESC',
    })
  }
  // Later submissions first among equals, like a descending creation order.
  return [...docs].reverse().sort((a, b) => {
    for (const { field, desc } of keys) {
      const x = a[field] ?? ''
      const y = b[field] ?? ''
      if (x < y) return desc ? 1 : -1
      if (x > y) return desc ? -1 : 1
    }
    return 0
  })
}

/** The document fields the filter predicates above read. */
const filterFields = ['task_id', 'status', 'type', 'label', 'request_time', 'completion_time'] as const

/**
 * The fields a task_list answer must work out for each task: the ones asked for with `fields=`,
 * and the ones its filter and order read (dropped again by `projection`); every field when the
 * answer asks for no fields.
 */
export function renderedFields (fields: string | null, orderby: string | null): ReadonlyArray<keyof TaskDocument> {
  if (!fields) return taskDocumentFields
  const ordered = orderParts(orderby).map(([field = '']) => field)
  const wanted = new Set([...fields.split(',').map((f) => f.trim()), ...filterFields, ...ordered])
  return taskDocumentFields.filter((field) => wanted.has(field))
}

/** `fields=a,b,c` keeps only those keys: one parse of the list for every document of an answer. */
export function projection<T extends object> (fields: string | null): (doc: T) => Partial<T> {
  if (!fields) return (doc) => doc
  const wanted = [...new Set(fields.split(',').map((f) => f.trim()))]
  return (doc) => {
    const out: Partial<T> = {}
    for (const key of wanted) if (Object.hasOwn(doc, key)) out[key as keyof T] = doc[key as keyof T]
    return out
  }
}
