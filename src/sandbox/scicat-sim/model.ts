// The simulator's state: users and their tokens, datasets, jobs, and who the caller is.
import { randomBytes, randomUUID } from 'node:crypto'
import type { Clock } from '../sim-core.js'
import { defaultLifecycle } from './dto.js'
import type { Caller, Job, JobTypeConfig, OrigDatablock, ScicatSimOptions, SimDataFile, SimDataset, SimUser } from './types.js'

export const DEFAULT_JOB_TYPES: Record<string, JobTypeConfig> = {
  globus_transfer_job: { create: '#jobAdmin', update: '#jobAdmin', requireDatasetList: true },
  archive: { create: '#datasetOwner', update: '#jobAdmin', requireArchivable: true },
}

export interface StoredUser extends SimUser {
  _id: string
  identityId: string
  externalId: string
  created: string
}

interface TokenRecord {
  username: string
  /** JWT `exp` in seconds: jsonwebtoken rejects the token once floor(now/1000) >= exp. */
  exp: number
}

const objectId = (): string => randomBytes(12).toString('hex')
const base64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')

export function clone<T> (value: T): T {
  return structuredClone(value)
}

/** The stored dataset as its fields stand, sourceFolder without a trailing slash. */
export type StoredDataset = SimDataset & {
  accessGroups: string[]
  isPublished: boolean
  datasetlifecycle: Record<string, unknown>
}

export class ScicatModel {
  readonly users = new Map<string, StoredUser>()
  readonly datasets = new Map<string, StoredDataset>()
  readonly jobs = new Map<string, Job>()
  readonly origDatablocks: OrigDatablock[] = []
  /** The `filter` of the latest job list requests (at most 1,000), for tests of what a client asks. */
  readonly jobListFilters: string[] = []
  private readonly tokens = new Map<string, TokenRecord>()
  readonly adminGroups: string[]
  readonly jobTypes: Record<string, JobTypeConfig>
  readonly configVersion: string
  readonly jwtExpiresInSeconds: number
  private readonly raw: {
    deleteJob: string
    createJobPrivileged: string
    updateJobPrivileged: string
    updateDatasetLifecycle: string
  }

  constructor (
    readonly clock: Clock,
    options: ScicatSimOptions
  ) {
    this.adminGroups = options.adminGroups ?? ['admin']
    this.jobTypes = options.jobTypes ?? DEFAULT_JOB_TYPES
    this.configVersion = options.configVersion ?? 'globus-proxy v1 2025-06-01'
    this.jwtExpiresInSeconds = options.jwtExpiresInSeconds ?? 3600
    // SciCat keeps these variables as raw comma-separated strings and tests groups with includes()
    this.raw = {
      deleteJob: (options.deleteJobGroups ?? ['admin']).join(','),
      createJobPrivileged: (options.createJobPrivilegedGroups ?? []).join(','),
      updateJobPrivileged: (options.updateJobPrivilegedGroups ?? []).join(','),
      updateDatasetLifecycle: (options.updateDatasetLifecycleGroups ?? []).join(','),
    }
    for (const user of options.users ?? []) this.addUser(user)
    for (const dataset of options.datasets ?? []) this.addDataset(dataset)
  }

  nowIso (): string {
    return new Date(this.clock.now()).toISOString()
  }

  addUser (user: SimUser): void {
    const existing = this.users.get(user.username)
    this.users.set(user.username, {
      ...clone(user),
      _id: existing?._id ?? objectId(),
      identityId: existing?.identityId ?? objectId(),
      externalId: existing?.externalId ?? objectId(),
      created: existing?.created ?? this.nowIso(),
    })
  }

  addDataset (dataset: SimDataset): void {
    const copy = clone(dataset)
    const now = this.nowIso()
    this.datasets.set(dataset.pid, {
      ...copy,
      sourceFolder: copy.sourceFolder.replace(/(.)\/+$/, '$1'),
      accessGroups: copy.accessGroups ?? [],
      isPublished: copy.isPublished ?? false,
      datasetlifecycle: { ...defaultLifecycle(), ...copy.datasetlifecycle },
      createdAt: copy.createdAt ?? now,
      updatedAt: copy.updatedAt ?? now,
    })
  }

  /**
   * Registers an original datablock of a known dataset, as scicat-cli's POST /origdatablocks
   * does (its ownerGroup and accessGroups are the dataset's).
   */
  addOrigDatablock (block: { datasetId: string; size?: number; dataFileList: SimDataFile[] }, createdBy = 'ingestor'): OrigDatablock {
    const dataset = this.datasets.get(block.datasetId)
    if (!dataset) throw new Error(`scicat-sim: no dataset ${block.datasetId}`)
    const now = this.nowIso()
    const stored: OrigDatablock = {
      _id: randomUUID(),
      datasetId: block.datasetId,
      size: block.size ?? block.dataFileList.reduce((n, f) => n + f.size, 0),
      dataFileList: clone(block.dataFileList),
      ownerGroup: dataset.ownerGroup,
      accessGroups: [...dataset.accessGroups],
      isPublished: dataset.isPublished,
      createdBy,
      updatedBy: createdBy,
      createdAt: now,
      updatedAt: now,
      __v: 0,
    }
    this.origDatablocks.push(stored)
    return clone(stored)
  }

  /** The file paths recorded for a dataset: its datablocks' and the seeded origDatablockFiles. */
  datasetFiles (pid: string): Set<string> {
    const files = new Set(this.datasets.get(pid)?.origDatablockFiles ?? [])
    for (const b of this.origDatablocks) if (b.datasetId === pid) for (const f of b.dataFileList) files.add(f.path)
    return files
  }

  /** A JWT-shaped token bound to the user, valid for `expiresInSeconds` from now. */
  issueToken (username: string, expiresInSeconds = this.jwtExpiresInSeconds): string {
    const user = this.users.get(username)
    if (!user) throw new Error(`scicat-sim: no user ${username}`)
    const iat = Math.floor(this.clock.now() / 1000)
    const exp = iat + expiresInSeconds
    const payload = { _id: user._id, username, email: user.email, authStrategy: 'local', iat, exp }
    const token = `${base64url({ alg: 'HS256', typ: 'JWT' })}.${base64url(payload)}.${randomBytes(32).toString('base64url')}`
    this.tokens.set(token, { username, exp })
    return token
  }

  /** The caller behind the request's bearer token; null (anonymous) when missing, unknown or expired. */
  caller (request: Request): Caller | null {
    const token = bearerToken(request)
    const record = token === undefined ? undefined : this.tokens.get(token)
    if (!record || Math.floor(this.clock.now() / 1000) >= record.exp) return null
    const user = this.users.get(record.username)
    return user ? { user, groups: [...user.groups] } : null
  }

  isAdmin (caller: Caller | null): boolean {
    return !!caller && caller.groups.some((g) => this.adminGroups.includes(g))
  }

  inDeleteJobGroups (caller: Caller | null): boolean {
    return !!caller && caller.groups.some((g) => this.raw.deleteJob.includes(g))
  }

  isCreateJobPrivileged (caller: Caller | null): boolean {
    return !!caller && caller.groups.some((g) => this.raw.createJobPrivileged.includes(g))
  }

  isUpdateJobPrivileged (caller: Caller | null): boolean {
    return !!caller && caller.groups.some((g) => this.raw.updateJobPrivileged.includes(g))
  }

  isLifecycleUpdater (caller: Caller | null): boolean {
    return !!caller && caller.groups.some((g) => this.raw.updateDatasetLifecycle.includes(g))
  }

  canReadDataset (caller: Caller | null, dataset: StoredDataset): boolean {
    if (dataset.isPublished) return true
    if (!caller) return false
    if (this.isAdmin(caller) || this.isLifecycleUpdater(caller)) return true
    const groups = caller.groups
    return (
      groups.includes(dataset.ownerGroup) ||
      dataset.accessGroups.some((g) => groups.includes(g)) ||
      (dataset.sharedWith ?? []).includes(caller.user.email)
    )
  }

  /** Any job reader (admin, privileged) sees all jobs; others their group's and their own. */
  canReadJob (caller: Caller | null, job: Job): boolean {
    if (!caller) return false
    if (this.isAdmin(caller) || this.isCreateJobPrivileged(caller) || this.isUpdateJobPrivileged(caller)) {
      return true
    }
    if (!Object.hasOwn(this.jobTypes, job.type)) return false
    return caller.groups.includes(job.ownerGroup) || job.ownerUser === caller.user.username
  }
}

function bearerToken (request: Request): string | undefined {
  const header = request.headers.get('authorization')
  const fromHeader = header?.match(/^bearer\s+(\S+)\s*$/i)?.[1]
  if (fromHeader) return fromHeader
  // ?access_token= counts only when its value carries the "Bearer " prefix itself
  const query = new URL(request.url).searchParams.get('access_token')
  return query?.match(/^Bearer (\S+)$/)?.[1]
}
