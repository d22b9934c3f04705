import { describe, expect, it } from 'vitest'
import { cancelledView, finishedView, sameView, submittedView } from '../../src/transfers/job-state.js'
import { queuedView, roughCount } from '../../src/transfers/queued-view.js'

describe('job views', () => {
  it('queue positions are exact below 10, then rounded down so the message rarely changes', () => {
    expect([0, 1, 9, 10, 19, 20, 99, 100, 250, 1234].map(roughCount)).toEqual([
      '0', '1', '9', '10+', '10+', '20+', '90+', '100+', '200+', '1000+',
    ])
    expect(queuedView('sid', 23).statusMessage).toBe('queued for Globus: 20+ ahead')
  })

  it('bytesTotal and archiveJobId survive going back to the queue, and every later state', () => {
    const start = queuedView('sid', 0)
    const sized = { ...start, jobResultObject: { ...start.jobResultObject, bytesTotal: 1234, archiveJobId: 'a1' } }
    const requeued = queuedView('sid', 5, sized)
    expect(requeued.jobResultObject).toMatchObject({ bytesTotal: 1234, archiveJobId: 'a1', globusTaskId: '', status: 'transferring' })
    const submitted = submittedView(requeued, 'task-1')
    expect(submitted.jobResultObject).toMatchObject({ bytesTotal: 1234, globusTaskId: 'task-1' })
    expect(finishedView(submitted, undefined).jobResultObject.bytesTotal).toBe(1234)
    expect(cancelledView(submitted).jobResultObject.bytesTotal).toBe(1234)
    expect(queuedView('sid', 0).jobResultObject).not.toHaveProperty('bytesTotal')
  })

  it('sameView compares what the job would show: status fields and jobResultObject key by key, in any key order', () => {
    const a = submittedView(queuedView('sid', 0), 'task-1')
    const reordered = { ...a, jobResultObject: Object.fromEntries(Object.entries(a.jobResultObject).reverse()) as typeof a.jobResultObject }
    expect(sameView(a, reordered)).toBe(true)
    // a key set to undefined is no key in the JSON SciCat gets
    expect(sameView(a, { ...a, jobResultObject: { ...a.jobResultObject, niceStatus: undefined } })).toBe(true)
    expect(sameView(a, { ...a, jobResultObject: { ...a.jobResultObject, niceStatus: 'Queued' } })).toBe(false)
    expect(sameView({ ...a, jobResultObject: { ...a.jobResultObject, niceStatus: 'Queued' } }, a)).toBe(false)
    expect(sameView(a, { ...a, jobResultObject: { ...a.jobResultObject, bytesTransferred: 1 } })).toBe(false)
    expect(sameView(a, { ...a, statusMessage: 'other' })).toBe(false)
    expect(sameView(a, { ...a, statusCode: 'transferring' })).toBe(false)
    const { submissionId: _gone, ...fewer } = a.jobResultObject
    expect(sameView(a, { ...a, jobResultObject: fewer as typeof a.jobResultObject })).toBe(false)
  })
})
