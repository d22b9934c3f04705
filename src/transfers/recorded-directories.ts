// Which fileList entries are empty directories, by the dataset's original datablocks in SciCat (DESIGN §5 fileList).
import type { Logger } from 'pino'
import { UpstreamError } from '../http/upstream-error.js'
import type { OrigDatablock, ScicatClient } from '../scicat/client.js'
import { leafEntries } from './file-plan.js'
import type { FileToTransfer } from './transfer.js'

/** "./raw/" → "raw": the walk's paths, however a client wrote them. */
function normalized (path: string): string {
  return path.replace(/^(\.\/)+/, '').replace(/\/+$/, '')
}

/** Paths the datablocks record as directories (scicat-cli writes Go's FileMode.String: "drwxr-xr-x"). */
function directoriesIn (blocks: readonly OrigDatablock[]): Set<string> {
  const dirs = new Set<string>()
  for (const block of blocks) {
    for (const file of Array.isArray(block.dataFileList) ? block.dataFileList : []) {
      if (typeof file?.path === 'string' && typeof file.perm === 'string' && file.perm.startsWith('d')) dirs.add(normalized(file.path))
    }
  }
  return dirs
}

/**
 * The entries with nothing listed under them that the dataset's datablocks (read with the
 * user's token: the Ingestor registers every walked entry there with its mode) record as
 * directories. [] when there are none, and when the datablocks are missing or unreadable: then
 * only the prefix rule applies, and the log says why.
 */
export async function emptyDirectories (
  scicat: ScicatClient,
  pid: string,
  userToken: string,
  fileList: readonly FileToTransfer[],
  log: Logger
): Promise<string[]> {
  const candidates = leafEntries(fileList).filter((f) => !f.isSymlink)
  if (!candidates.length) return []
  let blocks: OrigDatablock[]
  try {
    blocks = await scicat.findOrigDatablocks(pid, userToken)
  } catch (err) {
    const why = err instanceof UpstreamError ? err.describe() : String(err instanceof Error ? err.message : err)
    log.warn({ scicatPid: pid, err: why }, 'the dataset\'s original datablocks could not be read; directory entries by the prefix rule only')
    return []
  }
  if (!blocks.length) {
    log.info({ scicatPid: pid }, 'the dataset has no original datablocks; directory entries by the prefix rule only')
    return []
  }
  const dirs = directoriesIn(blocks)
  return candidates.filter((f) => dirs.has(normalized(f.path))).map((f) => f.path)
}
