// POST /api/v4/jobs after the guard and the DTO: SciCat's instanceAuthorizationJobCreate and validate actions.
import type { CreateJobDto } from './dto.js'
import { clone, type ScicatModel, type StoredDataset, type StoredUser } from './model.js'
import { jobsError, nestError, SimHttpError } from './respond.js'
import { storeJob } from './job-store.js'
import type { Caller, Job, JobTypeConfig } from './types.js'

const CREATE_AUTH_VALUES = [
  '#all',
  '#datasetPublic',
  '#authenticated',
  '#datasetAccess',
  '#datasetOwner',
  '#jobAdmin',
]

const fail = (message: string, extra?: Record<string, unknown>): SimHttpError =>
  new SimHttpError(jobsError(400, message, extra))

export function jobTypeConfig (model: ScicatModel, type: string): JobTypeConfig {
  const config = model.jobTypes[type]
  if (!config || !Object.hasOwn(model.jobTypes, type)) throw fail(`Invalid job type: ${type}`)
  return config
}

/** The PoliciesGuard of POST /jobs (jobsEndpointAccess, JobCreate). */
export function mayCallCreate (model: ScicatModel, caller: Caller | null): boolean {
  const auths = Object.values(model.jobTypes).map((c) => c.create)
  if (!caller) return auths.some((a) => a === '#all' || a === '#datasetPublic')
  if (model.isAdmin(caller) || model.isCreateJobPrivileged(caller)) return true
  if (model.isUpdateJobPrivileged(caller)) return false
  const own = [...CREATE_AUTH_VALUES, ...caller.groups.map((g) => `@${g}`), caller.user.username]
  return auths.some((a) => own.includes(a))
}

interface DatasetRef {
  pid: string
  files: string[]
}

function validateDatasetList (model: ScicatModel, list: unknown): DatasetRef[] {
  if (!Array.isArray(list)) throw fail('Invalid dataset list')
  if (list.length === 0) throw fail('List of passed datasets is empty.')
  for (const item of list) {
    const keys = typeof item === 'object' && item !== null ? Object.keys(item) : []
    if (keys.length !== 2 || !keys.every((k) => k === 'pid' || k === 'files')) {
      throw fail('Dataset list is expected to contain sets of pid and files.')
    }
    if (typeof item.pid !== 'string') throw fail("In datasetList each 'pid' field should be a string.")
    if (!Array.isArray(item.files)) throw fail("In datasetList each 'files' field should be an array.")
  }
  const refs = list as DatasetRef[]
  const missing = refs.map((r) => r.pid).filter((pid) => !model.datasets.has(pid))
  if (missing.length > 0) throw fail(`Datasets with pid ${missing.join(',')} do not exist.`)
  const notFound = refs
    .map(({ pid, files }) => {
      const known = model.datasetFiles(pid)
      return { pid, nonExistFiles: files.filter((f) => !known.has(f)) }
    })
    .filter((r) => r.nonExistFiles.length > 0)
  if (notFound.length > 0) {
    throw fail('At least one requested file could not be found.', { error: JSON.stringify(notFound) })
  }
  return refs
}

/** How many listed datasets the job's owners may not use under a `#dataset*` create.auth. */
function datasetsWithoutAccess (
  auth: string,
  datasets: StoredDataset[],
  ownerGroup: string | undefined,
  jobUser: StoredUser | undefined,
  caller: Caller
): number {
  const userGroups = jobUser?.groups ?? []
  // the job is for the caller's own group (or for a user who is in that group)
  const plain = jobUser
    ? caller.user.username === jobUser.username ||
      (ownerGroup !== undefined && userGroups.includes(ownerGroup))
    : ownerGroup !== undefined
  const ok = (d: StoredDataset): boolean => {
    if (auth === '#datasetPublic') return d.isPublished
    const owns = (g: string | undefined): boolean => g !== undefined && d.ownerGroup === g
    const shares = (g: string | undefined): boolean => g !== undefined && d.accessGroups.includes(g)
    if (auth === '#datasetAccess') {
      if (plain) return owns(ownerGroup) || shares(ownerGroup) || d.isPublished
      if (jobUser && !ownerGroup) {
        return (
          userGroups.includes(d.ownerGroup) ||
          d.accessGroups.some((g) => userGroups.includes(g)) ||
          d.isPublished
        )
      }
      if (jobUser) {
        return (
          (owns(ownerGroup) && userGroups.includes(d.ownerGroup)) ||
          (shares(ownerGroup) && d.accessGroups.some((g) => userGroups.includes(g))) ||
          d.isPublished
        )
      }
      return d.isPublished
    }
    // #datasetOwner
    if (plain) return owns(ownerGroup)
    if (jobUser && !ownerGroup) return userGroups.includes(d.ownerGroup)
    if (jobUser) return owns(ownerGroup) && userGroups.includes(d.ownerGroup)
    return false
  }
  return datasets.filter((d) => !ok(d)).length
}

/** Checks a create request the way SciCat does, then stores and returns the new job. */
export function createJob (model: ScicatModel, caller: Caller | null, dto: CreateJobDto): Job {
  const config = jobTypeConfig(model, dto.type)
  let jobParams: Record<string, unknown> = clone(dto.jobParams)
  let refs: DatasetRef[] = []
  if ('datasetList' in jobParams) {
    refs = validateDatasetList(model, jobParams.datasetList)
    jobParams = { ...jobParams, datasetList: refs.map(({ pid, files }) => ({ pid, files })) }
  }
  let ownerGroup: string | undefined
  let ownerUser: string | undefined
  let contactEmail: string | undefined = dto.contactEmail || undefined
  let jobUser: StoredUser | undefined
  const privileged = model.isAdmin(caller) || model.isCreateJobPrivileged(caller)
  if (caller && privileged) {
    if (dto.ownerUser) {
      jobUser = dto.ownerUser === caller.user.username ? undefined : model.users.get(dto.ownerUser)
      ownerUser = jobUser?.username ?? caller.user.username
    }
    if (dto.ownerGroup) ownerGroup = dto.ownerGroup
    if (!dto.ownerGroup && !dto.ownerUser && !dto.contactEmail) {
      throw fail('Contact email should be specified for an anonymous job.')
    }
    contactEmail = dto.contactEmail ?? jobUser?.email ?? caller.user.email
  } else if (caller) {
    if (!dto.ownerGroup) throw fail('Invalid new job. Owner group should be specified.')
    if (dto.ownerUser && dto.ownerUser !== caller.user.username) {
      throw fail('Invalid new job. User owning the job should match user logged in.')
    }
    ownerUser = caller.user.username
    contactEmail = dto.contactEmail ?? caller.user.email
    if (!caller.groups.includes(dto.ownerGroup)) {
      throw fail('Invalid new job. User needs to belong to job owner group.')
    }
    ownerGroup = dto.ownerGroup
  }

  let noAccess = 0
  if (config.create.startsWith('#dataset')) {
    if (!('datasetList' in dto.jobParams)) throw fail('Dataset ids list was not provided in jobParams')
    if (config.create === '#datasetOwner') {
      const isAdmin = model.isAdmin(caller)
      if (!caller || (!isAdmin && !dto.ownerGroup && !dto.ownerUser)) {
        throw new SimHttpError(jobsError(401, 'User not authenticated'))
      }
    }
    const datasets = refs.map((r) => model.datasets.get(r.pid) as StoredDataset)
    noAccess = caller
      ? datasetsWithoutAccess(config.create, datasets, ownerGroup, jobUser, caller)
      : datasets.filter((d) => !d.isPublished).length
  }
  if (!caller && dto.ownerGroup) {
    throw fail('Invalid new job. Unauthenticated user cannot initiate a job owned by another user.')
  }
  if (!mayCreate(model, caller, config.create, noAccess)) {
    throw new SimHttpError(nestError(403, 'Unauthorized to create this job.'))
  }
  runValidateActions(model, config, dto)
  return storeJob(model, caller, {
    type: dto.type,
    ownerGroup,
    ownerUser,
    contactEmail: contactEmail ?? '',
    jobParams,
  })
}

function mayCreate (model: ScicatModel, caller: Caller | null, auth: string, noAccess: number): boolean {
  if (!caller) return (auth === '#all' || auth === '#datasetPublic') && noAccess === 0
  if (model.isAdmin(caller) || model.isCreateJobPrivileged(caller)) {
    // casl: JobCreateAny passes for members of the literal group "admin", else only with dataset access
    return caller.groups.includes('admin') || noAccess === 0
  }
  const allowed =
    auth.startsWith('#dataset') ||
    ['#all', '#authenticated', '#jobAdmin'].includes(auth) ||
    caller.groups.some((g) => auth === `@${g}`) ||
    auth === caller.user.username
  return allowed && noAccess === 0 && auth !== '#jobAdmin'
}

function runValidateActions (model: ScicatModel, config: JobTypeConfig, dto: CreateJobDto): void {
  const list = dto.jobParams.datasetList
  if (config.requireDatasetList && (!Array.isArray(list) || list.length < 1)) {
    throw fail(
      list === undefined
        ? "Invalid request. Requires 'jobParams.datasetList'"
        : "Invalid request. Invalid value for 'jobParams.datasetList'"
    )
  }
  if (config.requireArchivable) {
    if (!Array.isArray(list)) throw fail("'jobParams.datasetList' is required.")
    for (const { pid } of list as DatasetRef[]) {
      const dataset = model.datasets.get(pid)
      if (!dataset) throw fail('Unable to get a dataset.')
      if (!('archivable' in dataset.datasetlifecycle)) {
        throw fail("Invalid request. Requires 'datasetlifecycle.archivable'")
      }
      if (dataset.datasetlifecycle.archivable !== true) {
        throw fail("Invalid request. Invalid value for 'datasetlifecycle.archivable'")
      }
    }
  }
}
