// Large fileLists: stored compactly in jobParams, re-submitted from there after a restart, refused when they cannot fit in a job.
import { randomBytes } from 'node:crypto'
import { gunzipSync } from 'node:zlib'
import { afterEach, describe, expect, it } from 'vitest'
import { maxStoredFileListBytes, plainFileListBytes } from '../../src/transfers/file-list-store.js'
import { ingestorQuery, type Proxy, type Setup, startAll, startProxy } from '../helpers/proxy.js'
import { cyclesUntil } from '../helpers/proxy.js'
import { jobOf, submissionIdOf, tasksForSubmission, yaml } from '../helpers/transfers.js'

let setup: Setup | undefined
let restarted: Proxy | undefined
afterEach(async () => {
  await restarted?.close()
  await setup?.close()
  restarted = undefined
  setup = undefined
})

const extra = yaml({ globus: { maxRequestsPerSecond: 1000 }, server: { errorStatuses: 'http' } })

/** `n` files in 100 folders, as an instrument writes them. */
function files (n: number) {
  return Array.from({ length: n }, (_, i) => ({ path: `raw/run-${i % 100}/image-${String(i).padStart(7, '0')}.tiff`, isSymlink: i % 1000 === 999 }))
}

function post (proxy: Proxy, token: string, pid: string, payload: string) {
  return proxy.app.inject({
    method: 'POST',
    url: `/transfer?${ingestorQuery(pid)}`,
    headers: { 'SciCat-API-Key': token, 'content-type': 'application/json' },
    payload,
  })
}

const decode = (base64: string): unknown => JSON.parse(gunzipSync(Buffer.from(base64, 'base64')).toString('utf8'))

// 20,000 entries and a 20 MB body: slower than the other integration tests on a busy machine
describe('large fileLists', { timeout: 120_000 }, () => {
  it('a list longer than the plain limit is stored gzip+base64 in jobParams, and Globus gets one item per entry', async () => {
    setup = await startAll({}, extra)
    const { world, proxy } = setup
    const list = files(20_000)
    expect(JSON.stringify(list).length).toBeGreaterThan(plainFileListBytes)
    const res = await post(proxy, world.tokens.alice, world.datasets[0]!.pid, JSON.stringify({ fileList: list }))
    expect(res.statusCode, res.body).toBe(200)
    const job = jobOf(world, res.json().jobId)
    const params = job.jobParams as Record<string, unknown>
    expect(params.fileList).toBeUndefined()
    expect(params.fileListEntries).toBe(20_000)
    expect(decode(params.fileListGzip as string)).toEqual(list)
    // far below what a SciCat job may hold
    expect(JSON.stringify(params).length).toBeLessThan(1024 * 1024)
    const sent = world.globus.submission(job.jobResultObject.globusTaskId as string)!
    // every 1000th entry is a symlink, left out (globus.symlinks: skip)
    expect(sent.DATA).toHaveLength(20_000 - 20)
    expect(sent.DATA[0]).toMatchObject({ source_path: '/data/p12345/sandbox-1/raw/run-0/image-0000000.tiff' })
  })

  it('a short list stays plain in jobParams.fileList', async () => {
    setup = await startAll({}, extra)
    const { world, proxy } = setup
    const list = files(10)
    const res = await post(proxy, world.tokens.alice, world.datasets[0]!.pid, JSON.stringify({ fileList: list }))
    expect(res.statusCode, res.body).toBe(200)
    const params = jobOf(world, res.json().jobId).jobParams as Record<string, unknown>
    expect(params.fileList).toEqual(list)
    expect(params.fileListGzip).toBeUndefined()
  })

  it('a compactly stored list is re-submitted from the job after a restart, exactly once and whole', async () => {
    setup = await startAll({}, extra)
    const { world, proxy } = setup
    // every try of the submission is lost: the job stays queued with only its jobParams
    world.globus.core.inject('transfer', { networkError: true, times: 6 })
    const list = files(20_000)
    const res = await post(proxy, world.tokens.alice, world.datasets[0]!.pid, JSON.stringify({ fileList: list }))
    expect(res.statusCode, res.body).toBe(200)
    const jobId = res.json().jobId as string
    expect(jobOf(world, jobId)).toMatchObject({ statusCode: 'queued' })
    expect(world.globus.tasks()).toHaveLength(0)

    await proxy.close()
    restarted = await startProxy(world, extra, setup.clock)
    const again = { clock: setup.clock, proxy: restarted }
    await cyclesUntil(again, () => jobOf(world, jobId).statusCode !== 'queued', { stepMs: 500 })
    const tasks = tasksForSubmission(world, submissionIdOf(world, jobId))
    expect(tasks).toHaveLength(1)
    const sent = world.globus.submission(tasks[0]!.task_id)!
    expect(sent.DATA).toHaveLength(20_000 - 20)
    expect(sent.DATA.map((item) => item.source_path)).toEqual(
      list.filter((f) => !f.isSymlink).map((f) => `/data/p12345/sandbox-1/${f.path}`)
    )
  })

  it('a list that does not fit in one SciCat job even compressed is refused with 413 before anything is created', async () => {
    setup = await startAll({}, extra)
    const { world, proxy } = setup
    // 5,000 random 4,000-character names: about 20 MB that gzip cannot shrink below the limit
    const list = Array.from({ length: 5000 }, () => ({ path: randomBytes(3000).toString('base64url'), isSymlink: false }))
    const res = await post(proxy, world.tokens.alice, world.datasets[0]!.pid, JSON.stringify({ fileList: list }))
    expect(res.statusCode, res.body).toBe(413)
    const body = res.json() as { code: string; message: string; details: string }
    expect(body.code).toBe('PROXY_FILELIST_TOO_LARGE')
    expect(body.message).toBe('the fileList is too large to be stored in one SciCat job')
    expect(body.details).toContain('5000 entries')
    expect(body.details).toContain(`the limit is ${(maxStoredFileListBytes / 1024 / 1024).toFixed(1)} MiB`)
    expect(world.globus.core.count('submission_id')).toBe(0)
    expect(world.scicat.core.count('createJob')).toBe(0)
    expect(world.globus.tasks()).toHaveLength(0)
  })
})
