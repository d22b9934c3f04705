// Every refusal of POST /transfer (DESIGN §5): its status, a JSON error the Ingestor can read, and nothing created.
import type { LightMyRequestResponse } from 'fastify'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { sandboxCollections } from '../../src/sandbox/world.js'
import { startWithConfig } from '../helpers/custom-config.js'
import { ingestorQuery, preciseStatuses, type Setup, startAll } from '../helpers/proxy.js'

interface ErrorBody {
  message: string
  code: string
  details?: string
  [key: string]: unknown
}

/** The refusal as the Ingestor's generated client reads it, and proof that nothing was created anywhere. */
function expectRefused (setup: Setup, res: LightMyRequestResponse, status: number, code: string): ErrorBody {
  expect(res.statusCode, res.body).toBe(status)
  expect(res.headers['content-type']).toMatch(/^application\/json/)
  const body = res.json() as ErrorBody
  expect(typeof body.message).toBe('string')
  expect(body.message).not.toBe('')
  expect(body.code).toBe(code)
  // the Ingestor's client parses details as *string
  if ('details' in body) expect(typeof body.details).toBe('string')
  const { world } = setup
  expect(world.scicat.core.count('createJob')).toBe(0)
  expect(world.globus.core.count('submission_id')).toBe(0)
  expect(world.globus.core.count('transfer')).toBe(0)
  expect(world.scicat.jobs()).toHaveLength(0)
  expect(world.globus.tasks()).toHaveLength(0)
  return body
}

interface PostOptions {
  token?: string | null
  query?: Record<string, string>
  rawQuery?: string
  payload?: unknown
  headers?: Record<string, string>
}

function post (setup: Setup, pid: string, options: PostOptions = {}): Promise<LightMyRequestResponse> {
  const token = options.token === undefined ? setup.world.tokens.alice : options.token
  return setup.proxy.app.inject({
    method: 'POST',
    url: `/transfer?${options.rawQuery ?? ingestorQuery(pid, options.query)}`,
    headers: {
      ...(token === null ? {} : { 'SciCat-API-Key': token }),
      ...(options.payload === undefined ? {} : { 'content-type': 'application/json' }),
      ...options.headers,
    },
    ...(options.payload === undefined
      ? {}
      : { payload: typeof options.payload === 'string' ? options.payload : JSON.stringify(options.payload) }),
  })
}

describe('POST /transfer refusals with the seeded world', () => {
  let setup: Setup
  let pid: string
  beforeAll(async () => {
    setup = await startAll({ configExtra: preciseStatuses })
    pid = setup.world.datasets[0]!.pid
  })
  afterAll(async () => {
    await setup?.close()
  })

  describe('facilities', () => {
    it('refuses an unknown source or destination facility with 400, naming the known ones', async () => {
      const src = expectRefused(setup, await post(setup, pid, { query: { sourceFacility: 'NOWHERE' } }), 400, 'PROXY_FACILITY_UNKNOWN')
      expect(src.message).toContain('NOWHERE')
      expect(src.details).toContain('PSI')
      expect(src.details).toContain('CSCS')
      const dst = expectRefused(setup, await post(setup, pid, { query: { destFacility: 'NOWHERE' } }), 400, 'PROXY_FACILITY_UNKNOWN')
      expect(dst.message).toContain('destination')
    })

    it('refuses an unknown facility with 400 even when the other one has the wrong direction', async () => {
      // both names are checked before any direction (DESIGN §5 order)
      const res = await post(setup, pid, { query: { sourceFacility: 'CSCS', destFacility: 'NOWHERE' } })
      expectRefused(setup, res, 400, 'PROXY_FACILITY_UNKNOWN')
    })

    it('refuses a DST facility as source and a SRC facility as destination with 403', async () => {
      const asSource = expectRefused(
        setup,
        await post(setup, pid, { query: { sourceFacility: 'CSCS', destFacility: 'CSCS' } }),
        403,
        'PROXY_FACILITY_DIRECTION'
      )
      expect(asSource.message).toContain('CSCS')
      expect(asSource.details).toContain('DST')
      const asDestination = expectRefused(
        setup,
        await post(setup, pid, { query: { sourceFacility: 'PSI', destFacility: 'PSI' } }),
        403,
        'PROXY_FACILITY_DIRECTION'
      )
      expect(asDestination.message).toContain('PSI')
      expect(asDestination.details).toContain('SRC')
    })

    it('refuses a user without the source facility group with 403 (carol is in the dataset group only)', async () => {
      const body = expectRefused(setup, await post(setup, pid, { token: setup.world.tokens.carol }), 403, 'PROXY_FACILITY_ACCESS')
      expect(body.message).toContain('PSI')
    })
  })

  describe('dataset', () => {
    it('refuses a dataset SciCat does not let the user read with 403 (bob asks for alice\'s dataset)', async () => {
      expectRefused(setup, await post(setup, pid, { token: setup.world.tokens.bob }), 403, 'PROXY_DATASET_FORBIDDEN')
    })

    it('refuses a dataset the user may read but whose owner group they are not in with 403', async () => {
      setup.world.scicat.addDataset({
        pid: '20.500.12345/shared-with-bob',
        ownerGroup: 'p12345',
        accessGroups: ['p67890'],
        sourceFolder: '/data/p12345/shared-with-bob',
      })
      const body = expectRefused(
        setup,
        await post(setup, '20.500.12345/shared-with-bob', { token: setup.world.tokens.bob }),
        403,
        'PROXY_DATASET_FORBIDDEN'
      )
      expect(body.details).toContain('p12345')
    })

    it('answers 404 for a dataset that does not exist', async () => {
      const body = expectRefused(setup, await post(setup, '20.500.12345/no-such-dataset'), 404, 'PROXY_DATASET_NOT_FOUND')
      expect(body.message).toContain('20.500.12345/no-such-dataset')
    })

    it('refuses an empty PID with 400 and the PIDs "." and ".." with 404, without reading SciCat\'s dataset list', async () => {
      const reads = setup.world.scicat.core.count('getDataset')
      const empty = expectRefused(setup, await post(setup, pid, { query: { scicatPid: '' } }), 400, 'PROXY_VALIDATION')
      expect(empty.details).toContain('scicatPid')
      for (const dots of ['.', '..']) {
        expectRefused(setup, await post(setup, dots), 404, 'PROXY_DATASET_NOT_FOUND')
      }
      expect(setup.world.scicat.core.count('getDataset')).toBe(reads)
    })

    it('answers 502 when SciCat answers the dataset read with anything but that dataset', async () => {
      // what SciCat's dataset list endpoint would answer
      setup.world.scicat.core.inject('getDataset', {
        status: 200,
        body: [{ pid: '20.500.12345/sandbox-2', ownerGroup: 'p12345', sourceFolder: '/data/p12345/sandbox-2' }],
      })
      const list = expectRefused(setup, await post(setup, pid), 502, 'PROXY_UPSTREAM_SCICAT')
      expect(list.details).toContain('a list')
      setup.world.scicat.core.inject('getDataset', {
        status: 200,
        body: { pid: '20.500.12345/sandbox-2', ownerGroup: 'p12345', sourceFolder: '/data/p12345/sandbox-2' },
      })
      const other = expectRefused(setup, await post(setup, pid), 502, 'PROXY_UPSTREAM_SCICAT')
      expect(other.details).toContain('20.500.12345/sandbox-2')
    })
  })

  describe('paths', () => {
    it('refuses a sourceFolder outside collectionRootPath with 400', async () => {
      const body = expectRefused(setup, await post(setup, pid, { query: { collectionRootPath: '/other' } }), 400, 'PROXY_PATH_INVALID')
      expect(body.details).toContain('/data/p12345/sandbox-1')
      expect(body.details).toContain('/other')
    })

    it('refuses a root that is a sibling by prefix only (/data/p1 is not a parent of /data/p12345)', async () => {
      expectRefused(setup, await post(setup, pid, { query: { collectionRootPath: '/data/p1' } }), 400, 'PROXY_PATH_INVALID')
    })

    it('refuses a relative collectionRootPath with 400', async () => {
      expectRefused(setup, await post(setup, pid, { query: { collectionRootPath: 'data' } }), 400, 'PROXY_PATH_INVALID')
    })

    it("refuses the ../ trick: Go's filepath.Rel let ../ out of the root", async () => {
      // a root below the dataset's folder: the relative folder would be "../.."
      expectRefused(
        setup,
        await post(setup, pid, { query: { collectionRootPath: '/data/p12345/sandbox-1/raw/deeper' } }),
        400,
        'PROXY_PATH_INVALID'
      )
      // a sibling root, where Go's filepath.Rel answers ../p12345/sandbox-1; spelled with ".." too
      for (const collectionRootPath of ['/data/p99999', '/data/p12345/../p99999']) {
        expectRefused(setup, await post(setup, pid, { query: { collectionRootPath } }), 400, 'PROXY_PATH_INVALID')
      }
      // a sourceFolder that climbs out of the root it names
      setup.world.scicat.addDataset({
        pid: '20.500.12345/climber',
        ownerGroup: 'p12345',
        sourceFolder: '/data/p12345/../../etc',
      })
      const body = expectRefused(
        setup,
        await post(setup, '20.500.12345/climber', { query: { collectionRootPath: '/data/p12345' } }),
        400,
        'PROXY_PATH_INVALID'
      )
      expect(body.details).toContain('/data/p12345/../../etc')
    })

    it('refuses a rendered destination path that climbs out with "..", and a dataset without sourceFolder', async () => {
      // CSCS renders /archive/{{ .PidShort }}: the PID's last segment lands in the path
      setup.world.scicat.addDataset({ pid: '20.500.12345/..', ownerGroup: 'p12345', sourceFolder: '/data/p12345/dots' })
      const body = expectRefused(setup, await post(setup, '20.500.12345/..'), 400, 'PROXY_PATH_INVALID')
      expect(body.message).toContain('destination')
      expect(body.details).toContain('/archive/..')

      setup.world.scicat.addDataset({ pid: '20.500.12345/no-folder', ownerGroup: 'p12345', sourceFolder: '' })
      expectRefused(setup, await post(setup, '20.500.12345/no-folder'), 400, 'PROXY_PATH_INVALID')
    })

    it.each([
      ['../x', "must not contain '..'"],
      ['/abs', 'must be relative'],
      ['a//b', 'must not contain empty segments'],
      ['a\u0000b', 'NUL'],
      ['a/./b', "'.'"],
      ['a/', 'empty segments'],
      ['', 'empty segments'],
      ['a\nb', 'control character'],
      ['a\u0001b', 'control character'],
      ['a\u007fb', 'control character'],
      ['a\ud800b', 'not valid Unicode'],
      ['x'.repeat(4097), 'longer than 4096 characters'],
    ])('refuses the fileList entry %j with 400, naming its index and value', async (bad, problem) => {
      const payload = {
        fileList: [
          { path: 'raw/image-001.tiff', isSymlink: false },
          { path: bad, isSymlink: false },
        ],
      }
      const body = expectRefused(setup, await post(setup, pid, { payload }), 400, 'PROXY_PATH_INVALID')
      expect(body.details).toContain(`fileList[1] ${JSON.stringify(bad.slice(0, 200))}`)
      expect(body.details).toContain(problem)
      expect(body.details).not.toContain('fileList[0]')
    })

    it('counts every bad fileList entry but names only the first 20, so that the answer stays small', async () => {
      const payload = { fileList: Array.from({ length: 5000 }, (_, i) => ({ path: `../x${i}`, isSymlink: false })) }
      const body = expectRefused(setup, await post(setup, pid, { payload }), 400, 'PROXY_PATH_INVALID')
      expect(body.message).toBe('invalid fileList entries (5000)')
      expect(body.details).toContain('fileList[19] "../x19"')
      expect(body.details).not.toContain('fileList[20]')
      expect(body.details).toMatch(/; and 4980 more$/)
    })

    it('stops validating a large body of malformed entries at the first one', async () => {
      // 300,000 entries without a path: one problem named, not 600,000 (nor as many error objects)
      const payload = `{"fileList":[${Array.from({ length: 300_000 }, () => '{}').join(',')}]}`
      const res = await post(setup, pid, { payload })
      const body = expectRefused(setup, res, 400, 'PROXY_VALIDATION')
      expect(res.body.length).toBeLessThan(1000)
      expect(body.details).toMatch(/^body\.fileList\.0 must have required property/)
    })

    it('refuses an empty fileList, a JSON null body, and values of the wrong JSON type (no coercion) with 400', async () => {
      const empty = expectRefused(setup, await post(setup, pid, { payload: { fileList: [] } }), 400, 'PROXY_VALIDATION')
      expect(empty.details).toContain('body.fileList')
      expectRefused(setup, await post(setup, pid, { payload: 'null' }), 400, 'PROXY_VALIDATION')
      const number = expectRefused(
        setup,
        await post(setup, pid, { payload: { fileList: [{ path: 123, isSymlink: false }] } }),
        400,
        'PROXY_VALIDATION'
      )
      expect(number.details).toBe('body.fileList.0.path must be string')
      expectRefused(setup, await post(setup, pid, { payload: { fileList: [{ path: 'a', isSymlink: null }] } }), 400, 'PROXY_VALIDATION')
    })

    it('names every bad fileList entry of one request', async () => {
      const payload = {
        fileList: ['../x', 'ok.txt', '/abs', 'a//b', 'a\u0000b'].map((path) => ({ path, isSymlink: false })),
      }
      const body = expectRefused(setup, await post(setup, pid, { payload }), 400, 'PROXY_PATH_INVALID')
      for (const [i, path] of [[0, '../x'], [2, '/abs'], [3, 'a//b'], [4, 'a\u0000b']] as const) {
        expect(body.details).toContain(`fileList[${i}] ${JSON.stringify(path)}`)
      }
      expect(body.details).not.toContain('fileList[1]')
      // the NUL travels escaped, never raw, in the JSON answer
      expect(body.details).not.toContain('\u0000')
    })
  })

  describe('token', () => {
    it('refuses a request without token with 401, before looking at anything else', async () => {
      const identityCalls = setup.world.scicat.core.count('identity')
      const body = expectRefused(setup, await post(setup, pid, { token: null }), 401, 'PROXY_UNAUTHENTICATED')
      expect(body.details).toContain('SciCat-API-Key')
      // even an otherwise invalid request is first of all unauthenticated
      expectRefused(setup, await post(setup, pid, { token: null, rawQuery: 'nonsense=1' }), 401, 'PROXY_UNAUTHENTICATED')
      expectRefused(setup, await post(setup, pid, { token: '   ' }), 401, 'PROXY_UNAUTHENTICATED')
      expectRefused(setup, await post(setup, pid, { token: null, headers: { authorization: 'Basic YWxpY2U6YWxpY2U=' } }), 401, 'PROXY_UNAUTHENTICATED')
      expect(setup.world.scicat.core.count('identity')).toBe(identityCalls)
    })

    it('refuses a token SciCat does not accept with 401, in either header', async () => {
      expectRefused(setup, await post(setup, pid, { token: 'not-a-scicat-token' }), 401, 'PROXY_UNAUTHENTICATED')
      expectRefused(
        setup,
        await post(setup, pid, { token: null, headers: { authorization: 'Bearer not-a-scicat-token-either' } }),
        401,
        'PROXY_UNAUTHENTICATED'
      )
    })

    it('refuses an expired token with 401 (the Go service answered 500 with an empty body)', async () => {
      const token = setup.world.scicat.issueToken('alice', { expiresInSeconds: 60 })
      setup.clock.advance(61_000)
      const body = expectRefused(setup, await post(setup, pid, { token }), 401, 'PROXY_UNAUTHENTICATED')
      expect(body.message).toMatch(/invalid|expired/)
    })

    it('refuses a token whose identity SciCat answers with 200 and an empty body with 401', async () => {
      setup.world.scicat.addUser({ username: 'ghost', email: 'ghost@example.org', groups: ['p12345', 'PSI', 'CSCS'], noIdentity: true })
      const token = setup.world.scicat.issueToken('ghost')
      const calls = setup.world.scicat.core.count('identity')
      expectRefused(setup, await post(setup, pid, { token }), 401, 'PROXY_UNAUTHENTICATED')
      expect(setup.world.scicat.core.count('identity')).toBe(calls + 1)
      // an invalid token is not cached as a user
      expectRefused(setup, await post(setup, pid, { token }), 401, 'PROXY_UNAUTHENTICATED')
    })
  })

  describe('input validation', () => {
    it.each(['sourceFacility', 'destFacility', 'scicatPid', 'collectionRootPath'])(
      'refuses a request without the query parameter %s with 400, naming it',
      async (name) => {
        const query = new URLSearchParams(ingestorQuery(pid))
        query.delete(name)
        const body = expectRefused(setup, await post(setup, pid, { rawQuery: query.toString() }), 400, 'PROXY_VALIDATION')
        expect(body.details).toContain(name)
      }
    )

    it('refuses an unknown query parameter and a non-boolean autoArchive with 400', async () => {
      const unknown = expectRefused(
        setup,
        await post(setup, pid, { rawQuery: `${ingestorQuery(pid)}&sourcePath=/etc` }),
        400,
        'PROXY_VALIDATION'
      )
      expect(unknown.details).toContain('sourcePath')
      expectRefused(setup, await post(setup, pid, { query: { autoArchive: 'maybe' } }), 400, 'PROXY_VALIDATION')
    })

    it('refuses a body with an unknown key, an unknown fileList key, or a fileList entry without isSymlink with 400', async () => {
      const topLevel = expectRefused(
        setup,
        await post(setup, pid, { payload: { fileList: [{ path: 'a', isSymlink: false }], destinationPath: '/etc' } }),
        400,
        'PROXY_VALIDATION'
      )
      expect(topLevel.details).toContain('destinationPath')
      expectRefused(
        setup,
        await post(setup, pid, { payload: { fileList: [{ path: 'a', isSymlink: false, size: 1 }] } }),
        400,
        'PROXY_VALIDATION'
      )
      const missing = expectRefused(
        setup,
        await post(setup, pid, { payload: { fileList: [{ path: 'a' }] } }),
        400,
        'PROXY_VALIDATION'
      )
      expect(missing.details).toContain('isSymlink')
      expectRefused(setup, await post(setup, pid, { payload: { fileList: 'a' } }), 400, 'PROXY_VALIDATION')
      expectRefused(setup, await post(setup, pid, { payload: [] }), 400, 'PROXY_VALIDATION')
    })

    it('refuses a body that is not JSON with 400', async () => {
      const body = expectRefused(setup, await post(setup, pid, { payload: '{"fileList": [' }), 400, 'PROXY_VALIDATION')
      expect(body.message).toContain('JSON')
    })

    it('answers a body of another media type with a JSON error', async () => {
      const res = await post(setup, pid, { payload: 'fileList', headers: { 'content-type': 'text/plain' } })
      expect(res.statusCode).toBeGreaterThanOrEqual(400)
      expect(res.statusCode).toBeLessThan(500)
      expectRefused(setup, res, res.statusCode, 'PROXY_VALIDATION')
    })
  })
})

describe('POST /transfer refusals that need their own config', () => {
  let setup: Setup | undefined
  afterEach(async () => {
    await setup?.close()
    setup = undefined
  })

  it('checks each facility with its own accessPath and accessValue: a destination group missing → 403', async () => {
    setup = await startWithConfig(
      (world) => `scicatUrl: ${world.scicatUrl}/
facilities:
  - name: PSI
    collection: ${sandboxCollections.source}
    direction: SRC
    accessValue: "{{ .Name }}-readers"
  - name: ARCHIVE
    collection: ${sandboxCollections.destination}
    direction: DST
    accessPath: Profile.AccessGroups
    accessValue: "{{ .Name }}-writers"
    destinationPath: "/archive/{{ .PidShort }}"
`
    )
    const { world } = setup
    const pid = world.datasets[0]!.pid
    const user = (username: string, groups: string[]) => {
      world.scicat.addUser({ username, email: `${username}@example.org`, groups: ['p12345', ...groups] })
      return world.scicat.issueToken(username)
    }
    const query = { destFacility: 'ARCHIVE' }
    // passes the source; would also pass the destination if it were checked with the source's
    // templates (W6), whichever facility's name they were rendered with
    const dave = user('dave', ['PSI-readers', 'ARCHIVE-readers', 'PSI', 'ARCHIVE'])
    const refused = expectRefused(setup, await post(setup, pid, { token: dave, query }), 403, 'PROXY_FACILITY_ACCESS')
    expect(refused.message).toContain('ARCHIVE')
    expect(refused.details).toContain('ARCHIVE-writers')

    // the destination's group without the source's
    const erin = user('erin', ['ARCHIVE-writers', 'PSI'])
    const noSource = expectRefused(setup, await post(setup, pid, { token: erin, query }), 403, 'PROXY_FACILITY_ACCESS')
    expect(noSource.message).toContain('PSI')
    expect(noSource.details).toContain('PSI-readers')

    // each facility's own group: accepted
    const frank = user('frank', ['PSI-readers', 'ARCHIVE-writers'])
    const res = await post(setup, pid, { token: frank, query })
    expect(res.statusCode, res.body).toBe(200)
    expect(world.scicat.job(res.json().jobId)).toMatchObject({ ownerUser: 'frank', ownerGroup: 'p12345' })

    // GET /facilities agrees
    const facilities = await setup.proxy.app.inject({ method: 'GET', url: '/facilities', headers: { 'SciCat-API-Key': dave } })
    expect(facilities.json().facilities).toEqual([
      { name: 'PSI', direction: 'SRC', source: true, destination: false },
      { name: 'ARCHIVE', direction: 'DST', source: false, destination: false },
    ])
  })

  it('answers 413 with a JSON error for a body over server.bodyLimitMb', async () => {
    setup = await startAll({}, 'server:\n  bodyLimitMb: 0.001\n  errorStatuses: http\n')
    const pid = setup.world.datasets[0]!.pid
    const fileList = Array.from({ length: 100 }, (_, i) => ({ path: `raw/image-${i}.tiff`, isSymlink: false }))
    expect(JSON.stringify({ fileList }).length).toBeGreaterThan(1100)
    expectRefused(setup, await post(setup, pid, { payload: { fileList } }), 413, 'PROXY_BODY_TOO_LARGE')
    // a small body still passes the limit
    const ok = await post(setup, pid, { payload: { fileList: fileList.slice(0, 2) } })
    expect(ok.statusCode, ok.body).toBe(200)
  })

  it('answers 503 with Retry-After past task.maxConcurrency + task.queueSize unfinished transfers', async () => {
    setup = await startAll({}, 'task:\n  maxConcurrency: 1\n  queueSize: 1\n  pollInterval: 7\n')
    const { world } = setup
    for (const d of world.datasets.slice(0, 2)) {
      const res = await post(setup, d.pid)
      expect(res.statusCode, res.body).toBe(200)
    }
    const jobs = world.scicat.core.count('createJob')
    const ids = world.globus.core.count('submission_id')
    const res = await post(setup, world.datasets[2]!.pid)
    expect(res.statusCode).toBe(503)
    expect(res.headers['retry-after']).toBe('7')
    expect(res.json()).toMatchObject({ code: 'PROXY_AT_CAPACITY', message: expect.any(String), details: expect.any(String) })
    expect(world.scicat.core.count('createJob')).toBe(jobs)
    expect(world.globus.core.count('submission_id')).toBe(ids)
  })
})
