// ha.lease put together: the elector on the pod's Lease, and what each role change does to the tracker.
import { hostname } from 'node:os'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import type { LeaseConfig } from '../config/ha.js'
import { LeaseElector, type Role } from './elector.js'
import { KubernetesLeaseApi, leaseNamespace, loadKubeConfig } from './lease-api.js'
import { LeaderMetrics } from './metrics.js'

/** What becomes active and standby with the instance. */
export interface RoleFollower {
  becameActive(): void | Promise<void>
  becameStandby(): void | Promise<void>
}

export class Leadership {
  readonly elector: LeaseElector
  private follower: RoleFollower | undefined
  private shuttingDown = false

  constructor (lease: LeaseConfig & { namespace: string }, options: { identity: string; api: KubernetesLeaseApi; logger: Logger; registry: Registry }) {
    this.elector = new LeaseElector({
      durationSeconds: lease.durationSeconds,
      renewSeconds: lease.renewSeconds,
      identity: options.identity,
      api: options.api,
      logger: options.logger,
      metrics: new LeaderMetrics(options.registry),
      onRoleChange: (role) => this.follow(role),
    })
  }

  /** Starts campaigning; `follower` is told of every role change from now on. */
  start (follower: RoleFollower): void {
    this.follower = follower
    this.elector.start()
  }

  /** Shutting down: a standby stops campaigning at once (it must not become active now). */
  retire (): void {
    this.shuttingDown = true
    this.elector.retire()
  }

  /** After the tracker's flush: gives the lease up so that a standby takes over at its next check. */
  async release (): Promise<void> {
    await this.elector.release()
  }

  private async follow (role: Role): Promise<void> {
    if (role === 'active' && this.shuttingDown) return
    await (role === 'active' ? this.follower?.becameActive() : this.follower?.becameStandby())
  }
}

/**
 * The Leadership of this pod: the kubeconfig from loadFromDefault() (KUBECONFIG, ~/.kube/config,
 * else the in-cluster service account), the namespace as configured or the pod's own, and the
 * identity HOSTNAME (the pod name). Throws with one readable line when one of them is missing.
 */
export function createLeadership (
  lease: LeaseConfig,
  options: { env: Readonly<Record<string, string | undefined>>; logger: Logger; registry: Registry }
): Leadership {
  const kc = loadKubeConfig()
  if (!kc.getCurrentCluster()) throw new Error('ha.lease: no Kubernetes cluster configured (KUBECONFIG, ~/.kube/config or the in-cluster service account)')
  const namespace = leaseNamespace(lease.namespace, kc)
  const identity = options.env.HOSTNAME || hostname()
  const api = new KubernetesLeaseApi(kc, namespace, lease.name, lease.renewSeconds * 1000)
  return new Leadership({ ...lease, namespace }, { identity, api, logger: options.logger, registry: options.registry })
}
