// The Ingestor's real requests (DESIGN §5 fileList): directory entries, an empty folder, symlinks, its datablocks.
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { cyclesUntil, ingestorQuery, type Setup, startAll } from '../helpers/proxy.js'
import { ingestorWalk } from '../helpers/ingestor-walk.js'
import { jobOf, resultOf } from '../helpers/transfers.js'

let setup: Setup | undefined
afterEach(async () => {
  await setup?.close()
  setup = undefined
})

const pid = '20.500.12345/ingested-1'

/** A dataset with nested folders, an empty folder and a symlink inside it, as the Ingestor found it. */
function addIngestedDataset (s: Setup, { register = true } = {}) {
  const dataset = s.world.addDataset(pid, {
    'raw/image-001.tiff': 'a'.repeat(1000),
    'raw/run-2/image-002.tiff': 'b'.repeat(2000),
    'processed/result.h5': 'c'.repeat(500),
    'README.txt': 'about\n',
  })
  const folder = join(s.world.dir, 'facility-psi', dataset.sourceFolder)
  mkdirSync(join(folder, 'calibration'))
  symlinkSync('README.txt', join(folder, 'LATEST'))
  const walk = ingestorWalk(folder)
  if (register) s.world.scicat.addOrigDatablock({ datasetId: pid, dataFileList: walk.dataFileList })
  return { folder, walk, destination: join(s.world.dir, 'facility-cscs', 'archive', 'ingested-1') }
}

/** Everything under `root`: "path/" for a folder, "path -> target" for a symlink, "path" for a file. */
function tree (root: string, relative = ''): string[] {
  return readdirSync(join(root, relative))
    .sort()
    .flatMap((name) => {
      const path = relative ? `${relative}/${name}` : name
      const stat = lstatSync(join(root, path))
      if (stat.isSymbolicLink()) return [`${path} -> ${readlinkSync(join(root, path))}`]
      return stat.isDirectory() ? [`${path}/`, ...tree(root, path)] : [path]
    })
}

/** POST /transfer exactly as the Ingestor's generated client sends it. */
const postFileList = (s: Setup, fileList: unknown) =>
  s.proxy.app.inject({
    method: 'POST',
    url: `/transfer?${ingestorQuery(pid)}`,
    headers: { 'SciCat-API-Key': s.world.tokens.alice, 'Content-Type': 'application/json' },
    payload: JSON.stringify({ fileList }),
  })

async function postAsIngestor (s: Setup, fileList: unknown): Promise<string> {
  const res = await postFileList(s, fileList)
  expect(res.statusCode, res.body).toBe(200)
  return (res.json() as { jobId: string }).jobId
}

async function untilEnded (s: Setup, jobId: string): Promise<void> {
  await cyclesUntil(s, () => ['finished', 'failed'].includes(resultOf(s.world, jobId).status), { stepMs: 500 })
}

/** The items sent to Globus for the job's task. */
function itemsOf (s: Setup, jobId: string) {
  return s.world.globus.submission(resultOf(s.world, jobId).globusTaskId)!.DATA.map((i) => ({
    type: i.DATA_TYPE,
    path: i.source_path.replace('/data/p12345/ingested-1/', ''),
    recursive: i.recursive ?? false,
  }))
}

describe('an Ingestor-shaped request', () => {
  it('walks as scicat-cli does: directories listed before their contents, the symlink kept, modes from Go', async () => {
    setup = await startAll()
    const { walk } = addIngestedDataset(setup)
    expect(walk.fileList).toEqual([
      { path: 'LATEST', isSymlink: true },
      { path: 'README.txt', isSymlink: false },
      { path: 'calibration', isSymlink: false },
      { path: 'processed', isSymlink: false },
      { path: 'processed/result.h5', isSymlink: false },
      { path: 'raw', isSymlink: false },
      { path: 'raw/image-001.tiff', isSymlink: false },
      { path: 'raw/run-2', isSymlink: false },
      { path: 'raw/run-2/image-002.tiff', isSymlink: false },
    ])
    expect(walk.dataFileList.map((f) => f.perm![0])).toEqual(['L', '-', 'd', 'd', '-', 'd', '-', 'd', '-'])
  })

  it('copies exactly the dataset\'s files and the empty folder: directory entries left out, the symlink skipped', async () => {
    setup = await startAll()
    const s = setup
    const { walk, destination } = addIngestedDataset(s)
    const reads = s.world.scicat.core.count('findOrigDatablocks')
    const jobId = await postAsIngestor(s, walk.fileList)
    // one read of the datablocks for the request, with the user's token
    expect(s.world.scicat.core.count('findOrigDatablocks') - reads).toBe(1)
    expect(jobOf(s.world, jobId).jobParams).toMatchObject({ symlinks: 'skip', emptyDirectories: ['calibration'] })
    expect(itemsOf(s, jobId)).toEqual([
      { type: 'transfer_item', path: 'README.txt', recursive: false },
      { type: 'transfer_item', path: 'calibration', recursive: true },
      { type: 'transfer_item', path: 'processed/result.h5', recursive: false },
      { type: 'transfer_item', path: 'raw/image-001.tiff', recursive: false },
      { type: 'transfer_item', path: 'raw/run-2/image-002.tiff', recursive: false },
    ])
    await untilEnded(s, jobId)
    const result = resultOf(s.world, jobId)
    expect(result).toMatchObject({ status: 'finished', error: '', filesTotal: 4, filesTransferred: 4 })
    expect(tree(destination)).toEqual([
      'README.txt',
      'calibration/',
      'processed/',
      'processed/result.h5',
      'raw/',
      'raw/image-001.tiff',
      'raw/run-2/',
      'raw/run-2/image-002.tiff',
    ])
    expect(readFileSync(join(destination, 'raw/run-2/image-002.tiff'), 'utf8')).toBe('b'.repeat(2000))
    expect(jobOf(s.world, jobId).statusMessage).toMatch(
      /^finished: 4 files, 3\.5 kB; 1 symlink not copied; 3 directory entries sent as the files listed in them; archive job /
    )
  })

  it('without datablocks: the prefix rule alone, said in the log; a dataset without empty folders still copies', async () => {
    setup = await startAll()
    const s = setup
    const { walk, destination } = addIngestedDataset(s, { register: false })
    const fileList = walk.fileList.filter((f) => f.path !== 'calibration')
    const jobId = await postAsIngestor(s, fileList)
    expect(s.proxy.logs.join('')).toContain('the dataset has no original datablocks; directory entries by the prefix rule only')
    expect(jobOf(s.world, jobId).jobParams.emptyDirectories).toBeUndefined()
    await untilEnded(s, jobId)
    expect(resultOf(s.world, jobId)).toMatchObject({ status: 'finished', filesTotal: 4 })
    expect(existsSync(join(destination, 'calibration'))).toBe(false)
    expect(existsSync(join(destination, 'raw/run-2/image-002.tiff'))).toBe(true)
  })

  it('when SciCat fails the datablock read: accepted by the prefix rule, with a warning naming the failure', async () => {
    setup = await startAll()
    const s = setup
    const { walk } = addIngestedDataset(s)
    s.world.scicat.core.inject('findOrigDatablocks', { status: 500, times: 10 })
    const jobId = await postAsIngestor(s, walk.fileList.filter((f) => f.path !== 'calibration'))
    expect(s.proxy.logs.join('')).toMatch(
      /"err":"scicat findOrigDatablocks: 500[^"]*","msg":"the dataset's original datablocks could not be read; directory entries by the prefix rule only"/
    )
    expect(itemsOf(s, jobId).map((i) => i.path)).toEqual(['README.txt', 'processed/result.h5', 'raw/image-001.tiff', 'raw/run-2/image-002.tiff'])
  })
})

describe('globus.symlinks', () => {
  it('follow: the symlink is an ordinary item and the collection copies what it points at', async () => {
    setup = await startAll({}, 'globus:\n  symlinks: follow\n')
    const s = setup
    const { walk, destination } = addIngestedDataset(s)
    const jobId = await postAsIngestor(s, walk.fileList)
    expect(itemsOf(s, jobId)).toContainEqual({ type: 'transfer_item', path: 'LATEST', recursive: false })
    await untilEnded(s, jobId)
    expect(resultOf(s.world, jobId)).toMatchObject({ status: 'finished', filesTotal: 5 })
    expect(lstatSync(join(destination, 'LATEST')).isFile()).toBe(true)
    expect(readFileSync(join(destination, 'LATEST'), 'utf8')).toBe('about\n')
    expect(jobOf(s.world, jobId).statusMessage).not.toContain('symlink')
  })

  it('item: transfer_symlink_item, which the sandbox\'s GCSv5-like collections refuse: the job fails with Globus\'s reason', async () => {
    setup = await startAll({}, 'globus:\n  symlinks: item\n')
    const s = setup
    const { walk } = addIngestedDataset(s)
    const res = await postFileList(s, walk.fileList)
    // the Go status under the default server.errorStatuses; the code says what happened
    expect(res.statusCode).toBe(500)
    const body = res.json() as { code: string; details: string; jobId: string }
    expect(body.code).toBe('PROXY_TRANSFER_REJECTED')
    expect(body.details).toContain('transfer_symlink_item is not supported')
    expect(resultOf(s.world, body.jobId)).toMatchObject({ status: 'failed', error: expect.stringContaining('ClientError.BadRequest') })
  })

  it('item: a collection that supports symlink items gets the link itself', async () => {
    setup = await startAll({ symlinkItems: true }, 'globus:\n  symlinks: item\n')
    const s = setup
    const { walk, destination } = addIngestedDataset(s)
    const jobId = await postAsIngestor(s, walk.fileList)
    expect(itemsOf(s, jobId)).toContainEqual({ type: 'transfer_symlink_item', path: 'LATEST', recursive: false })
    await untilEnded(s, jobId)
    expect(resultOf(s.world, jobId)).toMatchObject({ status: 'finished', filesTotal: 4 })
    expect(readlinkSync(join(destination, 'LATEST'))).toBe('README.txt')
    expect(tree(destination)).toContain('calibration/')
  })

  it('skip with a fileList of symlinks only: 400 before anything is created', async () => {
    setup = await startAll()
    const s = setup
    addIngestedDataset(s)
    const res = await postFileList(s, [{ path: 'LATEST', isSymlink: true }])
    expect(res.statusCode).toBe(400)
    expect(res.json()).toMatchObject({ code: 'PROXY_PATH_INVALID', details: expect.stringContaining('globus.symlinks: skip') })
    expect(s.world.scicat.jobs()).toHaveLength(0)
    expect(s.world.globus.core.count('submission_id')).toBe(0)
  })
})

describe('backslashes', () => {
  it('an entry with "\\" is refused with 400 naming it, nothing created', async () => {
    setup = await startAll()
    const s = setup
    addIngestedDataset(s)
    const res = await postFileList(s, [
      { path: 'README.txt', isSymlink: false },
      { path: 'raw\\image-001.tiff', isSymlink: false },
    ])
    expect(res.statusCode).toBe(400)
    const body = res.json() as { code: string; details: string }
    expect(body.code).toBe('PROXY_PATH_INVALID')
    expect(body.details).toBe('fileList[1] "raw\\\\image-001.tiff": contains \'\\\' (use \'/\' between folders)')
    expect(s.world.scicat.jobs()).toHaveLength(0)
    expect(s.world.globus.core.count('submission_id')).toBe(0)
  })
})
