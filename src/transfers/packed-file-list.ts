// A fileList as a tracked transfer keeps it between acceptance and submission: packed, unpacked when used.
import { gunzipSync, gzipSync } from 'node:zlib'
import type { StoredFileList } from './file-list-store.js'
import type { FileToTransfer } from './transfer.js'

/** Lists whose JSON is at most this long stay JSON text (gzip would save little). */
const textBytes = 1024

/**
 * The entries of a fileList as JSON text, gzipped above 1 KiB. The gzip is kept as a one-byte
 * (latin1) string of exactly its length: a small Buffer from zlib is a view of a 16 KiB chunk,
 * which 10,000 queued transfers would keep 160 MB of. The list is needed twice in a
 * transfer's life (to submit it, and to say what was left out when it finished), while a queue
 * may hold 100,000 transfers of the Ingestor, each with its dataset's whole list: as objects a
 * million entries take hundreds of MB, packed a few MB.
 */
export class PackedFileList {
  private constructor (
    /** The JSON text, or (gzipped) its gzip as latin1. */
    private readonly data: string,
    private readonly gzipped: boolean,
    /** How many entries the list holds. */
    readonly entries: number
  ) {}

  /** `stored`: the same list as storeFileList() put it into the job, whose gzip is reused when it has one. */
  static of (files: readonly FileToTransfer[], stored?: StoredFileList): PackedFileList {
    if (stored && 'fileListGzip' in stored) return new PackedFileList(Buffer.from(stored.fileListGzip, 'base64').toString('latin1'), true, files.length)
    // the two keys only, in this order (as storeFileList), without copying the entries first
    const json = JSON.stringify(files, ['path', 'isSymlink'])
    if (json.length <= textBytes) return new PackedFileList(json, false, files.length)
    return new PackedFileList(gzipSync(json, { level: 1 }).toString('latin1'), true, files.length)
  }

  /** The entries, as new objects each time. */
  unpack (): FileToTransfer[] {
    return JSON.parse(this.gzipped ? gunzipSync(Buffer.from(this.data, 'latin1')).toString('utf8') : this.data) as FileToTransfer[]
  }

  /** Bytes the packed list takes (for tests and diagnostics). */
  get size (): number {
    return this.data.length
  }
}
