// Headless Chromium (Debian's package, driven by playwright-core, which downloads no browser) with a fresh profile.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type BrowserContext, chromium } from 'playwright-core'

export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

export const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
]

export interface Browser {
  context: BrowserContext
  close(): Promise<void>
}

export async function launchBrowser (): Promise<Browser> {
  const profile = await mkdtemp(join(tmpdir(), 'chromium-profile-'))
  let context: BrowserContext
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath,
      headless: true,
      args: chromiumArgs,
      viewport: { width: 1100, height: 900 },
      locale: 'en-GB',
      timezoneId: 'UTC',
    })
  } catch (err) {
    await rm(profile, { recursive: true, force: true })
    throw err
  }
  return {
    context,
    async close () {
      await context.close()
      await rm(profile, { recursive: true, force: true })
    },
  }
}
