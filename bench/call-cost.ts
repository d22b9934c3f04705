// Benchmark "call-cost" (no target): the client CPU of one upstream call of each kind the tracker
// makes, through the service's own clients (p-queue, retries, metrics, requestText) and with plain
// undici request() as the baselines make it, against the same simulators, alternating in one process.
// The tracker's per-call ratio compares different mixes of calls (the Go design's half are GET /task,
// the service's nearly all PATCHes); this compares like with like.
import { fileURLToPath } from 'node:url'
import { taskFields, taskListChunk } from '../src/globus/client.js'
import { pool, Upstream } from './baselines/upstream.js'
import { arg, report, runCase } from './lib/case-runner.js'
import { startProxy, yaml } from './lib/proxy.js'
import { median, round, table, type Target, writeResult } from './lib/report.js'
import { RemoteWorld } from './lib/remote-world.js'

/** Transfers seeded: a round makes one call of each kind per transfer (task_list: one per 50, TASK_LIST_REPEAT times). */
const N = Number(process.env.BENCH_CALL_COST_N ?? 1000)
const IN_FLIGHT = 10
const WARM_UP_ROUNDS = 2
const ROUNDS = Number(process.env.BENCH_CALL_COST_ROUNDS ?? 5)
const TASK_LIST_REPEAT = 10

type Kind = 'PATCH job' | 'GET /task' | 'task_list (50 ids)'
const kinds: readonly Kind[] = ['PATCH job', 'GET /task', 'task_list (50 ids)']

interface KindResult {
  kind: Kind
  /** Client CPU µs per call, one value per measured round. */
  service: number[]
  plain: number[]
  /** Simulator CPU µs per call in the same rounds (how fast the answers came). */
  simService: number[]
  simPlain: number[]
}

interface CallCostCase {
  n: number
  rounds: number
  results: KindResult[]
}

async function runCallCostCase (): Promise<CallCostCase> {
  const world = await RemoteWorld.start({ bytesPerSecond: 0 })
  await world.call('seedTransfers', N)
  const proxy = await startProxy(world, yaml({ globus: { maxActiveTasks: N, maxRequestsPerSecond: 1_000_000 } }))
  const { globusUrl, scicatUrl, credentials } = world.info
  const up = new Upstream(globusUrl, scicatUrl)
  try {
    const scicatToken = await up.scicatToken(credentials)
    const globusToken = await up.globusToken(credentials, 'urn:globus:auth:scope:transfer.api.globus.org:all')
    const filter = encodeURIComponent(JSON.stringify({ where: { type: 'globus_transfer_job' } }))
    const jobs = await up.json<Array<{ id: string; jobResultObject: Record<string, unknown> & { globusTaskId: string } }>>(
      'GET', `${scicatUrl}/api/v4/jobs?filter=${filter}`, { token: scicatToken }
    )
    // every task read TASK_LIST_REPEAT times a round: N / 50 calls alone are too few to measure
    const chunks: string[][] = []
    for (let r = 0; r < TASK_LIST_REPEAT; r++) {
      for (let i = 0; i < jobs.length; i += taskListChunk) chunks.push(jobs.slice(i, i + taskListChunk).map((j) => j.jobResultObject.globusTaskId))
    }
    let roundNo = 0
    // the same body either way, a new number each time (SciCat stores it)
    const update = (j: (typeof jobs)[number]) => ({
      statusCode: 'transferring',
      statusMessage: `transferring: ${roundNo} B`,
      jobResultObject: { ...j.jobResultObject, bytesTransferred: roundNo },
    })
    const { scicat, globus } = proxy.deps
    const calls: Record<Kind, { service: () => Promise<void>; plain: () => Promise<void>; count: number }> = {
      'PATCH job': {
        service: () => pool(jobs, IN_FLIGHT, async (j) => { await scicat.updateJob(j.id, update(j)) }),
        plain: () => pool(jobs, IN_FLIGHT, async (j) => { await up.json('PATCH', `${scicatUrl}/api/v4/jobs/${j.id}`, { token: scicatToken, body: update(j) }) }),
        count: jobs.length,
      },
      'GET /task': {
        service: () => pool(jobs, IN_FLIGHT, async (j) => { await globus.getTask(j.jobResultObject.globusTaskId) }),
        plain: () => pool(jobs, IN_FLIGHT, async (j) => { await up.json('GET', `${globusUrl}/v0.10/task/${j.jobResultObject.globusTaskId}?fields=${taskFields}`, { token: globusToken }) }),
        count: jobs.length,
      },
      'task_list (50 ids)': {
        // one listTasks per chunk, so that both make the same 50-id calls at the same concurrency
        service: () => pool(chunks, IN_FLIGHT, async (ids) => { await globus.listTasks(ids) }),
        plain: () => pool(chunks, IN_FLIGHT, async (ids) => {
          const query = new URLSearchParams({ filter: `task_id:${ids.join(',')}`, limit: String(taskListChunk), fields: taskFields })
          await up.json('GET', `${globusUrl}/v0.10/task_list?${query}`, { token: globusToken })
        }),
        count: chunks.length,
      },
    }
    const measure = async (fn: () => Promise<void>, count: number) => {
      const simBefore = await world.cpuMs()
      const before = process.cpuUsage()
      await fn()
      const used = process.cpuUsage(before)
      const sim = (await world.cpuMs()) - simBefore
      return { client: (used.user + used.system) / count, sim: (sim * 1000) / count }
    }
    const results: KindResult[] = kinds.map((kind) => ({ kind, service: [], plain: [], simService: [], simPlain: [] }))
    for (roundNo = 0; roundNo < WARM_UP_ROUNDS + ROUNDS; roundNo++) {
      for (const r of results) {
        const { service, plain, count } = calls[r.kind]
        // alternate which goes first, so that neither always follows the other's garbage
        const order = roundNo % 2 === 0 ? (['service', 'plain'] as const) : (['plain', 'service'] as const)
        for (const who of order) {
          const m = await measure(who === 'service' ? service : plain, count)
          if (roundNo < WARM_UP_ROUNDS) continue
          r[who].push(Math.round(m.client))
          r[who === 'service' ? 'simService' : 'simPlain'].push(Math.round(m.sim))
        }
      }
    }
    return { n: N, rounds: ROUNDS, results }
  } finally {
    await up.close()
    await proxy.close()
    await world.close()
  }
}

export async function callCostBench (): Promise<Target[]> {
  console.error(`call-cost: ${N} transfers, ${WARM_UP_ROUNDS} + ${ROUNDS} rounds ...`)
  const c = await runCase<CallCostCase>(fileURLToPath(import.meta.url), ['--case', 'call-cost'])
  console.log(`\n## call-cost: client CPU per upstream call, the service's clients against plain undici (${IN_FLIGHT} in flight, medians of ${c.rounds} alternating rounds; no target)\n`)
  console.log(
    table(
      ['call', 'service µs', 'plain undici µs', 'service / plain', 'service, each round', 'plain, each round', 'simulator µs per call (service / plain)'],
      c.results.map((r) => [
        r.kind,
        median(r.service),
        median(r.plain),
        `${round(median(r.service) / median(r.plain), 2)}x`,
        r.service.join(', '),
        r.plain.join(', '),
        `${median(r.simService)} / ${median(r.simPlain)}`,
      ])
    )
  )
  const file = writeResult('call-cost', { setup: { n: c.n, inFlight: IN_FLIGHT, warmUpRounds: WARM_UP_ROUNDS, rounds: c.rounds }, results: c.results })
  console.log(`\nwritten ${file}`)
  return []
}

if (arg('case') === 'call-cost') report(await runCallCostCase())
else if (process.argv[1] === fileURLToPath(import.meta.url)) await callCostBench()
