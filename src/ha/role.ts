// What the app needs to know about this instance's role: active (tracks, submits, answers) or standby.
export type Role = 'active' | 'standby'

export interface RoleSource {
  readonly role: Role
  /** The instance holding the lease as last seen ("" when free or unknown). */
  readonly holder: string
  /** Whether this instance may submit and write now (active, and its lease not about to run out). */
  mayWrite(): boolean
  /** Seconds a client of a standby should wait before it tries again (Retry-After). */
  readonly retryAfterSeconds: number
}

/** Routes a standby answers itself: liveness, readiness, metrics, version, the API documents and the static web page. */
const openOnStandby = [/^\/health$/, /^\/ready$/, /^\/metrics$/, /^\/version$/, /^\/openapi\.(yaml|json)$/, /^\/docs(\/|$)/, /^\/ui(\/|$)/]

export function answersOnStandby (routeUrl: string | undefined): boolean {
  // no route: the 404 handler, which makes no upstream call either
  return routeUrl === undefined || openOnStandby.some((re) => re.test(routeUrl))
}

export function standbyMessage (source: RoleSource): string {
  return source.holder
    ? `this instance is standby; the active instance is ${source.holder}`
    : 'this instance is standby; no instance is active right now'
}
