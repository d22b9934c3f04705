// High availability of the built service: two instances on one Kubernetes Lease (simulated), failover by SIGKILL, SIGTERM and a Lease API outage.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { fencingMarginSeconds } from '../../src/config/ha.js'
import { LeaseSimulator, type LeaseWrite } from '../../src/sandbox/lease-sim/index.js'
import { startWorld, type World } from '../../src/sandbox/world.js'
import { allFinished, expectExactlyOnce, peakUnfinishedTasks } from '../helpers/exactly-once.js'
import { freePort, ServiceProcess, type SubmitItem, Submitter, waitUntil } from '../helpers/service-process.js'
import { yaml } from '../helpers/transfers.js'
import { type RecordedRequest, recordingProxy, Resources } from '../helpers/upstreams.js'

const durationSeconds = 3
const renewSeconds = 1
const maxActiveTasks = 4
const namespace = 'scicat'
const leaseName = 'scicat-globus-proxy'

const res = new Resources()
let world: World | undefined
let lease: LeaseSimulator | undefined
let submitter: Submitter | undefined
const instances: Instance[] = []
let dir: string | undefined
afterEach(async () => {
  await submitter?.close()
  for (const i of instances.splice(0)) await i.process?.kill('SIGKILL')
  await lease?.close()
  await res.close()
  await world?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
  submitter = undefined
  lease = undefined
  world = undefined
  dir = undefined
})

/** One instance: its own recording proxies in front of SciCat and Globus, so every call it makes is attributed to it. */
interface Instance {
  name: string
  port: number
  config: string
  env: Record<string, string>
  scicat: RecordedRequest[]
  globus: RecordedRequest[]
  process?: ServiceProcess
}

interface Setup {
  w: World
  sim: LeaseSimulator
  items: SubmitItem[]
  a: Instance
  b: Instance
}

async function setUp (n: number, prefix: string): Promise<Setup> {
  const w = await startWorld({
    datasets: 0,
    globus: { bytesPerSecond: 100_000, minTaskMs: 1500 },
    configExtra: yaml({
      task: { pollInterval: 0.2, discoveryInterval: 1, maxConcurrency: 20 },
      globus: { maxRequestsPerSecond: 1000, maxActiveTasks },
      ha: { lease: { kind: 'kubernetes', namespace, durationSeconds, renewSeconds } },
    }),
  })
  world = w
  const sim = new LeaseSimulator()
  lease = sim
  await sim.listen()
  const d = mkdtempSync(join(tmpdir(), 'sgp-ha-'))
  dir = d
  const kubeconfig = join(d, 'kubeconfig')
  writeFileSync(kubeconfig, sim.kubeconfig())
  const instance = async (name: string): Promise<Instance> => {
    const scicat = await recordingProxy(res, w.scicatUrl)
    const globus = await recordingProxy(res, w.globusUrl)
    const config = join(d, `${name}.yaml`)
    writeFileSync(config, w.configText.replace(`scicatUrl: ${w.scicatUrl}/`, `scicatUrl: ${scicat.url}/`))
    return {
      name,
      port: await freePort(),
      config,
      env: { ...w.env, GLOBUS_AUTH_URL: globus.url, GLOBUS_TRANSFER_URL: globus.url, KUBECONFIG: kubeconfig, HOSTNAME: name },
      scicat: scicat.requests,
      globus: globus.requests,
    }
  }
  const a = await instance('pod-a')
  const b = await instance('pod-b')
  instances.push(a, b)
  const items = Array.from({ length: n }, (_, i) => {
    const pid = `20.500.12345/${prefix}-${i + 1}`
    w.addDataset(pid, { 'data.bin': `${pid}\n`.repeat(100) })
    return { pid, key: `${prefix}-${i + 1}` }
  })
  return { w, sim, items, a, b }
}

async function start (i: Instance): Promise<void> {
  i.process = await ServiceProcess.start({ config: i.config, env: i.env, port: i.port, readyMs: 40_000 })
}

const holder = (sim: LeaseSimulator) => sim.lease(namespace, leaseName)?.spec.holderIdentity ?? ''

/** The port of the instance holding the lease: what a Kubernetes Service routing to the ready pod does. */
function activePort (s: Setup): number {
  const h = holder(s.sim)
  return h === s.b.name ? s.b.port : s.a.port
}

async function startBoth (s: Setup): Promise<void> {
  await start(s.a)
  await waitUntil('pod-a holds the lease', () => holder(s.sim) === 'pod-a', { timeoutMs: 10_000 })
  await start(s.b)
}

const isWrite = (r: RecordedRequest) =>
  (r.method === 'PATCH' || r.method === 'POST' || r.method === 'DELETE') && !r.url.startsWith('/api/v3/auth/login') && !r.url.startsWith('/v2/oauth2/token')

const writesOf = (i: Instance) => [...i.scicat, ...i.globus].filter(isWrite).map((r) => ({ ...r, by: i.name }))

const log = (s: Setup) => () => `--- pod-a ---\n${s.a.process?.log ?? ''}\n--- pod-b ---\n${s.b.process?.log ?? ''}`

/**
 * What must hold however the run went: every write came from the instance the lease named at
 * that moment, within durationSeconds of its last lease write (fencing); a standby called no
 * upstream at all, not even the service-account login; no job went backwards; never more unfinished tasks than
 * maxActiveTasks; every job finished, one Globus task and one archive job each.
 */
function expectInvariants (s: Setup, leaseWrites: LeaseWrite[]): void {
  for (const write of [...writesOf(s.a), ...writesOf(s.b)]) {
    const last = leaseWrites.filter((l) => l.at <= write.at).at(-1)
    const what = `${write.by} ${write.method} ${write.url} at ${write.at}`
    expect(last?.holderIdentity, `${what}: the lease was held by ${last?.holderIdentity ?? 'nobody'}`).toBe(write.by)
    expect(write.at - last!.at, `${what}: ${write.at - last!.at} ms after its last renewal`).toBeLessThan(durationSeconds * 1000)
  }
  for (const i of [s.a, s.b]) {
    const firstHeld = leaseWrites.find((l) => l.holderIdentity === i.name)?.at ?? Number.POSITIVE_INFINITY
    const asStandby = [...i.scicat, ...i.globus].filter((r) => r.at < firstHeld)
    expect(asStandby.map((r) => `${r.method} ${r.url}`), `${i.name} as standby`).toEqual([])
  }
  expectForwardOnly([...writesOf(s.a), ...writesOf(s.b)])
  expect(peakUnfinishedTasks(s.w)).toBeLessThanOrEqual(maxActiveTasks)
  expectExactlyOnce(s.w)
}

const stateOrder: Record<string, number> = { queued: 0, submitted: 1, transferring: 2, finished: 3, failed: 3, cancelled: 3 }

/** Per job, in the order they were sent: the state and the counts never go back. */
function expectForwardOnly (writes: Array<RecordedRequest & { by: string }>): void {
  const patches = writes.filter((r) => r.method === 'PATCH' && r.url.startsWith('/api/v4/jobs/')).sort((x, y) => x.at - y.at)
  const last = new Map<string, { order: number; bytes: number; files: number; by: string }>()
  for (const p of patches) {
    const body = JSON.parse(p.body) as { statusCode: string; jobResultObject: { bytesTransferred: number; filesTransferred: number } }
    const now = { order: stateOrder[body.statusCode] ?? -1, bytes: body.jobResultObject.bytesTransferred, files: body.jobResultObject.filesTransferred, by: p.by }
    const before = last.get(p.url)
    if (before) {
      const what = `${p.url}: ${before.by} then ${p.by} (${JSON.stringify(before)} → ${JSON.stringify(now)})`
      expect(now.order, what).toBeGreaterThanOrEqual(before.order)
      expect(now.bytes, what).toBeGreaterThanOrEqual(before.bytes)
      expect(now.files, what).toBeGreaterThanOrEqual(before.files)
    }
    last.set(p.url, now)
  }
  expect(patches.length).toBeGreaterThan(0)
}

function submit (s: Setup): { client: Submitter; running: Promise<void> } {
  const client = new Submitter({ port: () => activePort(s), token: s.w.tokens.alice, items: s.items, concurrency: 4, retry: true })
  submitter = client
  return { client, running: client.run() }
}

describe('two instances on one Lease', () => {
  it('only the active one writes; SIGKILL it and the standby takes over within durationSeconds + renewSeconds; every transfer finishes once', { timeout: 120_000 }, async () => {
    const s = await setUp(16, 'kill')
    await startBoth(s)
    const { client, running } = submit(s)
    await waitUntil('transfers running at Globus', () => client.accepted.size >= 6 && s.w.globus.tasks().some((t) => t.status === 'ACTIVE'), { timeoutMs: 30_000 })
    const killedAt = Date.now()
    await s.a.process!.kill('SIGKILL')
    await waitUntil('pod-b holds the lease', () => holder(s.sim) === 'pod-b', { timeoutMs: 15_000, intervalMs: 10 })
    const tookMs = Date.now() - killedAt
    console.info(`SIGKILL: pod-b took the lease ${tookMs} ms after the kill`)
    expect(tookMs).toBeLessThanOrEqual((durationSeconds + renewSeconds) * 1000)
    await running
    expect(client.refused).toEqual([])
    expect(client.accepted.size).toBe(s.items.length)
    await allFinished(s.w, client.accepted.values(), 60_000, log(s))
    expectInvariants(s, s.sim.writes())
    expect(writesOf(s.b).length).toBeGreaterThan(0)
  })

  it('SIGTERM on the active one: it flushes, releases the lease, and the standby takes over within renewSeconds + 1 s', { timeout: 120_000 }, async () => {
    const s = await setUp(12, 'term')
    await startBoth(s)
    const { client, running } = submit(s)
    await waitUntil('transfers running at Globus', () => client.accepted.size >= 6 && s.w.globus.tasks().some((t) => t.status === 'ACTIVE'), { timeoutMs: 30_000 })
    const sentAt = Date.now()
    s.a.process!.child.kill('SIGTERM')
    await waitUntil('pod-b holds the lease', () => holder(s.sim) === 'pod-b', { timeoutMs: 15_000, intervalMs: 10 })
    const tookMs = Date.now() - sentAt
    expect(await s.a.process!.exitWithin(10_000)).toEqual({ code: 0, signal: null })
    // released after the flush, as client-go's ReleaseOnCancel does: empty holder, duration 1
    const release = s.sim.writes().find((w) => w.holderIdentity === '')
    expect(release).toMatchObject({ leaseDurationSeconds: 1 })
    const takeover = s.sim.writes().find((w) => w.holderIdentity === 'pod-b')!
    expect(takeover.at).toBeGreaterThan(release!.at)
    console.info(`SIGTERM: released ${release!.at - sentAt} ms after the signal (in-flight requests, last cycle, flush), pod-b took it ${takeover.at - release!.at} ms later; ${tookMs} ms in all`)
    // the shutdown (requests and the cycle in flight, the flush of at most 5 s) within the 10 s the
    // service exits in (README "Shutdown and rolling updates"), then the handover within renewSeconds + 1 s
    expect(release!.at - sentAt).toBeLessThanOrEqual(10_000)
    expect(takeover.at - release!.at).toBeLessThanOrEqual(renewSeconds * 1000 + 1000)
    // nothing written after the release
    expect(writesOf(s.a).filter((w) => w.at > release!.at)).toEqual([])
    await running
    expect(client.accepted.size).toBe(s.items.length)
    await allFinished(s.w, client.accepted.values(), 60_000, log(s))
    expectInvariants(s, s.sim.writes())
  })

  it('the Lease API unreachable for longer than durationSeconds: the active stops writing before its lease could run out, and one instance is active again once it returns', { timeout: 120_000 }, async () => {
    const s = await setUp(12, 'outage')
    await startBoth(s)
    const { client, running } = submit(s)
    await waitUntil('transfers running at Globus', () => client.accepted.size >= 6 && s.w.globus.tasks().some((t) => t.status === 'ACTIVE'), { timeoutMs: 30_000 })
    s.sim.unreachable()
    const lastRenewal = s.sim.writes().at(-1)!.at
    const ready = async (i: Instance) => (await fetch(`http://127.0.0.1:${i.port}/ready`)).status
    await waitUntil('both instances standby', async () => (await ready(s.a)) === 503 && (await ready(s.b)) === 503, { timeoutMs: 10_000, intervalMs: 50 })
    // seen from outside (one poll late at most): standby before the lease could have run out
    expect(Date.now()).toBeLessThan(lastRenewal + durationSeconds * 1000)
    // longer than durationSeconds without the Lease API
    await waitUntil('the outage has lasted durationSeconds + 1 s', () => Date.now() > lastRenewal + (durationSeconds + 1) * 1000, { timeoutMs: 10_000 })
    // the bound the code keeps (src/ha/elector.ts fenceAt): no write once durationSeconds minus the
    // fencing margin have passed since the last renewal was sent (the simulator saw it a little later)
    const fence = lastRenewal + (durationSeconds - fencingMarginSeconds(durationSeconds)) * 1000
    const writesAfterFence = [...writesOf(s.a), ...writesOf(s.b)].filter((w) => w.at >= fence)
    expect(writesAfterFence.map((w) => `${w.by} ${w.method} ${w.url} ${w.at - fence} ms after the fence`)).toEqual([])
    s.sim.restore()
    await waitUntil('one instance active again', async () => [await ready(s.a), await ready(s.b)].filter((st) => st === 200).length === 1, { timeoutMs: 15_000, intervalMs: 50 })
    await running
    expect(client.accepted.size).toBe(s.items.length)
    await allFinished(s.w, client.accepted.values(), 60_000, log(s))
    expectInvariants(s, s.sim.writes())
  })
})
