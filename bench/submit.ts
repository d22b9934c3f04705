// Benchmark "submit": 1,000 POST /transfer at concurrency 50 through the service, against the same upstream calls made directly.
import { fileURLToPath } from 'node:url'
import { DirectSubmit } from './baselines/direct-submit.js'
import { arg, report, runCase } from './lib/case-runner.js'
import { drive, type LoadResult, measureLoad, servicePoster } from './lib/post-driver.js'
import { yaml } from './lib/proxy.js'
import { median, printTargets, round, table, target, type Target, writeResult } from './lib/report.js'
import { RemoteWorld } from './lib/remote-world.js'
import type { Counts } from './lib/world-protocol.js'

const TOTAL = 1000
const CONCURRENCY = 50
const WARMUP = 100
/** Alternating rounds of each; the ratio uses the medians (this machine's throughput varies by about 10% from run to run). */
const ROUNDS = 5

type Impl = 'service' | 'direct'

export interface SubmitCase extends LoadResult {
  impl: Impl
  round: number
  simCpuMsPerRequest: number
  upstreamCallsPerRequest: number
  upstreamCalls: Counts
  /** Transfer jobs in SciCat afterwards, by statusCode, and how many carry a Globus task id. */
  jobs: { byStatusCode: Record<string, number>; withTask: number; globusTasks: number }
}

const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0)

async function runSubmitCase (impl: Impl, roundNo: number): Promise<SubmitCase> {
  const world = await RemoteWorld.start()
  const [pid] = await world.call<string[]>('addDatasets', 1, 'submit')
  // one token per request: the service's identity cache cannot save it a call the baseline makes
  const tokens = await world.call<string[]>('issueTokens', WARMUP + TOTAL)
  let one: (token: string) => Promise<void>
  let close: () => Promise<void>
  if (impl === 'service') {
    const poster = await servicePoster(world, yaml({ globus: { maxActiveTasks: 100_000, maxRequestsPerSecond: 1_000_000 } }), pid!, CONCURRENCY)
    one = poster.one
    close = poster.close
  } else {
    const direct = new DirectSubmit({
      globusUrl: world.info.globusUrl,
      scicatUrl: world.info.scicatUrl,
      credentials: world.info.credentials,
      sourceCollection: world.info.collections.source,
      destinationCollection: world.info.collections.destination,
      jobType: 'globus_transfer_job',
    })
    await direct.login()
    one = async (token) => {
      await direct.submit(token, pid!)
    }
    close = () => direct.close()
  }

  await drive(tokens.slice(0, WARMUP), CONCURRENCY, one)
  await world.call('resetCounts')
  const simCpu = await world.cpuMs()
  const load = await measureLoad(tokens.slice(WARMUP), CONCURRENCY, one)
  const simCpuMs = (await world.cpuMs()) - simCpu
  const counts = await world.counts()
  const jobs = await world.call<SubmitCase['jobs']>('jobsSummary')
  await close()
  await world.close()
  return {
    impl,
    round: roundNo,
    ...load,
    simCpuMsPerRequest: round(simCpuMs / TOTAL, 3),
    upstreamCallsPerRequest: round((sum(counts.globus) + sum(counts.scicat)) / TOTAL, 2),
    upstreamCalls: counts,
    jobs,
  }
}

export async function submitBench (): Promise<Target[]> {
  const script = fileURLToPath(import.meta.url)
  const cases: SubmitCase[] = []
  // alternating, each in a fresh process against fresh simulators
  for (let r = 1; r <= ROUNDS; r++) {
    for (const impl of ['direct', 'service'] as const) {
      console.error(`submit: ${impl}, round ${r} ...`)
      cases.push(await runCase<SubmitCase>(script, ['--case', impl, '--round', String(r)]))
    }
  }
  console.log(`\n## submit: ${TOTAL} POST /transfer at concurrency ${CONCURRENCY} (after ${WARMUP} warm-up requests)\n`)
  console.log(
    table(
      ['case', 'errors', 'wall s', 'req/s', 'p50 ms', 'p99 ms', 'CPU ms/req', 'sim CPU ms/req', 'upstream calls/req'],
      cases.map((c) => [
        `${c.impl} round ${c.round}`,
        c.errors,
        round(c.wallMs / 1000, 2),
        c.perSecond,
        c.p50Ms,
        c.p99Ms,
        c.cpuMsPerRequest,
        c.simCpuMsPerRequest,
        c.upstreamCallsPerRequest,
      ])
    )
  )
  const rate = (impl: Impl) => median(cases.filter((c) => c.impl === impl).map((c) => c.perSecond))
  const ratio = rate('service') / rate('direct')
  console.log(`\nthroughput ratio service / direct (medians): ${round(rate('service'))} / ${round(rate('direct'))} = ${round(ratio * 100)}%\n`)
  const service = cases.filter((c) => c.impl === 'service')
  const errors = service.reduce((n, c) => n + c.errors, 0)
  const submitted = Math.min(...service.map((c) => c.jobs.withTask))
  const targets = [
    target('submit: service throughput >= 80% of the direct baseline', `${round(ratio * 100)}%`, ratio >= 0.8),
    target('submit: 0 errors', `${errors} errors${service.find((c) => c.firstError)?.firstError ? ` (first: ${service.find((c) => c.firstError)?.firstError})` : ''}`, errors === 0),
    target(
      'submit: every accepted transfer has its Globus task id in SciCat',
      `min ${submitted} of ${TOTAL + WARMUP} jobs`,
      submitted === TOTAL + WARMUP
    ),
  ]
  printTargets(targets)
  const file = writeResult('submit', {
    setup: { requests: TOTAL, concurrency: CONCURRENCY, warmup: WARMUP, rounds: ROUNDS, tokens: 'one per request' },
    cases,
    ratio: round(ratio, 3),
    targets,
  })
  console.log(`\nwritten ${file}`)
  return targets
}

const impl = arg('case')
if (impl === 'service' || impl === 'direct') {
  report(await runSubmitCase(impl, Number(arg('round') ?? 1)))
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await submitBench()
}
