// The subset of Go text/template the config files use: fields, string literals, `replace`, pipes, trim markers.

export class TemplateError extends Error {
  override name = 'TemplateError'
}

export type TemplateVars = Readonly<Record<string, string>>

export interface Template {
  readonly source: string
  readonly variables: readonly string[]
  render(vars: TemplateVars): string
}

type Node =
  | { kind: 'text'; value: string }
  | { kind: 'field'; name: string }
  | { kind: 'string'; value: string }
  | { kind: 'call'; fn: string; args: Node[] }

type Token =
  | { kind: 'field'; name: string }
  | { kind: 'ident'; name: string }
  | { kind: 'string'; value: string }
  | { kind: 'punct'; value: '(' | ')' | '|' }

const functions: Record<string, { arity: number; apply: (args: string[]) => string }> = {
  replace: { arity: 3, apply: ([s, old, repl]) => (s ?? '').replaceAll(old ?? '', repl ?? '') },
}

const keywords = new Set([
  'if',
  'else',
  'end',
  'range',
  'with',
  'define',
  'template',
  'block',
  'break',
  'continue',
  'nil',
  'true',
  'false',
])
const isSpace = (c: string | undefined) => c === ' ' || c === '\t' || c === '\r' || c === '\n'

/** Parses `source` and checks every variable against `allowed`; throws TemplateError on the first problem. */
export function compileTemplate (source: string, allowed: readonly string[]): Template {
  const nodes = parse(source)
  const used = new Set<string>()
  const check = (n: Node): void => {
    if (n.kind === 'field') {
      if (!allowed.includes(n.name)) {
        throw new TemplateError(
          `unknown variable .${n.name} (known: ${allowed.map((v) => `.${v}`).join(', ')})`
        )
      }
      used.add(n.name)
    } else if (n.kind === 'call') n.args.forEach(check)
  }
  nodes.forEach(check)
  const render = (vars: TemplateVars): string => nodes.map((n) => evaluate(n, vars)).join('')
  return { source, variables: [...used], render }
}

function evaluate (node: Node, vars: TemplateVars): string {
  switch (node.kind) {
    case 'text':
    case 'string':
      return node.value
    case 'field':
      return vars[node.name] ?? ''
    case 'call':
      return functions[node.fn]!.apply(node.args.map((a) => evaluate(a, vars)))
  }
}

function parse (source: string): Node[] {
  const nodes: Node[] = []
  let pos = 0
  let trimNext = false
  while (pos < source.length) {
    const open = source.indexOf('{{', pos)
    let text = source.slice(pos, open === -1 ? undefined : open)
    if (trimNext) text = text.replace(/^[ \t\r\n]+/, '')
    trimNext = false
    if (open === -1) {
      if (text) nodes.push({ kind: 'text', value: text })
      break
    }
    let start = open + 2
    if (source[start] === '-' && isSpace(source[start + 1])) {
      text = text.replace(/[ \t\r\n]+$/, '')
      start += 2
    }
    if (text) nodes.push({ kind: 'text', value: text })
    const { tokens, end, trimRight } = lexAction(source, start)
    trimNext = trimRight
    pos = end
    if (tokens === null) continue // a comment
    const node = parsePipeline(tokens, source.slice(open, end))
    nodes.push(node)
  }
  return nodes
}

function lexAction (
  source: string,
  start: number
): { tokens: Token[] | null; end: number; trimRight: boolean } {
  const tokens: Token[] = []
  let i = start
  while (isSpace(source[i])) i++
  if (source.startsWith('/*', i)) {
    const close = source.indexOf('*/', i + 2)
    if (close === -1) throw new TemplateError('unclosed comment')
    let j = close + 2
    let trimRight = false
    if (source.startsWith(' -}}', j)) {
      trimRight = true
      j += 4
    } else if (source.startsWith('}}', j)) j += 2
    else throw new TemplateError('comment ends before closing delimiter')
    return { tokens: null, end: j, trimRight }
  }
  for (;;) {
    if (i >= source.length) throw new TemplateError(`unclosed action: "${source.slice(start - 2)}"`)
    const c = source[i]!
    if (isSpace(c)) {
      if (source.startsWith('-}}', i + 1)) return { tokens, end: i + 4, trimRight: true }
      i++
      continue
    }
    if (source.startsWith('}}', i)) return { tokens, end: i + 2, trimRight: false }
    if (c === '(' || c === ')' || c === '|') {
      tokens.push({ kind: 'punct', value: c })
      i++
    } else if (c === '"') {
      const { value, end } = lexQuoted(source, i)
      tokens.push({ kind: 'string', value })
      i = end
    } else if (c === '`') {
      const close = source.indexOf('`', i + 1)
      if (close === -1) throw new TemplateError('unterminated raw quoted string')
      tokens.push({ kind: 'string', value: source.slice(i + 1, close) })
      i = close + 1
    } else if (c === '.') {
      const m = /^\.([A-Za-z_][A-Za-z0-9_]*)?/.exec(source.slice(i))!
      if (!m[1]) throw new TemplateError('unsupported construct "." (use a field such as .Pid)')
      if (source[i + m[0].length] === '.') {
        throw new TemplateError(`unsupported construct: nested field after .${m[1]}`)
      }
      tokens.push({ kind: 'field', name: m[1] })
      i += m[0].length
    } else if (/[A-Za-z_]/.test(c)) {
      const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(source.slice(i))![0]
      tokens.push({ kind: 'ident', name })
      i += name.length
    } else {
      throw new TemplateError(`unsupported construct "${c}" in action`)
    }
  }
}

const simpleEscapes: Record<string, string> = {
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\\': '\\',
  '"': '"',
}

/** A Go interpreted string literal, with Go's escapes (strconv.Unquote). */
function lexQuoted (source: string, start: number): { value: string; end: number } {
  let value = ''
  let i = start + 1
  for (;;) {
    const c = source[i]
    if (c === undefined || c === '\n') throw new TemplateError('unterminated quoted string')
    if (c === '"') return { value, end: i + 1 }
    if (c !== '\\') {
      value += c
      i++
      continue
    }
    const e = source[i + 1] ?? ''
    if (e in simpleEscapes) {
      value += simpleEscapes[e]
      i += 2
      continue
    }
    const hex = { x: 2, u: 4, U: 8 }[e]
    let digits: string | undefined
    let code: number
    if (hex !== undefined) {
      digits = source.slice(i + 2, i + 2 + hex)
      code =
        /^[0-9a-fA-F]+$/.test(digits) && digits.length === hex
          ? Number.parseInt(digits, 16)
          : Number.NaN
      i += 2 + hex
    } else if (/[0-7]/.test(e)) {
      digits = source.slice(i + 1, i + 4)
      code = /^[0-7]{3}$/.test(digits) ? Number.parseInt(digits, 8) : Number.NaN
      if (code > 255) code = Number.NaN
      i += 4
    } else {
      throw new TemplateError(`unknown escape sequence \\${e} in string literal`)
    }
    if (Number.isNaN(code) || code > 0x10ffff || (code >= 0xd800 && code < 0xe000)) {
      throw new TemplateError(`invalid escape \\${e}${digits ?? ''} in string literal`)
    }
    value += String.fromCodePoint(code)
  }
}

function parsePipeline (tokens: Token[], action: string): Node {
  let pos = 0
  const pipeline = (): Node => {
    let node = command(undefined)
    while (tokens[pos]?.kind === 'punct' && (tokens[pos] as { value: string }).value === '|') {
      pos++
      node = command(node)
    }
    return node
  }
  const operand = (): Node | undefined => {
    const t = tokens[pos]
    if (!t) return undefined
    if (t.kind === 'field') {
      pos++
      return { kind: 'field', name: t.name }
    }
    if (t.kind === 'string') {
      pos++
      return { kind: 'string', value: t.value }
    }
    if (t.kind === 'punct' && t.value === '(') {
      pos++
      const inner = pipeline()
      if ((tokens[pos] as { value?: string } | undefined)?.value !== ')') {
        throw new TemplateError(`unclosed left paren in ${action}`)
      }
      pos++
      return inner
    }
    return undefined
  }
  const command = (piped: Node | undefined): Node => {
    const t = tokens[pos]
    if (t?.kind === 'ident') {
      if (keywords.has(t.name)) throw new TemplateError(`unsupported construct "${t.name}"`)
      const fn = functions[t.name]
      if (!fn) throw new TemplateError(`function "${t.name}" not defined`)
      pos++
      const args: Node[] = []
      for (let a = operand(); a; a = operand()) args.push(a)
      if (piped) args.push(piped)
      if (args.length !== fn.arity) {
        throw new TemplateError(
          `wrong number of args for ${t.name}: want ${fn.arity} got ${args.length}`
        )
      }
      return { kind: 'call', fn: t.name, args }
    }
    const value = operand()
    if (!value) throw new TemplateError(`missing value for command in ${action}`)
    if (piped) throw new TemplateError(`can't give argument to non-function in ${action}`)
    const extra = tokens[pos]
    if (extra && !(extra.kind === 'punct' && extra.value !== '(')) {
      throw new TemplateError(`can't give argument to non-function in ${action}`)
    }
    return value
  }
  const node = pipeline()
  if (pos < tokens.length) throw new TemplateError(`unexpected token in ${action}`)
  return node
}
