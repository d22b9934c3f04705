// msw handlers of the API server's coordination.k8s.io/v1 Lease endpoints: get, create, update (PUT).
import { HttpResponse, http, type RequestHandler } from 'msw'
import type { SimCore } from '../sim-core.js'
import type { LeaseModel, LeaseSpec, StoredLease } from './model.js'
import { alreadyExists, badRequest, conflict, invalid, notFound, unauthorized } from './status.js'
import { type RbacRequest, rbacRequest } from './verbs.js'

export type LeaseOperation = 'getLease' | 'createLease' | 'updateLease'

export interface LeaseState {
  core: SimCore
  model: LeaseModel
  /** Bearer tokens the server accepts. */
  tokens: ReadonlySet<string>
  /** Every request received, as RBAC sees it, in order (those refused or faulted too). */
  requests: RbacRequest[]
}

interface Info {
  request: Request
  params: Record<string, string | readonly string[] | undefined>
}

const base = '/apis/coordination.k8s.io/v1/namespaces/:namespace/leases'

function authorized (state: LeaseState, request: Request): boolean {
  const header = request.headers.get('authorization') ?? ''
  return header.startsWith('Bearer ') && state.tokens.has(header.slice('Bearer '.length))
}

const answer = (lease: StoredLease, status = 200) => HttpResponse.json(lease, { status })

/** The body as the API server decodes it: a Lease object, its namespace (if given) the one of the URL. */
async function leaseBody (request: Request, namespace: string): Promise<{ meta: Record<string, unknown>; spec: LeaseSpec } | Response> {
  let body: unknown
  try {
    body = await request.json()
  } catch {
    return badRequest('the request body is not valid JSON')
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return badRequest('the request body must be a Lease object')
  const { kind, metadata, spec } = body as { kind?: unknown; metadata?: unknown; spec?: unknown }
  if (kind !== undefined && kind !== 'Lease') return badRequest(`the kind of the object (${String(kind)}) is not Lease`)
  const meta = (typeof metadata === 'object' && metadata !== null ? metadata : {}) as Record<string, unknown>
  if (meta.namespace !== undefined && meta.namespace !== namespace) {
    return badRequest('the namespace of the provided object does not match the namespace sent on the request')
  }
  const { uid: _uid, creationTimestamp: _created, resourceVersion: _rv, managedFields: _mf, ...extraMeta } = meta
  return { meta: { ...extraMeta, resourceVersion: meta.resourceVersion }, spec: (typeof spec === 'object' && spec !== null ? spec : {}) as LeaseSpec }
}

function withoutVersion (meta: Record<string, unknown>): Record<string, unknown> {
  const { resourceVersion: _rv, name: _name, namespace: _ns, ...rest } = meta
  return rest
}

export function leaseHandlers (state: LeaseState): RequestHandler[] {
  const { core, model } = state
  const guard = (resolver: (info: Info, namespace: string) => Response | Promise<Response>) => (info: Info) => {
    if (!authorized(state, info.request)) return unauthorized()
    return resolver(info, String(info.params.namespace))
  }

  const get = guard((info, namespace) => {
    const name = String(info.params.name)
    const lease = model.get(namespace, name)
    return lease ? answer(lease) : notFound(name)
  })

  const create = guard(async (info, namespace) => {
    const body = await leaseBody(info.request, namespace)
    if (body instanceof Response) return body
    const name = body.meta.name
    if (typeof name !== 'string' || name === '') return invalid('', 'metadata.name', 'Required value: name or generateName is required')
    if (model.get(namespace, name)) return alreadyExists(name)
    return answer(model.create(namespace, name, body.spec, withoutVersion(body.meta)), 201)
  })

  // The Lease strategy does not allow unconditional updates: a PUT names the resourceVersion it read
  // (kubernetes pkg/registry/coordination/lease/strategy.go, AllowUnconditionalUpdate false;
  // apiserver registry/generic/registry/store.go answers Invalid without one, Conflict on a stale one).
  const update = guard(async (info, namespace) => {
    const name = String(info.params.name)
    const body = await leaseBody(info.request, namespace)
    if (body instanceof Response) return body
    if (body.meta.name !== undefined && body.meta.name !== name) {
      return badRequest(`the name of the object (${String(body.meta.name)}) does not match the name on the URL (${name})`)
    }
    const version = body.meta.resourceVersion
    const existing = model.get(namespace, name)
    // The Lease strategy allows create-on-update; without a version it creates. A version naming a
    // lease that does not exist is answered NotFound here (the elector never sends one on purpose).
    if (!existing) {
      if (version) return notFound(name)
      return answer(model.create(namespace, name, body.spec, withoutVersion(body.meta)), 201)
    }
    if (typeof version !== 'string' || version === '') {
      return invalid(name, 'metadata.resourceVersion', 'Invalid value: 0x0: must be specified for an update')
    }
    if (version !== existing.metadata.resourceVersion) return conflict(name)
    return answer(model.update(existing, body.spec, withoutVersion(body.meta)))
  })

  return [
    // records, then lets the handlers below answer
    http.all('/*', ({ request }) => {
      state.requests.push(rbacRequest(request.method, new URL(request.url)))
    }),
    http.get(`${base}/:name`, core.op('getLease', get)),
    http.post(base, core.op('createLease', create)),
    http.put(`${base}/:name`, core.op('updateLease', update)),
    http.all('/*', () =>
      HttpResponse.json(
        { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'the server could not find the requested resource', reason: 'NotFound', code: 404 },
        { status: 404 }
      )
    ),
  ]
}
