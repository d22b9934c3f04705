// The README's e-mail recipe: job configurations SciCat accepts, whose switch cases are exactly the statusCodes the service writes when a transfer ends.
import { readFileSync } from 'node:fs'
import yaml from 'js-yaml'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../src/config/loader.js'
import { Metrics } from '../../src/metrics.js'
import type { ScicatClient } from '../../src/scicat/client.js'
import { failedView, finishedView, type JobView, type SiteStatusCodes } from '../../src/transfers/job-state.js'
import { queuedView } from '../../src/transfers/queued-view.js'
import { JobWriter } from '../../src/transfers/job-writer.js'

type Doc = Record<string, unknown>

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
const yamlBlocks = [...readme.matchAll(/^```yaml\n([\s\S]*?)^```$/gm)].map((m) => m[1] as string)

/** The README's one YAML block that begins with the comment `# <title>`. */
function snippet (title: string): string {
  const found = yamlBlocks.filter((b) => b.startsWith(`# ${title}\n`))
  expect(found, `README block "# ${title}"`).toHaveLength(1)
  return found[0] as string
}

const isDoc = (v: unknown): v is Doc => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * What SciCatProject/scicat-backend-next (4055c96) accepts: src/config/job-config/jobconfig.schema.ts for the
 * job entry, isSwitchJobActionOptions (switchaction.interface.ts: exactly these keys, a known phase) and
 * isEmailJobActionOptions (emailaction.interface.ts) for the actions. Returns the switch action.
 */
function acceptedSwitch (entry: unknown): Doc {
  expect(isDoc(entry)).toBe(true)
  const job = entry as Doc
  expect(job.jobType).toBe('globus_transfer_job')
  const update = job.update as Doc
  expect(typeof update.auth).toBe('string')
  const actions = update.actions as Doc[]
  expect(Array.isArray(actions)).toBe(true)
  const switches = actions.filter((a) => a.actionType === 'switch')
  expect(switches).toHaveLength(1)
  const action = switches[0] as Doc
  expect(Object.keys(action).every((k) => ['actionType', 'phase', 'property', 'cases'].includes(k))).toBe(true)
  expect(['validate', 'perform', 'all']).toContain(action.phase)
  // the statusCode this update writes (the update's body); `perform`: after it is saved
  expect(action).toMatchObject({ phase: 'perform', property: 'request.statusCode' })
  const cases = action.cases as Doc[]
  expect(Array.isArray(cases)).toBe(true)
  for (const c of cases) {
    expect(Array.isArray(c.actions)).toBe(true)
    for (const email of c.actions as Doc[]) {
      expect(email.actionType).toBe('email')
      expect(typeof email.to).toBe('string')
      expect(typeof email.subject).toBe('string')
      expect(typeof email.bodyTemplateFile).toBe('string')
      expect(email.from === undefined || typeof email.from === 'string').toBe(true)
      // a mail that cannot be sent must not fail the service's PATCH
      expect(email.ignoreErrors).toBe(true)
      expect(email.to).toBe('{{{ job.contactEmail }}}')
    }
  }
  return action
}

/** The `match` values of the cases; every case matches a literal (no default case mails on other updates). */
function matchedCodes (action: Doc): unknown[] {
  const cases = action.cases as Doc[]
  for (const c of cases) expect(Object.hasOwn(c, 'match'), JSON.stringify(c)).toBe(true)
  return cases.map((c) => c.match)
}

/** The statusCode the service's JobWriter PATCHes for a finished and for a failed transfer, under `codes`. */
async function writtenEndCodes (codes: SiteStatusCodes): Promise<string[]> {
  const bodies: Doc[] = []
  const scicat = { updateJob: async (_id: string, body: Doc) => { bodies.push(body) } } as unknown as ScicatClient
  const writer = new JobWriter(scicat, new Metrics(), pino({ level: 'silent' }), () => true, codes)
  const prev = queuedView('submission-1', 0)
  const ends: JobView[] = [finishedView(prev, undefined), failedView(prev, 'FILE_NOT_FOUND: gone')]
  for (const view of ends) await writer.write({ jobId: 'job-1', view: prev }, view)
  return bodies.map((b) => String(b.statusCode))
}

const baseConfig = 'scicatUrl: http://scicat.example.org\nfacilities: [{name: PSI, collection: c-1}]\n'

describe('the README e-mail recipe', () => {
  it('with the default status codes mails on exactly what the service writes for finished and failed', async () => {
    const entries = yaml.load(snippet('e-mail recipe, default status codes'))
    expect(Array.isArray(entries)).toBe(true)
    const action = acceptedSwitch((entries as unknown[])[0])
    const codes = parseConfig(baseConfig).scicat.statusCodes
    expect(matchedCodes(action)).toEqual(await writtenEndCodes(codes))
  })

  it('with SciCat\'s conventional codes mails on exactly what the service writes under the README\'s scicat.statusCodes', async () => {
    const config = snippet('scicat-globus-proxy-config.yaml, SciCat\'s conventional status codes')
    const codes = parseConfig(baseConfig + config).scicat.statusCodes
    const entries = yaml.load(snippet('e-mail recipe, SciCat\'s conventional status codes'))
    const action = acceptedSwitch((entries as unknown[])[0])
    const written = await writtenEndCodes(codes)
    expect(written).toEqual(['finishedSuccessful', 'finishedUnsuccessful'])
    expect(matchedCodes(action)).toEqual(written)
  })
})
