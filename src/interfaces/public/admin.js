// Admin page (/): sign in, then the bay strip, the schedule grid, the "now" board and the panels
// (alerts, utilization, activity, link, and each feature's own section), kept live by /api/live.
// Live updates patch what changed (strip chips, grid blocks, board rows) so focus and scroll stay.
import { connectLive, createApi, venueTime } from './api.js'
import { createClockBanner } from './admin-clock.js'
import { createDialogs } from './admin-dialogs.js'
import { createScheduleGrid } from './admin-grid.js'
import { createStaffDialog } from './admin-staff.js'
import { createAuditPanel } from './admin-audit.js'
import { applyPermissions } from './admin-roles.js'
import { createCalendarDialog } from './admin-calendar.js'
import { createReportsPanel } from './admin-reports.js'
import { createFleetPanel } from './admin-fleet.js'
import { createAffectedPanel } from './admin-affected.js'
import { keepFocus, renderAlerts, renderChart, renderLink } from './admin-panels.js'
import { createBayStrip } from './admin-strip.js'
import { boardOf, countsOf, renderBoard } from './admin-board.js'
import { addDays, createTimeFormat, zonedEpoch } from './time.js'

const TOKEN_KEY = 'dispenser-hub.admin-token'
const $ = (id) => document.getElementById(id)

const state = {
  token: sessionStorage.getItem(TOKEN_KEY),
  me: null,
  today: null,
  date: null,
  fmt: createTimeFormat(Intl.DateTimeFormat().resolvedOptions().timeZone),
  clock: venueTime.clock,
  venue: undefined,
  schedule: null,
  sessions: new Map(),
  /** today's sessions, for the "now" board whatever day the grid shows */
  todaySessions: new Map(),
  machines: new Map(),
  alerts: new Map(),
}
let live = null
/** while a sign-in is being checked, a 401 is its answer (shown by the form), not a lost session */
let signingIn = false

const api = createApi(() => state.token, () => {
  if (!signingIn) signOut(state.token ? 'Your token is no longer accepted. Sign in again.' : 'Your sign-in has ended. Sign in again.')
})
const dialogs = createDialogs({ api, state, toast })
const staffDialog = createStaffDialog({ api, toast, me: () => state.me })
// issue 14: a saved calendar changes the day's rows and shading
const calendarDialog = createCalendarDialog({ api, toast, fmt: () => state.fmt, onSaved: () => state.date && loadDay(state.date) })
const auditPanel = createAuditPanel({ api, fmt: () => state.fmt })
const affectedPanel = createAffectedPanel({ api, toast, fmt: () => state.fmt })
const reportsPanel = createReportsPanel({ api, getToken: () => state.token, today: () => state.today })
const fleetPanel = createFleetPanel({ api, getToken: () => state.token, getFmt: () => state.fmt })
const grid = createScheduleGrid($('grid'), {
  onSelect: ({ bays, startS, minutes, clear }) => (can('sessions.book') ? dialogs.openBook({ bays, startS, minutes, onClosed: clear }) : clear()),
  onOpenSession: (id) => dialogs.openSession(id),
  status: ({ anchor }) => {
    $('grid-status').textContent = anchor ? `Selected ${anchor} · now the end cell` : 'Tap the start cell, then the end cell.'
    $('grid-status').classList.toggle('marked', !!anchor)
    // visibility, not display: the bar keeps its height, so the grid never moves under the finger
    $('grid-actions').classList.toggle('off', !anchor)
  },
})
$('grid-book-hour').addEventListener('click', () => grid.bookHour())
$('grid-clear').addEventListener('click', () => grid.clear())
const strip = createBayStrip($('bays'), { onOpen: (id) => dialogs.openBay(id) })
// The skip link lands in the grid itself (its one tab stop), not only at the section.
document.querySelector('.skip-link').addEventListener('click', (event) => {
  if ($('app').hidden) return
  event.preventDefault()
  $('schedule').scrollIntoView({ block: 'start' })
  grid.focus()
})

const clockBanner = createClockBanner({
  el: $('clock-banner'),
  text: $('clock-text'),
  button: $('clock-confirm'),
  api,
  toast,
  getFmt: () => state.fmt,
  // the page counts on the hub's time: take the confirmed time at once, not at the next pong
  onConfirmed: (clock) => {
    state.clock.sync(clock.now)
    renderSide()
    renderGrid()
  },
})

function toast(text, bad = false) {
  const el = document.createElement('div')
  el.className = `toast${bad ? ' bad' : ''}`
  el.textContent = text
  $('toasts').append(el)
  setTimeout(() => el.remove(), 4000)
}

// ---------------------------------------------------------------- sign in / out
// Staff sign in with name and password (an httpOnly cookie the page never sees); the admin
// token still works for bootstrap. SIGNED_IN_KEY only says a cookie may exist, so a first visit
// shows the form without a refused request.

const SIGNED_IN_KEY = 'dispenser-hub.signed-in'

function enter(me) {
  if (!me.permissions.includes('machines.read')) {
    throw new Error(me.user ? `${me.user} (${me.role}) may not use the admin page.` : `This token belongs to ${me.name} (${me.role}); the admin page needs the admin token.`)
  }
  state.me = me
  document.body.dataset.role = me.role
  applyPermissions(me.permissions)
  $('whoami').textContent = me.user ? `${me.user} · ${me.role}` : `token · ${me.role}`
  $('signout-all').hidden = !me.user
  $('signin').hidden = true
  $('app').hidden = false
  live = connectLive({ getToken: () => state.token, onMessage, onState: showLiveState })
}

function can(permission) {
  return state.me?.permissions.includes(permission) ?? false
}

async function signIn(token) {
  state.token = token
  signingIn = true
  let me
  try {
    me = await api.get('/api/auth/me')
  } finally {
    signingIn = false
  }
  if (me.role !== 'admin') throw new Error(`This token belongs to ${me.name} (${me.role}); the admin page needs the admin token.`)
  sessionStorage.setItem(TOKEN_KEY, token)
  enter(me)
}

async function logIn(username, password) {
  signingIn = true
  try {
    await api.post('/api/auth/login', { username, password })
  } finally {
    signingIn = false
  }
  localStorage.setItem(SIGNED_IN_KEY, '1')
  enter(await api.get('/api/auth/me'))
}

function signOut(message = '') {
  live?.close()
  live = null
  if (!state.token && localStorage.getItem(SIGNED_IN_KEY)) api.post('/api/auth/logout').catch(() => {})
  localStorage.removeItem(SIGNED_IN_KEY)
  sessionStorage.removeItem(TOKEN_KEY)
  state.token = null
  state.me = null
  applyPermissions([])
  $('app').hidden = true
  $('signin').hidden = false
  $('login-error').textContent = message
  $('signin-error').textContent = ''
  $('token').value = ''
  $('password').value = ''
  $('username').focus()
}

$('login-form').addEventListener('submit', async (event) => {
  event.preventDefault()
  $('login-error').textContent = ''
  try {
    await logIn($('username').value.trim(), $('password').value)
  } catch (e) {
    $('password').value = ''
    $('login-error').textContent = e.status === 401 ? 'Wrong name or password.' : e.message
    $('password').focus()
  }
})
$('signin-form').addEventListener('submit', async (event) => {
  event.preventDefault()
  $('signin-error').textContent = ''
  try {
    await signIn($('token').value.trim())
  } catch (e) {
    state.token = null
    // The field keeps what was typed: a mistyped character is fixed, not the whole token again.
    $('signin-error').textContent = e.status === 401 ? 'That token is not valid. Check it and try again.' : e.message
    $('token').focus()
    $('token').select()
  }
})
$('signout').addEventListener('click', () => signOut())
$('signout-all').addEventListener('click', async () => {
  try {
    await api.post('/api/auth/logout-all')
  } catch (e) {
    return toast(e.message, true)
  }
  localStorage.removeItem(SIGNED_IN_KEY)
  signOut('Signed out on every device.')
})
$('staff-open').addEventListener('click', () => staffDialog.open())
$('calendar-open').addEventListener('click', () => calendarDialog.open())

function showLiveState(s) {
  const el = $('live')
  el.className = `live-state ${s}`
  el.textContent = { live: 'Live', connecting: 'Connecting…', offline: 'Reconnecting…', unauthorized: 'Token refused' }[s]
  if (s === 'unauthorized') signOut(state.token ? 'Your token is no longer accepted. Sign in again.' : 'Your sign-in has ended. Sign in again.')
}

// ---------------------------------------------------------------- live feed

function onMessage({ topic, payload }) {
  if (topic === 'snapshot') {
    state.clock.sync(payload.now)
    state.venue = payload.venue
    state.fmt = createTimeFormat(payload.timezone, payload.venue)
    venueTime.fmt = state.fmt
    state.today = payload.date
    state.layout = payload.layout
    state.todaySessions = new Map(payload.sessions.map((s) => [s.session_id, s]))
    state.machines = new Map(payload.machines.map((m) => [m.machine_id, m]))
    state.alerts = new Map(payload.alerts.map((a) => [a.alert_id, a]))
    void loadDay(state.date ?? payload.date)
    renderSide()
    clockBanner.show(payload.clock)
    void refreshLink()
    if (can('audit.read')) void auditPanel.load()
    if (can('reports.read')) void reportsPanel.load()
    if (can('fleet.adopt')) void fleetPanel.load()
    if (can('sessions.any')) affectedPanel.set(payload.affected)
  } else if (topic === 'session.affected') {
    if (can('sessions.any')) affectedPanel.update(payload.affected)
  } else if (topic === 'pong') {
    state.clock.sync(payload.now)
  } else if (topic === 'machine.changed') {
    state.machines.set(payload.machine.machine_id, payload.machine)
    renderBaysPanel()
    renderGrid()
    renderBoardPanel()
  } else if (topic === 'session.changed') {
    const s = payload.session
    if (s.end_time > state.dayStartS && s.start_time < state.dayEndS) state.sessions.set(s.session_id, s)
    else state.sessions.delete(s.session_id)
    const [todayStart, todayEnd] = todayBounds()
    if (s.end_time > todayStart && s.start_time < todayEnd) state.todaySessions.set(s.session_id, s)
    else state.todaySessions.delete(s.session_id)
    renderGrid()
    renderChartPanel()
    renderBoardPanel()
    if (can('audit.read') && payload.change !== 'activated' && payload.change !== 'completed') auditPanel.soon()
  } else if (topic === 'clock.changed') {
    if (payload.stepMs) state.clock.sync(payload.clock.now)
    clockBanner.show(payload.clock)
    if (!payload.clock.trusted) toast("The hub's clock is not synchronised: check the time", true)
  } else if (topic === 'alert.raised' || topic === 'alert.cleared') {
    state.alerts.set(payload.alert.alert_id, payload.alert)
    renderAlertsPanel()
    if (topic === 'alert.raised') toast(payload.alert.message, true)
  }
}

// ---------------------------------------------------------------- day

function todayBounds() {
  const tz = state.fmt.timeZone
  return [zonedEpoch(state.today, '00:00', tz), zonedEpoch(addDays(state.today, 1), '00:00', tz)]
}

/** Slots of a day from the hub's layout (opening hours or the whole day; 23/25 h on DST days). */
function dayGrid(date) {
  const { machines, slot_minutes, opening_hours } = state.layout
  const tz = state.fmt.timeZone
  const [open, close] = opening_hours ? opening_hours.split('-') : ['00:00', null]
  const start = zonedEpoch(date, open, tz)
  const end = close ? zonedEpoch(date, close, tz) : zonedEpoch(addDays(date, 1), '00:00', tz)
  const slotS = slot_minutes * 60
  const slots = Math.max(1, Math.round((end - start) / slotS))
  // the shape of a ScheduleRuns reply (issue 17) with every slot free: no runs
  return { start, end, schedule: { machines, slot_minutes, slots, statuses: [], reasons: [], runs: machines.map(() => []) } }
}

async function loadDay(date) {
  try {
    // The compact reply (runs per bay, issue 17): a few KB for a busy day instead of ~11 KB per bay.
    const [sessions, reply] = await Promise.all([api.get(`/api/sessions?date=${date}`), api.get(`/api/schedule?date=${date}&format=runs`).catch(() => null)])
    const grid = dayGrid(date)
    state.date = date
    // The hub's slots (the calendar's hours of that day) and cells (closed / walk-in, issue 14) when it sends them.
    const fromHub = reply?.format === 'runs' && reply.first_slot !== undefined && reply.slots > 0
    state.schedule = fromHub ? reply : grid.schedule
    state.dayStartS = fromHub ? reply.first_slot : grid.start
    state.dayEndS = fromHub ? reply.first_slot + reply.slots * reply.slot_minutes * 60 : grid.end
    state.sessions = new Map(sessions.map((s) => [s.session_id, s]))
    $('day').value = date
    $('sched-date').textContent = state.fmt.longDate(date)
    $('chart-date').textContent = date === state.today ? 'today' : date
    renderGrid()
    renderChartPanel()
  } catch (e) {
    toast(`Could not load ${date}: ${e.message}`, true)
  }
}

$('day').addEventListener('change', () => $('day').value && loadDay($('day').value))
$('day-prev').addEventListener('click', () => loadDay(addDays(state.date, -1)))
$('day-next').addEventListener('click', () => loadDay(addDays(state.date, 1)))
$('day-today').addEventListener('click', () => loadDay(state.today))
$('new-booking').addEventListener('click', () => can('sessions.book') && dialogs.openBook({}))

// ---------------------------------------------------------------- render

function renderGrid() {
  if (!state.schedule) return
  grid.render({ ...state, nowS: state.clock.nowS })
}
function renderBaysPanel() {
  strip.render(state.machines, { rows: state.layout?.rows, fmt: state.fmt, nowS: state.clock.nowS })
  renderSummary()
}
/** The counts line above the strip: what a manager on a phone looks at first. */
function renderSummary(counts = boardCounts()) {
  const list = [...state.machines.values()]
  const online = list.filter((m) => m.online).length
  const active = list.filter((m) => m.status === 'active').length
  const free = counts ? ` · <b>${counts.freeNow}</b> free now · <b>${counts.freeHour}</b> free for the next hour` : ''
  const out = counts?.out ? ` · <b>${counts.out}</b> out of order` : ''
  const html = `<b>${online}</b> of ${list.length} online · <b>${active}</b> active${free}${out}`
  if ($('bay-summary').dataset.html !== html) {
    $('bay-summary').innerHTML = html
    $('bay-summary').dataset.html = html
  }
}
function boardEntries() {
  if (!state.layout) return null
  const order = (state.layout.rows ?? [state.layout.machines]).flat()
  return boardOf({ order, sessions: [...state.todaySessions.values()], machines: state.machines, nowS: state.clock.nowS() })
}
function boardCounts() {
  const entries = boardEntries()
  return entries && countsOf(entries)
}
function renderBoardPanel() {
  const entries = boardEntries()
  if (!entries) return
  const counts = renderBoard({ list: $('board'), counts: $('board-counts'), time: $('board-time') }, entries, { fmt: state.fmt, nowS: state.clock.nowS })
  renderSummary(counts)
}
function renderAlertsPanel() {
  keepFocus($('alerts'), () =>
    renderAlerts($('alerts'), $('alert-count'), state.alerts, { fmt: state.fmt, openOnly: $('alerts-open-only').checked, kind: $('alerts-kind').value }),
  )
}
$('alerts-open-only').addEventListener('change', renderAlertsPanel)
$('alerts-kind').addEventListener('change', renderAlertsPanel)
function renderChartPanel() {
  if (!state.schedule) return
  renderChart($('chart'), $('chart-summary'), { ...state, nowS: state.clock.nowS })
}
function renderSide() {
  renderBaysPanel()
  renderAlertsPanel()
  renderBoardPanel()
}
$('alerts').addEventListener('click', async (event) => {
  const ack = event.target.closest('[data-ack]')?.dataset.ack
  const dismiss = event.target.closest('[data-dismiss]')?.dataset.dismiss
  if (!ack && !dismiss) return
  try {
    if (ack) {
      const alert = await api.post(`/api/alerts/${encodeURIComponent(ack)}/ack`)
      state.alerts.set(alert.alert_id, alert)
    } else {
      await api.post(`/api/alerts/${encodeURIComponent(dismiss)}/dismiss`)
      state.alerts.delete(dismiss)
    }
    renderAlertsPanel()
  } catch (e) {
    toast(e.message, true)
  }
})
// "last seen" texts and the chart's now line age; a minute is fine-grained enough.
setInterval(() => {
  renderBaysPanel()
  renderChartPanel()
  renderBoardPanel()
  renderGrid()
}, 60_000)

// The cloud link is not on the live feed (it changes slowly): poll the public health route.
async function refreshLink() {
  if (!state.me || !state.fmt) return
  try {
    const health = await (await fetch('/api/health')).json()
    renderLink($('link'), health.link, { fmt: state.fmt })
    clockBanner.show(health.clock)
  } catch {
    renderLink($('link'), null, { fmt: state.fmt })
  }
}
setInterval(refreshLink, 30_000)

// ---------------------------------------------------------------- start

if (state.token) signIn(state.token).catch(() => signOut())
else if (localStorage.getItem(SIGNED_IN_KEY)) api.get('/api/auth/me').then(enter).catch(() => signOut())
else signOut()
