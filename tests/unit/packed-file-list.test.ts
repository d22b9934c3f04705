// PackedFileList: what a tracked transfer keeps of its fileList until it is submitted.
import { describe, expect, it } from 'vitest'
import { storeFileList } from '../../src/transfers/file-list-store.js'
import { PackedFileList } from '../../src/transfers/packed-file-list.js'

const list = (n: number) => Array.from({ length: n }, (_, i) => ({ path: `raw/run-${Math.floor(i / 1000)}/image-${i}.tiff`, isSymlink: i % 97 === 0 }))

describe('PackedFileList', () => {
  it('gives back the same entries, small or large, with only path and isSymlink', () => {
    for (const n of [0, 3, 20_000]) {
      const files = list(n)
      const packed = PackedFileList.of(files.map((f) => ({ ...f, extra: 1 })))
      expect(packed.entries).toBe(n)
      expect(packed.unpack()).toEqual(files)
    }
  })

  it('keeps a large list in a small part of its JSON size', () => {
    const files = list(100_000)
    const packed = PackedFileList.of(files)
    expect(packed.size).toBeLessThan(JSON.stringify(files).length / 10)
  })

  it('reuses the gzip the job stores, which unpacks to the same entries', () => {
    const files = list(20_000)
    const stored = storeFileList(files)
    expect('fileListGzip' in stored).toBe(true)
    const packed = PackedFileList.of(files, stored)
    expect(packed.size).toBe(Buffer.from((stored as { fileListGzip: string }).fileListGzip, 'base64').length)
    expect(packed.unpack()).toEqual(files)
  })
})
