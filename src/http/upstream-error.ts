// One error type for every failed Globus or SciCat call, whatever shape the upstream body had.

export type Service = 'globus' | 'scicat'

export interface UpstreamErrorInit {
  service: Service
  operation: string
  /** HTTP status; undefined when no response arrived (network error, timeout). */
  status?: number | undefined
  /** Upstream error code: Globus `code` (ConsentRequired, ...), Globus Auth `error`, SciCat `error`. */
  code?: string | undefined
  message: string
  requestId?: string | undefined
  requiredScopes?: string[] | undefined
  retryAfterMs?: number | undefined
  cause?: unknown
}

export class UpstreamError extends Error {
  override name = 'UpstreamError'
  readonly service: Service
  readonly operation: string
  readonly status: number | undefined
  readonly code: string | undefined
  readonly requestId: string | undefined
  readonly requiredScopes: string[] | undefined
  readonly retryAfterMs: number | undefined
  /** The upstream said the thing does not exist (SciCat's "Invalid job id." 400 included). */
  notFound = false

  constructor (init: UpstreamErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause })
    this.service = init.service
    this.operation = init.operation
    this.status = init.status
    this.code = init.code
    this.requestId = init.requestId
    this.requiredScopes = init.requiredScopes
    this.retryAfterMs = init.retryAfterMs
  }

  /** No response at all: connection refused or reset, DNS, timeout. */
  get network (): boolean {
    return this.status === undefined
  }

  /** Worth trying again later: network errors, 429, 500, 502, 503 and 504 (DESIGN §7, as the Globus SDK). */
  get transient (): boolean {
    if (this.status === undefined || this.status === 429 || this.status === 503) return true
    if (![500, 502, 504].includes(this.status)) return false
    // Globus: a 5xx naming an external or endpoint error will not get better by repeating it
    return !(this.service === 'globus' && /ExternalError|EndpointError/.test(this.code ?? ''))
  }

  /** A 2xx answer the service cannot use (a field missing or of the wrong kind): a bad gateway. */
  static malformed (service: Service, operation: string, what: string): UpstreamError {
    const name = service === 'globus' ? 'Globus' : 'SciCat'
    return new UpstreamError({ service, operation, status: 502, code: 'MalformedAnswer', message: `unexpected ${name} answer: ${what}` })
  }

  /** A short description for logs and job messages: "globus task_list: 503 ServiceUnavailable: ...". */
  describe (): string {
    const status = this.status === undefined ? 'no response' : String(this.status)
    return `${this.service} ${this.operation}: ${status}${this.code ? ` ${this.code}` : ''}: ${this.message}`
  }
}

function str (v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined
}

function strList (v: unknown): string[] | undefined {
  return Array.isArray(v) && v.every((s) => typeof s === 'string') ? v : undefined
}

export interface ParsedErrorBody {
  code?: string | undefined
  message?: string | undefined
  requestId?: string | undefined
  requiredScopes?: string[] | undefined
}

/**
 * Reads every error body shape the two upstreams produce: SciCat's Nest errors (message a string
 * or a list), its jobs errors `{status, message}`, bare JSON strings, Globus Transfer's
 * `{code, message, request_id}` (with `required_scopes` or `authorization_parameters`), and
 * Globus Auth's `{error, error_description}` or `{errors: [...]}`.
 */
export function parseErrorBody (body: unknown): ParsedErrorBody {
  if (typeof body === 'string') return { message: str(body.trim()) }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return {}
  const b = body as Record<string, unknown>
  const messageList = strList(b.message)
  const firstError =
    Array.isArray(b.errors) && typeof b.errors[0] === 'object' && b.errors[0] !== null
      ? (b.errors[0] as Record<string, unknown>)
      : undefined
  const auth =
    typeof b.authorization_parameters === 'object' && b.authorization_parameters !== null
      ? (b.authorization_parameters as Record<string, unknown>)
      : undefined
  return {
    code: str(b.code) ?? str(firstError?.code) ?? str(b.error),
    message:
      (messageList ? messageList.join('; ') : str(b.message)) ??
      str(b.error_description) ??
      str(firstError?.detail) ??
      str(firstError?.title) ??
      str(b.error),
    requestId: str(b.request_id),
    requiredScopes: strList(b.required_scopes) ?? strList(auth?.required_scopes),
  }
}
