// SciCat's answer shapes (reference §6) and request body parsing as its Express stack does it.
import { HttpResponse } from 'msw'

const JSON_TYPE = 'application/json; charset=utf-8'

/** MAX_FILE_UPLOAD_SIZE: 16mb. */
export const BODY_LIMIT_BYTES = 16 * 1024 * 1024

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  413: 'Payload Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
}

export function json (body: unknown, status = 200): Response {
  return new HttpResponse(JSON.stringify(body), { status, headers: { 'content-type': JSON_TYPE } })
}

/** Nest exceptions and guards: `{message, error, statusCode}`. */
export function nestError (status: number, message: string): Response {
  return json({ message, error: REASONS[status] ?? 'Error', statusCode: status }, status)
}

/** The default body of an injected fault (Nest's shape, with its standard message). */
export function nestDefaultBody (status: number): unknown {
  return { message: REASONS[status] ?? 'Error', statusCode: status }
}

/** ValidationPipe: `message` is an array. */
export function validationError (messages: string[]): Response {
  return json({ message: messages, error: 'Bad Request', statusCode: 400 }, 400)
}

/** The jobs code's `HttpException({status, message})`: no statusCode, no error. */
export function jobsError (status: number, message: string, extra?: Record<string, unknown>): Response {
  return json({ status, message, ...extra }, status)
}

export const forbiddenResource = (): Response => nestError(403, 'Forbidden resource')

/** Thrown while handling a request; turned into its response by `answer`. */
export class SimHttpError extends Error {
  constructor (readonly response: Response) {
    super(`simulated error ${response.status}`)
  }
}

export async function answer (run: () => Promise<Response>): Promise<Response> {
  try {
    return await run()
  } catch (err) {
    if (err instanceof SimHttpError) return err.response
    throw err
  }
}

export type BodyKind = 'json' | 'merge-patch' | 'form' | 'none'

export interface ParsedBody {
  kind: BodyKind
  /** What body-parser leaves in req.body: `{}` when no parser applied. */
  value: unknown
  /** The raw content-type header, as the jobs code compares it. */
  contentType: string
}

/** Reads the body like SciCat's json (application/json, merge-patch+json) and urlencoded parsers. */
export async function readBody (request: Request): Promise<ParsedBody> {
  const contentType = request.headers.get('content-type') ?? ''
  const declared = Number(request.headers.get('content-length') ?? '0')
  if (declared > BODY_LIMIT_BYTES) throw new SimHttpError(tooLarge())
  const raw = Buffer.from(await request.arrayBuffer())
  if (raw.length > BODY_LIMIT_BYTES) throw new SimHttpError(tooLarge())
  const mediaType = (contentType.split(';')[0] ?? '').trim().toLowerCase()
  const kind: BodyKind =
    mediaType === 'application/json'
      ? 'json'
      : mediaType === 'application/merge-patch+json'
        ? 'merge-patch'
        : mediaType === 'application/x-www-form-urlencoded'
          ? 'form'
          : 'none'
  if (kind === 'none' || raw.length === 0) return { kind, value: {}, contentType }
  const text = raw.toString('utf8')
  if (kind === 'form') {
    return { kind, value: Object.fromEntries(new URLSearchParams(text)), contentType }
  }
  // body-parser's strict mode: only objects and arrays are accepted
  const first = text.trimStart()[0]
  if (first !== '{' && first !== '[') {
    throw new SimHttpError(nestError(400, `Unexpected token '${first ?? ''}' in JSON at position 0`))
  }
  try {
    return { kind, value: JSON.parse(text), contentType }
  } catch (err) {
    throw new SimHttpError(nestError(400, (err as Error).message))
  }
}

function tooLarge (): Response {
  return nestError(413, 'request entity too large')
}

export function isPlainObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
