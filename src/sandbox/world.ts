// A seeded pair of simulators: two facilities backed by folders, users, tokens, datasets with real files.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Credentials } from '../config/credentials.js'
import { parseConfig } from '../config/loader.js'
import type { Config } from '../config/resolve.js'
import { GlobusSimulator, type GlobusSimOptions } from './globus-sim/index.js'
import { ScicatSimulator, type ScicatSimOptions, type SimDataset } from './scicat-sim/index.js'

export const sandboxCollections = {
  source: '5f0d1c1e-0000-4000-8000-00000000a001',
  destination: '5f0d1c1e-0000-4000-8000-00000000b002',
}

/** The sandbox's two facilities, as the items of a config's `facilities:` list (CSCS last, so keys can be appended to it). */
export const sandboxFacilities = `  - name: PSI
    collection: ${sandboxCollections.source}
    direction: SRC
  - name: CSCS
    collection: ${sandboxCollections.destination}
    direction: DST
    destinationPath: "/archive/{{ .PidShort }}"
`

export const sandboxCredentials: Credentials = {
  globus: { clientId: 'sandbox-client', clientSecret: 'sandbox-secret' },
  scicat: { username: 'globus-proxy', password: 'sandbox-service-password' },
}

export interface WorldOptions {
  /** Folder for the collections (default: a new temporary folder, removed on close). */
  dir?: string
  globus?: Partial<GlobusSimOptions>
  scicat?: Partial<ScicatSimOptions>
  /** Extra YAML appended to the config (task:, globus:, scicat: sections). */
  configExtra?: string
  /** Both collections accept transfer_symlink_item (default false: they behave as Globus Connect Server v5). */
  symlinkItems?: boolean
  /** Number of seeded datasets (default 3). */
  datasets?: number
  port?: { globus?: number; scicat?: number }
}

export interface World {
  dir: string
  globus: GlobusSimulator
  scicat: ScicatSimulator
  globusUrl: string
  scicatUrl: string
  configText: string
  config: Config
  credentials: Credentials
  /** Environment for `serve` against this world. */
  env: Record<string, string>
  /** Tokens of the seeded users: alice (owner of the datasets), bob (another group), carol (no facility). */
  tokens: { alice: string; bob: string; carol: string }
  datasets: SimDataset[]
  /** Adds a dataset whose folder holds `files` (relative path → content); of alice's group p12345 unless `ownerGroup` says (bob's: p67890). */
  addDataset(pid: string, files: Record<string, string>, ownerGroup?: string): SimDataset
  close(): Promise<void>
}

export async function startWorld (options: WorldOptions = {}): Promise<World> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'scicat-globus-sandbox-'))
  const sourceRoot = join(dir, 'facility-psi')
  const destinationRoot = join(dir, 'facility-cscs')
  mkdirSync(sourceRoot, { recursive: true })
  mkdirSync(destinationRoot, { recursive: true })

  const globus = new GlobusSimulator({
    clients: { [sandboxCredentials.globus.clientId]: sandboxCredentials.globus.clientSecret },
    collections: {
      [sandboxCollections.source]: { root: sourceRoot, symlinkItems: options.symlinkItems ?? false },
      [sandboxCollections.destination]: { root: destinationRoot, symlinkItems: options.symlinkItems ?? false },
    },
    bytesPerSecond: 2_000_000,
    minTaskMs: 1000,
    ...options.globus,
  })
  const scicat = new ScicatSimulator({
    adminGroups: ['admin', 'globusproxy'],
    deleteJobGroups: ['globusproxy'],
    users: [
      { username: 'globus-proxy', password: 'sandbox-service-password', email: 'globus-proxy@example.org', groups: ['globusproxy'] },
      { username: 'alice', password: 'alice', email: 'alice@example.org', groups: ['p12345', 'PSI', 'CSCS'], displayName: 'Alice Example' },
      { username: 'bob', password: 'bob', email: 'bob@example.org', groups: ['p67890', 'PSI', 'CSCS'], displayName: 'Bob Example' },
      { username: 'carol', password: 'carol', email: 'carol@example.org', groups: ['p12345'], displayName: 'Carol Example' },
    ],
    ...options.scicat,
  })
  const [g, s] = await Promise.all([
    globus.listen({ port: options.port?.globus ?? 0 }),
    scicat.listen({ port: options.port?.scicat ?? 0 }),
  ])

  const addDataset = (pid: string, files: Record<string, string>, ownerGroup = 'p12345'): SimDataset => {
    const folder = `/data/${ownerGroup}/${pid.split('/').pop()}`
    for (const [rel, content] of Object.entries(files)) {
      const path = join(sourceRoot, folder, rel)
      mkdirSync(join(path, '..'), { recursive: true })
      writeFileSync(path, content)
    }
    const size = Object.values(files).reduce((n, c) => n + Buffer.byteLength(c), 0)
    const dataset: SimDataset = { pid, ownerGroup, accessGroups: [], sourceFolder: folder, size }
    scicat.addDataset(dataset)
    return dataset
  }
  const datasets: SimDataset[] = []
  for (let i = 1; i <= (options.datasets ?? 3); i++) {
    const d = addDataset(`20.500.12345/sandbox-${i}`, {
      'raw/image-001.tiff': 'x'.repeat(400_000 * i),
      'raw/image-002.tiff': 'y'.repeat(300_000 * i),
      'processed/result.h5': 'z'.repeat(200_000),
      'README.txt': `dataset ${i}\n`,
    })
    symlinkSync('README.txt', join(sourceRoot, d.sourceFolder, 'LATEST'))
    datasets.push(d)
  }

  const configText = `# sandbox configuration: two facilities backed by local folders
scicatUrl: ${s.url}/
port: 8080
facilities:
${sandboxFacilities}${options.configExtra ?? ''}`
  const env = {
    GLOBUS_CLIENT_ID: sandboxCredentials.globus.clientId,
    GLOBUS_CLIENT_SECRET: sandboxCredentials.globus.clientSecret,
    SCICAT_SERVICE_USER_USERNAME: 'globus-proxy',
    SCICAT_SERVICE_USER_PASSWORD: 'sandbox-service-password',
    GLOBUS_AUTH_URL: g.url,
    GLOBUS_TRANSFER_URL: g.url,
  }
  const config = parseConfig(configText, 'sandbox', env)
  const lifetime = 7 * 24 * 3600
  return {
    dir,
    globus,
    scicat,
    globusUrl: g.url,
    scicatUrl: s.url,
    configText,
    config,
    credentials: sandboxCredentials,
    env,
    tokens: {
      alice: scicat.issueToken('alice', { expiresInSeconds: lifetime }),
      bob: scicat.issueToken('bob', { expiresInSeconds: lifetime }),
      carol: scicat.issueToken('carol', { expiresInSeconds: lifetime }),
    },
    datasets,
    addDataset,
    async close () {
      await Promise.all([globus.close(), scicat.close()])
      if (!options.dir) rmSync(dir, { recursive: true, force: true })
    },
  }
}
