import { execFile } from 'node:child_process'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const cli = join(import.meta.dirname, '../../dist/cli.js')
const exec = promisify(execFile)

async function run (args: string[], env: Record<string, string> = {}, cwd?: string) {
  try {
    const { stdout, stderr } = await exec(process.execPath, [cli, ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: mkdtempSync(join(tmpdir(), 'sgp-home-')), ...env },
      cwd,
    })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

function file (text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'sgp-')), 'config.yaml')
  writeFileSync(path, text)
  return path
}

describe('scicat-globus-proxy CLI', () => {
  it('check-config --json prints only the resolved config on stdout and warns on stderr', async () => {
    const example = join(import.meta.dirname, '../../scicat-globus-proxy-config.example.yaml')
    const { code, stdout, stderr } = await run(['check-config', '--config', example, '--json'])
    expect(code).toBe(0)
    const json = JSON.parse(stdout)
    expect(json.facilities.map((f: { name: string }) => f.name)).toEqual([
      'EXAMPLE-FULL',
      'EXAMPLE-MINIMAL',
      'EXAMPLE-ARCHIVE',
    ])
    expect(json.facilities[2].destinationPath).toBe('/archive/{{ .Pid }}/{{ .DatasetFolder }}')
    expect(json.globusScopes).toHaveLength(1)
    expect(json.task.pollInterval).toBe(10)
    expect(stderr).toMatch(/warning: not set \(needed by serve\): GLOBUS_CLIENT_ID/)
  })

  it('check-config finds the config through SCICAT_GLOBUS_PROXY_CONFIG and prints it readably', async () => {
    const path = file('scicatUrl: http://s/\nfacilities: [{name: A, collection: c}]\n')
    const { code, stdout } = await run(['check-config'], { SCICAT_GLOBUS_PROXY_CONFIG: path })
    expect(code).toBe(0)
    expect(stdout).toContain(`config: ${path}`)
    expect(stdout).toMatch(/access: +profile\.accessGroups must contain "A"/)
  })

  it('check-config shows the capacity queue\'s fair share policy and limits, as text and as JSON', async () => {
    const path = file(`scicatUrl: http://s/
globus: {fairShare: group, maxActiveTasksPerUser: 3}
facilities: [{name: A, collection: c, maxActiveTasks: 2}, {name: B, collection: d}]
`)
    const text = await run(['check-config', '--config', path])
    expect(text.code).toBe(0)
    expect(text.stdout).toMatch(/fairShare: +group \(a free slot goes to the ownerGroup/)
    expect(text.stdout).toMatch(/maxActiveTasksPerUser: 3\n {2}per facility: +A 2, B no limit/)
    const json = await run(['check-config', '--config', path, '--json'])
    expect(JSON.parse(json.stdout).capacity).toEqual({
      fairShare: 'group',
      maxActiveTasks: 100,
      maxActiveTasksPerUser: 3,
      facilities: { A: 2, B: null },
    })
  })

  it('check-config exits 1 with one line per problem on an invalid file', async () => {
    const path = file(`scicatUrl: http://s
facilities:
  - {name: A, collection: c, direction: UP}
  - {name: A, collection: d}
  - {name: B}
  - {name: C, collection: e, color: red, sourcePath: "/{{ .Nope }}"}
`)
    const { code, stdout, stderr } = await run(['check-config', '--config', path])
    expect(code).toBe(1)
    expect(stdout).toBe('')
    const lines = stderr
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.trim())
    expect(lines).toEqual([
      'facilities[0].direction: must be one of SRC, DST, BOTH',
      'facilities[1].name: duplicate facility name "A" (also facilities[0])',
      'facilities[2].collection: is required',
      'facilities[3].color: unknown key',
      expect.stringMatching(/^facilities\[3\]\.sourcePath: unknown variable \.Nope/),
    ])
  })

  it('exits 1 naming every place searched when there is no config', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'sgp-'))
    const { code, stderr } = await run(['check-config'], { XDG_CONFIG_HOME: join(cwd, 'xdg') }, cwd)
    expect(code).toBe(1)
    expect(stderr).toContain(join(cwd, 'scicat-globus-proxy-config.yaml'))
    expect(stderr).toContain(join(cwd, 'xdg/scicat-globus-proxy/scicat-globus-proxy-config.yaml'))
    expect(stderr).toContain('sandbox')
  })

  it('serve fails fast with one clear line when credentials are missing', async () => {
    const path = file('scicatUrl: http://s/\nfacilities: [{name: A, collection: c}]\n')
    const { code, stderr } = await run(['serve', '--config', path])
    expect(code).toBe(1)
    expect(stderr).toMatch(
      /^error: missing credentials: set GLOBUS_CLIENT_ID, GLOBUS_CLIENT_SECRET/
    )
  })

  describe('serve reports what stops it from starting in one line, exit 1, no stack', () => {
    // a static service token: serve goes straight to building the app and listening
    const env = {
      GLOBUS_CLIENT_ID: 'i',
      GLOBUS_CLIENT_SECRET: 's',
      SCICAT_SERVICE_TOKEN: 't',
      GLOBUS_AUTH_URL: 'http://127.0.0.1:1',
      GLOBUS_TRANSFER_URL: 'http://127.0.0.1:1',
      LOG_LEVEL: 'silent',
    }
    const serve = async (extra: string) => {
      const path = file(`scicatUrl: http://127.0.0.1:1\nfacilities: [{name: A, collection: c}]\n${extra}`)
      const { code, stderr } = await run(['serve', '--config', path], env)
      expect(code).toBe(1)
      expect(stderr).not.toMatch(/^\s+at /m)
      return { path, stderr }
    }

    it('a trustProxy entry that is no address is a config problem', async () => {
      const { path, stderr } = await serve('server: {trustProxy: "127.0.0.1, not-an-ip"}\n')
      expect(stderr).toBe(
        `error: invalid config ${path}:\n` +
          '  server.trustProxy: "not-an-ip" is not an IP address, a CIDR range or one of loopback, linklocal, uniquelocal\n'
      )
    })

    it('an option Fastify refuses that the config check lets through', async () => {
      // node:net takes this zone id, Fastify's proxy-addr does not
      const { path, stderr } = await serve('server: {trustProxy: "fe80::1%en-0"}\n')
      expect(stderr).toBe(`error: could not set up the HTTP server from ${path}: invalid IP address: fe80::1%en-0\n`)
    })

    it('a host that does not resolve, or a port in use', async () => {
      const { stderr } = await serve('server: {host: 256.1.1.1}\n')
      expect(stderr).toMatch(/^error: could not listen on 256\.1\.1\.1:8080: getaddrinfo \w+ 256\.1\.1\.1\n$/)
      const busy = createServer()
      await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve))
      try {
        const { port } = busy.address() as AddressInfo
        const taken = await serve(`port: ${port}\nserver: {host: 127.0.0.1}\n`)
        expect(taken.stderr).toMatch(new RegExp(`^error: could not listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE.*\\n$`))
      } finally {
        await new Promise<void>((resolve) => busy.close(() => resolve()))
      }
    })
  })

  it('prints help and version, and rejects unknown commands and flags', async () => {
    const help = await run(['--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/check-config/)
    const version = await run(['--version'])
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8'))
    expect(version.stdout.trim()).toBe(pkg.version)
    const unknown = await run(['frobnicate'])
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toMatch(/unknown command "frobnicate"/)
    const badFlag = await run(['check-config', '--nope'])
    expect(badFlag.code).toBe(1)
    expect(badFlag.stderr).toMatch(/Unknown option '--nope'/)
    const misplaced = await run(['serve', '--json'])
    expect(misplaced.code).toBe(1)
    expect(misplaced.stderr).toMatch(/--json only applies to check-config/)
  })

  it('healthcheck exits 0 when the service of the config answers /health, 1 otherwise, on the config port', async () => {
    let healthy = true
    const seen: string[] = []
    const server = createServer((req, res) => {
      seen.push(req.url ?? '')
      res.writeHead(healthy ? 200 : 503, { 'content-type': 'application/json' }).end('{}')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const { port } = server.address() as AddressInfo
      // listening on every interface (the default host): asked on loopback
      const path = file(`scicatUrl: http://s\nport: ${port}\nfacilities:\n  - {name: A, collection: c}\n`)
      expect((await run(['healthcheck', '--config', path])).code).toBe(0)
      expect(seen).toEqual(['/health'])
      healthy = false
      const sick = await run(['healthcheck', '--config', path])
      expect(sick.code).toBe(1)
      expect(sick.stderr).toContain(`unhealthy: http://127.0.0.1:${port}/health answered 503`)
      // PORT overrides the file, as for serve
      const elsewhere = await run(['healthcheck', '--config', path], { PORT: '1' })
      expect(elsewhere.code).toBe(1)
      expect(elsewhere.stderr).toContain('unhealthy: http://127.0.0.1:1/health')
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  })
})
