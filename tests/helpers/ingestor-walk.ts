// What the SciCat Ingestor sends for a dataset folder: scicat-cli's file walk (datasetIngestor/getLocalFileList.go,
// filepath.Walk from "./" with the Ingestor's "dA" symlink rule) as fileList and as the origdatablock it registers.
import { lstatSync, readdirSync, realpathSync } from 'node:fs'
import { join } from 'node:path'
import type { SimDataFile } from '../../src/sandbox/scicat-sim/index.js'

/** Go's FileMode.String() for what a walk meets: "drwxr-xr-x", "Lrwxrwxrwx", "-rw-r--r--". */
function goMode (kind: 'dir' | 'symlink' | 'file', mode: number): string {
  const type = kind === 'dir' ? 'd' : kind === 'symlink' ? 'L' : '-'
  const bits = 'rwxrwxrwx'
  return type + [...bits].map((c, i) => (mode & (1 << (8 - i)) ? c : '-')).join('')
}

export interface IngestorWalk {
  fileList: Array<{ path: string; isSymlink: boolean }>
  dataFileList: SimDataFile[]
}

/**
 * filepath.Walk visits names in lexical order, lists directories before their contents, does
 * not descend into symlinks (it uses Lstat), and with "dA" keeps a symlink only when it
 * points inside the dataset folder.
 */
export function ingestorWalk (folder: string): IngestorWalk {
  const root = realpathSync(folder)
  const out: IngestorWalk = { fileList: [], dataFileList: [] }
  const visit = (relative: string) => {
    for (const name of readdirSync(join(folder, relative)).sort()) {
      const path = relative ? `${relative}/${name}` : name
      const stat = lstatSync(join(folder, path))
      const kind = stat.isSymbolicLink() ? 'symlink' : stat.isDirectory() ? 'dir' : 'file'
      if (kind === 'symlink' && !realpathSync(join(folder, path)).startsWith(root)) continue
      out.fileList.push({ path, isSymlink: kind === 'symlink' })
      out.dataFileList.push({
        path,
        uid: 'alice',
        gid: 'p12345',
        perm: goMode(kind, stat.mode),
        size: stat.size,
        time: stat.mtime.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      })
      if (kind === 'dir') visit(path)
    }
  }
  visit('')
  return out
}
