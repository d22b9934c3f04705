import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { cyclesUntil, ingestorQuery, type Setup, startAll } from '../helpers/proxy.js'

let setup: Setup
afterEach(async () => {
  await setup?.close()
})

const fileList = [
  { path: 'raw/image-001.tiff', isSymlink: false },
  { path: 'raw/image-002.tiff', isSymlink: false },
  { path: 'processed/result.h5', isSymlink: false },
  { path: 'README.txt', isSymlink: false },
  { path: 'LATEST', isSymlink: true },
]

describe('POST /transfer as the Ingestor sends it', () => {
  it('creates the job, submits the Globus task, tracks it to finished, marks the dataset archivable and archives once', async () => {
    setup = await startAll()
    const { world, proxy } = setup
    const pid = world.datasets[0]!.pid
    const res = await proxy.app.inject({
      method: 'POST',
      url: `/transfer?${ingestorQuery(pid)}`,
      headers: { 'SciCat-API-Key': world.tokens.alice, 'Content-Type': 'application/json' },
      payload: { fileList },
    })
    expect(res.statusCode).toBe(200)
    const { jobId } = res.json()
    expect(Object.keys(res.json())).toEqual(['jobId'])

    // the job, as SciCat stores it
    const job = world.scicat.job(jobId)!
    expect(job).toMatchObject({
      type: 'globus_transfer_job',
      ownerGroup: 'p12345',
      ownerUser: 'alice',
      contactEmail: 'alice@example.org',
      statusCode: 'submitted',
    })
    expect(job.jobParams).toMatchObject({
      datasetList: [{ pid, files: [] }],
      sourceFacility: 'PSI',
      destFacility: 'CSCS',
      sourceCollection: world.config.facilities[0]!.collection,
      destinationCollection: world.config.facilities[1]!.collection,
      sourcePath: '/data/p12345/sandbox-1',
      destinationPath: '/archive/sandbox-1',
      fileList,
      autoArchive: true,
    })
    const result = job.jobResultObject as Record<string, unknown>
    expect(Object.keys(result).slice(0, 6)).toEqual([
      'globusTaskId',
      'bytesTransferred',
      'filesTransferred',
      'filesTotal',
      'status',
      'error',
    ])
    expect(result.status).toBe('transferring')
    // Globus reports no total: the dataset's size in SciCat is the total
    const size = world.scicat.dataset(pid)!.size
    expect(size).toBe(400_000 + 300_000 + 200_000 + 'dataset 1\n'.length)
    expect(result.bytesTotal).toBe(size)
    const taskId = result.globusTaskId as string
    expect(taskId).toBeTruthy()

    // what Globus received
    const sent = world.globus.submission(taskId)!
    expect(sent).toMatchObject({
      submission_id: (job.jobParams as Record<string, unknown>).globusSubmissionId,
      source_endpoint: world.config.facilities[0]!.collection,
      destination_endpoint: world.config.facilities[1]!.collection,
      label: `SciCat job ${jobId}`,
      verify_checksum: true,
    })
    expect(sent.DATA).toEqual([
      { DATA_TYPE: 'transfer_item', source_path: '/data/p12345/sandbox-1/raw/image-001.tiff', destination_path: '/archive/sandbox-1/raw/image-001.tiff' },
      { DATA_TYPE: 'transfer_item', source_path: '/data/p12345/sandbox-1/raw/image-002.tiff', destination_path: '/archive/sandbox-1/raw/image-002.tiff' },
      { DATA_TYPE: 'transfer_item', source_path: '/data/p12345/sandbox-1/processed/result.h5', destination_path: '/archive/sandbox-1/processed/result.h5' },
      { DATA_TYPE: 'transfer_item', source_path: '/data/p12345/sandbox-1/README.txt', destination_path: '/archive/sandbox-1/README.txt' },
    ])
    // the symlink is left out (globus.symlinks: skip, the default) and said so at the end

    // tracked to the end
    await cyclesUntil(setup, () => world.scicat.job(jobId)!.statusCode === 'finished', { stepMs: 250 })
    const done = world.scicat.job(jobId)!
    const finalResult = done.jobResultObject as Record<string, unknown>
    expect(finalResult).toMatchObject({
      globusTaskId: taskId,
      status: 'finished',
      error: '',
      // Globus counts symlinks apart from files
      filesTransferred: 4,
      filesTotal: 4,
      bytesTransferred: 400_000 + 300_000 + 200_000 + 'dataset 1\n'.length,
      bytesTotal: size,
    })
    expect(world.scicat.dataset(pid)!.datasetlifecycle).toMatchObject({ archivable: true, archiveStatusMessage: 'datasetCreated' })
    const archives = world.scicat.jobs().filter((j) => j.type === 'archive')
    expect(archives).toHaveLength(1)
    expect(archives[0]).toMatchObject({ ownerUser: 'alice', ownerGroup: 'p12345', contactEmail: 'alice@example.org' })
    expect(archives[0]!.jobParams).toMatchObject({ datasetList: [{ pid, files: [] }] })
    expect(finalResult.archiveJobId).toBe(archives[0]!.id)

    // the files really arrived
    const dst = join(world.dir, 'facility-cscs', 'archive', 'sandbox-1')
    expect(readFileSync(join(dst, 'README.txt'), 'utf8')).toBe('dataset 1\n')
    expect(existsSync(join(dst, 'LATEST'))).toBe(false)
    expect(done.statusMessage).toContain('; 1 symlink not copied')

    // more cycles change nothing: no archive job twice, no PATCH on a finished job
    const patches = world.scicat.core.count('updateJob')
    await proxy.app.tracker.runCycle()
    expect(world.scicat.core.count('updateJob')).toBe(patches)
    expect(world.scicat.jobs().filter((j) => j.type === 'archive')).toHaveLength(1)
  })

  it('transfers the whole folder recursively without a body, and skips the archive job with autoArchive=false', async () => {
    setup = await startAll()
    const { world, proxy } = setup
    const pid = world.datasets[1]!.pid
    const res = await proxy.app.inject({
      method: 'POST',
      url: `/transfer?${ingestorQuery(pid, { autoArchive: 'false' })}`,
      headers: { 'SciCat-API-Key': world.tokens.alice },
    })
    expect(res.statusCode).toBe(200)
    const { jobId } = res.json()
    const taskId = (world.scicat.job(jobId)!.jobResultObject as { globusTaskId: string }).globusTaskId
    expect(world.globus.submission(taskId)!.DATA).toEqual([
      {
        DATA_TYPE: 'transfer_item',
        source_path: '/data/p12345/sandbox-2',
        destination_path: '/archive/sandbox-2',
        recursive: true,
      },
    ])
    expect(world.scicat.job(jobId)!.jobParams).toMatchObject({ autoArchive: false })
    await cyclesUntil(setup, () => world.scicat.job(jobId)!.statusCode === 'finished', { stepMs: 500 })
    expect(world.scicat.dataset(pid)!.datasetlifecycle).toMatchObject({ archivable: true })
    expect(world.scicat.jobs().filter((j) => j.type === 'archive')).toHaveLength(0)
    expect(existsSync(join(world.dir, 'facility-cscs', 'archive', 'sandbox-2', 'raw', 'image-001.tiff'))).toBe(true)
  })

  it('accepts Authorization: Bearer instead of SciCat-API-Key', async () => {
    setup = await startAll()
    const { world, proxy } = setup
    const res = await proxy.app.inject({
      method: 'POST',
      url: `/transfer?${ingestorQuery(world.datasets[0]!.pid)}`,
      headers: { authorization: `Bearer ${world.tokens.alice}` },
    })
    expect(res.statusCode).toBe(200)
    expect(world.scicat.job(res.json().jobId)).toBeDefined()
  })
})
