// Child process of a benchmark: the two simulators on one ManualClock, driven over IPC, so the proxy's CPU is measured alone.
import { randomUUID } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { getResponse } from 'msw'
import { ManualClock } from '../../src/sandbox/sim-core.js'
import { sandboxCollections, startWorld, type World } from '../../src/sandbox/world.js'
import { submittedView } from '../../src/transfers/job-state.js'
import { queuedView } from '../../src/transfers/queued-view.js'
import { PackedFileList } from '../../src/transfers/packed-file-list.js'
import { toJobParams, type TransferParams } from '../../src/transfers/transfer.js'
import { CycleProfile } from './cycle-profile.js'
import type { HostOptions, HostReply, HostRequest, WorldInfo } from './world-protocol.js'

/** One source file all seeded tasks read; far larger than any benchmark lets them move. */
const SEED_FILE = '/bench-seed/data.bin'
const SEED_BYTES = 50_000_000

const options = JSON.parse(process.env.BENCH_WORLD ?? '{}') as HostOptions
const clock = new ManualClock(Date.now())
const world: World = await startWorld({
  datasets: 0,
  globus: { clock, bytesPerSecond: options.bytesPerSecond ?? 1000 },
  scicat: { clock },
  ...(options.configExtra ? { configExtra: options.configExtra } : {}),
})
const globusHandlers = world.globus.handlers()
/** bytesTransferred per job at the last `progress()`. */
let lastBytes = new Map<string, number>()
/** BENCH_SIM_PROFILE_KIND: the simulators' side of the cycles the benchmark names. */
const profile = new CycleProfile()

/** Calls a Globus simulator handler in-process (no socket): seeding 10,000 tasks stays quick. */
async function globusCall (method: string, path: string, init: { headers?: Record<string, string>; body?: string } = {}) {
  const request = new Request(world.globusUrl + path, { method, headers: init.headers, body: init.body })
  const res = await getResponse(globusHandlers, request, { baseUrl: world.globusUrl, quiet: true })
  if (!res || res.status >= 300) throw new Error(`Globus simulator ${method} ${path}: ${res?.status} ${await res?.text()}`)
  return (await res.json()) as Record<string, unknown>
}

async function globusToken (): Promise<string> {
  const { clientId, clientSecret } = world.credentials.globus
  const res = await globusCall('POST', '/v2/oauth2/token', {
    headers: {
      authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials&scope=urn:globus:auth:scope:transfer.api.globus.org:all',
  })
  return res.access_token as string
}

/**
 * `n` running Globus tasks (submitted with a submission id, as the service does) and their SciCat
 * jobs as the service leaves them right after submitting: statusCode "submitted", the task id set.
 */
async function seedTransfers (n: number): Promise<{ seeded: number; ms: number }> {
  const started = performance.now()
  const root = join(world.dir, 'facility-psi')
  mkdirSync(join(root, 'bench-seed'), { recursive: true })
  writeFileSync(join(root, SEED_FILE), Buffer.alloc(SEED_BYTES))
  const auth = { authorization: `Bearer ${await globusToken()}` }
  for (let i = 0; i < n; i++) {
    const submissionId = (await globusCall('GET', '/v0.10/submission_id', { headers: auth })).value as string
    const destinationPath = `/bench-seed/out-${i}/data.bin`
    const jobId = randomUUID()
    const submitted = await globusCall('POST', '/v0.10/transfer', {
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({
        DATA_TYPE: 'transfer',
        submission_id: submissionId,
        source_endpoint: sandboxCollections.source,
        destination_endpoint: sandboxCollections.destination,
        label: `SciCat job ${jobId}`,
        verify_checksum: true,
        DATA: [{ DATA_TYPE: 'transfer_item', source_path: SEED_FILE, destination_path: destinationPath }],
      }),
    })
    const params: TransferParams = {
      pid: `20.500.12345/bench-${i}`,
      sourceFacility: 'PSI',
      destFacility: 'CSCS',
      sourceCollection: sandboxCollections.source,
      destinationCollection: sandboxCollections.destination,
      sourcePath: SEED_FILE,
      destinationPath,
      autoArchive: false,
      globusSubmissionId: submissionId,
      sourceFolder: '/bench-seed',
      collectionRootPath: '/',
      verifyChecksum: true,
      syncLevel: 'none',
    }
    const view = submittedView(queuedView(submissionId, 0), submitted.task_id as string)
    world.scicat.insertJob({
      id: jobId,
      type: world.config.scicat.jobType,
      ownerGroup: 'p12345',
      ownerUser: 'alice',
      contactEmail: 'alice@example.org',
      jobParams: toJobParams(params),
      statusCode: view.statusCode,
      statusMessage: view.statusMessage,
      jobResultObject: { ...view.jobResultObject },
    })
  }
  lastBytes = new Map()
  return { seeded: n, ms: performance.now() - started }
}

/**
 * `n` transfer jobs as the service leaves them when Globus has no free slot: statusCode
 * "queued", a submission id issued by the Globus simulator, no task; "N ahead" as the service
 * shows it when they follow `ahead` others. Created after every job seeded before. With
 * `files`, each job has a fileList of that many entries (a dataset's files, as the Ingestor sends them).
 */
function seedQueued (n: number, ahead = 0, files = 0): { seeded: number; ms: number } {
  const started = performance.now()
  for (let i = 0; i < n; i++) {
    const submissionId = world.globus.issueSubmissionId()
    const jobId = randomUUID()
    const params: TransferParams = {
      pid: `20.500.12345/bench-queued-${i}`,
      sourceFacility: 'PSI',
      destFacility: 'CSCS',
      sourceCollection: sandboxCollections.source,
      destinationCollection: sandboxCollections.destination,
      sourcePath: SEED_FILE,
      destinationPath: `/bench-seed/queued-${i}/data.bin`,
      ...(files > 0
        ? { fileList: PackedFileList.of(Array.from({ length: files }, (_, f) => ({ path: `raw/queued-${i}/image-${String(f).padStart(5, '0')}.tiff`, isSymlink: false }))) }
        : {}),
      autoArchive: false,
      globusSubmissionId: submissionId,
      sourceFolder: '/bench-seed',
      collectionRootPath: '/',
      verifyChecksum: true,
      syncLevel: 'none',
    }
    const view = queuedView(submissionId, ahead + i)
    world.scicat.insertJob({
      id: jobId,
      type: world.config.scicat.jobType,
      ownerGroup: 'p12345',
      ownerUser: 'alice',
      contactEmail: 'alice@example.org',
      jobParams: toJobParams(params),
      statusCode: view.statusCode,
      statusMessage: view.statusMessage,
      jobResultObject: { ...view.jobResultObject },
    })
  }
  return { seeded: n, ms: performance.now() - started }
}

/** How many transfer jobs' bytesTransferred moved since the last call. */
function progress (): { jobs: number; progressed: number; byStatusCode: Record<string, number> } {
  const next = new Map<string, number>()
  const byStatusCode: Record<string, number> = {}
  let progressed = 0
  for (const job of world.scicat.jobs()) {
    if (job.type !== world.config.scicat.jobType) continue
    const bytes = Number((job.jobResultObject as { bytesTransferred?: unknown }).bytesTransferred ?? 0)
    if (bytes > (lastBytes.get(job.id) ?? 0)) progressed++
    next.set(job.id, bytes)
    byStatusCode[job.statusCode] = (byStatusCode[job.statusCode] ?? 0) + 1
  }
  lastBytes = next
  return { jobs: next.size, progressed, byStatusCode }
}

function addDatasets (n: number, prefix: string): string[] {
  return Array.from({ length: n }, (_, i) => {
    const pid = `20.500.12345/${prefix}-${i + 1}`
    world.addDataset(pid, { 'data.bin': 'd'.repeat(1000) })
    return pid
  })
}

/** Transfer jobs by statusCode, and how many Globus tasks exist and how many jobs carry a task id. */
function jobsSummary () {
  const byStatusCode: Record<string, number> = {}
  let withTask = 0
  for (const job of world.scicat.jobs()) {
    if (job.type !== world.config.scicat.jobType) continue
    byStatusCode[job.statusCode] = (byStatusCode[job.statusCode] ?? 0) + 1
    if ((job.jobResultObject as { globusTaskId?: unknown }).globusTaskId) withTask++
  }
  return { byStatusCode, withTask, globusTasks: world.globus.unfinishedCount() }
}

/** How the job keeps its fileList, the size of its jobParams, and how many items Globus got for it. */
function storedFileList (jobId: string) {
  const job = world.scicat.job(jobId)
  if (!job) throw new Error(`no job ${jobId}`)
  const params = job.jobParams as Record<string, unknown>
  const taskId = (job.jobResultObject as { globusTaskId?: string }).globusTaskId
  const submission = taskId ? world.globus.submission(taskId) : undefined
  return {
    storedAs: 'fileListGzip' in params ? 'fileListGzip' : 'fileList' in params ? 'fileList' : 'none',
    storedMb: Math.round((JSON.stringify(params).length / 1024 ** 2) * 10) / 10,
    globusItems: submission?.DATA.length ?? 0,
  }
}

const ops: Record<string, (...args: never[]) => unknown> = {
  advance: (ms: number) => clock.advance(ms),
  now: () => clock.now(),
  resetCounts: () => {
    world.globus.core.resetCounts()
    world.scicat.core.resetCounts()
  },
  counts: () => ({
    globus: Object.fromEntries(world.globus.core.counts),
    scicat: Object.fromEntries(world.scicat.core.counts),
  }),
  cpu: () => process.cpuUsage(),
  profileStart: () => profile.start(),
  profileStop: (name: string) => profile.stop(name),
  setBytesPerSecond: (rate: number) => world.globus.setBytesPerSecond(rate),
  seedTransfers,
  seedQueued,
  storedFileList,
  progress,
  addDatasets,
  jobsSummary,
  issueTokens: (n: number) => Array.from({ length: n }, () => world.scicat.issueToken('alice', { expiresInSeconds: 7 * 24 * 3600 })),
}

process.on('message', (message: HostRequest) => {
  const handle = async (): Promise<HostReply> => {
    try {
      const op = ops[message.op]
      if (!op) throw new Error(`unknown operation ${message.op}`)
      return { id: message.id, ok: true, value: await op(...(message.args as never[])) }
    } catch (err) {
      return { id: message.id, ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }
    }
  }
  handle().then(
    (reply) => process.send?.(reply),
    () => process.exit(1)
  )
})
process.on('disconnect', () => {
  world.close().then(
    () => process.exit(0),
    () => process.exit(1)
  )
})

const info: WorldInfo = {
  configText: world.configText,
  env: world.env,
  credentials: world.credentials,
  globusUrl: world.globusUrl,
  scicatUrl: world.scicatUrl,
  collections: sandboxCollections,
  now: clock.now(),
}
process.send?.({ ready: info })
