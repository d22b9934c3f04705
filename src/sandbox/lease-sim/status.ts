// The API server's error answers: a metav1.Status object, as k8s.io/apimachinery/pkg/api/errors/errors.go builds them.
import { HttpResponse } from 'msw'

const group = 'coordination.k8s.io'
const resource = `leases.${group}`

export interface StatusBody {
  kind: 'Status'
  apiVersion: 'v1'
  metadata: Record<string, never>
  status: 'Failure'
  message: string
  reason: string
  details?: { name?: string; group?: string; kind?: string; causes?: Array<{ reason: string; message: string; field: string }> }
  code: number
}

function status (code: number, reason: string, message: string, details?: StatusBody['details']): Response {
  const body: StatusBody = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code }
  return HttpResponse.json(body, { status: code })
}

/** errors.NewNotFound */
export const notFound = (name: string) => status(404, 'NotFound', `${resource} "${name}" not found`, { name, group, kind: 'leases' })

/** errors.NewAlreadyExists: a create of a lease that exists. */
export const alreadyExists = (name: string) =>
  status(409, 'AlreadyExists', `${resource} "${name}" already exists`, { name, group, kind: 'leases' })

/** errors.NewConflict with OptimisticLockErrorMsg: an update naming a resourceVersion that is not the stored one. */
export const conflict = (name: string) =>
  status(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${resource} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    { name, group, kind: 'leases' }
  )

/** errors.NewInvalid for one field (a Lease does not allow an update without resourceVersion). */
export const invalid = (name: string, field: string, detail: string) =>
  status(422, 'Invalid', `${resource} "${name}" is invalid: ${field}: ${detail}`, {
    name,
    group,
    kind: 'leases',
    causes: [{ reason: 'FieldValueInvalid', message: detail, field }],
  })

export const badRequest = (message: string) => status(400, 'BadRequest', message)

export const unauthorized = () => status(401, 'Unauthorized', 'Unauthorized')

/** The default body of an injected fault. */
export function defaultFaultBody (code: number): unknown {
  const reasons: Record<number, string> = { 429: 'TooManyRequests', 500: 'InternalError', 503: 'ServiceUnavailable', 504: 'Timeout' }
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `simulated ${code}`, reason: reasons[code] ?? 'Unknown', code }
}
