// Benchmark "filelist": one POST /transfer with a 100,000- and a 1,000,000-entry fileList: peak memory above the idle service, and the outcome.
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { wireStatus } from '../src/error-statuses.js'
import { arg, report, runCases } from './lib/case-runner.js'
import { startProxy, yaml } from './lib/proxy.js'
import { mb, printTargets, round, table, target, type Target, writeResult } from './lib/report.js'
import { RemoteWorld } from './lib/remote-world.js'
import type { Counts } from './lib/world-protocol.js'

/** names: as an instrument writes them (runs of numbered images); random: 30 random characters each (gzip cannot shrink them much). */
const variants = {
  '100k names': { entries: 100_000, random: false },
  '1M names': { entries: 1_000_000, random: false },
  '1M random': { entries: 1_000_000, random: true },
} as const
type Variant = keyof typeof variants

export interface FileListCase {
  variant: Variant
  entries: number
  bodyMb: number
  status: number
  code?: string
  message?: string
  wallMs: number
  cpuMs: number
  idleRssMb: number
  peakRssMb: number
  /** Peak RSS minus the RSS of the idle service just before the request. */
  aboveIdleMb: number
  storedAs?: string
  storedMb?: number
  globusItems?: number
  upstreamCalls: Counts
  jobs: { byStatusCode: Record<string, number>; withTask: number; globusTasks: number }
}

function body (entries: number, random: boolean): Buffer {
  const parts: string[] = []
  for (let i = 0; i < entries; i++) {
    const path = random
      ? randomBytes(22).toString('base64url')
      : `raw/run-${String(Math.floor(i / 1000)).padStart(4, '0')}/image-${String(i).padStart(7, '0')}.tiff`
    parts.push(`{"path":"${path}","isSymlink":false}`)
  }
  return Buffer.from(`{"fileList":[${parts.join(',')}]}`)
}

async function runFileListCase (variant: Variant): Promise<FileListCase> {
  const { entries, random } = variants[variant]
  const world = await RemoteWorld.start()
  const [pid] = await world.call<string[]>('addDatasets', 1, 'filelist')
  const [warmToken, token] = await world.call<string[]>('issueTokens', 2)
  // the defaults, server.bodyLimitMb (64) included
  const proxy = await startProxy(world, yaml({ globus: { maxRequestsPerSecond: 1_000_000 } }))
  const query = new URLSearchParams({ sourceFacility: 'PSI', destFacility: 'CSCS', scicatPid: pid!, collectionRootPath: '/', autoArchive: 'false' })
  // through Fastify's inject: the whole request path (body limit, parser, validation, route,
  // upstream calls) without a socket, whose buffers would belong to the client as much as to the service
  const post = async (t: string, payload: Buffer) => {
    const res = await proxy.app.inject({
      method: 'POST',
      url: `/transfer?${query}`,
      headers: { 'SciCat-API-Key': t, 'content-type': 'application/json' },
      payload,
    })
    return { status: res.statusCode, json: res.json() as Record<string, unknown> }
  }
  // warm: one small list through the whole path, so that the idle service has loaded everything
  const warm = await post(warmToken!, body(10, false))
  if (warm.status !== 200) throw new Error(`warm-up POST answered ${warm.status}: ${JSON.stringify(warm.json)}`)
  const payload = body(entries, random)
  await world.call('resetCounts')
  globalThis.gc?.()
  const idleRss = process.memoryUsage().rss
  const cpu = process.cpuUsage()
  const started = performance.now()
  const res = await post(token!, payload)
  const wallMs = performance.now() - started
  const used = process.cpuUsage(cpu)
  const peakRss = process.resourceUsage().maxRSS * 1024
  const counts = await world.counts()
  const jobs = await world.call<FileListCase['jobs']>('jobsSummary')
  const stored = res.status === 200 ? await world.call<{ storedAs: string; storedMb: number; globusItems: number }>('storedFileList', res.json.jobId) : undefined
  await proxy.close()
  await world.close()
  return {
    variant,
    entries,
    bodyMb: mb(payload.length),
    status: res.status,
    ...(typeof res.json.code === 'string' ? { code: res.json.code } : {}),
    ...(typeof res.json.message === 'string' ? { message: `${res.json.message}${res.json.details ? `: ${String(res.json.details)}` : ''}` } : {}),
    wallMs: round(wallMs),
    cpuMs: round((used.user + used.system) / 1000),
    idleRssMb: mb(idleRss),
    peakRssMb: mb(peakRss),
    aboveIdleMb: mb(peakRss - idleRss),
    ...(stored ?? {}),
    upstreamCalls: counts,
    jobs,
  }
}

export async function fileListBench (): Promise<Target[]> {
  const script = fileURLToPath(import.meta.url)
  const cases = await runCases<FileListCase>('filelist', script, Object.keys(variants))
  console.log('\n## filelist: one POST /transfer with a large fileList (defaults, through Fastify inject)\n')
  console.log(
    table(
      ['fileList', 'body MB', 'status', 'code', 'wall s', 'CPU s', 'idle RSS MB', 'peak RSS MB', 'above idle MB', 'stored as', 'stored MB', 'Globus items', 'jobs'],
      cases.map((c) => [
        c.variant,
        c.bodyMb,
        c.status,
        c.code ?? '',
        round(c.wallMs / 1000, 2),
        round(c.cpuMs / 1000, 2),
        c.idleRssMb,
        c.peakRssMb,
        c.aboveIdleMb,
        c.storedAs ?? '',
        c.storedMb ?? '',
        c.globusItems ?? '',
        JSON.stringify(c.jobs.byStatusCode),
      ])
    )
  )
  for (const c of cases.filter((x) => x.message)) console.log(`\n${c.variant}: ${c.message}`)
  console.log()
  const targets: Target[] = []
  const small = cases.find((c) => c.variant === '100k names')!
  targets.push(
    target(
      'filelist: 100,000 entries submitted end to end (200, one Globus task of 100,000 items)',
      `${small.status}, ${small.globusItems ?? 0} items`,
      small.status === 200 && small.globusItems === small.entries
    )
  )
  targets.push(target('filelist: 100,000 entries at <= 100 MB peak RSS above the idle service', `${small.aboveIdleMb} MB`, small.aboveIdleMb <= 100))
  for (const c of cases.filter((x) => x.entries === 1_000_000)) {
    const handled = c.status === 200 && c.globusItems === c.entries
    // 413, answered as 400 under the default server.errorStatuses: go (the Go 1.2.0 spec declares no 413 for POST /transfer)
    const refused = c.status === wireStatus('go', 'POST', '/transfer', 413) && c.code === 'PROXY_FILELIST_TOO_LARGE' && (c.upstreamCalls.scicat.createJob ?? 0) === 0 && (c.upstreamCalls.globus.submission_id ?? 0) === 0
    targets.push(
      target(
        `filelist (${c.variant}): handled end to end, or refused before anything is created with the limit named`,
        handled ? `handled: ${c.globusItems} items, peak RSS ${c.peakRssMb} MB` : refused ? `refused: ${c.code}` : `${c.status} ${c.code ?? ''}`,
        handled || refused
      )
    )
  }
  printTargets(targets)
  const file = writeResult('filelist', { cases, targets })
  console.log(`\nwritten ${file}`)
  return targets
}

const variant = arg('case')
if (variant !== undefined && variant in variants) {
  report(await runFileListCase(variant as Variant))
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await fileListBench()
}
