// Submission refusals (README "When Globus refuses a submission"): retryable ones wait with backoff, at most globus.submitAttempts.
import { afterEach, expect, it } from 'vitest'
import { type Setup, startAll } from '../helpers/proxy.js'
import { jobOf, resultOf, startTransfer, yaml } from '../helpers/transfers.js'

let setup: Setup | undefined
afterEach(async () => {
  await setup?.close()
  setup = undefined
})

async function cycleAt (s: Setup, advanceMs: number): Promise<void> {
  s.clock.advance(advanceMs)
  await s.proxy.app.tracker.runCycle()
}

it('keeps a job Globus refuses with a code it does not document queued, retries it after 1, then 2 poll intervals, and submits it', async () => {
  setup = await startAll({}, yaml({ task: { pollInterval: 10 } }))
  const s = setup
  const { world } = s
  world.globus.core.inject('transfer', { status: 400, body: { code: 'ClientError.SomethingNew', message: 'not now' }, times: 2 })
  const jobId = await startTransfer(s.proxy, world, world.datasets[0]!.pid)
  expect(jobOf(world, jobId).statusCode).toBe('queued')
  expect(world.globus.core.count('transfer')).toBe(1)
  // not due before one poll interval
  await cycleAt(s, 5000)
  expect(world.globus.core.count('transfer')).toBe(1)
  await cycleAt(s, 5000)
  expect(world.globus.core.count('transfer')).toBe(2)
  expect(jobOf(world, jobId).statusCode).toBe('queued')
  // the second refusal doubles the wait
  await cycleAt(s, 10_000)
  expect(world.globus.core.count('transfer')).toBe(2)
  await cycleAt(s, 10_000)
  expect(world.globus.core.count('transfer')).toBe(3)
  expect(jobOf(world, jobId).statusCode).toBe('submitted')
  expect(resultOf(world, jobId).globusTaskId).not.toBe('')
})

it('fails the job with Globus\'s last code and message once globus.submitAttempts submissions were refused', async () => {
  setup = await startAll({}, yaml({ task: { pollInterval: 1 }, globus: { submitAttempts: 3 } }))
  const s = setup
  const { world } = s
  // what Globus answers past its pending-task limit is not documented: a Conflict is retryable
  world.globus.core.inject('transfer', { status: 409, body: { code: 'Conflict', message: 'Too many pending tasks' }, times: 10 })
  const jobId = await startTransfer(s.proxy, world, world.datasets[0]!.pid)
  for (let i = 0; i < 10 && jobOf(world, jobId).statusCode !== 'failed'; i++) await cycleAt(s, 60_000)
  expect(world.globus.core.count('transfer')).toBe(3)
  const job = jobOf(world, jobId)
  expect(job.statusCode).toBe('failed')
  expect(resultOf(world, jobId).error).toBe('Conflict: Too many pending tasks (refused 3 times)')
  expect(s.proxy.app.tracker.transfers.size).toBe(0)
  expect(world.globus.tasks()).toHaveLength(0)
})

it('lets other queued jobs go ahead while a refused one waits for its retry', async () => {
  setup = await startAll({}, yaml({ task: { pollInterval: 10 }, globus: { maxActiveTasks: 5 } }))
  const s = setup
  const { world } = s
  world.globus.core.inject('transfer', { status: 503, body: { code: 'ServiceUnavailable', message: 'busy' }, times: 6 })
  const first = await startTransfer(s.proxy, world, world.datasets[0]!.pid)
  expect(jobOf(world, first).statusCode).toBe('queued')
  const second = await startTransfer(s.proxy, world, world.datasets[1]!.pid)
  await cycleAt(s, 1000)
  // the second job was submitted; the first waits for its backoff
  expect(jobOf(world, second).statusCode).toBe('submitted')
  expect(jobOf(world, first).statusCode).toBe('queued')
  await cycleAt(s, 10_000)
  expect(jobOf(world, first).statusCode).toBe('submitted')
})
