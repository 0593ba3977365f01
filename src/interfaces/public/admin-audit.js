// Activity panel of the admin page: the audit log (GET /api/audit), newest first, filterable by
// who, what, bay, session and dates, with "older entries" paging; refreshed when something
// changes (the log is written with the change). Also the history (and customer details) in the
// session dialog, shown when admin-dialogs.js announces `session-open`.
import { esc } from './api.js'
import { addDays, zonedEpoch } from './time.js'

const WORDS = {
  'session.created': 'booked', 'session.moved': 'moved', 'session.updated': 'changed the length of', 'session.cancelled': 'cancelled',
  'session.details': 'changed the customer details of',
  'maintenance.created': 'blocked', 'maintenance.updated': 'changed block', 'maintenance.cancelled': 'released block',
  'machine.override': 'overrode', 'machine.maintenance': 'put in maintenance', 'machine.released': 'released',
  'alert.acknowledged': 'acknowledged', 'calendar.changed': 'changed the calendar',
  'credential.added': 'added login', 'credential.rotated': 'renewed login', 'credential.removed': 'removed login',
  'clock.confirmed': "confirmed the hub's time",
  'staff.added': 'added', 'staff.removed': 'removed', 'staff.role': 'changed the role of', 'staff.password': 'set a password for', 'staff.signed_out': 'signed out',
}
/** The filter's choices, in the order staff look for them. */
const KINDS = [
  ['session.created', 'bookings'], ['session.moved', 'moves'], ['session.updated', 'length changes'], ['session.cancelled', 'cancellations'],
  ['session.details', 'customer details'], ['maintenance.created', 'blocks'], ['machine.maintenance', 'bay maintenance'],
  ['machine.override', 'bay stop / start'], ['machine.released', 'bay releases'], ['alert.acknowledged', 'alerts acknowledged'],
  ['calendar.changed', 'calendar'], ['clock.confirmed', 'clock'], ['credential.added', 'logins added'], ['credential.removed', 'logins removed'],
  ['staff.added', 'staff added'], ['staff.role', 'staff roles'], ['staff.removed', 'staff removed'],
]

export function createAuditPanel({ api, fmt }) {
  const $ = (id) => document.getElementById(id)
  const list = $('audit')
  const more = $('audit-more')
  const fields = { actor: $('audit-actor'), kind: $('audit-kind'), bay: $('audit-bay'), session: $('audit-session'), from: $('audit-from'), to: $('audit-to') }
  for (const [value, label] of KINDS) fields.kind.add(new Option(label, value))
  let timer
  let next = null

  function describe(e) {
    const what = WORDS[e.kind] ?? e.kind
    const subject = e.session_id !== undefined ? `session ${e.session_id}` : e.kind.startsWith('machine.') ? '' : e.target ?? ''
    const bays = e.machine_id?.length ? `${subject ? ' · ' : ''}bay ${e.machine_id.join(', ')}` : ''
    const who = e.actor.replace(/^(staff|token|node):/, '')
    const reason = e.reason ? ` — “${e.reason}”` : ''
    return `<li data-kind="${esc(e.kind)}"><time>${esc(fmt().time(e.at))}</time> <b class="who">${esc(who)}</b> ${esc(what)} ${esc(subject)}${esc(bays)}${esc(reason)}</li>`
  }

  function query() {
    const q = new URLSearchParams({ limit: '50' })
    const actor = fields.actor.value.trim()
    if (actor) q.set('actor', actor.includes(':') || actor === 'system' ? actor : `staff:${actor}`)
    if (fields.kind.value) q.set('kind', fields.kind.value)
    if (/^\d+$/.test(fields.bay.value.trim())) q.set('machine_id', fields.bay.value.trim())
    if (/^\d+$/.test(fields.session.value.trim())) q.set('session_id', fields.session.value.trim())
    // dates are the venue's days: from its midnight to the midnight after `to`
    if (fields.from.value) q.set('from', String(zonedEpoch(fields.from.value, '00:00', fmt().timeZone)))
    if (fields.to.value) q.set('to', String(zonedEpoch(addDays(fields.to.value, 1), '00:00', fmt().timeZone)))
    return q
  }

  async function load(older = false) {
    const q = query()
    if (older && next) q.set('before', next)
    try {
      const page = await api.get(`/api/audit?${q}`)
      const html = page.entries.map(describe).join('')
      if (older) list.insertAdjacentHTML('beforeend', html)
      else list.innerHTML = html || '<li class="muted">Nothing recorded for this filter.</li>'
      next = page.next
      more.hidden = next === null
    } catch (e) {
      list.innerHTML = `<li class="error">${esc(e.message)}</li>`
      more.hidden = true
    }
  }

  for (const el of Object.values(fields)) el.addEventListener('change', () => load())
  $('audit-filter').addEventListener('submit', (event) => {
    event.preventDefault()
    void load()
  })
  more.addEventListener('click', () => load(true))

  // The session dialog: its customer details and its history, newest first.
  const dialog = $('dlg-session')
  const history = $('session-history')
  dialog?.addEventListener('session-open', async (event) => {
    const s = event.detail
    const d = s.details ?? {}
    const customer = [d.customer_name, d.phone, d.email].filter(Boolean).join(' · ')
    const facts = dialog.querySelector('.facts')
    if (customer || d.notes) {
      facts.insertAdjacentHTML('beforeend', `${customer ? `<dt>Customer</dt><dd class="customer">${esc(customer)}</dd>` : ''}${d.notes ? `<dt>Notes</dt><dd class="notes">${esc(d.notes)}</dd>` : ''}`)
    }
    if (history.hidden) return
    history.innerHTML = '<h4>History</h4><ul class="audit"><li class="muted">Loading…</li></ul>'
    try {
      const page = await api.get(`/api/audit?session_id=${s.session_id}&limit=50`)
      history.querySelector('ul').innerHTML = page.entries.map(describe).join('') || '<li class="muted">No changes recorded.</li>'
    } catch (e) {
      history.querySelector('ul').innerHTML = `<li class="error">${esc(e.message)}</li>`
    }
  })

  return {
    load: () => load(),
    /** after a change: one reload for a burst of events */
    soon() {
      clearTimeout(timer)
      timer = setTimeout(() => load(), 300)
    },
  }
}
