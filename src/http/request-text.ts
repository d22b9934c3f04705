// One request on an undici Dispatcher, its body collected as text: undici's dispatch handler
// API, without the Readable stream that request() builds for every response.
import type { IncomingHttpHeaders } from 'node:http'
import type { Dispatcher } from 'undici'

export interface TextResponse {
  statusCode: number
  headers: IncomingHttpHeaders
  /** The body decoded as UTF-8 (a leading byte-order mark dropped); '' when there is none. */
  text: string
}

export interface TextRequest {
  origin: string
  /** Path and query string, already encoded. */
  path: string
  method: Dispatcher.HttpMethod
  headers: Record<string, string>
  body?: string
  /** Aborts the request, queued or in flight; the promise rejects with the signal's reason. */
  signal?: AbortSignal
  /** A 2xx answer's body is read but not kept: `text` is ''. */
  discardBody?: boolean
}

/**
 * Sends `req` with `dispatcher` and resolves with status, headers and body once the response
 * has ended; rejects with undici's error (connect, headers or body timeout, socket closed,
 * dispatcher destroyed) or the abort reason. The Agent's timeouts apply as with request().
 * The tracker makes thousands of small calls a cycle: measured against the same simulator,
 * this costs about a quarter less CPU per call than request() plus body.text().
 */
export function requestText (dispatcher: Dispatcher, req: TextRequest): Promise<TextResponse> {
  const { signal } = req
  return new Promise<TextResponse>((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal))
      return
    }
    let controller: Dispatcher.DispatchController | undefined
    let statusCode = 0
    let headers: IncomingHttpHeaders = {}
    const chunks: Buffer[] = []
    let keep = true
    const onAbort = () => controller?.abort(abortReason(signal!))
    const done = () => signal?.removeEventListener('abort', onAbort)
    signal?.addEventListener('abort', onAbort, { once: true })
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart (c) {
        controller = c
        // aborted while it waited for a connection
        if (signal?.aborted) c.abort(abortReason(signal))
      },
      onResponseStart (_c, status, responseHeaders) {
        statusCode = status
        headers = responseHeaders
        keep = !(req.discardBody && status >= 200 && status < 300)
      },
      onResponseData (_c, chunk) {
        if (keep) chunks.push(chunk)
      },
      onResponseEnd () {
        done()
        const text = Buffer.concat(chunks).toString('utf8')
        resolve({ statusCode, headers, text: text.charCodeAt(0) === 0xfeff ? text.slice(1) : text })
      },
      onResponseError (_c, err) {
        done()
        reject(err)
      },
    }
    try {
      dispatcher.dispatch({ origin: req.origin, path: req.path, method: req.method, headers: req.headers, body: req.body }, handler)
    } catch (err) {
      done()
      reject(err)
    }
  })
}

function abortReason (signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new DOMException('This operation was aborted', 'AbortError')
}
