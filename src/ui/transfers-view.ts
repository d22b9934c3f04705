// The list of transfers: one card per job, updated in place at every refresh (bars keep their element).
import { formatBytes, formatDuration, formatTime } from './format.js'

export interface TransferItem {
  jobId: string
  pid?: string
  status: string
  message: string
  globusTaskId: string
  bytesTransferred: number
  filesTransferred: number
  filesTotal: number
  bytesTotal?: number
  sourceFacility: string
  destFacility: string
  createdAt: string
  updatedAt: string
  queuePosition?: number
  bytesPerSecond?: number
  error?: string
}

function el<K extends keyof HTMLElementTagNameMap> (tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag)
  if (className) e.className = className
  if (text !== undefined) e.textContent = text
  return e
}

interface Card {
  root: HTMLElement
  title: HTMLElement
  state: HTMLElement
  route: HTMLElement
  files: HTMLProgressElement
  filesLabel: HTMLElement
  bytes: HTMLProgressElement
  bytesLabel: HTMLElement
  rate: HTMLElement
  left: HTMLElement
  queue: HTMLElement
  message: HTMLElement
  error: HTMLElement
  cancel: HTMLButtonElement
}

function fact (dl: HTMLElement, term: string, className: string): HTMLElement {
  dl.append(el('dt', undefined, term))
  const dd = el('dd', className)
  dl.append(dd)
  return dd
}

function bar (parent: HTMLElement, label: string, className: string): { bar: HTMLProgressElement; label: HTMLElement } {
  const row = el('div', `bar ${className}`)
  const id = `${className}-${Math.random().toString(36).slice(2)}`
  const name = el('span', 'bar-name', label)
  name.id = id
  const progress = el('progress')
  progress.setAttribute('aria-labelledby', id)
  const text = el('span', 'bar-text')
  row.append(name, progress, text)
  parent.append(row)
  return { bar: progress, label: text }
}

function newCard (jobId: string, onCancel: (jobId: string, what: string) => void): Card {
  const root = el('li', 'transfer')
  root.dataset.jobId = jobId
  const head = el('div', 'transfer-head')
  const title = el('h3', 'transfer-title')
  const state = el('span', 'state')
  head.append(title, state)
  const route = el('p', 'route')
  root.append(head, route)
  const files = bar(root, 'Files', 'files')
  const bytes = bar(root, 'Bytes', 'bytes')
  const dl = el('dl', 'facts')
  const rate = fact(dl, 'Rate', 'rate')
  const left = fact(dl, 'Time left', 'time-left')
  const queue = fact(dl, 'Queue', 'queue-position')
  root.append(dl)
  const message = el('p', 'job-message')
  const error = el('p', 'error')
  error.hidden = true
  const cancel = el('button', 'cancel', 'Cancel transfer')
  cancel.type = 'button'
  const card: Card = { root, title, state, route, files: files.bar, filesLabel: files.label, bytes: bytes.bar, bytesLabel: bytes.label, rate, left, queue, message, error, cancel }
  cancel.addEventListener('click', () => onCancel(jobId, card.title.textContent ?? jobId))
  root.append(message, error, cancel)
  return card
}

function setProgress (p: HTMLProgressElement, value: number, max: number | undefined): void {
  if (max === undefined || max <= 0) {
    // no total known yet: an indeterminate bar
    p.removeAttribute('value')
    p.removeAttribute('max')
    return
  }
  p.max = max
  p.value = Math.min(value, max)
}

function update (c: Card, t: TransferItem): void {
  c.title.textContent = t.pid ?? `job ${t.jobId}`
  c.title.title = `SciCat job ${t.jobId}${t.globusTaskId ? `, Globus task ${t.globusTaskId}` : ''}`
  const queued = t.queuePosition !== undefined
  const state = queued ? 'queued' : t.status
  c.state.textContent = state
  c.state.className = `state state-${state}`
  c.root.dataset.status = t.status
  c.route.textContent = `${t.sourceFacility} → ${t.destFacility} · started ${formatTime(t.createdAt)}`
  setProgress(c.files, t.filesTransferred, t.filesTotal || undefined)
  c.filesLabel.textContent = t.filesTotal ? `${t.filesTransferred} of ${t.filesTotal}` : `${t.filesTransferred}`
  setProgress(c.bytes, t.bytesTransferred, t.bytesTotal)
  c.bytesLabel.textContent = t.bytesTotal
    ? `${formatBytes(t.bytesTransferred)} of ${formatBytes(t.bytesTotal)}`
    : formatBytes(t.bytesTransferred)
  const running = t.status === 'transferring'
  const rate = running && t.bytesPerSecond ? t.bytesPerSecond : undefined
  c.rate.textContent = rate ? `${formatBytes(rate)}/s` : '—'
  const remaining = t.bytesTotal !== undefined ? t.bytesTotal - t.bytesTransferred : undefined
  c.left.textContent = rate && remaining !== undefined ? formatDuration(remaining / rate) : running ? 'unknown' : '—'
  c.queue.textContent = queued ? (t.queuePosition === 0 ? 'next' : `${t.queuePosition} ahead`) : '—'
  c.message.textContent = t.message
  c.error.hidden = !t.error
  c.error.textContent = t.error ? `Error: ${t.error}` : ''
  c.cancel.hidden = !running
}

export class TransfersView {
  private readonly cards = new Map<string, Card>()

  constructor (
    private readonly list: HTMLElement,
    private readonly empty: HTMLElement,
    private readonly onCancel: (jobId: string, what: string) => void
  ) {}

  render (transfers: TransferItem[]): void {
    const seen = new Set<string>()
    let previous: HTMLElement | undefined
    for (const t of transfers) {
      seen.add(t.jobId)
      let card = this.cards.get(t.jobId)
      if (!card) {
        card = newCard(t.jobId, this.onCancel)
        this.cards.set(t.jobId, card)
      }
      update(card, t)
      // keep the service's order (newest first) without re-creating elements
      const want = previous ? previous.nextSibling : this.list.firstChild
      if (want !== card.root) this.list.insertBefore(card.root, want)
      previous = card.root
    }
    for (const [id, card] of this.cards) {
      if (!seen.has(id)) {
        card.root.remove()
        this.cards.delete(id)
      }
    }
    this.empty.hidden = transfers.length > 0
  }

  clear (): void {
    this.render([])
  }
}
