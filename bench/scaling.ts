// Benchmark "scaling": how many POST /transfer per second one active instance sustains, unthrottled and
// at the Globus request rates that matter (globus.maxRequestsPerSecond 20, what Globus allows one
// identity, and 10, the default), each transfer costing two Globus calls (submission_id, transfer).
import { fileURLToPath } from 'node:url'
import { arg, report, runCases } from './lib/case-runner.js'
import { drive, type LoadResult, measureLoad, servicePoster } from './lib/post-driver.js'
import { yaml } from './lib/proxy.js'
import { printTargets, round, table, target, type Target, writeResult } from './lib/report.js'
import { RemoteWorld } from './lib/remote-world.js'

const CONCURRENCY = 50
/** "unthrottled" is maxRequestsPerSecond 1,000,000: the instance's own limit (and the simulators'). */
const rates = { unthrottled: 1_000_000, 'globus-20': 20, 'default-10': 10 } as const
type Rate = keyof typeof rates
/** Requests per case: about 30 s of work at the two Globus rates (2 calls each). */
const requests: Record<Rate, number> = { unthrottled: 1000, 'globus-20': 300, 'default-10': 150 }
const warmUp: Record<Rate, number> = { unthrottled: 100, 'globus-20': 20, 'default-10': 10 }

export interface ScalingCase extends LoadResult {
  rate: Rate
  maxRequestsPerSecond: number
  /** Globus Transfer calls (not token requests) per second over the measured requests. */
  globusCallsPerSecond: number
  globusCallsPerTransfer: number
  withTask: number
}

async function runScalingCase (rate: Rate): Promise<ScalingCase> {
  const world = await RemoteWorld.start()
  const [pid] = await world.call<string[]>('addDatasets', 1, 'scaling')
  const total = requests[rate]
  const tokens = await world.call<string[]>('issueTokens', warmUp[rate] + total)
  // every transfer submitted at once (none queued): the submit path alone
  const poster = await servicePoster(world, yaml({ globus: { maxActiveTasks: 100_000, maxRequestsPerSecond: rates[rate] } }), pid!, CONCURRENCY)
  await drive(tokens.slice(0, warmUp[rate]), CONCURRENCY, poster.one)
  await world.call('resetCounts')
  const load = await measureLoad(tokens.slice(warmUp[rate]), CONCURRENCY, poster.one)
  const counts = await world.counts()
  const jobs = await world.call<{ withTask: number }>('jobsSummary')
  await poster.close()
  await world.close()
  const globusCalls = Object.entries(counts.globus).reduce((a, [op, n]) => (op === 'token' ? a : a + n), 0)
  return {
    rate,
    maxRequestsPerSecond: rates[rate],
    ...load,
    globusCallsPerSecond: round((globusCalls / load.wallMs) * 1000, 1),
    globusCallsPerTransfer: round(globusCalls / total, 2),
    withTask: jobs.withTask,
  }
}

export async function scalingBench (): Promise<Target[]> {
  const script = fileURLToPath(import.meta.url)
  const cases = await runCases<ScalingCase>('scaling', script, Object.keys(rates))
  console.log(`\n## scaling: POST /transfer per second one instance sustains (concurrency ${CONCURRENCY}, none queued)\n`)
  console.log(
    table(
      ['globus.maxRequestsPerSecond', 'requests', 'errors', 'wall s', 'POST /transfer per s', 'p50 ms', 'p99 ms', 'Globus calls per s', 'Globus calls per transfer', 'CPU ms per request'],
      cases.map((c) => [c.rate === 'unthrottled' ? 'unthrottled' : c.maxRequestsPerSecond, c.requests, c.errors, round(c.wallMs / 1000, 1), c.perSecond, c.p50Ms, c.p99Ms, c.globusCallsPerSecond, c.globusCallsPerTransfer, c.cpuMsPerRequest])
    )
  )
  const targets: Target[] = []
  for (const c of cases) {
    targets.push(target(`scaling ${c.rate}: 0 errors, every transfer has its Globus task`, `${c.errors} errors, ${c.withTask} with a task`, c.errors === 0 && c.withTask >= c.requests))
    if (c.rate !== 'unthrottled') {
      // the rate holds: a sliding window of 1 s, so over the run at most the rate (plus one window's burst)
      const bound = c.maxRequestsPerSecond * (1 + 1000 / c.wallMs)
      targets.push(target(`scaling ${c.rate}: Globus calls per second <= ${c.maxRequestsPerSecond}`, `${c.globusCallsPerSecond} per s`, c.globusCallsPerSecond <= bound))
    }
  }
  const free = cases.find((c) => c.rate === 'unthrottled')
  if (free) {
    const perIdentity = 20 / 2
    console.log(
      `\nOne instance on its own: ${free.perSecond} POST /transfer per s; one Globus identity allows about 20 requests/s, so about ${perIdentity} transfers/s: ` +
        `the instance has ${round(free.perSecond / perIdentity, 1)}x the headroom of its Globus client.`
    )
  }
  printTargets(targets)
  const file = writeResult('scaling', { setup: { concurrency: CONCURRENCY, rates, requests, warmUp }, cases, targets })
  console.log(`\nwritten ${file}`)
  return targets
}

const rate = arg('case')
if (rate && rate in rates) {
  report(await runScalingCase(rate as Rate))
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await scalingBench()
}
