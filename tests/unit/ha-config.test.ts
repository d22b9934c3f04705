// ha.lease in the config file: defaults, what is refused, and what check-config shows.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { KubeConfig } from '@kubernetes/client-node'
import { describe, expect, it } from 'vitest'
import { describeConfig } from '../../src/config/describe.js'
import { ConfigError, parseConfig } from '../../src/config/loader.js'
import { leaseNamespace } from '../../src/ha/lease-api.js'

const base = `
scicatUrl: http://scicat.example.org
facilities:
  - name: PSI
    collection: aaaa1111-22bb-cc44-dd5e-666667777777
`

function problems (extra: string): string[] {
  try {
    parseConfig(base + extra, 'test.yaml')
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError)
    return (err as ConfigError).problems
  }
  throw new Error('the config was accepted')
}

describe('ha.lease', () => {
  it('is absent unless configured: one instance, nothing changes', () => {
    const config = parseConfig(base, 'test.yaml')
    expect(config.ha).toBeUndefined()
    expect(describeConfig(config)).not.toHaveProperty('ha')
  })

  it('takes its defaults: name scicat-globus-proxy, the pod\'s namespace, 15 s lease renewed every 5 s', () => {
    const config = parseConfig(`${base}ha:\n  lease:\n    kind: kubernetes\n`, 'test.yaml')
    expect(config.ha).toEqual({
      lease: { kind: 'kubernetes', name: 'scicat-globus-proxy', namespace: undefined, durationSeconds: 15, renewSeconds: 5 },
    })
    expect(describeConfig(config).ha).toEqual({
      lease: { kind: 'kubernetes', name: 'scicat-globus-proxy', namespace: "(the pod's own)", durationSeconds: 15, renewSeconds: 5 },
    })
  })

  it('keeps what is given, fractions of a second for renewSeconds too', () => {
    const config = parseConfig(
      `${base}ha:\n  lease: {kind: kubernetes, name: proxy.lock, namespace: scicat, durationSeconds: 3, renewSeconds: 0.5}\n`,
      'test.yaml'
    )
    expect(config.ha?.lease).toEqual({ kind: 'kubernetes', name: 'proxy.lock', namespace: 'scicat', durationSeconds: 3, renewSeconds: 0.5 })
  })

  it('refuses a renewal period that leaves no second try before the lease runs out, and a lease under 2 s', () => {
    expect(problems('ha:\n  lease: {kind: kubernetes, durationSeconds: 10, renewSeconds: 6}\n')).toEqual([
      'ha.lease.renewSeconds: must be at most half of durationSeconds (10), so that a failed renewal is retried before the lease runs out',
    ])
    expect(problems('ha:\n  lease: {kind: kubernetes, durationSeconds: 1}\n')).toEqual(['ha.lease.durationSeconds: must be at least 2'])
  })

  it('refuses another kind, unknown keys, fractional durations and names Kubernetes would refuse, all at once', () => {
    expect(
      problems('ha:\n  lease: {kind: etcd, durationSeconds: 2.5, name: My_Lease, namespace: "a.b", ttl: 3}\n  other: 1\n')
    ).toEqual([
      'ha.lease.durationSeconds: must be integer',
      'ha.lease.kind: must be one of kubernetes',
      'ha.lease.name: must be a Kubernetes object name (lower-case letters, digits, "-" and ".", at most 253 characters)',
      'ha.lease.namespace: must be a Kubernetes namespace name (lower-case letters, digits and "-", at most 63 characters)',
      'ha.lease.ttl: unknown key',
      'ha.other: unknown key',
    ])
    expect(problems('ha:\n  lease: {}\n')).toEqual(['ha.lease.kind: is required'])
  })
})

describe('the lease namespace', () => {
  const kubeconfig = (namespace?: string) => {
    const kc = new KubeConfig()
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: 'http://127.0.0.1:1' }],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u', ...(namespace ? { namespace } : {}) }],
      currentContext: 'x',
    })
    return kc
  }

  it('is the configured one, else the pod\'s own (service account file), else the kubeconfig context\'s', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sgp-ns-'))
    const file = join(dir, 'namespace')
    writeFileSync(file, 'facility-prod\n')
    expect(leaseNamespace('given', kubeconfig('ctx'), file)).toBe('given')
    expect(leaseNamespace(undefined, kubeconfig('ctx'), file)).toBe('facility-prod')
    expect(leaseNamespace(undefined, kubeconfig('ctx'), join(dir, 'missing'))).toBe('ctx')
    expect(() => leaseNamespace(undefined, kubeconfig(), join(dir, 'missing'))).toThrow(/ha\.lease\.namespace is not set/)
  })
})
