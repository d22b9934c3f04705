// Benchmark "scale": 100,000 tracked transfers in one process (99,900 queued + 100 active) at the default Globus rate.
import { fileURLToPath } from 'node:url'
import { arg, report, runCase } from './lib/case-runner.js'
import { startProxy, yaml } from './lib/proxy.js'
import { mb, printTargets, round, table, target, type Target, writeResult } from './lib/report.js'
import { RemoteWorld } from './lib/remote-world.js'

const POLL_MS = 10_000
const ACTIVE = 100
const QUEUED = 99_900
const CYCLES = 5

interface ScaleCycle {
  wallMs: number
  cpuMs: number
  globusCalls: number
  patches: number
  rssMb: number
  heapUsedMb: number
}

export interface ScaleCase {
  tracked: number
  seedMs: number
  adopted: number
  discoverMs: number
  firstCycleMs: number
  adoptCpuMs: number
  findJobsCalls: number
  firstCyclePatches: number
  cycles: ScaleCycle[]
  rssAfterAdoptionMb: number
  peakRssMb: number
}

const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0)

async function runScaleCase (): Promise<ScaleCase> {
  const world = await RemoteWorld.start()
  const running = await world.call<{ ms: number }>('seedTransfers', ACTIVE)
  const queued = await world.call<{ ms: number }>('seedQueued', QUEUED, 0)
  // the defaults: globus.maxActiveTasks 100, globus.maxRequestsPerSecond 10, task.maxConcurrency 10
  const proxy = await startProxy(world, yaml({ task: { pollInterval: POLL_MS / 1000 } }))
  await world.call('resetCounts')
  const cpu = process.cpuUsage()
  const started = performance.now()
  const adopted = await proxy.app.tracker.discover()
  const discovered = performance.now()
  await proxy.app.tracker.runCycle()
  const ended = performance.now()
  const used = process.cpuUsage(cpu)
  const first = await world.counts()
  const rssAfterAdoptionMb = mb(process.memoryUsage().rss)

  const cycles: ScaleCycle[] = []
  for (let i = 0; i < CYCLES; i++) {
    await world.advance(POLL_MS)
    await world.call('resetCounts')
    const c = process.cpuUsage()
    const t = performance.now()
    await proxy.app.tracker.runCycle()
    const wallMs = performance.now() - t
    const u = process.cpuUsage(c)
    const counts = await world.counts()
    const mem = process.memoryUsage()
    cycles.push({
      wallMs: round(wallMs),
      cpuMs: round((u.user + u.system) / 1000),
      globusCalls: sum(counts.globus) - (counts.globus.token ?? 0),
      patches: counts.scicat.updateJob ?? 0,
      rssMb: mb(mem.rss),
      heapUsedMb: mb(mem.heapUsed),
    })
  }
  const tracked = proxy.app.tracker.transfers.size
  await proxy.close()
  await world.close()
  return {
    tracked,
    seedMs: round(running.ms + queued.ms),
    adopted,
    discoverMs: round(discovered - started),
    firstCycleMs: round(ended - discovered),
    adoptCpuMs: round((used.user + used.system) / 1000),
    findJobsCalls: first.scicat.findJobs ?? 0,
    firstCyclePatches: first.scicat.updateJob ?? 0,
    cycles,
    rssAfterAdoptionMb,
    peakRssMb: mb(process.resourceUsage().maxRSS * 1024),
  }
}

export async function scaleBench (): Promise<Target[]> {
  const script = fileURLToPath(import.meta.url)
  console.error(`scale: ${ACTIVE} active + ${QUEUED} queued ...`)
  const c = await runCase<ScaleCase>(script, ['--case', 'queued'])
  const n = ACTIVE + QUEUED
  console.log(`\n## scale: ${ACTIVE} active + ${QUEUED} queued transfers, default Globus rate (10/s) and maxActiveTasks (100)\n`)
  console.log(
    table(
      ['adopted', 'discover s', 'first cycle s', 'adoption CPU s', 'findJobs', 'first-cycle PATCHes', 'RSS after adoption MB', 'peak RSS MB'],
      [[c.adopted, round(c.discoverMs / 1000, 2), round(c.firstCycleMs / 1000, 2), round(c.adoptCpuMs / 1000, 2), c.findJobsCalls, c.firstCyclePatches, c.rssAfterAdoptionMb, c.peakRssMb]]
    )
  )
  console.log()
  console.log(
    table(
      ['cycle', 'wall ms', 'CPU ms', 'CPU µs per tracked transfer', 'Globus calls', 'PATCHes', 'RSS MB', 'heap MB'],
      c.cycles.map((s, i) => [i + 1, s.wallMs, s.cpuMs, round((s.cpuMs * 1000) / n, 2), s.globusCalls, s.patches, s.rssMb, s.heapUsedMb])
    )
  )
  console.log()
  const totalMs = c.discoverMs + c.firstCycleMs
  const maxCpu = Math.max(...c.cycles.map((s) => s.cpuMs))
  const perTransferUs = (maxCpu * 1000) / n
  const maxPatches = Math.max(...c.cycles.map((s) => s.patches))
  const targets = [
    target(`scale: ${n} transfers adopted and a first cycle in < 60 s at the default rate`, `${c.adopted} adopted, ${round(totalMs / 1000, 2)} s`, c.adopted === n && totalMs < 60_000),
    target(`scale: CPU of every cycle after adoption < pollInterval / 10 (${POLL_MS / 10} ms)`, `max ${maxCpu} ms`, maxCpu < POLL_MS / 10),
    target('scale: idle cycle CPU per tracked transfer <= 10 µs', `max ${round(perTransferUs, 2)} µs`, perTransferUs <= 10),
    target('scale: the queue messages are not rewritten each cycle (PATCHes per cycle after adoption = 0)', `max ${maxPatches}`, maxPatches === 0),
    target('scale: peak RSS < 512 MB', `${c.peakRssMb} MB`, c.peakRssMb < 512),
  ]
  printTargets(targets)
  const file = writeResult('scale', { setup: { active: ACTIVE, queued: QUEUED, pollIntervalSeconds: POLL_MS / 1000, cycles: CYCLES }, cases: [c], targets })
  console.log(`\nwritten ${file}`)
  return targets
}

if (arg('case') === 'queued') {
  report(await runScaleCase())
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await scaleBench()
}
