// Upstream failures during POST /transfer (DESIGN §5): 502 with nothing created before the job, a failed job after it.
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { LightMyRequestResponse } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { sandboxCollections, type World } from '../../src/sandbox/world.js'
import { startWithConfig } from '../helpers/custom-config.js'
import { cyclesUntil, ingestorQuery, preciseStatuses, type Setup, startAll } from '../helpers/proxy.js'
import { jobOf, resultOf, submissionIdOf, tasksForSubmission } from '../helpers/transfers.js'

const transferScope = 'urn:globus:auth:scope:transfer.api.globus.org:all'
const dataAccess = (collection: string) => `https://auth.globus.org/scopes/${collection}/data_access`

let setup: Setup | undefined
let tmp: string | undefined
afterEach(async () => {
  await setup?.close()
  setup = undefined
  if (tmp) rmSync(tmp, { recursive: true, force: true })
  tmp = undefined
})

function post (s: Setup, pid = s.world.datasets[0]!.pid): Promise<LightMyRequestResponse> {
  return s.proxy.app.inject({
    method: 'POST',
    url: `/transfer?${ingestorQuery(pid)}`,
    headers: { 'SciCat-API-Key': s.world.tokens.alice, 'content-type': 'application/json' },
    payload: JSON.stringify({ fileList: [{ path: 'README.txt', isSymlink: false }] }),
  })
}

interface ErrorBody {
  message: string
  code: string
  details?: string
  jobId?: string
}

function expectJsonError (res: LightMyRequestResponse, status: number, code: string): ErrorBody {
  expect(res.statusCode, res.body).toBe(status)
  expect(res.headers['content-type']).toMatch(/^application\/json/)
  const body = res.json() as ErrorBody
  expect(typeof body.message).toBe('string')
  expect(body.code).toBe(code)
  if ('details' in body) expect(typeof body.details).toBe('string')
  return body
}

/** A refused submission: the job exists, is failed with the Globus code and message, and is not tracked. */
async function expectRejectedJob (s: Setup, res: LightMyRequestResponse, globusCode: string, globusMessage: string) {
  const body = expectJsonError(res, 502, 'PROXY_TRANSFER_REJECTED')
  const jobs = s.world.scicat.jobs()
  expect(jobs).toHaveLength(1)
  const job = jobs[0]!
  expect(body.jobId).toBe(job.id)
  expect(body.details).toContain(job.id)
  expect(body.details).toContain(globusCode)
  expect(job).toMatchObject({ type: 'globus_transfer_job', ownerUser: 'alice', statusCode: 'failed' })
  const result = job.jobResultObject as { status: string; error: string; globusTaskId: string }
  expect(result.status).toBe('failed')
  expect(result.error).toContain(globusCode)
  expect(result.error).toContain(globusMessage)
  expect(result.globusTaskId).toBe('')
  expect(job.statusMessage).toContain(globusCode)
  expect(s.world.globus.tasks()).toHaveLength(0)
  // nothing left to follow: later cycles neither submit nor touch the job
  expect(s.proxy.app.tracker.transfers.size).toBe(0)
  const transfers = s.world.globus.core.count('transfer')
  const updates = s.world.scicat.core.count('updateJob')
  await s.proxy.app.tracker.runCycle()
  expect(s.world.globus.core.count('transfer')).toBe(transfers)
  expect(s.world.scicat.core.count('updateJob')).toBe(updates)
  return job
}

describe('POST /transfer when an upstream fails before the job exists', () => {
  it('answers 502 and submits nothing when SciCat cannot create the job', async () => {
    setup = await startAll({ configExtra: preciseStatuses })
    const { world } = setup
    world.scicat.core.inject('createJob', { status: 503 })
    const body = expectJsonError(await post(setup), 502, 'PROXY_UPSTREAM_SCICAT')
    expect(body.details).toContain('503')
    // the job POST is not repeated; a lost answer is looked up by the submission id instead
    expect(world.scicat.core.count('createJob')).toBe(1)
    expect(world.scicat.core.count('findJobs')).toBe(1)
    expect(world.scicat.jobs()).toHaveLength(0)
    expect(world.globus.core.count('transfer')).toBe(0)
    expect(world.globus.tasks()).toHaveLength(0)
    expect(setup.proxy.app.tracker.transfers.size).toBe(0)
    expect(setup.proxy.app.tracker.creating.size).toBe(0)
  })

  it('a lost answer to the job POST: the job it created is found by its submission id and submitted once', async () => {
    setup = await startAll({ configExtra: preciseStatuses })
    const { world } = setup
    world.scicat.core.inject('createJob', { dropAnswer: true })
    const res = await post(setup)
    expect(res.statusCode, res.body).toBe(200)
    const { jobId } = res.json() as { jobId: string }
    // the POST was not repeated: the lookup found the job it had created
    expect(world.scicat.core.count('createJob')).toBe(1)
    expect(world.scicat.core.count('findJobs')).toBe(1)
    const jobs = world.scicat.jobs()
    expect(jobs.map((j) => j.id)).toEqual([jobId])
    const submissionId = submissionIdOf(world, jobId)
    expect(submissionId).toBeTruthy()
    const tasks = tasksForSubmission(world, submissionId)
    expect(tasks).toHaveLength(1)
    expect(world.globus.core.count('transfer')).toBe(1)
    expect(jobOf(world, jobId).statusCode).toBe('submitted')
    expect(resultOf(world, jobId).globusTaskId).toBe(tasks[0]!.task_id)
    expect(setup.proxy.app.tracker.creating.size).toBe(0)
    // the next discovery finds the job already followed: nothing is adopted or submitted again
    expect(await setup.proxy.app.tracker.discover()).toBe(0)
    await cyclesUntil(setup, () => jobOf(world, jobId).statusCode === 'finished', { stepMs: 500 })
    expect(world.globus.core.count('transfer')).toBe(1)
    expect(world.scicat.jobs().filter((j) => j.type === 'globus_transfer_job')).toHaveLength(1)
  })

  it('a lost answer to the job POST and a failing lookup: 502; the job that exists is submitted once by discovery', async () => {
    setup = await startAll({ configExtra: preciseStatuses })
    const s = setup
    const { world } = s
    world.scicat.core.inject('createJob', { dropAnswer: true })
    world.scicat.core.inject('findJobs', { networkError: true, times: 100 })
    const body = expectJsonError(await post(s), 502, 'PROXY_UPSTREAM_SCICAT')
    expect(body.message).toMatch(/lost/)
    expect(body.details).toMatch(/lookup/)
    expect(world.scicat.core.count('createJob')).toBe(1)
    expect(world.scicat.core.count('findJobs')).toBeGreaterThan(1) // the lookup is a GET: retried
    world.scicat.core.clearFaults()
    // the job exists, unsubmitted and followed by nobody
    const jobs = world.scicat.jobs()
    expect(jobs).toHaveLength(1)
    const job = jobs[0]!
    expect(body.details).toContain(job.jobParams.globusSubmissionId as string)
    expect(job.statusCode).toBe('jobSubmitted')
    expect(world.globus.core.count('transfer')).toBe(0)
    expect(s.proxy.app.tracker.transfers.size).toBe(0)
    expect(s.proxy.app.tracker.creating.size).toBe(0)
    // DESIGN §6: discovery adopts a job with only a submission id, as after a crash between
    // job creation and submission, and the stored submission id makes the submission exactly-once
    await s.proxy.app.tracker.runCycle()
    expect(s.proxy.app.tracker.transfers.has(job.id)).toBe(true)
    expect(jobOf(world, job.id).statusCode).toBe('submitted')
    const tasks = tasksForSubmission(world, submissionIdOf(world, job.id))
    expect(tasks).toHaveLength(1)
    expect(resultOf(world, job.id).globusTaskId).toBe(tasks[0]!.task_id)
    s.clock.advance(s.proxy.config.task.discoveryInterval * 1000)
    await s.proxy.app.tracker.runCycle()
    await cyclesUntil(s, () => jobOf(world, job.id).statusCode === 'finished', { stepMs: 500 })
    expect(world.globus.core.count('transfer')).toBe(1)
    expect(world.globus.tasks()).toHaveLength(1)
    expect(world.scicat.jobs().filter((j) => j.type === 'globus_transfer_job')).toHaveLength(1)
  })

  it('answers 502 with no job and no submission when SciCat fails reading the dataset', async () => {
    setup = await startAll({ configExtra: preciseStatuses })
    const { world } = setup
    world.scicat.core.inject('getDataset', { status: 500, times: 20 })
    const body = expectJsonError(await post(setup), 502, 'PROXY_UPSTREAM_SCICAT')
    expect(body.details).toContain('500')
    expect(world.scicat.core.count('getDataset')).toBeGreaterThan(1) // retried
    expect(world.globus.core.count('submission_id')).toBe(0)
    expect(world.scicat.core.count('createJob')).toBe(0)
  })

  it('answers 502 with no job when Globus cannot issue a submission id', async () => {
    setup = await startAll({ configExtra: preciseStatuses })
    const { world } = setup
    world.globus.core.inject('submission_id', { status: 503, times: 20 })
    const body = expectJsonError(await post(setup), 502, 'PROXY_UPSTREAM_GLOBUS')
    expect(body.details).toContain('submission_id')
    expect(world.scicat.core.count('createJob')).toBe(0)
    expect(world.globus.core.count('transfer')).toBe(0)
    expect(world.scicat.jobs()).toHaveLength(0)
  })

  it('answers 502 with no job when the Globus token cannot be obtained', async () => {
    setup = await startAll({ configExtra: preciseStatuses })
    const { world } = setup
    world.globus.core.inject('token', { status: 401, body: { error: 'invalid_client' } })
    expectJsonError(await post(setup), 502, 'PROXY_UPSTREAM_GLOBUS')
    expect(world.scicat.core.count('createJob')).toBe(0)
    expect(world.globus.core.count('transfer')).toBe(0)
  })

  it('answers 502 (not 401) when SciCat cannot check the token', async () => {
    setup = await startAll({ configExtra: preciseStatuses })
    const { world } = setup
    world.scicat.core.inject('identity', { status: 503, times: 20 })
    expectJsonError(await post(setup), 502, 'PROXY_UPSTREAM_SCICAT')
    expect(world.scicat.core.count('getDataset')).toBe(0)
    expect(world.globus.core.count('submission_id')).toBe(0)
    // a failed check is not cached: the next request asks again and passes
    world.scicat.core.clearFaults()
    expect((await post(setup)).statusCode).toBe(200)
  })
})

describe('POST /transfer when Globus refuses the submission', () => {
  it('marks the job failed with PermissionDenied and answers 502 with the jobId', async () => {
    setup = await startAll({ configExtra: preciseStatuses })
    setup.world.globus.core.inject('transfer', {
      status: 403,
      body: { code: 'PermissionDenied', message: 'You do not have permission to write to /archive', request_id: 'abc' },
    })
    await expectRejectedJob(setup, await post(setup), 'PermissionDenied', 'You do not have permission to write to /archive')
    expect(setup.world.globus.core.count('transfer')).toBe(1)
  })

  it('marks the job failed with EndpointNotFound for a collection Globus does not know', async () => {
    const unknown = randomUUID()
    setup = await startWithConfig(
      (world) => `scicatUrl: ${world.scicatUrl}
facilities:
  - name: PSI
    collection: ${sandboxCollections.source}
    direction: SRC
  - name: CSCS
    collection: ${unknown}
    direction: DST
${preciseStatuses}`
    )
    const job = await expectRejectedJob(setup, await post(setup), 'EndpointNotFound', unknown)
    expect(job.jobParams).toMatchObject({ destinationCollection: unknown })
  })
})

describe('ConsentRequired at submission', () => {
  /** The destination collection requires data_access consent; the config does not request it for CSCS. */
  async function startConsentWorld (): Promise<Setup> {
    tmp = mkdtempSync(join(tmpdir(), 'proxy-consent-'))
    const dir = tmp
    return await startWithConfig(
      (world: World) => `scicatUrl: ${world.scicatUrl}/
facilities:
  - name: PSI
    collection: ${sandboxCollections.source}
    direction: SRC
  - name: CSCS
    collection: ${sandboxCollections.destination}
    direction: DST
    scopes: ["${transferScope}"]
    destinationPath: "/archive/{{ .PidShort }}"
${preciseStatuses}`,
      {
        dir,
        globus: {
          collections: {
            [sandboxCollections.source]: { root: join(dir, 'facility-psi') },
            [sandboxCollections.destination]: { root: join(dir, 'facility-cscs'), requireDataAccessConsent: true },
          },
        },
      }
    )
  }

  it('requests a token with the required scopes merged in, retries once, and succeeds', async () => {
    setup = await startConsentWorld()
    const s = setup
    const { world } = s
    const res = await post(s)
    expect(res.statusCode, res.body).toBe(200)
    const { jobId } = res.json() as { jobId: string }

    expect(world.globus.core.count('transfer')).toBe(2)
    const tokens = world.globus.tokens()
    // the Transfer scope alone (submission id, tasks), the two facilities' scopes, the same with consent
    expect(tokens).toHaveLength(3)
    expect(tokens[0]!.scope).toBe(transferScope)
    expect(tokens[1]!.scope).not.toContain(dataAccess(sandboxCollections.destination))
    expect(tokens[1]!.scope).toContain(dataAccess(sandboxCollections.source))
    // one scope string: the dependent scopes of both collections under the one transfer scope
    expect(tokens[2]!.scope).toContain(dataAccess(sandboxCollections.destination))
    expect(tokens[2]!.scope).toContain(dataAccess(sandboxCollections.source))
    expect(tokens[2]!.scope.split(transferScope)).toHaveLength(2)

    const job = world.scicat.job(jobId)!
    const taskId = (job.jobResultObject as { globusTaskId: string }).globusTaskId
    expect(job.statusCode).toBe('submitted')
    expect(world.globus.task(taskId)).toBeDefined()
    // the tracker reads tasks with the Transfer scope's token, up to the end
    await cyclesUntil(s, () => world.scicat.job(jobId)!.statusCode === 'finished', { stepMs: 500 })
    expect(world.globus.tokens()).toHaveLength(3)
  })

  it('marks the job failed and answers 502 when the consent still is not met after the retry', async () => {
    setup = await startAll({ configExtra: preciseStatuses })
    const { world } = setup
    const elsewhere = randomUUID()
    const consent = {
      status: 403,
      body: {
        code: 'ConsentRequired',
        message: `Missing required data_access consent for ${elsewhere}`,
        required_scopes: [`${transferScope}[*${dataAccess(elsewhere)}]`],
      },
    }
    world.globus.core.inject('transfer', consent)
    world.globus.core.inject('transfer', consent)
    await expectRejectedJob(setup, await post(setup), 'ConsentRequired', `Missing required data_access consent for ${elsewhere}`)
    // one retry, with one new token asking for the missing scope
    expect(world.globus.core.count('transfer')).toBe(2)
    const tokens = world.globus.tokens()
    expect(tokens).toHaveLength(3)
    expect(tokens[1]!.scope).not.toContain(dataAccess(elsewhere))
    expect(tokens[2]!.scope).toContain(dataAccess(elsewhere))
  })

  it('does not retry a ConsentRequired that asks for nothing new', async () => {
    setup = await startAll({ configExtra: preciseStatuses })
    const { world } = setup
    const known = world.config.facilities[0]!.collection
    world.globus.core.inject('transfer', {
      status: 403,
      body: { code: 'ConsentRequired', message: 'consent', required_scopes: [`${transferScope}[*${dataAccess(known)}]`] },
    })
    await expectRejectedJob(setup, await post(setup), 'ConsentRequired', 'consent')
    expect(world.globus.core.count('transfer')).toBe(1)
    // the Transfer scope alone and the submission's: no third one
    expect(world.globus.tokens()).toHaveLength(2)
  })
})
