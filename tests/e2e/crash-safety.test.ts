// Crash safety of the built service: SIGKILL at random moments under load, and SIGTERM under load.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { afterEach, describe, expect, it } from 'vitest'
import { startWorld, type World } from '../../src/sandbox/world.js'
import { prng, ServiceProcess, type SubmitItem, Submitter, waitUntil, freePort, writeConfig } from '../helpers/service-process.js'
import { allFinished as finished, expectExactlyOnce, transferJobs } from '../helpers/exactly-once.js'
import { yaml } from '../helpers/transfers.js'

const seed = Number(process.env.CRASH_SAFETY_SEED ?? 20_260_117)

let world: World | undefined
let service: ServiceProcess | undefined
let submitter: Submitter | undefined
let dir: string | undefined
afterEach(async () => {
  await submitter?.close()
  await service?.kill('SIGKILL')
  await world?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
  submitter = undefined
  service = undefined
  world = undefined
  dir = undefined
})

/** Simulators whose transfers take a couple of seconds, `n` one-file datasets, and a config file for `serve`. */
const allFinished = (w: World, ids: Iterable<string>, timeoutMs: number) => finished(w, ids, timeoutMs, () => service?.log ?? '')

async function setUp (n: number, prefix: string): Promise<{ w: World; config: string; items: SubmitItem[] }> {
  const w = await startWorld({
    datasets: 0,
    globus: { bytesPerSecond: 100_000, minTaskMs: 2000 },
    configExtra: yaml({
      task: { pollInterval: 0.2, discoveryInterval: 1, maxConcurrency: 20 },
      globus: { maxRequestsPerSecond: 1000 },
    }),
  })
  world = w
  dir = mkdtempSync(join(tmpdir(), 'sgp-crash-'))
  const items = Array.from({ length: n }, (_, i) => {
    const pid = `20.500.12345/${prefix}-${i + 1}`
    w.addDataset(pid, { 'data.bin': `${pid}\n`.repeat(100) })
    return { pid, key: `${prefix}-${seed}-${i + 1}` }
  })
  return { w, config: writeConfig(dir, w.configText), items }
}

describe('crash safety of the built service', () => {
  it('SIGKILL at random moments, during submission too: every accepted transfer finishes, each submitted to Globus once', { timeout: 180_000 }, async () => {
    console.info(`crash-safety seed ${seed} (set CRASH_SAFETY_SEED to replay)`)
    const random = prng(seed)
    const { w, config, items } = await setUp(200, 'crash')
    const port = await freePort()
    service = await ServiceProcess.start({ config, env: w.env, port })
    const client = new Submitter({ port: () => port, token: w.tokens.alice, items, concurrency: 10, retry: true })
    submitter = client
    const submitting = client.run()

    // while requests are being submitted, 8 kills come soon and only with requests in flight;
    // then more while the transfers run and finish (archive jobs, final updates), 10 or more in all
    let killsMidRequest = 0
    let killsAfter = 0
    const started = Date.now()
    for (;;) {
      const duringSubmission = !client.finished
      if (!duringSubmission && killsMidRequest + killsAfter >= 10 && killsAfter >= 3) break
      if (duringSubmission && killsMidRequest >= 8) {
        await waitUntil('every request answered 200', () => client.finished, { timeoutMs: 60_000 })
        continue
      }
      await delay(duringSubmission ? random() * 400 : 100 + random() * 900)
      if (duringSubmission) await waitUntil('a request in flight', () => client.inFlight > 0 || client.finished)
      if (client.inFlight > 0) killsMidRequest++
      else killsAfter++
      await service.kill('SIGKILL')
      service = await ServiceProcess.start({ config, env: w.env, port })
    }
    await submitting
    const kills = killsMidRequest + killsAfter
    console.info(`${kills} SIGKILLs (${killsMidRequest} with requests in flight, ${killsAfter} after), ${client.attempts} POSTs for ${items.length} transfers, ${Date.now() - started} ms`)

    expect(client.refused).toEqual([])
    expect(kills).toBeGreaterThanOrEqual(10)
    expect(killsMidRequest).toBeGreaterThanOrEqual(3)
    expect(client.accepted.size).toBe(items.length)
    await allFinished(w, client.accepted.values(), 90_000)

    // one job per Idempotency-Key: no orphan, no duplicate
    const jobs = transferJobs(w)
    expect(jobs).toHaveLength(items.length)
    expect(new Set(jobs.map((j) => j.id))).toEqual(new Set(client.accepted.values()))
    for (const job of jobs) expect(client.accepted.get(job.jobParams.idempotencyKey as string)).toBe(job.id)
    expect(new Set(jobs.map((j) => (j.jobParams.datasetList as Array<{ pid: string }>)[0]!.pid))).toEqual(new Set(items.map((i) => i.pid)))
    expectExactlyOnce(w)

    // a repeat of every request, to a process that never saw them, answers the first jobId
    for (let i = 0; i < items.length; i += 10) {
      const answers = await Promise.all(items.slice(i, i + 10).map(async (item) => ({ item, answer: await client.post(item) })))
      for (const { item, answer } of answers) {
        expect(answer.status).toBe(200)
        expect(JSON.parse(answer.body)).toEqual({ jobId: client.accepted.get(item.key) })
      }
    }
    expect(transferJobs(w)).toHaveLength(items.length)
  })

  it('SIGTERM during load exits 0 within 10 s, loses no accepted request, and the next process finishes every job', { timeout: 180_000 }, async () => {
    const { w, config, items } = await setUp(150, 'term')
    const port = await freePort()
    service = await ServiceProcess.start({ config, env: w.env, port })
    const client = new Submitter({ port: () => port, token: w.tokens.alice, items, concurrency: 10, retry: false })
    submitter = client
    const submitting = client.run()

    await waitUntil('transfers running at Globus', () => client.accepted.size >= 20 && w.globus.tasks().some((t) => t.status === 'ACTIVE'))
    // the next requests dwell at Globus's submission_id: SIGTERM comes while they are inside the service
    const holding = 4
    const reached = w.globus.core.count('submission_id') + holding
    w.globus.core.inject('submission_id', { latencyMs: 500, times: holding })
    await waitUntil('requests held inside the service', () => w.globus.core.count('submission_id') >= reached)
    // and the tracker's cycle is still reading Globus after the last request was answered: the
    // shutdown must wait for that cycle and let it write its updates before closing its clients
    w.globus.core.inject('task_list', { latencyMs: 1500, times: 2 })
    const inFlight = client.inFlight
    const sentAt = Date.now()
    service.child.kill('SIGTERM')
    const exit = await service.exitWithin(15_000)
    const tookMs = Date.now() - sentAt
    client.stop()
    await submitting
    expect(exit, `after SIGTERM: ${JSON.stringify(exit) ?? 'still running'} at ${tookMs} ms\n--- service log ---\n${service.log}`).toEqual({ code: 0, signal: null })
    expect(tookMs).toBeLessThan(10_000)
    console.info(`SIGTERM with ${inFlight} requests in flight: exit 0 after ${tookMs} ms; ${client.accepted.size} accepted`)

    // the requests inside the service were finished, not dropped
    expect(client.history.filter((h) => h.status === 200 && h.answeredAt >= sentAt).length).toBeGreaterThanOrEqual(holding)
    // every request answered 200 has its job in SciCat, and the Globus tasks so far belong to jobs
    for (const jobId of client.accepted.values()) {
      const job = w.scicat.job(jobId)
      expect(job, `job ${jobId}`).toBeDefined()
      const taskId = w.globus.taskIdForSubmission(job!.jobParams.globusSubmissionId as string)
      expect(taskId, `Globus task of ${jobId}`).toBeDefined()
      expect((job!.jobResultObject as { globusTaskId?: string }).globusTaskId).toBe(taskId)
    }
    const submissionIds = new Set(transferJobs(w).map((j) => j.jobParams.globusSubmissionId))
    for (const task of w.globus.tasks()) expect(submissionIds.has(w.globus.submission(task.task_id)?.submission_id)).toBe(true)

    service = await ServiceProcess.start({ config, env: w.env, port })
    await allFinished(w, client.accepted.values(), 60_000)
    for (const job of transferJobs(w)) {
      const key = job.jobParams.idempotencyKey as string
      if (client.accepted.has(key)) expect(client.accepted.get(key)).toBe(job.id)
    }
    expectExactlyOnce(w)
  })
})
