// POST /api/v3/auth/login and GET /api/v3/users/my/identity.
import { HttpResponse } from 'msw'
import type { ScicatModel, StoredUser } from './model.js'
import { answer, isPlainObject, json, nestError, readBody } from './respond.js'

export interface RouteInfo {
  request: Request
  params: Record<string, string | readonly string[] | undefined>
}

export type Route = (info: RouteInfo) => Promise<Response>

/** passport-local: wrong or missing credentials are a bare 401. */
export function login (model: ScicatModel): Route {
  return ({ request }) =>
    answer(async () => {
      const { value } = await readBody(request)
      const body = isPlainObject(value) ? value : {}
      const { username, password } = body
      const user = typeof username === 'string' ? model.users.get(username) : undefined
      if (
        !user ||
      typeof password !== 'string' ||
      password === '' ||
      user.password === undefined ||
      user.password !== password
      ) {
        return json({ message: 'Unauthorized', statusCode: 401 }, 401)
      }
      const created = model.nowIso()
      const token = model.issueToken(user.username)
      const ttl = model.jwtExpiresInSeconds
      return json(
        {
          access_token: token,
          id: token,
          expires_in: ttl,
          ttl,
          created,
          userId: user._id,
          user: {
            _id: user._id,
            id: user._id,
            username: user.username,
            email: user.email,
            authStrategy: 'local',
            __v: 0,
          },
        },
        201
      )
    })
}

export function identityDocument (user: StoredUser, modified: string): Record<string, unknown> {
  return {
    _id: user.identityId,
    id: user.identityId,
    authStrategy: 'local',
    credentials: {},
    externalId: user.externalId,
    provider: 'local',
    userId: user._id,
    created: user.created,
    modified,
    __v: 0,
    profile: {
      ...(user.displayName !== undefined && { displayName: user.displayName }),
      email: user.email,
      username: user.username,
      id: user.externalId,
      emails: [{ value: user.email }],
      accessGroups: [...user.groups],
    },
  }
}

/** AuthenticatedPoliciesGuard: anonymous is 401 "Unauthenticated" here, not 403. */
export function identity (model: ScicatModel): Route {
  return async ({ request }) => {
    const caller = model.caller(request)
    if (!caller) return nestError(401, 'Unauthenticated')
    // a user without an identity document gets 200 with nothing in it
    if (caller.user.noIdentity) return new HttpResponse(null, { status: 200 })
    return json(identityDocument(caller.user as StoredUser, model.nowIso()))
  }
}
