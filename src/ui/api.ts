// The page's one way to call the service: same origin, token in the SciCat-API-Key header, errors made readable.

/** An answer other than 2xx, or no answer at all (status 0). */
export class ApiError extends Error {
  constructor (
    readonly status: number,
    message: string,
    readonly code: string,
    readonly details: string,
    readonly retryAfter: string
  ) {
    super(message)
  }

  /** One line for the page: what failed, why, and what the service's code says. */
  describe (what: string): string {
    if (this.status === 0) return `${what}: the service could not be reached (${this.message}). Check your connection and try again.`
    if (this.status === 401) return 'Your SciCat token is invalid or has expired. Sign in again with a new token.'
    const details = this.details ? ` — ${this.details}` : ''
    const retry = this.status === 503 && this.retryAfter ? ` Try again in ${this.retryAfter} s.` : ''
    return `${what}: ${this.message}${details} (HTTP ${this.status}${this.code ? `, ${this.code}` : ''}).${retry}`
  }
}

/** The API lives one level above /ui/, wherever the service is mounted. */
function apiUrl (path: string): string {
  return new URL(`..${path}`, window.location.href).toString()
}

export async function call<T> (
  token: string,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  headers: Record<string, string> = {}
): Promise<T> {
  let res: Response
  try {
    res = await fetch(apiUrl(path), {
      method,
      headers: { 'SciCat-API-Key': token, Accept: 'application/json', ...headers },
      credentials: 'omit',
      cache: 'no-store',
    })
  } catch (err) {
    throw new ApiError(0, err instanceof Error ? err.message : String(err), '', '', '')
  }
  const text = await res.text()
  let body: unknown
  try {
    body = text ? JSON.parse(text) : undefined
  } catch {
    body = undefined
  }
  if (!res.ok) {
    const b = (typeof body === 'object' && body !== null ? body : {}) as { message?: unknown; code?: unknown; details?: unknown }
    throw new ApiError(
      res.status,
      typeof b.message === 'string' ? b.message : `${res.status} ${res.statusText}`,
      typeof b.code === 'string' ? b.code : '',
      typeof b.details === 'string' ? b.details : '',
      res.headers.get('Retry-After') ?? ''
    )
  }
  return body as T
}
