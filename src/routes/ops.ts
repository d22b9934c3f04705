// Operations: /version, /health (no upstream call), /ready (cached upstream checks), /metrics.
import type { FastifyInstance } from 'fastify'
import type { AppDeps } from '../app.js'
import type { Config } from '../config/resolve.js'
import { standbyMessage } from '../ha/role.js'
import { UpstreamError } from '../http/upstream-error.js'
import { routeSchema } from '../openapi.js'
import { version } from '../version.js'

/** How long a readiness answer is reused, so probes do not hammer the upstreams. */
const readyCacheMs = 5000

function problem (err: unknown): string {
  return err instanceof UpstreamError ? err.describe() : err instanceof Error ? err.message : String(err)
}

export async function opsRoutes (app: FastifyInstance, { deps }: { config: Config; deps: AppDeps }) {
  const now = deps.now ?? Date.now
  let cached: { at: number; ready: boolean; checks: Record<string, string> } | undefined

  app.get('/version', { schema: routeSchema('GetVersion') }, async () => ({ version }))
  app.get('/health', { schema: routeSchema('GetHealth') }, async () => ({ status: 'ok' }))

  app.get('/ready', { schema: routeSchema('GetReady') }, async (_req, reply) => {
    const role = deps.role
    // a standby is not ready (a Service routes only to the active pod) and asks no upstream
    if (role?.role === 'standby') {
      return reply.code(503).send({ status: 'unavailable', role: 'standby', message: standbyMessage(role) })
    }
    if (!cached || now() - cached.at > readyCacheMs) {
      const [scicat, globus] = await Promise.allSettled([
        deps.scicat.checkServiceToken(),
        deps.globus.tokens.token(),
      ])
      cached = {
        at: now(),
        ready: scicat.status === 'fulfilled' && globus.status === 'fulfilled',
        checks: {
          scicat: scicat.status === 'fulfilled' ? 'ok' : problem(scicat.reason),
          globus: globus.status === 'fulfilled' ? 'ok' : problem(globus.reason),
        },
      }
    }
    return reply
      .code(cached.ready ? 200 : 503)
      .send({ status: cached.ready ? 'ready' : 'unavailable', checks: cached.checks, ...(role ? { role: role.role } : {}) })
  })

  app.get('/metrics', { schema: routeSchema('GetMetrics') }, async (_req, reply) => {
    return reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics())
  })
}
