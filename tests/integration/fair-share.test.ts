// Fair share in the Globus capacity queue (DESIGN §6): free slots by owner, per-user and per-facility limits, the order after a restart.
import { afterEach, describe, expect, it } from 'vitest'
import type { World } from '../../src/sandbox/world.js'
import { sandboxCollections, sandboxFacilities } from '../../src/sandbox/world.js'
import { roughCount } from '../../src/transfers/queued-view.js'
import { startWithConfig } from '../helpers/custom-config.js'
import { cyclesUntil, type Setup, startProxy } from '../helpers/proxy.js'
import { addDatasets, globusSubmissionOrder, jobOf, startTransfer, submissionIdOf } from '../helpers/transfers.js'

let setup: Setup | undefined
afterEach(async () => {
  await setup?.close()
  setup = undefined
})

const BOB_GROUP = 'p67890'

/** The world's PSI and CSCS, and ESRF, a third destination (on the destination collection); `globus` and `cscs` are YAML keys. */
function configText (world: World, { globus = '', cscs = '' }: { globus?: string; cscs?: string } = {}): string {
  return `scicatUrl: ${world.scicatUrl}/
facilities:
${sandboxFacilities}${cscs ? `    ${cscs}\n` : ''}  - name: ESRF
    collection: ${sandboxCollections.destination}
    direction: DST
    accessValue: CSCS
    destinationPath: "/esrf/{{ .PidShort }}"
globus:
  maxRequestsPerSecond: 1000
${globus
  .split('\n')
  .filter(Boolean)
  .map((line) => `  ${line}`)
  .join('\n')}
`
}

async function start (options: { globus?: string; cscs?: string; bytesPerSecond?: number } = {}): Promise<Setup> {
  setup = await startWithConfig((world) => configText(world, options), {
    datasets: 0,
    globus: { bytesPerSecond: options.bytesPerSecond ?? 100_000, minTaskMs: 0 },
  })
  return setup
}

const as = (world: World, user: 'alice' | 'bob', destFacility = 'CSCS') => ({
  token: world.tokens[user],
  query: { autoArchive: 'false', destFacility },
})

/** Unfinished Globus tasks, as the jobs that started them: [ownerUser, destFacility] each. */
function unfinishedTasks (world: World): Array<{ user: string; dest: string }> {
  const jobs = new Map(
    world.scicat
      .jobs()
      .filter((j) => j.type === 'globus_transfer_job')
      .map((j) => [submissionIdOf(world, j.id), j])
  )
  return world.globus
    .tasks()
    .filter((t) => t.status === 'ACTIVE' || t.status === 'INACTIVE')
    .map((t) => {
      const job = jobs.get(world.globus.submission(t.task_id)!.submission_id)!
      return { user: job.ownerUser!, dest: job.jobParams.destFacility as string }
    })
}

const count = <T>(xs: T[], p: (x: T) => boolean) => xs.filter(p).length

describe('fair share (globus.fairShare: user, the default)', () => {
  it('user A queues 100, then user B queues 2: B\'s are submitted at the next two free slots', async () => {
    const s = await start({ globus: 'maxActiveTasks: 5' })
    const { world, proxy } = s
    // alice's first five take the slots and end one after the other (100 kB/s each): 1 s, 2 s, ...
    const first = Array.from({ length: 5 }, (_, i) => {
      const pid = `20.500.12345/first-${i + 1}`
      world.addDataset(pid, { 'data.bin': 'd'.repeat(100_000 * (i + 1)) })
      return pid
    })
    const alice: string[] = []
    for (const pid of first) alice.push(await startTransfer(proxy, world, pid, as(world, 'alice')))
    const rest = addDatasets(world, 95, 10_000, 'alice')
    alice.push(...(await Promise.all(rest.map((pid) => startTransfer(proxy, world, pid, as(world, 'alice'))))))
    expect(globusSubmissionOrder(world, alice)).toEqual(alice.slice(0, 5))
    const bobPids = addDatasets(world, 2, 10_000, 'bob', BOB_GROUP)
    const bob: string[] = []
    for (const pid of bobPids) bob.push(await startTransfer(proxy, world, pid, as(world, 'bob')))
    // alice has 5 tasks and bob none: bob's come first, from the moment they are queued
    expect(bob.map((id) => jobOf(world, id).statusMessage)).toEqual(['queued for Globus: 0 ahead', 'queued for Globus: 1 ahead'])

    // a cycle before any slot frees: "N ahead" is each job's place in the fair order, rounded
    await proxy.app.tracker.runCycle()
    const queue = proxy.app.tracker.queue
    expect(queue.slice(0, 2)).toEqual(bob)
    expect(queue).toHaveLength(97)
    queue.forEach((id, i) => expect(jobOf(world, id).statusMessage).toBe(`queued for Globus: ${roughCount(i)} ahead`))
    // written only when the rounded message changes: another cycle PATCHes no queued job
    world.scicat.core.resetCounts()
    await proxy.app.tracker.runCycle()
    expect(world.scicat.core.count('updateJob')).toBe(0)

    const metrics = (await proxy.app.inject({ method: 'GET', url: '/metrics' })).body
    expect(metrics).toMatch(/^scicat_globus_proxy_transfers_queued\{facility="CSCS"\} 97$/m)
    expect(metrics).toMatch(/^scicat_globus_proxy_transfers_queued\{facility="PSI"\} 97$/m)
    expect(metrics).toMatch(/^scicat_globus_proxy_transfers_queued\{facility="ESRF"\} 0$/m)
    expect(metrics).toMatch(/^scicat_globus_proxy_queue_owners_waiting 2$/m)

    // the next two tasks Globus gets are bob's
    const all = [...alice, ...bob]
    await cyclesUntil(s, () => globusSubmissionOrder(world, all).length >= 7, { stepMs: 500, max: 40 })
    expect(globusSubmissionOrder(world, all).slice(5, 7)).toEqual(bob)
    expect(proxy.app.tracker.ownersWaiting).toBe(1)
  }, 60_000)

  it('maxActiveTasksPerUser: a user at the limit waits while another user\'s transfers go at once', async () => {
    const s = await start({ globus: 'maxActiveTasks: 10\nmaxActiveTasksPerUser: 2' })
    const { world, proxy } = s
    const alice: string[] = []
    for (const pid of addDatasets(world, 5, 200_000, 'alice')) alice.push(await startTransfer(proxy, world, pid, as(world, 'alice')))
    const bob: string[] = []
    for (const pid of addDatasets(world, 2, 200_000, 'bob', BOB_GROUP)) bob.push(await startTransfer(proxy, world, pid, as(world, 'bob')))
    expect(alice.map((id) => jobOf(world, id).statusCode)).toEqual(['submitted', 'submitted', 'queued', 'queued', 'queued'])
    // bob is not held up behind alice's held jobs, although 6 slots are free
    expect(bob.map((id) => jobOf(world, id).statusCode)).toEqual(['submitted', 'submitted'])
    expect(alice.slice(2).map((id) => jobOf(world, id).statusMessage)).toEqual(
      [0, 1, 2].map((n) => `queued for Globus: ${n} ahead (at most 2 tasks per user at once)`)
    )

    const all = [...alice, ...bob]
    await cyclesUntil(
      s,
      () => {
        const tasks = unfinishedTasks(world)
        expect(count(tasks, (t) => t.user === 'alice')).toBeLessThanOrEqual(2)
        expect(count(tasks, (t) => t.user === 'bob')).toBeLessThanOrEqual(2)
        return all.every((id) => jobOf(world, id).statusCode === 'finished')
      },
      { stepMs: 500, max: 60 }
    )
    expect(globusSubmissionOrder(world, all)).toEqual([alice[0], alice[1], bob[0], bob[1], alice[2], alice[3], alice[4]])
  }, 60_000)

  it('a facility at its maxActiveTasks holds only the transfers that use it: the others are not stalled', async () => {
    const s = await start({ globus: 'maxActiveTasks: 10', cscs: 'maxActiveTasks: 2' })
    const { world, proxy } = s
    const toCscs: string[] = []
    for (const pid of addDatasets(world, 4, 200_000, 'cscs')) toCscs.push(await startTransfer(proxy, world, pid, as(world, 'alice')))
    const toEsrf: string[] = []
    // the ESRF transfers run longer (10 s): they still hold slots when CSCS frees
    for (const pid of addDatasets(world, 2, 1_000_000, 'esrf')) toEsrf.push(await startTransfer(proxy, world, pid, as(world, 'alice', 'ESRF')))
    const bobCscs = await startTransfer(proxy, world, addDatasets(world, 1, 200_000, 'bob-cscs', BOB_GROUP)[0]!, as(world, 'bob'))
    const bobEsrf = await startTransfer(proxy, world, addDatasets(world, 1, 1_000_000, 'bob-esrf', BOB_GROUP)[0]!, as(world, 'bob', 'ESRF'))

    expect(toCscs.map((id) => jobOf(world, id).statusCode)).toEqual(['submitted', 'submitted', 'queued', 'queued'])
    // PSI → ESRF goes at once, past the held PSI → CSCS jobs
    expect([...toEsrf, bobEsrf].map((id) => jobOf(world, id).statusCode)).toEqual(['submitted', 'submitted', 'submitted'])
    expect(jobOf(world, bobCscs).statusCode).toBe('queued')
    await proxy.app.tracker.runCycle()
    // bob has fewer tasks than alice: his CSCS transfer is first in line
    expect(proxy.app.tracker.queue).toEqual([bobCscs, toCscs[2], toCscs[3]])
    expect(jobOf(world, toCscs[2]!).statusMessage).toBe('queued for Globus: 1 ahead (facility CSCS takes at most 2 tasks at once)')

    const all = [...toCscs, ...toEsrf, bobCscs, bobEsrf]
    // more ESRF work arrives while CSCS is full, and still goes at once
    const later = await startTransfer(proxy, world, addDatasets(world, 1, 1_000_000, 'esrf-later')[0]!, as(world, 'alice', 'ESRF'))
    expect(jobOf(world, later).statusCode).toBe('submitted')
    all.push(later)
    await cyclesUntil(
      s,
      () => {
        expect(count(unfinishedTasks(world), (t) => t.dest === 'CSCS')).toBeLessThanOrEqual(2)
        return all.every((id) => jobOf(world, id).statusCode === 'finished')
      },
      { stepMs: 500, max: 60 }
    )
    const order = globusSubmissionOrder(world, all)
    expect(order.indexOf(bobCscs)).toBeLessThan(order.indexOf(toCscs[2]!))
  }, 60_000)

  it('after a restart the order is the same, rebuilt from the jobs, and no queued job is written again', async () => {
    const s = await start({ globus: 'maxActiveTasks: 2' })
    const { world, clock } = s
    let proxy = s.proxy
    const post = async (pid: string, user: 'alice' | 'bob') => {
      clock.advance(5) // distinct createdAt: SciCat stamps milliseconds
      return startTransfer(proxy, world, pid, as(world, user))
    }
    const jobs: string[] = []
    for (const pid of addDatasets(world, 4, 200_000, 'alice-a')) jobs.push(await post(pid, 'alice'))
    for (const pid of addDatasets(world, 3, 200_000, 'bob', BOB_GROUP)) jobs.push(await post(pid, 'bob'))
    for (const pid of addDatasets(world, 2, 200_000, 'alice-b')) jobs.push(await post(pid, 'alice'))
    await proxy.app.tracker.runCycle()
    const before = proxy.app.tracker.queue
    expect(before).toHaveLength(7)
    // alice has both slots: bob's two first; then alice and bob have two each, and alice's next
    // job has waited longer than bob's third; within each owner, first in first out
    expect(before).toEqual([jobs[4], jobs[5], jobs[2], jobs[6], jobs[3], jobs[7], jobs[8]])
    const messages = before.map((id) => jobOf(world, id).statusMessage)
    const updated = before.map((id) => jobOf(world, id).updatedAt)

    await proxy.close()
    clock.advance(1)
    proxy = await startProxy({ ...world, configText: configText(world, { globus: 'maxActiveTasks: 2' }) }, '\n', clock)
    const restarted = proxy
    setup = { ...s, proxy, close: async () => { await restarted.close(); await world.close() } }
    expect(await proxy.app.tracker.discover()).toBe(9)
    expect(proxy.app.tracker.queue).toEqual(before)
    await proxy.app.tracker.runCycle()
    expect(proxy.app.tracker.queue).toEqual(before)
    expect(before.map((id) => jobOf(world, id).statusMessage)).toEqual(messages)
    expect(before.map((id) => jobOf(world, id).updatedAt)).toEqual(updated)
  }, 60_000)
})

describe('globus.fairShare: none', () => {
  it('is one FIFO over every user', async () => {
    const s = await start({ globus: 'maxActiveTasks: 2\nfairShare: none' })
    const { world, proxy, clock } = s
    const jobs: string[] = []
    const post = async (pid: string, user: 'alice' | 'bob') => {
      clock.advance(5)
      jobs.push(await startTransfer(proxy, world, pid, as(world, user)))
    }
    for (const pid of addDatasets(world, 3, 50_000, 'alice-a')) await post(pid, 'alice')
    for (const pid of addDatasets(world, 2, 50_000, 'bob', BOB_GROUP)) await post(pid, 'bob')
    for (const pid of addDatasets(world, 2, 50_000, 'alice-b')) await post(pid, 'alice')
    expect(jobs.slice(2).map((id) => jobOf(world, id).statusMessage)).toEqual([0, 1, 2, 3, 4].map((n) => `queued for Globus: ${n} ahead`))
    await cyclesUntil(s, () => jobs.every((id) => jobOf(world, id).statusCode === 'finished'), { stepMs: 500, max: 60 })
    expect(globusSubmissionOrder(world, jobs)).toEqual(jobs)
  }, 60_000)
})
