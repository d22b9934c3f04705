// Active/standby election on a Kubernetes Lease, as client-go's leaderelection does it, plus fencing.
import type { Logger } from 'pino'
import { fencingMarginSeconds } from '../config/ha.js'
import { type LeaseApi, LeaseApiError, type LeaseRecord, microTime, type StoredLease } from './lease-api.js'
import type { LeaderMetrics } from './metrics.js'
import type { Role, RoleSource } from './role.js'

export type { Role } from './role.js'

export interface ElectorOptions {
  durationSeconds: number
  renewSeconds: number
  /** This instance's name in the lease (the pod name, HOSTNAME). */
  identity: string
  api: LeaseApi
  logger: Logger
  metrics: LeaderMetrics
  now?: () => number
  /** Called on every role change, one call at a time and in order. */
  onRoleChange?: (role: Role) => void | Promise<void>
}

/**
 * client-go's rules (tools/leaderelection/leaderelection.go, resourcelock/leaselock.go): a
 * candidate judges expiry only by its own clock, from the moment it last saw the record change,
 * and takes the lease when it is free (empty holder) or has not changed for its
 * leaseDurationSeconds; every write names the resourceVersion it read, so of two candidates only
 * one succeeds (the other gets 409 Conflict). The holder renews on the version it wrote
 * (the fast path) and reads again when that fails. leaseTransitions counts changes of holder.
 *
 * Beyond client-go: the active instance may write only until its last successful renewal
 * (counted from when that request was sent) is durationSeconds minus a margin old, and then
 * becomes standby (fencing); a standby checks four times per renewSeconds so that it takes
 * over soon after the lease has run out.
 */
export class LeaseElector implements RoleSource {
  private observed: LeaseRecord | undefined
  private observedRaw = ''
  private observedAt = Number.NEGATIVE_INFINITY
  private resourceVersion = ''
  /** When the request of the last successful acquisition or renewal was sent. */
  private renewedAt = Number.NEGATIVE_INFINITY
  private current: Role = 'standby'
  private timer: NodeJS.Timeout | undefined
  private fenceTimer: NodeJS.Timeout | undefined
  private running: Promise<void> | undefined
  private stopped = true
  /** Set by retire(): no new acquisition, only renewals until release(). */
  private retired = false
  private failing = false
  private changes: Promise<void> = Promise.resolve()
  private readonly now: () => number
  private readonly log: Logger

  constructor (private readonly o: ElectorOptions) {
    this.now = o.now ?? Date.now
    this.log = o.logger.child({ component: 'lease', lease: o.api.describe(), identity: o.identity })
  }

  get role (): Role {
    return this.current
  }

  get retryAfterSeconds (): number {
    return Math.ceil(this.o.durationSeconds)
  }

  /** The holder last seen in the lease ("" when free or not read yet). */
  get holder (): string {
    return this.observed?.holderIdentity ?? ''
  }

  /** Until when this instance may write: its last renewal plus durationSeconds minus the margin. */
  get fenceAt (): number {
    return this.renewedAt + (this.o.durationSeconds - fencingMarginSeconds(this.o.durationSeconds)) * 1000
  }

  /** The predicate checked before every submission and job write. */
  readonly mayWrite = (): boolean => this.current === 'active' && this.now() < this.fenceAt

  /** Starts campaigning (the first attempt at once). */
  start (): void {
    if (!this.stopped) return
    this.stopped = false
    this.schedule(0)
  }

  /** No acquisition from now on (shutting down); an active instance keeps renewing until release(). */
  retire (): void {
    this.retired = true
  }

  /**
   * Stops campaigning and, when this instance holds the lease, gives it up (client-go's
   * ReleaseOnCancel: empty holder, leaseDurationSeconds 1) so a standby takes over at its next
   * check. Call it after everything the lease guards has finished (the tracker's flush).
   */
  async release (): Promise<void> {
    this.stopped = true
    clearTimeout(this.timer)
    await this.running
    clearTimeout(this.fenceTimer)
    if (this.current === 'active') this.become('standby', 'released the lease (shutting down)')
    await this.changes
    if (this.holder !== this.o.identity) return
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const stored = await this.o.api.get()
        if (!stored) return
        this.observe(stored)
        if (stored.record.holderIdentity !== this.o.identity) return
        const at = microTime(this.now())
        this.observe(
          await this.o.api.replace(
            { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: at, renewTime: at, leaseTransitions: stored.record.leaseTransitions },
            stored.resourceVersion
          )
        )
        this.log.info('lease released')
        return
      } catch (err) {
        // a conflict: a renewal in flight when the release began landed meanwhile; read again
        if (!(err instanceof LeaseApiError && err.kind === 'conflict')) {
          this.log.warn({ err: (err as Error).message }, 'could not release the lease; a standby takes over once it runs out')
          return
        }
      }
    }
  }

  private get interval (): number {
    return (this.current === 'active' ? this.o.renewSeconds : this.o.renewSeconds / 4) * 1000
  }

  private schedule (delayMs: number): void {
    this.timer = setTimeout(() => {
      this.running = this.attempt().finally(() => {
        this.running = undefined
        if (!this.stopped) this.schedule(this.interval)
      })
    }, delayMs)
  }

  private async attempt (): Promise<void> {
    if (this.retired && this.current === 'standby') return
    const sentAt = this.now()
    let held = false
    try {
      held = await this.tryAcquireOrRenew(sentAt)
      if (this.failing) this.log.info('the Lease API answers again')
      this.failing = false
    } catch (err) {
      // one line per outage, not one per attempt
      if (!this.failing) this.log.warn({ err: (err as Error).message }, 'lease call failed; retrying')
      this.failing = true
    }
    if (this.stopped) return
    if (held) {
      this.renewedAt = sentAt
      this.armFence()
      if (this.current === 'standby') this.become('active', 'acquired the lease')
    } else if (this.current === 'active' && this.holder !== this.o.identity && this.holder !== '') {
      this.become('standby', `the lease is held by ${this.holder}`)
    }
  }

  /** client-go's tryAcquireOrRenew: true when this instance holds the lease after the call. */
  private async tryAcquireOrRenew (now: number): Promise<boolean> {
    const at = microTime(now)
    const desired: LeaseRecord = {
      holderIdentity: this.o.identity,
      leaseDurationSeconds: this.o.durationSeconds,
      acquireTime: at,
      renewTime: at,
      leaseTransitions: 0,
    }
    // 1. the holder renews on the version it wrote last
    if (this.isHolder() && this.leaseValid(now)) {
      const last = this.observed!
      try {
        this.observe(
          await this.o.api.replace({ ...desired, acquireTime: last.acquireTime, leaseTransitions: last.leaseTransitions }, this.resourceVersion)
        )
        return true
      } catch (err) {
        this.log.debug({ err: (err as Error).message }, 'renewal on the last version failed; reading the lease')
      }
    }
    // 2. read the lease, or create it
    const current = await this.o.api.get()
    if (!current) {
      this.observe(await this.o.api.create(desired))
      return true
    }
    this.observe(current)
    // 3. held by another and not run out by this instance's clock
    if (current.record.holderIdentity && this.leaseValid(now) && !this.isHolder()) return false
    // 4. take it over, or renew it
    const record = this.isHolder()
      ? { ...desired, acquireTime: current.record.acquireTime, leaseTransitions: current.record.leaseTransitions }
      : { ...desired, leaseTransitions: current.record.leaseTransitions + 1 }
    this.observe(await this.o.api.replace(record, current.resourceVersion))
    return true
  }

  private isHolder (): boolean {
    return this.observed?.holderIdentity === this.o.identity
  }

  /** Whether the lease as last seen changing has not run out by this instance's clock. */
  private leaseValid (now: number): boolean {
    return this.observedAt + (this.observed?.leaseDurationSeconds ?? 0) * 1000 > now
  }

  private observe (stored: StoredLease): void {
    this.resourceVersion = stored.resourceVersion
    const raw = JSON.stringify(stored.record)
    if (raw !== this.observedRaw) {
      this.observed = stored.record
      this.observedRaw = raw
      this.observedAt = this.now()
    }
    this.o.metrics.leaseTransitions.set(stored.record.leaseTransitions)
  }

  private armFence (): void {
    clearTimeout(this.fenceTimer)
    this.fenceTimer = setTimeout(() => {
      if (this.current !== 'active') return
      // a timer may fire a moment before the wall clock reaches fenceAt: then it waits the rest
      if (this.mayWrite()) return this.armFence()
      const seconds = ((this.now() - this.renewedAt) / 1000).toFixed(1)
      this.become('standby', `lease not renewed for ${seconds} s: stopped writing before it can run out`)
    }, Math.max(0, this.fenceAt - this.now()))
  }

  /** One log line per role change; the callbacks run one after another. */
  private become (role: Role, reason: string): void {
    this.current = role
    this.o.metrics.leader.set(role === 'active' ? 1 : 0)
    this.o.metrics.roleChanges.inc({ role })
    this.log.info({ role, reason }, role === 'active' ? 'this instance is now active' : 'this instance is now standby')
    const callback = this.o.onRoleChange
    if (!callback) return
    this.changes = this.changes.then(
      () => callback(role),
      () => callback(role)
    ).catch((err: unknown) => this.log.error({ err, role }, 'role change failed'))
  }
}
