// Globus scope strings: split into base scope and dependent scopes, and merge several into one request.

export interface ParsedScope {
  base: string
  deps: string[]
}

/** Splits a scope string at whitespace that is not inside brackets. */
export function splitScopes (s: string): string[] {
  const out: string[] = []
  let depth = 0
  let cur = ''
  for (const c of s) {
    if (c === '[') depth++
    else if (c === ']') depth = Math.max(0, depth - 1)
    if (/\s/.test(c) && depth === 0) {
      if (cur) out.push(cur)
      cur = ''
    } else cur += c
  }
  if (cur) out.push(cur)
  return out
}

/** `base[dep1 dep2]` → base and its dependent scopes (as written, `*` markers kept). */
export function parseScope (scope: string): ParsedScope {
  const open = scope.indexOf('[')
  if (open === -1 || !scope.endsWith(']')) return { base: scope, deps: [] }
  return { base: scope.slice(0, open), deps: splitScopes(scope.slice(open + 1, -1)) }
}

/**
 * Merges scope strings so that each base scope appears once, carrying all of its dependent
 * scopes (deduplicated, in first-seen order): Globus grants one token per resource server.
 */
export function mergeScopes (scopes: Iterable<string>): string[] {
  const merged = new Map<string, string[]>()
  for (const entry of scopes) {
    for (const scope of splitScopes(entry)) {
      const { base, deps } = parseScope(scope)
      const list = merged.get(base) ?? []
      for (const d of deps) if (!list.includes(d)) list.push(d)
      merged.set(base, list)
    }
  }
  return [...merged].map(([base, deps]) => (deps.length ? `${base}[${deps.join(' ')}]` : base))
}
