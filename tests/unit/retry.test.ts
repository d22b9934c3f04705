import { describe, expect, it } from 'vitest'
import { backoffMs, defaultRetryPolicy, parseRetryAfter, retryDelay } from '../../src/http/retry.js'
import { UpstreamError } from '../../src/http/upstream-error.js'

const error = (status: number | undefined, extra: { code?: string; retryAfterMs?: number; service?: 'globus' | 'scicat' } = {}) =>
  new UpstreamError({ service: extra.service ?? 'globus', operation: 'op', status, message: 'x', ...extra })

describe('retry policy (DESIGN §7)', () => {
  it('defaults to 5 retries, 1 s backoff unit, 10 s cap', () => {
    expect(defaultRetryPolicy).toEqual({ maxRetries: 5, baseDelayMs: 1000, maxDelayMs: 10_000 })
  })

  it('backs off exponentially with jitter between 0.25 and 0.75 of 2^n units, capped', () => {
    const p = defaultRetryPolicy
    expect([0, 1, 2, 3].map((n) => backoffMs(n, p, () => 0))).toEqual([250, 500, 1000, 2000])
    expect([0, 1, 2, 3].map((n) => backoffMs(n, p, () => 1))).toEqual([750, 1500, 3000, 6000])
    expect(backoffMs(4, p, () => 1)).toBe(10_000) // 12 s, capped
    expect(backoffMs(10, p, () => 0)).toBe(10_000)
  })

  it('reads Retry-After in whole seconds and ignores HTTP dates', () => {
    expect(parseRetryAfter('3')).toBe(3000)
    // 0 is no advice: the backoff applies, as in the Globus SDK (`if retry_after:`)
    expect(parseRetryAfter(' 0 ')).toBeUndefined()
    expect(parseRetryAfter('0')).toBeUndefined()
    expect(parseRetryAfter(['2', '9'])).toBe(2000)
    expect(parseRetryAfter('Wed, 21 Oct 2026 07:28:00 GMT')).toBeUndefined()
    expect(parseRetryAfter('1.5')).toBeUndefined()
    expect(parseRetryAfter(undefined)).toBeUndefined()
  })

  it('retries network errors, 429, 500, 502, 503 and 504 only, at most maxRetries times', () => {
    const p = defaultRetryPolicy
    for (const status of [undefined, 429, 500, 502, 503, 504]) expect(retryDelay(error(status), 0, p)).toBeGreaterThan(0)
    for (const status of [400, 401, 403, 404, 409, 501, 505]) expect(retryDelay(error(status), 0, p)).toBeUndefined()
    expect(retryDelay(error(503), 4, p)).toBeGreaterThan(0)
    expect(retryDelay(error(503), 5, p)).toBeUndefined()
  })

  it('does not retry a Globus 5xx naming an ExternalError or EndpointError, except 429/503 (as the SDK)', () => {
    const p = defaultRetryPolicy
    expect(retryDelay(error(502, { code: 'ExternalError.DirListingFailed.GCDisconnected' }), 0, p)).toBeUndefined()
    expect(retryDelay(error(500, { code: 'EndpointError' }), 0, p)).toBeUndefined()
    expect(retryDelay(error(503, { code: 'ExternalError.X' }), 0, p)).toBeGreaterThan(0)
    // the rule is Globus's: SciCat has no such codes
    expect(retryDelay(error(502, { code: 'ExternalError', service: 'scicat' }), 0, p)).toBeGreaterThan(0)
  })

  it('waits Retry-After when given, capped at maxDelayMs', () => {
    const p = defaultRetryPolicy
    expect(retryDelay(error(429, { retryAfterMs: 4000 }), 0, p)).toBe(4000)
    expect(retryDelay(error(503, { retryAfterMs: 60_000 }), 0, p)).toBe(10_000)
  })
})
