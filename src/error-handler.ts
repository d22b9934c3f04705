// One error handler: every error, from every route, becomes JSON {message, details?, code}.
import { type IncomingMessage, STATUS_CODES } from 'node:http'
import type { Duplex } from 'node:stream'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { type ErrorStatusMode, wireStatus } from './error-statuses.js'
import { type ErrorCode, ProxyError, upstreamFailure } from './errors.js'
import { UpstreamError } from './http/upstream-error.js'
import { WritesFenced } from './transfers/write-gate.js'

interface Body {
  message: string
  details?: string
  code: ErrorCode
  [key: string]: unknown
}

type Violation = NonNullable<FastifyError['validation']>[number]

/** "body.fileList.0 must NOT have additional property \"size\"": where, what, and the offending key. */
function describeViolation (context: string, v: Violation): string {
  const where = `${context}${v.instancePath.replaceAll('/', '.')}`
  const extra = (v.params as { additionalProperty?: unknown }).additionalProperty
  if (v.keyword === 'additionalProperties' && typeof extra === 'string') {
    return `${where} must NOT have additional property ${JSON.stringify(extra)}`
  }
  return `${where} ${v.message ?? 'is invalid'}`
}

function render (err: unknown, bodyLimit?: number): { status: number; body: Body; retryAfter?: number } {
  if (err instanceof UpstreamError) return render(upstreamFailure(err, `${err.service} request failed`))
  // the lease was lost while the request ran (ha.lease): nothing was written
  if (err instanceof WritesFenced) {
    return render(new ProxyError('PROXY_STANDBY', 'this instance is no longer the active one; try again', { details: err.message, retryAfter: 5 }))
  }
  if (err instanceof ProxyError) {
    const body: Body = { ...err.extra, message: err.message, code: err.code }
    if (err.details) body.details = err.details
    return { status: err.statusCode, body, ...(err.retryAfter ? { retryAfter: err.retryAfter } : {}) }
  }
  const e = err as FastifyError
  if (e.validation) {
    const named = e.validation.slice(0, 20).map((v) => describeViolation(e.validationContext ?? 'request', v))
    if (e.validation.length > named.length) named.push(`and ${e.validation.length - named.length} more`)
    const details = named.join('; ')
    return { status: 400, body: { message: `invalid request: ${details}`, details, code: 'PROXY_VALIDATION' } }
  }
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || e.statusCode === 413) {
    const limit = bodyLimit === undefined ? {} : { details: `the limit is ${+(bodyLimit / 1024 / 1024).toFixed(3)} MiB (server.bodyLimitMb)` }
    return { status: 413, body: { message: 'the request body is too large', ...limit, code: 'PROXY_BODY_TOO_LARGE' } }
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    const code = e.statusCode === 403 ? 'PROXY_FORBIDDEN' : e.statusCode === 404 ? 'PROXY_NOT_FOUND' : 'PROXY_VALIDATION'
    return { status: e.statusCode, body: { message: e.message, code } }
  }
  return { status: 500, body: { message: 'internal error', code: 'PROXY_INTERNAL' } }
}

/** The handlers Fastify and Node call with an error; each answers through `wireStatus` (server.errorStatuses). */
export interface ErrorHandlers {
  errorHandler(err: unknown, req: FastifyRequest, reply: FastifyReply): void
  notFoundHandler(req: FastifyRequest, reply: FastifyReply): void
  frameworkErrorHandler(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void
  clientErrorHandler(err: NodeJS.ErrnoException, socket: Duplex): void
}

/** Errors Fastify's router meets before any route runs: a malformed URL, a path parameter too long. */
const routerErrors: Record<string, [number, string]> = {
  FST_ERR_BAD_URL: [400, 'the URL is not valid (bad percent-encoding)'],
  // its own message would echo the whole URL
  FST_ERR_MAX_PARAM_LENGTH: [414, 'a path parameter is too long'],
}

/** The message every request refused as malformed HTTP carries (the parser's, and a missing Host). */
export const notValidHttp = 'the request is not valid HTTP'

/** The answer Node is writing on this socket (node:http keeps it there), if any. */
function inFlightAnswer (socket: Duplex): { req?: IncomingMessage; headersSent?: boolean } | undefined {
  return (socket as Duplex & { _httpMessage?: { req?: IncomingMessage; headersSent?: boolean } })._httpMessage ?? undefined
}

/**
 * The method and URL of a request Node's parser refused, where known: from the answer already
 * under way (a request whose body timed out), else from the request line in the bytes that
 * failed to parse. Unknown for a request whose headers timed out: Node's parser hands the
 * request line to JavaScript only once the headers are complete (and the socket's bytes go to
 * the parser directly, so nothing here can read them).
 */
function refusedRequest (err: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Duplex): { method?: string; url?: string } {
  const inFlight = inFlightAnswer(socket)?.req
  if (inFlight) return { method: inFlight.method, url: inFlight.url }
  // the path alone names the operation: a request line longer than what is read here (a long
  // query string) is still known
  const line = /^([A-Z]+) (\/[^\s?]*)/.exec(err.rawPacket?.toString('latin1', 0, 8192) ?? '')
  return line ? { method: line[1], url: line[2] } : {}
}

export function errorHandlers (mode: ErrorStatusMode): ErrorHandlers {
  const answer = (req: FastifyRequest, reply: FastifyReply, status: number, body: Body, retryAfter?: number) => {
    if (retryAfter) reply.header('retry-after', String(retryAfter))
    reply.code(wireStatus(mode, req.method, req.url, status)).type('application/json; charset=utf-8').send(body)
  }
  const errorHandler = (err: unknown, req: FastifyRequest, reply: FastifyReply): void => {
    const { status, body, retryAfter } = render(err, req.server?.initialConfig.bodyLimit)
    // only a bug deserves a stack trace; upstream trouble and shutdown are expected conditions
    if (status === 500) req.log.error({ err }, body.message)
    else if (status > 500) req.log.warn({ code: body.code, status, details: body.details }, body.message)
    else req.log.info({ code: body.code, status }, body.message)
    answer(req, reply, status, body, retryAfter)
  }
  return {
    errorHandler,
    notFoundHandler (req, reply) {
      answer(req, reply, 404, { message: `no route ${req.method} ${req.url.split('?')[0]}`, code: 'PROXY_NOT_FOUND' })
    },
    frameworkErrorHandler (err, req, reply) {
      const known = routerErrors[err.code]
      errorHandler(known ? Object.assign(new Error(known[1]), { statusCode: known[0] }) : err, req, reply)
    },
    /**
     * A request Node's HTTP parser refused (bad header bytes, headers too large, an unknown method,
     * a timeout): answered on the socket, as JSON like every other error, before the socket closes.
     */
    clientErrorHandler (err, socket) {
      if (err.code === 'ECONNRESET' || socket.destroyed) return
      // an answer already begun cannot be followed by another on the same bytes
      if (inFlightAnswer(socket)?.headersSent) {
        socket.destroy()
        return
      }
      const [precise, message] =
        err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, 'the request took too long to arrive']
          : err.code === 'HPE_HEADER_OVERFLOW'
            ? [431, 'the request headers are too large']
            : [400, notValidHttp]
      const { method, url } = refusedRequest(err, socket)
      const status = wireStatus(mode, method, url, precise)
      const body = JSON.stringify({ message, code: 'PROXY_VALIDATION' })
      if (socket.writable) {
        socket.write(
          `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
            `Content-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`
        )
      }
      socket.destroy()
    },
  }
}
