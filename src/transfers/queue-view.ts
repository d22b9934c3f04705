// What the capacity queue shows outside the tracker: each waiting transfer's place and who is waiting.
import type { Transfer } from './transfer.js'

/** The tracker's public state the views read (never written through it). */
export interface TrackerReadView {
  readonly transfers: ReadonlyMap<string, Transfer>
  readonly queue: readonly string[]
  readonly activeCount: number
  /** Owners with transfers waiting, as globus.fairShare counts them (the capacity queue keeps these counts). */
  waitingOwners(): OwnerWaiting[]
}

export interface OwnerWaiting {
  owner: string
  queued: number
}

export interface QueueView {
  readonly length: number
  /** Job id → transfers ahead of it (0: it goes next), for every transfer waiting for a Globus slot. */
  positions(): Map<string, number>
  /** Owners with transfers waiting, most waiting first (ties by name). */
  ownersWaiting(): OwnerWaiting[]
}

/** The queue in the tracker's fair order (DESIGN §6). */
export function trackerQueueView (tracker: TrackerReadView): QueueView {
  const waiting = () =>
    tracker.queue.map((id) => tracker.transfers.get(id)).filter((t): t is Transfer => t?.state === 'queued')
  return {
    get length () {
      return waiting().length
    },
    positions () {
      return new Map(waiting().map((t, i) => [t.jobId, i]))
    },
    ownersWaiting () {
      return tracker.waitingOwners()
    },
  }
}
