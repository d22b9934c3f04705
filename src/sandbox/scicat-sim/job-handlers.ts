// The v4 job endpoints: create, update, get one, list, delete.
import type { Route } from './account-handlers.js'
import { type CreateJobDto, type UpdateJobDto, validateCreateJob, validateUpdateJob } from './dto.js'
import { checkQuery, matches, QueryError, sortDocuments } from './filter.js'
import { createJob, jobTypeConfig, mayCallCreate } from './job-create.js'
import { applyLimits, parseJobFilter, project } from './job-filter.js'
import { mayCallUpdate, updateJob } from './job-update.js'
import { clone, type ScicatModel } from './model.js'
import type { Job } from './types.js'
import {
  answer,
  forbiddenResource,
  isPlainObject,
  jobsError,
  json,
  nestError,
  readBody,
  validationError,
} from './respond.js'

const idOf = (params: Record<string, unknown>): string => String(params.id ?? '')

export function postJob (model: ScicatModel): Route {
  return ({ request }) =>
    answer(async () => {
      const body = await readBody(request)
      const caller = model.caller(request)
      if (!mayCallCreate(model, caller)) return forbiddenResource()
      const messages = validateCreateJob(body.value)
      if (messages.length > 0) return validationError(messages)
      return json(createJob(model, caller, body.value as CreateJobDto), 201)
    })
}

export function patchJob (model: ScicatModel): Route {
  return ({ request, params }) =>
    answer(async () => {
      const body = await readBody(request)
      const caller = model.caller(request)
      if (!mayCallUpdate(model, caller)) return forbiddenResource()
      const messages = validateUpdateJob(body.value)
      if (messages.length > 0) return validationError(messages)
      const dto = body.value as UpdateJobDto
      return json(updateJob(model, caller, idOf(params), dto, body.contentType))
    })
}

export function getJob (model: ScicatModel): Route {
  return ({ request, params }) =>
    answer(async () => {
      const caller = model.caller(request)
      if (!caller) return forbiddenResource()
      const job = model.jobs.get(idOf(params))
      if (!job) return jobsError(400, 'Invalid job id.')
      jobTypeConfig(model, job.type)
      if (!model.canReadJob(caller, job)) return nestError(403, 'Unauthorized to get this job.')
      const filter = parseJobFilter(new URL(request.url).searchParams.get('filter'))
      return json(project(clone(job) as unknown as Record<string, unknown>, filter.fields))
    })
}

/** `where` ANDed with the caller's access, natural (creation) order, then limit, then skip. */
export function listJobs (model: ScicatModel): Route {
  return ({ request }) =>
    answer(async () => {
      const caller = model.caller(request)
      if (!caller) return forbiddenResource()
      const raw = new URL(request.url).searchParams.get('filter')
      model.jobListFilters.push(raw ?? '')
      if (model.jobListFilters.length > 1000) model.jobListFilters.shift()
      const filter = parseJobFilter(raw)
      let found: Record<string, unknown>[]
      try {
        checkQuery(filter.where)
        found = candidates(model, filter.where)
          .filter((job) => model.canReadJob(caller, job))
          .filter((job) => matches(job, filter.where)) as unknown as Record<string, unknown>[]
      } catch (err) {
        if (err instanceof QueryError) return jobsError(400, err.message)
        throw err
      }
      // only the page is copied: a large job list is read page by page
      const page = applyLimits(sortDocuments(found, filter.sort), filter)
      return json(page.map((doc) => project(clone(doc), filter.fields)))
    })
}

/**
 * The jobs a `where` can match. `id` is a unique index in SciCat's job schema
 * (`src/jobs/schemas/job.schema.ts`: `unique: true`), so MongoDB answers `id` or `id: {$in}`
 * from the index, in index order rather than natural order; the simulator looks those ids up
 * instead of reading every job, in the order the filter names them.
 */
function candidates (model: ScicatModel, where: Record<string, unknown>): Job[] {
  const id = where.id
  const ids = typeof id === 'string' ? [id] : isPlainObject(id) && Array.isArray(id.$in) && Object.keys(id).length === 1 ? id.$in : undefined
  if (!ids) return [...model.jobs.values()]
  return [...new Set(ids)].flatMap((i) => {
    const job = typeof i === 'string' ? model.jobs.get(i) : undefined
    return job ? [job] : []
  })
}

/** Only DELETE_JOB_GROUPS members pass the guard; there is no per-job check. */
export function deleteJob (model: ScicatModel): Route {
  return async ({ request, params }) => {
    const caller = model.caller(request)
    if (!caller || !model.inDeleteJobGroups(caller)) return forbiddenResource()
    const id = idOf(params)
    const job = model.jobs.get(id)
    if (!job) return jobsError(400, `Job id ${id} doesn't exist.`)
    model.jobs.delete(id)
    return json(job)
  }
}
