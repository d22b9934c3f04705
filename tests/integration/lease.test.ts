// The Lease simulator as the API server answers, and the elector through @kubernetes/client-node against it.
import { readFileSync } from 'node:fs'
import { KubeConfig } from '@kubernetes/client-node'
import yaml from 'js-yaml'
import pino from 'pino'
import { Registry } from 'prom-client'
import { afterEach, describe, expect, it } from 'vitest'
import { LeaseElector, type Role } from '../../src/ha/elector.js'
import { KubernetesLeaseApi, microTime } from '../../src/ha/lease-api.js'
import { LeaderMetrics } from '../../src/ha/metrics.js'
import { kubeconfigText, type RbacRequest, LeaseSimulator } from '../../src/sandbox/lease-sim/index.js'
import { Resources, until } from '../helpers/upstreams.js'

const res = new Resources()
afterEach(() => res.close())

const path = '/apis/coordination.k8s.io/v1/namespaces/scicat/leases'

async function startSim (): Promise<{ sim: LeaseSimulator; url: string }> {
  const sim = new LeaseSimulator({ tokens: ['t0ken'] })
  const { url } = await sim.listen()
  res.defer(() => sim.close())
  return { sim, url }
}

async function call (url: string, method: string, suffix = '', body?: unknown, token = 't0ken') {
  const r = await fetch(`${url}${path}${suffix}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body ? { body: JSON.stringify(body) } : {}),
  })
  return { status: r.status, body: (await r.json()) as Record<string, Record<string, unknown>> }
}

const lease = (spec: Record<string, unknown>, resourceVersion?: string) => ({
  apiVersion: 'coordination.k8s.io/v1',
  kind: 'Lease',
  metadata: { name: 'proxy', namespace: 'scicat', ...(resourceVersion ? { resourceVersion } : {}) },
  spec,
})

describe('Lease simulator', () => {
  it('answers get, create and update as the API server does, with Status objects for 404, 409 and 422', async () => {
    const { sim, url } = await startSim()
    const missing = await call(url, 'GET', '/proxy')
    expect(missing).toEqual({
      status: 404,
      body: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        reason: 'NotFound',
        code: 404,
        message: 'leases.coordination.k8s.io "proxy" not found',
        details: { name: 'proxy', group: 'coordination.k8s.io', kind: 'leases' },
      },
    })
    const created = await call(url, 'POST', '', lease({ holderIdentity: 'a', leaseDurationSeconds: 15 }))
    expect(created.status).toBe(201)
    const v1 = created.body.metadata!.resourceVersion as string
    expect(created.body).toMatchObject({ kind: 'Lease', metadata: { name: 'proxy', namespace: 'scicat' }, spec: { holderIdentity: 'a' } })
    expect((await call(url, 'POST', '', lease({ holderIdentity: 'b' }))).body).toMatchObject({
      code: 409, reason: 'AlreadyExists', message: 'leases.coordination.k8s.io "proxy" already exists',
    })
    const updated = await call(url, 'PUT', '/proxy', lease({ holderIdentity: 'a', leaseTransitions: 0 }, v1))
    expect(updated.status).toBe(200)
    expect(Number(updated.body.metadata!.resourceVersion)).toBeGreaterThan(Number(v1))
    const stale = await call(url, 'PUT', '/proxy', lease({ holderIdentity: 'b' }, v1))
    expect(stale).toMatchObject({
      status: 409,
      body: {
        kind: 'Status',
        reason: 'Conflict',
        code: 409,
        message: 'Operation cannot be fulfilled on leases.coordination.k8s.io "proxy": the object has been modified; please apply your changes to the latest version and try again',
      },
    })
    expect((await call(url, 'PUT', '/proxy', lease({ holderIdentity: 'b' }))).body).toMatchObject({ code: 422, reason: 'Invalid' })
    expect((await call(url, 'GET', '/proxy', undefined, 'wrong')).body).toMatchObject({ code: 401, reason: 'Unauthorized' })
    expect(sim.lease('scicat', 'proxy')?.spec.holderIdentity).toBe('a')
    expect(sim.writes().map((w) => [w.verb, w.holderIdentity])).toEqual([['create', 'a'], ['update', 'a']])
    // every request is recorded with its RBAC verb, those no handler serves too
    await call(url, 'GET', '?watch=true')
    await call(url, 'PATCH', '/proxy', {})
    await call(url, 'DELETE', '/proxy')
    expect(sim.requests().map((r) => r.verb)).toEqual(['get', 'create', 'create', 'update', 'update', 'update', 'get', 'watch', 'patch', 'delete'])
    expect(sim.requests().at(-1)).toEqual({ verb: 'delete', resource: 'leases', namespace: 'scicat', name: 'proxy' })
  })

  it('injects faults and latency per operation, like the other simulators', async () => {
    const { sim, url } = await startSim()
    sim.core.inject('getLease', { status: 503, times: 1 })
    expect((await call(url, 'GET', '/proxy')).body).toMatchObject({ kind: 'Status', code: 503, reason: 'ServiceUnavailable' })
    sim.unreachable()
    await expect(call(url, 'GET', '/proxy')).rejects.toThrow()
    sim.restore()
    expect((await call(url, 'GET', '/proxy')).status).toBe(404)
    expect(sim.core.count('getLease')).toBe(3)
  })
})

interface Candidate {
  elector: LeaseElector
  roles: Role[]
  metrics: Registry
}

function candidate (url: string, identity: string, times = { durationSeconds: 2, renewSeconds: 0.5 }): Candidate {
  const kc = new KubeConfig()
  kc.loadFromString(kubeconfigText({ server: url, token: 't0ken' }))
  const registry = new Registry()
  const roles: Role[] = []
  const elector = new LeaseElector({
    ...times,
    identity,
    api: new KubernetesLeaseApi(kc, 'scicat', 'proxy', 1000),
    logger: pino({ level: 'silent' }),
    metrics: new LeaderMetrics(registry),
    onRoleChange: (role) => {
      roles.push(role)
    },
  })
  res.defer(() => elector.release())
  return { elector, roles, metrics: registry }
}

const active = (cs: Candidate[]) => cs.filter((c) => c.elector.role === 'active')

interface PolicyRule {
  apiGroups: string[]
  resources: string[]
  verbs: string[]
  resourceNames?: string[]
}

/** The rules of deploy/kubernetes/role.yaml: what the pods' service account may do. */
const roleRules = (yaml.load(readFileSync(new URL('../../deploy/kubernetes/role.yaml', import.meta.url), 'utf8')) as { rules: PolicyRule[] }).rules

/**
 * The requests no rule of the Role allows (RBAC: a rule with resourceNames allows only requests
 * that name one of them). The electors here use the lease `proxy`: it stands for the Role's lease.
 */
function refusedByRole (requests: RbacRequest[], roleLease: string): string[] {
  const allows = (rule: PolicyRule, r: RbacRequest) =>
    rule.apiGroups.includes('coordination.k8s.io') && rule.resources.includes(r.resource) && rule.verbs.includes(r.verb) &&
    (!rule.resourceNames || (r.name === 'proxy' && rule.resourceNames.includes(roleLease)))
  return requests.filter((r) => !roleRules.some((rule) => allows(rule, r))).map((r) => `${r.verb} ${r.resource}${r.name ? `/${r.name}` : ''}`)
}

describe('KubernetesLeaseApi', () => {
  it('reads, creates and replaces through @kubernetes/client-node, telling not found and conflicts from other failures', async () => {
    const { sim } = await startSim()
    const kc = new KubeConfig()
    kc.loadFromString(sim.kubeconfig())
    const api = new KubernetesLeaseApi(kc, 'scicat', 'proxy', 1000)
    const record = { holderIdentity: 'a', leaseDurationSeconds: 2, acquireTime: microTime(0), renewTime: microTime(0), leaseTransitions: 0 }
    expect(await api.get()).toBeUndefined()
    const created = await api.create(record)
    expect(created.record).toEqual({ ...record, acquireTime: '1970-01-01T00:00:00.000000Z', renewTime: '1970-01-01T00:00:00.000000Z' })
    await expect(api.create(record)).rejects.toMatchObject({ kind: 'conflict', status: 409, message: expect.stringMatching(/already exists/) })
    const renewed = await api.replace({ ...record, renewTime: microTime(1000) }, created.resourceVersion)
    expect(renewed.record.renewTime).toBe('1970-01-01T00:00:01.000000Z')
    await expect(api.replace(record, created.resourceVersion)).rejects.toMatchObject({ kind: 'conflict', message: expect.stringMatching(/has been modified/) })
    sim.core.inject('getLease', { status: 500 })
    await expect(api.get()).rejects.toMatchObject({ kind: 'other', status: 500 })
    sim.core.inject('getLease', { latencyMs: 3000 })
    await expect(api.get()).rejects.toMatchObject({ kind: 'other', message: expect.stringMatching(/abort/i) })
  })
})

describe('LeaseElector', () => {
  it('elects one of two candidates; the other stays standby while the lease is renewed', async () => {
    const { sim, url } = await startSim()
    const a = candidate(url, 'pod-a')
    const b = candidate(url, 'pod-b')
    a.elector.start()
    b.elector.start()
    await until(() => active([a, b]).length === 1, 5000)
    const leader = active([a, b])[0]!
    const renewals = sim.writes().length
    await until(() => sim.writes().length >= renewals + 3, 5000)
    expect(active([a, b])).toEqual([leader])
    expect(new Set(sim.writes().map((w) => w.holderIdentity))).toEqual(new Set([leader === a ? 'pod-a' : 'pod-b']))
    expect(leader.elector.mayWrite()).toBe(true)
    expect((a === leader ? b : a).elector.mayWrite()).toBe(false)
    expect(await leader.metrics.getSingleMetricAsString('scicat_globus_proxy_leader')).toMatch(/scicat_globus_proxy_leader 1$/m)
  })

  it('takes over a lease nobody renews once it has run out by its own clock, counting the transition', async () => {
    const { sim, url } = await startSim()
    const at = microTime(Date.now())
    await call(url, 'POST', '', lease({ holderIdentity: 'gone', leaseDurationSeconds: 2, acquireTime: at, renewTime: at, leaseTransitions: 4 }))
    const b = candidate(url, 'pod-b')
    const started = Date.now()
    b.elector.start()
    await until(() => b.elector.role === 'active', 5000)
    // not before the lease ran out, counted from when pod-b first saw it
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000)
    expect(sim.lease('scicat', 'proxy')?.spec).toMatchObject({ holderIdentity: 'pod-b', leaseTransitions: 5, leaseDurationSeconds: 2 })
    expect(b.roles).toEqual(['active'])
  })

  it('release hands the lease over at once: empty holder, duration 1, and the standby takes it at its next check', async () => {
    const { sim, url } = await startSim()
    const a = candidate(url, 'pod-a')
    a.elector.start()
    await until(() => a.elector.role === 'active', 5000)
    const b = candidate(url, 'pod-b')
    b.elector.start()
    await until(() => sim.core.count('getLease') > 0)
    const releasedAt = Date.now()
    await a.elector.release()
    expect(a.elector.mayWrite()).toBe(false)
    expect(sim.writes().find((w) => w.holderIdentity === '')).toMatchObject({ leaseDurationSeconds: 1 })
    await until(() => b.elector.role === 'active', 5000)
    expect(Date.now() - releasedAt).toBeLessThan(1000)
    expect(a.roles).toEqual(['active', 'standby'])
    // deploy/kubernetes/role.yaml grants what the elector really asked for through @kubernetes/client-node
    // (create, read, renew, release, take over), and nothing it never asked for
    const roleLease = roleRules.find((r) => r.resourceNames)!.resourceNames![0]!
    expect(refusedByRole(sim.requests(), roleLease)).toEqual([])
    expect(new Set(sim.requests().map((r) => r.verb))).toEqual(new Set(roleRules.flatMap((r) => r.verbs)))
  })

  it('fences itself when it cannot renew: no writes allowed before the lease could run out; one active again once the API answers', async () => {
    const { sim, url } = await startSim()
    const a = candidate(url, 'pod-a')
    const b = candidate(url, 'pod-b')
    a.elector.start()
    await until(() => a.elector.role === 'active', 5000)
    b.elector.start()
    await until(() => sim.core.count('getLease') >= 2)
    sim.unreachable()
    const lastRenewal = sim.writes().at(-1)!.at
    await until(() => a.elector.role === 'standby', 5000)
    // it stopped writing before the lease it last renewed could have run out for anyone
    expect(Date.now()).toBeLessThan(lastRenewal + 2000)
    expect(a.elector.mayWrite()).toBe(false)
    await until(() => Date.now() > lastRenewal + 2500)
    expect(active([a, b])).toEqual([])
    sim.restore()
    await until(() => active([a, b]).length === 1, 5000)
    const holder = sim.lease('scicat', 'proxy')?.spec.holderIdentity
    expect(active([a, b])[0]!.elector.holder).toBe(holder)
  })
})
