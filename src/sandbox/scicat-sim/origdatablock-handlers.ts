// GET /api/v4/origdatablocks?filter=: the dataset's original datablocks, as the real backend lists them.
// Source: SciCatProject/scicat-backend-next src/origdatablocks/origdatablocks.v4.controller.ts (findAll,
// addAccessBasedFilters) and origdatablocks.service.ts (findAllComplete: $match, $sort, $skip, then
// $limit, 10 when none is given); the document is src/origdatablocks/schemas/origdatablock.schema.ts.
import type { Route } from './account-handlers.js'
import { matches, QueryError, sortDocuments } from './filter.js'
import { clone, type ScicatModel } from './model.js'
import { forbiddenResource, isPlainObject, json, nestError } from './respond.js'
import type { OrigDatablock } from './types.js'

/** What the caller may read: admins everything, others by ownerGroup, accessGroups or publication. */
function readable (model: ScicatModel, caller: NonNullable<ReturnType<ScicatModel['caller']>>, block: OrigDatablock): boolean {
  if (model.isAdmin(caller)) return true
  const groups = caller.groups
  return block.isPublished || groups.includes(block.ownerGroup) || block.accessGroups.some((g) => groups.includes(g))
}

const allowedKeys = ['where', 'fields', 'include', 'limits']

export function listOrigDatablocks (model: ScicatModel): Route {
  return async ({ request }) => {
    const caller = model.caller(request)
    if (!caller) return forbiddenResource()
    let filter: Record<string, unknown> = {}
    const raw = new URL(request.url).searchParams.get('filter')
    if (raw) {
      try {
        const parsed: unknown = JSON.parse(raw)
        if (!isPlainObject(parsed)) return nestError(400, 'Invalid filter')
        filter = parsed
      } catch (err) {
        return nestError(400, `Invalid JSON in filter: ${(err as Error).message}`)
      }
    }
    const unknown = Object.keys(filter).find((k) => !allowedKeys.includes(k))
    if (unknown) return nestError(400, `Property ${unknown} should not exist in the filter object`)
    const limits = isPlainObject(filter.limits) ? filter.limits : {}
    const skip = typeof limits.skip === 'number' ? limits.skip : 0
    const limit = typeof limits.limit === 'number' && limits.limit > 0 ? limits.limit : 10
    try {
      const where = filter.where ?? {}
      const found = model.origDatablocks.filter((b) => readable(model, caller, b) && matches(b, where))
      const sorted = isPlainObject(limits.sort) ? sortDocuments(found, limits.sort) : found
      return json(sorted.slice(skip, skip + limit).map(clone))
    } catch (err) {
      if (err instanceof QueryError) return nestError(400, err.message)
      throw err
    }
  }
}
