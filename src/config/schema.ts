// JSON schema of the config file; the TypeScript type of a loaded file is derived from it.
import type { FromSchema } from 'json-schema-to-ts'

export const directions = ['SRC', 'DST', 'BOTH'] as const
export const syncLevels = ['none', 'exists', 'size', 'mtime', 'checksum'] as const

const positiveNumber = { type: 'number', minimum: 0 } as const
const positiveInteger = { type: 'integer', minimum: 0 } as const

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
        pollInterval: positiveNumber,
        discoveryInterval: positiveNumber,
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
        deadlineHours: positiveNumber,
        label: { type: 'string' },
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
    server: {
      type: 'object',
      additionalProperties: false,
      properties: {
        host: { type: 'string' },
        bodyLimitMb: positiveNumber,
        trustProxy: {
          anyOf: [
            { type: 'boolean' },
            { type: 'string' },
            { type: 'integer' },
            { type: 'array', items: { type: 'string' } },
          ],
        },
      },
    },
  },
} as const

export type FileConfig = FromSchema<typeof configSchema>
export type FileFacility = FromSchema<typeof facilitySchema>
export type Direction = (typeof directions)[number]
export type SyncLevel = (typeof syncLevels)[number]
