// Benchmark "scale": 100,000 tracked transfers in one process (99,900 queued + 100 active) at the default Globus rate.
import { fileURLToPath } from 'node:url'
import { arg, report, runCases } from './lib/case-runner.js'
import { startProxy, yaml } from './lib/proxy.js'
import { mb, printTargets, round, table, target, type Target, writeResult } from './lib/report.js'
import { CycleProfile } from './lib/cycle-profile.js'
import { RemoteWorld } from './lib/remote-world.js'

const POLL_MS = 10_000
const CYCLES = 5
/** At most this many cycles after the first until one sends no PATCH (the budget's catch-up, see below). */
const MAX_CATCH_UP = 15

/**
 * default: 100 running + 99,900 queued at the defaults (globus.maxActiveTasks 100,
 * globus.maxRequestsPerSecond 10). unthrottled: 10,000 running + 90,000 queued with
 * maxActiveTasks 10,000 and no request rate limit. Both 100,000 tracked, task.maxConcurrency 10.
 */
const variants = {
  default: { active: 100, queued: 99_900, files: 0, globus: {} },
  unthrottled: { active: 10_000, queued: 90_000, files: 0, globus: { maxActiveTasks: 10_000, maxRequestsPerSecond: 1_000_000 } },
  filelists: { active: 100, queued: 9_900, files: 200, globus: {} },
} as const
type Variant = keyof typeof variants

interface ScaleCycle {
  /** catch-up: the budget still writing "submitted" → "transferring"; idle: nothing left to write. */
  kind: 'catch-up' | 'idle'
  wallMs: number
  cpuMs: number
  globusCalls: number
  patches: number
  rssMb: number
  heapUsedMb: number
}

export interface ScaleCase {
  variant: Variant
  active: number
  queued: number
  tracked: number
  seedMs: number
  adopted: number
  discoverMs: number
  firstCycleMs: number
  /** CPU of the first cycle alone (it is also in adoptCpuMs). */
  firstCycleCpuMs: number
  adoptCpuMs: number
  findJobsCalls: number
  firstCyclePatches: number
  cycles: ScaleCycle[]
  rssAfterAdoptionMb: number
  peakRssMb: number
}

const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0)

async function runScaleCase (variant: Variant): Promise<ScaleCase> {
  const { active, queued: queuedJobs, files, globus } = variants[variant]
  // nothing moves (0 B/s): once the running jobs show "transferring" (at most
  // task.progressUpdatesPerCycle a cycle, so 10 cycles for 10,000) every cycle is idle, and any
  // PATCH in it would be a rewritten queue message
  const world = await RemoteWorld.start({ bytesPerSecond: 0 })
  const running = await world.call<{ ms: number }>('seedTransfers', active)
  const queued = await world.call<{ ms: number }>('seedQueued', queuedJobs, 0, files)
  const proxy = await startProxy(world, yaml({ task: { pollInterval: POLL_MS / 1000 }, ...(Object.keys(globus).length > 0 ? { globus } : {}) }))
  await world.call('resetCounts')
  const cpu = process.cpuUsage()
  const started = performance.now()
  const adopted = await proxy.app.tracker.discover()
  const discovered = performance.now()
  // BENCH_PROFILE_KIND=first profiles this cycle (bench/lib/cycle-profile.ts)
  const firstUsed = await new CycleProfile().around('first', `scale-${variant}`, async () => {
    const firstCpu = process.cpuUsage()
    await proxy.app.tracker.runCycle()
    return process.cpuUsage(firstCpu)
  })
  const ended = performance.now()
  const used = process.cpuUsage(cpu)
  const first = await world.counts()
  const rssAfterAdoptionMb = mb(process.memoryUsage().rss)

  const cycles: ScaleCycle[] = []
  const idleCycles = () => cycles.filter((x) => x.kind === 'idle').length
  // still catching up while every cycle so far wrote something; from the first cycle without a PATCH on, idle
  let catchingUp = true
  while (idleCycles() < CYCLES && cycles.length < MAX_CATCH_UP + CYCLES) {
    await world.advance(POLL_MS)
    await world.call('resetCounts')
    const c = process.cpuUsage()
    const t = performance.now()
    await proxy.app.tracker.runCycle()
    const wallMs = performance.now() - t
    const u = process.cpuUsage(c)
    const counts = await world.counts()
    const mem = process.memoryUsage()
    const patches = counts.scicat.updateJob ?? 0
    catchingUp &&= patches > 0 && cycles.length < MAX_CATCH_UP
    cycles.push({
      kind: catchingUp ? 'catch-up' : 'idle',
      wallMs: round(wallMs),
      cpuMs: round((u.user + u.system) / 1000),
      globusCalls: sum(counts.globus) - (counts.globus.token ?? 0),
      patches,
      rssMb: mb(mem.rss),
      heapUsedMb: mb(mem.heapUsed),
    })
  }
  const tracked = proxy.app.tracker.transfers.size
  await proxy.close()
  await world.close()
  return {
    variant,
    active,
    queued: queuedJobs,
    tracked,
    seedMs: round(running.ms + queued.ms),
    adopted,
    discoverMs: round(discovered - started),
    firstCycleMs: round(ended - discovered),
    firstCycleCpuMs: round((firstUsed.user + firstUsed.system) / 1000),
    adoptCpuMs: round((used.user + used.system) / 1000),
    findJobsCalls: first.scicat.findJobs ?? 0,
    firstCyclePatches: first.scicat.updateJob ?? 0,
    cycles,
    rssAfterAdoptionMb,
    peakRssMb: mb(process.resourceUsage().maxRSS * 1024),
  }
}

const titles: Record<Variant, string> = {
  default: 'default Globus rate (10/s) and maxActiveTasks (100)',
  unthrottled: 'globus.maxActiveTasks 10,000, no request rate limit',
  filelists: 'the defaults; each queued job with a fileList of 200 entries',
}

function variantTargets (c: ScaleCase): Target[] {
  const name = `scale ${c.variant} (${c.active} active + ${c.queued} queued)`
  const n = c.active + c.queued
  const totalMs = c.discoverMs + c.firstCycleMs
  // the first cycle (the one that ends the adoption) too
  const maxCpu = Math.max(c.firstCycleCpuMs, ...c.cycles.map((s) => s.cpuMs))
  const idle = c.cycles.filter((s) => s.kind === 'idle')
  const perTransferUs = (Math.max(...idle.map((s) => s.cpuMs)) * 1000) / n
  const idlePatches = Math.max(...idle.map((s) => s.patches))
  // each running job is written once (submitted → transferring), nothing else changes: any more is a rewritten queue message
  const written = c.firstCyclePatches + c.cycles.reduce((a, s) => a + s.patches, 0)
  return [
    target(`${name}: all adopted and a first cycle in < 60 s`, `${c.adopted} adopted, ${round(totalMs / 1000, 2)} s`, c.adopted === n && totalMs < 60_000),
    target(`${name}: CPU of every cycle, the first included, < pollInterval / 10 (${POLL_MS / 10} ms)`, `max ${maxCpu} ms`, maxCpu < POLL_MS / 10),
    target(`${name}: idle cycle CPU per tracked transfer <= 10 µs`, `max ${round(perTransferUs, 2)} µs over ${idle.length} idle cycles`, idle.length > 0 && perTransferUs <= 10),
    target(
      `${name}: the queue messages are not rewritten (PATCHes = the running jobs' one move to transferring; 0 per idle cycle)`,
      `${written} PATCHes for ${c.active} running; max ${idlePatches} per idle cycle`,
      written === c.active && idlePatches === 0
    ),
    target(`${name}: peak RSS < 512 MB`, `${c.peakRssMb} MB`, c.peakRssMb < 512),
  ]
}

export async function scaleBench (only?: Variant[]): Promise<Target[]> {
  const script = fileURLToPath(import.meta.url)
  const cases = await runCases<ScaleCase>('scale', script, only ?? Object.keys(variants), (v) => {
    const { active, queued } = variants[v as Variant]
    return `${v}, ${active} active + ${queued} queued`
  })
  for (const c of cases) {
    const n = c.active + c.queued
    console.log(`\n## scale ${c.variant}: ${c.active} active + ${c.queued} queued transfers, ${titles[c.variant]}\n`)
    console.log(
      table(
        ['adopted', 'seed s', 'discover s', 'first cycle s', 'first cycle CPU ms', 'adoption CPU s', 'findJobs', 'first-cycle PATCHes', 'RSS after adoption MB', 'peak RSS MB'],
        [[c.adopted, round(c.seedMs / 1000, 1), round(c.discoverMs / 1000, 2), round(c.firstCycleMs / 1000, 2), c.firstCycleCpuMs, round(c.adoptCpuMs / 1000, 2), c.findJobsCalls, c.firstCyclePatches, c.rssAfterAdoptionMb, c.peakRssMb]]
      )
    )
    console.log()
    console.log(
      table(
        ['cycle', 'kind', 'wall ms', 'CPU ms', 'CPU µs per tracked transfer', 'Globus calls', 'PATCHes', 'RSS MB', 'heap MB'],
        c.cycles.map((s, i) => [i + 1, s.kind, s.wallMs, s.cpuMs, round((s.cpuMs * 1000) / n, 2), s.globusCalls, s.patches, s.rssMb, s.heapUsedMb])
      )
    )
    console.log()
  }
  const targets = cases.flatMap(variantTargets)
  printTargets(targets)
  const file = writeResult('scale', { setup: { variants, pollIntervalSeconds: POLL_MS / 1000, idleCycles: CYCLES }, cases, targets })
  console.log(`\nwritten ${file}`)
  return targets
}

const variant = arg('case')
if (variant === 'default' || variant === 'unthrottled' || variant === 'filelists') {
  report(await runScaleCase(variant))
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await scaleBench(arg('variants')?.split(',') as Variant[] | undefined)
}
