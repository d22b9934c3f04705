// Applies the Go service's defaults, compiles templates and renders what is known at load time.
import { isIP, isIPv4 } from 'node:net'
import type { ErrorStatusMode } from '../error-statuses.js'
import { mergeScopes } from '../globus/scopes.js'
import { type Direction, type FairShare, type FileConfig, type FileFacility, limits, type SyncLevel } from './schema.js'
import { type HaConfig, resolveLease } from './ha.js'
import { compileTemplate, type Template, TemplateError } from './template.js'

export const pathVariables = [
  'Pid',
  'PidPrefix',
  'PidShort',
  'PidEncoded',
  'SourceFolder',
  'RelativeSourceFolder',
  'DatasetFolder',
  'Username',
] as const
export const labelVariables = [...pathVariables, 'JobId'] as const
export const scopeVariables = ['Name', 'Collection'] as const
export const accessVariables = ['Name'] as const

export type PathVariable = (typeof pathVariables)[number]
export type PathVars = Record<PathVariable, string>

export const facilityDefaults = {
  scopes: [
    'urn:globus:auth:scope:transfer.api.globus.org:all[*https://auth.globus.org/scopes/{{.Collection}}/data_access]',
  ],
  accessPath: 'profile.accessGroups',
  accessValue: '{{ .Name }}',
  direction: 'BOTH' as Direction,
  sourcePath: '/{{ .RelativeSourceFolder }}',
  destinationPath: '/{{ .RelativeSourceFolder }}',
}

export const defaults = {
  port: 8080,
  host: '0.0.0.0',
  task: {
    maxConcurrency: 10,
    queueSize: 0,
    pollInterval: 10,
    discoveryInterval: 300,
    failFastAfterSeconds: 600,
    progressUpdatesPerCycle: 1000,
  },
  globus: {
    authUrl: 'https://auth.globus.org',
    transferUrl: 'https://transfer.api.globus.org',
    maxRequestsPerSecond: 10,
    maxActiveTasks: 100,
    verifyChecksum: true,
    syncLevel: 'none' as SyncLevel,
    label: 'SciCat job {{ .JobId }}',
    fairShare: 'user' as FairShare,
    failOnQuotaErrors: true,
    skipSourceErrors: false,
    submitAttempts: 10,
  },
  scicat: {
    jobType: 'globus_transfer_job',
    archiveJobType: 'archive',
    identityCacheSeconds: 30,
  },
  server: {
    bodyLimitMb: 64,
    trustProxy: false as boolean | string | number | string[],
    /** Origins allowed to call the API from a browser (DESIGN §12); none: no CORS headers. */
    cors: { origins: [] as string[] },
    /** Members of these groups read GET /status and every transfer in GET /transfers. */
    adminGroups: [] as string[],
    errorStatuses: 'go' as ErrorStatusMode,
  },
}

export interface Facility {
  name: string
  collection: string
  direction: Direction
  accessPath: string
  accessValue: string
  scopes: string[]
  sourcePath: Template
  destinationPath: Template
  /** The most unfinished Globus tasks using this facility at once (DESIGN §6); undefined: no limit. */
  maxActiveTasks?: number
}

export interface Config {
  scicatUrl: string
  port: number
  host: string
  facilities: Facility[]
  globusScopes: string[]
  task: typeof defaults.task
  globus: Omit<typeof defaults.globus, 'label'> & { label: Template; deadlineHours?: number; maxActiveTasksPerUser?: number }
  scicat: typeof defaults.scicat
  server: typeof defaults.server
  /** Absent: this instance assumes it is alone (DESIGN §11). */
  ha?: HaConfig
}

export interface Problem {
  path: string
  message: string
}

/** Go semantics: a missing key, an empty string, a zero or an empty list means "use the default". */
function pick<T> (value: T | undefined | null, fallback: T): T {
  if (value === undefined || value === null || value === '' || value === 0) return fallback
  if (Array.isArray(value) && value.length === 0) return fallback
  return value
}

/** Keeps only the keys of a facility whose type is right (the schema has reported the others). */
function wellTyped (raw: unknown): Partial<FileFacility> {
  if (typeof raw !== 'object' || raw === null) return {}
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(raw)) {
    if (k === 'scopes') {
      if (Array.isArray(v) && v.every((s) => typeof s === 'string')) out[k] = v
    } else if (typeof v === 'string' || (k === 'maxActiveTasks' && Number.isInteger(v))) out[k] = v
  }
  return out as Partial<FileFacility>
}

/** `host:port`, with an IPv6 address in brackets. */
export function hostPort (host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}

/** `scicatUrl` and the Globus URLs work with or without a trailing slash. */
export function sanitizeUrl (url: unknown): string {
  return String(url ?? '').replace(/\/+$/, '')
}

/** The named ranges of proxy-addr, which Fastify's trustProxy uses. */
const namedProxyRanges = ['loopback', 'linklocal', 'uniquelocal']

/**
 * Why Fastify would refuse one trustProxy entry (it throws when the app is built), or
 * undefined: an IP address, address/prefix length, IPv4 address/netmask, or a named range.
 */
export function trustProxyEntryProblem (entry: string): string | undefined {
  if (namedProxyRanges.includes(entry)) return undefined
  const slash = entry.lastIndexOf('/')
  const address = slash === -1 ? entry : entry.slice(0, slash)
  const kind = isIP(address)
  if (!kind) {
    return `"${entry}" is not an IP address, a CIDR range or one of ${namedProxyRanges.join(', ')}`
  }
  if (slash === -1) return undefined
  const range = entry.slice(slash + 1)
  const max = kind === 6 ? 128 : 32
  const prefix = /^\d+$/.test(range) ? Number(range) : kind === 4 && isIPv4(range) ? netmaskPrefix(range) : undefined
  if (prefix === undefined || prefix < 1 || prefix > max) {
    return `"${entry}": the range must be a prefix length from 1 to ${max}${kind === 4 ? ' or a netmask such as 255.255.0.0' : ''}`
  }
  return undefined
}

/** The prefix length of an IPv4 netmask such as 255.255.0.0; undefined when its ones are not contiguous. */
function netmaskPrefix (mask: string): number | undefined {
  const bits = mask.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0)
  const inverted = 0xffffffff - bits
  if ((inverted & (inverted + 1)) !== 0) return undefined
  return 32 - Math.log2(inverted + 1)
}

/** server.trustProxy as Fastify reads it: a string is a comma-separated list, a list is taken as is. */
function trustProxyProblems (value: unknown, problems: Problem[]): void {
  const path = 'server.trustProxy'
  if (typeof value === 'number' && value !== 0 && Number.isInteger(value)) {
    problems.push({
      path,
      message: 'a hop count is not supported (Fastify trusts no proxy by count); list the proxies\' addresses or CIDR ranges, or use true',
    })
  } else if (typeof value === 'string' && value !== '') {
    for (const entry of value.split(',').map((e) => e.trim())) {
      const why = trustProxyEntryProblem(entry)
      if (why) problems.push({ path, message: why })
    }
  } else if (Array.isArray(value)) {
    value.forEach((entry, i) => {
      const why = typeof entry === 'string' ? trustProxyEntryProblem(entry) : undefined
      if (why) problems.push({ path: `${path}[${i}]`, message: why })
    })
  }
}

/**
 * server.cors.origins: each an origin as a browser sends it in `Origin` (scheme, host, optional
 * port; no path, no trailing slash), which is what the allowlist is compared with.
 */
function corsOriginProblems (origins: string[], problems: Problem[]): void {
  origins.forEach((origin, i) => {
    let parsed: URL | undefined
    try {
      parsed = new URL(origin)
    } catch {}
    if (!parsed || !/^https?:$/.test(parsed.protocol) || parsed.origin !== origin) {
      const hint = parsed && /^https?:$/.test(parsed.protocol) ? ` (did you mean "${parsed.origin}"?)` : ''
      problems.push({
        path: `server.cors.origins[${i}]`,
        message: `"${origin}" is not an origin such as https://scicat.example.org${hint}`,
      })
    }
  })
}

/**
 * Resolves an already schema-checked file. Template problems are appended to `problems`;
 * the returned config is only meaningful when no problem was reported.
 */
export function resolveConfig (file: FileConfig, problems: Problem[]): Config {
  const compile = (path: string, source: unknown, vars: readonly string[]): Template => {
    try {
      return compileTemplate(String(source), vars)
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err
      problems.push({ path, message: err.message })
      return compileTemplate('', vars)
    }
  }
  const render = (
    path: string,
    source: unknown,
    vars: readonly string[],
    values: Record<string, string>
  ) => compile(path, source, vars).render(values)

  const facilities = (Array.isArray(file.facilities) ? file.facilities : []).map(
    (raw: FileFacility, i): Facility => {
      const at = `facilities[${i}]`
      const f = wellTyped(raw)
      const name = f.name ?? ''
      const collection = f.collection ?? ''
      const scopes = pick(f.scopes, facilityDefaults.scopes).map((s, j) =>
        render(`${at}.scopes[${j}]`, s, scopeVariables, { Name: name, Collection: collection })
      )
      return {
        name,
        collection,
        direction: (f.direction || facilityDefaults.direction) as Direction,
        accessPath: render(
          `${at}.accessPath`,
          pick(f.accessPath, facilityDefaults.accessPath),
          accessVariables,
          {
            Name: name,
          }
        ),
        accessValue: render(
          `${at}.accessValue`,
          pick(f.accessValue, facilityDefaults.accessValue),
          accessVariables,
          { Name: name }
        ),
        scopes,
        sourcePath: compile(
          `${at}.sourcePath`,
          pick(f.sourcePath, facilityDefaults.sourcePath),
          pathVariables
        ),
        destinationPath: compile(
          `${at}.destinationPath`,
          pick(f.destinationPath, facilityDefaults.destinationPath),
          pathVariables
        ),
        // 0, like an absent key, means no limit (Go's "zero means the default")
        ...(f.maxActiveTasks ? { maxActiveTasks: f.maxActiveTasks } : {}),
      }
    }
  )

  const seen = new Map<string, number>()
  facilities.forEach((f, i) => {
    const first = seen.get(f.name)
    if (f.name && first !== undefined) {
      problems.push({
        path: `facilities[${i}].name`,
        message: `duplicate facility name "${f.name}" (also facilities[${first}])`,
      })
    } else seen.set(f.name, i)
    if (!f.name && typeof file.facilities?.[i]?.name === 'string') {
      problems.push({ path: `facilities[${i}].name`, message: 'must not be empty' })
    }
    if (!f.collection && typeof file.facilities?.[i]?.collection === 'string') {
      problems.push({ path: `facilities[${i}].collection`, message: 'must not be empty' })
    }
  })

  const task = file.task ?? {}
  const globus = file.globus ?? {}
  const scicat = file.scicat ?? {}
  const server = file.server ?? {}
  const bodyLimitMb: unknown = server.bodyLimitMb
  // Fastify needs at least one byte; anything under a kilobyte is a typo for a larger unit
  if (typeof bodyLimitMb === 'number' && bodyLimitMb > 0 && bodyLimitMb < limits.minBodyLimitMb) {
    problems.push({ path: 'server.bodyLimitMb', message: `must be 0 (the default) or at least ${limits.minBodyLimitMb}` })
  }
  trustProxyProblems(server.trustProxy, problems)
  corsOriginProblems(server.cors?.origins ?? [], problems)
  const ha = resolveLease(file.ha?.lease, problems)
  return {
    scicatUrl: sanitizeUrl(file.scicatUrl ?? ''),
    port: pick(file.port, defaults.port),
    host: pick(server.host, defaults.host),
    facilities,
    globusScopes: mergeScopes(facilities.flatMap((f) => f.scopes)),
    task: {
      maxConcurrency: pick(task.maxConcurrency, defaults.task.maxConcurrency),
      queueSize: task.queueSize ?? defaults.task.queueSize,
      pollInterval: pick(task.pollInterval, defaults.task.pollInterval),
      discoveryInterval: pick(task.discoveryInterval, defaults.task.discoveryInterval),
      failFastAfterSeconds: pick(task.failFastAfterSeconds, defaults.task.failFastAfterSeconds),
      progressUpdatesPerCycle: pick(task.progressUpdatesPerCycle, defaults.task.progressUpdatesPerCycle),
    },
    globus: {
      authUrl: sanitizeUrl(pick(globus.authUrl, defaults.globus.authUrl)),
      transferUrl: sanitizeUrl(pick(globus.transferUrl, defaults.globus.transferUrl)),
      maxRequestsPerSecond: pick(globus.maxRequestsPerSecond, defaults.globus.maxRequestsPerSecond),
      maxActiveTasks: pick(globus.maxActiveTasks, defaults.globus.maxActiveTasks),
      verifyChecksum: globus.verifyChecksum ?? defaults.globus.verifyChecksum,
      syncLevel: pick(globus.syncLevel, defaults.globus.syncLevel),
      ...(globus.deadlineHours ? { deadlineHours: globus.deadlineHours } : {}),
      label: compile('globus.label', pick(globus.label, defaults.globus.label), labelVariables),
      fairShare: pick(globus.fairShare, defaults.globus.fairShare),
      ...(globus.maxActiveTasksPerUser ? { maxActiveTasksPerUser: globus.maxActiveTasksPerUser } : {}),
      failOnQuotaErrors: globus.failOnQuotaErrors ?? defaults.globus.failOnQuotaErrors,
      skipSourceErrors: globus.skipSourceErrors ?? defaults.globus.skipSourceErrors,
      submitAttempts: pick(globus.submitAttempts, defaults.globus.submitAttempts),
    },
    scicat: {
      jobType: pick(scicat.jobType, defaults.scicat.jobType),
      archiveJobType: pick(scicat.archiveJobType, defaults.scicat.archiveJobType),
      identityCacheSeconds: scicat.identityCacheSeconds ?? defaults.scicat.identityCacheSeconds,
    },
    server: {
      bodyLimitMb: pick(server.bodyLimitMb, defaults.server.bodyLimitMb),
      trustProxy: server.trustProxy ?? defaults.server.trustProxy,
      cors: { origins: server.cors?.origins ?? defaults.server.cors.origins },
      adminGroups: server.adminGroups ?? defaults.server.adminGroups,
      errorStatuses: pick(server.errorStatuses, defaults.server.errorStatuses),
    },
    ...(ha ? { ha } : {}),
  }
}
