// Helpers for tracker, restart, cancel and idempotency tests: requests, job reads, Globus task lookups.
import type { LightMyRequestResponse } from 'fastify'
import type { Job } from '../../src/sandbox/scicat-sim/index.js'
import type { World } from '../../src/sandbox/world.js'
import { ingestorQuery, type Proxy } from './proxy.js'

export interface ResultObject {
  globusTaskId: string
  bytesTransferred: number
  filesTransferred: number
  filesTotal: number
  status: string
  error: string
  archiveJobId?: string
  [key: string]: unknown
}

export interface PostOptions {
  token?: string
  query?: Record<string, string>
  headers?: Record<string, string>
}

/** POST /transfer as the Ingestor sends it (whole folder, no body). */
export function postTransfer (
  proxy: Proxy,
  world: World,
  pid: string,
  options: PostOptions = {}
): Promise<LightMyRequestResponse> {
  return proxy.app.inject({
    method: 'POST',
    url: `/transfer?${ingestorQuery(pid, options.query)}`,
    headers: { 'SciCat-API-Key': options.token ?? world.tokens.alice, ...options.headers },
  })
}

/** POST /transfer, expecting 200: the jobId. */
export async function startTransfer (proxy: Proxy, world: World, pid: string, options: PostOptions = {}): Promise<string> {
  const res = await postTransfer(proxy, world, pid, options)
  if (res.statusCode !== 200) throw new Error(`POST /transfer answered ${res.statusCode}: ${res.body}`)
  return (res.json() as { jobId: string }).jobId
}

export function cancelTransfer (proxy: Proxy, world: World, jobId: string, remove = false, token = world.tokens.alice) {
  return proxy.app.inject({
    method: 'DELETE',
    url: `/transfer/${encodeURIComponent(jobId)}${remove ? '?delete=true' : ''}`,
    headers: { 'SciCat-API-Key': token },
  })
}

/** The job as SciCat stores it (throws when it does not exist). */
export function jobOf (world: World, jobId: string): Job {
  const job = world.scicat.job(jobId)
  if (!job) throw new Error(`no job ${jobId} in SciCat`)
  return job
}

export function resultOf (world: World, jobId: string): ResultObject {
  return jobOf(world, jobId).jobResultObject as ResultObject
}

export function submissionIdOf (world: World, jobId: string): string {
  return jobOf(world, jobId).jobParams.globusSubmissionId as string
}

/** Every Globus task created with this submission id (exactly-once means one). */
export function tasksForSubmission (world: World, submissionId: string) {
  return world.globus.tasks().filter((t) => world.globus.submission(t.task_id)?.submission_id === submissionId)
}

/** Job ids in the order their Globus tasks were created. */
export function globusSubmissionOrder (world: World, jobIds: string[]): string[] {
  const bySubmission = new Map(jobIds.map((id) => [submissionIdOf(world, id), id]))
  return world.globus
    .tasks()
    .map((t) => bySubmission.get(world.globus.submission(t.task_id)!.submission_id))
    .filter((id): id is string => id !== undefined)
}

/** `n` datasets of alice's group (or `ownerGroup`: bob's is p67890), each one file of `bytes` bytes. */
export function addDatasets (world: World, n: number, bytes: number, prefix = 'small', ownerGroup?: string): string[] {
  return Array.from({ length: n }, (_, i) => {
    const pid = `20.500.12345/${prefix}-${i + 1}`
    world.addDataset(pid, { 'data.bin': 'd'.repeat(bytes) }, ownerGroup)
    return pid
  })
}

/** Config YAML appended to the world's: `yaml({ task: { maxConcurrency: 2 } })`. */
export function yaml (sections: Record<string, Record<string, unknown>>): string {
  const section = ([name, keys]: [string, Record<string, unknown>]) =>
    `${name}:\n${Object.entries(keys).map(([k, v]) => `  ${k}: ${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`).join('\n')}`
  const present = Object.entries(sections).filter(([, keys]) => Object.keys(keys).length > 0)
  return `\n${present.map(section).join('\n')}\n`
}
