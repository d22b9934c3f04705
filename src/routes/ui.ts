// The web page (DESIGN §12): /ui/ and its few files, built into dist/ui by `npm run build`.
import { readFile } from 'node:fs/promises'
import type { FastifyInstance, FastifyReply } from 'fastify'
import { ProxyError } from '../errors.js'

/** dist/ui seen from dist/routes and from src/routes alike (tests run the sources against the built page). */
const uiDir = new URL('../../dist/ui/', import.meta.url)

const types: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
}

/** The page talks to this origin only: no CDN, no web fonts, no inline script. */
const contentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ')

const hidden = { schema: { hide: true } }

export async function uiRoutes (app: FastifyInstance) {
  const cache = new Map<string, Buffer>()
  const send = async (file: string) => {
    let body = cache.get(file)
    if (!body) {
      try {
        body = await readFile(new URL(file, uiDir))
      } catch {
        throw new ProxyError('PROXY_NOT_FOUND', `no file ${file} in the web page`, {
          details: file === 'index.html' ? 'the page is built by npm run build into dist/ui' : undefined,
        })
      }
      cache.set(file, body)
    }
    return body
  }

  app.get('/ui', hidden, async (_req, reply) => reply.redirect('/ui/', 301))
  const serve = async (file: string, reply: FastifyReply) => {
    const ext = /^[a-z0-9-]+\.([a-z]+)$/.exec(file)?.[1]
    if (!ext || !types[ext]) throw new ProxyError('PROXY_NOT_FOUND', `no file ${file} in the web page`)
    const body = await send(file)
    return await reply
      .type(types[ext])
      .header('content-security-policy', contentSecurityPolicy)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'no-cache')
      .send(body)
  }
  app.get('/ui/', hidden, async (_req, reply) => await serve('index.html', reply))
  app.get<{ Params: { file: string } }>('/ui/:file', hidden, async (req, reply) => await serve(req.params.file, reply))
}
