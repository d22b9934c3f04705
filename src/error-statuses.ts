// server.errorStatuses: the status an error is answered with on the wire, per route and mode (DESIGN §4).

export const errorStatusModes = ['go', 'http'] as const
export type ErrorStatusMode = (typeof errorStatusModes)[number]

/**
 * The error statuses the Go service's OpenAPI 1.2.0 declares per operation: the Ingestor's
 * generated client decodes {message, details} only for these, and shows any other status as
 * "unexpected status code", dropping the reason.
 */
const goDeclared = {
  PostTransferTask: [400, 401, 403, 500, 503],
  DeleteTransferTask: [400, 401, 403, 500],
} as const

type GoOperation = keyof typeof goDeclared

/**
 * The Go operation a request is, from its method and raw URL (so it works before routing too:
 * parser and router errors); undefined for every route the Go service did not have.
 */
export function goOperation (method: string | undefined, url: string | undefined): GoOperation | undefined {
  if (url === undefined) return undefined
  const path = url.split('?')[0] ?? ''
  if (method === 'POST' && path === '/transfer') return 'PostTransferTask'
  if (method === 'DELETE' && /^\/transfer\/[^/]+$/.test(path)) return 'DeleteTransferTask'
  return undefined
}

/** What both Go operations declare: the statuses a request of unknown route may answer under `go`. */
const goDeclaredByBoth: readonly number[] = goDeclared.DeleteTransferTask.filter((n) => (goDeclared.PostTransferTask as readonly number[]).includes(n))

/**
 * The status to answer: under `go`, POST and DELETE /transfer answer only what Go 1.2.0
 * declares (another 4xx becomes 400, another 5xx 500: 404/408/409/413/414/415/431 → 400,
 * 502 → 500, DELETE 503 → 500); under `http`, and on every other route, the precise status.
 * A request whose route cannot be known (`url` undefined: its headers never arrived, so Node
 * never parsed its request line) may be one of the Go operations, and under `go` is answered
 * as they are: the Go-compatible clients are what that mode is for.
 */
export function wireStatus (mode: ErrorStatusMode, method: string | undefined, url: string | undefined, status: number): number {
  if (mode === 'http' || status < 400) return status
  const operation = goOperation(method, url)
  const declared: readonly number[] | undefined = url === undefined ? goDeclaredByBoth : operation && goDeclared[operation]
  if (!declared || declared.includes(status)) return status
  return status >= 500 ? 500 : 400
}
