// Benchmark "answer-pace" (no target): what one task_list-sized call costs a client's CPU on this
// machine, depending on how its answers come. The same client code (the service's requestText and
// JSON.parse, 10 calls in flight) against a fixed-answer server in another process that answers at
// once, after working (spinning) a while per request as a simulator does, or after waiting a while
// as a remote server's latency would make it.
import { fork } from 'node:child_process'
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { Agent } from 'undici'
import { taskFieldNames } from '../src/globus/client.js'
import { requestText } from '../src/http/request-text.js'
import { arg } from './lib/case-runner.js'
import { median, round, table, type Target, writeResult } from './lib/report.js'

/** Calls per measurement, after as many unmeasured ones; three measurements per pace. */
const CALLS = Number(process.env.BENCH_PACE_CALLS ?? 2000)
const IN_FLIGHT = 10
/** How the server answers each request: at once, after `ms` of CPU work, or after `ms` idle. */
const paces: Array<{ mode: 'spin' | 'wait'; ms: number }> = [
  { mode: 'spin', ms: 0 },
  { mode: 'spin', ms: 0.5 },
  { mode: 'spin', ms: 1 },
  { mode: 'spin', ms: 2 },
  { mode: 'wait', ms: 10 },
  { mode: 'wait', ms: 50 },
]

/** A task_list answer of 50 running tasks with the fields the tracker asks for, as the simulator writes them. */
function answer (): Buffer {
  const values: Record<string, unknown> = {
    task_id: '8a4d2a3e-1234-11ef-9c3a-0242ac130002',
    status: 'ACTIVE',
    nice_status: 'OK',
    nice_status_short_description: 'OK',
    fatal_error: null,
    files: 1,
    files_skipped: 0,
    files_transferred: 0,
    bytes_transferred: 1234567,
    effective_bytes_per_second: 1000,
    completion_time: null,
  }
  const task = Object.fromEntries(taskFieldNames.map((f) => [f, values[f]]))
  const data = Array.from({ length: 50 }, () => task)
  return Buffer.from(JSON.stringify({ DATA_TYPE: 'task_list', length: 50, limit: 50, offset: 0, total: 50, DATA: data }))
}

/** In the server process: answers every request with the same body, paced as asked; reports its port. */
async function serve (mode: string, ms: number): Promise<void> {
  const body = answer()
  const reply = (res: ServerResponse) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length })
    res.end(body)
  }
  const server = createServer((req, res) => {
    req.resume()
    if (mode === 'wait') {
      setTimeout(() => reply(res), ms)
      return
    }
    const until = performance.now() + ms
    while (performance.now() < until);
    reply(res)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  process.send?.((server.address() as AddressInfo).port)
}

interface PaceResult {
  mode: 'spin' | 'wait'
  ms: number
  /** Client CPU (user + system) per call, each of three measurements. */
  cpuUsPerCall: number[]
  /** Times the client slept waiting per call (voluntary context switches). */
  sleepsPerCall: number
}

async function measurePace (mode: 'spin' | 'wait', ms: number): Promise<PaceResult> {
  const script = fileURLToPath(import.meta.url)
  const server = fork(script, ['--serve', mode, '--ms', String(ms)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const port = await new Promise<number>((resolve) => server.once('message', (p) => resolve(p as number)))
  const agent = new Agent({ connections: IN_FLIGHT })
  const path = `/v0.10/task_list?filter=${encodeURIComponent(`task_id:${Array(50).fill('8a4d2a3e-1234-11ef-9c3a-0242ac130002').join(',')}`)}&limit=50&fields=${taskFieldNames.join(',')}`
  const one = async () => {
    const res = await requestText(agent, { origin: `http://127.0.0.1:${port}`, path, method: 'GET', headers: { accept: 'application/json', authorization: `Bearer ${'x'.repeat(48)}` } })
    if ((JSON.parse(res.text) as { DATA: unknown[] }).DATA.length !== 50) throw new Error('short answer')
  }
  // a waiting server answers slowly: fewer calls keep the measurement short
  const calls = mode === 'wait' ? Math.max(100, Math.round((CALLS * 2) / ms)) : CALLS
  const run = async () => {
    let started = 0
    await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
      while (started++ < calls) await one()
    }))
  }
  try {
    await run()
    const cpu: number[] = []
    let sleeps = 0
    for (let i = 0; i < 3; i++) {
      const switches = process.resourceUsage().voluntaryContextSwitches
      const before = process.cpuUsage()
      await run()
      const used = process.cpuUsage(before)
      sleeps += process.resourceUsage().voluntaryContextSwitches - switches
      cpu.push(round((used.user + used.system) / calls, 0))
    }
    return { mode, ms, cpuUsPerCall: cpu, sleepsPerCall: round(sleeps / (3 * calls), 2) }
  } finally {
    server.kill()
    await agent.close()
  }
}

export async function answerPaceBench (): Promise<Target[]> {
  const results: PaceResult[] = []
  for (const { mode, ms } of paces) {
    console.error(`answer-pace: server ${mode === 'spin' ? 'working' : 'waiting'} ${ms} ms per answer ...`)
    results.push(await measurePace(mode, ms))
  }
  console.log(`\n## answer-pace: client CPU per 50-task task_list call (${IN_FLIGHT} in flight), by how the server answers (no target)\n`)
  console.log(
    table(
      ['server, per answer', 'client CPU µs per call (median of 3)', 'the three', 'client sleeps per call', 'per tracked transfer µs'],
      results.map((r) => [
        r.ms === 0 ? 'at once' : `${r.mode === 'spin' ? 'works' : 'waits'} ${r.ms} ms`,
        median(r.cpuUsPerCall),
        r.cpuUsPerCall.join(', '),
        r.sleepsPerCall,
        round(median(r.cpuUsPerCall) / 50, 1),
      ])
    )
  )
  const file = writeResult('answer-pace', { setup: { calls: CALLS, inFlight: IN_FLIGHT, idsPerCall: 50 }, results })
  console.log(`\nwritten ${file}`)
  return []
}

if (arg('serve')) await serve(arg('serve')!, Number(arg('ms')))
else if (process.argv[1] === fileURLToPath(import.meta.url)) await answerPaceBench()
