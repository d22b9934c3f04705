// Two deployments (different Globus clients, each with its own Globus) sharing one SciCat, as built `serve` processes.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import { GlobusSimulator } from '../../src/sandbox/globus-sim/index.js'
import type { Job } from '../../src/sandbox/scicat-sim/index.js'
import { sandboxCollections, startWorld, type World } from '../../src/sandbox/world.js'
import { freePort, ServiceProcess, type SubmitItem, Submitter, waitUntil, writeConfig } from '../helpers/service-process.js'
import { yaml } from '../helpers/transfers.js'
import { type RecordedRequest, recordingProxy, Resources } from '../helpers/upstreams.js'

const res = new Resources()
const services: ServiceProcess[] = []
const submitters: Submitter[] = []
let world: World | undefined
const dirs: string[] = []
afterEach(async () => {
  for (const s of submitters.splice(0)) await s.close()
  for (const s of services.splice(0)) await s.kill('SIGKILL')
  await res.close()
  await world?.close()
  world = undefined
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

const jobType = 'globus_transfer_job'
const perDeployment = 10

interface Deployment {
  name: string
  clientId: string
  globus: GlobusSimulator
  service: ServiceProcess
  /** What this deployment sent to SciCat. */
  scicatRequests: RecordedRequest[]
  submitter: Submitter
}

/** A `serve` process with its own Globus client and simulator, reaching the shared SciCat through a recording proxy. */
async function deployment (
  w: World,
  name: string,
  globus: { sim: GlobusSimulator; url: string; clientId: string; clientSecret: string },
  items: SubmitItem[]
): Promise<Deployment> {
  const scicat = await recordingProxy(res, w.scicatUrl)
  const dir = mkdtempSync(join(tmpdir(), `sgp-${name}-`))
  dirs.push(dir)
  const config = writeConfig(dir, w.configText.replace(`scicatUrl: ${w.scicatUrl}/`, `scicatUrl: ${scicat.url}/`))
  const port = await freePort()
  const env = {
    ...w.env,
    GLOBUS_CLIENT_ID: globus.clientId,
    GLOBUS_CLIENT_SECRET: globus.clientSecret,
    GLOBUS_AUTH_URL: globus.url,
    GLOBUS_TRANSFER_URL: globus.url,
  }
  // a machine under load can take long to start a process (the Kubernetes client alone takes seconds to import)
  const service = await ServiceProcess.start({ config, env, port, readyMs: 60_000 })
  services.push(service)
  const submitter = new Submitter({ port: () => port, token: w.tokens.alice, items, concurrency: 4, retry: false })
  submitters.push(submitter)
  return { name, clientId: globus.clientId, globus: globus.sim, service, scicatRequests: scicat.requests, submitter }
}

const transferJobs = (w: World): Job[] => w.scicat.jobs().filter((j) => j.type === jobType)
const statusOf = (j: Job | undefined): unknown => (j?.jobResultObject as { status?: unknown } | undefined)?.status

/** The job ids this deployment's requests to SciCat changed (PATCH, DELETE) and the transfers it made archive jobs for. */
function touched (d: Deployment): { changed: Set<string>; archivedFor: Set<string> } {
  const changed = new Set<string>()
  const archivedFor = new Set<string>()
  for (const r of d.scicatRequests) {
    const path = r.url.split('?')[0]!
    const m = /^\/api\/v4\/jobs\/([^/]+)$/.exec(path)
    if (m && (r.method === 'PATCH' || r.method === 'DELETE')) changed.add(decodeURIComponent(m[1]!))
    if (r.method === 'POST' && path === '/api/v4/jobs') {
      const body = JSON.parse(r.body) as { type: string; jobParams: { transferJobId?: string } }
      if (body.type === 'archive') archivedFor.add(body.jobParams.transferJobId!)
    }
  }
  return { changed, archivedFor }
}

async function deleteTransfer (d: Deployment, w: World, jobId: string, remove: boolean) {
  const r = await request(`http://127.0.0.1:${d.service.port}/transfer/${encodeURIComponent(jobId)}${remove ? '?delete=true' : ''}`, {
    method: 'DELETE',
    headers: { 'scicat-api-key': w.tokens.alice },
  })
  return { status: r.statusCode, body: (await r.body.json()) as Record<string, unknown> }
}

describe('two deployments on one SciCat', () => {
  it('each finishes its own transfers and touches none of the other\'s; DELETE through the wrong one answers PROXY_OTHER_DEPLOYMENT and changes nothing', { timeout: 240_000 }, async () => {
    const w = await startWorld({
      datasets: 0,
      globus: { bytesPerSecond: 100_000, minTaskMs: 1500 },
      configExtra: yaml({
        task: { pollInterval: 0.2, discoveryInterval: 0.5 },
        globus: { maxRequestsPerSecond: 1000, maxActiveTasks: 4 },
      }),
    })
    world = w
    // the second Globus: the same collections (folders), its own client and tasks
    const staging = new GlobusSimulator({
      clients: { 'staging-client': 'staging-client-secret' },
      collections: {
        [sandboxCollections.source]: { root: join(w.dir, 'facility-psi') },
        [sandboxCollections.destination]: { root: join(w.dir, 'facility-cscs') },
      },
      bytesPerSecond: 100_000,
      minTaskMs: 1500,
    })
    const { url: stagingUrl } = await staging.listen()
    res.defer(() => staging.close())
    const items = (prefix: string) =>
      Array.from({ length: perDeployment }, (_, i) => {
        const pid = `20.500.12345/${prefix}-${i + 1}`
        w.addDataset(pid, { 'data.bin': `${pid}\n`.repeat(2000) })
        return { pid, key: `${prefix}-${i + 1}` }
      })
    const prod = await deployment(w, 'prod', { sim: w.globus, url: w.globusUrl, ...w.credentials.globus }, items('prod'))
    const stag = await deployment(w, 'staging', { sim: staging, url: stagingUrl, clientId: 'staging-client', clientSecret: 'staging-client-secret' }, items('staging'))

    await Promise.all([prod.submitter.run(), stag.submitter.run()])
    for (const d of [prod, stag]) {
      expect(d.submitter.refused, d.name).toEqual([])
      expect(d.submitter.accepted.size, d.name).toBe(perDeployment)
    }
    const own = (d: Deployment) => new Set(d.submitter.accepted.values())

    // DELETE of a running prod transfer through staging: refused (409 → 400 under the default
    // server.errorStatuses: go, for the Ingestor), nothing cancelled anywhere
    const [victim] = own(prod)
    for (const remove of [false, true]) {
      const answer = await deleteTransfer(stag, w, victim!, remove)
      expect(answer.status).toBe(400)
      expect(answer.body).toMatchObject({ code: 'PROXY_OTHER_DEPLOYMENT', globusClientId: prod.clientId })
      expect(String(answer.body.message)).toContain(prod.clientId)
    }
    expect(w.scicat.job(victim!)).toBeDefined()

    await waitUntil('every transfer job finished', () => transferJobs(w).every((j) => statusOf(j) === 'finished'), { timeoutMs: 60_000, intervalMs: 100 }).catch((err: unknown) => {
      const open = transferJobs(w).filter((j) => statusOf(j) !== 'finished').slice(0, 3)
      throw new Error(`${(err as Error).message}: e.g. ${JSON.stringify(open)}\n--- prod ---\n${prod.service.log}\n--- staging ---\n${stag.service.log}`)
    })
    expect(transferJobs(w)).toHaveLength(2 * perDeployment)

    const archives = w.scicat.jobs().filter((j) => j.type === 'archive')
    expect(archives).toHaveLength(2 * perDeployment)
    for (const d of [prod, stag]) {
      const mine = own(d)
      // its jobs record its client id, and its Globus ran exactly its jobs, each once
      for (const id of mine) expect(w.scicat.job(id)!.jobParams.globusClientId).toBe(d.clientId)
      const labels = d.globus.tasks().map((t) => t.label)
      expect(labels.sort()).toEqual([...mine].map((id) => `SciCat job ${id}`).sort())
      expect(d.globus.core.count('cancel'), d.name).toBe(0)
      // it changed only its own jobs in SciCat, and made archive jobs only for them, one each
      const { changed, archivedFor } = touched(d)
      expect([...changed].filter((id) => !mine.has(id)), `${d.name} changed another deployment's jobs`).toEqual([])
      expect(changed).toEqual(mine)
      expect(archivedFor).toEqual(mine)
      for (const id of mine) expect(archives.filter((a) => a.jobParams.transferJobId === id)).toHaveLength(1)
    }
  })
})
