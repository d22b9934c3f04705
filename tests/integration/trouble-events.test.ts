// Why a transfer has trouble: Globus's latest error event, read once per change and bounded per cycle.
import { afterEach, expect, it } from 'vitest'
import { type Setup, startAll } from '../helpers/proxy.js'
import { jobOf, resultOf, startTransfer, yaml } from '../helpers/transfers.js'

let setup: Setup | undefined
afterEach(async () => {
  await setup?.close()
  setup = undefined
})

async function cycle (s: Setup): Promise<void> {
  s.clock.advance(1000)
  await s.proxy.app.tracker.runCycle()
}

it('shows the latest error event when nice_status leaves OK or the task goes INACTIVE, read once per change', async () => {
  setup = await startAll({ globus: { bytesPerSecond: 10_000 } })
  const s = setup
  const { world } = s
  const jobId = await startTransfer(s.proxy, world, world.datasets[0]!.pid)
  const taskId = resultOf(world, jobId).globusTaskId
  await cycle(s)
  expect(world.globus.core.count('event_list')).toBe(0)
  expect(resultOf(world, jobId).lastError).toBeUndefined()

  world.globus.setNiceStatus(taskId, 'PERMISSION_DENIED')
  await cycle(s)
  expect(world.globus.core.count('event_list')).toBe(1)
  const first = resultOf(world, jobId).lastError
  expect(first).toMatch(/^PERMISSION_DENIED: permission denied — PERMISSION_DENIED \(simulated\) \(\d{4}-/)
  expect(jobOf(world, jobId).statusMessage).toContain('Globus reports PERMISSION_DENIED')
  expect(jobOf(world, jobId).statusMessage).toContain(`latest Globus error: ${first}`)
  // the same trouble: not read again, and the job keeps showing it
  await cycle(s)
  await cycle(s)
  expect(world.globus.core.count('event_list')).toBe(1)
  expect(resultOf(world, jobId).lastError).toBe(first)

  // another trouble: read again
  world.globus.setNiceStatus(taskId, 'CONNECT_FAILED')
  await cycle(s)
  expect(world.globus.core.count('event_list')).toBe(2)
  expect(resultOf(world, jobId).lastError).toMatch(/^CONNECT_FAILED: /)

  // healthy again: the error goes
  world.globus.setNiceStatus(taskId, null)
  await cycle(s)
  expect(resultOf(world, jobId).lastError).toBeUndefined()
  expect(jobOf(world, jobId).statusMessage).not.toContain('latest Globus error')

  // INACTIVE: the latest error event is read once more
  world.globus.setInactive(taskId)
  await cycle(s)
  expect(world.globus.core.count('event_list')).toBe(3)
  expect(jobOf(world, jobId).statusMessage).toMatch(/^inactive at Globus/)
  expect(resultOf(world, jobId).lastError).toMatch(/^CONNECT_FAILED: /)
})

it('reads at most task.progressUpdatesPerCycle error events a cycle; the others on the next cycles', async () => {
  setup = await startAll({ globus: { bytesPerSecond: 10_000 } }, yaml({ task: { progressUpdatesPerCycle: 1 } }))
  const s = setup
  const { world } = s
  const jobIds = await Promise.all(world.datasets.slice(0, 2).map((d) => startTransfer(s.proxy, world, d.pid)))
  await cycle(s)
  for (const id of jobIds) world.globus.setNiceStatus(resultOf(world, id).globusTaskId, 'ENDPOINT_TOO_BUSY')
  await cycle(s)
  expect(world.globus.core.count('event_list')).toBe(1)
  expect(jobIds.filter((id) => resultOf(world, id).lastError !== undefined)).toHaveLength(1)
  // the other one shows its trouble already, and its error event next cycle
  for (const id of jobIds) expect(jobOf(world, id).statusMessage).toContain('ENDPOINT_TOO_BUSY')
  await cycle(s)
  expect(world.globus.core.count('event_list')).toBe(2)
  for (const id of jobIds) expect(resultOf(world, id).lastError).toMatch(/^ENDPOINT_TOO_BUSY: /)
})
