// fileList → Globus items (DESIGN §5 fileList): directory entries, empty directories, symlinks per globus.symlinks.
import { ProxyError } from '../errors.js'
import type { FileToTransfer } from './transfer.js'

export const symlinkModes = ['skip', 'follow', 'item'] as const
export type SymlinkMode = (typeof symlinkModes)[number]

/** One item relative to the two rendered folders. */
export interface PlannedItem {
  path: string
  recursive?: true
  symlink?: true
}

export interface FilePlan {
  items: PlannedItem[]
  /** Entries that are a directory with listed entries under it: those entries are sent instead. */
  directories: number
  /** Symlinks left out (globus.symlinks: skip). */
  skippedSymlinks: number
  /** Directories recorded in the dataset's datablocks with nothing listed under them: sent recursively. */
  emptyDirectories: number
}

/** Every proper ancestor of every entry ("a" and "a/b" for "a/b/c"): the entries that are directories. */
function ancestorsOf (fileList: readonly FileToTransfer[]): Set<string> {
  const ancestors = new Set<string>()
  for (const { path } of fileList) {
    for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1)) ancestors.add(path.slice(0, i))
  }
  return ancestors
}

/**
 * The entries of `fileList` that are not a directory by the prefix rule: the only ones that can
 * be an empty directory (when the dataset's datablocks record them as one).
 */
export function leafEntries (fileList: readonly FileToTransfer[]): FileToTransfer[] {
  const ancestors = ancestorsOf(fileList)
  return fileList.filter((f) => !ancestors.has(f.path))
}

/**
 * The items to send: an entry that is a proper path prefix of another is a directory whose
 * listed contents are sent, so it is left out (a non-recursive item naming a directory fails
 * at Globus); an entry in `emptyDirectories` is sent recursively (Globus creates the folder);
 * symlinks are left out (`skip`), sent as ordinary items (`follow`: the collection copies what
 * the link points at) or as `transfer_symlink_item` (`item`).
 */
export function planFileList (
  fileList: readonly FileToTransfer[],
  symlinks: SymlinkMode,
  emptyDirectories: readonly string[] = []
): FilePlan {
  const ancestors = ancestorsOf(fileList)
  const empty = new Set(emptyDirectories)
  const plan: FilePlan = { items: [], directories: 0, skippedSymlinks: 0, emptyDirectories: 0 }
  for (const f of fileList) {
    if (ancestors.has(f.path)) plan.directories++
    else if (f.isSymlink) {
      if (symlinks === 'skip') plan.skippedSymlinks++
      else plan.items.push(symlinks === 'item' ? { path: f.path, symlink: true } : { path: f.path })
    } else if (empty.has(f.path)) {
      plan.emptyDirectories++
      plan.items.push({ path: f.path, recursive: true })
    } else plan.items.push({ path: f.path })
  }
  return plan
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`

/** What the final statusMessage says about entries not sent as items; "" when none were left out. */
export function leftOutNote (plan: FilePlan): string {
  const parts: string[] = []
  if (plan.skippedSymlinks) parts.push(`${plural(plan.skippedSymlinks, 'symlink', 'symlinks')} not copied`)
  if (plan.directories) {
    parts.push(`${plural(plan.directories, 'directory entry', 'directory entries')} sent as the files listed in them`)
  }
  return parts.map((p) => `; ${p}`).join('')
}

/** A fileList that leaves nothing to send is refused before anything is created. */
export function checkPlan (plan: FilePlan, symlinks: SymlinkMode): void {
  if (plan.items.length > 0) return
  throw new ProxyError('PROXY_PATH_INVALID', 'nothing to transfer: every fileList entry is left out', {
    details: `${plural(plan.skippedSymlinks, 'symlink', 'symlinks')} (globus.symlinks: ${symlinks}), ${plural(plan.directories, 'directory entry', 'directory entries')}`,
  })
}
