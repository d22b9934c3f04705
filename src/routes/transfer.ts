// POST /transfer, GET and DELETE /transfer/{scicatJobId}.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { routeSchema } from '../openapi.js'
import type { TransferService } from '../transfers/transfer-service.js'
import type { FileToTransfer } from '../transfers/transfer.js'

export interface TransferRoutesOptions {
  transfers: TransferService
  authenticate: (req: FastifyRequest) => Promise<void>
}

interface PostTransfer {
  Querystring: {
    sourceFacility: string
    destFacility: string
    scicatPid: string
    collectionRootPath: string
    autoArchive: boolean
  }
  Body: { fileList?: FileToTransfer[] } | undefined
  Headers: { 'idempotency-key'?: string }
}

interface OneTransfer {
  Params: { scicatJobId: string }
  Querystring: { delete?: boolean }
}

export async function transferRoutes (app: FastifyInstance, { transfers, authenticate }: TransferRoutesOptions) {
  app.post<PostTransfer>(
    '/transfer',
    {
      schema: routeSchema('PostTransferTask'),
      onRequest: authenticate,
      // the body is optional: none at all means the same as {} (the whole folder); a JSON
      // `null` is a body, and not an object
      preValidation: async (req) => {
        if (req.body === undefined) req.body = {}
      },
    },
    async (req) => {
      const q = req.query
      return await transfers.create(req.user, {
        sourceFacility: q.sourceFacility,
        destFacility: q.destFacility,
        scicatPid: q.scicatPid,
        collectionRootPath: q.collectionRootPath,
        autoArchive: q.autoArchive,
        fileList: req.body?.fileList,
        idempotencyKey: req.headers['idempotency-key'],
      })
    }
  )

  app.get<OneTransfer>(
    '/transfer/:scicatJobId',
    { schema: routeSchema('GetTransferTask'), onRequest: authenticate },
    async (req) => await transfers.get(req.user, req.params.scicatJobId)
  )

  app.delete<OneTransfer>(
    '/transfer/:scicatJobId',
    { schema: routeSchema('DeleteTransferTask'), onRequest: authenticate },
    async (req, reply) => {
      await transfers.cancel(req.user, req.params.scicatJobId, req.query.delete === true)
      return reply.code(200).send()
    }
  )
}
