// The contract itself: /openapi.yaml, /openapi.json, and /docs/index.html (the Go service's Swagger URL).
import type { FastifyInstance } from 'fastify'
import { specDocument, specText } from '../openapi.js'

export async function docsRoutes (app: FastifyInstance) {
  app.get('/openapi.yaml', { schema: { hide: true } }, async (_req, reply) =>
    reply.type('application/yaml; charset=utf-8').send(specText)
  )
  app.get('/openapi.json', { schema: { hide: true } }, async () => specDocument)
  app.get('/docs/index.html', { schema: { hide: true } }, async (_req, reply) => reply.redirect('/docs/'))
}
