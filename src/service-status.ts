// GET /status: what this instance is doing, from read-only views of the tracker, the upstreams and the HA role.
import type { Config } from './config/resolve.js'
import type { Readiness } from './readiness.js'
import type { OwnerWaiting, QueueView, TrackerReadView } from './transfers/queue-view.js'
import type { UpstreamActivity, UpstreamErrorEntry } from './upstream-activity.js'

/** `single` without ha.lease; with it, whether this instance holds the lease. */
export type InstanceRole = 'single' | 'active' | 'standby'

export interface StatusSources {
  config: Config
  tracker: TrackerReadView
  queue: () => QueueView
  readiness: Readiness
  activity: UpstreamActivity
  role: () => InstanceRole
}

export interface ServiceStatus {
  role: InstanceRole
  transfers: { total: number; byState: Record<string, number> }
  queue: { length: number; ownersWaiting: OwnerWaiting[] }
  activeTasks: { total: number; max: number; byFacility: Record<string, number> }
  upstreams: { scicat: string; globus: string }
  globusBudget: { maxRequestsPerSecond: number; requestsLastMinute: number; perSecondLastMinute: number }
  lastUpstreamErrors: UpstreamErrorEntry[]
}

/** Tracker states whose Globus task is being submitted or runs. */
const withTask = new Set(['submitting', 'active'])

export async function serviceStatus (s: StatusSources): Promise<ServiceStatus> {
  const role = s.role()
  const byState: Record<string, number> = { queued: 0, submitting: 0, active: 0, finishing: 0, closing: 0 }
  const byFacility: Record<string, number> = Object.fromEntries(s.config.facilities.map((f) => [f.name, 0]))
  for (const t of s.tracker.transfers.values()) {
    byState[t.state] = (byState[t.state] ?? 0) + 1
    if (!withTask.has(t.state)) continue
    for (const name of new Set([t.params.sourceFacility, t.params.destFacility])) {
      byFacility[name] = (byFacility[name] ?? 0) + 1
    }
  }
  const queue = s.queue()
  // a standby makes no upstream call (DESIGN §11)
  const upstreams = role === 'standby'
    ? { scicat: 'not checked (standby)', globus: 'not checked (standby)' }
    : (await s.readiness.check()).checks
  const requestsLastMinute = s.activity.globusRequestsLastMinute()
  return {
    role,
    transfers: { total: s.tracker.transfers.size, byState },
    queue: { length: queue.length, ownersWaiting: queue.ownersWaiting() },
    activeTasks: { total: s.tracker.activeCount, max: s.config.globus.maxActiveTasks, byFacility },
    upstreams,
    globusBudget: {
      maxRequestsPerSecond: s.config.globus.maxRequestsPerSecond,
      requestsLastMinute,
      perSecondLastMinute: Math.round((requestsLastMinute / 60) * 100) / 100,
    },
    lastUpstreamErrors: s.activity.lastErrors(),
  }
}
