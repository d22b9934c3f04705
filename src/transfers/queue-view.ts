// What the capacity queue shows outside the tracker: each waiting transfer's place and who is waiting.
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

/** Whose turn a transfer counts for: its ownerUser, or its ownerGroup when it has none. */
export function ownerOf (t: Transfer): string {
  return t.owner.ownerUser ?? t.owner.ownerGroup
}

/** The queue in the tracker's order (a fair-share order can replace this view without changing its readers). */
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
      const counts = new Map<string, number>()
      for (const t of waiting()) counts.set(ownerOf(t), (counts.get(ownerOf(t)) ?? 0) + 1)
      return [...counts]
        .map(([owner, queued]) => ({ owner, queued }))
        .sort((a, b) => b.queued - a.queued || (a.owner < b.owner ? -1 : a.owner > b.owner ? 1 : 0))
    },
  }
}
