// Small helpers the tracker's parts share: a log-safe error summary and a bounded parallel loop.
import { UpstreamError } from '../http/upstream-error.js'

/** Runs `fn` over `items` with at most `limit` running at once. */
export async function eachLimited<T> (items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!)
  }
  await Promise.all(Array.from({ length: Math.min(items.length, limit) }, worker))
}

export function describe (err: unknown): string {
  return err instanceof UpstreamError ? err.describe() : err instanceof Error ? err.message : String(err)
}
