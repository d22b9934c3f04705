import { describe, expect, it } from 'vitest'
import { type Hold, holdNote } from '../../src/transfers/fair-order.js'
import { type JobView, sameView, submittedView } from '../../src/transfers/job-state.js'
import { queuedMessages, queuedView, roughCount, showsQueued } from '../../src/transfers/queued-view.js'

const base = queuedView('sid', 23)
const withResult = (extra: Record<string, unknown>, drop: string[] = []): JobView => {
  const r: Record<string, unknown> = { ...base.jobResultObject, ...extra }
  for (const k of drop) delete r[k]
  return { ...base, jobResultObject: r as unknown as JobView['jobResultObject'] }
}

// every way a job's stored view can differ from the queued view the tracker would write
const prevs: Array<[string, JobView]> = [
  ['the same view', base],
  ['the same place, rounded', queuedView('sid', 27)],
  ['another rounded place', queuedView('sid', 30)],
  ['a hold note', queuedView('sid', 23, undefined, 'at most 2 tasks per user at once')],
  ['another submission id', queuedView('other', 23)],
  ['no submission id', withResult({}, ['submissionId'])],
  ['an archive job id', withResult({ archiveJobId: 'a1' })],
  ['an empty archive job id', withResult({ archiveJobId: '' })],
  ['a bytesTotal', withResult({ bytesTotal: 1234 })],
  ['a bytesTotal that is not finite', withResult({ bytesTotal: Number.NaN })],
  ['keys set to undefined', withResult({ niceStatus: undefined, archiveJobId: undefined })],
  ['a bytesTotal set to undefined', withResult({ bytesTotal: undefined })],
  ['an archive job id and a bytesTotal', withResult({ archiveJobId: 'a1', bytesTotal: 7 })],
  ['a Globus task id', withResult({ globusTaskId: 'task-1' })],
  ['bytes moved', withResult({ bytesTransferred: 5 })],
  ['a missing base field', withResult({}, ['filesTotal'])],
  ['an extra field', withResult({ niceStatus: 'Queued' })],
  ['an error', withResult({ error: 'x' })],
  ['another status', withResult({ status: 'failed' })],
  ['keys in another order', { ...base, jobResultObject: Object.fromEntries(Object.entries(base.jobResultObject).reverse()) as JobView['jobResultObject'] }],
  ['submitted', submittedView(base, 'task-1')],
  ['another status code', { ...base, statusCode: 'submitted' }],
]

describe('showsQueued', () => {
  it.each(prevs)('answers as sameView(prev, queuedView(...)) does: %s', (_name, prev) => {
    for (const [ahead, note] of [[23, undefined], [27, undefined], [5, undefined], [23, 'at most 2 tasks per user at once']] as const) {
      expect(showsQueued(prev, 'sid', queuedView('sid', ahead, undefined, note).statusMessage)).toBe(sameView(prev, queuedView('sid', ahead, prev, note)))
    }
  })

  it('is true for a job already showing its place, false once the rounded place changes', () => {
    const messageOf = queuedMessages()
    expect(showsQueued(base, 'sid', messageOf(20))).toBe(true)
    expect(showsQueued(base, 'sid', messageOf(30))).toBe(false)
  })

  it('queuedMessages gives each place the message queuedView writes, notes included, in any order', () => {
    const messageOf = queuedMessages()
    const places = [...Array(2500).keys(), 99_999, 100_000, 100_001, 15, 9, 10, 0]
    const holds: Array<Hold | undefined> = [undefined, { limit: 'user', user: 'u', max: 2 }, { limit: 'facility', facility: 'f', max: 5 }]
    for (const ahead of places) {
      for (const hold of holds) {
        expect(messageOf(ahead, hold)).toBe(queuedView('sid', ahead, undefined, hold && holdNote(hold)).statusMessage)
      }
    }
    expect(messageOf(1234)).toContain(roughCount(1234))
  })
})
