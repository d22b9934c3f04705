// The Globus transfer document of a transfer: built at submission, with the configured options.
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../src/config/loader.js'
import { type Transfer, transferSpec } from '../../src/transfers/transfer.js'

const config = (globus = '') =>
  parseConfig(
    `scicatUrl: http://scicat.example.org
facilities:
  - name: PSI
    collection: aa752cea-8222-5bc8-acd9-555b090c0ccb
  - name: CSCS
    collection: 313ce13e-b597-5858-ae13-29e46fea26e6
${globus}`,
    'test',
    {}
  )

const transfer: Transfer = {
  jobId: 'job-1',
  params: {
    pid: '20.500.12345/ds-1',
    sourceFacility: 'PSI',
    destFacility: 'CSCS',
    sourceCollection: 'aa752cea-8222-5bc8-acd9-555b090c0ccb',
    destinationCollection: '313ce13e-b597-5858-ae13-29e46fea26e6',
    sourcePath: '/data/ds-1',
    destinationPath: '/archive/ds-1',
    autoArchive: true,
    globusSubmissionId: 'sub-1',
    sourceFolder: '/data/ds-1',
    collectionRootPath: '/',
    verifyChecksum: true,
    syncLevel: 'none',
  },
  owner: { ownerGroup: 'p1', ownerUser: 'alice' },
  createdAt: '2026-01-01T00:00:00.000Z',
  state: 'queued',
  view: { statusCode: 'queued', statusMessage: '', jobResultObject: {} } as unknown as Transfer['view'],
}

describe('transferSpec', () => {
  it('computes the deadline from globus.deadlineHours when the transfer is submitted, not when it was created', () => {
    const submittedAt = Date.parse('2026-03-05T12:00:00.000Z')
    const spec = transferSpec(transfer, config('globus:\n  deadlineHours: 48\n'), submittedAt)
    expect(spec.deadline).toBe('2026-03-07T12:00:00.000Z')
    // a later submission (the job waited in the queue) gets a later deadline
    expect(transferSpec(transfer, config('globus:\n  deadlineHours: 48\n'), submittedAt + 3_600_000).deadline).toBe(
      '2026-03-07T13:00:00.000Z'
    )
  })

  it('sends no deadline without globus.deadlineHours (Globus\'s own policy applies)', () => {
    expect(transferSpec(transfer, config(), Date.now())).not.toHaveProperty('deadline')
  })

  it('carries the two facilities for the token, and fail_on_quota_errors true and skip_source_errors false by default', () => {
    const spec = transferSpec(transfer, config(), Date.now())
    expect(spec).toMatchObject({ facilities: ['PSI', 'CSCS'], failOnQuotaErrors: true, skipSourceErrors: false })
    const set = transferSpec(transfer, config('globus:\n  failOnQuotaErrors: false\n  skipSourceErrors: true\n'), Date.now())
    expect(set).toMatchObject({ failOnQuotaErrors: false, skipSourceErrors: true })
  })

  it('defaults globus.submitAttempts to 10 and refuses a non-integer', () => {
    expect(config().globus.submitAttempts).toBe(10)
    expect(config('globus:\n  submitAttempts: 3\n').globus.submitAttempts).toBe(3)
    expect(() => config('globus:\n  submitAttempts: 2.5\n')).toThrow(/submitAttempts/)
  })
})
