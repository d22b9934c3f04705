// Messages between a benchmark and its simulator child process (world-host.ts).
import type { Credentials } from '../../src/config/credentials.js'

export interface HostOptions {
  /** Globus simulator speed per task (default 1000 B/s). */
  bytesPerSecond?: number
  /** YAML appended to the world's config. */
  configExtra?: string
}

export interface WorldInfo {
  configText: string
  env: Record<string, string>
  credentials: Credentials
  globusUrl: string
  scicatUrl: string
  /** The Globus collections of the two facilities. */
  collections: { source: string; destination: string }
  /** The simulators' ManualClock at start. */
  now: number
}

export interface HostRequest {
  id: number
  op: string
  args: unknown[]
}

export type HostReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string }

export type Counts = Record<'globus' | 'scicat', Record<string, number>>
