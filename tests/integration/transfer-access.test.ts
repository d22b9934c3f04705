// Who may read and cancel a transfer (DESIGN §4, §8), secrets kept out of the logs, and the identity cache.
import { type IncomingHttpHeaders, request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { LightMyRequestResponse } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { cyclesUntil, ingestorQuery, preciseStatuses, type Setup, startAll } from '../helpers/proxy.js'

let setup: Setup | undefined
afterEach(async () => {
  await setup?.close()
  setup = undefined
})

function request (
  s: Setup,
  method: 'GET' | 'POST' | 'DELETE',
  url: string,
  token: string | undefined,
  headers: Record<string, string> = {}
): Promise<LightMyRequestResponse> {
  return s.proxy.app.inject({ method, url, headers: { ...(token ? { 'SciCat-API-Key': token } : {}), ...headers } })
}

async function startTransfer (s: Setup, pid = s.world.datasets[0]!.pid): Promise<string> {
  const res = await request(s, 'POST', `/transfer?${ingestorQuery(pid)}`, s.world.tokens.alice)
  expect(res.statusCode, res.body).toBe(200)
  return (res.json() as { jobId: string }).jobId
}

function expectError (res: LightMyRequestResponse, status: number, code: string): void {
  expect(res.statusCode, res.body).toBe(status)
  expect(res.headers['content-type']).toMatch(/^application\/json/)
  const body = res.json() as { message: unknown; code: unknown; details?: unknown }
  expect(typeof body.message).toBe('string')
  expect(body.code).toBe(code)
  if ('details' in body) expect(typeof body.details).toBe('string')
}

describe('GET /transfer/{scicatJobId}', () => {
  it('shows the owner every field of the transfer, and so it does to the members of its owner group', async () => {
    setup = await startAll({ configExtra: preciseStatuses })
    const s = setup
    const { world } = s
    const jobId = await startTransfer(s)
    const res = await request(s, 'GET', `/transfer/${jobId}`, world.tokens.alice)
    expect(res.statusCode, res.body).toBe(200)
    const job = world.scicat.job(jobId)!
    const result = job.jobResultObject as { globusTaskId: string }
    expect(res.json()).toEqual({
      jobId,
      status: 'transferring',
      message: job.statusMessage,
      globusTaskId: result.globusTaskId,
      bytesTransferred: 0,
      filesTransferred: 0,
      filesTotal: 0,
      bytesTotal: world.datasets[0]!.size,
      sourceFacility: 'PSI',
      destFacility: 'CSCS',
      createdAt: job.createdAt,
      updatedAt: job.updatedAt,
    })
    expect(result.globusTaskId).not.toBe('')

    // carol has no facility but is in the job's ownerGroup p12345
    const carol = await request(s, 'GET', `/transfer/${jobId}`, world.tokens.carol)
    expect(carol.statusCode).toBe(200)

    await cyclesUntil(s, () => world.scicat.job(jobId)!.statusCode === 'finished', { stepMs: 500 })
    const done = (await request(s, 'GET', `/transfer/${jobId}`, world.tokens.alice)).json() as Record<string, unknown>
    expect(done).toMatchObject({ status: 'finished', filesTransferred: 4, filesTotal: 4 })
    expect(done.bytesTransferred).toBeGreaterThan(0)
    expect(done.message).toBe(world.scicat.job(jobId)!.statusMessage)
  })

  it('lets the job\'s ownerUser see and cancel it even outside its ownerGroup', async () => {
    setup = await startAll({ configExtra: preciseStatuses })
    const job = setup.world.scicat.insertJob({ type: 'globus_transfer_job', ownerGroup: 'p99999', ownerUser: 'alice' })
    const res = await request(setup, 'GET', `/transfer/${job.id}`, setup.world.tokens.alice)
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json()).toMatchObject({ jobId: job.id, status: 'transferring', sourceFacility: '', destFacility: '' })
    // and cancel it; someone neither its ownerUser nor in its group may not
    expectError(await request(setup, 'DELETE', `/transfer/${job.id}`, setup.world.tokens.bob), 403, 'PROXY_FORBIDDEN')
    const cancel = await request(setup, 'DELETE', `/transfer/${job.id}`, setup.world.tokens.alice)
    expect(cancel.statusCode, cancel.body).toBe(200)
    expect(setup.world.scicat.job(job.id)).toMatchObject({ statusCode: 'cancelled' })
  })

  it('refuses another group with 403, and answers 404 for an unknown id or a job of another type', async () => {
    setup = await startAll({ configExtra: preciseStatuses })
    const s = setup
    const { world } = s
    const jobId = await startTransfer(s)
    expectError(await request(s, 'GET', `/transfer/${jobId}`, world.tokens.bob), 403, 'PROXY_FORBIDDEN')
    expectError(await request(s, 'GET', '/transfer/no-such-job', world.tokens.alice), 404, 'PROXY_JOB_NOT_FOUND')
    const archive = world.scicat.insertJob({ type: 'archive', ownerGroup: 'p12345', ownerUser: 'alice' })
    expectError(await request(s, 'GET', `/transfer/${archive.id}`, world.tokens.alice), 404, 'PROXY_JOB_NOT_FOUND')
    expectError(await request(s, 'GET', `/transfer/${jobId}`, undefined), 401, 'PROXY_UNAUTHENTICATED')
    // an empty id would read SciCat's job list
    const reads = world.scicat.core.count('getJob')
    expectError(await request(s, 'GET', '/transfer/', world.tokens.alice), 400, 'PROXY_VALIDATION')
    expectError(await request(s, 'DELETE', '/transfer/?delete=true', world.tokens.alice), 400, 'PROXY_VALIDATION')
    expect(world.scicat.core.count('getJob')).toBe(reads)
  })
})

/** A request over a real connection with `path` sent as it is (inject and fetch resolve dot segments first). */
async function rawRequest (port: number, method: string, path: string, token: string): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return await new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers: { 'SciCat-API-Key': token } }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        body += chunk
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('the job ids . and ..', () => {
  it('are not found, for GET and DELETE, without any SciCat or Globus call', async () => {
    setup = await startAll({ configExtra: preciseStatuses })
    const s = setup
    const { world } = s
    await startTransfer(s)
    await s.proxy.app.listen({ port: 0, host: '127.0.0.1' })
    const { port } = s.proxy.app.server.address() as AddressInfo
    const counts = () => JSON.stringify([[...world.scicat.core.counts], [...world.globus.core.counts]])
    const scicatJobCalls = () => ['getJob', 'findJobs', 'updateJob', 'deleteJob'].map((op) => world.scicat.core.count(op))
    // the token is known: the identity cache answers without SciCat
    expect((await request(s, 'GET', '/facilities', world.tokens.alice)).statusCode).toBe(200)
    const before = counts()
    const jobCalls = scicatJobCalls()
    for (const id of ['%2E', '%2E%2E', '.%2E', '%2e%2e']) {
      for (const [method, query] of [['GET', ''], ['DELETE', ''], ['DELETE', '?delete=false'], ['DELETE', '?delete=true']] as const) {
        const res = await rawRequest(port, method, `/transfer/${id}${query}`, world.tokens.alice)
        expect(res.status, `${method} /transfer/${id}${query}: ${res.body}`).toBe(404)
        expect(res.headers['content-type']).toMatch(/^application\/json/)
        expect(JSON.parse(res.body)).toMatchObject({ code: 'PROXY_JOB_NOT_FOUND' })
      }
    }
    expect(scicatJobCalls()).toEqual(jobCalls)
    expect(counts()).toBe(before)

    // nor can any other caller of the SciCat client send one
    const { scicat } = s.proxy.deps
    for (const id of ['.', '..']) {
      const calls = [
        scicat.getJob(id),
        scicat.deleteJob(id),
        scicat.updateJob(id, { statusCode: 'x', statusMessage: 'x', jobResultObject: {} }),
        scicat.getDataset(id, world.tokens.alice),
        scicat.markArchivable(id),
      ]
      for (const call of calls) await expect(call).rejects.toMatchObject({ status: 404, notFound: true })
    }
    expect(counts()).toBe(before)
  })
})

describe('DELETE /transfer/{scicatJobId} refusals', () => {
  it('refuses another group (403), a job of another type (404) and an unknown id (404), changing nothing', async () => {
    setup = await startAll({ configExtra: preciseStatuses })
    const s = setup
    const { world } = s
    const jobId = await startTransfer(s)
    const taskId = (world.scicat.job(jobId)!.jobResultObject as { globusTaskId: string }).globusTaskId
    const archive = world.scicat.insertJob({ type: 'archive', ownerGroup: 'p12345', ownerUser: 'alice' })
    const before = [world.scicat.job(jobId), world.scicat.job(archive.id)]
    const updates = world.scicat.core.count('updateJob')

    for (const remove of ['', '?delete=false', '?delete=true']) {
      expectError(await request(s, 'DELETE', `/transfer/${jobId}${remove}`, world.tokens.bob), 403, 'PROXY_FORBIDDEN')
      // W8: any member of the owner group could delete any job of that group in the Go service
      expectError(await request(s, 'DELETE', `/transfer/${archive.id}${remove}`, world.tokens.alice), 404, 'PROXY_JOB_NOT_FOUND')
      expectError(await request(s, 'DELETE', `/transfer/no-such-job${remove}`, world.tokens.alice), 404, 'PROXY_JOB_NOT_FOUND')
      expectError(await request(s, 'DELETE', `/transfer/${jobId}${remove}`, undefined), 401, 'PROXY_UNAUTHENTICATED')
    }
    expectError(await request(s, 'DELETE', `/transfer/${jobId}?delete=maybe`, world.tokens.alice), 400, 'PROXY_VALIDATION')
    expectError(await request(s, 'DELETE', `/transfer/${jobId}?force=true`, world.tokens.alice), 400, 'PROXY_VALIDATION')

    expect(world.globus.core.count('cancel')).toBe(0)
    expect(world.scicat.core.count('deleteJob')).toBe(0)
    expect(world.scicat.core.count('updateJob')).toBe(updates)
    expect([world.scicat.job(jobId), world.scicat.job(archive.id)]).toEqual(before)
    expect(world.globus.task(taskId)!.status).toBe('ACTIVE')
    expect(s.proxy.app.tracker.transfers.has(jobId)).toBe(true)

    // the same request by a member of the job's group goes through
    const res = await request(s, 'DELETE', `/transfer/${jobId}`, world.tokens.carol)
    expect(res.statusCode, res.body).toBe(200)
    expect(world.globus.core.count('cancel')).toBe(1)
    expect(world.scicat.job(jobId)!.jobResultObject).toMatchObject({ status: 'cancelled' })
  })

  it('refuses to cancel an ended transfer with 409 and deletes it with delete=true', async () => {
    setup = await startAll({ configExtra: preciseStatuses })
    const { world } = setup
    const ended = world.scicat.insertJob({
      type: 'globus_transfer_job',
      ownerGroup: 'p12345',
      ownerUser: 'alice',
      statusCode: 'finished',
      jobResultObject: { globusTaskId: 'task-1', bytesTransferred: 1, filesTransferred: 1, filesTotal: 1, status: 'finished', error: '' },
    })
    const before = world.scicat.job(ended.id)
    expectError(await request(setup, 'DELETE', `/transfer/${ended.id}`, world.tokens.alice), 409, 'PROXY_JOB_ENDED')
    expect(world.scicat.job(ended.id)).toEqual(before)
    expect(world.globus.core.count('cancel')).toBe(0)
    const res = await request(setup, 'DELETE', `/transfer/${ended.id}?delete=true`, world.tokens.alice)
    expect(res.statusCode, res.body).toBe(200)
    expect(world.scicat.job(ended.id)).toBeUndefined()
    expect(world.globus.core.count('cancel')).toBe(0)
  })
})

describe('secrets never reach the log', () => {
  it('logs no user token, service password, client secret or Globus token at debug level', async () => {
    setup = await startAll({ configExtra: preciseStatuses })
    const s = setup
    const { world, proxy } = s
    const pid = world.datasets[0]!.pid
    world.scicat.addUser({ username: 'ghost', email: 'ghost@example.org', groups: ['p12345'], noIdentity: true })
    const ghost = world.scicat.issueToken('ghost')
    const forged = 'forged-token-that-is-still-a-secret'

    const jobId = await startTransfer(s)
    const bearer = await request(s, 'POST', `/transfer?${ingestorQuery(world.datasets[1]!.pid)}`, undefined, {
      authorization: `Bearer ${world.tokens.alice}`,
    })
    expect(bearer.statusCode).toBe(200)
    expect((await request(s, 'POST', `/transfer?${ingestorQuery(pid)}`, forged)).statusCode).toBe(401)
    expect((await request(s, 'GET', '/facilities', undefined, { authorization: `Bearer ${forged}` })).statusCode).toBe(401)
    expect((await request(s, 'GET', '/facilities', ghost)).statusCode).toBe(401)
    expect((await request(s, 'GET', `/transfer/${jobId}`, world.tokens.alice)).statusCode).toBe(200)
    expect((await request(s, 'GET', `/transfer/${jobId}`, world.tokens.bob)).statusCode).toBe(403)
    expect((await request(s, 'POST', `/transfer?${ingestorQuery(pid)}`, world.tokens.carol)).statusCode).toBe(403)
    // upstream failures are logged with their errors
    world.globus.core.inject('transfer', { status: 403, body: { code: 'PermissionDenied', message: 'no write access' } })
    expect((await request(s, 'POST', `/transfer?${ingestorQuery(world.datasets[2]!.pid)}`, world.tokens.alice)).statusCode).toBe(502)
    world.scicat.core.inject('createJob', { status: 503 })
    expect((await request(s, 'POST', `/transfer?${ingestorQuery(pid)}`, world.tokens.alice)).statusCode).toBe(502)
    // an expired Globus token: one 401, a new token, a retry
    const issued = world.globus.tokens().length
    world.globus.revokeTokens()
    await cyclesUntil(s, () => world.globus.tokens().length > issued, { stepMs: 250, max: 5 })
    expect((await request(s, 'DELETE', `/transfer/${jobId}`, world.tokens.alice)).statusCode).toBe(200)
    expect((await request(s, 'GET', '/ready', undefined)).statusCode).toBe(200)

    const secrets: Record<string, string> = {
      ...world.tokens,
      ghost,
      forged,
      servicePassword: 'sandbox-service-password',
      clientSecret: 'sandbox-secret',
      basicAuth: Buffer.from('sandbox-client:sandbox-secret').toString('base64'),
      serviceToken: await proxy.deps.scicatServiceToken.token(),
    }
    world.globus.tokens().forEach((t, i) => {
      secrets[`globus${i}`] = t.token
    })
    expect(world.globus.tokens().length).toBeGreaterThan(issued)
    const log = proxy.logs.join('')
    // the capture works (the harness logs at debug) and holds every request above, errors included
    expect(proxy.app.log.level).toBe('debug')
    expect(proxy.logs.length).toBeGreaterThan(20)
    expect(log).toContain('incoming request')
    expect(log).toContain('PROXY_UNAUTHENTICATED')
    expect(log).toContain('PermissionDenied')
    expect(log).toContain(jobId)
    for (const [name, secret] of Object.entries(secrets)) {
      expect(secret.length, name).toBeGreaterThan(8)
      expect(log.includes(secret), `${name} appears in the log`).toBe(false)
    }
  })
})

describe('the identity cache', () => {
  it('asks SciCat once per token within scicat.identityCacheSeconds, and again after', async () => {
    setup = await startAll({ configExtra: preciseStatuses }, 'scicat:\n  identityCacheSeconds: 5\n')
    const s = setup
    const { world, clock } = s
    const identity = () => world.scicat.core.count('identity')
    const facilities = (token: string) => request(s, 'GET', '/facilities', token)

    expect((await facilities(world.tokens.alice)).statusCode).toBe(200)
    expect((await facilities(world.tokens.alice)).statusCode).toBe(200)
    expect(identity()).toBe(1)
    // the other header carries the same token: the same entry
    expect((await request(s, 'GET', '/facilities', undefined, { authorization: `Bearer ${world.tokens.alice}` })).statusCode).toBe(200)
    expect(identity()).toBe(1)
    // another token is another entry
    expect((await facilities(world.tokens.bob)).statusCode).toBe(200)
    expect(identity()).toBe(2)

    clock.advance(4000)
    expect((await facilities(world.tokens.alice)).statusCode).toBe(200)
    expect(identity()).toBe(2)
    clock.advance(1500)
    expect((await facilities(world.tokens.alice)).statusCode).toBe(200)
    expect(identity()).toBe(3)
    expect((await facilities(world.tokens.alice)).statusCode).toBe(200)
    expect(identity()).toBe(3)
  })

  it('uses 30 seconds by default', async () => {
    setup = await startAll({ configExtra: preciseStatuses })
    const { world, clock } = setup
    const facilities = () => request(setup!, 'GET', '/facilities', world.tokens.carol)
    await facilities()
    clock.advance(29_000)
    await facilities()
    expect(world.scicat.core.count('identity')).toBe(1)
    clock.advance(2000)
    await facilities()
    expect(world.scicat.core.count('identity')).toBe(2)
  })

  it('makes one identity call for 20 concurrent first requests with the same token', async () => {
    setup = await startAll({ configExtra: preciseStatuses })
    const { world } = setup
    const token = world.scicat.issueToken('alice')
    const answers = await Promise.all(Array.from({ length: 20 }, () => request(setup!, 'GET', '/facilities', token)))
    expect(answers.map((r) => r.statusCode)).toEqual(Array(20).fill(200))
    expect(world.scicat.core.count('identity')).toBe(1)
  })
})
