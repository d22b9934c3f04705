// Saving a new job document with SciCat's defaults.
import { randomUUID } from 'node:crypto'
import { clone, type ScicatModel } from './model.js'
import type { Caller, Job } from './types.js'

export interface NewJob {
  type: string
  ownerGroup?: string
  ownerUser?: string
  contactEmail: string
  jobParams: Record<string, unknown>
  statusCode?: string
  statusMessage?: string
}

/** Saves a job document with SciCat's defaults; jobParams.jobStatusMessage becomes the status. */
export function storeJob (model: ScicatModel, caller: Caller | null, job: NewJob): Job {
  const id = randomUUID()
  const now = model.nowIso()
  const by = caller?.user.username ?? 'anonymous'
  const { jobStatusMessage, ...jobParams } = job.jobParams
  const status = typeof jobStatusMessage === 'string' ? jobStatusMessage : undefined
  const params = status === undefined ? job.jobParams : jobParams
  const doc = {
    _id: id,
    id,
    type: job.type,
    ...(job.ownerGroup !== undefined && { ownerGroup: job.ownerGroup }),
    accessGroups: [],
    isPublished: false,
    ...(job.ownerUser !== undefined && { ownerUser: job.ownerUser }),
    contactEmail: job.contactEmail,
    statusCode: status ?? job.statusCode ?? 'jobSubmitted',
    statusMessage: status ?? job.statusMessage ?? 'Job submitted.',
    configVersion: model.configVersion,
    jobParams: params,
    jobResultObject: {},
    createdBy: by,
    updatedBy: by,
    createdAt: now,
    updatedAt: now,
    __v: 0,
  } as Job
  model.jobs.set(id, doc)
  return clone(doc)
}
