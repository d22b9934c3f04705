// One error handler: every error, from every route, becomes JSON {message, details?, code}.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { type ErrorCode, ProxyError, upstreamFailure } from './errors.js'
import { UpstreamError } from './http/upstream-error.js'

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

function render (err: unknown): { status: number; body: Body; retryAfter?: number } {
  if (err instanceof UpstreamError) return render(upstreamFailure(err, `${err.service} request failed`))
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
    return { status: 413, body: { message: 'the request body is too large', code: 'PROXY_BODY_TOO_LARGE' } }
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return { status: e.statusCode, body: { message: e.message, code: 'PROXY_VALIDATION' } }
  }
  return { status: 500, body: { message: 'internal error', code: 'PROXY_INTERNAL' } }
}

export function errorHandler (err: unknown, req: FastifyRequest, reply: FastifyReply): void {
  const { status, body, retryAfter } = render(err)
  // only a bug deserves a stack trace; upstream trouble and shutdown are expected conditions
  if (status === 500) req.log.error({ err }, body.message)
  else if (status > 500) req.log.warn({ code: body.code, status, details: body.details }, body.message)
  else req.log.info({ code: body.code, status }, body.message)
  if (retryAfter) reply.header('retry-after', String(retryAfter))
  reply.code(status).type('application/json; charset=utf-8').send(body)
}

export function notFoundHandler (req: FastifyRequest, reply: FastifyReply): void {
  reply
    .code(404)
    .type('application/json; charset=utf-8')
    .send({ message: `no route ${req.method} ${req.url.split('?')[0]}`, code: 'PROXY_NOT_FOUND' })
}
