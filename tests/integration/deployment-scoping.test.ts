// Deployment scoping (§11): jobs record their Globus client id; another deployment's jobs are never adopted, changed or cancelled here.
import { randomUUID } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import type { Job } from '../../src/sandbox/scicat-sim/index.js'
import type { World } from '../../src/sandbox/world.js'
import { cyclesUntil, type Setup, startAll, startProxy } from '../helpers/proxy.js'
import { CLIENT_ID } from '../helpers/upstreams.js'
import { addDatasets, cancelTransfer, jobOf, resultOf, startTransfer, yaml } from '../helpers/transfers.js'

const OTHER_CLIENT = 'staging-client'
// precise statuses (server.errorStatuses: http); the e2e test checks the Go status (400) under the default
const extra = yaml({ globus: { maxRequestsPerSecond: 1000, maxActiveTasks: 1 }, server: { errorStatuses: 'http' } })

let current: Setup | undefined
afterEach(async () => {
  await current?.close()
  current = undefined
})

async function start (): Promise<Setup> {
  current = await startAll({ globus: { bytesPerSecond: 100_000 } }, extra)
  return current
}

/** A new process on the same simulators (nothing in memory). */
async function restart (s: Setup): Promise<Setup> {
  await s.proxy.close()
  const proxy = await startProxy(s.world, extra, s.clock)
  current = {
    ...s,
    proxy,
    async close () {
      await proxy.close()
      await s.world.close()
    },
  }
  return current
}

/**
 * A copy of `template` (a job this service created) as SciCat would store a running transfer
 * of another deployment (`clientId`), or of one from before globusClientId was recorded (undefined).
 */
function insertRunningJob (w: World, template: Job, clientId: string | undefined, taskId: string): Job {
  const { globusClientId: _, ...params } = template.jobParams
  return w.scicat.insertJob({
    type: template.type,
    ownerGroup: template.ownerGroup,
    ownerUser: 'alice',
    contactEmail: 'alice@example.org',
    statusCode: 'submitted',
    statusMessage: `submitted to Globus: task ${taskId}`,
    jobParams: { ...params, globusSubmissionId: randomUUID(), ...(clientId ? { globusClientId: clientId } : {}) },
    jobResultObject: { globusTaskId: taskId, bytesTransferred: 10, filesTransferred: 1, filesTotal: 4, status: 'transferring', error: '' },
  })
}

const cancel = (s: Setup) => s.world.globus.core.count('cancel')

describe('deployment scoping', () => {
  it('records this deployment\'s Globus client id in the jobParams of every new transfer, queued ones too', async () => {
    const s = await start()
    const [a, b] = addDatasets(s.world, 2, 1000, 'scoped')
    const submitted = await startTransfer(s.proxy, s.world, a!)
    const queued = await startTransfer(s.proxy, s.world, b!)
    expect(jobOf(s.world, queued).statusCode).toBe('queued')
    for (const jobId of [submitted, queued]) expect(jobOf(s.world, jobId).jobParams.globusClientId).toBe(CLIENT_ID)
  })

  it('adopts its own jobs and those without globusClientId, never another deployment\'s, and its cycles never touch that one', async () => {
    let s = await start()
    const [a] = addDatasets(s.world, 1, 1000, 'own')
    const own = await startTransfer(s.proxy, s.world, a!)
    const foreign = insertRunningJob(s.world, jobOf(s.world, own), OTHER_CLIENT, randomUUID())
    // a job from before the key: queued (no task yet, a submission id Globus issued), so that this deployment can finish it
    const { globusClientId: _, ...legacyParams } = jobOf(s.world, own).jobParams
    const legacy = s.world.scicat.insertJob({
      type: 'globus_transfer_job',
      ownerGroup: 'p12345',
      ownerUser: 'alice',
      jobParams: { ...legacyParams, globusSubmissionId: await s.proxy.deps.globus.getSubmissionId() },
    })
    s = await restart(s)
    expect(await s.proxy.app.tracker.discover()).toBe(2)
    expect([...s.proxy.app.tracker.transfers.keys()].sort()).toEqual([own, legacy.id].sort())

    await cyclesUntil(s, () => jobOf(s.world, own).statusCode === 'finished' && jobOf(s.world, legacy.id).statusCode === 'finished')
    // a later discovery does not adopt it either; it was never failed, nor PATCHed at all
    expect(await s.proxy.app.tracker.discover()).toBe(0)
    expect(s.proxy.app.tracker.transfers.has(foreign.id)).toBe(false)
    expect(jobOf(s.world, foreign.id)).toEqual(foreign)
  })

  it('GET of another deployment\'s job answers from SciCat; DELETE answers 409 PROXY_OTHER_DEPLOYMENT naming its client id and changes nothing', async () => {
    const s = await start()
    const [a] = addDatasets(s.world, 1, 1000, 'other')
    const own = await startTransfer(s.proxy, s.world, a!)
    const taskId = randomUUID()
    const foreign = insertRunningJob(s.world, jobOf(s.world, own), OTHER_CLIENT, taskId)

    const got = await s.proxy.app.inject({ method: 'GET', url: `/transfer/${foreign.id}`, headers: { 'SciCat-API-Key': s.world.tokens.alice } })
    expect(got.statusCode).toBe(200)
    expect(got.json()).toMatchObject({
      jobId: foreign.id,
      status: 'transferring',
      globusTaskId: taskId,
      bytesTransferred: 10,
      filesTransferred: 1,
      filesTotal: 4,
      message: foreign.statusMessage,
    })

    for (const remove of [false, true]) {
      const res = await cancelTransfer(s.proxy, s.world, foreign.id, remove)
      expect(res.statusCode).toBe(409)
      expect(res.json()).toMatchObject({ code: 'PROXY_OTHER_DEPLOYMENT', globusClientId: OTHER_CLIENT })
      expect((res.json() as { message: string }).message).toContain(OTHER_CLIENT)
    }
    expect(cancel(s)).toBe(0)
    expect(jobOf(s.world, foreign.id)).toEqual(foreign)
    // the caller's permissions still come first: another group is refused as before
    expect((await cancelTransfer(s.proxy, s.world, foreign.id, false, s.world.tokens.bob)).statusCode).toBe(403)
  })

  it('a task Globus does not know (404 on cancel) is not cancelled: the job is left as it is', async () => {
    const s = await start()
    const [a] = addDatasets(s.world, 1, 1000, 'unknown')
    const own = await startTransfer(s.proxy, s.world, a!)
    // a job without globusClientId whose task another deployment's client submitted
    const legacy = insertRunningJob(s.world, jobOf(s.world, own), undefined, randomUUID())
    const res = await cancelTransfer(s.proxy, s.world, legacy.id)
    expect(res.statusCode).toBe(409)
    expect(res.json()).toMatchObject({ code: 'PROXY_OTHER_DEPLOYMENT' })
    expect((res.json() as { message: string }).message).toContain(CLIENT_ID)
    expect(cancel(s)).toBe(1)
    expect(jobOf(s.world, legacy.id)).toEqual(legacy)

    // this deployment's own job whose task Globus does not show: an upstream inconsistency, not a cancellation
    const mine = insertRunningJob(s.world, jobOf(s.world, own), CLIENT_ID, randomUUID())
    const res2 = await cancelTransfer(s.proxy, s.world, mine.id)
    expect(res2.statusCode).toBe(502)
    expect(res2.json()).toMatchObject({ code: 'PROXY_UPSTREAM_GLOBUS' })
    expect(jobOf(s.world, mine.id)).toEqual(mine)
    expect(resultOf(s.world, own).status).toBe('transferring')
  })
})
