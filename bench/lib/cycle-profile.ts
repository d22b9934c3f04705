// Profiles only the cycles of one kind, in-process with the inspector (a --cpu-prof of the whole
// process mixes in seeding, adoption and module loading): BENCH_PROFILE_KIND=busy, the output in
// BENCH_PROFILE_DIR (default .), and BENCH_PROFILE=heap for allocations (sampling heap profiler)
// instead of CPU. The simulators' process is profiled the same way over the same cycles with
// BENCH_SIM_PROFILE_KIND (the world host runs a CycleProfile of its own: start, then stop).
import { writeFile } from 'node:fs/promises'
import { Session } from 'node:inspector/promises'
import { join } from 'node:path'

export class CycleProfile {
  private session: Session | undefined
  private readonly kind = process.env.BENCH_PROFILE_KIND
  private readonly dir = process.env.BENCH_PROFILE_DIR ?? '.'
  private readonly heap = process.env.BENCH_PROFILE === 'heap'

  /** Runs `run`, profiled when `kind` is the one asked for; one file per run. */
  async around<T> (kind: string, label: string, run: () => Promise<T>): Promise<T> {
    if (this.kind !== kind) return await run()
    await this.start()
    try {
      return await run()
    } finally {
      await this.stop(`${label}-${kind}`)
    }
  }

  async start (): Promise<void> {
    const session = await this.connect()
    if (this.heap) await session.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true })
    else {
      await session.post('Profiler.setSamplingInterval', { interval: 100 })
      await session.post('Profiler.start')
    }
  }

  /** Stops what start() began and writes `<name>-<time>.cpuprofile` (or .heapprofile); returns the file. */
  async stop (name: string): Promise<string> {
    const session = await this.connect()
    const file = join(this.dir, `${name}-${Date.now()}.${this.heap ? 'heapprofile' : 'cpuprofile'}`)
    const { profile } = this.heap ? await session.post('HeapProfiler.stopSampling') : await session.post('Profiler.stop')
    await writeFile(file, JSON.stringify(profile))
    return file
  }

  private async connect (): Promise<Session> {
    if (this.session) return this.session
    const session = new Session()
    session.connect()
    await session.post(this.heap ? 'HeapProfiler.enable' : 'Profiler.enable')
    this.session = session
    return session
  }
}
