// Error codes of the HTTP API and the one error type routes throw; the error handler renders them.
import type { UpstreamError } from './http/upstream-error.js'

export const errorStatus = {
  PROXY_VALIDATION: 400,
  PROXY_FACILITY_UNKNOWN: 400,
  PROXY_PATH_INVALID: 400,
  PROXY_UNAUTHENTICATED: 401,
  PROXY_FORBIDDEN: 403,
  PROXY_FACILITY_DIRECTION: 403,
  PROXY_FACILITY_ACCESS: 403,
  PROXY_DATASET_FORBIDDEN: 403,
  PROXY_NOT_FOUND: 404,
  PROXY_DATASET_NOT_FOUND: 404,
  PROXY_JOB_NOT_FOUND: 404,
  PROXY_JOB_ENDED: 409,
  PROXY_OTHER_DEPLOYMENT: 409,
  PROXY_BODY_TOO_LARGE: 413,
  PROXY_FILELIST_TOO_LARGE: 413,
  PROXY_INTERNAL: 500,
  PROXY_UPSTREAM_SCICAT: 502,
  PROXY_UPSTREAM_GLOBUS: 502,
  PROXY_TRANSFER_REJECTED: 502,
  PROXY_AT_CAPACITY: 503,
  PROXY_SHUTTING_DOWN: 503,
  PROXY_STANDBY: 503,
} as const

export type ErrorCode = keyof typeof errorStatus

export interface ProxyErrorOptions {
  details?: string
  /** Seconds, sent as Retry-After (503). */
  retryAfter?: number
  /** Extra fields of the JSON error body (e.g. jobId). */
  extra?: Record<string, unknown>
  cause?: unknown
}

export class ProxyError extends Error {
  override name = 'ProxyError'
  readonly statusCode: number
  readonly details: string | undefined
  readonly retryAfter: number | undefined
  readonly extra: Record<string, unknown> | undefined

  constructor (
    readonly code: ErrorCode,
    message: string,
    options: ProxyErrorOptions = {}
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.statusCode = errorStatus[code]
    this.details = options.details
    this.retryAfter = options.retryAfter
    this.extra = options.extra
  }
}

/** An upstream failure seen by a user request: 502 naming the service, the upstream's message in details. */
export function upstreamFailure (err: UpstreamError, what: string, extra?: Record<string, unknown>): ProxyError {
  return new ProxyError(err.service === 'globus' ? 'PROXY_UPSTREAM_GLOBUS' : 'PROXY_UPSTREAM_SCICAT', what, {
    details: err.describe(),
    ...(extra ? { extra } : {}),
    cause: err,
  })
}
