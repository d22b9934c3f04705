// The Kubernetes Lease the instances elect with: read, create and replace through @kubernetes/client-node.
import { readFileSync } from 'node:fs'
import { ApiException, CoordinationV1Api, KubeConfig, Observable, type ObservableMiddleware, type V1Lease } from '@kubernetes/client-node'

/** What a Lease's spec says about its holder (client-go's LeaderElectionRecord, without the coordinated-election fields). */
export interface LeaseRecord {
  holderIdentity: string
  leaseDurationSeconds: number
  acquireTime: string
  renewTime: string
  leaseTransitions: number
}

/** A record as stored, with the version that the next replace must name. */
export interface StoredLease {
  record: LeaseRecord
  resourceVersion: string
}

export type LeaseFailureKind = 'not-found' | 'conflict' | 'other'

/** A Lease call that failed: not found (404), conflict (409: a stale resourceVersion or a lease that exists), or anything else. */
export class LeaseApiError extends Error {
  override name = 'LeaseApiError'
  constructor (
    readonly kind: LeaseFailureKind,
    message: string,
    readonly status?: number
  ) {
    super(message)
  }
}

export interface LeaseApi {
  /** The lease, or undefined when it does not exist. */
  get(): Promise<StoredLease | undefined>
  /** Creates the lease; a `conflict` error when it exists already. */
  create(record: LeaseRecord): Promise<StoredLease>
  /** Replaces the lease if it is still at `resourceVersion`; a `conflict` error otherwise. */
  replace(record: LeaseRecord, resourceVersion: string): Promise<StoredLease>
  /** "namespace/name", for logs. */
  describe(): string
}

/** Where Kubernetes puts the pod's namespace in every container with a service account token. */
export const serviceAccountNamespaceFile = '/var/run/secrets/kubernetes.io/serviceaccount/namespace'

/** The client configuration: the KUBECONFIG file when set, else the pod's in-cluster service account. */
export function loadKubeConfig (): KubeConfig {
  const kc = new KubeConfig()
  kc.loadFromDefault()
  return kc
}

/** ha.lease.namespace when set, else the pod's own namespace, else the kubeconfig context's. */
export function leaseNamespace (configured: string | undefined, kc: KubeConfig, file = serviceAccountNamespaceFile): string {
  if (configured) return configured
  try {
    const own = readFileSync(file, 'utf8').trim()
    if (own) return own
  } catch {
    // not in a pod: the kubeconfig may name one
  }
  const fromContext = kc.getContextObject(kc.getCurrentContext())?.namespace
  if (fromContext) return fromContext
  throw new Error(`ha.lease.namespace is not set, ${file} cannot be read (not in a Kubernetes pod?) and the kubeconfig context names no namespace`)
}

function recordOf (lease: V1Lease): LeaseRecord {
  const spec = lease.spec ?? {}
  // the generated client hands MicroTime fields back as the strings the API server sent
  const time = (t: unknown) => (t instanceof Date ? t.toISOString() : typeof t === 'string' ? t : '')
  return {
    holderIdentity: spec.holderIdentity ?? '',
    leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
    acquireTime: time(spec.acquireTime),
    renewTime: time(spec.renewTime),
    leaseTransitions: spec.leaseTransitions ?? 0,
  }
}

/** The MicroTime format the API server uses (RFC 3339, microseconds). */
export function microTime (ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, '000Z')
}

/** The message of the API server's Status answer, which the client hands over as text or parsed. */
function statusMessage (body: unknown): string | undefined {
  let parsed = body
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body)
    } catch {
      return body || undefined
    }
  }
  const message = (parsed as { message?: unknown } | null)?.message
  return typeof message === 'string' ? message : undefined
}

export class KubernetesLeaseApi implements LeaseApi {
  private readonly api: CoordinationV1Api

  constructor (
    kc: KubeConfig,
    private readonly namespace: string,
    private readonly name: string,
    /** Each call is abandoned after this long (a hanging API server must not stall the elector). */
    private readonly timeoutMs: number
  ) {
    this.api = kc.makeApiClient(CoordinationV1Api)
  }

  describe (): string {
    return `${this.namespace}/${this.name}`
  }

  async get (): Promise<StoredLease | undefined> {
    try {
      return this.stored(await this.api.readNamespacedLease({ name: this.name, namespace: this.namespace }, this.options()))
    } catch (err) {
      const failure = this.failure(err, 'read')
      if (failure.kind === 'not-found') return undefined
      throw failure
    }
  }

  async create (record: LeaseRecord): Promise<StoredLease> {
    try {
      const body = this.body(record)
      return this.stored(await this.api.createNamespacedLease({ namespace: this.namespace, body }, this.options()))
    } catch (err) {
      throw this.failure(err, 'create')
    }
  }

  async replace (record: LeaseRecord, resourceVersion: string): Promise<StoredLease> {
    try {
      const body = this.body(record, resourceVersion)
      return this.stored(
        await this.api.replaceNamespacedLease({ name: this.name, namespace: this.namespace, body }, this.options())
      )
    } catch (err) {
      throw this.failure(err, 'update')
    }
  }

  private body (record: LeaseRecord, resourceVersion?: string): V1Lease {
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.name, namespace: this.namespace, ...(resourceVersion ? { resourceVersion } : {}) },
      // MicroTime strings pass through the client's serializer unchanged
      spec: { ...record, acquireTime: record.acquireTime as never, renewTime: record.renewTime as never },
    }
  }

  private stored (lease: V1Lease): StoredLease {
    return { record: recordOf(lease), resourceVersion: lease.metadata?.resourceVersion ?? '' }
  }

  /** Per call: the request is aborted after timeoutMs (a middleware of the generated client sets the fetch signal). */
  private options () {
    const signal = AbortSignal.timeout(this.timeoutMs)
    const timeout: ObservableMiddleware = {
      pre: (context) => {
        context.setSignal(signal)
        return new Observable(Promise.resolve(context))
      },
      post: (response) => new Observable(Promise.resolve(response)),
    }
    return { middleware: [timeout], middlewareMergeStrategy: 'append' as const }
  }

  private failure (err: unknown, verb: string): LeaseApiError {
    const what = `${verb} of lease ${this.describe()}`
    if (err instanceof ApiException) {
      const status = err.code
      const detail = statusMessage(err.body) ?? `HTTP ${status}`
      const kind = status === 404 ? 'not-found' : status === 409 ? 'conflict' : 'other'
      return new LeaseApiError(kind, `${what}: ${detail}`, status)
    }
    return new LeaseApiError('other', `${what}: ${(err as Error).message ?? String(err)}`)
  }
}
