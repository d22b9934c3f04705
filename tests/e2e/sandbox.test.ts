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

  it('--demo stopped with Ctrl-C before the transfer finished exits 1 after cleaning up', async () => {
    const child = spawn(process.execPath, [cli, 'sandbox', '--demo'], { env: { PATH: process.env.PATH ?? '', PORT: '0' } })
    let out = ''
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
    try {
      await new Promise<void>((resolve) => {
        child.stdout.on('data', (d: Buffer) => {
          out += String(d)
          if (/job [0-9a-f-]{36} created/.test(out)) resolve()
        })
      })
      child.kill('SIGINT') // the simulated transfer takes at least a second
      expect(await exited).toBe(1)
      expect(out).toContain('SIGINT: stopping the demo before the transfer finished')
      expect(out).not.toContain('finished. Files are in')
    } finally {
      child.kill('SIGKILL')
    }
  }, 60_000)

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
      // every step of the walkthrough, with the URLs, headers and body as printed
      const token = /TOKEN='([^']+)'/.exec(out)?.[1]
      const post = /JOB=\$\(curl -s -X POST '([^']+)'/.exec(out)?.[1]
      const body = /-d '(\{"fileList".*\})'/.exec(out)?.[1]
      const follow = /curl -s '([^']+\/transfer\/)'\$JOB -H "SciCat-API-Key: \$TOKEN"/.exec(out)?.[1]
      const scicatJob = /curl -s '([^']+\/api\/v4\/jobs\/)'\$JOB -H "Authorization: Bearer \$TOKEN"/.exec(out)?.[1]
      const cancel = /curl -s -X DELETE '([^']+\/transfer\/)'\$JOB -H "SciCat-API-Key: \$TOKEN"/.exec(out)?.[1]
      expect({ token, post, body, follow, scicatJob, cancel }).toEqual({
        token: expect.any(String),
        post: expect.any(String),
        body: expect.any(String),
        follow: expect.any(String),
        scicatJob: expect.any(String),
        cancel: expect.any(String),
      })
      expect(out).toContain('| sed -E \'s/.*"jobId":"([^"]+)".*/\\1/\'); echo "$JOB"')
      const res = await fetch(post!, {
        method: 'POST',
        headers: { 'SciCat-API-Key': token!, 'Content-Type': 'application/json' },
        body: body!,
      })
      expect(res.status).toBe(200)
      const answer = await res.text()
      const jobId = /.*"jobId":"([^"]+)".*/.exec(answer)?.[1] // what the printed sed keeps
      expect(jobId).toMatch(/^[0-9a-f-]{36}$/)
      const status = await fetch(`${follow}${jobId}`, { headers: { 'SciCat-API-Key': token! } })
      expect(status.status).toBe(200)
      expect(await status.json()).toMatchObject({ jobId, status: 'transferring' })
      const job = await fetch(`${scicatJob}${jobId}`, { headers: { Authorization: `Bearer ${token}` } })
      expect(job.status).toBe(200)
      expect(await job.json()).toMatchObject({ id: jobId, type: 'globus_transfer_job' })
      // the walkthrough's transfer runs long enough to be cancelled by hand
      const cancelled = await fetch(`${cancel}${jobId}`, { method: 'DELETE', headers: { 'SciCat-API-Key': token! } })
      expect(cancelled.status).toBe(200)
      const after = await fetch(`${follow}${jobId}`, { headers: { 'SciCat-API-Key': token! } })
      expect(await after.json()).toMatchObject({ jobId, status: 'cancelled' })
      // the web page, and the operator who sees the status panel
      const pageUrl = /^ {2}web page +(\S+\/ui\/)/m.exec(out)?.[1]
      expect(pageUrl).toBe(post!.replace(/\/transfer\?.*$/, '/ui/'))
      expect(out).toContain(`open ${pageUrl} and sign in`)
      const page = await fetch(pageUrl!)
      expect(page.status).toBe(200)
      expect(await page.text()).toContain('<title>SciCat Globus transfers</title>')
      const operatorToken = /his token:\n\n {2}(\S+)\n/.exec(out)?.[1]
      const statusUrl = pageUrl!.replace(/\/ui\/$/, '/status')
      expect((await fetch(statusUrl, { headers: { 'SciCat-API-Key': operatorToken! } })).status).toBe(200)
      expect((await fetch(statusUrl, { headers: { 'SciCat-API-Key': token! } })).status).toBe(403)
      const list = await fetch(pageUrl!.replace(/\/ui\/$/, '/transfers'), { headers: { 'SciCat-API-Key': token! } })
      expect(((await list.json()) as { transfers: Array<{ jobId: string }> }).transfers[0]?.jobId).toBe(jobId)
      child.kill('SIGTERM')
      expect(await exited).toBe(0)
      expect(out).toContain('SIGTERM: stopping the sandbox')
    } finally {
      child.kill('SIGKILL')
    }
  }, 60_000)
})
