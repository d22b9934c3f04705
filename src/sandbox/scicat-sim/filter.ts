// A MongoDB `$match` evaluator for the `where` of SciCat's job list.
import { isPlainObject } from './respond.js'

/** A query MongoDB itself would reject; the jobs code answers it with 400. */
export class QueryError extends Error {}

type Query = Record<string, unknown>

// every clause is evaluated (no short-circuit), so a malformed query fails even on no documents
const all = (results: boolean[]): boolean => results.every(Boolean)
const any = (results: boolean[]): boolean => results.some(Boolean)

/** True when `doc` satisfies the MongoDB query `query`. */
export function matches (doc: unknown, query: unknown): boolean {
  if (!isPlainObject(query)) throw new QueryError('the match filter must be an expression in an object')
  return all(Object.entries(query).map(([key, condition]) => matchEntry(doc, key, condition)))
}

/** Throws the QueryError MongoDB would raise for the query, whatever the documents. */
export function checkQuery (query: unknown): void {
  matches({}, query)
}

function matchEntry (doc: unknown, key: string, condition: unknown): boolean {
  if (key === '$and' || key === '$or' || key === '$nor') {
    if (!Array.isArray(condition) || condition.length === 0) {
      throw new QueryError(`${key} argument must be a non-empty array`)
    }
    for (const sub of condition) {
      if (!isPlainObject(sub)) throw new QueryError(`${key} argument's entries must be objects`)
    }
    const results = condition.map((sub) => matches(doc, sub))
    if (key === '$and') return all(results)
    return key === '$or' ? any(results) : !any(results)
  }
  if (key.startsWith('$')) throw new QueryError(`unknown top level operator: ${key}`)
  const values = resolvePath(doc, key.split('.'))
  if (isOperatorObject(condition)) return matchOperators(values, condition)
  return equals(values, condition)
}

function isOperatorObject (value: unknown): value is Query {
  if (!isPlainObject(value)) return false
  const first = Object.keys(value)[0]
  return first?.startsWith('$') ?? false
}

/** The values a dotted path reaches, descending through arrays as MongoDB does; missing → []. */
export function resolvePath (value: unknown, parts: string[]): unknown[] {
  if (parts.length === 0) return [value]
  const [head, ...rest] = parts as [string, ...string[]]
  if (Array.isArray(value)) {
    if (/^\d+$/.test(head)) {
      const index = Number(head)
      return index < value.length ? resolvePath(value[index], rest) : []
    }
    return value.flatMap((item) => (isPlainObject(item) ? resolvePath(item, parts) : []))
  }
  if (!isPlainObject(value) || !Object.hasOwn(value, head)) return []
  return resolvePath(value[head], rest)
}

/** Each reached value, and the elements of reached arrays. */
function candidates (values: unknown[]): unknown[] {
  return values.flatMap((v) => (Array.isArray(v) ? [v, ...v] : [v]))
}

function equals (values: unknown[], target: unknown): boolean {
  if (target === null && values.length === 0) return true
  return candidates(values).some((v) => sameValue(v, target))
}

/** BSON equality: documents compare field by field in order. */
export function sameValue (a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, i) => sameValue(item, b[i]))
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a)
    const kb = Object.keys(b)
    return ka.length === kb.length && ka.every((k, i) => k === kb[i] && sameValue(a[k], b[k]))
  }
  return false
}

function matchOperators (values: unknown[], ops: Query): boolean {
  for (const key of Object.keys(ops)) {
    if (!key.startsWith('$')) throw new QueryError(`unknown operator: ${key}`)
  }
  if ('$options' in ops && !('$regex' in ops)) throw new QueryError('$options needs a $regex')
  return all(Object.entries(ops).map(([op, arg]) => {
    switch (op) {
      case '$eq':
        return equals(values, arg)
      case '$ne':
        return !equals(values, arg)
      case '$in':
        return inList(values, op, arg)
      case '$nin':
        return !inList(values, op, arg)
      case '$gt':
      case '$gte':
      case '$lt':
      case '$lte':
        return compare(values, op, arg)
      case '$exists':
        return (values.length > 0) === Boolean(arg)
      case '$regex':
        return regexMatch(values, arg, ops.$options)
      case '$options':
        return true
      case '$not':
        if (!isPlainObject(arg)) throw new QueryError('$not needs a regex or a document')
        return !matchOperators(values, arg)
      default:
        throw new QueryError(`unknown operator: ${op}`)
    }
  }))
}

function inList (values: unknown[], op: string, arg: unknown): boolean {
  if (!Array.isArray(arg)) throw new QueryError(`${op} needs an array`)
  return any(arg.map((item) => equals(values, item)))
}

type Ordered = number | string | boolean

function typeClass (v: unknown): string {
  return v === null ? 'null' : typeof v
}

function compare (values: unknown[], op: string, arg: unknown): boolean {
  if (arg === null) {
    // null sorts equal to a missing field; only the inclusive operators can match it
    if (op !== '$gte' && op !== '$lte') return false
    return values.length === 0 || candidates(values).some((v) => v === null)
  }
  if (typeof arg !== 'number' && typeof arg !== 'string' && typeof arg !== 'boolean') return false
  const target: Ordered = arg
  return candidates(values).some((v) => {
    if (typeClass(v) !== typeClass(target)) return false
    const value = v as Ordered
    switch (op) {
      case '$gt':
        return value > target
      case '$gte':
        return value >= target
      case '$lt':
        return value < target
      default:
        return value <= target
    }
  })
}

function regexMatch (values: unknown[], pattern: unknown, options: unknown): boolean {
  if (typeof pattern !== 'string') throw new QueryError('$regex has to be a string')
  if (options !== undefined && typeof options !== 'string') {
    throw new QueryError('$options has to be a string')
  }
  const flags = (options ?? '').replace(/[^ims]/g, '')
  let regex: RegExp
  try {
    regex = new RegExp(pattern, flags)
  } catch (err) {
    throw new QueryError(`Regular expression is invalid: ${(err as Error).message}`)
  }
  return candidates(values).some((v) => typeof v === 'string' && regex.test(v))
}

/** Sorts stably by a MongoDB sort document ({field: 1 | -1 | 'asc' | 'desc'}). */
export function sortDocuments<T> (docs: T[], sort: unknown): T[] {
  if (!isPlainObject(sort)) return docs
  const keys = Object.entries(sort).map(([field, dir]) => ({
    parts: field.split('.'),
    dir: dir === -1 || dir === 'desc' || dir === 'descending' ? -1 : 1,
  }))
  return [...docs].sort((a, b) => {
    for (const { parts, dir } of keys) {
      const va = resolvePath(a, parts)[0]
      const vb = resolvePath(b, parts)[0]
      const c = orderOf(va, vb)
      if (c !== 0) return c * dir
    }
    return 0
  })
}

const TYPE_ORDER = ['undefined', 'null', 'number', 'string', 'object', 'boolean']

function orderOf (a: unknown, b: unknown): number {
  const ta = TYPE_ORDER.indexOf(a === null ? 'null' : typeof a)
  const tb = TYPE_ORDER.indexOf(b === null ? 'null' : typeof b)
  if (ta !== tb) return ta - tb
  if (typeof a === 'number' || typeof a === 'string' || typeof a === 'boolean') {
    const bb = b as typeof a
    return a < bb ? -1 : a > bb ? 1 : 0
  }
  return 0
}
