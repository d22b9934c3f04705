// msw handlers of the simulated Globus Auth token endpoint and Transfer API (one origin).
import { randomUUID } from 'node:crypto'
import { HttpResponse, http, type RequestHandler } from 'msw'
import type { SimCore } from '../sim-core.js'
import { authError, parseBasic, parseScopes, scopesByResourceServer, type TokenStore, TRANSFER_SCOPE } from './auth.js'
import type { TransferModel } from './model.js'
import { badRequest, requestId, resourceOf, transferError } from './respond.js'
import { submitTransfer } from './submit.js'
import { eventDocument, taskDocument, taskFields } from './task-document.js'
import { filteredTaskIds, orderTasks, parsePaging, parseTaskFilter, projection, renderedFields } from './task-list.js'
import type { TaskRecord } from './task-record.js'
import type { CollectionOptions, IssuedToken, TaskDocument } from './types.js'

export interface SimState {
  core: SimCore
  tokens: TokenStore
  model: TransferModel
  collections: Record<string, CollectionOptions>
  clients: Record<string, string>
  /** Every issued submission id → the task it created (null while unused). */
  submissionIds: Map<string, string | null>
  maxPendingTasks: number
  maxFilterIds: number
}

interface Info {
  request: Request
  params: Record<string, string | readonly string[] | undefined>
}

type Authed = (info: Info, token: IssuedToken) => Response | Promise<Response>

function authed (state: SimState, resolver: Authed) {
  return (info: Info) => {
    const header = info.request.headers.get('authorization')
    const token = state.tokens.validate(header)
    if (!token) {
      return transferError(
        info.request,
        401,
        'ClientError.AuthenticationFailed',
        header ? 'Token is not active' : 'No Authorization header provided'
      )
    }
    return resolver(info, token)
  }
}

/** The task named by the path, if the caller's identity owns it (Globus shows no other). */
function ownTask (state: SimState, info: Info, token: IssuedToken): TaskRecord | Response {
  const id = String(info.params.taskId)
  state.model.update()
  const record = state.model.get(id)
  if (record && record.ownerId === token.clientId) return record
  return transferError(info.request, 404, 'ClientError.NotFound', `Task ${id} not found`)
}

function tokenEndpoint (state: SimState) {
  return async ({ request }: Info) => {
    const creds = parseBasic(request.headers.get('authorization')).find(
      ([id, secret]) => Object.hasOwn(state.clients, id) && state.clients[id] === secret
    )
    if (!creds) return HttpResponse.json({ error: 'invalid_client' }, { status: 401 })
    const form = new URLSearchParams(await request.text())
    if (form.get('grant_type') !== 'client_credentials') {
      return HttpResponse.json({ error: 'unsupported_grant_type' }, { status: 400 })
    }
    const scope = form.get('scope')?.trim() || TRANSFER_SCOPE
    const unknown = [...parseScopes(scope).values()]
      .flat()
      .filter((dep) => {
        const collection = /^https:\/\/auth\.globus\.org\/scopes\/([^/]+)\/data_access$/.exec(dep)?.[1]
        return collection !== undefined && state.collections[collection]?.hasDataAccessScope === false
      })
    if (unknown.length) return authError(creds[0], unknown)
    // One token per resource server, as oauth2_client_credentials_tokens.py records it:
    // access_token, scope, expires_in, token_type, resource_server, other_tokens.
    const tokens = [...scopesByResourceServer(scope)].map(([server, scopes]) => {
      const issued = state.tokens.issue(creds[0], scopes.join(' '))
      return {
        access_token: issued.token,
        scope: scopes.join(' '),
        expires_in: issued.expiresIn,
        token_type: 'Bearer',
        resource_server: server,
      }
    })
    return HttpResponse.json({ ...tokens[0], other_tokens: tokens.slice(1) })
  }
}

function taskList (state: SimState): Authed {
  return ({ request }, token) => {
    const url = new URL(request.url)
    const paging = parsePaging(url)
    if (typeof paging === 'string') return badRequest(request, paging)
    const filter = parseTaskFilter(url.searchParams.get('filter'), state.maxFilterIds)
    if (typeof filter === 'string') return badRequest(request, filter)
    const ids = filteredTaskIds(url.searchParams.get('filter'))
    const now = state.core.clock.now()
    const rendered = renderedFields(url.searchParams.get('fields'), url.searchParams.get('orderby'))
    state.model.update()
    const docs = (ids ? state.model.named(ids) : state.model.records)
      .filter((t) => t.ownerId === token.clientId)
      // with the fields the answer asks for, filter and order need: the rest is never shown
      .map((t) => taskFields(t, state.collections, now, rendered) as TaskDocument)
      .filter(filter)
    const ordered = orderTasks(docs, url.searchParams.get('orderby'))
    if (typeof ordered === 'string') return badRequest(request, ordered)
    const page = ordered.slice(paging.offset, paging.offset + paging.limit)
    return HttpResponse.json({
      DATA_TYPE: 'task_list',
      length: page.length,
      limit: paging.limit,
      offset: paging.offset,
      total: ordered.length,
      DATA: page.map(projection(url.searchParams.get('fields'))),
    })
  }
}

function eventList (state: SimState): Authed {
  return (info, token) => {
    const record = ownTask(state, info, token)
    if (record instanceof Response) return record
    const paging = parsePaging(new URL(info.request.url))
    if (typeof paging === 'string') return badRequest(info.request, paging)
    // `filter=is_error:1` (errors only) or `is_error:0`, as globus-cli's `task event-list
    // --filter-errors / --filter-non-errors` sends it (globus_cli/commands/task/event_list.py)
    const filter = new URL(info.request.url).searchParams.get('filter')
    const wanted = filter ? /^is_error:([01])$/.exec(filter)?.[1] : undefined
    if (filter && wanted === undefined) return badRequest(info.request, `Invalid filter '${filter}'`)
    const events = [...record.events]
      .reverse()
      .filter((e) => wanted === undefined || e.isError === (wanted === '1'))
    const page = events.slice(paging.offset, paging.offset + paging.limit)
    return HttpResponse.json({
      DATA_TYPE: 'event_list',
      length: page.length,
      limit: paging.limit,
      offset: paging.offset,
      total: events.length,
      DATA: page.map(eventDocument),
    })
  }
}

function cancel (state: SimState): Authed {
  return (info, token) => {
    const record = ownTask(state, info, token)
    if (record instanceof Response) return record
    const outcome = state.model.cancel(record.id)
    // 200 `Canceled` as the SDK records it (globus_sdk/testing/data/transfer/cancel_task.py). For a
    // task that had already ended Globus answers 200 `TaskComplete` with this message: a real
    // response recorded in a public script using the SDK's cancel_task, which raised no error
    // (find_string "TaskComplete"; the same script lists `CancelAccepted` for a cancel still in
    // progress). docs.globus.org/api/transfer/task §6.4 "Cancel task by id" is the operation's page.
    return HttpResponse.json({
      DATA_TYPE: 'result',
      code: outcome === 'canceled' ? 'Canceled' : 'TaskComplete',
      message:
        outcome === 'canceled'
          ? 'The task has been cancelled successfully.'
          : 'The task completed before the cancel request was processed.',
      resource: resourceOf(info.request),
      request_id: requestId(),
    })
  }
}

/** Handlers with paths relative to the served origin (or under `origin` when given). */
export function globusHandlers (state: SimState, origin = ''): RequestHandler[] {
  const { core } = state
  const at = (p: string) => `${origin.replace(/\/+$/, '')}${p}`
  const guard = (op: string, resolver: Authed) => core.op(op, authed(state, resolver))
  return [
    http.post(at('/v2/oauth2/token'), core.op('token', tokenEndpoint(state))),
    http.get(
      at('/v0.10/submission_id'),
      guard('submission_id', () => {
        const value = randomUUID()
        state.submissionIds.set(value, null)
        return HttpResponse.json({ DATA_TYPE: 'submission_id', value })
      })
    ),
    http.post(
      at('/v0.10/transfer'),
      guard('transfer', ({ request }, token) => submitTransfer(state, request, token))
    ),
    http.get(at('/v0.10/task_list'), guard('task_list', taskList(state))),
    http.get(
      at('/v0.10/task/:taskId'),
      guard('task', (info, token) => {
        const record = ownTask(state, info, token)
        if (record instanceof Response) return record
        const doc = taskDocument(record, state.collections, core.clock.now())
        return HttpResponse.json(projection<typeof doc>(new URL(info.request.url).searchParams.get('fields'))(doc))
      })
    ),
    http.post(at('/v0.10/task/:taskId/cancel'), guard('cancel', cancel(state))),
    http.get(at('/v0.10/task/:taskId/event_list'), guard('event_list', eventList(state))),
    http.all(at('/v0.10/*'), ({ request }) =>
      transferError(request, 404, 'ClientError.NotFound', `No such resource: ${resourceOf(request)}`)
    ),
  ]
}
