// An upstream HTTP client: one keep-alive undici Agent, explicit timeouts, retries, normalised errors.
import { setTimeout as sleep } from 'node:timers/promises'
import { Agent, errors as undiciErrors } from 'undici'
import { WritesFenced } from '../transfers/write-gate.js'
import { requestText, type TextResponse } from './request-text.js'
import { defaultRetryPolicy, parseRetryAfter, type RetryPolicy, retryDelay } from './retry.js'
import { parseErrorBody, type Service, UpstreamError } from './upstream-error.js'

export interface Timeouts {
  connectMs: number
  headersMs: number
  bodyMs: number
}

export const defaultTimeouts: Timeouts = { connectMs: 10_000, headersMs: 60_000, bodyMs: 60_000 }

/** Reports every attempt, for metrics: status, or 'error' when no response arrived. */
export type RequestObserver = (info: {
  service: Service
  operation: string
  status: number | 'error'
  durationMs: number
  /** What went wrong, for a status of 400 or more or no answer (the upstream's message). */
  error?: string
}) => void

export interface HttpClientOptions {
  service: Service
  baseUrl: string
  timeouts?: Partial<Timeouts>
  retry?: Partial<RetryPolicy>
  observe?: RequestObserver
  /** Connections kept per origin (default 32). */
  connections?: number
  /** Runs each attempt; used to bound concurrency and request rate (p-queue). */
  schedule?: <T>(attempt: () => Promise<T>) => Promise<T>
  /**
   * ha.lease fencing: the operations that change something upstream are not sent, first attempt
   * or retry, while `open()` is false (a retry after backoff must not land after another took over).
   */
  writeGate?: { operations: ReadonlySet<string>; open: () => boolean }
}

export interface HttpRequest {
  /** Name of the upstream operation, for errors, logs and metrics ("task_list", "updateJob"). */
  operation: string
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT'
  path: string
  query?: Record<string, string | number | undefined>
  headers?: Record<string, string>
  /** JSON-encoded unless a string (sent as is, e.g. a form body). */
  body?: unknown
  /** Whether a transient failure may be repeated; false for requests that are not idempotent. */
  retry: boolean
  /**
   * The caller does not read a successful answer's body (a job PATCH, whose answer is the whole
   * job): it is read off the connection but neither kept nor parsed, and `body` is undefined.
   * An error's body is still read for its message.
   */
  discardBody?: boolean
  signal?: AbortSignal
}

export interface HttpResponse<T> {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: T
}

export class HttpClient {
  readonly service: Service
  /** The base URL's scheme, host and port, and its path without a trailing slash. */
  private readonly origin: string
  private readonly basePath: string
  private readonly agent: Agent
  private readonly policy: RetryPolicy
  private readonly observe: RequestObserver | undefined
  private readonly schedule: <T>(attempt: () => Promise<T>) => Promise<T>
  private readonly writeGate: HttpClientOptions['writeGate']
  private closing: Promise<void> | undefined
  private readonly inflight = new Set<Promise<unknown>>()

  constructor (options: HttpClientOptions) {
    const t = { ...defaultTimeouts, ...options.timeouts }
    this.service = options.service
    const base = new URL(options.baseUrl)
    this.origin = base.origin
    this.basePath = base.pathname.replace(/\/+$/, '')
    this.policy = { ...defaultRetryPolicy, ...options.retry }
    this.observe = options.observe
    this.schedule = options.schedule ?? ((attempt) => attempt())
    this.writeGate = options.writeGate
    this.agent = new Agent({
      connect: { timeout: t.connectMs },
      headersTimeout: t.headersMs,
      bodyTimeout: t.bodyMs,
      keepAliveTimeout: 30_000,
      connections: options.connections ?? 32,
    })
  }

  /** Sends the request, retrying transient failures when allowed; throws UpstreamError on failure. */
  async send<T = unknown>(req: HttpRequest): Promise<HttpResponse<T>> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.schedule(() => {
          if (this.writeGate?.operations.has(req.operation) && !this.writeGate.open()) {
            throw new WritesFenced(`${this.service} ${req.operation}`)
          }
          return this.once<T>(req)
        })
      } catch (err) {
        if (!(err instanceof UpstreamError) || !req.retry || req.signal?.aborted || this.closing) throw err
        const wait = retryDelay(err, attempt, this.policy)
        if (wait === undefined) throw err
        await sleep(wait, undefined, { signal: req.signal })
      }
    }
  }

  /** Waits up to `graceMs` for requests in flight, then aborts what is left. Idempotent. */
  close (graceMs = 1000): Promise<void> {
    this.closing ??= this.shutdown(graceMs)
    return this.closing
  }

  private async shutdown (graceMs: number): Promise<void> {
    // undici's Agent.close() waits for every request however long it takes, and a destroy()
    // after it no longer aborts them: wait for our own requests, then destroy
    const grace = new AbortController()
    await Promise.race([
      Promise.allSettled([...this.inflight]),
      sleep(graceMs, undefined, { signal: grace.signal }).catch(() => undefined),
    ])
    grace.abort()
    await this.agent.destroy()
  }

  /** The base path + path + query, without a URL object per call (paths come encoded from the clients). */
  private path (req: HttpRequest): string {
    let url = this.basePath + req.path
    if (req.query) {
      let sep = url.includes('?') ? '&' : '?'
      for (const k in req.query) {
        const v = req.query[k]
        if (v === undefined) continue
        url += `${sep}${encodeURIComponent(k)}=${encodeURIComponent(v)}`
        sep = '&'
      }
    }
    return url
  }

  private once<T>(req: HttpRequest): Promise<HttpResponse<T>> {
    const attempt = this.attempt<T>(req)
    this.inflight.add(attempt)
    const forget = () => this.inflight.delete(attempt)
    attempt.then(forget, forget)
    return attempt
  }

  private async attempt<T>(req: HttpRequest): Promise<HttpResponse<T>> {
    if (this.closing) {
      throw new UpstreamError({ service: this.service, operation: req.operation, message: 'the client is closed' })
    }
    const headers: Record<string, string> = { accept: 'application/json', ...req.headers }
    let body: string | undefined
    if (typeof req.body === 'string') body = req.body
    else if (req.body !== undefined) {
      body = JSON.stringify(req.body)
      headers['content-type'] ??= 'application/json'
    }
    const started = performance.now()
    let res: TextResponse
    try {
      res = await requestText(this.agent, {
        origin: this.origin,
        path: this.path(req),
        method: req.method,
        headers,
        body,
        signal: req.signal,
        discardBody: req.discardBody,
      })
    } catch (cause) {
      const message = networkMessage(cause)
      this.report(req, 'error', started, message)
      throw new UpstreamError({
        service: this.service,
        operation: req.operation,
        message,
        cause,
      })
    }
    const parsed = parseJson(res.text)
    if (res.statusCode >= 200 && res.statusCode < 300) {
      this.report(req, res.statusCode, started)
      return { status: res.statusCode, headers: res.headers, body: parsed as T }
    }
    const info = parseErrorBody(parsed)
    this.report(req, res.statusCode, started, info.message ?? `HTTP ${res.statusCode}`)
    throw new UpstreamError({
      service: this.service,
      operation: req.operation,
      status: res.statusCode,
      code: info.code,
      message: info.message ?? `HTTP ${res.statusCode}`,
      requestId: info.requestId,
      requiredScopes: info.requiredScopes,
      retryAfterMs: parseRetryAfter(res.headers['retry-after']),
    })
  }

  private report (req: HttpRequest, status: number | 'error', started: number, error?: string): void {
    this.observe?.({
      service: this.service,
      operation: req.operation,
      status,
      durationMs: performance.now() - started,
      ...(error === undefined ? {} : { error }),
    })
  }
}

function parseJson (text: string): unknown {
  if (text === '') return undefined
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

function networkMessage (cause: unknown): string {
  if (cause instanceof undiciErrors.HeadersTimeoutError) return 'timed out waiting for the response headers'
  if (cause instanceof undiciErrors.BodyTimeoutError) return 'timed out reading the response body'
  if (cause instanceof undiciErrors.ConnectTimeoutError) return 'timed out connecting'
  // a socket error's code (ECONNREFUSED); not an abort's DOMException code, a legacy number
  const e = cause as { code?: unknown; message?: string }
  return typeof e.code === 'string' && e.code ? `${e.code}: ${e.message ?? 'request failed'}` : (e.message ?? 'request failed')
}
