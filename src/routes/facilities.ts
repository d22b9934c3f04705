// GET /facilities: the configured facilities and what the caller may do with each.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { routeSchema } from '../openapi.js'
import type { TransferService } from '../transfers/transfer-service.js'

export async function facilitiesRoutes (
  app: FastifyInstance,
  options: { transfers: TransferService; authenticate: (req: FastifyRequest) => Promise<void> }
) {
  app.get('/facilities', { schema: routeSchema('GetFacilities'), onRequest: options.authenticate }, async (req) => ({
    facilities: options.transfers.facilitiesFor(req.user),
  }))
}
