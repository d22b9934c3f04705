// deploy/kubernetes: every manifest valid against the Kubernetes object schemas, and the settings the HA design relies on.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import yaml from 'js-yaml'
import { Deployment } from 'kubernetes-models/apps/v1'
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1'
import { Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1'
import { ConfigMap, Secret, Service, ServiceAccount } from 'kubernetes-models/v1'
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../src/config/loader.js'

const dir = join(import.meta.dirname, '../../deploy/kubernetes')
type Manifest = { apiVersion: string; kind: string; metadata: { name: string }; [key: string]: any } // eslint-disable-line @typescript-eslint/no-explicit-any

const models: Record<string, new (data: never) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
}

const kustomization = yaml.load(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as { resources: string[] }
const manifests: Manifest[] = kustomization.resources.flatMap((file) => yaml.loadAll(readFileSync(join(dir, file), 'utf8')) as Manifest[])
const one = (kind: string): Manifest => {
  const found = manifests.filter((m) => m.kind === kind)
  expect(found, kind).toHaveLength(1)
  return found[0]!
}

describe('deploy/kubernetes', () => {
  it('lists every manifest of the folder in kustomization.yaml', () => {
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
    expect([...kustomization.resources].sort()).toEqual(files.sort())
  })

  it('validates every object against the Kubernetes schemas (kubernetes-models, offline)', () => {
    expect(manifests.map((m) => m.kind).sort()).toEqual(
      ['ConfigMap', 'Deployment', 'PodDisruptionBudget', 'Role', 'RoleBinding', 'Secret', 'Service', 'ServiceAccount']
    )
    for (const m of manifests) {
      const Model = models[`${m.apiVersion}/${m.kind}`]
      expect(Model, `${m.apiVersion} ${m.kind}`).toBeDefined()
      expect(() => new Model!(m as never).validate(), `${m.kind} ${m.metadata.name}`).not.toThrow()
    }
    // the validator does refuse what the API server would
    const broken = structuredClone(one('Deployment'))
    broken.spec.replicas = 'two'
    expect(() => new Deployment(broken as never).validate()).toThrow(/replicas/)
  })

  // that the Role grants exactly the verbs the elector calls is checked where it calls them: tests/integration/lease.test.ts
  it('grants Lease verbs only, on leases in the namespace only, to the pods\' account', () => {
    const role = one('Role')
    const rules = role.rules as Array<{ apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] }>
    expect(new Set(rules.flatMap((r) => r.apiGroups))).toEqual(new Set(['coordination.k8s.io']))
    expect(new Set(rules.flatMap((r) => r.resources))).toEqual(new Set(['leases']))
    const config = parseConfig(one('ConfigMap').data['scicat-globus-proxy-config.yaml'], 'configmap')
    for (const r of rules.filter((rule) => rule.resourceNames)) expect(r.resourceNames).toEqual([config.ha?.lease.name])
    const binding = one('RoleBinding')
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata.name })
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: one('ServiceAccount').metadata.name }])
    expect(one('Deployment').spec.template.spec.serviceAccountName).toBe(one('ServiceAccount').metadata.name)
  })

  it('runs two instances with ha.lease: readiness /ready, liveness /health, a grace period above the shutdown bound, credentials as _FILE', () => {
    const config = parseConfig(one('ConfigMap').data['scicat-globus-proxy-config.yaml'], 'configmap')
    expect(config.ha?.lease).toMatchObject({ kind: 'kubernetes', namespace: undefined })
    const deployment = one('Deployment')
    expect(deployment.spec.replicas).toBe(2)
    const pod = deployment.spec.template.spec
    const [container] = pod.containers
    expect(container.readinessProbe.httpGet).toMatchObject({ path: '/ready', port: 'http' })
    expect(container.livenessProbe.httpGet).toMatchObject({ path: '/health', port: 'http' })
    // the service exits at the latest 10 s after SIGTERM (tracker flush bound 5 s within it)
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(10)
    const env = Object.fromEntries((container.env as Array<{ name: string; value: string }>).map((e) => [e.name, e.value]))
    const secret = one('Secret')
    const mount = (container.volumeMounts as Array<{ name: string; mountPath: string }>).find((v) =>
      (pod.volumes as Array<{ name: string; secret?: { secretName: string } }>).some((vol) => vol.name === v.name && vol.secret?.secretName === secret.metadata.name)
    )!
    for (const key of Object.keys(secret.stringData)) {
      expect(env[`${key}_FILE`]).toBe(`${mount.mountPath}/${key}`)
      expect(env[key]).toBeUndefined()
    }
    expect(one('Service').spec.selector).toEqual(deployment.spec.selector.matchLabels)
    expect(one('PodDisruptionBudget').spec.selector.matchLabels).toEqual(deployment.spec.selector.matchLabels)
  })
})
