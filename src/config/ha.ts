// ha.lease resolved: defaults applied, names and times checked against what Kubernetes and the elector need.
import type { FileLease } from './schema.js'

export interface LeaseConfig {
  kind: 'kubernetes'
  name: string
  /** Undefined: the pod's own namespace, read from its service account when the service starts. */
  namespace: string | undefined
  durationSeconds: number
  renewSeconds: number
}

export interface HaConfig {
  lease: LeaseConfig
}

export const leaseDefaults = {
  name: 'scicat-globus-proxy',
  durationSeconds: 15,
  renewSeconds: 5,
} as const

/** Kubernetes object names: RFC 1123 subdomain (Lease names) and label (namespaces). */
const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/

/**
 * How long before its lease would run out an active instance stops writing (fencing): room for
 * a write already on its way to land, and for clocks that run at slightly different rates.
 */
export function fencingMarginSeconds (durationSeconds: number): number {
  return Math.min(2, durationSeconds * 0.2)
}

interface Problem {
  path: string
  message: string
}

/** ha.lease with its defaults; problems are appended (the schema has checked the types). */
export function resolveLease (file: FileLease | undefined, problems: Problem[]): HaConfig | undefined {
  if (!file) return undefined
  const at = 'ha.lease'
  const name = file.name || leaseDefaults.name
  const namespace = file.namespace || undefined
  const durationSeconds = file.durationSeconds || leaseDefaults.durationSeconds
  const renewSeconds = file.renewSeconds || leaseDefaults.renewSeconds
  if (name.length > 253 || !dnsSubdomain.test(name)) {
    problems.push({ path: `${at}.name`, message: 'must be a Kubernetes object name (lower-case letters, digits, "-" and ".", at most 253 characters)' })
  }
  if (namespace !== undefined && (namespace.length > 63 || !dnsLabel.test(namespace))) {
    problems.push({ path: `${at}.namespace`, message: 'must be a Kubernetes namespace name (lower-case letters, digits and "-", at most 63 characters)' })
  }
  if (!Number.isInteger(durationSeconds) || typeof renewSeconds !== 'number') {
    // the schema has reported it
  } else if (durationSeconds < 2) {
    problems.push({ path: `${at}.durationSeconds`, message: 'must be at least 2' })
  } else if (renewSeconds > durationSeconds / 2) {
    problems.push({
      path: `${at}.renewSeconds`,
      message: `must be at most half of durationSeconds (${durationSeconds}), so that a failed renewal is retried before the lease runs out`,
    })
  }
  return { lease: { kind: 'kubernetes', name, namespace, durationSeconds, renewSeconds } }
}
