// The benchmark's side of the simulator child process: start it, call its operations, stop it.
import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { nodeArgs } from './case-runner.js'
import type { Counts, HostOptions, HostReply, WorldInfo } from './world-protocol.js'

const hostScript = fileURLToPath(new URL('./world-host.js', import.meta.url))

/** A clock the benchmark advances together with the simulators' ManualClock. */
export class BenchClock {
  constructor (private ms: number) {}
  now (): number {
    return this.ms
  }

  advance (ms: number): void {
    this.ms += ms
  }
}

export class RemoteWorld {
  private nextId = 1
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
  readonly clock: BenchClock

  private constructor (
    private readonly child: ChildProcess,
    readonly info: WorldInfo
  ) {
    this.clock = new BenchClock(info.now)
    child.on('message', (reply: HostReply) => {
      const waiter = this.pending.get(reply.id)
      if (!waiter) return
      this.pending.delete(reply.id)
      if (reply.ok) waiter.resolve(reply.value)
      else waiter.reject(new Error(`simulator host: ${reply.error}`))
    })
  }

  static async start (options: HostOptions = {}): Promise<RemoteWorld> {
    const child = fork(hostScript, [], {
      env: { ...process.env, BENCH_WORLD: JSON.stringify(options) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      // BENCH_SIM_NODE_ARGS="--cpu-prof ..." profiles the simulators
      execArgv: nodeArgs('BENCH_SIM_NODE_ARGS'),
    })
    const info = await new Promise<WorldInfo>((resolve, reject) => {
      child.once('error', reject)
      child.once('exit', (code) => reject(new Error(`simulator host exited with ${code}`)))
      child.once('message', (m: { ready?: WorldInfo }) => (m.ready ? resolve(m.ready) : reject(new Error('simulator host: no ready message'))))
    })
    child.removeAllListeners('exit')
    return new RemoteWorld(child, info)
  }

  call<T = unknown>(op: string, ...args: unknown[]): Promise<T> {
    const id = this.nextId++
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject })
      this.child.send({ id, op, args })
    })
  }

  /** Moves the simulators' time and the benchmark's together. */
  async advance (ms: number): Promise<void> {
    this.clock.advance(ms)
    await this.call('advance', ms)
  }

  counts (): Promise<Counts> {
    return this.call<Counts>('counts')
  }

  /** CPU time the simulators used so far, in milliseconds. */
  async cpuMs (): Promise<number> {
    const u = await this.call<NodeJS.CpuUsage>('cpu')
    return (u.user + u.system) / 1000
  }

  async close (): Promise<void> {
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()))
    this.child.disconnect()
    await exited
  }
}
