// buildApp(config, deps): the Fastify app with every plugin and route registered explicitly; no I/O here.
import cors from '@fastify/cors'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import { Ajv } from 'ajv'
import Fastify, { type FastifyInstance, type FastifySchema } from 'fastify'
import type { Logger } from 'pino'
import type { Config } from './config/resolve.js'
import { errorHandlers, notValidHttp } from './error-handler.js'
import type { GlobusClient } from './globus/client.js'
import { answersOnStandby, type RoleSource, standbyMessage } from './ha/role.js'
import type { Metrics } from './metrics.js'
import { specDocument } from './openapi.js'
import { Readiness } from './readiness.js'
import { docsRoutes } from './routes/docs.js'
import { facilitiesRoutes } from './routes/facilities.js'
import { opsRoutes } from './routes/ops.js'
import { statusRoutes } from './routes/status.js'
import { transferRoutes } from './routes/transfer.js'
import { transfersRoutes } from './routes/transfers.js'
import { uiRoutes } from './routes/ui.js'
import type { ScicatClient } from './scicat/client.js'
import type { ServiceToken } from './scicat/service-token.js'
import { IdentityCache, tokenFrom, type User } from './transfers/access.js'
import { trackerQueueView } from './transfers/queue-view.js'
import { Tracker } from './transfers/tracker.js'
import { alwaysWrite } from './transfers/write-gate.js'
import { TransferList } from './transfers/transfer-list.js'
import { TransferService } from './transfers/transfer-service.js'
import { ProxyError } from './errors.js'
import { UpstreamActivity } from './upstream-activity.js'

export interface AppDeps {
  globus: GlobusClient
  scicat: ScicatClient
  scicatServiceToken: ServiceToken
  metrics: Metrics
  logger: Logger
  now?: () => number
  /** Recent upstream requests (GET /status); createDeps feeds one from the upstream clients. */
  activity?: UpstreamActivity
  /** With ha.lease: this instance's role (absent: it is alone, always active). */
  role?: RoleSource
}

/** One registered route, as the contract test compares it with openapi.yaml. */
export interface RegisteredRoute {
  method: string
  url: string
  schema: (FastifySchema & { hide?: boolean }) | undefined
}

declare module 'fastify' {
  interface FastifyInstance {
    tracker: Tracker
    transfers: TransferService
    /** Every route registered on the app (HEAD twins included), in registration order. */
    registeredRoutes: readonly RegisteredRoute[]
  }
  interface FastifyRequest {
    user: User
  }
}

/** While closing: how long a connection may stay idle after its last answer. */
const closingKeepAliveMs = 1000

export async function buildApp (config: Config, deps: AppDeps): Promise<FastifyInstance> {
  const { errorHandler, notFoundHandler, frameworkErrorHandler, clientErrorHandler } = errorHandlers(
    config.server.errorStatuses
  )
  const app = Fastify({
    loggerInstance: deps.logger,
    bodyLimit: Math.round(config.server.bodyLimitMb * 1024 * 1024),
    trustProxy: config.server.trustProxy as boolean,
    requestTimeout: 120_000,
    connectionTimeout: 130_000,
    keepAliveTimeout: 72_000,
    // Fastify's own 503 while closing has no `code`: the onRequest hook below answers instead
    return503OnClosing: false,
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler,
    // Node answers an HTTP/1.1 request without Host with an empty 400 of its own; the hook
    // below answers it as JSON like every other malformed request
    http: { requireHostHeader: false },
  }) as unknown as FastifyInstance
  // Query, path and headers: strings coerced to the declared types, every problem named at once.
  // Bodies: JSON has its own types, and validation stops at the first problem: a large fileList
  // of bad entries would otherwise make millions of error objects (and as long a message).
  const ajvOptions = { removeAdditional: false, useDefaults: true, strict: false } as const
  const lenient = new Ajv({ ...ajvOptions, coerceTypes: true, allErrors: true })
  const exact = new Ajv({ ...ajvOptions, coerceTypes: false, allErrors: false })
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? exact : lenient).compile(schema))

  const now = deps.now ?? Date.now
  // With ha.lease, nothing is submitted or written unless this instance holds a lease that cannot have run out.
  const role = deps.role
  const canWrite = role ? () => role.mayWrite() : alwaysWrite
  const tracker = new Tracker({ config, ...deps, now, canWrite })
  const transfers = new TransferService({ config, ...deps, tracker, now, canWrite })
  const identities = new IdentityCache(deps.scicat, config.scicat.identityCacheSeconds, now)
  app.decorate('tracker', tracker)
  app.decorate('transfers', transfers)
  app.decorateRequest('user', null as unknown as User)
  const routes: RegisteredRoute[] = []
  app.decorate('registeredRoutes', routes)
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url, schema: route.schema })
  })

  // Bodies are JSON only: any other type (text/plain too, which Fastify parses by default) is 415.
  // An empty JSON body is "no body" (the Go service accepted POST /transfer without one).
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    if ((body as string).trim() === '') return done(null, undefined)
    try {
      done(null, JSON.parse(body as string))
    } catch {
      done(new ProxyError('PROXY_VALIDATION', 'the request body is not valid JSON'), undefined)
    }
  })

  app.setErrorHandler(errorHandler)
  app.setNotFoundHandler(notFoundHandler)
  app.addHook('onRequest', async (req, reply) => {
    if (req.raw.httpVersion === '1.1' && req.headers.host === undefined) {
      reply.header('connection', 'close')
      throw new ProxyError('PROXY_VALIDATION', notValidHttp, { details: 'an HTTP/1.1 request must carry a Host header' })
    }
  })

  // Requests that still arrive on open keep-alive connections while the app closes.
  let closing = false
  app.addHook('preClose', async () => {
    closing = true
    // server.close() drops idle connections only; one busy when closing began would stay open
    // after its answer for the whole keepAliveTimeout, and the shutdown would wait for it.
    // Node reads this when an answer ends: a request sent on it at once still gets the 503 below.
    app.server.keepAliveTimeout = closingKeepAliveMs
  })
  app.addHook('onRequest', async () => {
    if (closing) {
      throw new ProxyError('PROXY_SHUTTING_DOWN', 'the service is shutting down, try again', { retryAfter: 5 })
    }
  })

  // Browsers on these origins (the SciCat frontend's dataset actions) may call the API.
  if (config.server.cors.origins.length) {
    await app.register(cors, {
      origin: config.server.cors.origins,
      methods: ['GET', 'POST', 'DELETE'],
      allowedHeaders: ['SciCat-API-Key', 'Authorization', 'Content-Type', 'Idempotency-Key'],
      exposedHeaders: ['Retry-After'],
      maxAge: 600,
    })
  }

  if (role) {
    // a standby makes no upstream call: only the routes that need none answer
    app.addHook('onRequest', async (req) => {
      if (role.role === 'standby' && !answersOnStandby(req.routeOptions.url)) {
        throw new ProxyError('PROXY_STANDBY', standbyMessage(role), { retryAfter: role.retryAfterSeconds })
      }
    })
  }

  await app.register(swagger, { mode: 'static', specification: { document: specDocument as never } })
  await app.register(swaggerUi, { routePrefix: '/docs' })

  const authenticate = async (req: { headers: Record<string, string | string[] | undefined>; user: User }) => {
    const token = tokenFrom(req.headers)
    if (!token) {
      throw new ProxyError('PROXY_UNAUTHENTICATED', 'missing SciCat token', {
        details: 'send the header SciCat-API-Key: <token> or Authorization: Bearer <token>',
      })
    }
    req.user = await identities.authenticate(token)
  }

  deps.metrics.pollInterval.set(config.task.pollInterval)
  const readiness = new Readiness(deps, now)
  const queue = () => trackerQueueView(tracker)
  const list = new TransferList({ config, scicat: deps.scicat, tracker, queue })
  const statusSources = {
    config,
    tracker,
    queue,
    readiness,
    activity: deps.activity ?? new UpstreamActivity(now),
    role: () => deps.role?.role ?? 'single',
  }

  await app.register(docsRoutes)
  await app.register(opsRoutes, { config, deps, readiness })
  await app.register(facilitiesRoutes, { transfers, authenticate })
  await app.register(transferRoutes, { transfers, authenticate })
  await app.register(transfersRoutes, { list, authenticate })
  await app.register(statusRoutes, { sources: statusSources, authenticate })
  await app.register(uiRoutes)

  app.addHook('onClose', async () => {
    await tracker.stop()
  })
  return app
}
