// The stored Leases: one resourceVersion counter for the store, as etcd's revision, and a history of holders.
import { randomUUID } from 'node:crypto'
import type { Clock } from '../sim-core.js'

export interface LeaseSpec {
  holderIdentity?: string
  leaseDurationSeconds?: number
  acquireTime?: string
  renewTime?: string
  leaseTransitions?: number
  [key: string]: unknown
}

export interface StoredLease {
  apiVersion: 'coordination.k8s.io/v1'
  kind: 'Lease'
  metadata: { name: string; namespace: string; uid: string; resourceVersion: string; creationTimestamp: string; [key: string]: unknown }
  spec: LeaseSpec
}

/** One accepted write: who holds the lease after it, and when the simulator stored it. */
export interface LeaseWrite {
  at: number
  namespace: string
  name: string
  verb: 'create' | 'update'
  holderIdentity: string
  leaseDurationSeconds: number
  renewTime: string
  leaseTransitions: number
  resourceVersion: string
}

export class LeaseModel {
  readonly leases = new Map<string, StoredLease>()
  readonly writes: LeaseWrite[] = []
  private revision = 1000

  constructor (private readonly clock: Clock) {}

  key (namespace: string, name: string): string {
    return `${namespace}/${name}`
  }

  get (namespace: string, name: string): StoredLease | undefined {
    return this.leases.get(this.key(namespace, name))
  }

  /** Stores a new lease (the caller has checked it does not exist). */
  create (namespace: string, name: string, spec: LeaseSpec, extraMeta: Record<string, unknown>): StoredLease {
    const lease: StoredLease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        ...extraMeta,
        name,
        namespace,
        uid: randomUUID(),
        resourceVersion: this.nextVersion(),
        creationTimestamp: new Date(this.clock.now()).toISOString().replace(/\.\d+Z$/, 'Z'),
      },
      spec: structuredClone(spec),
    }
    this.leases.set(this.key(namespace, name), lease)
    this.record('create', lease)
    return lease
  }

  /** Replaces the spec of a stored lease (the caller has checked the resourceVersion). */
  update (existing: StoredLease, spec: LeaseSpec, extraMeta: Record<string, unknown>): StoredLease {
    const { uid, creationTimestamp, name, namespace } = existing.metadata
    const lease: StoredLease = {
      ...existing,
      metadata: { ...extraMeta, name, namespace, uid, creationTimestamp, resourceVersion: this.nextVersion() },
      spec: structuredClone(spec),
    }
    this.leases.set(this.key(namespace, name), lease)
    this.record('update', lease)
    return lease
  }

  private nextVersion (): string {
    this.revision += 1
    return String(this.revision)
  }

  private record (verb: LeaseWrite['verb'], lease: StoredLease): void {
    this.writes.push({
      at: this.clock.now(),
      namespace: lease.metadata.namespace,
      name: lease.metadata.name,
      verb,
      holderIdentity: lease.spec.holderIdentity ?? '',
      leaseDurationSeconds: lease.spec.leaseDurationSeconds ?? 0,
      renewTime: lease.spec.renewTime ?? '',
      leaseTransitions: lease.spec.leaseTransitions ?? 0,
      resourceVersion: lease.metadata.resourceVersion,
    })
  }
}
