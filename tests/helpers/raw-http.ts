// Raw HTTP/1.1 over a socket, for requests fetch and inject cannot send (malformed, no Host) and for keep-alive sequences.
import { connect, type Socket } from 'node:net'
import { until } from './upstreams.js'
import type { Setup } from './proxy.js'

export interface RawAnswer {
  status: number
  /** The answer as written, head and body. */
  text: string
  body: Record<string, unknown>
}

/** Status, text and JSON body (`{}` when the body is not JSON) of one answer. */
export function parseAnswer (text: string): RawAnswer {
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1])
  let body: Record<string, unknown> = {}
  try {
    body = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>
  } catch {}
  return { status, text, body }
}

/** The app's listening port (listening first on 127.0.0.1 if it is not yet). */
export async function portOf (setup: Setup): Promise<number> {
  const { app } = setup.proxy
  if (!app.server.listening) await app.listen({ port: 0, host: '127.0.0.1' })
  return (app.server.address() as { port: number }).port
}

/** Sends raw bytes and resolves with everything the server wrote before closing. */
export function rawRequest (port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request))
    let answer = ''
    socket.on('data', (d) => {
      answer += String(d)
    })
    socket.on('error', reject)
    socket.on('close', () => resolve(answer))
  })
}

/**
 * Sends `request` on a keep-alive connection whose first request (GET /facilities, held up
 * at SciCat) is still in flight when the app starts closing; resolves with both answers.
 */
export async function requestWhileClosing (setup: Setup, request: string): Promise<[RawAnswer, RawAnswer]> {
  const { world, proxy } = setup
  const port = await portOf(setup)
  world.scicat.core.inject('identity', { latencyMs: 300 })
  const socket = connect(port, '127.0.0.1')
  let received = ''
  socket.on('data', (chunk) => {
    received += String(chunk)
  })
  // a response starts right after the previous body, not on a line of its own
  const responses = () => received.match(/HTTP\/1\.1 \d{3} /g)?.length ?? 0
  try {
    socket.write(`GET /facilities HTTP/1.1\r\nHost: proxy\r\nSciCat-API-Key: ${world.tokens.alice}\r\n\r\n`)
    const identityReads = world.scicat.core.count('identity')
    await until(() => world.scicat.core.count('identity') > identityReads)
    const closing = proxy.app.close()
    socket.write(request)
    await until(() => responses() === 2)
    await closing
  } finally {
    socket.destroy()
  }
  const [first = '', second = ''] = received.split(/(?=HTTP\/1\.1 \d{3} )/)
  return [parseAnswer(first), parseAnswer(second)]
}

/**
 * Sends `partial`, bytes of a request that never completes, and once the server has read them
 * and `arrived()` holds, emits the clientError Node emits when server.requestTimeout passes
 * (ERR_HTTP_REQUEST_TIMEOUT, checked only every 30 s by Node); resolves with the answer.
 */
export async function timedOutRequest (setup: Setup, partial: string, arrived: () => boolean = () => true): Promise<RawAnswer> {
  const { server } = setup.proxy.app
  const port = await portOf(setup)
  let serverSide: Socket | undefined
  server.once('connection', (socket: Socket) => {
    serverSide = socket
  })
  const answer = rawRequest(port, partial)
  await until(() => serverSide !== undefined && serverSide.bytesRead > 0 && arrived())
  server.emit('clientError', Object.assign(new Error('Request timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' }), serverSide)
  return parseAnswer(await answer)
}
