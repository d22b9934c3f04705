// Deployment scoping (§11): a transfer job belongs to the deployment whose Globus client id its jobParams record.
import { ProxyError } from '../errors.js'
import type { Job } from '../scicat/client.js'

/** The Globus client id recorded in the job; undefined for jobs created before it was recorded. */
export function owningClientId (job: Job): string | undefined {
  const id = job.jobParams?.globusClientId
  return typeof id === 'string' && id !== '' ? id : undefined
}

/** This deployment's job, or one that predates the key (adopted by whichever deployment sees it). */
export function isOwnJob (job: Job, clientId: string): boolean {
  const owner = owningClientId(job)
  return owner === undefined || owner === clientId
}

/** 409 PROXY_OTHER_DEPLOYMENT when the job belongs to another deployment. */
export function assertOwnJob (job: Job, clientId: string): void {
  const owner = owningClientId(job)
  if (owner === undefined || owner === clientId) return
  throw new ProxyError('PROXY_OTHER_DEPLOYMENT', `the transfer belongs to the deployment with Globus client id ${owner}; send the request there`, {
    details: `job ${job.id} has jobParams.globusClientId ${owner}; this deployment is ${clientId}`,
    extra: { globusClientId: owner },
  })
}

/**
 * Globus answered 404 for the job's task: it does not show the task to this client, so this
 * deployment cannot cancel it (never a success: the job is left as it is).
 */
export function unknownTask (job: Job, taskId: string, clientId: string): ProxyError {
  const message = `Globus does not know task ${taskId} for this deployment (Globus client id ${clientId}); it was not cancelled`
  if (owningClientId(job) === clientId) {
    return new ProxyError('PROXY_UPSTREAM_GLOBUS', message, { details: `job ${job.id}` })
  }
  return new ProxyError('PROXY_OTHER_DEPLOYMENT', message, {
    details: `job ${job.id} records no globusClientId: its task was probably submitted by another deployment, which can cancel it`,
  })
}
