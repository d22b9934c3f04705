import { describe, expect, it } from 'vitest'
import type { GlobusTask } from '../../src/globus/client.js'
import { runningView, sameView, submittedView } from '../../src/transfers/job-state.js'
import { queuedView } from '../../src/transfers/queued-view.js'
import { missingCyclesLimit, readTask, unchangedReading } from '../../src/transfers/task-outcome.js'
import type { Transfer } from '../../src/transfers/transfer.js'

function transfer (): Transfer {
  const base = submittedView(queuedView('sub-1', 0), 'task-1')
  return {
    jobId: 'job-1',
    params: {} as Transfer['params'],
    owner: { ownerGroup: 'g' },
    createdAt: '2026-01-01T00:00:00Z',
    state: 'active',
    view: base,
  }
}

const task = (over: Partial<GlobusTask> = {}): GlobusTask => ({
  task_id: 'task-1',
  status: 'ACTIVE',
  nice_status: 'OK',
  files: 2,
  files_transferred: 1,
  bytes_transferred: 100,
  ...over,
})

describe('readTask', () => {
  it('fails a transfer only after its task is missing from Globus answers for several cycles in a row', () => {
    const t = transfer()
    for (let i = 1; i < missingCyclesLimit; i++) expect(readTask(t, undefined, 0, 300).kind).toBe('wait')
    readTask(t, task(), 0, 300) // seen again: the count starts over
    for (let i = 1; i < missingCyclesLimit; i++) expect(readTask(t, undefined, 0, 300).kind).toBe('wait')
    const out = readTask(t, undefined, 0, 300)
    expect(out).toMatchObject({ kind: 'ended', view: { statusCode: 'failed' } })
    expect(out.kind === 'ended' && out.view.jobResultObject.error).toContain('Globus does not know task task-1')
  })

  it('SUCCEEDED hands the task to the post-success steps', () => {
    const done = task({ status: 'SUCCEEDED', files_transferred: 2 })
    expect(readTask(transfer(), done, 0, 300)).toEqual({ kind: 'succeeded', task: done })
  })

  it('FAILED with CANCELED is a cancellation, any other FAILED a failure with the fatal error', () => {
    const cancelled = readTask(transfer(), task({ status: 'FAILED', fatal_error: { code: 'CANCELED', description: 'x' } }), 0, 300)
    expect(cancelled).toMatchObject({ kind: 'ended', view: { statusCode: 'cancelled' } })
    const failed = readTask(
      transfer(),
      task({ status: 'FAILED', fatal_error: { code: 'PERMISSION_DENIED', description: 'no access' } }),
      0,
      300
    )
    expect(failed).toMatchObject({ kind: 'ended', view: { statusCode: 'failed', jobResultObject: { error: 'PERMISSION_DENIED: no access' } } })
  })

  it('a fatal nice_status fails fast only once it lasted longer than failFastAfterSeconds, and healing resets the clock', () => {
    const t = transfer()
    const denied = task({ nice_status: 'PERMISSION_DENIED', nice_status_short_description: 'denied' })
    expect(readTask(t, denied, 1000, 300).kind).toBe('running')
    expect(readTask(t, denied, 1000 + 300_000, 300).kind).toBe('running')
    expect(readTask(t, task(), 1000 + 300_001, 300).kind).toBe('running') // healed
    expect(readTask(t, denied, 1000 + 400_000, 300).kind).toBe('running') // the clock starts again
    const out = readTask(t, denied, 1000 + 700_001, 300)
    expect(out).toMatchObject({ kind: 'fail-fast', taskId: 'task-1', view: { statusCode: 'failed' } })
    expect(out.kind === 'fail-fast' && out.view.jobResultObject.error).toBe(
      'PERMISSION_DENIED (denied) for more than 300 s; the Globus task was cancelled'
    )
  })

  it('marks plain progress (also right after "submitted") as progress-only, and a change of status line as not', () => {
    const t = transfer()
    // submitted → transferring: jobResultObject.status, all the Ingestor reads, stays transferring
    expect(readTask(t, task(), 0, 300)).toMatchObject({ kind: 'running', progressOnly: true })
    // submitted → Globus trouble is news
    expect(readTask(t, task({ nice_status: 'PERMISSION_DENIED' }), 0, 300)).toMatchObject({ kind: 'running', progressOnly: false })
    t.view = runningView(t.view, task())
    expect(readTask(t, task({ bytes_transferred: 200 }), 0, 300)).toMatchObject({ kind: 'running', progressOnly: true })
    expect(readTask(t, task({ status: 'INACTIVE', nice_status: 'NETWORK_ERROR' }), 0, 300)).toMatchObject({
      kind: 'running',
      progressOnly: false,
    })
  })

  it('shows a stall (rate 0) as soon as bytes stop moving, even when the last progress was never written', () => {
    const t = transfer()
    t.view = runningView(t.view, task({ bytes_transferred: 100, effective_bytes_per_second: 10 }))
    const moving = readTask(t, task({ bytes_transferred: 200, effective_bytes_per_second: 10 }), 0, 300)
    expect(moving).toMatchObject({ kind: 'running', view: { jobResultObject: { bytesTransferred: 200, bytesPerSecond: 10 } } })
    // not written (over the progress budget): t.view still shows 100 bytes
    const stalled = readTask(t, task({ bytes_transferred: 200, effective_bytes_per_second: 9 }), 0, 300)
    expect(stalled).toMatchObject({ kind: 'running', view: { jobResultObject: { bytesTransferred: 200, bytesPerSecond: 0 } } })
  })
})

describe('unchangedReading', () => {
  const idleTransfer = (reading: GlobusTask): Transfer => {
    const t = transfer()
    t.view = runningView(t.view, reading)
    t.idle = { task: reading, view: t.view }
    return t
  }

  it('is true only for the reading that last showed nothing new, field for field', () => {
    const reading = task({ nice_status_short_description: 'OK', files_skipped: 0, effective_bytes_per_second: 10, completion_time: null, fatal_error: null })
    const t = idleTransfer(reading)
    expect(unchangedReading(t, { ...reading })).toBe(true)
    const changes: Array<Partial<GlobusTask>> = [
      { status: 'INACTIVE' },
      { nice_status: 'Queued' },
      { nice_status_short_description: 'Queued' },
      { files: 3 },
      { files_skipped: 1 },
      { files_transferred: 2 },
      { bytes_transferred: 101 },
      { effective_bytes_per_second: undefined },
      { completion_time: '2026-01-01T00:00:00+00:00' },
      { fatal_error: { code: 'X', description: 'y' } },
    ]
    for (const change of changes) expect(unchangedReading(t, { ...reading, ...change }), JSON.stringify(change)).toBe(false)
    expect(unchangedReading(t, undefined)).toBe(false)
  })

  it('takes a falling rate with the bytes unchanged for the same reading, as the view shows no rate then', () => {
    const t = transfer()
    const running = (reading: GlobusTask) => {
      const out = readTask(t, reading, 0, 300)
      if (out.kind !== 'running') throw new Error(out.kind)
      return out.view
    }
    const moving = task({ bytes_transferred: 500, effective_bytes_per_second: 50 })
    t.view = running(moving)
    const stalled = { ...moving, effective_bytes_per_second: 40 }
    t.view = running(stalled) // the stall is written once: no rate
    expect(t.view.jobResultObject.bytesPerSecond).toBe(0)
    t.idle = { task: stalled, view: t.view }
    const later = { ...stalled, effective_bytes_per_second: 30 }
    expect(unchangedReading(t, later)).toBe(true)
    // what the shortcut skips would have shown nothing new either
    expect(sameView(t.view, running(later))).toBe(true)
  })

  it('is false once the job changed, while an update waits, without an idle reading, and for a fatal nice_status', () => {
    const reading = task()
    const changed = idleTransfer(reading)
    changed.view = { ...changed.view }
    expect(unchangedReading(changed, reading)).toBe(false)
    const waiting = idleTransfer(reading)
    waiting.want = waiting.view
    expect(unchangedReading(waiting, reading)).toBe(false)
    expect(unchangedReading(transfer(), reading)).toBe(false)
    const denied = task({ nice_status: 'PERMISSION_DENIED' })
    expect(unchangedReading(idleTransfer(denied), { ...denied })).toBe(false)
  })
})
