// Prometheus metrics of the lease election, registered only when ha.lease is set.
import { Counter, Gauge, type Registry } from 'prom-client'

export class LeaderMetrics {
  readonly leader: Gauge
  readonly roleChanges: Counter<'role'>
  readonly leaseTransitions: Gauge

  constructor (registry: Registry) {
    const registers = [registry]
    this.leader = new Gauge({
      name: 'scicat_globus_proxy_leader',
      help: '1 while this instance is the active one (holds the lease and may write), else 0',
      registers,
    })
    this.roleChanges = new Counter({
      name: 'scicat_globus_proxy_leader_transitions_total',
      help: 'Role changes of this instance, by the role it changed to (active, standby)',
      labelNames: ['role'],
      registers,
    })
    this.leaseTransitions = new Gauge({
      name: 'scicat_globus_proxy_lease_transitions',
      help: 'spec.leaseTransitions of the Lease as last read: how often its holder changed, in every instance',
      registers,
    })
    this.leader.set(0)
    for (const role of ['active', 'standby']) this.roleChanges.inc({ role }, 0)
  }
}
