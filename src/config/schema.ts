// JSON schema of the config file; the TypeScript type of a loaded file is derived from it.
import type { FromSchema } from 'json-schema-to-ts'
import { errorStatusModes } from '../error-statuses.js'

export const directions = ['SRC', 'DST', 'BOTH'] as const
export const syncLevels = ['none', 'exists', 'size', 'mtime', 'checksum'] as const
/** globus.fairShare: whose share a free Globus slot evens out (DESIGN §6); `none` is one FIFO. */
export const fairShares = ['user', 'group', 'none'] as const

const positiveNumber = { type: 'number', minimum: 0 } as const
const positiveInteger = { type: 'integer', minimum: 0 } as const

/**
 * Upper bounds of the keys that a large value breaks instead of just stretching:
 * task.pollInterval goes to setTimeout, whose longest delay is 2^31-1 ms (about 24.8 days;
 * a longer one fires at once, so cycles would run back to back); task.discoveryInterval
 * has the same bound (far longer would in effect run discovery only at start);
 * globus.deadlineHours is added to the date (far enough and there is no date: every
 * POST /transfer failed); server.bodyLimitMb must become a whole number of bytes Fastify
 * accepts. The smallest body limit other than 0 (the default) is checked in resolve.ts.
 */
export const limits = {
  pollInterval: 86_400,
  discoveryInterval: 86_400,
  deadlineHours: 87_600,
  submitAttempts: 1000,
  bodyLimitMb: 1024,
  minBodyLimitMb: 0.001,
} as const

const atMost = <M extends number>(maximum: M) => ({ type: 'number', minimum: 0, maximum }) as const

/** ha.lease (DESIGN §11); name, namespace and the two times are checked together in config/ha.ts. */
export const leaseSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['kind'],
  properties: {
    kind: { type: 'string', enum: ['kubernetes'] },
    name: { type: 'string' },
    namespace: { type: 'string' },
    // a Lease stores its duration as whole seconds
    durationSeconds: { type: 'integer', minimum: 0, maximum: limits.pollInterval },
    renewSeconds: atMost(limits.pollInterval),
  },
} as const

export const facilitySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'collection'],
  properties: {
    name: { type: 'string' },
    collection: { type: 'string' },
    scopes: { type: 'array', items: { type: 'string' } },
    accessPath: { type: 'string' },
    accessValue: { type: 'string' },
    // '' means the default, as in the Go service
    direction: { type: 'string', enum: [...directions, ''] },
    sourcePath: { type: 'string' },
    destinationPath: { type: 'string' },
    maxActiveTasks: positiveInteger,
  },
} as const

export const configSchema = {
  type: 'object',
  // Go configs keep YAML anchors under extra top-level keys such as `defaults:`
  additionalProperties: true,
  required: ['scicatUrl', 'facilities'],
  properties: {
    scicatUrl: { type: 'string', pattern: '^https?://[^/]+' },
    port: { type: 'integer', minimum: 0, maximum: 65535 },
    facilities: { type: 'array', minItems: 1, items: facilitySchema },
    task: {
      type: 'object',
      additionalProperties: false,
      properties: {
        maxConcurrency: positiveInteger,
        queueSize: positiveInteger,
        pollInterval: atMost(limits.pollInterval),
        discoveryInterval: atMost(limits.discoveryInterval),
        failFastAfterSeconds: positiveNumber,
        progressUpdatesPerCycle: positiveInteger,
      },
    },
    globus: {
      type: 'object',
      additionalProperties: false,
      properties: {
        authUrl: { type: 'string', pattern: '^https?://[^/]+' },
        transferUrl: { type: 'string', pattern: '^https?://[^/]+' },
        maxRequestsPerSecond: positiveNumber,
        maxActiveTasks: positiveInteger,
        verifyChecksum: { type: 'boolean' },
        syncLevel: { type: 'string', enum: syncLevels },
        deadlineHours: atMost(limits.deadlineHours),
        label: { type: 'string' },
        fairShare: { type: 'string', enum: fairShares },
        maxActiveTasksPerUser: positiveInteger,
        failOnQuotaErrors: { type: 'boolean' },
        skipSourceErrors: { type: 'boolean' },
        submitAttempts: { type: 'integer', minimum: 0, maximum: limits.submitAttempts },
      },
    },
    scicat: {
      type: 'object',
      additionalProperties: false,
      properties: {
        jobType: { type: 'string' },
        archiveJobType: { type: 'string' },
        identityCacheSeconds: positiveNumber,
      },
    },
    ha: { type: 'object', additionalProperties: false, properties: { lease: leaseSchema } },
    server: {
      type: 'object',
      additionalProperties: false,
      properties: {
        host: { type: 'string' },
        bodyLimitMb: atMost(limits.bodyLimitMb),
        trustProxy: {
          anyOf: [
            { type: 'boolean' },
            { type: 'string' },
            { type: 'integer' },
            { type: 'array', items: { type: 'string' } },
          ],
        },
        cors: {
          type: 'object',
          additionalProperties: false,
          properties: { origins: { type: 'array', items: { type: 'string' } } },
        },
        adminGroups: { type: 'array', items: { type: 'string', minLength: 1 } },
        errorStatuses: { type: 'string', enum: errorStatusModes },
      },
    },
  },
} as const

export type FileConfig = FromSchema<typeof configSchema>
export type FileLease = FromSchema<typeof leaseSchema>
export type FileFacility = FromSchema<typeof facilitySchema>
export type Direction = (typeof directions)[number]
export type SyncLevel = (typeof syncLevels)[number]
export type FairShare = (typeof fairShares)[number]
