// The fair order of the Globus capacity queue (DESIGN §6): which queued job takes the next free slot, and every job's place.
import type { FairShare } from '../config/schema.js'
import { MinHeap } from './min-heap.js'

export type { FairShare }

/** What the fair order knows of a transfer, queued or submitted: its owner and its two facilities. */
export interface OwnedTransfer {
  ownerUser?: string
  ownerGroup: string
  sourceFacility: string
  destFacility: string
}

export interface QueuedJob extends OwnedTransfer {
  id: string
  /** The job's createdAt in SciCat, in ms since the epoch: how long it has waited (NaN: behind every other). */
  createdAt: number
  /** Arrival order: breaks ties between equal createdAt (SciCat stamps milliseconds). */
  seq: number
  /**
   * Its index in the fair order last computed with it (`FairOrder.jobs`), written by fairOrder:
   * a field rather than a map of ids to places, which would cost a hash insert per job per order.
   */
  place?: number
}

export interface FairPolicy {
  fairShare: FairShare
  /** globus.maxActiveTasksPerUser; undefined: no limit. */
  maxActiveTasksPerUser?: number
  /** facilities[].maxActiveTasks by facility name; a facility not in the map has no limit. */
  facilityLimits: ReadonlyMap<string, number>
}

/** Why a job cannot take a free slot now: a limit its user or one of its facilities has reached. */
export type Hold =
  | { limit: 'user'; user: string; max: number }
  | { limit: 'facility'; facility: string; max: number }

export interface FairOrder<J extends QueuedJob = QueuedJob> {
  /** Every queued job, in the order free slots would go to them if no running task ended. */
  jobs: J[]
  /** The first `ready` jobs are held by no limit: free slots go to them, in this order. */
  ready: number
  /** Why each job from `ready` on is held: `holds[i]` belongs to `jobs[ready + i]`. */
  holds: Hold[]
}

/** A held job's reason, for its "queued" message. */
export function holdNote (hold: Hold): string {
  return hold.limit === 'user'
    ? `at most ${hold.max} tasks per user at once`
    : `facility ${hold.facility} takes at most ${hold.max} tasks at once`
}

/**
 * The user a per-user limit counts against: a job without ownerUser counts as its group (marked
 * so that it cannot meet a user of that name). No new string per call: this runs per job per cycle.
 */
export function userOf (t: OwnedTransfer): string {
  return t.ownerUser || `\u0000${t.ownerGroup}`
}

/** The owner whose share a transfer uses: its user, its group, or one line for all (`none`). */
export function ownerOf (t: OwnedTransfer, fairShare: FairShare): string {
  if (fairShare === 'none') return ''
  return fairShare === 'group' ? t.ownerGroup : userOf(t)
}

/** The facilities a transfer uses (one, when it stays within a facility). */
export function facilitiesOf (t: OwnedTransfer): string[] {
  return t.sourceFacility === t.destFacility ? [t.sourceFacility] : [t.sourceFacility, t.destFacility]
}

function bump (counts: Map<string, number>, key: string, by: number): void {
  const n = (counts.get(key) ?? 0) + by
  if (n > 0) counts.set(key, n)
  else counts.delete(key)
}

/** Unfinished submitted tasks per owner, per user and per facility. */
export class TaskCounts {
  readonly byOwner = new Map<string, number>()
  readonly byUser = new Map<string, number>()
  readonly byFacility = new Map<string, number>()

  constructor (private readonly fairShare: FairShare, tasks: Iterable<OwnedTransfer> = []) {
    for (const t of tasks) this.add(t)
  }

  add (t: OwnedTransfer, by = 1): void {
    bump(this.byOwner, ownerOf(t, this.fairShare), by)
    this.addToLimits(t, by)
  }

  /** The counts the limits look at: per user and per facility. */
  addToLimits (t: OwnedTransfer, by = 1): void {
    bump(this.byUser, userOf(t), by)
    bump(this.byFacility, t.sourceFacility, by)
    if (t.destFacility !== t.sourceFacility) bump(this.byFacility, t.destFacility, by)
  }

  remove (t: OwnedTransfer): void {
    this.add(t, -1)
  }

  /**
   * The holds given out so far, by user and by facility: one object per reason rather than one
   * per held job and order (holds are never changed; a queue of 10,000 jobs may hold most of them).
   */
  private readonly userHolds = new Map<string, Hold>()
  private readonly facilityHolds = new Map<string, Hold>()

  /** The limit that keeps `t` from being submitted now, if any. */
  holdOf (t: OwnedTransfer, policy: FairPolicy): Hold | undefined {
    const perUser = policy.maxActiveTasksPerUser
    if (perUser !== undefined && (this.byUser.get(userOf(t)) ?? 0) >= perUser) {
      const user = t.ownerUser ?? t.ownerGroup
      let hold = this.userHolds.get(user)
      if (hold?.max !== perUser) this.userHolds.set(user, (hold = { limit: 'user', user, max: perUser }))
      return hold
    }
    if (policy.facilityLimits.size === 0) return undefined
    return this.facilityHold(t.sourceFacility, policy) ?? this.facilityHold(t.destFacility, policy)
  }

  private facilityHold (facility: string, policy: FairPolicy): Hold | undefined {
    const max = policy.facilityLimits.get(facility)
    if (max === undefined || (this.byFacility.get(facility) ?? 0) < max) return undefined
    let hold = this.facilityHolds.get(facility)
    if (hold?.max !== max) this.facilityHolds.set(facility, (hold = { limit: 'facility', facility, max }))
    return hold
  }
}

interface Entry<J extends QueuedJob> {
  job: J
  /** The job's createdAt and seq, kept beside it: the comparisons run n log n times per cycle. */
  at: number
  seq: number
  hold?: Hold
}

/** One owner's queued jobs, first in first out, and the owner's tasks (submitted, or placed in the order so far). */
interface OwnerLine<J extends QueuedJob> {
  tasks: number
  entries: Entry<J>[]
  head: number
  held: Entry<J>[]
}

const earlier = <J extends QueuedJob>(x: Entry<J>, y: Entry<J>): boolean => (x.at !== y.at ? x.at < y.at : x.seq < y.seq)

/** The owner with fewer tasks goes first; between equals, the one whose next job has waited longest. */
const ownerBefore = <J extends QueuedJob>(a: OwnerLine<J>, b: OwnerLine<J>): boolean =>
  a.tasks !== b.tasks ? a.tasks < b.tasks : earlier(a.entries[a.head]!, b.entries[b.head]!)

/**
 * Simulates the slots freeing one by one: each goes to the owner with the fewest tasks (ties
 * to the longest-waiting job), to that owner's oldest job that no limit holds; a job it gives
 * a slot counts for its owner, user and facilities from then on. A held job stays held for
 * the rest of the simulation (counts only grow), so it is set aside and never blocks the jobs
 * behind it; the held jobs follow, in the same fair order, as if their limits had cleared.
 * O(n log n): a sort per owner, and one heap operation per job.
 */
export function fairOrder<J extends QueuedJob> (queued: Iterable<J>, active: Iterable<OwnedTransfer>, policy: FairPolicy): FairOrder<J> {
  const counts = new TaskCounts(policy.fairShare, active)
  const lines = new Map<string, OwnerLine<J>>()
  for (const job of queued) {
    const owner = ownerOf(job, policy.fairShare)
    let line = lines.get(owner)
    if (!line) {
      line = { tasks: counts.byOwner.get(owner) ?? 0, entries: [], head: 0, held: [] }
      lines.set(owner, line)
    }
    const at = job.createdAt
    line.entries.push({ job, at: Number.isNaN(at) ? Number.MAX_SAFE_INTEGER : at, seq: job.seq })
  }
  for (const line of lines.values()) line.entries.sort((x, y) => x.at - y.at || x.seq - y.seq)

  const jobs: J[] = []
  const holds: Hold[] = []
  // with a line per user, a user's limit that holds one job holds every later job of the line
  const linePerUser = policy.fairShare === 'user'
  const drain = (withLimits: boolean) => {
    const heap = new MinHeap<OwnerLine<J>>(ownerBefore)
    for (const line of lines.values()) if (line.head < line.entries.length) heap.push(line)
    for (let line = heap.peek(); line; line = heap.peek()) {
      const entry = line.entries[line.head++]!
      const hold = withLimits ? counts.holdOf(entry.job, policy) : undefined
      if (hold) {
        entry.hold = hold
        line.held.push(entry)
        if (linePerUser && hold.limit === 'user') {
          // counts only grow: the rest of the line is set aside at once, not one turn each
          while (line.head < line.entries.length) {
            const rest = line.entries[line.head++]!
            rest.hold = counts.holdOf(rest.job, policy)
            line.held.push(rest)
          }
        }
      } else {
        entry.job.place = jobs.length
        jobs.push(entry.job)
        if (entry.hold) holds.push(entry.hold)
        line.tasks++
        if (withLimits) counts.addToLimits(entry.job)
      }
      // its next job, or its one more task, moved it back in the order (or it has no job left)
      if (line.head < line.entries.length) heap.topChanged()
      else heap.pop()
    }
  }
  drain(true)
  const ready = jobs.length
  for (const line of lines.values()) {
    line.entries = line.held
    line.head = 0
  }
  drain(false)
  return { jobs, ready, holds }
}

/**
 * The place in the fair order of a job that has just joined the queue (it has waited least of
 * all), from counts alone, in O(owners): every queued job of its owner, and of each other owner
 * p the jobs that reach p's share up to the newcomer's level. Limits are not looked at (the
 * next cycle's fair order does). `queuedByOwner` does not count the newcomer.
 */
export function aheadOfNewcomer (
  owner: string,
  queuedByOwner: ReadonlyMap<string, number>,
  tasksByOwner: ReadonlyMap<string, number>
): number {
  const own = queuedByOwner.get(owner) ?? 0
  const level = (tasksByOwner.get(owner) ?? 0) + own
  let ahead = own
  for (const [other, queued] of queuedByOwner) {
    if (other === owner) continue
    ahead += Math.max(0, Math.min(queued, level + 1 - (tasksByOwner.get(other) ?? 0)))
  }
  return ahead
}
