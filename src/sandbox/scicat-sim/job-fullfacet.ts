// GET /api/v4/jobs/fullfacet: how many of the caller's jobs match `fields`, and a count per value of each facet.
// Source: SciCatProject/scicat-backend-next @4055c96 src/jobs/jobs.v4.controller.ts (fullFacet: the JobRead
// guard; only the `fields` and `facets` query parameters are read, so the `filter` the Ingestor sends,
// SwissOpenEM/globus-transfer-service jobs/scicat.go GetJobCount, is ignored), src/jobs/jobs.controller.utils.ts
// (fullFacetJobs: both parameters JSON.parse'd, every error answered 400 {status, message}), src/jobs/jobs.service.ts
// (fullfacet: the caller's access `$match` first) and src/common/utils.ts (createFullfacetPipeline,
// createNewFacetPipelineStage). The answer is the single document `$facet` yields:
// [{ <facet>: [{_id, count}, ...] (by _id descending), ..., all: [{totalSets: N}] }], with `all: []` when N = 0
// (test/JobsAll.js, 1040).
import type { Route } from './account-handlers.js'
import { checkQuery, matches } from './filter.js'
import { fieldPipeline, isJobSchemaPath, NotSimulatedError, schemaTypeOf } from './job-facet-match.js'
import type { ScicatModel } from './model.js'
import { forbiddenResource, isPlainObject, jobsError, json, nestError } from './respond.js'
import type { Caller } from './types.js'

type Doc = Record<string, unknown>

interface FacetStage {
  /** The field grouped on. */
  name: string
  type: string
}

/** createNewFacetPipelineStage: `$unwind` for arrays, the other facets' match, `$group`, `$sort: {_id: -1}`. */
function facetCounts (docs: Doc[], stage: FacetStage, facetMatch: Doc): Doc[] {
  const { name, type } = stage
  let rows = type === 'Array' ? docs.flatMap((doc) => unwind(doc, name)) : docs
  const others = { ...facetMatch }
  delete others[name]
  if (Object.keys(others).length > 0) rows = rows.filter((doc) => matches(doc, others))
  const groups: { _id: unknown; count: number }[] = []
  for (const doc of rows) {
    const raw = Object.hasOwn(doc, name) ? doc[name] : null
    const id = type === 'Date' ? dayOf(raw) : (raw ?? null)
    const group = groups.find((g) => bsonCompare(g._id, id) === 0)
    if (group) group.count++
    else groups.push({ _id: id, count: 1 })
  }
  return groups.sort((a, b) => bsonCompare(b._id, a._id))
}

/** `$unwind`: one document per element; a missing, null or empty array drops the document. */
function unwind (doc: Doc, name: string): Doc[] {
  const value = doc[name]
  if (value === undefined || value === null) return []
  if (!Array.isArray(value)) return [doc]
  return value.map((item) => ({ ...doc, [name]: item }))
}

/** `{year: {$year}, month: {$month}, day: {$dayOfMonth}}` in UTC; null for a missing date. */
function dayOf (value: unknown): Doc {
  const date = typeof value === 'string' ? new Date(value) : null
  if (!date || Number.isNaN(date.getTime())) return { year: null, month: null, day: null }
  return { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate() }
}

/** BSON order: null, numbers, strings, documents, arrays, booleans; documents and arrays member by member. */
function bsonRank (value: unknown): number {
  if (value === null || value === undefined) return 1
  if (typeof value === 'number') return 2
  if (typeof value === 'string') return 3
  if (Array.isArray(value)) return 5
  if (typeof value === 'object') return 4
  return 8
}

function bsonCompare (a: unknown, b: unknown): number {
  const rank = bsonRank(a) - bsonRank(b)
  if (rank !== 0) return rank
  if (Array.isArray(a) && Array.isArray(b)) return compareSequences(a, b)
  if (isPlainObject(a) && isPlainObject(b)) return compareSequences(Object.entries(a).flat(), Object.entries(b).flat())
  if (a === b || a === null || a === undefined) return 0
  return (a as string | number | boolean) < (b as string | number | boolean) ? -1 : 1
}

function compareSequences (a: unknown[], b: unknown[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const c = bsonCompare(a[i], b[i])
    if (c !== 0) return c
  }
  return a.length - b.length
}

/** The pipeline of JobsService.fullfacet over the simulator's jobs; throws what the backend would turn into 400. */
function fullFacet (model: ScicatModel, caller: Caller, fields: Doc, facets: string[]): Doc {
  const { stages, facetMatch, text } = fieldPipeline(fields, facets)
  const facetStages = new Map<string, FacetStage>()
  facets.forEach((facet) => {
    if (isJobSchemaPath(facet)) {
      facetStages.set(facet, { name: facet, type: schemaTypeOf(facet) })
    } else if (facet.startsWith('datasetlifecycle.')) {
      const name = facet.split('.')[1] as string
      facetStages.set(name, { name, type: schemaTypeOf(name) })
    }
    // any other facet: the backend logs "Facet not part of any model" and leaves it out
  })
  // MongoDB (error 17313): the service puts the access $match first, so a $text stage is never the first one
  if (text) throw new Error('$match with $text is only allowed as the first pipeline stage')
  for (const stage of stages) checkQuery(stage)
  checkQuery(facetMatch)
  const docs = [...model.jobs.values()]
    .filter((job) => model.canReadJob(caller, job))
    .map((job) => job as unknown as Doc)
    .filter((job) => stages.every((stage) => matches(job, stage)))
  const answer: Doc = {}
  for (const [key, stage] of facetStages) answer[key] = facetCounts(docs, stage, facetMatch)
  const total = docs.filter((doc) => matches(doc, facetMatch)).length
  answer.all = total > 0 ? [{ totalSets: total }] : []
  return answer
}

export function fullFacetJobs (model: ScicatModel): Route {
  return async ({ request }) => {
    const caller = model.caller(request)
    // casl-ability.factory.ts: anonymous callers `cannot(Action.JobRead)`, so the PoliciesGuard answers 403
    if (!caller) return forbiddenResource()
    const query = new URL(request.url).searchParams
    try {
      const fields: unknown = JSON.parse(query.get('fields') ?? '{}')
      const facets: unknown = JSON.parse(query.get('facets') ?? '[]')
      return json([fullFacet(model, caller, (fields ?? {}) as Doc, (facets ?? []) as string[])])
    } catch (err) {
      if (err instanceof NotSimulatedError) return nestError(501, err.message)
      return jobsError(400, (err as Error).message)
    }
  }
}
