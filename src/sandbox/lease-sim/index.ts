// LeaseSimulator: the Kubernetes API server's Lease endpoints (coordination.k8s.io/v1) served on loopback.
import { type ServedHandlers, serveHandlers } from '../msw-server.js'
import { type Clock, SimCore, systemClock } from '../sim-core.js'
import { leaseHandlers, type LeaseState } from './handlers.js'
import { kubeconfigText } from './kubeconfig.js'
import { LeaseModel, type LeaseWrite, type StoredLease } from './model.js'
import { defaultFaultBody } from './status.js'
import type { RbacRequest } from './verbs.js'

export type { LeaseOperation } from './handlers.js'
export type { LeaseSpec, LeaseWrite, StoredLease } from './model.js'
export { kubeconfigText } from './kubeconfig.js'
export type { RbacRequest } from './verbs.js'

export const leaseOperations = ['getLease', 'createLease', 'updateLease'] as const

export interface LeaseSimOptions {
  clock?: Clock
  /** Bearer tokens accepted (default: "sandbox-lease-token"). */
  tokens?: string[]
}

export class LeaseSimulator {
  readonly core: SimCore
  private readonly state: LeaseState
  private served: ServedHandlers | undefined

  constructor (options: LeaseSimOptions = {}) {
    const clock = options.clock ?? systemClock
    this.core = new SimCore(clock, defaultFaultBody)
    this.state = { core: this.core, model: new LeaseModel(clock), tokens: new Set(options.tokens ?? ['sandbox-lease-token']), requests: [] }
  }

  async listen (options: { port?: number; host?: string } = {}): Promise<{ url: string; port: number }> {
    if (this.served) throw new Error('lease-sim: already listening')
    const handlers = leaseHandlers(this.state)
    this.served = await serveHandlers(() => handlers, options)
    return { url: this.served.url, port: this.served.port }
  }

  async close (): Promise<void> {
    const served = this.served
    this.served = undefined
    await served?.close()
  }

  /** A kubeconfig for this simulator (listening) with the first accepted token. */
  kubeconfig (namespace?: string): string {
    if (!this.served) throw new Error('lease-sim: not listening')
    return kubeconfigText({ server: this.served.url, token: [...this.state.tokens][0] ?? '', ...(namespace ? { namespace } : {}) })
  }

  lease (namespace: string, name: string): StoredLease | undefined {
    const lease = this.state.model.get(namespace, name)
    return lease && structuredClone(lease)
  }

  /** Every accepted create and update, in order. */
  writes (): LeaseWrite[] {
    return this.state.model.writes.map((w) => ({ ...w }))
  }

  /** Every request received, as RBAC sees it (verb, resource, name), in order: what a Role must grant. */
  requests (): RbacRequest[] {
    return this.state.requests.map((r) => ({ ...r }))
  }

  /** Every Lease call fails as a dropped connection until `restore()` (or clearFaults). */
  unreachable (): void {
    for (const op of leaseOperations) this.core.inject(op, { networkError: true, times: Number.POSITIVE_INFINITY })
  }

  restore (): void {
    this.core.clearFaults()
  }
}
