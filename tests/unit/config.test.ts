import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadCredentials, missingCredentials, secret } from '../../src/config/credentials.js'
import { describeConfig, formatConfig } from '../../src/config/describe.js'
import {
  ConfigError,
  configCandidates,
  loadConfig,
  parseConfig,
  readConfigText,
} from '../../src/config/loader.js'
import { mergeScopes } from '../../src/globus/scopes.js'

// The Go repository's example config, unchanged.
const goExample = `
scicatUrl: "http://backend.localhost/"
port: 8080
facilities:
  - name: EXAMPLE-FULL
    collection: aaaa1111-22bb-cc44-dd5e-666667777777
    scopes:
      - "urn:globus:auth:scope:transfer.api.globus.org:all[*https://auth.globus.org/scopes/{{.Collection}}/data_access]"
    accessPath: profile.accessGroups
    accessValue: example-group
    direction: BOTH
    sourcePath: "/{{ .RelativeSourceFolder }}"
    destinationPath: "/archive/{{ .Pid }}/{{ .SourceFolder }}"
  - name: EXAMPLE-MINIMAL
    collection: bbbb2222-33cc-ff55-ee6e-777778888888
task:
  maxConcurrency: 10
  queueSize: 100
  pollInterval: 10
`

const scope = (c: string) =>
  `urn:globus:auth:scope:transfer.api.globus.org:all[*https://auth.globus.org/scopes/${c}/data_access]`

function problemsOf (text: string): string[] {
  try {
    parseConfig(text, 'test.yaml')
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError)
    return (err as ConfigError).problems
  }
  throw new Error('config loaded but should not have')
}

describe('config loader', () => {
  it('loads the Go example and resolves what the Go service would', () => {
    const d = describeConfig(parseConfig(goExample))
    expect(d.scicatUrl).toBe('http://backend.localhost')
    expect(d.port).toBe(8080)
    expect(d.facilities).toEqual([
      {
        name: 'EXAMPLE-FULL',
        collection: 'aaaa1111-22bb-cc44-dd5e-666667777777',
        direction: 'BOTH',
        accessPath: 'profile.accessGroups',
        accessValue: 'example-group',
        sourcePath: '/{{ .RelativeSourceFolder }}',
        destinationPath: '/archive/{{ .Pid }}/{{ .SourceFolder }}',
        scopes: [scope('aaaa1111-22bb-cc44-dd5e-666667777777')],
      },
      {
        name: 'EXAMPLE-MINIMAL',
        collection: 'bbbb2222-33cc-ff55-ee6e-777778888888',
        direction: 'BOTH',
        accessPath: 'profile.accessGroups',
        accessValue: 'EXAMPLE-MINIMAL',
        sourcePath: '/{{ .RelativeSourceFolder }}',
        destinationPath: '/{{ .RelativeSourceFolder }}',
        scopes: [scope('bbbb2222-33cc-ff55-ee6e-777778888888')],
      },
    ])
    expect(d.globusScopes).toEqual([
      'urn:globus:auth:scope:transfer.api.globus.org:all[' +
        '*https://auth.globus.org/scopes/aaaa1111-22bb-cc44-dd5e-666667777777/data_access ' +
        '*https://auth.globus.org/scopes/bbbb2222-33cc-ff55-ee6e-777778888888/data_access]',
    ])
    expect(d.task).toEqual({
      maxConcurrency: 10,
      queueSize: 100,
      pollInterval: 10,
      discoveryInterval: 300,
      failFastAfterSeconds: 600,
      progressUpdatesPerCycle: 1000,
    })
    expect(d.globus).toMatchObject({
      authUrl: 'https://auth.globus.org',
      transferUrl: 'https://transfer.api.globus.org',
      maxRequestsPerSecond: 10,
      maxActiveTasks: 100,
      verifyChecksum: true,
      label: 'SciCat job {{ .JobId }}',
    })
    expect(d.scicat).toEqual({
      jobType: 'globus_transfer_job',
      archiveJobType: 'archive',
      identityCacheSeconds: 30,
      statusCodes: { queued: 'queued', submitted: 'submitted', transferring: 'transferring', finished: 'finished', failed: 'failed', cancelled: 'cancelled' },
    })
  })

  it('loads a defaults list merged into facilities with <<: *anchor', () => {
    const config = parseConfig(`
scicatUrl: https://scicat.example.org
defaults:
  - &psi
    accessValue: "psi-{{ .Name }}"
    sourcePath: "/{{ .PidShort }}"
  - &archive
    direction: DST
    destinationPath: "/archive/{{ replace .Pid \\"/\\" \\"_\\" }}"
facilities:
  - <<: *psi
    name: PSI
    collection: c-psi
    direction: SRC
  - <<: [*archive]
    name: CSCS
    collection: c-cscs
`)
    const [psi, cscs] = config.facilities
    expect(psi).toMatchObject({ name: 'PSI', direction: 'SRC', accessValue: 'psi-PSI' })
    expect(psi!.sourcePath.source).toBe('/{{ .PidShort }}')
    expect(cscs).toMatchObject({ name: 'CSCS', direction: 'DST', accessValue: 'CSCS' })
    expect(cscs!.destinationPath.render({ Pid: '20.5/x' } as never)).toBe('/archive/20.5_x')
  })

  it('reports every problem of a file at once, one line each with its path', () => {
    const problems = problemsOf(`
scicatUrl: http://x
facilities:
  - name: A
    collection: c1
    direction: SIDEWAYS
  - name: A
    collection: c2
  - name: B
  - name: C
    collection: c3
    colour: red
    sourcePath: "/{{ .Nope }}"
`)
    expect(problems).toEqual([
      'facilities[0].direction: must be one of SRC, DST, BOTH',
      'facilities[1].name: duplicate facility name "A" (also facilities[0])',
      'facilities[2].collection: is required',
      'facilities[3].colour: unknown key',
      expect.stringMatching(/^facilities\[3\]\.sourcePath: unknown variable \.Nope/),
    ])
  })

  it('reports keys of the wrong type once each, without failing on them', () => {
    expect(
      problemsOf(`
scicatUrl: http://x
facilities:
  - name: 5
    collection: c1
    scopes: "urn:globus:auth:scope:transfer.api.globus.org:all"
  - name: B
    collection: [c2]
`)
    ).toEqual([
      'facilities[0].name: must be string',
      'facilities[0].scopes: must be array',
      'facilities[1].collection: must be string',
    ])
  })

  it('rejects an empty facility list, a missing scicatUrl and bad extension values', () => {
    expect(problemsOf('facilities: []')).toEqual([
      'facilities: must have at least 1 item(s)',
      'scicatUrl: is required',
    ])
    expect(
      problemsOf(`
scicatUrl: ftp://x
facilities: [{name: a, collection: b}]
globus: {syncLevel: always, label: "{{ .Nope }}", extra: 1}
task: {pollInterval: fast}
`)
    ).toEqual([
      'globus.extra: unknown key',
      expect.stringMatching(/^globus\.label: unknown variable \.Nope/),
      'globus.syncLevel: must be one of none, exists, size, mtime, checksum',
      'scicatUrl: must be an http(s) URL',
      'task.pollInterval: must be number',
    ])
  })

  it('bounds the numbers that would break the service, one line per key', () => {
    const base = 'scicatUrl: http://x\nfacilities: [{name: a, collection: b}]\n'
    expect(
      problemsOf(`${base}
task: {pollInterval: 1e300, discoveryInterval: 86401}
globus: {deadlineHours: 1e12}
server: {bodyLimitMb: 1e-7}
`)
    ).toEqual([
      'globus.deadlineHours: must be <= 87600',
      'server.bodyLimitMb: must be 0 (the default) or at least 0.001',
      'task.discoveryInterval: must be <= 86400',
      'task.pollInterval: must be <= 86400',
    ])
    expect(problemsOf(`${base}server: {bodyLimitMb: 1e300}\n`)).toEqual(['server.bodyLimitMb: must be <= 1024'])
    // the bounds themselves, and 0 for the default, are fine
    const config = parseConfig(`${base}
task: {pollInterval: 86400, discoveryInterval: 86400}
globus: {deadlineHours: 87600}
server: {bodyLimitMb: 0.001}
`)
    expect(config.task).toMatchObject({ pollInterval: 86400, discoveryInterval: 86400 })
    expect(config.globus.deadlineHours).toBe(87600)
    expect(config.server.bodyLimitMb).toBe(0.001)
    expect(parseConfig(`${base}server: {bodyLimitMb: 0}\n`).server.bodyLimitMb).toBe(64)
  })

  it('scicat.statusCodes: each state its own name by default, renamed per state, two states on one code refused', () => {
    const base = 'scicatUrl: http://x\nfacilities: [{name: a, collection: b}]\n'
    expect(parseConfig(base).scicat.statusCodes).toEqual({
      queued: 'queued',
      submitted: 'submitted',
      transferring: 'transferring',
      finished: 'finished',
      failed: 'failed',
      cancelled: 'cancelled',
    })
    const renamed = parseConfig(`${base}scicat: {statusCodes: {finished: finishedSuccessful, failed: finishedUnsuccessful}}\n`)
    expect(renamed.scicat.statusCodes).toMatchObject({
      finished: 'finishedSuccessful',
      failed: 'finishedUnsuccessful',
      queued: 'queued',
    })
    // check-config shows the whole mapping, as text and as JSON
    const mapping = { queued: 'queued', submitted: 'submitted', transferring: 'transferring', finished: 'finishedSuccessful', failed: 'finishedUnsuccessful', cancelled: 'cancelled' }
    expect(describeConfig(renamed).scicat.statusCodes).toEqual(mapping)
    expect(formatConfig(renamed)).toContain(`"statusCodes":${JSON.stringify(mapping)}`)
    expect(problemsOf(`${base}scicat: {statusCodes: {finished: done, failed: done}}\n`)).toEqual([
      'scicat.statusCodes: finished and failed are both "done": each state needs its own code',
    ])
    expect(problemsOf(`${base}scicat: {statusCodes: {cancelled: transferring}}\n`)).toEqual([
      'scicat.statusCodes: transferring and cancelled are both "transferring": each state needs its own code',
    ])
    expect(problemsOf(`${base}scicat: {statusCodes: {done: x}}\n`)).toHaveLength(1)
  })

  it('server.errorStatuses: go by default, http on request, anything else refused', () => {
    const base = 'scicatUrl: http://x\nfacilities: [{name: a, collection: b}]\n'
    expect(parseConfig(base).server.errorStatuses).toBe('go')
    expect(parseConfig(`${base}server: {errorStatuses: http}\n`).server.errorStatuses).toBe('http')
    expect(problemsOf(`${base}server: {errorStatuses: precise}\n`)).toEqual(['server.errorStatuses: must be one of go, http'])
  })

  it('checks server.trustProxy as Fastify reads it: addresses, CIDR ranges, netmasks, named ranges', () => {
    const base = 'scicatUrl: http://x\nfacilities: [{name: a, collection: b}]\n'
    const good = [
      'true',
      'false',
      '0',
      '"127.0.0.1"',
      '"loopback, 10.0.0.0/8,192.168.1.0/255.255.255.0, ::1, fd00::/8, uniquelocal"',
      '[linklocal, 172.16.0.0/12, "2001:db8::/32"]',
    ]
    for (const value of good) expect(parseConfig(`${base}server: {trustProxy: ${value}}\n`).server.trustProxy).toBeDefined()
    expect(
      problemsOf(`${base}server: {trustProxy: "127.0.0.1, not-an-ip, 10.0.0.0/33, 10.0.0.0/255.0.255.0, ::1/0"}\n`)
    ).toEqual([
      'server.trustProxy: "not-an-ip" is not an IP address, a CIDR range or one of loopback, linklocal, uniquelocal',
      'server.trustProxy: "10.0.0.0/33": the range must be a prefix length from 1 to 32 or a netmask such as 255.255.0.0',
      'server.trustProxy: "10.0.0.0/255.0.255.0": the range must be a prefix length from 1 to 32 or a netmask such as 255.255.0.0',
      'server.trustProxy: "::1/0": the range must be a prefix length from 1 to 128',
    ])
    expect(problemsOf(`${base}server: {trustProxy: [10.0.0.1, "10.0.0.2,10.0.0.3"]}\n`)).toEqual([
      'server.trustProxy[1]: "10.0.0.2,10.0.0.3" is not an IP address, a CIDR range or one of loopback, linklocal, uniquelocal',
    ])
    // Fastify 5 ignores a hop count (it trusts no proxy then): say so rather than let it pass
    expect(problemsOf(`${base}server: {trustProxy: 1}\n`)).toEqual([
      expect.stringMatching(/^server\.trustProxy: a hop count is not supported/),
    ])
  })

  it('checks scope and access templates against their own variables', () => {
    expect(
      problemsOf(`
scicatUrl: http://x
facilities:
  - name: a
    collection: b
    scopes: ["x[*{{ .Pid }}]"]
    accessValue: "{{ .Collection }}"
`)
    ).toEqual([
      expect.stringMatching(/^facilities\[0\]\.accessValue: unknown variable \.Collection/),
      expect.stringMatching(/^facilities\[0\]\.scopes\[0\]: unknown variable \.Pid/),
    ])
  })

  it('treats scicatUrl with and without a trailing slash the same', () => {
    const base = 'facilities: [{name: a, collection: b}]\n'
    const a = describeConfig(parseConfig(`scicatUrl: https://s.org/\n${base}`))
    const b = describeConfig(parseConfig(`scicatUrl: https://s.org\n${base}`))
    expect(a).toEqual(b)
    expect(a.scicatUrl).toBe('https://s.org')
  })

  it('treats a facility key given as an empty string as its default (as in Go)', () => {
    const config = parseConfig(`
scicatUrl: http://x
facilities:
  - {name: a, collection: b, direction: "", accessPath: "", accessValue: "", sourcePath: "", scopes: []}
`)
    expect(describeConfig(config).facilities[0]).toMatchObject({
      direction: 'BOTH',
      accessPath: 'profile.accessGroups',
      accessValue: 'a',
      sourcePath: '/{{ .RelativeSourceFolder }}',
      scopes: [scope('b')],
    })
  })

  it('reports invalid YAML and empty files', () => {
    expect(() => parseConfig('a: [1,', 'x.yaml')).toThrow(/invalid YAML in x.yaml/)
    expect(() => parseConfig('', 'x.yaml')).toThrow(/x.yaml is empty/)
    expect(() => parseConfig('- 1', 'x.yaml')).toThrow(/must be a YAML mapping/)
  })

  it('lets PORT, HOST, GLOBUS_AUTH_URL and GLOBUS_TRANSFER_URL override the file', () => {
    const config = parseConfig(goExample, 'x', {
      PORT: '9090',
      HOST: '127.0.0.1',
      GLOBUS_AUTH_URL: 'http://127.0.0.1:1/',
      GLOBUS_TRANSFER_URL: 'http://127.0.0.1:2',
    })
    expect(config.port).toBe(9090)
    expect(config.host).toBe('127.0.0.1')
    expect(config.globus.authUrl).toBe('http://127.0.0.1:1')
    expect(config.globus.transferUrl).toBe('http://127.0.0.1:2')
    expect(() => parseConfig(goExample, 'x', { PORT: 'eighty' })).toThrow(/PORT must be an integer/)
    expect(() => parseConfig(goExample, 'x', { GLOBUS_AUTH_URL: 'auth.globus.org' })).toThrow(
      /GLOBUS_AUTH_URL must be an http\(s\) URL/
    )
    expect(() => parseConfig(goExample, 'x', { GLOBUS_TRANSFER_URL: 'http://' })).toThrow(/GLOBUS_TRANSFER_URL must be/)
  })
})

describe('config search', () => {
  it('searches --config, then the env variable, then the working directory and user config dir', () => {
    expect(
      configCandidates({
        flag: 'a.yaml',
        env: { SCICAT_GLOBUS_PROXY_CONFIG: '/b.yaml' },
        cwd: '/w',
      })
    ).toEqual(['/w/a.yaml'])
    expect(configCandidates({ env: { SCICAT_GLOBUS_PROXY_CONFIG: '/b.yaml' }, cwd: '/w' })).toEqual(
      ['/b.yaml']
    )
    expect(
      configCandidates({ env: { XDG_CONFIG_HOME: '/xdg' }, cwd: '/w', platform: 'linux' })
    ).toEqual([
      '/w/scicat-globus-proxy-config.yaml',
      '/xdg/scicat-globus-proxy/scicat-globus-proxy-config.yaml',
    ])
    expect(configCandidates({ env: { HOME: '/h' }, cwd: '/w', platform: 'linux' })[1]).toBe(
      '/h/.config/scicat-globus-proxy/scicat-globus-proxy-config.yaml'
    )
    expect(configCandidates({ env: { HOME: '/h' }, cwd: '/w', platform: 'darwin' })[1]).toBe(
      '/h/Library/Application Support/scicat-globus-proxy/scicat-globus-proxy-config.yaml'
    )
  })

  it('names every place searched when no file exists, and points to the sandbox', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sgp-'))
    const candidates = configCandidates({
      env: { XDG_CONFIG_HOME: join(dir, 'xdg') },
      cwd: dir,
      platform: 'linux',
    })
    expect(() => readConfigText(candidates)).toThrow(
      new RegExp(
        `searched:\\n  ${dir}/scicat-globus-proxy-config.yaml\\n  ${dir}/xdg/.*sandbox`,
        's'
      )
    )
  })

  it('loads the first file found', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sgp-'))
    writeFileSync(join(dir, 'scicat-globus-proxy-config.yaml'), goExample)
    const { path, config } = loadConfig({ env: { XDG_CONFIG_HOME: join(dir, 'none') }, cwd: dir })
    expect(path).toBe(join(dir, 'scicat-globus-proxy-config.yaml'))
    expect(config.facilities).toHaveLength(2)
  })
})

describe('credentials', () => {
  it('reads secrets from the environment or from <NAME>_FILE', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sgp-'))
    writeFileSync(join(dir, 'secret'), 's3cret\n')
    expect(secret({ GLOBUS_CLIENT_SECRET_FILE: join(dir, 'secret') }, 'GLOBUS_CLIENT_SECRET')).toBe(
      's3cret'
    )
    expect(secret({ GLOBUS_CLIENT_SECRET: 'inline' }, 'GLOBUS_CLIENT_SECRET')).toBe('inline')
    expect(() => secret({ A: '1', A_FILE: '/x' }, 'A')).toThrow(/either A or A_FILE/)
    expect(() => secret({ A_FILE: join(dir, 'missing') }, 'A')).toThrow(/cannot read A_FILE/)
  })

  it('accepts a service token instead of username and password, and names what is missing', () => {
    expect(missingCredentials({})).toEqual([
      'GLOBUS_CLIENT_ID',
      'GLOBUS_CLIENT_SECRET',
      'SCICAT_SERVICE_USER_USERNAME',
      'SCICAT_SERVICE_USER_PASSWORD',
    ])
    const creds = loadCredentials({
      GLOBUS_CLIENT_ID: 'i',
      GLOBUS_CLIENT_SECRET: 's',
      SCICAT_SERVICE_TOKEN: 't',
    })
    expect(creds).toEqual({ globus: { clientId: 'i', clientSecret: 's' }, scicat: { token: 't' } })
    expect(() => loadCredentials({ GLOBUS_CLIENT_ID: 'i' })).toThrow(
      /missing credentials: set GLOBUS_CLIENT_SECRET/
    )
  })
})

describe('scope merging', () => {
  it('merges dependent scopes of the same base scope, deduplicated, in stable order', () => {
    expect(
      mergeScopes([
        'base:all[*a *b]',
        'other',
        'base:all[*b *c]',
        'base:all',
        'other[x[y z]]',
        'two one',
      ])
    ).toEqual(['base:all[*a *b *c]', 'other[x[y z]]', 'two', 'one'])
  })
})
