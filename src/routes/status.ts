// GET /status: the instance's state for members of server.adminGroups (403 for everyone else).
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { ProxyError } from '../errors.js'
import { routeSchema } from '../openapi.js'
import { serviceStatus, type StatusSources } from '../service-status.js'
import { isAdmin } from '../transfers/access.js'

export interface StatusRoutesOptions {
  sources: StatusSources
  authenticate: (req: FastifyRequest) => Promise<void>
}

export async function statusRoutes (app: FastifyInstance, { sources, authenticate }: StatusRoutesOptions) {
  const adminGroups = sources.config.server.adminGroups
  app.get('/status', { schema: routeSchema('GetStatus'), onRequest: authenticate }, async (req) => {
    if (!isAdmin(req.user, adminGroups)) {
      throw new ProxyError('PROXY_FORBIDDEN', 'only members of server.adminGroups may read the status', {
        details: adminGroups.length ? `user ${req.user.username} is in none of them` : 'server.adminGroups is empty in the config',
      })
    }
    return await serviceStatus(sources)
  })
}
