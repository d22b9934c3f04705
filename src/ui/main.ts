// The web page: sign in with a SciCat token, follow, start and cancel transfers; the status panel for admins.
import { ApiError, call } from './api.js'
import { type Facility, StartForm } from './start-form.js'
import { renderStatus, type ServiceStatus } from './status-panel.js'
import { type TransferItem, TransfersView } from './transfers-view.js'

/** The token stays in this tab only (sessionStorage): never in a URL or a cookie. */
const tokenKey = 'scicat-globus-proxy.token'
const refreshMs = 3000

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T

const signIn = $<HTMLFormElement>('signin')
const signedIn = $<HTMLElement>('signed-in')
const app = $<HTMLElement>('app')
const message = $<HTMLElement>('message')
const updated = $<HTMLElement>('updated')
const statusFilter = $<HTMLSelectElement>('status-filter')
const statusPanel = $<HTMLElement>('status-panel')
const startForm = new StartForm($<HTMLFormElement>('start-form'))
const view = new TransfersView($('transfer-list'), $('no-transfers'), (jobId, what) => {
  background(cancel(jobId, what))
})

let token = sessionStorage.getItem(tokenKey) ?? ''
/** Bumped at every sign-in and sign-out: a refresh of an older session stops. */
let session = 0
let timer: number | undefined
let admin = false

/** Work started from an event: its failures are shown, never lost. */
function background (work: Promise<unknown>): void {
  work.catch((err: unknown) => show(`Something went wrong on this page: ${String(err)}`))
}

function show (text: string, kind: 'error' | 'info' = 'error'): void {
  message.textContent = text
  message.className = `message message-${kind}`
  message.hidden = !text
}

/** Every API failure goes here; an invalid or expired token ends the session. */
function failed (err: unknown, what: string): void {
  if (err instanceof ApiError && err.status === 401) {
    signOut()
    show(err.describe(what))
    return
  }
  show(err instanceof ApiError ? err.describe(what) : `${what}: ${String(err)}`)
}

async function refresh (mine: number): Promise<void> {
  const q = new URLSearchParams({ limit: '50' })
  if (statusFilter.value) q.set('status', statusFilter.value)
  try {
    const page = await call<{ transfers: TransferItem[]; all: boolean }>(token, 'GET', `/transfers?${q}`)
    if (mine !== session) return
    view.render(page.transfers)
    $('list-scope').textContent = page.all ? 'every transfer of the service (you are an admin)' : 'the transfers SciCat lets you see'
    updated.textContent = `updated ${new Date().toLocaleTimeString()}`
    if (message.dataset.from === 'refresh') show('')
  } catch (err) {
    if (mine !== session) return
    failed(err, 'Could not read your transfers')
    message.dataset.from = 'refresh'
  }
  if (admin && mine === session) await refreshStatus(mine)
}

async function refreshStatus (mine: number): Promise<void> {
  try {
    const s = await call<ServiceStatus>(token, 'GET', '/status')
    if (mine === session) renderStatus(statusPanel, s)
  } catch (err) {
    if (mine !== session) return
    if (err instanceof ApiError && err.status === 403) {
      admin = false
      $('status-section').hidden = true
      return
    }
    failed(err, 'Could not read the service status')
  }
}

function loop (mine: number): void {
  background(
    refresh(mine).finally(() => {
      if (mine === session) timer = window.setTimeout(() => loop(mine), refreshMs)
    })
  )
}

function refreshNow (): void {
  window.clearTimeout(timer)
  loop(session)
}

async function start (): Promise<void> {
  const mine = ++session
  signIn.hidden = true
  show('Signing in…', 'info')
  let facilities: Facility[]
  try {
    facilities = (await call<{ facilities: Facility[] }>(token, 'GET', '/facilities')).facilities
  } catch (err) {
    failed(err, 'Could not sign in')
    return
  }
  if (mine !== session) return
  show(startForm.setFacilities(facilities) ?? '', 'info')
  app.hidden = false
  signedIn.hidden = false
  // only members of server.adminGroups get 200; everyone else 403, asked once
  try {
    renderStatus(statusPanel, await call<ServiceStatus>(token, 'GET', '/status'))
    admin = true
    $('status-section').hidden = false
  } catch (err) {
    admin = false
    $('status-section').hidden = true
    if (!(err instanceof ApiError && err.status === 403)) failed(err, 'Could not read the service status')
  }
  if (mine === session) loop(mine)
}

function signOut (): void {
  session++
  window.clearTimeout(timer)
  token = ''
  admin = false
  sessionStorage.removeItem(tokenKey)
  view.clear()
  app.hidden = true
  signedIn.hidden = true
  $('status-section').hidden = true
  signIn.hidden = false
  show('')
}

async function cancel (jobId: string, what: string): Promise<void> {
  if (!window.confirm(`Cancel the transfer of ${what}?\n\nGlobus stops copying; files already copied stay where they are.`)) return
  try {
    await call(token, 'DELETE', `/transfer/${encodeURIComponent(jobId)}`)
    show(`The transfer of ${what} is cancelled.`, 'info')
  } catch (err) {
    failed(err, `Could not cancel the transfer of ${what}`)
  }
  if (token) refreshNow()
}

/** A random key per submission: a repeated click or a retried request starts one transfer only. */
function idempotencyKey (): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('')
}

$<HTMLFormElement>('start-form').addEventListener('submit', (event) => {
  event.preventDefault()
  const r = startForm.read()
  if (!r.scicatPid) {
    show('Enter the PID of the dataset to transfer.')
    return
  }
  const q = new URLSearchParams({ ...r, autoArchive: String(r.autoArchive) })
  startForm.busy(true)
  background(call<{ jobId: string }>(token, 'POST', `/transfer?${q}`, { 'Idempotency-Key': idempotencyKey() })
    .then(({ jobId }) => {
      show(`Transfer of ${r.scicatPid} started (SciCat job ${jobId}).`, 'info')
      startForm.clearPid()
    })
    .catch((err: unknown) => failed(err, `Could not start the transfer of ${r.scicatPid}`))
    .finally(() => {
      startForm.busy(false)
      if (token) refreshNow()
    }))
})

signIn.addEventListener('submit', (event) => {
  event.preventDefault()
  const input = $<HTMLInputElement>('token')
  const value = input.value.trim()
  if (!value) {
    show('Paste your SciCat token first (the SciCat frontend shows it in your user settings).')
    return
  }
  input.value = ''
  token = value
  sessionStorage.setItem(tokenKey, token)
  background(start())
})

$('sign-out').addEventListener('click', signOut)
statusFilter.addEventListener('change', () => {
  view.clear()
  refreshNow()
})

if (token) background(start())
else signIn.hidden = false
