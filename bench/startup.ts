// Benchmark "startup": a fresh service adopts 10,000 unfinished transfer jobs (discover) and runs its first cycle.
import { fileURLToPath } from 'node:url'
import { arg, report, runCases } from './lib/case-runner.js'
import { startProxy, yaml } from './lib/proxy.js'
import { mb, printTargets, round, table, target, type Target, writeResult } from './lib/report.js'
import { RemoteWorld } from './lib/remote-world.js'

const N = 10_000

export interface StartupCase {
  variant: string
  maxRequestsPerSecond: number
  n: number
  seedMs: number
  adopted: number
  discoverMs: number
  firstCycleMs: number
  totalMs: number
  cpuMs: number
  taskListCalls: number
  /** All Globus calls during discover and the first cycle (task_list and the token request). */
  globusCalls: number
  patches: number
  findJobsCalls: number
  rssMb: number
  peakRssMb: number
}

async function runStartupCase (variant: string, maxRequestsPerSecond: number): Promise<StartupCase> {
  const world = await RemoteWorld.start()
  const seed = await world.call<{ ms: number }>('seedTransfers', N)
  const proxy = await startProxy(world, yaml({ globus: { maxActiveTasks: N, maxRequestsPerSecond } }))
  await world.call('resetCounts')
  const cpu = process.cpuUsage()
  const started = performance.now()
  const adopted = await proxy.app.tracker.discover()
  const discovered = performance.now()
  await proxy.app.tracker.runCycle()
  const ended = performance.now()
  const used = process.cpuUsage(cpu)
  const counts = await world.counts()
  const rss = process.memoryUsage().rss
  await proxy.close()
  await world.close()
  return {
    variant,
    maxRequestsPerSecond,
    n: N,
    seedMs: round(seed.ms),
    adopted,
    discoverMs: round(discovered - started),
    firstCycleMs: round(ended - discovered),
    totalMs: round(ended - started),
    cpuMs: round((used.user + used.system) / 1000),
    taskListCalls: counts.globus.task_list ?? 0,
    globusCalls: Object.values(counts.globus).reduce((a, b) => a + b, 0),
    patches: counts.scicat.updateJob ?? 0,
    findJobsCalls: counts.scicat.findJobs ?? 0,
    rssMb: mb(rss),
    peakRssMb: mb(process.resourceUsage().maxRSS * 1024),
  }
}

const variants: Record<string, number> = {
  // as the tracker benchmark: Globus's request rate does not limit the service
  unthrottled: 1_000_000,
  // the default globus.maxRequestsPerSecond: the first cycle's 200 task_list calls take 20 s alone
  'default rate (10/s)': 10,
}

export async function startupBench (): Promise<Target[]> {
  const script = fileURLToPath(import.meta.url)
  const cases = await runCases<StartupCase>('startup', script, Object.keys(variants))
  console.log(`\n## startup: a fresh service adopts ${N} unfinished jobs, then runs its first cycle\n`)
  console.log(
    table(
      ['globus.maxRequestsPerSecond', 'adopted', 'discover s', 'first cycle s', 'total s', 'CPU s', 'findJobs', 'task_list', 'PATCHes', 'peak RSS MB'],
      cases.map((c) => [
        `${c.variant}`,
        c.adopted,
        round(c.discoverMs / 1000, 2),
        round(c.firstCycleMs / 1000, 2),
        round(c.totalMs / 1000, 2),
        round(c.cpuMs / 1000, 2),
        c.findJobsCalls,
        c.taskListCalls,
        c.patches,
        c.peakRssMb,
      ])
    )
  )
  console.log()
  const targets = cases.map((c) =>
    target(
      `startup (${c.variant}): ${N} jobs adopted and a first cycle in < 30 s`,
      `${c.adopted} adopted, ${round(c.totalMs / 1000, 2)} s`,
      c.adopted === N && c.totalMs < 30_000
    )
  )
  // at most maxRequestsPerSecond calls in any second: k calls cannot take less than (k - rate) / rate seconds
  for (const c of cases.filter((x) => x.maxRequestsPerSecond < 1000)) {
    const floorMs = ((c.globusCalls - c.maxRequestsPerSecond) / c.maxRequestsPerSecond) * 1000
    targets.push(
      target(
        `startup (${c.variant}): the Globus rate limit holds (${c.globusCalls} calls need >= ${round(floorMs / 1000, 1)} s)`,
        `${round(c.totalMs / 1000, 2)} s`,
        c.totalMs >= floorMs
      )
    )
  }
  printTargets(targets)
  const file = writeResult('startup', { setup: { jobs: N, note: 'jobs seeded as the service leaves them right after submission (statusCode submitted), so the first cycle updates every one' }, cases, targets })
  console.log(`\nwritten ${file}`)
  return targets
}

const variant = arg('case')
if (variant !== undefined && variants[variant] !== undefined) {
  report(await runStartupCase(variant, variants[variant]))
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await startupBench()
}
