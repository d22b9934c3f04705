// The one tracker of a process: composes capacity queue, submitter, discovery, polling and cancellation, and runs their cycle.
import type { Logger } from 'pino'
import type { Config } from '../config/resolve.js'
import type { GlobusClient } from '../globus/client.js'
import type { Metrics } from '../metrics.js'
import type { Job, ScicatClient } from '../scicat/client.js'
import { Cancellation } from './cancellation.js'
import { CapacityQueue } from './capacity-queue.js'
import { describe } from './cycle-helpers.js'
import { isOwnJob } from './deployment.js'
import { type AdoptionFilter, Discovery } from './discovery.js'
import { Finisher } from './finisher.js'
import { JobWriter } from './job-writer.js'
import { Poller } from './poller.js'
import type { OwnerWaiting } from './queue-view.js'
import { type SubmitOutcome, Submitter } from './submitter.js'
import { TrackedTransfers } from './tracked-transfers.js'
import type { Transfer } from './transfer.js'
import { alwaysWrite, type WriteGate } from './write-gate.js'

export type { SubmitOutcome } from './submitter.js'

export interface TrackerDeps {
  config: Config
  globus: GlobusClient
  scicat: ScicatClient
  logger: Logger
  metrics: Metrics
  now?: () => number
  /** Checked before every submission, cancel and job write (default: always). */
  canWrite?: WriteGate
  /** Which unfinished jobs discovery adopts (default: this deployment's, and those without globusClientId). */
  adopts?: AdoptionFilter
}

export class Tracker {
  private readonly tracked: TrackedTransfers
  private readonly capacity: CapacityQueue
  private readonly submitter: Submitter
  private readonly discovery: Discovery
  private readonly poller: Poller
  private readonly cancellation: Cancellation
  private readonly finisher: Finisher
  private readonly canWrite: WriteGate
  private readonly log: Logger
  private timer: NodeJS.Timeout | undefined
  private cycle: Promise<void> | undefined
  private stopped = true
  /** Set by stop(): a running cycle submits nothing new. */
  private stopping = false

  constructor (private readonly deps: TrackerDeps) {
    const now = deps.now ?? Date.now
    const log = (this.log = deps.logger.child({ component: 'tracker' }))
    const canWrite = (this.canWrite = deps.canWrite ?? alwaysWrite)
    const { config, globus, scicat, metrics } = deps
    const writer = new JobWriter(scicat, metrics, log, canWrite, config.scicat.statusCodes)
    const capacity = (this.capacity = new CapacityQueue(config, (id) => this.tracked.get(id), metrics))
    const tracked = (this.tracked = new TrackedTransfers(capacity, writer, metrics))
    const submitter = (this.submitter = new Submitter({ config, globus, scicat, metrics, log, tracked, capacity, writer, canWrite, now }))
    this.cancellation = new Cancellation({ globus, log, tracked, capacity, writer, submitter, canWrite })
    this.discovery = new Discovery({
      config,
      scicat,
      log,
      tracked,
      capacity,
      isCancelling: (id) => this.cancellation.isCancelling(id),
      adopts: deps.adopts ?? ((job) => isOwnJob(job, globus.clientId)),
      now,
    })
    this.poller = new Poller({ config, globus, log, tracked, capacity, writer, canWrite, now })
    this.finisher = new Finisher(config, scicat, log)
  }

  /** The transfers this process follows, by job id. */
  get transfers (): ReadonlyMap<string, Transfer> {
    return this.tracked.byJob
  }

  /** Job ids waiting for a Globus slot, in their fair order (DESIGN §6). */
  get queue (): readonly string[] {
    return this.capacity.queued
  }

  /** Owners (users; groups with globus.fairShare: group) with at least one transfer waiting for a slot. */
  get ownersWaiting (): number {
    return this.capacity.ownersWaiting
  }

  /** The owners waiting and how many transfers each (for /status). */
  waitingOwners (): OwnerWaiting[] {
    return this.capacity.waitingOwners()
  }

  get activeCount (): number {
    return this.capacity.activeCount
  }

  /** Submission ids of jobs a request is creating right now: discovery leaves them alone. */
  get creating (): Set<string> {
    return this.discovery.creating
  }

  /** Starts the cycles (the first one at once, with discovery). Idempotent; may follow a stop(). */
  start (): void {
    if (!this.stopped) return
    this.stopped = false
    this.stopping = false
    this.schedule(0)
  }

  /** Stops the cycles, waits for the running one, and gives pending job updates `boundMs` to land. */
  async stop (boundMs = 5000): Promise<void> {
    this.stopped = true
    this.stopping = true
    clearTimeout(this.timer)
    this.timer = undefined
    // A cycle stuck in upstream retries must not hold the shutdown: whatever has not landed
    // by the deadline is repaired by the next start's discovery.
    let timeout: NodeJS.Timeout | undefined
    await Promise.race([
      (async () => {
        await this.cycle
        await this.flush()
      })(),
      new Promise<void>((resolve) => {
        timeout = setTimeout(resolve, boundMs)
      }),
    ])
    clearTimeout(timeout)
  }

  /**
   * After stop(): forgets every transfer without writing (the instance lost or gave up the
   * lease) so that the next start() rebuilds from SciCat, with discovery, as a fresh process would.
   */
  reset (): void {
    const abandoned = this.tracked.abandonAll()
    this.discovery.reset()
    this.tracked.updateGauges()
    if (abandoned) this.log.info({ abandoned }, 'let go of the tracked transfers; the active instance follows them')
  }

  private schedule (delayMs: number): void {
    this.timer = setTimeout(() => {
      this.runCycle()
        .catch((err: unknown) => this.log.error({ err }, 'tracker cycle failed'))
        .finally(() => {
          if (!this.stopped) this.schedule(this.deps.config.task.pollInterval * 1000)
        })
    }, delayMs)
  }

  /** One cycle; a call while a cycle runs waits for that cycle instead of starting another. */
  async runCycle (): Promise<void> {
    this.cycle ??= this.runOnce().finally(() => {
      this.cycle = undefined
    })
    return this.cycle
  }

  private async runOnce (): Promise<void> {
    const end = this.deps.metrics.cycleDuration.startTimer()
    if (this.discovery.due) {
      await this.discover().catch((err: unknown) => this.log.warn({ err: describe(err) }, 'discovery failed'))
    }
    await this.flush()
    await this.poller.poll()
    if (this.canWrite()) {
      await Promise.all(this.tracked.where((t) => t.state === 'finishing').map((t) => this.finish(t)))
    }
    await this.submitter.fillSlots(() => this.stopping)
    await this.submitter.refreshQueued()
    this.tracked.updateGauges()
    this.capacity.updateGauges()
    end()
  }

  /** Lists unfinished transfer jobs in SciCat and adopts those this process does not follow yet. */
  discover (): Promise<number> {
    return this.discovery.discover()
  }

  /** Submits a transfer whose job was just created, or queues it (see Submitter.startTransfer). */
  startTransfer (t: Transfer): Promise<SubmitOutcome> {
    return this.submitter.startTransfer(t)
  }

  /** Cancels a transfer (DELETE /transfer/{jobId}), tracked here or not. */
  cancel (job: Job): Promise<void> {
    return this.cancellation.cancel(job)
  }

  /** Sends every update that has not landed yet. */
  flush (): Promise<void> {
    return this.tracked.flush()
  }

  private async finish (t: Transfer): Promise<void> {
    const view = await this.finisher.finish(t)
    if (view) await this.tracked.close(t, view)
  }
}
