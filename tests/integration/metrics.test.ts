// GET /metrics: every metric the service exports moves when what it counts happens, and only then.
import { afterEach, describe, expect, it } from 'vitest'
import { type Setup, startAll } from '../helpers/proxy.js'
import { cancelTransfer, jobOf, resultOf, startTransfer, yaml } from '../helpers/transfers.js'

const prefix = 'scicat_globus_proxy_'
const names = {
  submitted: `${prefix}transfers_submitted_total`,
  ended: `${prefix}transfers_ended_total`,
  tracked: `${prefix}transfers_tracked`,
  cycles: `${prefix}tracker_cycle_duration_seconds_count`,
  cycleSeconds: `${prefix}tracker_cycle_duration_seconds_sum`,
  updates: `${prefix}job_updates_total`,
}

/** One scrape of GET /metrics: the value of a sample, by name and exact label set. */
interface Scrape {
  (name: string, labels?: Record<string, string>): number
  body: string
}

let setup: Setup | undefined
afterEach(async () => {
  await setup?.close()
  setup = undefined
})

async function scrape (s: Setup): Promise<Scrape> {
  const res = await s.proxy.app.inject({ method: 'GET', url: '/metrics' })
  expect(res.statusCode).toBe(200)
  expect(res.headers['content-type']).toMatch(/^text\/plain/)
  const samples = new Map<string, number>()
  for (const line of res.body.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!m) continue
    const labels = [...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, k, v]) => `${k}=${v}`).sort()
    samples.set(`${m[1]}|${labels.join(',')}`, Number(m[3]))
  }
  const value = (name: string, labels: Record<string, string> = {}): number => {
    const key = `${name}|${Object.entries(labels).map(([k, v]) => `${k}=${v}`).sort().join(',')}`
    const v = samples.get(key)
    if (v === undefined) throw new Error(`no sample ${key} in /metrics:\n${res.body}`)
    return v
  }
  return Object.assign(value, { body: res.body })
}

const ended = (m: Scrape) => ({
  finished: m(names.ended, { status: 'finished' }),
  failed: m(names.ended, { status: 'failed' }),
  cancelled: m(names.ended, { status: 'cancelled' }),
})
const tracked = (m: Scrape) =>
  Object.fromEntries(['queued', 'submitting', 'active', 'finishing', 'closing'].map((state) => [state, m(names.tracked, { state })]))
const updates = (m: Scrape) => ({ sent: m(names.updates, { result: 'sent' }), failed: m(names.updates, { result: 'failed' }) })

async function cycle (s: Setup, ms = 1000): Promise<void> {
  s.clock.advance(ms)
  await s.proxy.app.tracker.runCycle()
}

/** Slow transfers (10 kB/s: the seeded datasets take minutes) on the clock; two Globus slots. */
async function start (): Promise<Setup> {
  setup = await startAll({ globus: { bytesPerSecond: 10_000 } }, yaml({ globus: { maxActiveTasks: 2, maxRequestsPerSecond: 1000 } }))
  return setup
}

describe('GET /metrics', () => {
  it('exports every metric of the service, with the counters by label already at 0', async () => {
    const s = await start()
    const m = await scrape(s)
    for (const name of ['transfers_submitted_total', 'transfers_ended_total', 'job_updates_total', 'upstream_requests_total']) {
      expect(m.body).toContain(`# TYPE ${prefix}${name} counter`)
    }
    expect(m.body).toContain(`# TYPE ${names.tracked} gauge`)
    expect(m.body).toContain(`# TYPE ${prefix}tracker_cycle_duration_seconds histogram`)
    expect(m.body).toContain(`# TYPE ${prefix}upstream_request_duration_seconds histogram`)
    expect(m(names.submitted)).toBe(0)
    expect(ended(m)).toEqual({ finished: 0, failed: 0, cancelled: 0 })
    expect(updates(m)).toEqual({ sent: 0, failed: 0 })
    expect(m(names.cycles)).toBe(0)
  })

  it('counts submissions, cycles, transfers by state, job updates sent, and finished transfers', async () => {
    const s = await start()
    const { world, proxy } = s
    const [a, b, c] = world.datasets.map((d) => d.pid)

    const first = await startTransfer(proxy, world, a!)
    let m = await scrape(s)
    expect(m(names.submitted)).toBe(1)
    // the job shows "submitted": one PATCH
    expect(updates(m)).toEqual({ sent: 1, failed: 0 })

    await startTransfer(proxy, world, b!)
    // beyond globus.maxActiveTasks: queued, not submitted (its job shows "queued": one PATCH)
    const third = await startTransfer(proxy, world, c!)
    expect(jobOf(world, third).statusCode).toBe('queued')
    m = await scrape(s)
    expect(m(names.submitted)).toBe(2)
    expect(updates(m)).toEqual({ sent: 3, failed: 0 })

    await cycle(s)
    m = await scrape(s)
    expect(m(names.cycles)).toBe(1)
    expect(m(names.cycleSeconds)).toBeGreaterThan(0)
    expect(tracked(m)).toEqual({ queued: 1, submitting: 0, active: 2, finishing: 0, closing: 0 })
    // progress of both running transfers
    expect(updates(m).sent).toBe(5)
    expect(m(names.submitted)).toBe(2)
    expect(ended(m)).toEqual({ finished: 0, failed: 0, cancelled: 0 })

    await cycle(s)
    m = await scrape(s)
    expect(m(names.cycles)).toBe(2)
    expect(updates(m).sent).toBe(7)

    // Globus is done with the first two: they finish, the third takes a slot
    s.clock.advance(300_000)
    expect(world.globus.isFinished(resultOf(world, first).globusTaskId)).toBe(true)
    await cycle(s)
    expect(jobOf(world, first).statusCode).toBe('finished')
    m = await scrape(s)
    expect(m(names.cycles)).toBe(3)
    expect(ended(m)).toEqual({ finished: 2, failed: 0, cancelled: 0 })
    expect(m(names.submitted)).toBe(3)
    expect(tracked(m)).toEqual({ queued: 0, submitting: 0, active: 1, finishing: 0, closing: 0 })
    // two final PATCHes, and the third job's "submitted"
    expect(updates(m)).toEqual({ sent: 10, failed: 0 })

    await cycle(s, 600_000)
    m = await scrape(s)
    expect(m(names.cycles)).toBe(4)
    expect(ended(m)).toEqual({ finished: 3, failed: 0, cancelled: 0 })
    expect(tracked(m)).toEqual({ queued: 0, submitting: 0, active: 0, finishing: 0, closing: 0 })
    expect(updates(m)).toEqual({ sent: 11, failed: 0 })
  })

  it('counts cancelled transfers, running and queued', async () => {
    const s = await start()
    const { world, proxy } = s
    const jobIds = []
    for (const d of world.datasets) jobIds.push(await startTransfer(proxy, world, d.pid))
    await cycle(s)
    expect(tracked(await scrape(s))).toMatchObject({ queued: 1, active: 2 })

    expect((await cancelTransfer(proxy, world, jobIds[0]!)).statusCode).toBe(200)
    let m = await scrape(s)
    expect(ended(m)).toEqual({ finished: 0, failed: 0, cancelled: 1 })
    expect((await cancelTransfer(proxy, world, jobIds[2]!)).statusCode).toBe(200)
    m = await scrape(s)
    expect(ended(m)).toEqual({ finished: 0, failed: 0, cancelled: 2 })

    await cycle(s)
    m = await scrape(s)
    expect(tracked(m)).toMatchObject({ queued: 0, active: 1 })
    expect(ended(m).cancelled).toBe(2)
  })

  it('counts failed transfers and failed job updates; a transfer whose last update failed is tracked as closing', async () => {
    const s = await start()
    const { world, proxy } = s
    const jobId = await startTransfer(proxy, world, world.datasets[0]!.pid)
    await cycle(s)
    let m = await scrape(s)
    const before = updates(m)
    expect(before).toEqual({ sent: 2, failed: 0 })

    // Globus fails the task, and SciCat refuses the PATCH saying so through all its retries
    world.globus.failTask(resultOf(world, jobId).globusTaskId, { code: 'ENDPOINT_ERROR', description: 'unreachable' })
    world.scicat.core.inject('updateJob', { status: 500, times: 6 })
    await cycle(s)
    expect(world.scicat.core.count('updateJob')).toBe(before.sent + 6)
    expect(jobOf(world, jobId).statusCode).not.toBe('failed')
    m = await scrape(s)
    expect(updates(m)).toEqual({ sent: 2, failed: 1 })
    expect(ended(m)).toEqual({ finished: 0, failed: 0, cancelled: 0 })
    expect(tracked(m)).toEqual({ queued: 0, submitting: 0, active: 0, finishing: 0, closing: 1 })

    // the next cycle sends it again: now it lands
    await cycle(s)
    expect(jobOf(world, jobId).statusCode).toBe('failed')
    m = await scrape(s)
    expect(updates(m)).toEqual({ sent: 3, failed: 1 })
    expect(ended(m)).toEqual({ finished: 0, failed: 1, cancelled: 0 })
    expect(tracked(m)).toEqual({ queued: 0, submitting: 0, active: 0, finishing: 0, closing: 0 })
  })

  it('counts and times every upstream attempt by service, operation and status ("error" without an answer)', async () => {
    const s = await start()
    const { world, proxy } = s
    const requests = (m: Scrape, service: string, operation: string, status: string) =>
      m(`${prefix}upstream_requests_total`, { service, operation, status })
    const timed = (m: Scrape, service: string, operation: string) =>
      m(`${prefix}upstream_request_duration_seconds_count`, { service, operation })

    const jobId = await startTransfer(proxy, world, world.datasets[0]!.pid)
    let m = await scrape(s)
    expect(requests(m, 'globus', 'transfer', '202')).toBe(1)
    expect(timed(m, 'globus', 'transfer')).toBe(1)
    expect(requests(m, 'scicat', 'createJob', '201')).toBe(1)
    expect(requests(m, 'scicat', 'updateJob', '200')).toBe(1)
    expect(timed(m, 'scicat', 'updateJob')).toBe(1)

    // a cycle: one task_list lost on the way, then answered; a PATCH refused once, then stored
    world.globus.core.inject('task_list', { networkError: true })
    world.scicat.core.inject('updateJob', { status: 503 })
    await cycle(s)
    expect(resultOf(world, jobId).bytesTransferred).toBeGreaterThan(0)
    m = await scrape(s)
    expect(requests(m, 'globus', 'task_list', 'error')).toBe(1)
    expect(requests(m, 'globus', 'task_list', '200')).toBe(1)
    expect(timed(m, 'globus', 'task_list')).toBe(2)
    expect(requests(m, 'scicat', 'updateJob', '503')).toBe(1)
    expect(requests(m, 'scicat', 'updateJob', '200')).toBe(2)
    expect(timed(m, 'scicat', 'updateJob')).toBe(3)
    expect(m(`${prefix}upstream_request_duration_seconds_sum`, { service: 'scicat', operation: 'updateJob' })).toBeGreaterThan(0)
  })

  it('tracks a transfer whose post-transfer step failed as finishing until it is done', async () => {
    const s = await start()
    const { world, proxy } = s
    const jobId = await startTransfer(proxy, world, world.datasets[0]!.pid)
    s.clock.advance(300_000)
    world.scicat.core.inject('patchLifecycle', { status: 503, times: 6 })
    await cycle(s)
    let m = await scrape(s)
    expect(tracked(m)).toEqual({ queued: 0, submitting: 0, active: 0, finishing: 1, closing: 0 })
    expect(ended(m).finished).toBe(0)
    await cycle(s)
    expect(jobOf(world, jobId).statusCode).toBe('finished')
    m = await scrape(s)
    expect(tracked(m)).toEqual({ queued: 0, submitting: 0, active: 0, finishing: 0, closing: 0 })
    expect(ended(m).finished).toBe(1)
  })
})
