// `serve` without ha.lease: wrong SciCat service-account credentials stop the start at once, with a clear message.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { ConfigError } from '../../src/config/loader.js'
import { startWorld, type World } from '../../src/sandbox/world.js'
import { serve } from '../../src/server.js'
import { Resources } from '../helpers/upstreams.js'

const res = new Resources()
let world: World | undefined
afterEach(async () => {
  await world?.close()
  world = undefined
  await res.close()
})

describe('the start-up login of the SciCat service account', () => {
  it('fails the start of an instance without ha.lease on a refused password, naming SciCat and its answer', async () => {
    const w = await startWorld({ datasets: 0 })
    world = w
    const dir = await res.tempDir()
    const config = join(dir, 'config.yaml')
    writeFileSync(config, w.configText.replace('port: 8080', 'port: 0'))
    const started = serve({ configFlag: config, env: { ...w.env, SCICAT_SERVICE_USER_PASSWORD: 'wrong' }, cwd: dir })
    await expect(started).rejects.toBeInstanceOf(ConfigError)
    await expect(started).rejects.toThrow(`the SciCat service account could not log in at ${w.scicatUrl}: scicat login: 401: Unauthorized`)
    expect(w.scicat.core.count('login')).toBe(1)
    // it stopped before anything else: no Globus token, no discovery
    expect([...w.globus.core.counts.values()].reduce((n, c) => n + c, 0)).toBe(0)
  })
})
