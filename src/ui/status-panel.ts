// The /status panel for members of server.adminGroups.

export interface ServiceStatus {
  role: string
  transfers: { total: number; byState: Record<string, number> }
  queue: { length: number; ownersWaiting: Array<{ owner: string; queued: number }> }
  activeTasks: { total: number; max: number; byFacility: Record<string, number> }
  upstreams: { scicat: string; globus: string }
  globusBudget: { maxRequestsPerSecond: number; requestsLastMinute: number; perSecondLastMinute: number }
  lastUpstreamErrors: Array<{ at: string; service: string; operation: string; status: string; message: string }>
}

function item (dl: HTMLElement, term: string, value: string): void {
  const dt = document.createElement('dt')
  dt.textContent = term
  const dd = document.createElement('dd')
  dd.textContent = value
  dl.append(dt, dd)
}

const pairs = (o: Record<string, number>) => Object.entries(o).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'

export function renderStatus (target: HTMLElement, s: ServiceStatus): void {
  const dl = document.createElement('dl')
  dl.className = 'status-facts'
  item(dl, 'Role', s.role)
  item(dl, 'Tracked transfers', `${s.transfers.total} (${pairs(s.transfers.byState)})`)
  item(dl, 'Queue', `${s.queue.length} waiting`)
  item(dl, 'Owners waiting', s.queue.ownersWaiting.map((o) => `${o.owner} (${o.queued})`).join(', ') || 'none')
  item(dl, 'Active Globus tasks', `${s.activeTasks.total} of ${s.activeTasks.max}`)
  item(dl, 'Tasks per facility', pairs(s.activeTasks.byFacility))
  item(dl, 'SciCat', s.upstreams.scicat)
  item(dl, 'Globus', s.upstreams.globus)
  item(
    dl,
    'Globus requests',
    `${s.globusBudget.requestsLastMinute} in the last minute (${s.globusBudget.perSecondLastMinute}/s of ${s.globusBudget.maxRequestsPerSecond}/s allowed)`
  )
  const errors = document.createElement('div')
  const h = document.createElement('h3')
  h.textContent = 'Last upstream errors'
  errors.append(h)
  if (!s.lastUpstreamErrors.length) {
    const p = document.createElement('p')
    p.textContent = 'none'
    errors.append(p)
  } else {
    const ul = document.createElement('ul')
    ul.className = 'upstream-errors'
    for (const e of s.lastUpstreamErrors.slice(0, 10)) {
      const li = document.createElement('li')
      li.textContent = `${new Date(e.at).toLocaleTimeString()} ${e.service} ${e.operation} ${e.status}: ${e.message}`
      ul.append(li)
    }
    errors.append(ul)
  }
  target.replaceChildren(dl, errors)
}
