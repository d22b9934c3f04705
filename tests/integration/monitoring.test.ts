// deploy/grafana and deploy/prometheus use only metrics the service exports on /metrics.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import yaml from 'js-yaml'
import { Registry } from 'prom-client'
import { afterEach, describe, expect, it } from 'vitest'
import { LeaderMetrics } from '../../src/ha/metrics.js'
import { type Setup, startAll } from '../helpers/proxy.js'

const deploy = join(import.meta.dirname, '../../deploy')

let setup: Setup
afterEach(async () => {
  await setup?.close()
})

/** Every `expr` anywhere in a parsed document. */
function exprs (node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(exprs)
  if (typeof node !== 'object' || node === null) return []
  return Object.entries(node).flatMap(([k, v]) => (k === 'expr' && typeof v === 'string' ? [v] : exprs(v)))
}

const metricNames = (expr: string) => [...expr.matchAll(/\bscicat_globus_proxy_[a-z_]+/g)].map((m) => m[0])

/** The series names a Prometheus text exposition offers (histograms as _bucket, _sum and _count). */
function exported (text: string): Set<string> {
  const names = new Set<string>()
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = m
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(`${name}${s}`)
    else names.add(name!)
  }
  return names
}

const dashboards = readdirSync(join(deploy, 'grafana')).filter((f) => f.endsWith('.json'))
const dashboard = dashboards.map((f) => JSON.parse(readFileSync(join(deploy, 'grafana', f), 'utf8')) as { panels: Array<{ title: string }> })
const rules = yaml.load(readFileSync(join(deploy, 'prometheus/alerts.yaml'), 'utf8')) as {
  groups: Array<{ rules: Array<{ alert: string; expr: string }> }>
}

describe('dashboard and alert rules', () => {
  it('name only metrics that /metrics exports (the leader metric: with ha.lease)', async () => {
    setup = await startAll()
    const res = await setup.proxy.app.inject({ method: 'GET', url: '/metrics' })
    const names = exported(res.body)
    // registered on the service's registry by the lease elector, which only runs with ha.lease
    const leaderRegistry = new Registry()
    expect(new LeaderMetrics(leaderRegistry).leader).toBeDefined()
    const leaderNames = exported(await leaderRegistry.metrics())
    const used = new Set([...exprs(dashboard), ...exprs(rules)].flatMap(metricNames))
    expect(used.size).toBeGreaterThanOrEqual(10)
    const missing = [...used].filter((n) => !names.has(n) && !leaderNames.has(n))
    expect(missing).toEqual([])
    expect([...used].filter((n) => leaderNames.has(n))).toEqual(['scicat_globus_proxy_leader'])
  })

  it('cover what operators watch', () => {
    expect(dashboard.flatMap((d) => d.panels.map((p) => p.title))).toEqual(
      expect.arrayContaining([
        'Transfers by state',
        'Submitted and ended per hour',
        'Queue length',
        'Upstream error rate',
        'Upstream latency (p95)',
        'Tracker cycle duration',
        'Active instance',
      ])
    )
    expect(rules.groups.flatMap((g) => g.rules.map((r) => r.alert))).toEqual([
      'ScicatGlobusProxyTransfersFailing',
      'ScicatGlobusProxyQueueNotMoving',
      'ScicatGlobusProxyTrackerCycleSlow',
      'ScicatGlobusProxyUpstreamErrors',
      'ScicatGlobusProxyNoActiveInstance',
      'ScicatGlobusProxyAbsent',
    ])
  })
})
