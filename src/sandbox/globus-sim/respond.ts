// Response helpers in Globus's own formats: error bodies, request ids, timestamps.
import { randomInt } from 'node:crypto'
import { HttpResponse } from 'msw'

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

/** Globus request ids look like `7HgMVYazI`. */
export function requestId (): string {
  let id = ''
  for (let i = 0; i < 9; i++) id += ALPHABET[randomInt(ALPHABET.length)]
  return id
}

/** Timestamps already written, by second: every task_list answer repeats its tasks' request times. */
const written = new Map<number, string>()

/** Globus timestamps: second precision, `+00:00` instead of `Z`. */
export function isoTime (ms: number): string {
  const second = Math.floor(ms / 1000)
  let text = written.get(second)
  if (text === undefined) {
    text = new Date(second * 1000).toISOString().replace(/\.\d{3}Z$/, '+00:00')
    if (written.size >= 100_000) written.clear()
    written.set(second, text)
  }
  return text
}

/** The transfer API's `resource` field: the path without the version prefix, as recorded. */
export function resourceOf (request: Request): string {
  return new URL(request.url).pathname.replace(/^\/v0\.10/, '')
}

/** Error in the Transfer API's shape `{code, message, request_id, resource, ...extra}`. */
export function transferError (
  request: Request,
  status: number,
  code: string,
  message: string,
  extra: Record<string, unknown> = {}
): Response {
  return HttpResponse.json(
    {
      code,
      message,
      request_id: requestId(),
      resource: resourceOf(request),
      ...extra,
    },
    { status }
  )
}

/** The body SimCore uses for injected faults that do not bring their own. */
export function defaultFaultBody (status: number): Record<string, string> {
  const code =
    status === 429
      ? 'RequestLimitExceeded'
      : status === 503
        ? 'ServiceUnavailable'
        : status >= 500
          ? 'InternalError'
          : 'ClientError'
  return {
    code,
    message: `Simulated failure (HTTP ${status})`,
    request_id: requestId(),
    resource: '',
  }
}

export function badRequest (request: Request, message: string, code = 'ClientError.BadRequest') {
  return transferError(request, 400, code, message)
}
