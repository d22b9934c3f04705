// The simulator's msw request handlers, each counted and fault-injectable under its operation name.
import { http, type RequestHandler } from 'msw'
import type { SimCore } from '../sim-core.js'
import { identity, login, type Route } from './account-handlers.js'
import { getDataset, patchLifecycle } from './dataset-handlers.js'
import { fullFacetJobs } from './job-fullfacet.js'
import { deleteJob, getJob, listJobs, patchJob, postJob } from './job-handlers.js'
import type { ScicatModel } from './model.js'
import { listOrigDatablocks } from './origdatablock-handlers.js'
import { nestError } from './respond.js'

export type ScicatOperation =
  | 'login'
  | 'identity'
  | 'getDataset'
  | 'patchLifecycle'
  | 'createJob'
  | 'updateJob'
  | 'getJob'
  | 'findJobs'
  | 'facetJobs'
  | 'deleteJob'
  | 'findOrigDatablocks'

export interface HandlerOptions {
  /** Absolute origin to match (for msw's setupServer); default: paths relative to the served origin. */
  baseUrl?: string
  /** Answer unmatched requests with Express's 404 "Cannot METHOD /path" (default true). */
  notFound?: boolean
}

/** Express's answer to a route nobody serves (e.g. a PID with an unencoded slash). */
function cannot ({ request }: { request: Request }): Response {
  const url = new URL(request.url)
  return nestError(404, `Cannot ${request.method} ${url.pathname}${url.search}`)
}

export function buildHandlers (
  model: ScicatModel,
  core: SimCore,
  options: HandlerOptions = {}
): RequestHandler[] {
  const base = (options.baseUrl ?? '').replace(/\/+$/, '')
  const at = (path: string): string => `${base}${path}`
  const op = (name: ScicatOperation, route: Route) => core.op(name, route)
  // msw matches string paths case-insensitively, as SciCat's Express routing does
  const handlers: RequestHandler[] = [
    http.post(at('/api/v3/auth/login'), op('login', login(model))),
    http.get(at('/api/v3/users/my/identity'), op('identity', identity(model))),
    http.get(at('/api/v3/datasets/:pid'), op('getDataset', getDataset(model, 3))),
    http.get(at('/api/v4/datasets/:pid'), op('getDataset', getDataset(model, 4))),
    http.patch(
      at('/api/v3/datasets/:pid/datasetlifecycle'),
      op('patchLifecycle', patchLifecycle(model, 3))
    ),
    http.patch(
      at('/api/v4/datasets/:pid/datasetlifecycle'),
      op('patchLifecycle', patchLifecycle(model, 4))
    ),
    http.post(at('/api/v4/jobs'), op('createJob', postJob(model))),
    http.get(at('/api/v4/jobs'), op('findJobs', listJobs(model))),
    // before /jobs/:id, as the backend's controller declares it (src/jobs/jobs.v4.controller.ts)
    http.get(at('/api/v4/jobs/fullfacet'), op('facetJobs', fullFacetJobs(model))),
    http.get(at('/api/v4/jobs/:id'), op('getJob', getJob(model))),
    http.patch(at('/api/v4/jobs/:id'), op('updateJob', patchJob(model))),
    http.delete(at('/api/v4/jobs/:id'), op('deleteJob', deleteJob(model))),
    http.get(at('/api/v4/origdatablocks'), op('findOrigDatablocks', listOrigDatablocks(model))),
  ]
  if (options.notFound ?? true) handlers.push(http.all(at('/*'), cannot))
  return handlers
}
