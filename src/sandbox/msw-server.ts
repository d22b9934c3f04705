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
 * The handlers that can answer `method`, in their order: an HttpHandler for another method never
 * matches, and msw would clone the request and match the path for each one before finding out.
 */
function forMethod (handlers: readonly RequestHandler[], method: string): RequestHandler[] {
  return handlers.filter((h) => {
    if (!(h instanceof HttpHandler)) return true
    const m = h.info.method
    return m instanceof RegExp ? m.test(method) : m.toLowerCase() === method.toLowerCase()
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
  const request = new Request(new URL(req.url ?? '/', origin()), {
    method,
    headers,
    body: method === 'GET' || method === 'HEAD' || body.length === 0 ? undefined : body,
  })
  const response = await getResponse(forMethod(handlers(), method), request, { baseUrl: origin(), quiet: true })
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
