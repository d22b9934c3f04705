// scicat.statusCodes (DESIGN §5): the site's statusCode names are written and read back, across a restart; jobResultObject.status never changes.
import { afterEach, describe, expect, it } from 'vitest'
import { cyclesUntil, type Proxy, type Setup, startAll, startProxy } from '../helpers/proxy.js'
import { jobOf, resultOf, startTransfer, submissionIdOf, tasksForSubmission } from '../helpers/transfers.js'

const conventional = `scicat:
  statusCodes:
    submitted: jobSubmitted
    transferring: inProgress
    finished: finishedSuccessful
    failed: finishedUnsuccessful
`

/** Every state renamed, queued and submitted too; one Globus task at a time, so the second transfer waits. */
const everyStateRenamed = `scicat:
  statusCodes:
    queued: waitingForGlobus
    submitted: jobSubmitted
    transferring: inProgress
    finished: finishedSuccessful
    failed: finishedUnsuccessful
    cancelled: finishedCancelled
globus:
  maxActiveTasks: 1
  maxRequestsPerSecond: 1000
`

let setup: Setup | undefined
let restarted: Proxy | undefined
afterEach(async () => {
  await restarted?.close()
  await setup?.close()
  restarted = undefined
  setup = undefined
})

describe('scicat.statusCodes', () => {
  it('writes the site\'s codes, keeps jobResultObject.status, and a restarted service adopts and finishes the job with them', async () => {
    setup = await startAll({ globus: { bytesPerSecond: 200_000 } }, conventional)
    const { world } = setup
    const jobId = await startTransfer(setup.proxy, world, world.datasets[0]!.pid)
    expect(jobOf(world, jobId).statusCode).toBe('jobSubmitted')
    expect(resultOf(world, jobId).status).toBe('transferring')
    await cyclesUntil(setup, () => jobOf(world, jobId).statusCode === 'inProgress', { stepMs: 200 })
    expect(resultOf(world, jobId).status).toBe('transferring')

    // a new process: discovery filters on jobResultObject.status, so the renamed job is found
    await setup.proxy.close()
    restarted = await startProxy(world, conventional, setup.clock)
    const again = { clock: setup.clock, proxy: restarted }
    expect(await restarted.app.tracker.discover()).toBe(1)
    expect(restarted.app.tracker.transfers.get(jobId)?.view.statusCode).toBe('transferring')
    await cyclesUntil(again, () => resultOf(world, jobId).status === 'finished', { stepMs: 500 })
    expect(jobOf(world, jobId).statusCode).toBe('finishedSuccessful')
    expect(jobOf(world, jobId).statusMessage).toMatch(/^finished: /)
    // GET /transfer/{id} speaks the service's own states whatever the site calls them
    const res = await restarted.app.inject({ method: 'GET', url: `/transfer/${jobId}`, headers: { 'SciCat-API-Key': world.tokens.alice } })
    expect(res.json()).toMatchObject({ status: 'finished' })
  })

  it('a restarted service adopts jobs the site calls by its names for queued and submitted as queued and submitted, and finishes each once', async () => {
    setup = await startAll({ globus: { bytesPerSecond: 200_000 } }, everyStateRenamed)
    const { world } = setup
    const running = await startTransfer(setup.proxy, world, world.datasets[0]!.pid)
    const waiting = await startTransfer(setup.proxy, world, world.datasets[1]!.pid)
    expect([jobOf(world, running).statusCode, jobOf(world, waiting).statusCode]).toEqual(['jobSubmitted', 'waitingForGlobus'])
    expect(world.globus.tasks()).toHaveLength(1)

    await setup.proxy.close()
    restarted = await startProxy(world, everyStateRenamed, setup.clock)
    const again = { clock: setup.clock, proxy: restarted }
    expect(await restarted.app.tracker.discover()).toBe(2)
    const adopted = (id: string) => restarted!.app.tracker.transfers.get(id)?.view.statusCode
    expect([adopted(running), adopted(waiting)]).toEqual(['submitted', 'queued'])
    await cyclesUntil(again, () => [running, waiting].every((id) => resultOf(world, id).status === 'finished'), { stepMs: 500 })
    for (const id of [running, waiting]) {
      expect(jobOf(world, id).statusCode).toBe('finishedSuccessful')
      expect(tasksForSubmission(world, submissionIdOf(world, id))).toHaveLength(1)
    }
    expect(world.globus.tasks()).toHaveLength(2)
  })
})
