// How a fileList is stored in jobParams: as is when small, else gzip+base64 (SciCat's 16 MB job limit), and read back.
import { gunzipSync, gzipSync } from 'node:zlib'
import { ProxyError } from '../errors.js'
import type { FileToTransfer } from './transfer.js'

/**
 * The stored list must leave room in one SciCat job for everything else: SciCat's JSON body
 * limit (`MAX_FILE_UPLOAD_SIZE`, 16mb) and MongoDB's document limit are both 16 MiB; the rest of
 * the job (jobParams' other keys, jobResultObject, status fields) takes a few kB.
 */
export const maxStoredFileListBytes = 15 * 1024 * 1024

/** Lists whose JSON is at most this long are stored as they are (readable in any SciCat client). */
export const plainFileListBytes = 256 * 1024

/** jobParams keys of a compactly stored list. */
export interface CompactFileList {
  /** base64 of the gzip of the same JSON array `fileList` would hold. */
  fileListGzip: string
  /** Entries in the list, for a reader who does not decode it. */
  fileListEntries: number
}

export type StoredFileList = { fileList: FileToTransfer[] } | CompactFileList

/**
 * The jobParams keys that hold `files`: `fileList` when its JSON is short, else
 * `fileListGzip` + `fileListEntries`. Throws PROXY_FILELIST_TOO_LARGE (nothing created yet)
 * when even the compact form would not fit in a SciCat job.
 */
export function storeFileList (files: readonly FileToTransfer[]): StoredFileList {
  // the two keys only, without copying the entries first (a list can hold a million)
  const json = JSON.stringify(files, ['path', 'isSymlink'])
  if (json.length <= plainFileListBytes) return { fileList: files.map((f) => ({ path: f.path, isSymlink: f.isSymlink })) }
  const gzip = gzipSync(json, { level: 6 }).toString('base64')
  if (gzip.length > maxStoredFileListBytes) {
    throw new ProxyError('PROXY_FILELIST_TOO_LARGE', 'the fileList is too large to be stored in one SciCat job', {
      details:
        `${files.length} entries take ${mib(gzip.length)} MiB compressed (gzip+base64); the limit is ` +
        `${mib(maxStoredFileListBytes)} MiB (SciCat and MongoDB keep at most 16 MiB per job): transfer the dataset in parts, ` +
        'or without a fileList (the whole folder)',
    })
  }
  return { fileListGzip: gzip, fileListEntries: files.length }
}

/**
 * The list a job's jobParams hold, in either form; undefined when there is none, a problem when
 * it cannot be read (the job is then not tracked, as for any jobParams it cannot use).
 */
export function readFileList (jobParams: Record<string, unknown>): { files?: FileToTransfer[]; problem?: string } {
  let raw: unknown = jobParams.fileList
  if (typeof jobParams.fileListGzip === 'string') {
    try {
      raw = JSON.parse(gunzipSync(Buffer.from(jobParams.fileListGzip, 'base64')).toString('utf8'))
    } catch (err) {
      return { problem: `jobParams.fileListGzip cannot be read: ${err instanceof Error ? err.message : String(err)}` }
    }
    if (!Array.isArray(raw)) return { problem: 'jobParams.fileListGzip holds no list' }
  }
  if (!Array.isArray(raw)) return {}
  const files: FileToTransfer[] = []
  for (const f of raw as unknown[]) {
    if (typeof f !== 'object' || f === null || typeof (f as FileToTransfer).path !== 'string') continue
    files.push({ path: (f as FileToTransfer).path, isSymlink: (f as FileToTransfer).isSymlink === true })
  }
  return { files }
}

function mib (bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1)
}
