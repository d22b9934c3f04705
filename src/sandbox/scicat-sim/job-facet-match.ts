// The `fields` of GET /api/v4/jobs/fullfacet turned into the MongoDB `$match` stages the backend builds.
// Source: SciCatProject/scicat-backend-next @4055c96 src/common/utils.ts (createFullfacetPipeline,
// pipelineHandler, searchExpression, schemaTypeOf) with the job document of src/jobs/schemas/job.schema.ts.
// The port keeps the backend's JavaScript: where its code throws a TypeError on a value (`'begin' in
// "text"`), this code throws the same one, and the route answers it with the same 400.

/** Mongoose's `schema.path(key).instance` for the job schema (JobClass, OwnableClass, QueryableClass, timestamps). */
const JOB_SCHEMA_TYPES: Record<string, string> = {
  _id: 'String',
  id: 'String',
  ownerUser: 'String',
  type: 'String',
  statusCode: 'String',
  statusMessage: 'String',
  jobParams: 'Mixed',
  contactEmail: 'String',
  configVersion: 'Mixed',
  jobResultObject: 'Mixed',
  ownerGroup: 'String',
  accessGroups: 'Array',
  instrumentGroup: 'String',
  isPublished: 'Boolean',
  createdBy: 'String',
  updatedBy: 'String',
  createdAt: 'Date',
  updatedAt: 'Date',
  __v: 'Number',
}

/** `facet in model.schema.paths`. */
export const isJobSchemaPath = (name: string): boolean => Object.hasOwn(JOB_SCHEMA_TYPES, name)

/** A path Mongoose does not know (e.g. `jobResultObject.status`, under a Mixed) is a Date when the value has `begin`. */
export function schemaTypeOf (key: string, value: unknown = null): string {
  const known = JOB_SCHEMA_TYPES[key]
  if (known !== undefined) return known
  // the backend's `value && "begin" in value`: a truthy string or number throws its TypeError here too
  if (value && 'begin' in (value as object)) return 'Date'
  return 'String'
}

/** `new Date(x)` as BSON stores it: js-bson writes an invalid date's NaN as 0, the epoch. */
function bsonDate (value: unknown): string {
  const date = new Date(value as string)
  return Number.isNaN(date.getTime()) ? new Date(0).toISOString() : date.toISOString()
}

/** searchExpression: the condition a field's value becomes. Dates compare as the ISO strings the simulator stores. */
export function searchExpression (key: string, value: unknown): unknown {
  if (key === 'text') return { $search: value }
  const type = schemaTypeOf(key, value)
  if (type === 'String') {
    if (!Array.isArray(value)) return value
    return value.length === 1 ? value[0] : { $in: value }
  }
  if (type === 'Date') {
    const range = value as { begin: unknown; end: unknown }
    return { $gte: bsonDate(range.begin), $lte: bsonDate(range.end) }
  }
  if (type === 'Boolean') return { $eq: value }
  if (Array.isArray(value)) return { $in: value }
  if (type === 'Number' && value && typeof value === 'object' && 'min' in value && 'max' in value) {
    return { $gte: value.min, $lte: value.max }
  }
  return value
}

/** A simulator limit, not a backend answer. */
export class NotSimulatedError extends Error {}

export interface FieldPipeline {
  /** The `$match` stages before `$facet`, in order (the service puts the access match first). */
  stages: Record<string, unknown>[]
  /** The conditions of the fields that are also facets: the `all` count and each facet apply them again. */
  facetMatch: Record<string, unknown>
  /** `fields.text` was a string: handleTextSearch put a `$text` stage into the pipeline. */
  text: boolean
}

/** createFullfacetPipeline's loop over `fields`; `facets` is whatever the caller's JSON parsed to (a string has `includes` too). */
export function fieldPipeline (fields: Record<string, unknown>, facets: { includes: (key: string) => boolean }): FieldPipeline {
  const out: FieldPipeline = { stages: [], facetMatch: {}, text: false }
  for (const key of Object.keys(fields)) {
    const value = fields[key]
    if (facets.includes(key)) out.facetMatch[key] = searchExpression(key, value)
    switch (key) {
      case 'text':
        if (typeof value === 'string') out.text = true
        break
      case 'id':
        out.stages.push({ id: searchExpression(key, value) })
        break
      case 'mode': {
        // handleModeSearch: a raw MongoDB expression, `id` renamed to `_id`
        const expression = JSON.parse(JSON.stringify(value)) as Record<string, unknown>
        if ('id' in expression) {
          expression._id = expression.id
          delete expression.id
        }
        out.stages.push(expression)
        break
      }
      case 'userGroups':
        // handleUserGroupSearch: nothing for a missing value or one naming "globalaccess"
        if (fields[key] && (fields[key] as string[]).indexOf('globalaccess') < 0) {
          out.stages.push({
            $or: [
              { ownerGroup: searchExpression('ownerGroup', value) },
              { accessGroups: searchExpression('accessGroups', value) },
            ],
          })
        }
        break
      case 'scientific':
      case 'sampleCharacteristics':
        throw new NotSimulatedError(`scicat-sim: fields.${key} (mapScientificQuery) is not simulated`)
      default:
        out.stages.push({ [key]: searchExpression(key, value) })
    }
  }
  return out
}
