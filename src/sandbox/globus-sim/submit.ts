// `POST /v0.10/transfer`: validation, consent, idempotency by submission_id, task creation.
import { randomUUID } from 'node:crypto'
import { HttpResponse } from 'msw'
import { dataAccessScope, hasDataAccess, TRANSFER_SCOPE } from './auth.js'
import type { SimState } from './handlers.js'
import { requestId, resourceOf, transferError } from './respond.js'
import type { TaskRecord } from './task-record.js'
import type { IssuedToken, TransferSubmission } from './types.js'
import { checkEnvelope, checkFields } from './validate.js'

const DAY_MS = 24 * 60 * 60 * 1000

function transferResult (request: Request, code: 'Accepted' | 'Duplicate', sid: string, taskId: string) {
  return {
    DATA_TYPE: 'transfer_result',
    code,
    message:
      code === 'Accepted'
        ? 'The transfer has been accepted and a task has been created and queued for execution'
        : `A transfer with id '${sid}' was already submitted`,
    request_id: requestId(),
    resource: resourceOf(request),
    submission_id: sid,
    task_id: taskId,
    task_link: {
      DATA_TYPE: 'link',
      href: `task/${taskId}?format=json`,
      rel: 'related',
      resource: 'task',
      title: 'related task',
    },
  }
}

export async function submitTransfer (
  state: SimState,
  request: Request,
  token: IssuedToken
): Promise<Response> {
  let body: unknown
  try {
    body = JSON.parse(await request.text())
  } catch {
    return transferError(request, 400, 'ClientError.BadRequest', 'The request body is not valid JSON')
  }
  const envelope = checkEnvelope(body)
  if (envelope) {
    return transferError(request, envelope.status, envelope.code, envelope.message)
  }
  const submission = body as TransferSubmission
  const sid = submission.submission_id
  if (!state.submissionIds.has(sid)) {
    return transferError(
      request,
      400,
      'ClientError.BadRequest',
      `Invalid submission_id '${sid}': it was not issued by GET /submission_id`
    )
  }
  const existing = state.submissionIds.get(sid)
  if (existing) {
    return HttpResponse.json(transferResult(request, 'Duplicate', sid, existing))
  }

  const now = state.core.clock.now()
  const invalid = checkFields(submission, state.collections, now)
  if (invalid) {
    return transferError(request, invalid.status, invalid.code, invalid.message)
  }

  const missing = [...new Set([submission.source_endpoint, submission.destination_endpoint])].filter(
    (c) => state.collections[c]?.requireDataAccessConsent && !hasDataAccess(token.scope, c)
  )
  if (missing.length > 0) {
    const deps = missing.map((c) => `*${dataAccessScope(c)}`).join(' ')
    return transferError(
      request,
      403,
      'ConsentRequired',
      `Missing required data_access consent for ${missing.join(', ')}`,
      { required_scopes: [`${TRANSFER_SCOPE}[${deps}]`] }
    )
  }

  // What Globus answers past its ~100 pending tasks is not documented (reference §5);
  // this models it as one of the submission errors the SDK types know.
  if (Number.isFinite(state.maxPendingTasks) && state.model.unfinished(token.clientId) >= state.maxPendingTasks) {
    return transferError(
      request,
      409,
      'Conflict',
      `Too many pending tasks (limit ${state.maxPendingTasks}) for this identity`
    )
  }

  const record: TaskRecord = {
    id: randomUUID(),
    ownerId: token.clientId,
    submission: structuredClone(submission),
    requestTime: now,
    deadline: submission.deadline ? Date.parse(submission.deadline) : now + DAY_MS,
    syncLevel: submission.sync_level ?? null,
    recursiveSymlinks: submission.recursive_symlinks ?? 'ignore',
    status: 'ACTIVE',
    ends: [],
    done: 0,
    budget: 0,
    events: [],
  }
  state.submissionIds.set(sid, record.id)
  state.model.add(record)
  return HttpResponse.json(transferResult(request, 'Accepted', sid, record.id), { status: 202 })
}
