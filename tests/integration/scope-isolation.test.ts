// A facility whose scopes Globus Auth refuses fails its own transfers only (DESIGN §7), and /ready names it.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, expect, it } from 'vitest'
import { sandboxCollections, sandboxFacilities } from '../../src/sandbox/world.js'
import { startWithConfig } from '../helpers/custom-config.js'
import { cyclesUntil, ingestorQuery, type Setup } from '../helpers/proxy.js'

/** A guest collection: it has no data_access scope, so the default scopes name one Auth does not know. */
const GUEST = '9c3f6a1e-0d4b-4e8a-b7a2-6f1d2c3b4a5e'

let setup: Setup | undefined
let tmp: string | undefined
afterEach(async () => {
  await setup?.close()
  setup = undefined
  if (tmp) rmSync(tmp, { recursive: true, force: true })
  tmp = undefined
})

async function start (): Promise<Setup> {
  tmp = mkdtempSync(join(tmpdir(), 'proxy-scopes-'))
  const dir = tmp
  return startWithConfig(
    (world) => `scicatUrl: ${world.scicatUrl}/
facilities:
${sandboxFacilities}  - name: GUEST
    collection: ${GUEST}
    direction: DST
    accessValue: CSCS
    destinationPath: "/guest/{{ .PidShort }}"
server:
  errorStatuses: http
`,
    {
      dir,
      globus: {
        collections: {
          [sandboxCollections.source]: { root: join(dir, 'facility-psi') },
          [sandboxCollections.destination]: { root: join(dir, 'facility-cscs') },
          [GUEST]: { root: join(dir, 'facility-cscs'), hasDataAccessScope: false },
        },
      },
    }
  )
}

function post (s: Setup, destFacility: string, pid = s.world.datasets[0]!.pid) {
  return s.proxy.app.inject({
    method: 'POST',
    url: `/transfer?${ingestorQuery(pid, { destFacility })}`,
    headers: { 'SciCat-API-Key': s.world.tokens.alice },
  })
}

it('fails the transfers to the facility whose data_access scope Auth refuses, with Auth\'s error; the others work; /ready stays 200 naming it', async () => {
  setup = await start()
  const s = setup
  const refused = await post(s, 'GUEST')
  expect(refused.statusCode, refused.body).toBe(502)
  const body = refused.json() as { code: string; details: string; jobId: string }
  expect(body.code).toBe('PROXY_TRANSFER_REJECTED')
  expect(body.details).toContain('UNKNOWN_SCOPE_ERROR')
  expect(body.details).toContain('facility GUEST')
  expect(body.details).toContain(`requested unknown scopes: ['https://auth.globus.org/scopes/${GUEST}/data_access']`)
  const job = s.world.scicat.job(body.jobId)!
  expect(job.statusCode).toBe('failed')
  expect((job.jobResultObject as { error: string }).error).toContain('unknown scopes')
  expect(s.world.globus.tasks()).toHaveLength(0)

  // PSI → CSCS is unaffected
  const ok = await post(s, 'CSCS', s.world.datasets[1]!.pid)
  expect(ok.statusCode, ok.body).toBe(200)
  expect(s.world.globus.tasks()).toHaveLength(1)
  const okJob = (ok.json() as { jobId: string }).jobId
  await cyclesUntil(s, () => s.world.scicat.job(okJob)!.statusCode === 'finished', { stepMs: 1000 })

  // a second refused transfer: logged once per facility, not once per transfer
  expect((await post(s, 'GUEST', s.world.datasets[2]!.pid)).json()).toMatchObject({ code: 'PROXY_TRANSFER_REJECTED' })
  const logged = s.proxy.logs.filter((l) => l.includes('refuses the scopes of a facility'))
  expect(logged).toHaveLength(1)
  expect(logged[0]).toContain('"facility":"GUEST"')
  expect(logged[0]).toContain(`scopes/${GUEST}/data_access`)

  const ready = await s.proxy.app.inject({ method: 'GET', url: '/ready' })
  expect(ready.statusCode).toBe(200)
  expect(ready.json()).toEqual({
    status: 'ready',
    checks: { scicat: 'ok', globus: 'ok' },
    degraded: [{ facility: 'GUEST', message: expect.stringContaining('unknown scopes') }],
  })
})
