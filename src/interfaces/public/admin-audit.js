// Activity panel of the admin page: the audit log (GET /api/audit), newest first, filterable
// by who and by kind; refreshed when a session changes (the log is written with the change).
import { esc } from './api.js'

const WORDS = {
  'session.created': 'booked', 'session.moved': 'moved', 'session.updated': 'changed the length of', 'session.cancelled': 'cancelled',
  'maintenance.created': 'blocked', 'maintenance.updated': 'changed block', 'maintenance.cancelled': 'released block',
  'staff.added': 'added', 'staff.removed': 'removed', 'staff.role': 'changed the role of', 'staff.password': 'set a password for', 'staff.signed_out': 'signed out',
}

export function createAuditPanel({ api, fmt }) {
  const list = document.getElementById('audit')
  const actor = document.getElementById('audit-actor')
  const kind = document.getElementById('audit-kind')
  let timer

  function describe(e) {
    const what = WORDS[e.kind] ?? e.kind
    const subject = e.session_id !== undefined ? `session ${e.session_id}` : e.target ?? ''
    const bays = e.machine_id?.length ? ` · bay ${e.machine_id.join(', ')}` : ''
    const who = e.actor.replace(/^(staff|token|node):/, '')
    return `<li data-kind="${esc(e.kind)}"><time>${esc(fmt().time(e.at))}</time> <b class="who">${esc(who)}</b> ${esc(what)} ${esc(subject)}${esc(bays)}</li>`
  }

  async function load() {
    const q = new URLSearchParams({ limit: '50' })
    if (actor.value.trim()) q.set('actor', actor.value.trim().includes(':') ? actor.value.trim() : `staff:${actor.value.trim()}`)
    if (kind.value) q.set('kind', kind.value)
    try {
      const page = await api.get(`/api/audit?${q}`)
      list.innerHTML = page.entries.map(describe).join('') || '<li class="muted">Nothing recorded yet.</li>'
    } catch (e) {
      list.innerHTML = `<li class="error">${esc(e.message)}</li>`
    }
  }

  actor.addEventListener('change', load)
  kind.addEventListener('change', load)
  return {
    load,
    /** after a change: one reload for a burst of events */
    soon() {
      clearTimeout(timer)
      timer = setTimeout(load, 300)
    },
  }
}
