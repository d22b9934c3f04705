// Operations: /version, /health (no upstream call), /ready (cached upstream checks), /metrics.
import type { FastifyInstance } from 'fastify'
import type { AppDeps } from '../app.js'
import type { Config } from '../config/resolve.js'
import { standbyMessage } from '../ha/role.js'
import { routeSchema } from '../openapi.js'
import type { Readiness } from '../readiness.js'
import { version } from '../version.js'

/** What a 503 from /ready says: which of the two checks failed (`checks` has their problems). */
function notReadyMessage (checks: { scicat: string; globus: string }): string {
  const failed = [
    ...(checks.scicat === 'ok' ? [] : ['SciCat does not accept the service account']),
    ...(checks.globus === 'ok' ? [] : ['no Globus token can be obtained']),
  ]
  return `not ready: ${failed.join('; ')}`
}

export async function opsRoutes (
  app: FastifyInstance,
  { deps, readiness }: { config: Config; deps: AppDeps; readiness: Readiness }
) {
  app.get('/version', { schema: routeSchema('GetVersion') }, async () => ({ version }))
  app.get('/health', { schema: routeSchema('GetHealth') }, async () => ({ status: 'ok' }))

  app.get('/ready', { schema: routeSchema('GetReady') }, async (_req, reply) => {
    const role = deps.role
    // a standby is not ready (a Service routes only to the active pod) and asks no upstream
    if (role?.role === 'standby') {
      return reply.code(503).send({ status: 'unavailable', role: 'standby', message: standbyMessage(role) })
    }
    const { ready, checks, degraded } = await readiness.check()
    return reply
      .code(ready ? 200 : 503)
      .send({
        status: ready ? 'ready' : 'unavailable',
        // every 503 carries a message, as every error does (DESIGN §4)
        ...(ready ? {} : { message: notReadyMessage(checks) }),
        checks,
        ...(degraded.length ? { degraded } : {}),
        ...(role ? { role: role.role } : {}),
      })
  })

  app.get('/metrics', { schema: routeSchema('GetMetrics') }, async (_req, reply) => {
    return reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics())
  })
}
