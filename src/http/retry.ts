// The retry policy of DESIGN §7: which failures are retried, and how long to wait before the next try.
import type { UpstreamError } from './upstream-error.js'

export interface RetryPolicy {
  /** Retries after the first attempt (default 5). */
  maxRetries: number
  /** Backoff unit: the n-th retry waits (0.25 + 0.5·random)·2^n units (default 1000 ms). */
  baseDelayMs: number
  /** No wait is longer, Retry-After included (default 10 s). */
  maxDelayMs: number
}

export const defaultRetryPolicy: RetryPolicy = { maxRetries: 5, baseDelayMs: 1000, maxDelayMs: 10_000 }

/** Jittered exponential backoff, as the Globus SDK computes it. */
export function backoffMs (attempt: number, policy: RetryPolicy, random = Math.random): number {
  return Math.min(policy.maxDelayMs, (0.25 + 0.5 * random()) * 2 ** attempt * policy.baseDelayMs)
}

/**
 * `Retry-After` in whole seconds, as milliseconds. HTTP dates are ignored, and 0 is taken as
 * absent (the backoff applies), as the Globus SDK does (`if retry_after:` in
 * globus_sdk/transport/default_retry_checks.py check_retry_after_header).
 */
export function parseRetryAfter (value: string | string[] | undefined): number | undefined {
  const v = Array.isArray(value) ? value[0] : value
  if (v === undefined || !/^\s*\d+\s*$/.test(v) || Number(v) === 0) return undefined
  return Number(v) * 1000
}

/**
 * How long to wait before retrying after `err` on retry number `attempt` (0-based), or
 * undefined when the failure must not be retried.
 */
export function retryDelay (err: UpstreamError, attempt: number, policy: RetryPolicy): number | undefined {
  if (attempt >= policy.maxRetries || !err.transient) return undefined
  if (err.retryAfterMs !== undefined) return Math.min(err.retryAfterMs, policy.maxDelayMs)
  return backoffMs(attempt, policy)
}
