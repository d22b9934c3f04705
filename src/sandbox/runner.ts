// `scicat-globus-proxy sandbox [--demo]`: the simulators and the service on loopback, with a walkthrough.
import { statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { pino } from 'pino'
import { request } from 'undici'
import { parseConfig } from '../config/loader.js'
import { createLogger } from '../logger.js'
import { buildService } from '../service.js'
import { formatBytes } from '../transfers/job-state.js'
import { startWorld, type World } from './world.js'

type Env = Readonly<Record<string, string | undefined>>

export interface SandboxOptions {
  demo: boolean
  env: Env
  /** Where the walkthrough goes (default stdout). */
  out?: (line: string) => void
}

export async function runSandbox (options: SandboxOptions): Promise<number> {
  const out = options.out ?? ((line: string) => process.stdout.write(`${line}\n`))
  const world = await startWorld({
    configExtra: `task:\n  pollInterval: 1\n  discoveryInterval: 60\nserver:\n  adminGroups: [${operatorGroup}]\n`,
    // the walkthrough's transfer takes about 40 s: time to follow it and to cancel it
    ...(options.demo ? {} : { globus: { bytesPerSecond: walkthroughBytesPerSecond } }),
  })
  // an operator of the service: sees the /status panel and every transfer on the web page
  world.scicat.addUser({ ...operator, email: 'oscar@example.org', groups: [operatorGroup, 'PSI', 'CSCS'], displayName: 'Oscar Operator' })
  const operatorToken = world.scicat.issueToken(operator.username, { expiresInSeconds: 7 * 24 * 3600 })
  // the service logs to a file so the walkthrough stays readable
  const logFile = join(world.dir, 'proxy.log')
  const logger = createLogger(options.env.LOG_LEVEL || 'info', pino.destination({ dest: logFile, sync: false }))
  const config = parseConfig(world.configText, 'sandbox', { ...world.env, PORT: options.env.PORT ?? '8080', HOST: '127.0.0.1' })
  const service = await buildService(config, world.credentials, { logger }).catch(async (err: unknown) => {
    await world.close()
    throw err
  })
  const { app } = service
  const close = async () => {
    await service.close()
    await world.close()
  }
  let url: string
  try {
    url = await app.listen({ port: config.port, host: config.host }).catch(async (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EADDRINUSE' || options.env.PORT) throw err
      // 8080 is taken: any free port will do for a sandbox
      return await app.listen({ port: 0, host: config.host })
    })
  } catch (err) {
    await close()
    throw err
  }
  app.tracker.start()
  writeFileSync(join(world.dir, 'scicat-globus-proxy-config.yaml'), world.configText)

  const stopped = new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'))
    process.once('SIGTERM', () => resolve('SIGTERM'))
  })

  if (options.demo) {
    // Ctrl-C during the demo: the transfer did not finish, so 1, but everything is cleaned up
    const code = await Promise.race([
      demo(world, url, out).catch((err: unknown) => {
        out(`demo failed: ${err instanceof Error ? err.message : String(err)}`)
        return 1
      }),
      stopped.then((signal) => {
        out(`\n${signal}: stopping the demo before the transfer finished`)
        return 1
      }),
    ])
    await close()
    return code
  }

  out(walkthrough(world, url, logFile, operatorToken))
  const signal = await stopped
  out(`\n${signal}: stopping the sandbox`)
  await close()
  return 0
}

/** The sandbox's server.adminGroups, and its one member. */
const operatorGroup = 'proxy-operators'
const operator = { username: 'oscar', password: 'oscar' }

/** Globus simulator rate of the interactive sandbox, per transfer. */
const walkthroughBytesPerSecond = 10_000

function walkthrough (world: World, url: string, logFile: string, operatorToken: string): string {
  const pid = world.datasets[0]!.pid
  const token = world.tokens.alice
  const q = `sourceFacility=PSI&destFacility=CSCS&scicatPid=${encodeURIComponent(pid)}&collectionRootPath=/`
  const fileSize = statSync(join(world.dir, 'facility-psi', world.datasets[0]!.sourceFolder, 'raw/image-001.tiff')).size
  return `
scicat-globus-proxy sandbox is running.

  proxy            ${url}   (Swagger UI: ${url}/docs)
  web page         ${url}/ui/   (sign in with a token below)
  Globus simulator ${world.globusUrl}
  SciCat simulator ${world.scicatUrl}
  facilities       PSI (source, ${join(world.dir, 'facility-psi')})
                   CSCS (destination, ${join(world.dir, 'facility-cscs')})
  user             alice, SciCat token below; datasets ${world.datasets.map((d) => d.pid).join(', ')}
  service log      ${logFile}

1. Start a transfer, exactly as the SciCat Ingestor does (it answers {"jobId":"..."}; the
   commands keep the id in JOB for the next steps):

  TOKEN='${token}'
  JOB=$(curl -s -X POST '${url}/transfer?${q}&autoArchive=true' \\
    -H "SciCat-API-Key: $TOKEN" -H 'Content-Type: application/json' \\
    -d '{"fileList":[{"path":"raw/image-001.tiff","isSymlink":false},{"path":"README.txt","isSymlink":false}]}' \\
    | sed -E 's/.*"jobId":"([^"]+)".*/\\1/'); echo "$JOB"

   (leave out -d ... to copy the whole folder). The simulated Globus moves
   ${formatBytes(walkthroughBytesPerSecond)} per second: this transfer takes about ${Math.round(fileSize / walkthroughBytesPerSecond)} s.

2. Follow it through the proxy:

  curl -s '${url}/transfer/'$JOB -H "SciCat-API-Key: $TOKEN"

3. ... or read the SciCat job directly, as the Ingestor does:

  curl -s '${world.scicatUrl}/api/v4/jobs/'$JOB -H "Authorization: Bearer $TOKEN"

4. Cancel it while it runs (add ?delete=true to also delete the job; once it has
   finished, cancel answers 409):

  curl -s -X DELETE '${url}/transfer/'$JOB -H "SciCat-API-Key: $TOKEN" -w '%{http_code}\\n'

5. Or follow, start and cancel transfers on the web page: open ${url}/ui/ and sign in
   with alice's token above. The operator oscar (server.adminGroups) also sees the service
   status panel and everyone's transfers; his token:

  ${operatorToken}

   The same through the API: curl -s '${url}/transfers' -H "SciCat-API-Key: $TOKEN"

Also: ${url}/facilities (with the token), ${url}/status (oscar's token), ${url}/health, ${url}/ready, ${url}/metrics.
The copied files appear under ${join(world.dir, 'facility-cscs', 'archive')}.
Press Ctrl-C to stop.`
}

/** Submits one transfer, prints a live progress line, resolves 0 when it finished, 1 otherwise. */
async function demo (world: World, url: string, out: (line: string) => void): Promise<number> {
  const pid = world.datasets[2]!.pid
  const headers = { 'scicat-api-key': world.tokens.alice, 'content-type': 'application/json' }
  const q = new URLSearchParams({ sourceFacility: 'PSI', destFacility: 'CSCS', scicatPid: pid, collectionRootPath: '/' })
  out(`POST ${url}/transfer?${q}`)
  const res = await request(`${url}/transfer?${q}`, { method: 'POST', headers, body: '{}' })
  const body = (await res.body.json()) as { jobId?: string; message?: string }
  if (res.statusCode !== 200 || !body.jobId) {
    out(`the proxy answered ${res.statusCode}: ${JSON.stringify(body)}`)
    return 1
  }
  out(`job ${body.jobId} created; following it (Ctrl-C to stop)`)
  const tty = process.stdout.isTTY
  const deadline = Date.now() + 120_000
  let last = ''
  while (Date.now() < deadline) {
    const r = await request(`${url}/transfer/${body.jobId}`, { headers })
    const s = (await r.body.json()) as {
      status: string
      message: string
      filesTransferred: number
      filesTotal: number
      bytesTransferred: number
    }
    const line = `${s.status}: ${s.filesTransferred}/${s.filesTotal} files, ${formatBytes(s.bytesTransferred)} — ${s.message}`
    if (line !== last) {
      if (tty) process.stdout.write(`\r\x1b[K${line}`)
      else out(line)
      last = line
    }
    if (s.status !== 'transferring') {
      if (tty) process.stdout.write('\n')
      const archive = world.scicat.jobs().find((j) => j.type === 'archive')
      if (s.status === 'finished') {
        out(`finished. Files are in ${join(world.dir, 'facility-cscs', 'archive', pid.split('/').pop()!)}`)
        out(`dataset ${pid} is archivable: ${world.scicat.dataset(pid)?.datasetlifecycle.archivable === true}; archive job: ${archive?.id ?? 'none'}`)
        return 0
      }
      out(`the transfer ended as ${s.status}`)
      return 1
    }
    await sleep(250)
  }
  out('the transfer did not finish within 2 minutes')
  return 1
}
