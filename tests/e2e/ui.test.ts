// The web page in headless Chromium against the built service (dist/cli.js serve) on the simulators.
import type { Page, Request } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type Browser, launchBrowser } from '../helpers/browser.js'
import { freePort, ServiceProcess, waitUntil, writeConfig } from '../helpers/service-process.js'
import { startWorld, type World } from '../../src/sandbox/world.js'

let world: World
let service: ServiceProcess
let browser: Browser
let base: string
let operatorToken: string
let page: Page | undefined

beforeAll(async () => {
  // slow enough to watch a transfer move and to cancel it (the datasets are 0.9 to 2.3 MB)
  world = await startWorld({ globus: { bytesPerSecond: 40_000 } })
  world.scicat.addUser({ username: 'oscar', password: 'oscar', email: 'oscar@example.org', groups: ['proxy-operators', 'PSI', 'CSCS'] })
  operatorToken = world.scicat.issueToken('oscar', { expiresInSeconds: 3600 })
  const config = writeConfig(
    world.dir,
    `${world.configText}task:\n  pollInterval: 0.5\nscicat:\n  identityCacheSeconds: 1\nserver:\n  adminGroups: [proxy-operators]\n`
  )
  const port = await freePort()
  service = await ServiceProcess.start({ config, env: world.env, port })
  base = `http://127.0.0.1:${port}`
  browser = await launchBrowser()
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await service?.kill('SIGTERM')
  await world?.close()
})

afterEach(async () => {
  await page?.close()
  page = undefined
})

/** A new tab on the page; every request it makes is kept. */
async function open (): Promise<{ page: Page; requests: Request[] }> {
  const p = await browser.context.newPage()
  page = p
  const requests: Request[] = []
  p.on('request', (r) => requests.push(r))
  await p.goto(`${base}/ui/`)
  return { page: p, requests }
}

async function signIn (p: Page, token: string): Promise<void> {
  await p.fill('#token', token)
  await p.click('#signin button[type=submit]')
}

/** POST /transfer as the Ingestor sends it; the job id. */
async function ingestorTransfer (pid: string, token = world.tokens.alice): Promise<string> {
  const q = new URLSearchParams({ sourceFacility: 'PSI', destFacility: 'CSCS', scicatPid: pid, collectionRootPath: '/' })
  const res = await fetch(`${base}/transfer?${q}`, { method: 'POST', headers: { 'SciCat-API-Key': token } })
  expect(res.status).toBe(200)
  return ((await res.json()) as { jobId: string }).jobId
}

const bytesValue = async (p: Page, jobId: string) =>
  Number(await p.locator(`li[data-job-id="${jobId}"] .bytes progress`).evaluate((e) => (e as unknown as { value: number }).value))

describe('the web page in Chromium', () => {
  it('tells a bad token clearly and stays on the sign-in form', async () => {
    const { page: p } = await open()
    await signIn(p, 'not-a-scicat-token')
    await expect.poll(() => p.textContent('#message')).toContain('Your SciCat token is invalid or has expired')
    expect(await p.isVisible('#signin')).toBe(true)
    expect(await p.isVisible('#app')).toBe(false)
    expect(await p.evaluate('sessionStorage.length')).toBe(0)
    // signed in, the sign-in form goes away
    await signIn(p, world.tokens.alice)
    await p.locator('#app').waitFor()
    expect(await p.isVisible('#signin')).toBe(false)
    expect(await p.isVisible('#sign-out')).toBe(true)
    await p.click('#sign-out')
    expect(await p.isVisible('#signin')).toBe(true)
    expect(await p.evaluate('sessionStorage.length')).toBe(0)
  })

  it('signs in with the token, follows a running transfer\'s bars, cancels it after confirmation, and starts one from the form', async () => {
    const running = await ingestorTransfer(world.datasets[2]!.pid)
    const { page: p, requests } = await open()
    await p.evaluate('window.loadedOnce = true')
    await signIn(p, world.tokens.alice)
    const card = p.locator(`li[data-job-id="${running}"]`)
    await card.waitFor()
    expect(await card.locator('.transfer-title').textContent()).toBe(world.datasets[2]!.pid)
    expect(await card.locator('.route').textContent()).toContain('PSI → CSCS')
    // real <progress> elements, labelled, whose values advance without a reload
    const bytes = card.locator('.bytes progress')
    expect(await bytes.getAttribute('aria-labelledby')).toBeTruthy()
    await expect.poll(() => bytesValue(p, running), { timeout: 20_000 }).toBeGreaterThan(0)
    const first = await bytesValue(p, running)
    await expect.poll(() => bytesValue(p, running), { timeout: 20_000 }).toBeGreaterThan(first)
    expect(await bytes.evaluate((e) => (e as unknown as { max: number }).max)).toBe(world.datasets[2]!.size)
    expect(await card.locator('.files progress').evaluate((e) => (e as unknown as { max: number }).max)).toBe(4)
    await expect.poll(() => card.locator('.rate').textContent()).toMatch(/kB\/s$/)
    expect(await card.locator('.time-left').textContent()).toMatch(/\d+ (s|min)/)
    expect(await card.locator('.state').textContent()).toBe('transferring')
    // a non-admin has no status panel
    expect(await p.isVisible('#status-section')).toBe(false)

    // cancel asks first: dismissed, nothing is sent
    p.once('dialog', (d) => d.dismiss())
    await card.locator('button.cancel').click()
    expect(requests.filter((r) => r.method() === 'DELETE')).toHaveLength(0)
    let asked = ''
    p.once('dialog', (d) => {
      asked = d.message()
      return d.accept()
    })
    await card.locator('button.cancel').click()
    await expect.poll(() => card.locator('.state').textContent(), { timeout: 10_000 }).toBe('cancelled')
    expect(asked).toContain(`Cancel the transfer of ${world.datasets[2]!.pid}?`)
    expect(await p.textContent('#message')).toContain('is cancelled')
    expect(world.scicat.job(running)?.jobResultObject).toMatchObject({ status: 'cancelled' })
    expect(await card.locator('button.cancel').isVisible()).toBe(false)

    // the form: facilities from /facilities, the PID, autoArchive
    expect(await p.locator('select[name=sourceFacility] option').allTextContents()).toEqual(['PSI'])
    expect(await p.locator('select[name=destFacility] option').allTextContents()).toEqual(['CSCS'])
    await p.fill('input[name=scicatPid]', world.datasets[0]!.pid)
    await p.uncheck('input[name=autoArchive]')
    await p.click('#start-form button[type=submit]')
    await expect.poll(() => p.textContent('#message'), { timeout: 10_000 }).toMatch(/started \(SciCat job [0-9a-f-]{36}\)/)
    const started = /SciCat job ([0-9a-f-]{36})/.exec((await p.textContent('#message'))!)![1]!
    await p.locator(`li[data-job-id="${started}"]`).waitFor()
    expect(world.scicat.job(started)?.jobParams).toMatchObject({ autoArchive: false, sourceFacility: 'PSI', destFacility: 'CSCS' })
    // newest first
    expect(await p.locator('li.transfer').first().getAttribute('data-job-id')).toBe(started)

    // a form error is shown as the service words it
    await p.fill('input[name=scicatPid]', '20.500.12345/no-such-dataset')
    await p.click('#start-form button[type=submit]')
    await expect.poll(() => p.textContent('#message')).toContain('PROXY_DATASET_NOT_FOUND')
    expect(await p.textContent('#message')).toContain('Could not start the transfer of 20.500.12345/no-such-dataset')

    // no reload happened; the list came from GET /transfers alone, the token only ever in the header
    expect(await p.evaluate('window.loadedOnce')).toBe(true)
    const api = requests.filter((r) => !new URL(r.url()).pathname.startsWith('/ui/'))
    expect(api.filter((r) => new URL(r.url()).pathname === '/transfers').length).toBeGreaterThanOrEqual(2)
    expect(api.filter((r) => r.method() === 'GET' && new URL(r.url()).pathname.startsWith('/transfer/'))).toEqual([])
    for (const r of requests) {
      expect(new URL(r.url()).origin).toBe(base)
      expect(r.url()).not.toContain(world.tokens.alice)
    }
    for (const r of api) expect(await r.headerValue('scicat-api-key')).toBe(world.tokens.alice)
    expect(await browser.context.cookies()).toEqual([])
    // sessionStorage: a reload keeps the session, another tab does not share it
    await p.reload()
    await p.locator(`li[data-job-id="${started}"]`).waitFor()
    const other = await browser.context.newPage()
    await other.goto(`${base}/ui/`)
    expect(await other.isVisible('#signin')).toBe(true)
    await other.close()
  }, 90_000)

  it('shows an admin the /status panel and every transfer of the deployment', async () => {
    const jobId = await ingestorTransfer(world.datasets[1]!.pid)
    const { page: p } = await open()
    await signIn(p, operatorToken)
    await p.locator('#status-section').waitFor()
    const panel = p.locator('#status-panel')
    await expect.poll(() => panel.textContent()).toContain('single')
    expect(await panel.textContent()).toContain('Active Globus tasks')
    expect(await panel.textContent()).toMatch(/SciCat\s*ok/)
    expect(await panel.textContent()).toMatch(/Globus\s*ok/)
    // alice's transfer, seen by the operator, who is in none of her groups
    const card = p.locator(`li[data-job-id="${jobId}"]`)
    await card.waitFor()
    expect(await p.textContent('#list-scope')).toContain('you are an admin')
    await expect.poll(() => bytesValue(p, jobId), { timeout: 20_000 }).toBeGreaterThan(0)
    if (process.env.UI_SCREENSHOT) await p.screenshot({ path: process.env.UI_SCREENSHOT, fullPage: true })
  }, 60_000)

  it('ends the session with a clear message when the token expires', async () => {
    const shortLived = world.scicat.issueToken('alice', { expiresInSeconds: 3 })
    const { page: p } = await open()
    await signIn(p, shortLived)
    await p.locator('#app').waitFor()
    await waitUntil('the expiry to end the session', async () => await p.isVisible('#signin'), { timeoutMs: 20_000, intervalMs: 200 })
    expect(await p.textContent('#message')).toContain('Your SciCat token is invalid or has expired. Sign in again')
    expect(await p.isVisible('#app')).toBe(false)
    expect(await p.evaluate('sessionStorage.length')).toBe(0)
  }, 40_000)
})
