// Idempotency-Key on POST /transfer: one transfer per user and key, racing requests and restarts included.
import { afterEach, describe, expect, it } from 'vitest'
import type { World } from '../../src/sandbox/world.js'
import { cyclesUntil, type Proxy, type Setup, startAll, startProxy } from '../helpers/proxy.js'
import { jobOf, postTransfer, yaml } from '../helpers/transfers.js'

let world: World | undefined
let proxy: Proxy | undefined
afterEach(async () => {
  await proxy?.close()
  await world?.close()
  proxy = undefined
  world = undefined
})

const extra = yaml({ globus: { maxRequestsPerSecond: 1000 } })

async function start (): Promise<Setup> {
  const setup = await startAll({}, extra)
  world = setup.world
  proxy = setup.proxy
  return setup
}

/** `count` identical requests at once; their answers. */
async function burst (p: Proxy, w: World, count: number, key: string, token = w.tokens.alice) {
  const responses = await Promise.all(
    Array.from({ length: count }, () => postTransfer(p, w, w.datasets[0]!.pid, { token, headers: { 'Idempotency-Key': key } }))
  )
  expect(responses.map((r) => r.statusCode)).toEqual(responses.map(() => 200))
  return responses.map((r) => (r.json() as { jobId: string }).jobId)
}

const transferJobs = (w: World) => w.scicat.jobs().filter((j) => j.type === 'globus_transfer_job')

/** dave: like alice, in the dataset's group and both facilities. */
function addDave (w: World): string {
  w.scicat.addUser({ username: 'dave', email: 'dave@example.org', groups: ['p12345', 'PSI', 'CSCS'] })
  return w.scicat.issueToken('dave', { expiresInSeconds: 7 * 24 * 3600 })
}

describe('Idempotency-Key', () => {
  it('20 racing identical requests of one user make one job and one Globus task', async () => {
    const { world: w, proxy: p } = await start()
    const ids = await burst(p, w, 20, 'ingest-42')
    expect(new Set(ids).size).toBe(1)
    expect(transferJobs(w).map((j) => j.id)).toEqual([ids[0]])
    expect(w.globus.tasks()).toHaveLength(1)
    expect(w.globus.core.count('submission_id')).toBe(1)
    expect(jobOf(w, ids[0]!).jobParams).toMatchObject({ idempotencyKey: 'ingest-42' })

    // another key is another transfer
    const [other] = await burst(p, w, 1, 'ingest-43')
    expect(other).not.toBe(ids[0])
    expect(transferJobs(w)).toHaveLength(2)
  })

  it('keys are per user: the same key from another user starts that user\'s own transfer', async () => {
    const { world: w, proxy: p } = await start()
    const dave = addDave(w)
    const [alices, daves] = await Promise.all([burst(p, w, 5, 'same-key'), burst(p, w, 5, 'same-key', dave)])
    expect(new Set(alices).size).toBe(1)
    expect(new Set(daves).size).toBe(1)
    expect(daves[0]).not.toBe(alices[0])
    expect(jobOf(w, alices[0]!).ownerUser).toBe('alice')
    expect(jobOf(w, daves[0]!).ownerUser).toBe('dave')
    expect(transferJobs(w)).toHaveLength(2)
    expect(w.globus.tasks()).toHaveLength(2)
  })

  it('a repeat after a restart (nothing in memory) returns the first jobId from SciCat, even once it finished', async () => {
    const s = await start()
    const [first] = await burst(s.proxy, s.world, 1, 'ingest-7')
    await cyclesUntil(s, () => jobOf(s.world, first!).statusCode === 'finished', { stepMs: 500 })

    await proxy?.close()
    proxy = undefined
    proxy = await startProxy(s.world, extra, s.clock)
    s.world.globus.core.resetCounts()
    s.world.scicat.core.resetCounts()
    const again = await burst(proxy, s.world, 5, 'ingest-7')
    expect(again).toEqual(again.map(() => first))
    expect(transferJobs(s.world)).toHaveLength(1)
    expect(s.world.scicat.core.count('createJob')).toBe(0)
    expect(s.world.scicat.core.count('findJobs')).toBe(1)
    expect(s.world.globus.core.count('submission_id')).toBe(0)
    expect(s.world.globus.tasks()).toHaveLength(1)
  })
})
