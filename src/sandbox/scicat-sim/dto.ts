// class-validator rules of the DTOs the service sends (whitelist + forbidNonWhitelisted).
import { isPlainObject } from './respond.js'

type Rule = 'string' | 'object' | 'email' | 'boolean' | 'date'

interface FieldRule {
  rule: Rule
  optional: boolean
}

const MESSAGES: Record<Rule, string> = {
  string: 'must be a string',
  object: 'must be an object',
  email: 'must be an email',
  boolean: 'must be a boolean value',
  date: 'must be a valid ISO 8601 date string',
}

// validator.js isEmail with its defaults, close enough: a TLD is required
const EMAIL =
  /^(?!\.)(?!.*\.\.)[^\s@"(),:;<>[\\\]]+(?<!\.)@(?:[a-z0-9\u00a1-\uffff](?:[a-z0-9\u00a1-\uffff-]{0,61}[a-z0-9\u00a1-\uffff])?\.)+[a-z\u00a1-\uffff]{2,}$/i

const ISO_DATE =
  /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i

export function isEmail (value: unknown): boolean {
  return typeof value === 'string' && value.length <= 254 && EMAIL.test(value)
}

function passes (rule: Rule, value: unknown): boolean {
  switch (rule) {
    case 'string':
      return typeof value === 'string'
    case 'object':
      return isPlainObject(value)
    case 'email':
      return isEmail(value)
    case 'boolean':
      return typeof value === 'boolean'
    case 'date':
      return typeof value === 'string' && ISO_DATE.test(value) && !Number.isNaN(Date.parse(value))
  }
}

/** The ValidationPipe's messages, in its order: unknown properties first, then each field. */
function validate (body: unknown, rules: Record<string, FieldRule>): string[] {
  if (!isPlainObject(body)) return ['an unknown value was passed to the validate function']
  const messages: string[] = []
  for (const key of Object.keys(body)) {
    if (!Object.hasOwn(rules, key)) messages.push(`property ${key} should not exist`)
  }
  for (const [key, { rule, optional }] of Object.entries(rules)) {
    const value = body[key]
    // @IsOptional lets both undefined and null through
    if (optional && (value === undefined || value === null)) continue
    if (!passes(rule, value)) messages.push(`${key} ${MESSAGES[rule]}`)
  }
  return messages
}

const required = (rule: Rule): FieldRule => ({ rule, optional: false })
const optional = (rule: Rule): FieldRule => ({ rule, optional: true })

const CREATE_JOB: Record<string, FieldRule> = {
  type: required('string'),
  jobParams: required('object'),
  ownerUser: optional('string'),
  ownerGroup: optional('string'),
  contactEmail: optional('email'),
}

const UPDATE_JOB: Record<string, FieldRule> = {
  statusCode: required('string'),
  statusMessage: required('string'),
  jobResultObject: optional('object'),
}

const LIFECYCLE: Record<string, FieldRule> = {
  archivable: optional('boolean'),
  retrievable: optional('boolean'),
  publishable: optional('boolean'),
  dateOfDiskPurging: optional('date'),
  archiveRetentionTime: optional('date'),
  dateOfPublishing: optional('date'),
  publishedOn: optional('date'),
  isOnCentralDisk: optional('boolean'),
  archiveStatusMessage: optional('string'),
  retrieveStatusMessage: optional('string'),
  archiveReturnMessage: optional('object'),
  retrieveReturnMessage: optional('object'),
  exportedTo: optional('string'),
  retrieveIntegrityCheck: optional('boolean'),
  storageLocation: optional('string'),
}

export interface CreateJobDto {
  type: string
  jobParams: Record<string, unknown>
  ownerUser?: string | null
  ownerGroup?: string | null
  contactEmail?: string | null
}

export interface UpdateJobDto {
  statusCode: string
  statusMessage: string
  jobResultObject?: Record<string, unknown> | null
}

export const validateCreateJob = (body: unknown): string[] => validate(body, CREATE_JOB)
export const validateUpdateJob = (body: unknown): string[] => validate(body, UPDATE_JOB)
export const validateLifecycle = (body: unknown): string[] => validate(body, LIFECYCLE)

/** The lifecycle of a new dataset (src/datasets/schemas/lifecycle.schema.ts defaults). */
export function defaultLifecycle (): Record<string, unknown> {
  return {
    archivable: true,
    retrievable: false,
    publishable: false,
    isOnCentralDisk: true,
    archiveStatusMessage: 'datasetCreated',
    retrieveStatusMessage: '',
    archiveReturnMessage: {},
    retrieveReturnMessage: {},
    retrieveIntegrityCheck: false,
  }
}

/** RFC 7386 JSON merge patch (json-merge-patch's `apply`). */
export function mergePatch (target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return patch
  const result: Record<string, unknown> = isPlainObject(target) ? { ...target } : {}
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key]
    else result[key] = mergePatch(result[key], value)
  }
  return result
}
