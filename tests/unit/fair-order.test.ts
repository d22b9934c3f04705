import { describe, expect, it } from 'vitest'
import {
  aheadOfNewcomer,
  type FairPolicy,
  type FairShare,
  fairOrder,
  type OwnedTransfer,
  ownerOf,
  type QueuedJob,
  TaskCounts,
} from '../../src/transfers/fair-order.js'
import { MinHeap } from '../../src/transfers/min-heap.js'

const t0 = Date.parse('2026-12-01T10:00:00.000Z')
let seq = 0
function job (id: string, user: string, options: Partial<QueuedJob> & { at?: number } = {}): QueuedJob {
  const { at, ...rest } = options
  return {
    id,
    ownerUser: user,
    ownerGroup: `g-${user}`,
    sourceFacility: 'PSI',
    destFacility: 'CSCS',
    createdAt: t0 + (at ?? seq) * 1000,
    seq: seq++,
    ...rest,
  }
}
function task (user: string, options: Partial<OwnedTransfer> = {}): OwnedTransfer {
  return { ownerUser: user, ownerGroup: `g-${user}`, sourceFacility: 'PSI', destFacility: 'CSCS', ...options }
}
const policy = (p: Partial<FairPolicy> = {}): FairPolicy => ({ fairShare: 'user', facilityLimits: new Map(), ...p })
const ids = (jobs: QueuedJob[]) => jobs.map((j) => j.id)

describe('fair order', () => {
  it('user A queues 100, then user B queues 2: B takes the next two free slots', () => {
    const a = Array.from({ length: 100 }, (_, i) => job(`a${i}`, 'alice'))
    const b = [job('b0', 'bob'), job('b1', 'bob')]
    // alice's first transfers took the free slots (maxActiveTasks 3) before bob came
    const order = fairOrder([...a, ...b], [task('alice'), task('alice'), task('alice')], policy())
    expect(ids(order.jobs).slice(0, 4)).toEqual(['b0', 'b1', 'a0', 'a1'])
    expect(order.ready).toBe(102)
    expect(order.jobs).toHaveLength(102)
    // alice's jobs keep their own order
    expect(ids(order.jobs).filter((id) => id.startsWith('a'))).toEqual(ids(a))
  })

  it('the README\'s worked example', () => {
    const q = [job('a5', 'alice'), job('a6', 'alice'), job('b1', 'bob'), job('b2', 'bob'), job('c1', 'carol')]
    const running = [task('alice'), task('alice'), task('alice'), task('alice')]
    expect(ids(fairOrder(q, running, policy()).jobs)).toEqual(['b1', 'c1', 'b2', 'a5', 'a6'])
    expect(ids(fairOrder(q, running, policy({ fairShare: 'none' })).jobs)).toEqual(['a5', 'a6', 'b1', 'b2', 'c1'])
  })

  it('a slot goes to the owner with the fewest tasks; ties to the job that has waited longest', () => {
    const q = [job('a0', 'alice', { at: 1 }), job('b0', 'bob', { at: 2 }), job('c0', 'carol', { at: 3 }), job('a1', 'alice', { at: 4 })]
    // alice 0 tasks, bob 1, carol 0: alice (older than carol), carol, then alice's second and bob tie at 1: bob waited longer
    const order = fairOrder(q, [task('bob')], policy())
    expect(ids(order.jobs)).toEqual(['a0', 'c0', 'b0', 'a1'])
  })

  it('equal createdAt: the job that arrived first', () => {
    const q = [job('x', 'alice', { at: 5 }), job('y', 'bob', { at: 5 }), job('z', 'alice', { at: 5 })]
    expect(ids(fairOrder(q, [], policy()).jobs)).toEqual(['x', 'y', 'z'])
    // the order is a function of the jobs, not of the order they are handed over in
    expect(ids(fairOrder([...q].reverse(), [], policy()).jobs)).toEqual(['x', 'y', 'z'])
  })

  it('none: one FIFO over everybody, by createdAt', () => {
    const q = [job('b0', 'bob', { at: 2 }), job('a0', 'alice', { at: 1 }), job('a1', 'alice', { at: 3 }), job('a2', 'alice', { at: 4 })]
    const order = fairOrder(q, [task('alice'), task('alice')], policy({ fairShare: 'none' }))
    expect(ids(order.jobs)).toEqual(['a0', 'b0', 'a1', 'a2'])
  })

  it('group: the share is the ownerGroup, whoever of the group queued', () => {
    const q = [
      job('a0', 'alice', { ownerGroup: 'p1', at: 1 }),
      job('c0', 'carol', { ownerGroup: 'p1', at: 2 }),
      job('b0', 'bob', { ownerGroup: 'p2', at: 3 }),
    ]
    expect(ids(fairOrder(q, [], policy({ fairShare: 'group' })).jobs)).toEqual(['a0', 'b0', 'c0'])
    expect(ids(fairOrder(q, [], policy({ fairShare: 'user' })).jobs)).toEqual(['a0', 'c0', 'b0'])
  })

  it('maxActiveTasksPerUser: a user at the limit waits, and the others go on', () => {
    const q = [job('a0', 'alice'), job('a1', 'alice'), job('a2', 'alice'), job('b0', 'bob')]
    const order = fairOrder(q, [task('alice')], policy({ maxActiveTasksPerUser: 2 }))
    // alice has 1 task: one more may go; bob's goes first (fewer tasks)
    expect(ids(order.jobs)).toEqual(['b0', 'a0', 'a1', 'a2'])
    expect(order.ready).toBe(2)
    expect(order.holds).toEqual([
      { limit: 'user', user: 'alice', max: 2 },
      { limit: 'user', user: 'alice', max: 2 },
    ])
  })

  it('the per-user limit counts users, under group shares too', () => {
    const q = [job('a0', 'alice', { ownerGroup: 'p1' }), job('a1', 'alice', { ownerGroup: 'p1' }), job('c0', 'carol', { ownerGroup: 'p1' })]
    const order = fairOrder(q, [task('alice', { ownerGroup: 'p1' })], policy({ fairShare: 'group', maxActiveTasksPerUser: 1 }))
    expect(ids(order.jobs)).toEqual(['c0', 'a0', 'a1'])
    expect(order.ready).toBe(1)
  })

  it('a facility at its limit holds only the jobs that use it: no head-of-line blocking, not even within one owner', () => {
    const q = [
      job('a0', 'alice', { destFacility: 'ESRF' }),
      job('a1', 'alice', { destFacility: 'ESRF' }),
      job('a2', 'alice'),
      job('b0', 'bob', { destFacility: 'ESRF' }),
      job('b1', 'bob'),
    ]
    const order = fairOrder(q, [task('carol', { destFacility: 'ESRF' })], policy({ facilityLimits: new Map([['ESRF', 2]]) }))
    // ESRF has one task: one more may go (a0); then every ESRF job is held and PSI → CSCS goes on
    expect(ids(order.jobs).slice(0, order.ready)).toEqual(['a0', 'b1', 'a2'])
    expect(ids(order.jobs).slice(order.ready)).toEqual(['b0', 'a1'])
    expect(order.holds).toEqual([
      { limit: 'facility', facility: 'ESRF', max: 2 },
      { limit: 'facility', facility: 'ESRF', max: 2 },
    ])
  })

  it('a transfer counts against both of its facilities', () => {
    const limits = policy({ facilityLimits: new Map([['PSI', 1]]) })
    // a task into PSI fills PSI as a destination, and a queued job out of PSI waits for it
    const held = fairOrder([job('a0', 'alice')], [task('bob', { sourceFacility: 'ESRF', destFacility: 'PSI' })], limits)
    expect(held.ready).toBe(0)
    expect(held.holds).toEqual([{ limit: 'facility', facility: 'PSI', max: 1 }])
    // and one placed in the order fills PSI for the next, in either role
    const q = [job('a0', 'alice'), job('b0', 'bob', { sourceFacility: 'ESRF', destFacility: 'PSI' }), job('c0', 'carol', { sourceFacility: 'ESRF' })]
    const order = fairOrder(q, [], limits)
    expect(ids(order.jobs).slice(0, order.ready)).toEqual(['a0', 'c0'])
    const counts = new TaskCounts('user', [task('x', { sourceFacility: 'PSI', destFacility: 'PSI' })])
    expect(counts.byFacility.get('PSI')).toBe(1) // within one facility: one task there
  })

  it('held jobs come after the ready ones, in fair order among themselves', () => {
    const q = [job('a0', 'alice'), job('a1', 'alice'), job('b0', 'bob'), job('b1', 'bob'), job('c0', 'carol', { destFacility: 'ESRF' })]
    const order = fairOrder(q, [], policy({ facilityLimits: new Map([['CSCS', 0]]) }))
    expect(ids(order.jobs)).toEqual(['c0', 'a0', 'b0', 'a1', 'b1'])
    expect(order.ready).toBe(1)
  })

  it('an empty queue, and a createdAt that did not parse (it waits last)', () => {
    expect(fairOrder([], [task('alice')], policy())).toEqual({ jobs: [], ready: 0, holds: [] })
    const q = [job('bad', 'alice', { createdAt: Date.parse('yesterday') }), job('a1', 'alice', { at: 9 })]
    expect(ids(fairOrder(q, [], policy()).jobs)).toEqual(['a1', 'bad'])
  })

  it('agrees with a brute-force simulation on random queues, limits and policies', () => {
    const random = mulberry32(12)
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!
    const users = ['u1', 'u2', 'u3', 'u4', 'u5']
    const facilities = ['F1', 'F2', 'F3', 'F4']
    const some = (): OwnedTransfer => {
      const user = pick(users)
      return { ownerUser: user, ownerGroup: pick(['p1', 'p2']), sourceFacility: pick(facilities), destFacility: pick(facilities) }
    }
    for (let round = 0; round < 300; round++) {
      const n = Math.floor(random() * 40)
      const queued = Array.from({ length: n }, (_, i) => ({ ...some(), id: `j${i}`, createdAt: t0 + Math.floor(random() * 20) * 1000, seq: i }))
      const active = Array.from({ length: Math.floor(random() * 8) }, some)
      const p = policy({
        fairShare: pick(['user', 'group', 'none'] as const),
        ...(random() < 0.5 ? { maxActiveTasksPerUser: Math.floor(random() * 4) } : {}),
        facilityLimits: new Map(facilities.filter(() => random() < 0.4).map((f) => [f, Math.floor(random() * 4)])),
      })
      const order = fairOrder(queued, active, p)
      const expected = bruteForce(queued, active, p)
      expect(ids(order.jobs)).toEqual(ids(expected.jobs))
      expect(order.ready).toBe(expected.ready)
    }
  })
})

describe('place of a newcomer', () => {
  it('is its index in the fair order, from counts alone', () => {
    const random = mulberry32(7)
    for (let round = 0; round < 200; round++) {
      const fairShare: FairShare = (['user', 'group', 'none'] as const)[round % 3]!
      const users = ['u1', 'u2', 'u3', 'u4']
      const someUser = () => users[Math.floor(random() * users.length)]!
      const queued = Array.from({ length: Math.floor(random() * 30) }, (_, i) => job(`j${i}`, someUser(), { at: Math.floor(random() * 10) }))
      const active = Array.from({ length: Math.floor(random() * 10) }, () => task(someUser()))
      const newcomer = job('new', someUser(), { at: 100 })
      const queuedByOwner = new Map<string, number>()
      for (const j of queued) queuedByOwner.set(ownerOf(j, fairShare), (queuedByOwner.get(ownerOf(j, fairShare)) ?? 0) + 1)
      const counts = new TaskCounts(fairShare, active)
      const order = fairOrder([...queued, newcomer], active, policy({ fairShare }))
      expect(aheadOfNewcomer(ownerOf(newcomer, fairShare), queuedByOwner, counts.byOwner)).toBe(ids(order.jobs).indexOf('new'))
    }
  })
})

describe('min-heap', () => {
  it('pops in order', () => {
    const random = mulberry32(3)
    const heap = new MinHeap<number>((a, b) => a < b)
    const values = Array.from({ length: 500 }, () => Math.floor(random() * 100))
    for (const v of values) heap.push(v)
    const out: number[] = []
    for (let v = heap.pop(); v !== undefined; v = heap.pop()) out.push(v)
    expect(out).toEqual([...values].sort((a, b) => a - b))
    expect(heap.size).toBe(0)
  })

  it('topChanged: the top item, made later, moves down to its place', () => {
    const random = mulberry32(5)
    const items = Array.from({ length: 200 }, (_, id) => ({ id, key: Math.floor(random() * 50) }))
    const heap = new MinHeap<{ id: number; key: number }>((a, b) => a.key < b.key || (a.key === b.key && a.id < b.id))
    for (const item of items) heap.push(item)
    // take each top's key up by a random step, a few hundred times, as the fair order does with an owner's tasks
    for (let i = 0; i < 500; i++) {
      heap.peek()!.key += 1 + Math.floor(random() * 20)
      heap.topChanged()
    }
    const out: number[] = []
    for (let item = heap.pop(); item; item = heap.pop()) out.push(item.id)
    const sorted = [...items].sort((a, b) => a.key - b.key || a.id - b.id).map((item) => item.id)
    expect(out).toEqual(sorted)
  })
})

/** The rule as stated, in O(n²): each slot to the unheld job with the least (owner's tasks, createdAt, arrival). */
function bruteForce (queued: QueuedJob[], active: OwnedTransfer[], p: FairPolicy) {
  const counts = new TaskCounts(p.fairShare, active)
  const ownerTasks = new Map(counts.byOwner)
  const rest = [...queued]
  const jobs: QueuedJob[] = []
  const key = (j: QueuedJob) => [ownerTasks.get(ownerOf(j, p.fairShare)) ?? 0, j.createdAt, j.seq]
  const less = (x: number[], y: number[]) => x[0]! - y[0]! || x[1]! - y[1]! || x[2]! - y[2]!
  const take = (withLimits: boolean) => {
    for (;;) {
      const candidates = rest.filter((j) => !withLimits || !counts.holdOf(j, p))
      if (!candidates.length) return
      const best = candidates.reduce((a, b) => (less(key(b), key(a)) < 0 ? b : a))
      rest.splice(rest.indexOf(best), 1)
      jobs.push(best)
      const owner = ownerOf(best, p.fairShare)
      ownerTasks.set(owner, (ownerTasks.get(owner) ?? 0) + 1)
      if (withLimits) counts.add(best)
    }
  }
  take(true)
  const ready = jobs.length
  take(false)
  return { jobs, ready }
}

function mulberry32 (seed: number): () => number {
  let a = seed
  return () => {
    a |= 0
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
