// Prometheus metrics of one app instance (its own registry: nothing global).
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'
import type { RequestObserver } from './http/client.js'

export class Metrics {
  readonly registry = new Registry()
  readonly transfersSubmitted: Counter
  readonly transfersEnded: Counter<'status'>
  readonly transfersTracked: Gauge<'state'>
  readonly upstreamRequests: Counter<'service' | 'operation' | 'status'>
  readonly upstreamDuration: Histogram<'service' | 'operation'>
  readonly cycleDuration: Histogram
  readonly patches: Counter<'result'>
  readonly transfersQueued: Gauge<'facility'>
  readonly ownersWaiting: Gauge

  constructor (options: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry]
    this.transfersSubmitted = new Counter({
      name: 'scicat_globus_proxy_transfers_submitted_total',
      help: 'Transfers submitted to Globus',
      registers,
    })
    this.transfersEnded = new Counter({
      name: 'scicat_globus_proxy_transfers_ended_total',
      help: 'Transfers that ended, by status (finished, failed, cancelled)',
      labelNames: ['status'],
      registers,
    })
    this.transfersTracked = new Gauge({
      name: 'scicat_globus_proxy_transfers_tracked',
      help: 'Unfinished transfers followed by the tracker, by state (queued, submitting, active, finishing, closing)',
      labelNames: ['state'],
      registers,
    })
    this.upstreamRequests = new Counter({
      name: 'scicat_globus_proxy_upstream_requests_total',
      help: 'Requests to Globus and SciCat, by service, operation and HTTP status ("error" when no response arrived)',
      labelNames: ['service', 'operation', 'status'],
      registers,
    })
    this.upstreamDuration = new Histogram({
      name: 'scicat_globus_proxy_upstream_request_duration_seconds',
      help: 'Duration of requests to Globus and SciCat',
      labelNames: ['service', 'operation'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    })
    this.cycleDuration = new Histogram({
      name: 'scicat_globus_proxy_tracker_cycle_duration_seconds',
      help: 'Wall time of one tracker cycle',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    })
    this.patches = new Counter({
      name: 'scicat_globus_proxy_job_updates_total',
      help: 'SciCat job PATCHes, by result (sent, failed)',
      labelNames: ['result'],
      registers,
    })
    this.transfersQueued = new Gauge({
      name: 'scicat_globus_proxy_transfers_queued',
      help: 'Transfers waiting for a Globus slot, by facility (a transfer counts for its source and its destination)',
      labelNames: ['facility'],
      registers,
    })
    this.ownersWaiting = new Gauge({
      name: 'scicat_globus_proxy_queue_owners_waiting',
      help: 'Owners (users, or groups with globus.fairShare: group) with at least one transfer waiting for a Globus slot',
      registers,
    })
    for (const status of ['finished', 'failed', 'cancelled']) this.transfersEnded.inc({ status }, 0)
    for (const result of ['sent', 'failed']) this.patches.inc({ result }, 0)
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'scicat_globus_proxy_' })
  }

  /**
   * The labelled children of the two upstream metrics, by "service operation status": prom-client
   * hashes the label object on every inc/observe, which cost more than the rest of the bookkeeping.
   */
  private readonly upstreamChildren = new Map<string, { count: Counter.Internal; duration: Histogram.Internal<'service' | 'operation'> }>()

  readonly observeUpstream: RequestObserver = ({ service, operation, status, durationMs }) => {
    const key = `${service} ${operation} ${status}`
    let child = this.upstreamChildren.get(key)
    if (!child) {
      child = {
        count: this.upstreamRequests.labels(service, operation, String(status)),
        duration: this.upstreamDuration.labels(service, operation),
      }
      this.upstreamChildren.set(key, child)
    }
    child.count.inc()
    child.duration.observe(durationMs / 1000)
  }
}
