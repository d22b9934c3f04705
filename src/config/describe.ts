// The resolved config as plain data, for `check-config` (templates shown as written).
import type { Config } from './resolve.js'

export function describeConfig (config: Config) {
  return {
    scicatUrl: config.scicatUrl,
    port: config.port,
    host: config.host,
    facilities: config.facilities.map((f) => ({
      name: f.name,
      collection: f.collection,
      direction: f.direction,
      accessPath: f.accessPath,
      accessValue: f.accessValue,
      sourcePath: f.sourcePath.source,
      destinationPath: f.destinationPath.source,
      scopes: f.scopes,
      ...(f.maxActiveTasks ? { maxActiveTasks: f.maxActiveTasks } : {}),
    })),
    globusScopes: config.globusScopes,
    task: config.task,
    globus: { ...config.globus, label: config.globus.label.source },
    scicat: config.scicat,
    server: config.server,
    capacity: describeCapacity(config),
    ...(config.ha ? { ha: { lease: { ...config.ha.lease, namespace: config.ha.lease.namespace ?? '(the pod\'s own)' } } } : {}),
  }
}

/** The Globus capacity queue's policy and limits (DESIGN §6); null: no limit. */
function describeCapacity (config: Config) {
  return {
    fairShare: config.globus.fairShare,
    maxActiveTasks: config.globus.maxActiveTasks,
    maxActiveTasksPerUser: config.globus.maxActiveTasksPerUser ?? null,
    facilities: Object.fromEntries(config.facilities.map((f) => [f.name, f.maxActiveTasks ?? null])),
  }
}

const shareRules = {
  user: 'a free slot goes to the user with the fewest unfinished tasks',
  group: 'a free slot goes to the ownerGroup with the fewest unfinished tasks',
  none: 'first in, first out',
} as const

function formatCapacity (c: ReturnType<typeof describeCapacity>): string[] {
  const limit = (n: number | null) => (n === null ? 'no limit' : String(n))
  const facilities = Object.entries(c.facilities).map(([name, n]) => `${name} ${limit(n)}`)
  return [
    'Globus capacity queue:',
    `  fairShare:             ${c.fairShare} (${shareRules[c.fairShare]})`,
    `  maxActiveTasks:        ${c.maxActiveTasks}`,
    `  maxActiveTasksPerUser: ${limit(c.maxActiveTasksPerUser)}`,
    `  per facility:          ${facilities.join(', ')}`,
  ]
}

export function formatConfig (config: Config): string {
  const d = describeConfig(config)
  const lines = [
    `scicatUrl: ${d.scicatUrl}`,
    `listen: ${d.host}:${d.port}`,
    `facilities (${d.facilities.length}):`,
  ]
  for (const f of d.facilities) {
    lines.push(
      `  ${f.name}`,
      `    collection:      ${f.collection}`,
      `    direction:       ${f.direction}`,
      `    access:          ${f.accessPath} must contain "${f.accessValue}"`,
      `    sourcePath:      ${f.sourcePath}`,
      `    destinationPath: ${f.destinationPath}`,
      `    scopes:          ${f.scopes.join('\n                     ')}`
    )
  }
  lines.push('globus scopes requested:', ...d.globusScopes.map((s) => `  ${s}`))
  lines.push(`task: ${JSON.stringify(d.task)}`)
  lines.push(`globus: ${JSON.stringify(d.globus)}`)
  lines.push(`scicat: ${JSON.stringify(d.scicat)}`)
  lines.push(`server: ${JSON.stringify(d.server)}`)
  lines.push(...formatCapacity(d.capacity))
  if (d.ha) lines.push(`ha.lease: ${JSON.stringify(d.ha.lease)}`)
  return lines.join('\n')
}
