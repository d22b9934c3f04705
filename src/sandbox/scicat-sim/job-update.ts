// PATCH /api/v4/jobs/{id}: SciCat's update authorization and its $set / merge-patch semantics.
import { jobTypeConfig } from './job-create.js'
import { type UpdateJobDto, mergePatch } from './dto.js'
import { clone, type ScicatModel } from './model.js'
import { jobsError, nestError, SimHttpError } from './respond.js'
import type { Caller, Job } from './types.js'

const UPDATE_AUTH_VALUES = ['#all', '#jobOwnerUser', '#jobOwnerGroup', '#jobAdmin']

/** The PoliciesGuard of PATCH /jobs/{id} (jobsEndpointAccess, JobUpdate). */
export function mayCallUpdate (model: ScicatModel, caller: Caller | null): boolean {
  const auths = Object.values(model.jobTypes).map((c) => c.update)
  if (!caller) return auths.includes('#all')
  if (model.isAdmin(caller)) return true
  if (model.isCreateJobPrivileged(caller)) return false
  if (model.isUpdateJobPrivileged(caller)) return true
  const own = [...UPDATE_AUTH_VALUES, ...caller.groups.map((g) => `@${g}`), caller.user.username]
  return auths.some((a) => own.includes(a))
}

function mayUpdate (model: ScicatModel, caller: Caller | null, job: Job, auth: string): boolean {
  if (!caller) return auth === '#all' && (job.ownerGroup === undefined || job.ownerGroup === null)
  if (model.isAdmin(caller)) return true
  if (model.isCreateJobPrivileged(caller)) return false
  if (model.isUpdateJobPrivileged(caller)) return true
  switch (auth) {
    case '#all':
      return true
    case '#jobOwnerUser':
      return job.ownerUser === caller.user.username
    case '#jobOwnerGroup':
      return caller.groups.includes(job.ownerGroup)
    case '#jobAdmin':
      return false
    default:
      return auth === caller.user.username || caller.groups.some((g) => auth === `@${g}`)
  }
}

/**
 * Applies a validated UpdateJobDto. With exactly `application/merge-patch+json` the DTO is
 * merged into the stored job (RFC 7386); otherwise its fields are `$set`, so a sent
 * jobResultObject replaces the stored one whole.
 */
export function updateJob (
  model: ScicatModel,
  caller: Caller | null,
  id: string,
  dto: UpdateJobDto,
  contentType: string
): Job {
  const current = model.jobs.get(id)
  if (!current) throw new SimHttpError(jobsError(400, 'Invalid job id.'))
  const config = jobTypeConfig(model, current.type)
  if (!mayUpdate(model, caller, current, config.update)) {
    throw new SimHttpError(nestError(403, 'Unauthorized to update this job.'))
  }
  // the jobs code compares the raw header: a charset parameter turns merge-patch into $set
  const changes: Record<string, unknown> =
    contentType === 'application/merge-patch+json'
      ? (mergePatch(clone(current), dto) as Record<string, unknown>)
      : clone(dto as unknown as Record<string, unknown>)
  const next = { ...clone(current), ...changes } as Job
  const result = next.jobResultObject as Record<string, unknown> | null
  if (result && typeof result === 'object' && 'executionTime' in result) {
    const { executionTime, ...rest } = result
    next.jobParams = { ...next.jobParams, executionTime }
    next.jobResultObject = rest
  }
  next._id = current._id
  next.id = current.id
  next.updatedBy = caller?.user.username ?? 'anonymous'
  next.updatedAt = model.nowIso()
  model.jobs.set(id, next)
  return clone(next)
}
