// What the capacity queue shows outside the tracker: each waiting transfer's place and who is waiting.
import type { FairShare } from '../config/schema.js'
import type { Transfer } from './transfer.js'

/** The tracker's public state the views read (never written through it). */
export interface TrackerReadView {
  readonly transfers: ReadonlyMap<string, Transfer>
  readonly queue: readonly string[]
  readonly activeCount: number
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

/** Whom a waiting transfer is shown for: its group with globus.fairShare: group, else its user (or group when it has none). */
export function waitingOwner (t: Transfer, fairShare: FairShare): string {
  return fairShare === 'group' ? t.owner.ownerGroup : t.owner.ownerUser || t.owner.ownerGroup
}

/** The queue in the tracker's (fair) order. */
export function trackerQueueView (tracker: TrackerReadView, fairShare: FairShare): QueueView {
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
      const counts = new Map<string, number>()
      for (const t of waiting()) {
        const owner = waitingOwner(t, fairShare)
        counts.set(owner, (counts.get(owner) ?? 0) + 1)
      }
      return [...counts]
        .map(([owner, queued]) => ({ owner, queued }))
        .sort((a, b) => b.queued - a.queued || (a.owner < b.owner ? -1 : a.owner > b.owner ? 1 : 0))
    },
  }
}
