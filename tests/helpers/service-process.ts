// The built service (`dist/cli.js serve`) as a child process, a client that keeps submitting through kills, and a seeded PRNG.
import { type ChildProcess, spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { Agent, request } from 'undici'

export const cli = join(import.meta.dirname, '../../dist/cli.js')

/** A port nobody listens on right now (the kernel's pick for port 0). */
export async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  if (!address || typeof address === 'string') throw new Error('no port')
  return address.port
}

/** Polls `check` until it returns true; throws `what` after `timeoutMs`. */
export async function waitUntil (
  what: string,
  check: () => boolean | Promise<boolean>,
  { timeoutMs = 10_000, intervalMs = 25 } = {}
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await check()) return
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await delay(intervalMs)
  }
}

/** mulberry32: a small seeded PRNG, so a failing schedule can be replayed from its seed. */
export function prng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
}

/** One `serve` process. */
export class ServiceProcess {
  readonly exited: Promise<Exit>
  private exit: Exit | undefined
  private output = ''

  private constructor (
    readonly child: ChildProcess,
    readonly port: number
  ) {
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-20_000)
    }
    child.stdout?.on('data', keep)
    child.stderr?.on('data', keep)
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exit = { code, signal }
        resolve(this.exit)
      })
    })
  }

  /** Spawns `node dist/cli.js serve --config FILE` and waits until GET /health answers 200. */
  static async start (options: { config: string; env: Record<string, string>; port: number; readyMs?: number }): Promise<ServiceProcess> {
    const child = spawn(process.execPath, [cli, 'serve', '--config', options.config], {
      env: {
        PATH: process.env.PATH ?? '',
        ...options.env,
        PORT: String(options.port),
        HOST: '127.0.0.1',
        LOG_LEVEL: options.env.LOG_LEVEL ?? process.env.SERVICE_LOG_LEVEL ?? 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const service = new ServiceProcess(child, options.port)
    try {
      await waitUntil(`GET /health on port ${options.port}`, async () => {
        if (service.exit) throw new Error(`serve exited early (${JSON.stringify(service.exit)}): ${service.output}`)
        return await service.healthy()
      }, { timeoutMs: options.readyMs ?? 15_000 })
    } catch (err) {
      await service.kill('SIGKILL')
      throw new Error(`${(err as Error).message}\n--- service log ---\n${service.output}`)
    }
    return service
  }

  get running (): boolean {
    return this.exit === undefined
  }

  /** The last lines the process wrote (stdout and stderr), for failure messages. */
  get log (): string {
    return this.output
  }

  private async healthy (): Promise<boolean> {
    const agent = new Agent({ pipelining: 0 })
    try {
      const res = await request(`http://127.0.0.1:${this.port}/health`, {
        dispatcher: agent,
        signal: AbortSignal.timeout(1000),
      })
      await res.body.dump()
      return res.statusCode === 200
    } catch {
      return false
    } finally {
      await agent.destroy()
    }
  }

  /** The exit, or undefined when the process is still running after `ms`. */
  async exitWithin (ms: number): Promise<Exit | undefined> {
    let timer: NodeJS.Timeout | undefined
    try {
      return await Promise.race([
        this.exited,
        new Promise<undefined>((resolve) => {
          timer = setTimeout(() => resolve(undefined), ms)
        }),
      ])
    } finally {
      clearTimeout(timer)
    }
  }

  /** Sends `signal` (unless the process has ended) and waits for the exit. */
  async kill (signal: NodeJS.Signals): Promise<Exit> {
    if (this.running) this.child.kill(signal)
    return await this.exited
  }
}

/** Writes the config to a file and returns its path. */
export function writeConfig (dir: string, text: string): string {
  const path = join(dir, 'scicat-globus-proxy-config.yaml')
  writeFileSync(path, text)
  return path
}

export interface SubmitItem {
  pid: string
  key: string
}

export interface Answer {
  status: number
  body: string
}

/**
 * POSTs /transfer for every item, `concurrency` at a time, with an Idempotency-Key per item.
 * `retry: true` repeats a request that got no 200 (connection refused or reset, 5xx) until
 * it does; `retry: false` gives up on an item after its first failed attempt.
 */
export class Submitter {
  /** Idempotency-Key → the jobId of the 200 answer. */
  readonly accepted = new Map<string, string>()
  /** Answers that are neither 200 nor a failure worth retrying (4xx): there should be none. */
  readonly refused: Array<{ key: string } & Answer> = []
  /** Every attempt: when it was sent and answered, and how (0: no HTTP answer). */
  readonly history: Array<{ key: string; status: number; sentAt: number; answeredAt: number }> = []
  inFlight = 0
  attempts = 0
  failedAttempts = 0
  private next = 0
  private settled = 0
  private stopped = false
  private readonly agent = new Agent({ connections: 64 })

  constructor (
    private readonly o: {
      port: () => number
      token: string
      items: SubmitItem[]
      concurrency: number
      retry: boolean
      query?: Record<string, string>
    }
  ) {}

  /** Every item was accepted or given up. */
  get finished (): boolean {
    return this.settled === this.o.items.length
  }

  async run (): Promise<void> {
    await Promise.all(Array.from({ length: this.o.concurrency }, () => this.worker()))
  }

  /** No new attempts after this (requests in flight still end). */
  stop (): void {
    this.stopped = true
  }

  async close (): Promise<void> {
    this.stop()
    await this.agent.destroy()
  }

  /** One POST /transfer; a network failure is status 0. */
  async post (item: SubmitItem): Promise<Answer> {
    const query = new URLSearchParams({
      sourceFacility: 'PSI',
      destFacility: 'CSCS',
      scicatPid: item.pid,
      collectionRootPath: '/',
      autoArchive: 'true',
      ...this.o.query,
    })
    this.inFlight++
    this.attempts++
    const sentAt = Date.now()
    let status = 0
    try {
      const res = await request(`http://127.0.0.1:${this.o.port()}/transfer?${query}`, {
        method: 'POST',
        headers: { 'scicat-api-key': this.o.token, 'idempotency-key': item.key },
        dispatcher: this.agent,
        signal: AbortSignal.timeout(30_000),
      })
      const body = await res.body.text()
      status = res.statusCode
      return { status, body }
    } catch (err) {
      return { status: 0, body: String(err) }
    } finally {
      this.inFlight--
      this.history.push({ key: item.key, status, sentAt, answeredAt: Date.now() })
    }
  }

  private async worker (): Promise<void> {
    while (!this.stopped && this.next < this.o.items.length) {
      const item = this.o.items[this.next++]!
      for (let attempt = 0; !this.stopped; attempt++) {
        const answer = await this.post(item)
        if (answer.status === 200) {
          this.accepted.set(item.key, (JSON.parse(answer.body) as { jobId: string }).jobId)
          break
        }
        this.failedAttempts++
        if (answer.status >= 400 && answer.status < 500) {
          this.refused.push({ key: item.key, ...answer })
          break
        }
        if (!this.o.retry) break
        // a back-off, not a synchronisation: the next attempt finds the service up or not
        await delay(Math.min(200, 10 * 2 ** attempt))
      }
      this.settled++
    }
  }
}
