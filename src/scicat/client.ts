// SciCat backend: user identity and datasets (user token), jobs v4 and dataset lifecycle (service token).
import type { HttpClient, HttpRequest } from '../http/client.js'
import { UpstreamError } from '../http/upstream-error.js'
import type { ServiceToken } from './service-token.js'

export type Identity = Record<string, unknown> & {
  profile?: { username?: string; email?: string; accessGroups?: string[]; displayName?: string }
}

export interface Dataset {
  pid: string
  ownerGroup: string
  accessGroups?: string[]
  sourceFolder: string
  size?: number
  [key: string]: unknown
}

/** One entry of an original datablock's dataFileList (SciCat `DataFile`). */
export interface DataFile {
  path: string
  size?: number
  time?: string
  /** The file mode as scicat-cli writes it (Go's FileMode.String: "drwxr-xr-x" for a directory). */
  perm?: string
  [key: string]: unknown
}

export interface OrigDatablock {
  datasetId?: string
  dataFileList?: DataFile[]
  [key: string]: unknown
}

export interface Job {
  id: string
  type: string
  ownerUser?: string
  ownerGroup: string
  contactEmail?: string
  statusCode: string
  statusMessage: string
  jobParams: Record<string, unknown>
  jobResultObject: Record<string, unknown>
  createdAt: string
  updatedAt: string
  [key: string]: unknown
}

export interface CreateJob {
  type: string
  ownerGroup: string
  ownerUser?: string
  contactEmail?: string
  jobParams: Record<string, unknown>
}

export interface JobUpdate {
  statusCode: string
  statusMessage: string
  jobResultObject: Record<string, unknown>
}

export class ScicatClient {
  constructor (
    private readonly http: HttpClient,
    private readonly service: ServiceToken
  ) {}

  /** The user's identity, or undefined when SciCat does not accept the token (401, or an empty 200). */
  async getIdentity (userToken: string): Promise<Identity | undefined> {
    try {
      const res = await this.http.send<unknown>({
        operation: 'identity',
        method: 'GET',
        path: '/api/v3/users/my/identity',
        headers: bearer(userToken),
        retry: true,
      })
      const body = res.body
      return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Identity) : undefined
    } catch (err) {
      if (err instanceof UpstreamError && err.status === 401) return undefined
      throw err
    }
  }

  /**
   * Throws unless the service account works: its token (logged in for, or SCICAT_SERVICE_TOKEN)
   * is accepted by one identity read (any 2xx will do: a functional account may have no
   * identity document). Not retried: readiness is asked again anyway.
   */
  async checkServiceToken (): Promise<void> {
    await this.asService<unknown>({
      operation: 'serviceIdentity',
      method: 'GET',
      path: '/api/v3/users/my/identity',
      retry: false,
    })
  }

  /** Reads a dataset with the user's own token; SciCat's 404 and 403 come through as they are. */
  async getDataset (pid: string, userToken: string): Promise<Dataset> {
    return await this.body<Dataset>(
      {
        operation: 'getDataset',
        method: 'GET',
        path: `/api/v3/datasets/${segment('getDataset', pid)}`,
        headers: bearer(userToken),
        retry: true,
      },
      [404]
    )
  }

  /**
   * The dataset's original datablocks, read with the user's token, `pageSize` at a time
   * (`GET /api/v4/origdatablocks?filter=`: SciCat's v4 list skips, then limits; without a limit
   * it answers 10), at most `maxPages` pages.
   */
  async findOrigDatablocks (pid: string, userToken: string, pageSize = 10, maxPages = 100): Promise<OrigDatablock[]> {
    const blocks: OrigDatablock[] = []
    for (let page = 0; page < maxPages; page++) {
      const filter = { where: { datasetId: pid }, limits: { limit: pageSize, skip: page * pageSize, sort: { _id: 'asc' } } }
      const answer = await this.body<unknown>(
        {
          operation: 'findOrigDatablocks',
          method: 'GET',
          path: '/api/v4/origdatablocks',
          query: { filter: JSON.stringify(filter) },
          headers: bearer(userToken),
          retry: true,
        },
        []
      )
      if (!Array.isArray(answer)) throw new Error('SciCat answered the datablock list with no list')
      blocks.push(...(answer as OrigDatablock[]))
      if (answer.length < pageSize) return blocks
    }
    throw new Error(`the dataset has more than ${maxPages * pageSize} original datablocks`)
  }

  /** Not retried: a lost answer is resolved by looking the job up (DESIGN §5). */
  async createJob (job: CreateJob): Promise<Job> {
    return await this.asService<Job>({
      operation: 'createJob',
      method: 'POST',
      path: '/api/v4/jobs',
      body: job,
      retry: false,
    })
  }

  /**
   * SciCat replaces jobResultObject as a whole and requires both status fields every time. Its
   * answer, the whole job, is not read: the tracker makes thousands of these a cycle and knows what
   * it wrote.
   */
  async updateJob (id: string, update: JobUpdate): Promise<void> {
    await this.asService(
      {
        operation: 'updateJob',
        method: 'PATCH',
        path: `/api/v4/jobs/${segment('updateJob', id)}`,
        body: update,
        retry: true,
        discardBody: true,
      },
      'Invalid job id.'
    )
  }

  /** SciCat answers an unknown id with 400 "Invalid job id."; that becomes a not-found error. */
  async getJob (id: string): Promise<Job> {
    return await this.asService<Job>(
      { operation: 'getJob', method: 'GET', path: `/api/v4/jobs/${segment('getJob', id)}`, retry: true },
      'Invalid job id.'
    )
  }

  async deleteJob (id: string): Promise<void> {
    await this.asService(
      { operation: 'deleteJob', method: 'DELETE', path: `/api/v4/jobs/${segment('deleteJob', id)}`, retry: true },
      "doesn't exist"
    )
  }

  /**
   * All jobs matching `where`, in SciCat's natural (creation) order; a job that moved between
   * pages while they were read is listed once.
   */
  async findJobs (where: Record<string, unknown>, pageSize = 1000): Promise<Job[]> {
    const jobs = new Map<string, Job>()
    for await (const page of this.jobPages(where, pageSize)) for (const job of page) jobs.set(job.id, job)
    return [...jobs.values()]
  }

  /**
   * The jobs matching `where`, a page at a time, so that a caller can keep what it needs of each
   * page and let the rest go. SciCat applies `limit` before `skip`, so a page is asked for as
   * `{limit: skip + pageSize, skip}`. A job may appear on two pages when jobs were created or
   * deleted meanwhile. `fields`: only these (dotted) paths of each job, SciCat's `$project`
   * (`jobs.service.ts` findJobComplete; `jobs.controller.utils.ts` removeFields then drops the
   * fields it adds for its access checks, `id` among them, unless they were asked for).
   */
  async * jobPages (where: Record<string, unknown>, pageSize = 1000, fields?: string[]): AsyncGenerator<Job[]> {
    for (let skip = 0; ; skip += pageSize) {
      const filter = { where, ...(fields ? { fields } : {}), limits: { skip, limit: skip + pageSize } }
      const page = await this.asService<Job[]>({
        operation: 'findJobs',
        method: 'GET',
        path: '/api/v4/jobs',
        query: { filter: JSON.stringify(filter) },
        retry: true,
      })
      if (page?.length) yield page
      if (!page || page.length < pageSize) return
    }
  }

  /**
   * One page of jobs matching `where`, sorted by `sort`; with `userToken` read as that user (SciCat
   * ANDs its access filter in), else as the service account. SciCat applies `limit` before
   * `skip`, so the page is asked for as `{limit: skip + limit, skip}`.
   */
  async jobPage (
    query: { where: Record<string, unknown>; sort: Record<string, 1 | -1>; skip: number; limit: number },
    userToken?: string
  ): Promise<Job[]> {
    const filter = { where: query.where, sort: query.sort, limits: { skip: query.skip, limit: query.skip + query.limit } }
    const req: HttpRequest = {
      operation: 'listJobs',
      method: 'GET',
      path: '/api/v4/jobs',
      query: { filter: JSON.stringify(filter) },
      retry: true,
    }
    const page = userToken
      ? await this.body<Job[]>({ ...req, headers: bearer(userToken) }, [])
      : await this.asService<Job[]>(req)
    return Array.isArray(page) ? page : []
  }

  /** What scicat-cli's MarkFilesReady does; the lifecycle endpoint merges, unlike PATCH /datasets/{pid}. */
  async markArchivable (pid: string): Promise<void> {
    await this.asService({
      operation: 'markArchivable',
      method: 'PATCH',
      path: `/api/v3/datasets/${segment('markArchivable', pid)}/datasetlifecycle`,
      body: { archivable: true, archiveStatusMessage: 'datasetCreated' },
      retry: true,
    })
  }

  /** Service-account call: one new login and a second try after 401/403 (SciCat answers an expired token with 403). */
  private async asService<T>(req: HttpRequest, notFoundMessage?: string): Promise<T> {
    const token = await this.service.token()
    const send = (t: string) => this.body<T>({ ...req, headers: { ...req.headers, ...bearer(t) } }, [], notFoundMessage)
    try {
      return await send(token)
    } catch (err) {
      if (!(err instanceof UpstreamError) || (err.status !== 401 && err.status !== 403)) throw err
      if (!this.service.invalidate(token)) throw err
      return await send(await this.service.token())
    }
  }

  private async body<T>(req: HttpRequest, notFoundStatuses: number[], notFoundMessage?: string): Promise<T> {
    try {
      return (await this.http.send<T>(req)).body
    } catch (err) {
      if (err instanceof UpstreamError) {
        err.notFound =
          notFoundStatuses.includes(err.status ?? 0) ||
          (err.status === 400 && notFoundMessage !== undefined && err.message.includes(notFoundMessage))
      }
      throw err
    }
  }
}

/**
 * `id` as one URL path segment. "." and ".." can name no dataset or job: as a path segment,
 * encoded or not, they are resolved away (`/api/v4/jobs/..` is `/api/v4/`, `/api/v4/jobs/.` the
 * job list), so they are not found, without asking SciCat.
 */
function segment (operation: string, id: string): string {
  if (id === '.' || id === '..') {
    const err = new UpstreamError({
      service: 'scicat',
      operation,
      status: 404,
      code: 'NotSent',
      message: `"${id}" is no id (as a URL path segment it is resolved away); not sent to SciCat`,
    })
    err.notFound = true
    throw err
  }
  return encodeURIComponent(id)
}

function bearer (token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` }
}
