import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../src/config/loader.js'
import { Metrics } from '../../src/metrics.js'
import { CapacityQueue } from '../../src/transfers/capacity-queue.js'
import type { Transfer } from '../../src/transfers/transfer.js'

const t0 = Date.parse('2026-12-01T10:00:00.000Z')

function setup (globus: string, facilityLimits: Record<string, number> = {}) {
  const config = parseConfig(`scicatUrl: http://s/
globus: {${globus}}
facilities:
${['PSI', 'CSCS', 'ESRF'].map((n) => `  - {name: ${n}, collection: c-${n}${facilityLimits[n] ? `, maxActiveTasks: ${facilityLimits[n]}` : ''}}`).join('\n')}
`)
  const transfers = new Map<string, Transfer>()
  const metrics = new Metrics()
  const queue = new CapacityQueue(config, (id) => transfers.get(id), metrics)
  let n = 0
  // only what the capacity queue reads of a transfer
  const make = (user: string, dest = 'CSCS', group = `g-${user}`): Transfer => {
    const t = {
      jobId: `${user}-${n}`,
      owner: { ownerUser: user, ownerGroup: group },
      params: { sourceFacility: 'PSI', destFacility: dest },
      createdAt: new Date(t0 + n++ * 1000).toISOString(),
      state: 'queued',
    } as unknown as Transfer
    transfers.set(t.jobId, t)
    return t
  }
  const run = (t: Transfer) => {
    t.state = 'active'
    queue.occupy(t.jobId)
  }
  /** What the submitter does with free slots. */
  const fill = () => {
    const taken: string[] = []
    queue.beginFill()
    for (let t = queue.takeNext(); t; t = queue.takeNext()) {
      run(t)
      taken.push(t.jobId)
    }
    return taken
  }
  return { queue, make, run, fill, metrics }
}

describe('capacity queue', () => {
  it('fills free slots in the fair order and keeps a postponed job\'s turn', () => {
    const { queue, make, run, fill } = setup('maxActiveTasks: 3')
    for (let i = 0; i < 3; i++) run(make('alice'))
    const a = [make('alice'), make('alice')]
    const b = make('bob')
    for (const t of [...a, b]) queue.enqueue(t.jobId)
    expect(queue.queued).toEqual([b.jobId, a[0]!.jobId, a[1]!.jobId])
    expect(fill()).toEqual([])
    queue.release('alice-0')
    expect(fill()).toEqual([b.jobId])
    // postponed (Globus busy): back in line at its own place
    queue.release(b.jobId)
    b.state = 'queued'
    queue.requeue(b.jobId)
    expect(queue.queued).toEqual([b.jobId, a[0]!.jobId, a[1]!.jobId])
  })

  it('admits a new transfer at once only when nobody waits but jobs a limit holds', () => {
    const { queue, make, run } = setup('maxActiveTasks: 10', { CSCS: 1 })
    run(make('alice'))
    const held = make('alice')
    expect(queue.admitsNow(held)).toBe(false) // CSCS is full
    queue.enqueue(held.jobId)
    expect(queue.holdOfWaiting(held.jobId)).toEqual({ limit: 'facility', facility: 'CSCS', max: 1 })
    const elsewhere = make('bob', 'ESRF')
    expect(queue.admitsNow(elsewhere)).toBe(true)
    // once a slot is released the held job may go: a newcomer waits its turn
    queue.release('alice-0')
    expect(queue.admitsNow(make('carol', 'ESRF'))).toBe(false)
  })

  it('a job that waits for another reason than a limit makes newcomers wait too', () => {
    const { queue, make, run, fill } = setup('maxActiveTasks: 1')
    run(make('alice'))
    const waiting = make('alice', 'ESRF')
    queue.enqueue(waiting.jobId) // no slot free: not held by a limit
    queue.release('alice-0')
    expect(queue.admitsNow(make('bob', 'ESRF'))).toBe(false)
    expect(fill()).toEqual([waiting.jobId])
  })

  it('places a newcomer from counts, as the fair order will', () => {
    const { queue, make, run } = setup('maxActiveTasks: 2')
    run(make('alice'))
    run(make('alice'))
    for (let i = 0; i < 5; i++) queue.enqueue(make('alice').jobId)
    const b1 = make('bob')
    queue.enqueue(b1.jobId)
    expect(queue.placeOfNewcomer(b1.jobId)).toBe(0)
    const b2 = make('bob')
    queue.enqueue(b2.jobId)
    expect(queue.placeOfNewcomer(b2.jobId)).toBe(1)
    expect(queue.position(b2.jobId)).toBe(1)
  })

  it('counts owners waiting by user, or by group under group; gauges by facility', async () => {
    const { queue, make, metrics } = setup('fairShare: group')
    for (const t of [make('alice', 'CSCS', 'p1'), make('carol', 'ESRF', 'p1'), make('bob', 'CSCS', 'p2')]) queue.enqueue(t.jobId)
    expect(queue.ownersWaiting).toBe(2)
    expect(queue.waitingOwners()).toEqual([{ owner: 'p1', queued: 2 }, { owner: 'p2', queued: 1 }])
    queue.updateGauges()
    const text = await metrics.registry.metrics()
    expect(text).toMatch(/^scicat_globus_proxy_transfers_queued\{facility="PSI"\} 3$/m)
    expect(text).toMatch(/^scicat_globus_proxy_transfers_queued\{facility="CSCS"\} 2$/m)
    expect(text).toMatch(/^scicat_globus_proxy_transfers_queued\{facility="ESRF"\} 1$/m)
    expect(text).toMatch(/^scicat_globus_proxy_queue_owners_waiting 2$/m)
    const users = setup('')
    for (const t of [users.make('alice'), users.make('alice'), users.make('bob')]) users.queue.enqueue(t.jobId)
    expect(users.queue.waitingOwners()).toEqual([{ owner: 'alice', queued: 2 }, { owner: 'bob', queued: 1 }])
  })

  it('remove and restore: a cancel that could not be recorded puts the job back at its place', () => {
    const { queue, make } = setup('')
    const jobs = [make('alice'), make('alice'), make('alice')]
    for (const t of jobs) queue.enqueue(t.jobId)
    expect(queue.remove(jobs[0]!.jobId)).toBe(true)
    expect(queue.remove(jobs[0]!.jobId)).toBe(false)
    queue.restore(jobs[0]!.jobId)
    expect(queue.queued).toEqual(jobs.map((t) => t.jobId))
  })
})
