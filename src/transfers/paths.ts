// Path rules: Go's path.Dir/Base/Clean and url.PathEscape, template variables, confinement of every path.
import type { PathVars } from '../config/resolve.js'
import { ProxyError } from '../errors.js'

/** Go's path.Clean. */
export function goClean (p: string): string {
  if (p === '') return '.'
  const rooted = p.startsWith('/')
  const out: string[] = []
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue
    if (seg === '..') {
      if (out.length && out[out.length - 1] !== '..') out.pop()
      else if (!rooted) out.push('..')
    } else out.push(seg)
  }
  const joined = out.join('/')
  return rooted ? `/${joined}` : joined || '.'
}

/** Go's path.Dir: everything up to the last slash, cleaned ("." when there is none). */
export function goDir (p: string): string {
  return goClean(p.slice(0, p.lastIndexOf('/') + 1))
}

/** Go's path.Base: the last element, trailing slashes removed. */
export function goBase (p: string): string {
  if (p === '') return '.'
  const trimmed = p.replace(/\/+$/, '')
  if (trimmed === '') return '/'
  return trimmed.slice(trimmed.lastIndexOf('/') + 1)
}

/** Go's url.PathEscape: everything but unreserved characters and $&+:=@ is percent-encoded. */
export function goPathEscape (s: string): string {
  let out = ''
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte)
    out += /[A-Za-z0-9\-_.~$&+:=@]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return out
}

/**
 * The dataset's sourceFolder relative to the collection root given by the client ("." when
 * equal). Unlike the Go service, a folder outside the root is refused.
 */
export function relativeSourceFolder (sourceFolder: string, collectionRootPath: string): string {
  const root = goClean(collectionRootPath || '/')
  const folder = goClean(sourceFolder)
  if (!root.startsWith('/')) {
    throw new ProxyError('PROXY_PATH_INVALID', 'collectionRootPath must be an absolute path', {
      details: `collectionRootPath: ${collectionRootPath}`,
    })
  }
  if (folder === root) return '.'
  const prefix = root === '/' ? '/' : `${root}/`
  if (!folder.startsWith(prefix)) {
    throw new ProxyError('PROXY_PATH_INVALID', 'the dataset is not inside the collection root path', {
      details: `sourceFolder ${sourceFolder} is not inside collectionRootPath ${collectionRootPath}`,
    })
  }
  return folder.slice(prefix.length)
}

export function pathVars (input: {
  pid: string
  sourceFolder: string
  collectionRootPath: string
  username: string
}): PathVars {
  return {
    Pid: input.pid,
    PidPrefix: goDir(input.pid),
    PidShort: goBase(input.pid),
    PidEncoded: goPathEscape(input.pid),
    SourceFolder: input.sourceFolder,
    RelativeSourceFolder: relativeSourceFolder(input.sourceFolder, input.collectionRootPath),
    DatasetFolder: goBase(input.sourceFolder),
    Username: input.username,
  }
}

/** Longest fileList path accepted (Linux PATH_MAX). */
export const maxPathLength = 4096

/** Problems of one fileList path, or [] when it is relative, normalized and confined. */
export function fileListProblems (path: string): string[] {
  const problems: string[] = []
  if (path.includes('\0')) problems.push('contains a NUL character')
  // eslint-disable-next-line no-control-regex -- control characters are what is looked for
  else if (/[\u0001-\u001f\u007f]/.test(path)) problems.push('contains a control character')
  if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(path)) problems.push('is not valid Unicode')
  if (path.length > maxPathLength) problems.push(`is longer than ${maxPathLength} characters`)
  // Globus paths use '/': a backslash would be part of a name, never a separator
  if (path.includes('\\')) problems.push("contains '\\' (use '/' between folders)")
  if (path.startsWith('/')) problems.push('must be relative')
  const segments = path.split('/')
  if (segments.includes('..')) problems.push("must not contain '..'")
  if (segments.includes('.')) problems.push("must not contain '.' segments")
  if (segments.slice(path.startsWith('/') ? 1 : 0).includes('')) problems.push('must not contain empty segments')
  return problems
}

/** How many bad fileList entries an error names (the count says how many there are). */
const namedEntries = 20

export function checkFileList (files: ReadonlyArray<{ path: string }>): void {
  const bad: string[] = []
  let count = 0
  files.forEach((f, i) => {
    const problems = fileListProblems(f.path)
    if (!problems.length) return
    count++
    if (bad.length < namedEntries) bad.push(`fileList[${i}] ${JSON.stringify(f.path.slice(0, 200))}: ${problems.join(', ')}`)
  })
  if (count) {
    const more = count > bad.length ? `; and ${count - bad.length} more` : ''
    throw new ProxyError('PROXY_PATH_INVALID', `invalid fileList entr${count === 1 ? 'y' : 'ies'} (${count})`, {
      details: bad.join('; ') + more,
    })
  }
}

/**
 * A rendered collection path: duplicate slashes collapsed and "." segments removed; it must
 * then be absolute and free of "..".
 */
export function confineRendered (rendered: string, what: string): string {
  const segments = rendered.split('/').filter((s) => s !== '' && s !== '.')
  if (!rendered.startsWith('/') || segments.includes('..') || rendered.includes('\0')) {
    throw new ProxyError('PROXY_PATH_INVALID', `the ${what} path is not an absolute path inside the collection`, {
      details: `${what} path renders to ${JSON.stringify(rendered)}`,
    })
  }
  return `/${segments.join('/')}`
}

/** `base` + "/" + a relative fileList path. */
export function joinPath (base: string, relative: string): string {
  return base === '/' ? `/${relative}` : `${base}/${relative}`
}
