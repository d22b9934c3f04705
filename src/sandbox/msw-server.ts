// Serves msw request handlers on a real loopback port, through msw's getResponse().
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { getResponse, HttpHandler, type RequestHandler } from 'msw'

export interface ServedHandlers {
  /** Base URL, e.g. http://127.0.0.1:43121 (no trailing slash). */
  url: string
  port: number
  close(): Promise<void>
}

async function readBody (req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

/**
 * The literal start of an HttpHandler's path, lowercased, without scheme and host: the part
 * before its first parameter or wildcard ("/api/v4/jobs" for ".../api/v4/jobs/:id"). undefined
 * for a path msw matches some other way (a RegExp): such a handler is always tried.
 */
function literalStart (path: unknown): string | undefined {
  if (typeof path !== 'string') return undefined
  const afterHost = path.includes('://') ? path.indexOf('/', path.indexOf('://') + 3) : 0
  if (afterHost < 0) return undefined
  const rest = path.slice(afterHost)
  const end = rest.search(/\/:|\*|\?|\(|\{/)
  return (end < 0 ? rest : rest.slice(0, end)).toLowerCase()
}

const literalStarts = new WeakMap<HttpHandler, string | undefined>()

/**
 * The handlers that can answer `method` on `pathname`, in their order. An HttpHandler for another
 * method, or whose path starts with other literal text, never matches, and msw would clone the
 * request, parse its cookies and compile the handler's path into a regular expression for each
 * one before finding out: most of the simulators' CPU per request (their profile, bench/README.md).
 * The test here only excludes: msw still matches what is left.
 */
function candidates (handlers: readonly RequestHandler[], method: string, pathname: string): RequestHandler[] {
  const lowerPath = pathname.toLowerCase()
  return handlers.filter((h) => {
    if (!(h instanceof HttpHandler)) return true
    const m = h.info.method
    if (!(m instanceof RegExp ? m.test(method) : m.toLowerCase() === method.toLowerCase())) return false
    if (!literalStarts.has(h)) literalStarts.set(h, literalStart(h.info.path))
    const start = literalStarts.get(h)
    return start === undefined || lowerPath.startsWith(start)
  })
}

async function handle (
  handlers: () => readonly RequestHandler[],
  origin: () => string,
  req: IncomingMessage,
  res: ServerResponse
): Promise<void> {
  const body = await readBody(req)
  const headers = new Headers()
  for (const [name, value] of Object.entries(req.headers)) {
    if (Array.isArray(value)) for (const v of value) headers.append(name, v)
    else if (value !== undefined) headers.set(name, value)
  }
  const method = req.method ?? 'GET'
  const url = new URL(req.url ?? '/', origin())
  const request = new Request(url, {
    method,
    headers,
    body: method === 'GET' || method === 'HEAD' || body.length === 0 ? undefined : body,
  })
  const response = await getResponse(candidates(handlers(), method, url.pathname), request, { baseUrl: origin(), quiet: true })
  if (response?.type === 'error') {
    // HttpResponse.error(): the simulated network failure is a dropped connection
    req.socket.destroy()
    return
  }
  if (!response) {
    res.writeHead(404, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ message: `Cannot ${method} ${req.url}`, statusCode: 404 }))
    return
  }
  const out = Buffer.from(await response.arrayBuffer())
  const outHeaders: Record<string, string> = {}
  response.headers.forEach((value, name) => {
    outHeaders[name] = value
  })
  outHeaders['content-length'] = String(out.length)
  res.writeHead(response.status, outHeaders)
  res.end(out)
}

/** Listens on `host:port` (port 0 picks a free port, reported in the result). */
export async function serveHandlers (
  handlers: () => readonly RequestHandler[],
  options: { port?: number; host?: string } = {}
): Promise<ServedHandlers> {
  const host = options.host ?? '127.0.0.1'
  let url = ''
  const server = createServer((req, res) => {
    handle(handlers, () => url, req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ message: `simulator error: ${(err as Error).message}` }))
    })
  })
  server.keepAliveTimeout = 5_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, host, () => resolve())
  })
  const { port } = server.address() as AddressInfo
  url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`
  return {
    url,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
