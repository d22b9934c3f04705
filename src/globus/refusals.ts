// Which Globus refusals of a submission are definitive (the job fails at once) and which are retried later.
import { UpstreamError } from '../http/upstream-error.js'
import { isScopeRefusal } from './token.js'

/**
 * Submission errors Globus documents whose repetition cannot succeed: the codes of the task_submit
 * errors (@globus/sdk task-submission.ts types them from docs.globus.org/api/transfer/task_submit
 * §3.2.6; ClientError.BadRequest.NoTransferItems is recorded in
 * globus_sdk/testing/data/transfer/submit_transfer.py). ConsentRequired is here because the client
 * has already retried it once with the scopes Globus asked for.
 */
export const definitiveCodes = ['ClientError.BadRequest', 'BadRequest', 'EndpointNotFound', 'PermissionDenied', 'ConsentRequired'] as const

export type Refusal = 'definitive' | 'retryable'

/**
 * Anything not known to be definitive is retryable (kept queued, retried with backoff across
 * cycles, at most globus.submitAttempts times): load (ServiceUnavailable, Conflict, 429), 5xx,
 * network errors, and codes Globus does not document.
 */
export function submissionRefusal (err: unknown): Refusal {
  if (!(err instanceof UpstreamError)) return 'definitive'
  // Globus Auth refused the scopes of the transfer's facilities (invalid_scope, unknown scope)
  if (isScopeRefusal(err as unknown)) return 'definitive'
  // no Transfer token among those Auth issued for the facilities' scopes: a configuration error
  if (err.operation === 'token' && err.code === 'MalformedAnswer') return 'definitive'
  const code = err.code ?? ''
  if (definitiveCodes.some((c) => code === c || code.startsWith(`${c}.`))) return 'definitive'
  return 'retryable'
}
