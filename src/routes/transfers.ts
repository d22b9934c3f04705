// GET /transfers: one page of the caller's transfers (every transfer of the deployment for admins).
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { routeSchema } from '../openapi.js'
import type { TransferStatus } from '../transfers/job-state.js'
import type { TransferList } from '../transfers/transfer-list.js'

export interface TransfersRoutesOptions {
  list: TransferList
  authenticate: (req: FastifyRequest) => Promise<void>
}

interface ListTransfers {
  Querystring: { status?: TransferStatus; limit: number; skip: number }
}

export async function transfersRoutes (app: FastifyInstance, { list, authenticate }: TransfersRoutesOptions) {
  app.get<ListTransfers>(
    '/transfers',
    { schema: routeSchema('GetTransfers'), onRequest: authenticate },
    async (req) => await list.list(req.user, req.query)
  )
}
