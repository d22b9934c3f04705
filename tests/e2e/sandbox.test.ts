import { execFile, spawn } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const cli = join(import.meta.dirname, '../../dist/cli.js')

describe('scicat-globus-proxy sandbox', () => {
  it('--demo submits one transfer, follows it to the end and exits 0', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [cli, 'sandbox', '--demo'], {
      env: { PATH: process.env.PATH ?? '', PORT: '0' },
      timeout: 60_000,
    })
    expect(stdout).toMatch(/job [0-9a-f-]{36} created/)
    expect(stdout).toMatch(/^finished\. Files are in /m)
    expect(stdout).toMatch(/is archivable: true; archive job: [0-9a-f-]{36}/)
  }, 70_000)

  it('prints a walkthrough whose curl commands work, and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [cli, 'sandbox'], { env: { PATH: process.env.PATH ?? '', PORT: '0' } })
    let out = ''
    child.stdout.on('data', (d: Buffer) => {
      out += String(d)
    })
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
    try {
      const deadline = Date.now() + 30_000
      while (!out.includes('Press Ctrl-C to stop.') && Date.now() < deadline) {
        await new Promise((resolve) => child.stdout.once('data', resolve))
      }
      const url = /proxy +(http:\/\/\S+)/.exec(out)?.[1]
      const token = /TOKEN='([^']+)'/.exec(out)?.[1]
      const post = /curl -s -X POST '([^']+)'/.exec(out)?.[1]
      expect(url && token && post).toBeTruthy()
      const res = await fetch(post!, {
        method: 'POST',
        headers: { 'SciCat-API-Key': token!, 'content-type': 'application/json' },
        body: JSON.stringify({ fileList: [{ path: 'README.txt', isSymlink: false }] }),
      })
      expect(res.status).toBe(200)
      const { jobId } = (await res.json()) as { jobId: string }
      const status = await fetch(`${url}/transfer/${jobId}`, { headers: { 'SciCat-API-Key': token! } })
      expect(status.status).toBe(200)
      expect(((await status.json()) as { jobId: string }).jobId).toBe(jobId)
      child.kill('SIGTERM')
      expect(await exited).toBe(0)
      expect(out).toContain('SIGTERM: stopping the sandbox')
    } finally {
      child.kill('SIGKILL')
    }
  }, 60_000)
})
