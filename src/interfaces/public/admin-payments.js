// Payments on the admin page (issue 12): bookings waiting for payment (held kiosk bookings and
// anything with money due) with "mark paid" at the counter, today's takings, and the price table
// (managers). Self-contained: its own sections in admin.html, loaded as its own module; it speaks
// only REST (POST /api/sessions/:id/payment, GET /api/payments, GET/PUT /api/prices).
import { createApi, esc, venueTime } from './api.js'
import { createTimeFormat } from './time.js'
import { formatMoney } from './payment.js'

const TOKEN_KEY = 'dispenser-hub.admin-token'
const $ = (id) => document.getElementById(id)
const api = createApi(() => sessionStorage.getItem(TOKEN_KEY))
const REFRESH_MS = 2000

const panel = $('payments-panel')
const pricesPanel = $('prices-panel')
let busy = false

// the tablet's zone only until the first live snapshot names the venue's
const tabletFmt = createTimeFormat(Intl.DateTimeFormat().resolvedOptions().timeZone)
const fmt = () => venueTime.fmt ?? tabletFmt
const time = (s) => fmt().time(s)
const paidOf = (s) => (s.payments ?? []).filter((p) => p.kind === 'payment').reduce((a, p) => a + p.amount, 0)
const dueOf = (s) => Math.max(0, (s.price?.amount ?? 0) - paidOf(s))

function row(s) {
  const left = s.status === 'held' && s.hold_until ? ` · held, ${Math.max(0, Math.ceil((s.hold_until - venueTime.clock.nowS()) / 60))} min left` : ''
  const due = { amount: dueOf(s), currency: s.price.currency }
  return (
    `<li class="due-row" data-session="${s.session_id}">` +
    `<span><b>#${s.session_id}</b> · bay ${esc(s.machine_id.join(', '))} · ${esc(time(s.start_time))}-${esc(time(s.end_time))} · <b class="due">${esc(formatMoney(due))}</b>${esc(left)}</span> ` +
    `<select name="method" aria-label="Method"><option value="cash">cash</option><option value="card">card</option><option value="voucher">voucher</option><option value="other">other</option></select> ` +
    `<input name="reference" placeholder="receipt / reference" maxlength="128" aria-label="Reference"> ` +
    `<button type="button" class="primary" data-pay="${s.session_id}">Mark paid</button>` +
    `</li>`
  )
}

async function loadDue() {
  const sessions = await api.get('/api/sessions')
  const due = sessions.filter((s) => s.price && dueOf(s) > 0 && (s.status === 'held' || s.status === 'reserved' || s.status === 'active'))
  const list = $('payments-due')
  // Keep what staff are typing: only redraw when the set of rows changed.
  const ids = due.map((s) => s.session_id).join(',')
  if (list.dataset.ids !== ids || !ids) {
    list.dataset.ids = ids
    list.innerHTML = due.map(row).join('') || '<li class="muted">Nothing waiting for payment.</li>'
  }
}

async function loadTakings() {
  const t = await api.get('/api/payments')
  const parts = Object.entries(t.by_provider).map(([p, amount]) => `${p} ${formatMoney({ amount, currency: t.currency })}`)
  $('takings').textContent = `Today: ${formatMoney({ amount: t.total, currency: t.currency })} from ${t.count} ${t.count === 1 ? 'payment' : 'payments'}${parts.length ? ` (${parts.join(', ')})` : ''}`
}

async function refresh() {
  if (busy || panel.hidden) return
  busy = true
  try {
    await Promise.all([loadDue(), loadTakings()])
    $('payments-error').textContent = ''
  } catch (e) {
    $('payments-error').textContent = e.message
  } finally {
    busy = false
  }
}

$('payments-due').addEventListener('click', async (e) => {
  const button = e.target.closest('[data-pay]')
  if (!button) return
  const li = button.closest('li')
  const reference = li.querySelector('[name=reference]').value.trim()
  const body = { method: li.querySelector('[name=method]').value, ...(reference && { reference }) }
  button.disabled = true
  try {
    const { session } = await api.post(`/api/sessions/${button.dataset.pay}/payment`, body)
    $('payments-status').textContent = `Booking #${session.session_id} paid: ${session.status}.`
    $('payments-due').dataset.ids = ''
    await refresh()
  } catch (err) {
    $('payments-error').textContent = err.message
    button.disabled = false
  }
})

// ---------------------------------------------------------------- price table (managers)

let pricesLoaded = false

async function loadPrices() {
  if (pricesPanel.hidden || pricesLoaded) return
  try {
    const table = await api.get('/api/prices')
    const { currency, bands, bay_classes } = table
    $('prices-json').value = JSON.stringify({ currency, bands, ...(bay_classes && { bay_classes }) }, null, 2)
    $('prices-info').textContent = table.updated_at ? `Last changed ${fmt().date(table.updated_at)} ${fmt().time(table.updated_at)} by ${table.updated_by}` : 'No prices saved yet: bookings are not charged.'
    pricesLoaded = true
  } catch (e) {
    $('prices-error').textContent = e.message
  }
}

$('prices-save').addEventListener('click', async () => {
  $('prices-error').textContent = ''
  let table
  try {
    table = JSON.parse($('prices-json').value)
  } catch {
    $('prices-error').textContent = 'The price table is not valid JSON.'
    return
  }
  try {
    const saved = await api.put('/api/prices', table)
    $('prices-info').textContent = `Saved by ${saved.updated_by}.`
  } catch (e) {
    $('prices-error').textContent = e.message
  }
})

setInterval(() => {
  void refresh()
  void loadPrices()
}, REFRESH_MS)
