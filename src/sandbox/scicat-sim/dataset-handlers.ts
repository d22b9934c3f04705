// GET /api/v{3,4}/datasets/{pid} and PATCH /api/v{3,4}/datasets/{pid}/datasetlifecycle.
import type { Route } from './account-handlers.js'
import { mergePatch, validateLifecycle } from './dto.js'
import { clone, type ScicatModel, type StoredDataset } from './model.js'
import {
  answer,
  forbiddenResource,
  isPlainObject,
  json,
  nestError,
  readBody,
  validationError,
} from './respond.js'

/** The dataset as the API returns it (simulator-only keys removed). */
export function datasetView (dataset: StoredDataset, version: 3 | 4): Record<string, unknown> {
  const { origDatablockFiles: _hidden, ...rest } = clone(dataset)
  return version === 3 ? { ...rest, history: [] } : rest
}

function pidOf (params: Record<string, unknown>): string {
  return String(params.pid ?? '')
}

function fieldsOf (request: Request): string[] | undefined {
  const raw = new URL(request.url).searchParams.get('filter')
  if (!raw) return undefined
  try {
    const filter: unknown = JSON.parse(raw)
    const fields = isPlainObject(filter) ? filter.fields : undefined
    return Array.isArray(fields) && fields.length > 0 ? fields.map(String) : undefined
  } catch {
    return undefined
  }
}

export function getDataset (model: ScicatModel, version: 3 | 4): Route {
  return async ({ request, params }) => {
    const caller = model.caller(request)
    // v4's guard refuses anonymous callers; v3 lets them through to the access check
    if (version === 4 && !caller) return forbiddenResource()
    const pid = pidOf(params)
    const dataset = model.datasets.get(pid)
    if (!dataset) {
      return nestError(404, `dataset: ${version === 3 ? pid : 'null'} not found`)
    }
    if (!model.canReadDataset(caller, dataset)) return nestError(403, 'Unauthorized access')
    const view = datasetView(dataset, version)
    const fields = version === 3 ? fieldsOf(request) : undefined
    if (!fields) return json(view)
    return json(Object.fromEntries(fields.filter((f) => f in view).map((f) => [f, view[f]])))
  }
}

/**
 * Merges the body into the stored lifecycle and answers with the whole lifecycle. v3 sets
 * each sent key; a v4 merge-patch body merges nested objects too (RFC 7386).
 */
export function patchLifecycle (model: ScicatModel, version: 3 | 4): Route {
  return ({ request, params }) =>
    answer(async () => {
      const body = await readBody(request)
      const caller = model.caller(request)
      if (!caller) return forbiddenResource()
      const messages = validateLifecycle(body.value)
      if (messages.length > 0) return validationError(messages)
      const changes = body.value as Record<string, unknown>
      if (Object.keys(changes).length === 0) {
        return nestError(400, 'dataset lifecycle DTO must not be empty')
      }
      const pid = pidOf(params)
      const dataset = model.datasets.get(pid)
      if (!dataset) return nestError(404, `dataset with pid ${pid} not found`)
      const allowed =
        model.isAdmin(caller) ||
        model.isLifecycleUpdater(caller) ||
        caller.groups.includes(dataset.ownerGroup)
      if (!allowed) return nestError(403, 'Unauthorized to update this dataset')
      dataset.datasetlifecycle =
        version === 4 && body.kind === 'merge-patch'
          ? (mergePatch(dataset.datasetlifecycle, changes) as Record<string, unknown>)
          : { ...dataset.datasetlifecycle, ...clone(changes) }
      dataset.updatedAt = model.nowIso()
      dataset.updatedBy = caller.user.username
      return json(clone(dataset.datasetlifecycle))
    })
}
