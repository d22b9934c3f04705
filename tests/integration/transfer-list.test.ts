import { afterEach, describe, expect, it } from 'vitest'
import { type Setup, startAll } from '../helpers/proxy.js'
import { cancelTransfer, startTransfer } from '../helpers/transfers.js'

let setup: Setup
afterEach(async () => {
  await setup?.close()
})

/** One Globus slot (the later transfers queue); bob's group p67890 administers the service. */
const oneSlotBobAdmin = 'globus:\n  maxActiveTasks: 1\nserver:\n  adminGroups: [p67890]\n'

async function get (url: string, token: string | undefined) {
  const res = await setup.proxy.app.inject({ method: 'GET', url, headers: token ? { 'SciCat-API-Key': token } : {} })
  return { status: res.statusCode, body: res.json() }
}

/** Three transfers of alice, one second apart: the first has the Globus slot, the other two wait. */
async function threeTransfers (): Promise<string[]> {
  const { world, proxy, clock } = setup
  const ids: string[] = []
  for (const d of world.datasets) {
    ids.push(await startTransfer(proxy, world, d.pid))
    clock.advance(1000)
  }
  return ids
}

describe('GET /transfers', () => {
  it('lists the caller\'s transfers newest first, each as GET /transfer/{id} shows it, with queue positions', async () => {
    setup = await startAll({}, oneSlotBobAdmin)
    const [first, second, third] = await threeTransfers()
    const { status, body } = await get('/transfers', setup.world.tokens.alice)
    expect(status).toBe(200)
    expect(body).toMatchObject({ limit: 50, skip: 0, all: false })
    expect(body.transfers.map((t: { jobId: string }) => t.jobId)).toEqual([third, second, first])
    for (const t of body.transfers) {
      const one = await get(`/transfer/${t.jobId}`, setup.world.tokens.alice)
      expect(t).toMatchObject(one.body)
    }
    const byId = Object.fromEntries(body.transfers.map((t: { jobId: string }) => [t.jobId, t]))
    expect(byId[second!].queuePosition).toBe(0)
    expect(byId[third!].queuePosition).toBe(1)
    expect(byId[first!].queuePosition).toBeUndefined()
    expect(byId[first!].globusTaskId).not.toBe('')
  })

  it('shows the rate of a running transfer this instance tracks, and the error of a failed one', async () => {
    setup = await startAll({ globus: { bytesPerSecond: 100_000 } })
    const { world, proxy, clock } = setup
    const jobId = await startTransfer(proxy, world, world.datasets[0]!.pid)
    clock.advance(2000)
    await proxy.app.tracker.runCycle()
    const running = await get('/transfers', world.tokens.alice)
    expect(running.body.transfers[0]).toMatchObject({ jobId, status: 'transferring' })
    expect(running.body.transfers[0].bytesPerSecond).toBeGreaterThan(0)
    world.scicat.insertJob({
      type: 'globus_transfer_job',
      ownerGroup: 'p12345',
      ownerUser: 'alice',
      statusCode: 'failed',
      statusMessage: 'failed: FILE_NOT_FOUND',
      jobResultObject: { status: 'failed', error: 'FILE_NOT_FOUND', globusTaskId: 't1', bytesTransferred: 0, filesTransferred: 0, filesTotal: 1 },
      createdAt: new Date(clock.now() + 1000).toISOString(),
    })
    const failed = await get('/transfers?status=failed', world.tokens.alice)
    expect(failed.body.transfers).toHaveLength(1)
    expect(failed.body.transfers[0]).toMatchObject({ status: 'failed', error: 'FILE_NOT_FOUND' })
    expect(failed.body.transfers[0].bytesPerSecond).toBeUndefined()
  })

  it('filters by status and pages with limit and skip (SciCat applies its limit before its skip)', async () => {
    setup = await startAll({}, oneSlotBobAdmin)
    const [first, second, third] = await threeTransfers()
    expect((await cancelTransfer(setup.proxy, setup.world, second!)).statusCode).toBe(200)
    const tokens = setup.world.tokens
    const ids = async (url: string) => (await get(url, tokens.alice)).body.transfers.map((t: { jobId: string }) => t.jobId)
    expect(await ids('/transfers?status=cancelled')).toEqual([second])
    expect(await ids('/transfers?status=transferring')).toEqual([third, first])
    expect(await ids('/transfers?status=finished')).toEqual([])
    expect(await ids('/transfers?limit=1')).toEqual([third])
    expect(await ids('/transfers?limit=1&skip=1')).toEqual([second])
    expect(await ids('/transfers?limit=2&skip=2')).toEqual([first])
    expect(await ids('/transfers?skip=3')).toEqual([])
  })

  it('reads SciCat with the caller\'s own token: another group sees none of them, an admin sees all', async () => {
    setup = await startAll({}, oneSlotBobAdmin)
    const ids = await threeTransfers()
    const carolView = await get('/transfers', setup.world.tokens.carol)
    // carol is in alice's group p12345: SciCat lets her read the group's jobs
    expect(carolView.body.transfers).toHaveLength(3)
    setup.world.scicat.addUser({ username: 'dave', password: 'dave', email: 'dave@example.org', groups: ['p99999'] })
    const dave = setup.world.scicat.issueToken('dave')
    expect((await get('/transfers', dave)).body).toEqual({ transfers: [], limit: 50, skip: 0, all: false })
    const admin = await get('/transfers', setup.world.tokens.bob)
    expect(admin.body.all).toBe(true)
    expect(admin.body.transfers.map((t: { jobId: string }) => t.jobId)).toEqual([...ids].reverse())
  })

  it('refuses a bad status, limit or skip with a 400 naming it, and asks SciCat nothing', async () => {
    setup = await startAll()
    const token = setup.world.tokens.alice
    await get('/transfers', token) // the identity is cached from here on
    setup.world.scicat.core.resetCounts()
    for (const [query, named] of [
      ['status=done', 'querystring.status'],
      ['limit=0', 'querystring.limit'],
      ['limit=501', 'querystring.limit'],
      ['limit=ten', 'querystring.limit'],
      ['skip=-1', 'querystring.skip'],
      ['skip=1.5', 'querystring.skip'],
      ['page=2', 'additional property "page"'],
    ] as const) {
      const { status, body } = await get(`/transfers?${query}`, token)
      expect({ query, status, code: body.code }).toEqual({ query, status: 400, code: 'PROXY_VALIDATION' })
      expect(body.message).toContain(named)
    }
    expect(setup.world.scicat.core.count('findJobs')).toBe(0)
  })

  it('needs a token (401) and reports SciCat failing as 502', async () => {
    setup = await startAll()
    expect(await get('/transfers', undefined)).toMatchObject({ status: 401, body: { code: 'PROXY_UNAUTHENTICATED' } })
    expect(await get('/transfers', 'not-a-token')).toMatchObject({ status: 401, body: { code: 'PROXY_UNAUTHENTICATED' } })
    setup.world.scicat.core.inject('findJobs', { status: 500, times: 10 })
    expect(await get('/transfers', setup.world.tokens.alice)).toMatchObject({ status: 502, body: { code: 'PROXY_UPSTREAM_SCICAT' } })
  })
})

describe('GET /status', () => {
  it('is for members of server.adminGroups only', async () => {
    setup = await startAll({}, oneSlotBobAdmin)
    expect(await get('/status', undefined)).toMatchObject({ status: 401, body: { code: 'PROXY_UNAUTHENTICATED' } })
    const alice = await get('/status', setup.world.tokens.alice)
    expect(alice).toMatchObject({ status: 403, body: { code: 'PROXY_FORBIDDEN' } })
    expect(alice.body.message).toContain('server.adminGroups')
    expect((await get('/status', setup.world.tokens.bob)).status).toBe(200)
  })

  it('nobody reads it when server.adminGroups is empty', async () => {
    setup = await startAll()
    const res = await get('/status', setup.world.tokens.alice)
    expect(res).toMatchObject({ status: 403, body: { code: 'PROXY_FORBIDDEN', details: 'server.adminGroups is empty in the config' } })
  })

  it('shows tracked transfers by state, the queue and its owners, tasks per facility, upstreams, budget, errors and role', async () => {
    setup = await startAll({}, oneSlotBobAdmin)
    await threeTransfers()
    setup.world.scicat.core.inject('getDataset', { status: 500, times: 6 })
    const extra = await setup.proxy.app.inject({
      method: 'POST',
      url: `/transfer?sourceFacility=PSI&destFacility=CSCS&scicatPid=${encodeURIComponent(setup.world.datasets[0]!.pid)}&collectionRootPath=/`,
      headers: { 'SciCat-API-Key': setup.world.tokens.alice },
    })
    expect(extra.statusCode).toBe(500) // Go's status for a 502 (server.errorStatuses: go)
    const { status, body } = await get('/status', setup.world.tokens.bob)
    expect(status).toBe(200)
    expect(body).toMatchObject({
      role: 'single',
      transfers: { total: 3, byState: { queued: 2, active: 1, submitting: 0, finishing: 0, closing: 0 } },
      queue: { length: 2, ownersWaiting: [{ owner: 'alice', queued: 2 }] },
      activeTasks: { total: 1, max: 1, byFacility: { PSI: 1, CSCS: 1 } },
      upstreams: { scicat: 'ok', globus: 'ok' },
      globusBudget: { maxRequestsPerSecond: 10 },
    })
    // submission ids and the one submission, at least
    expect(body.globusBudget.requestsLastMinute).toBeGreaterThanOrEqual(4)
    expect(body.globusBudget.perSecondLastMinute).toBeCloseTo(body.globusBudget.requestsLastMinute / 60, 2)
    expect(body.lastUpstreamErrors[0]).toMatchObject({ service: 'scicat', operation: 'getDataset', status: '500' })
    expect(Date.parse(body.lastUpstreamErrors[0].at)).not.toBeNaN()
  })
})
