// POST /transfer through the service on a real port, as the Ingestor calls it, and a load loop over tokens.
import { Agent, request } from 'undici'
import { pool } from '../baselines/upstream.js'
import { startProxy } from './proxy.js'
import { percentile, round } from './report.js'
import type { RemoteWorld } from './remote-world.js'

export interface Poster {
  /** One POST /transfer of `pid` (whole folder, autoArchive=false) with this token; throws unless 200. */
  one(token: string): Promise<void>
  close(): Promise<void>
}

/** The service built on the world's config plus `configExtra`, listening on a loopback port. */
export async function servicePoster (world: RemoteWorld, configExtra: string, pid: string, connections: number): Promise<Poster> {
  const proxy = await startProxy(world, configExtra)
  const url = await proxy.app.listen({ port: 0, host: '127.0.0.1' })
  const agent = new Agent({ connections })
  const query = new URLSearchParams({
    sourceFacility: 'PSI',
    destFacility: 'CSCS',
    scicatPid: pid,
    collectionRootPath: '/',
    autoArchive: 'false',
  }).toString()
  return {
    one: async (token) => {
      const res = await request(`${url}/transfer?${query}`, { dispatcher: agent, method: 'POST', headers: { 'SciCat-API-Key': token } })
      const text = await res.body.text()
      if (res.statusCode !== 200) throw new Error(`POST /transfer answered ${res.statusCode}: ${text.slice(0, 200)}`)
    },
    close: async () => {
      await agent.close()
      await proxy.close()
    },
  }
}

export interface Driven {
  latencies: number[]
  errors: number
  firstError?: string
}

/** `one` for every token, `concurrency` at a time: the latency of each that succeeded, and the errors. */
export async function drive (tokens: string[], concurrency: number, one: (token: string) => Promise<void>): Promise<Driven> {
  const latencies: number[] = []
  let errors = 0
  let firstError: string | undefined
  await pool(tokens, concurrency, async (token) => {
    const started = performance.now()
    try {
      await one(token)
      latencies.push(performance.now() - started)
    } catch (err) {
      errors++
      firstError ??= err instanceof Error ? err.message : String(err)
    }
  })
  return { latencies, errors, ...(firstError ? { firstError } : {}) }
}

/** One measured load: throughput, latency and the CPU of this process per request. */
export interface LoadResult {
  requests: number
  errors: number
  firstError?: string
  wallMs: number
  perSecond: number
  p50Ms: number
  p99Ms: number
  maxMs: number
  /** CPU of this process per request (the benchmarked code and its HTTP client). */
  cpuMsPerRequest: number
}

/** `drive` timed: wall time and this process's CPU over the requests. */
export async function measureLoad (tokens: string[], concurrency: number, one: (token: string) => Promise<void>): Promise<LoadResult> {
  const cpu = process.cpuUsage()
  const started = performance.now()
  const { latencies, errors, firstError } = await drive(tokens, concurrency, one)
  const wallMs = performance.now() - started
  const used = process.cpuUsage(cpu)
  return {
    requests: tokens.length,
    errors,
    ...(firstError ? { firstError } : {}),
    wallMs: round(wallMs),
    perSecond: round((tokens.length / wallMs) * 1000),
    p50Ms: round(percentile(latencies, 50), 2),
    p99Ms: round(percentile(latencies, 99), 2),
    maxMs: round(Math.max(...latencies), 2),
    cpuMsPerRequest: round((used.user + used.system) / 1000 / tokens.length, 3),
  }
}
