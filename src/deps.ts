// Builds the upstream clients once: one HttpClient per upstream, shared concurrency and Globus rate limits.
import PQueue from 'p-queue'
import type { Logger } from 'pino'
import type { AppDeps } from './app.js'
import type { Credentials } from './config/credentials.js'
import type { RoleSource } from './ha/role.js'
import type { Config } from './config/resolve.js'
import { GlobusClient } from './globus/client.js'
import { GlobusTokens } from './globus/token-sets.js'
import { HttpClient, type RequestObserver, type Timeouts } from './http/client.js'
import type { RetryPolicy } from './http/retry.js'
import { Metrics } from './metrics.js'
import { ScicatClient } from './scicat/client.js'
import { LoginServiceToken, StaticServiceToken } from './scicat/service-token.js'
import { UpstreamActivity } from './upstream-activity.js'

export interface DepsOptions {
  logger: Logger
  metrics?: Metrics
  retry?: Partial<RetryPolicy>
  timeouts?: Partial<Timeouts>
  now?: () => number
  /** With ha.lease: the instance's role, which the app and tracker follow. */
  role?: RoleSource
}

/** The upstream operations that change something (SciCat jobs and datasets, Globus tasks): fenced with ha.lease. */
const writeOperations: ReadonlySet<string> = new Set(['createJob', 'updateJob', 'deleteJob', 'markArchivable', 'transfer', 'cancel'])

export interface Deps extends AppDeps {
  close(): Promise<void>
}

export function createDeps (config: Config, credentials: Credentials, options: DepsOptions): Deps {
  const metrics = options.metrics ?? new Metrics()
  // At most task.maxConcurrency upstream calls in flight, whoever makes them.
  const inFlight = new PQueue({ concurrency: config.task.maxConcurrency })
  // Globus meters requests per identity, and every task shares the service's one identity.
  // strict: a sliding window; the default fixed window lets up to twice the rate through across a boundary.
  // Below 1 per second (0.5: one call every 2 s), one call per 1/rate seconds.
  const rate = config.globus.maxRequestsPerSecond
  const perSecond = () =>
    rate >= 1
      ? new PQueue({ intervalCap: Math.floor(rate), interval: 1000, strict: true })
      : new PQueue({ intervalCap: 1, interval: Math.ceil(1000 / rate), strict: true })
  // The rate counts the moment a call starts, in its in-flight slot. Counted before it waits for
  // a slot, calls that passed while SciCat calls held every slot would then start back to back,
  // above the rate. The pace in front keeps them from holding slots while they wait for the rate:
  // a call holds one only when waiting for a slot bunched it up with others.
  const globusPace = perSecond()
  const globusRate = perSecond()
  const now = options.now ?? Date.now
  const activity = new UpstreamActivity(now)
  const role = options.role
  const common = {
    retry: options.retry,
    timeouts: options.timeouts,
    ...(role ? { writeGate: { operations: writeOperations, open: () => role.mayWrite() } } : {}),
    observe: ((info) => {
      metrics.observeUpstream(info)
      activity.observe(info)
    }) satisfies RequestObserver,
  }
  const scicatHttp = new HttpClient({
    ...common,
    service: 'scicat',
    baseUrl: config.scicatUrl,
    schedule: (attempt) => inFlight.add(attempt),
  })
  const globusSchedule = <T>(attempt: () => Promise<T>) =>
    globusPace.add(() => inFlight.add(() => globusRate.add(attempt)))
  const authHttp = new HttpClient({ ...common, service: 'globus', baseUrl: config.globus.authUrl, schedule: globusSchedule })
  const transferHttp =
    config.globus.authUrl === config.globus.transferUrl
      ? authHttp
      : new HttpClient({ ...common, service: 'globus', baseUrl: config.globus.transferUrl, schedule: globusSchedule })
  // one token per scope set: Transfer alone for tasks, a facility pair's scopes for a submission
  const tokens = new GlobusTokens(
    authHttp,
    { clientId: credentials.globus.clientId, clientSecret: credentials.globus.clientSecret },
    config.facilities,
    now,
    options.logger.child({ component: 'globus-tokens' })
  )
  const scicatServiceToken =
    'token' in credentials.scicat
      ? new StaticServiceToken(credentials.scicat.token)
      : new LoginServiceToken(scicatHttp, credentials.scicat.username, credentials.scicat.password, now)
  return {
    globus: new GlobusClient(transferHttp, tokens),
    scicat: new ScicatClient(scicatHttp, scicatServiceToken),
    scicatServiceToken,
    metrics,
    activity,
    logger: options.logger,
    now,
    ...(options.role ? { role: options.role } : {}),
    async close () {
      // queued attempts are not dropped (their callers would wait for ever): they fail fast once closed
      await Promise.all([...new Set([scicatHttp, authHttp, transferHttp])].map((c) => c.close()))
    },
  }
}
