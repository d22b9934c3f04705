// Definitive and retryable submission refusals (README "When Globus refuses a submission").
import { describe, expect, it } from 'vitest'
import { submissionRefusal } from '../../src/globus/refusals.js'
import { UpstreamError } from '../../src/http/upstream-error.js'

const refusal = (status: number | undefined, code?: string, operation = 'transfer') =>
  submissionRefusal(new UpstreamError({ service: 'globus', operation, status, code, message: 'x' }))

describe('submissionRefusal', () => {
  it('is definitive for the documented codes that repeating cannot fix', () => {
    expect(refusal(400, 'ClientError.BadRequest')).toBe('definitive')
    expect(refusal(400, 'ClientError.BadRequest.NoTransferItems')).toBe('definitive')
    expect(refusal(400, 'BadRequest')).toBe('definitive')
    expect(refusal(404, 'EndpointNotFound')).toBe('definitive')
    expect(refusal(403, 'PermissionDenied')).toBe('definitive')
    expect(refusal(403, 'ConsentRequired')).toBe('definitive')
  })

  it('is definitive when Globus Auth refuses the facilities\' scopes or issues no Transfer token', () => {
    expect(refusal(400, 'UNKNOWN_SCOPE_ERROR', 'token')).toBe('definitive')
    expect(refusal(502, 'MalformedAnswer', 'token')).toBe('definitive')
  })

  it('is retryable for load, 5xx, network errors, bad client credentials and codes Globus does not document', () => {
    expect(refusal(503, 'ServiceUnavailable')).toBe('retryable')
    expect(refusal(409, 'Conflict')).toBe('retryable')
    expect(refusal(429, 'RequestLimitExceeded')).toBe('retryable')
    expect(refusal(502, 'ExternalError.DirListingFailed.GCDisconnected')).toBe('retryable')
    expect(refusal(undefined)).toBe('retryable')
    expect(refusal(401, 'invalid_client', 'token')).toBe('retryable')
    expect(refusal(401, 'ClientError.AuthenticationFailed')).toBe('retryable')
    expect(refusal(400, 'ClientError.SomethingNew')).toBe('retryable')
    expect(refusal(418, 'Teapot')).toBe('retryable')
    // a prefix match is on whole segments only
    expect(refusal(400, 'BadRequestish')).toBe('retryable')
  })
})
