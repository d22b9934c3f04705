// Benchmark "fair-order": choosing the next jobs and every queued job's place, at 1,000 and 10,000 queued jobs of 100 owners.
import { fileURLToPath } from 'node:url'
import { type FairPolicy, fairOrder, type OwnedTransfer, type QueuedJob } from '../src/transfers/fair-order.js'
import { arg, report, runCase } from './lib/case-runner.js'
import { median, printTargets, round, table, target, type Target, writeResult } from './lib/report.js'

const SIZES = [1_000, 10_000] as const
const OWNERS = 100
const FACILITIES = ['PSI', 'CSCS', 'ESRF', 'DESY']
/** globus.maxActiveTasks (the default): the submitted tasks, and how many of them end per cycle. */
const ACTIVE = 100
const FREE_PER_CYCLE = 10
const WARMUP = 20
const ROUNDS = 100

export interface FairOrderCase {
  n: number
  owners: number
  rounds: number
  /** Wall time of one cycle's work: the fair order, the jobs for the free slots, every job's place. */
  medianMs: number
  p90Ms: number
  minMs: number
  cpuMsPerCycle: number
  /** Checks that the work was done: jobs chosen per cycle, and jobs held by a limit. */
  chosen: number
  held: number
}

/** A seeded generator, so both sizes see the same kind of queue. */
function mulberry32 (seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function workload (n: number) {
  const random = mulberry32(n)
  const someone = (): OwnedTransfer => {
    const u = Math.floor(random() * OWNERS)
    const source = FACILITIES[Math.floor(random() * FACILITIES.length)]!
    const dest = FACILITIES[Math.floor(random() * FACILITIES.length)]!
    return { ownerUser: `user-${u}`, ownerGroup: `group-${u % 10}`, sourceFacility: source, destFacility: dest }
  }
  const t0 = Date.parse('2026-12-01T00:00:00.000Z')
  // a few jobs per millisecond, as a burst of requests stamps them
  const queued: QueuedJob[] = Array.from({ length: n }, (_, i) => ({
    ...someone(),
    id: `job-${i}`,
    createdAt: t0 + Math.floor(i / 3),
    seq: i,
  }))
  const active = Array.from({ length: ACTIVE }, someone)
  // limits that hold some of the jobs, so the order is computed with limits as the service does
  const policy: FairPolicy = { fairShare: 'user', maxActiveTasksPerUser: 5, facilityLimits: new Map([['ESRF', 20]]) }
  return { queued, active, policy }
}

/** What the tracker does with the queue once per cycle. */
function cycle (w: ReturnType<typeof workload>) {
  const order = fairOrder(w.queued, w.active, w.policy)
  const chosen = order.jobs.slice(0, Math.min(FREE_PER_CYCLE, order.ready))
  const places = new Map<string, number>()
  order.jobs.forEach((job, i) => places.set(job.id, i))
  return { chosen: chosen.length, held: order.jobs.length - order.ready, places: places.size }
}

function runFairOrderCase (n: number): FairOrderCase {
  const w = workload(n)
  let last = cycle(w)
  for (let i = 0; i < WARMUP; i++) last = cycle(w)
  const times: number[] = []
  const cpu = process.cpuUsage()
  for (let i = 0; i < ROUNDS; i++) {
    const started = performance.now()
    last = cycle(w)
    times.push(performance.now() - started)
  }
  const used = process.cpuUsage(cpu)
  if (last.places !== n) throw new Error(`${last.places} places for ${n} jobs`)
  const sorted = [...times].sort((a, b) => a - b)
  return {
    n,
    owners: OWNERS,
    rounds: ROUNDS,
    medianMs: round(median(times), 3),
    p90Ms: round(sorted[Math.floor(ROUNDS * 0.9)]!, 3),
    minMs: round(sorted[0]!, 3),
    cpuMsPerCycle: round((used.user + used.system) / 1000 / ROUNDS, 3),
    chosen: last.chosen,
    held: last.held,
  }
}

export async function fairOrderBench (): Promise<Target[]> {
  const script = fileURLToPath(import.meta.url)
  const cases: FairOrderCase[] = []
  for (const n of SIZES) {
    console.error(`fair-order: N=${n} ...`)
    cases.push(await runCase<FairOrderCase>(script, ['--case', String(n)]))
  }
  console.log(`\n## fair-order: the fair order, the next ${FREE_PER_CYCLE} jobs and every job's place, per cycle (${OWNERS} owners, ${ACTIVE} tasks running, median of ${ROUNDS})\n`)
  console.log(
    table(
      ['queued jobs', 'median ms', 'p90 ms', 'min ms', 'CPU ms/cycle', 'chosen', 'held by a limit'],
      cases.map((c) => [c.n, c.medianMs, c.p90Ms, c.minMs, c.cpuMsPerCycle, c.chosen, c.held])
    )
  )
  const [small, large] = cases as [FairOrderCase, FairOrderCase]
  const ratio = large.medianMs / small.medianMs
  const bound = (large.n * Math.log(large.n)) / (small.n * Math.log(small.n))
  console.log(`\nratio ${large.n} / ${small.n}: ${round(ratio, 2)} (n log n: ${round(bound, 2)}; linear: ${large.n / small.n})\n`)
  const targets = [
    target(
      `fair-order: cost per cycle from ${small.n} to ${large.n} queued jobs grows at most as n log n (ratio <= ${round(bound, 1)})`,
      `ratio ${round(ratio, 2)} (${small.medianMs} ms → ${large.medianMs} ms)`,
      ratio <= bound
    ),
  ]
  printTargets(targets)
  const file = writeResult('fair-order', { setup: { owners: OWNERS, facilities: FACILITIES, active: ACTIVE, freePerCycle: FREE_PER_CYCLE, warmup: WARMUP, rounds: ROUNDS }, cases, ratio, bound, targets })
  console.log(`\nwritten ${file}`)
  return targets
}

const size = Number(arg('case'))
if (SIZES.includes(size as (typeof SIZES)[number])) {
  report(runFairOrderCase(size))
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await fairOrderBench()
}
