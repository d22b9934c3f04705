// task.maxConcurrency and globus.maxRequestsPerSecond, measured where they matter: at the upstreams.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Agent, request } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import { ManualClock } from '../../src/sandbox/sim-core.js'
import { startWorld, type World } from '../../src/sandbox/world.js'
import { type Proxy, startProxy } from '../helpers/proxy.js'
import { addDatasets, jobOf, resultOf, startTransfer, yaml } from '../helpers/transfers.js'

interface Call {
  service: 'globus' | 'scicat'
  method: string
  path: string
  /** performance.now() when the request reached the meter, and when its answer was sent back. */
  start: number
  end: number
}

/**
 * Loopback proxies in front of both simulators that time every request. A request is in flight
 * at the meter only while it is in flight for the service: the meter's counts are lower bounds.
 */
interface Meter {
  globusUrl: string
  scicatUrl: string
  calls: Call[]
  /** Most requests in flight at once, both services together. */
  peak: number
  close(): Promise<void>
}

const hopByHop = new Set(['host', 'connection', 'keep-alive', 'transfer-encoding', 'content-length'])

async function startMeter (world: World): Promise<Meter> {
  const agent = new Agent({ connections: 256 })
  let inFlight = 0
  const meter: Meter = { globusUrl: '', scicatUrl: '', calls: [], peak: 0, close: async () => undefined }
  const servers = (['globus', 'scicat'] as const).map((service) => {
    const target = service === 'globus' ? world.globusUrl : world.scicatUrl
    return createServer((req, res) => {
      const start = performance.now()
      inFlight++
      meter.peak = Math.max(meter.peak, inFlight)
      let open = true
      const done = () => {
        if (open) inFlight--
        open = false
      }
      const forward = async () => {
        const chunks: Buffer[] = []
        for await (const chunk of req) chunks.push(chunk as Buffer)
        const body = Buffer.concat(chunks)
        const headers = Object.fromEntries(Object.entries(req.headers).filter(([name]) => !hopByHop.has(name)))
        const upstream = await request(`${target}${req.url ?? '/'}`, {
          dispatcher: agent,
          method: (req.method ?? 'GET') as 'GET',
          headers: headers as Record<string, string>,
          body: body.length > 0 ? body : undefined,
        })
        const payload = Buffer.from(await upstream.body.arrayBuffer())
        const outHeaders = Object.fromEntries(Object.entries(upstream.headers).filter(([name]) => !hopByHop.has(name)))
        done()
        meter.calls.push({ service, method: req.method ?? 'GET', path: req.url ?? '/', start, end: performance.now() })
        res.writeHead(upstream.statusCode, { ...outHeaders, 'content-length': String(payload.length) })
        res.end(payload)
      }
      forward().catch(() => {
        done()
        res.destroy()
      })
    })
  })
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))))
  const url = (i: number) => `http://127.0.0.1:${(servers[i]!.address() as AddressInfo).port}`
  meter.globusUrl = url(0)
  meter.scicatUrl = url(1)
  meter.close = async () => {
    await Promise.all(
      servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve())
            s.closeAllConnections()
          })
      )
    )
    await agent.close()
  }
  return meter
}

/** The app built against the world through `meter`: every upstream call passes it. */
function startMetered (world: World, meter: Meter, configExtra: string, clock: ManualClock): Promise<Proxy> {
  return startProxy(
    {
      ...world,
      configText: world.configText.replace(`scicatUrl: ${world.scicatUrl}/`, `scicatUrl: ${meter.scicatUrl}/`),
      env: { ...world.env, GLOBUS_AUTH_URL: meter.globusUrl, GLOBUS_TRANSFER_URL: meter.globusUrl },
    },
    configExtra,
    clock
  )
}

/** Most calls starting within any `windowMs`. */
function busiestWindow (calls: Call[], windowMs: number): number {
  const starts = calls.map((c) => c.start).sort((a, b) => a - b)
  let most = 0
  let first = 0
  for (let last = 0; last < starts.length; last++) {
    while (starts[last]! - starts[first]! >= windowMs) first++
    most = Math.max(most, last - first + 1)
  }
  return most
}

/**
 * Arrival times at the meter lag the moments the service starts its calls by a varying few
 * milliseconds (one event loop for the service, the simulators and the meter): windows this much
 * shorter than a second are checked against the rate.
 */
const jitterMs = 100

let world: World | undefined
let meter: Meter | undefined
const proxies: Proxy[] = []
afterEach(async () => {
  for (const p of proxies.splice(0)) await p.close()
  await meter?.close()
  await world?.close()
  meter = undefined
  world = undefined
})

async function setup (datasets: number, bytesPerSecond: number) {
  const clock = new ManualClock(Date.now())
  world = await startWorld({ datasets: 0, globus: { clock, bytesPerSecond }, scicat: { clock } })
  meter = await startMeter(world)
  const pids = addDatasets(world, datasets, 20_000)
  return { clock, world, meter, pids }
}

describe('upstream limits', () => {
  it('keeps at most task.maxConcurrency calls in flight through a burst of requests and tracker cycles, and reaches it', async () => {
    const maxConcurrency = 3
    const { clock, world, meter, pids } = await setup(80, 10_000)
    const proxy = await startMetered(
      world,
      meter,
      yaml({ task: { maxConcurrency }, globus: { maxActiveTasks: 40, maxRequestsPerSecond: 1000 } }),
      clock
    )
    proxies.push(proxy)
    // SciCat takes its time storing job updates: calls overlap
    world.scicat.core.inject('updateJob', { latencyMs: 5, times: 1_000_000 })

    const jobIds = await Promise.all(pids.map((pid) => startTransfer(proxy, world, pid, { query: { autoArchive: 'false' } })))
    expect(jobIds.filter((id) => jobOf(world, id).statusCode === 'queued')).toHaveLength(40)
    const requestCalls = meter.calls.length
    for (let i = 0; i < 4; i++) {
      clock.advance(i === 1 ? 10_000 : 1000)
      await proxy.app.tracker.runCycle()
    }
    // the first 40 finished, the rest were submitted: a PATCH storm in each cycle
    expect(jobIds.filter((id) => jobOf(world, id).statusCode === 'finished').length).toBeGreaterThanOrEqual(40)
    expect(meter.calls.length - requestCalls).toBeGreaterThan(200)
    expect(meter.peak).toBe(maxConcurrency)
  }, 30_000)

  it('keeps Globus calls within globus.maxRequestsPerSecond while SciCat job updates fill every in-flight slot', async () => {
    const maxRequestsPerSecond = 8
    const n = 40
    const { clock, world, meter, pids } = await setup(n, 100)
    // the transfers are started by an earlier process without limits that matter here
    const starter = await startProxy(world, yaml({ globus: { maxActiveTasks: 1000, maxRequestsPerSecond: 1000 } }), clock)
    let jobIds: string[]
    try {
      jobIds = await Promise.all(pids.map((pid) => startTransfer(starter, world, pid, { query: { autoArchive: 'false' } })))
    } finally {
      await starter.close()
    }

    const proxy = await startMetered(
      world,
      meter,
      yaml({ task: { maxConcurrency: 2, failFastAfterSeconds: 30 }, globus: { maxActiveTasks: 1000, maxRequestsPerSecond } }),
      clock
    )
    proxies.push(proxy)
    // every other task is denied access at the source: past 30 s the service cancels it at Globus
    const taskIds = jobIds.map((id) => resultOf(world, id).globusTaskId)
    taskIds.forEach((taskId, i) => {
      if (i % 2 === 1) world.globus.setNiceStatus(taskId, 'PERMISSION_DENIED')
    })
    clock.advance(1000)
    await proxy.app.tracker.runCycle()
    expect(jobIds.every((id) => proxy.app.tracker.transfers.has(id))).toBe(true)

    // the others fail at Globus: in one cycle, a PATCH for each failed job and a Globus cancel
    // for each denied one, side by side. SciCat is slow to store the updates, so the PATCHes hold
    // both in-flight slots for seconds: cancels let through by the rate before they got a slot
    // would then start back to back.
    taskIds.forEach((taskId, i) => {
      if (i % 2 === 0) world.globus.failTask(taskId, { code: 'ENDPOINT_ERROR', description: 'gone' })
    })
    world.scicat.core.inject('updateJob', { latencyMs: 150, times: 1_000_000 })
    meter.calls.length = 0
    clock.advance(31_000)
    await proxy.app.tracker.runCycle()
    expect(world.globus.core.count('cancel')).toBe(n / 2)
    for (const id of jobIds) expect(jobOf(world, id).statusCode).toBe('failed')

    const globus = meter.calls.filter((c) => c.service === 'globus')
    expect(globus.filter((c) => c.path.includes('/cancel'))).toHaveLength(n / 2)
    const windows = { strict: busiestWindow(globus, 1000 - jitterMs), loose: busiestWindow(globus, 1000 + jitterMs) }
    expect(windows.strict, `Globus calls in the busiest ${1000 - jitterMs} ms`).toBeLessThanOrEqual(maxRequestsPerSecond)
    // the rate limited the cancels: it was reached
    expect(windows.loose).toBeGreaterThanOrEqual(maxRequestsPerSecond)
    expect(meter.peak).toBe(2)
  }, 30_000)

  it('spaces Globus calls 1/rate seconds apart for a rate below 1 per second', async () => {
    const { clock, world, meter } = await setup(0, 100)
    const proxy = await startMetered(world, meter, yaml({ globus: { maxRequestsPerSecond: 0.8 } }), clock)
    proxies.push(proxy)
    // the token request and two submission ids: three Globus calls, 1.25 s apart
    await Promise.all([proxy.deps.globus.getSubmissionId(), proxy.deps.globus.getSubmissionId()])
    const starts = meter.calls.filter((c) => c.service === 'globus').map((c) => c.start)
    expect(starts).toHaveLength(3)
    expect(starts[1]! - starts[0]!).toBeGreaterThanOrEqual(1250 - jitterMs)
    expect(starts[2]! - starts[1]!).toBeGreaterThanOrEqual(1250 - jitterMs)
  })
})
