import { afterEach, describe, expect, it } from 'vitest'
import { ingestorQuery, type Setup, startAll } from '../helpers/proxy.js'

let setup: Setup | undefined
afterEach(async () => {
  await setup?.close()
  setup = undefined
})

describe('tracker shutdown', () => {
  it('does not wait past its bound for a cycle stuck in upstream calls, and the clients then abort them', async () => {
    setup = await startAll()
    const { world, proxy } = setup
    const res = await proxy.app.inject({
      method: 'POST',
      url: `/transfer?${ingestorQuery(world.datasets[0]!.pid)}`,
      headers: { 'SciCat-API-Key': world.tokens.alice },
    })
    expect(res.statusCode).toBe(200)
    // every task_list answer now takes a minute: the cycle cannot finish on its own
    world.globus.core.inject('task_list', { latencyMs: 60_000, times: 10 })
    let cycleEnded = false
    const cycle = proxy.app.tracker.runCycle().finally(() => {
      cycleEnded = true
    })
    await waitFor(() => world.globus.core.count('task_list') > 0)
    await proxy.app.tracker.stop(100)
    expect(cycleEnded).toBe(false)
    // closing the upstream clients aborts the stuck request; the cycle then ends by itself
    await proxy.deps.close()
    await cycle
    expect(cycleEnded).toBe(true)
  })
})

async function waitFor (condition: () => boolean, deadlineMs = 5000): Promise<void> {
  const end = Date.now() + deadlineMs
  while (!condition()) {
    if (Date.now() > end) throw new Error('condition not reached')
    await new Promise((resolve) => setImmediate(resolve))
  }
}
