// Book, session (move / extend / cancel) and bay override dialogs of the admin page.
import { esc } from './api.js'
import { formatBays, parseClock, zonedEpoch } from './time.js'

/** '3' -> [3], '3-5' -> [3,4,5] */
export function parseBays(text) {
  const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(text)
  if (!m) return null
  const a = Number(m[1])
  const b = m[2] === undefined ? a : Number(m[2])
  const [lo, hi] = a <= b ? [a, b] : [b, a]
  return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i)
}

/** A time field's value -> 'HH:MM', or an error naming the field and the expected form. */
function clockOf(field, name, fmt) {
  const hhmm = parseClock(field.value)
  if (!hhmm) throw new Error(`${name}: write a time as ${fmt.h12 ? 'h:mm am/pm, e.g. 4:30 pm' : 'HH:MM (24-hour), e.g. 16:30'}`)
  return hhmm
}

const bayText = (ids) => (ids.length === 1 ? String(ids[0]) : `${ids[0]}-${ids[ids.length - 1]}`)

/**
 * Wires a <dialog><form method="dialog"> so the clicked button's value runs `act(value, form)`.
 * The dialog stays open and shows the hub's message when the action fails.
 */
function wire(dialog, act) {
  const form = dialog.querySelector('form')
  const error = dialog.querySelector('.error')
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    const value = event.submitter?.value ?? ''
    if (value === 'cancel' || value === 'close') return dialog.close()
    if (!form.reportValidity()) return
    error.textContent = ''
    const buttons = [...form.querySelectorAll('button')]
    buttons.forEach((b) => (b.disabled = true))
    try {
      if ((await act(value, form, event.submitter)) !== false) dialog.close()
    } catch (e) {
      error.textContent = e.message
    } finally {
      buttons.forEach((b) => (b.disabled = false))
    }
  })
  dialog.addEventListener('close', () => (error.textContent = ''))
}

export function createDialogs({ api, state, toast }) {
  const book = document.getElementById('dlg-book')
  const session = document.getElementById('dlg-session')
  const bay = document.getElementById('dlg-bay')
  let sessionId = null
  let bayId = null
  /** the override waiting for its second step (confirm: true and a reason) */
  let pendingOverride = null
  const confirmStep = bay.querySelector('.confirm-step')
  let onBookClosed = () => {}

  wire(book, async (_value, form) => {
    const ids = parseBays(form.bays.value)
    if (!ids) throw new Error('Bays: write one bay (3) or a range (3-4)')
    const startS = zonedEpoch(state.date, clockOf(form.start, 'Start', state.fmt), state.fmt.timeZone)
    const created = await api.post('/api/sessions', {
      machine_id: ids.length === 1 ? ids[0] : ids,
      status: form.kind.value,
      start_time: startS,
      duration: Number(form.minutes.value) * 60,
    })
    toast(`Booked ${formatBays(created.machine_id)} ${state.fmt.time(created.start_time)}–${state.fmt.time(created.end_time)}`)
  })
  book.addEventListener('close', () => onBookClosed())

  wire(session, async (value, form, button) => {
    const s = state.sessions.get(sessionId)
    if (!s) throw new Error('This session is gone; the schedule has changed.')
    if (value === 'move') {
      const ids = parseBays(form.bays.value)
      if (!ids) throw new Error('Bays: write one bay (3) or a range (3-4)')
      const patch = { machine_id: ids.length === 1 ? ids[0] : ids, start_time: zonedEpoch(state.date, clockOf(form.start, 'Start', state.fmt), state.fmt.timeZone) }
      if (s.status === 'active') delete patch.start_time // an active session keeps its start
      await api.patch(`/api/sessions/${s.session_id}`, patch)
      toast(`Session #${s.session_id} moved`)
    } else if (value.startsWith('extend:')) {
      const minutes = Number(value.slice(7))
      await api.patch(`/api/sessions/${s.session_id}`, { duration: s.duration + minutes * 60 })
      toast(`Session #${s.session_id} extended by ${minutes} min`)
    } else if (value === 'cancel-session') {
      // Two taps: the first arms the button, the second cancels.
      if (!button.classList.contains('confirm')) {
        button.classList.add('confirm')
        button.textContent = 'Tap again to cancel'
        return false
      }
      await api.del(`/api/sessions/${s.session_id}`)
      toast(`Session #${s.session_id} cancelled`)
    }
  })

  wire(bay, async (value, form) => {
    if (value === 'confirm') {
      const reason = form.reason.value.trim()
      if (!pendingOverride) return false
      if (!reason) throw new Error('Reason: say why the golfers lose their bay')
      await api.post(`/api/machines/${bayId}/override`, { ...pendingOverride, confirm: true, reason })
      toast(`Bay ${bayId}: ${pendingOverride.status === 'idle' ? 'stopped' : 'maintenance'}; the sessions are flagged`)
      pendingOverride = null
      return
    }
    const body = {}
    const untilS = form.until.value.trim() ? untilEpoch(clockOf(form.until, 'Until', state.fmt)) : null
    if (value === 'release') body.release = true
    else if (value === 'start') {
      if (untilS === null) throw new Error('Start needs an end time: set "Until".')
      Object.assign(body, { status: 'active', scheduled_until: untilS })
    } else Object.assign(body, { status: value === 'stop' ? 'idle' : 'maintenance', scheduled_until: untilS })
    try {
      await api.post(`/api/machines/${bayId}/override`, body)
    } catch (e) {
      if (e.code !== 'OVERRIDE_UNCONFIRMED') throw e
      // The hub names the running and upcoming sessions this would hit: show them, ask why.
      pendingOverride = body
      confirmStep.querySelector('.affected').textContent = e.message.replace(/^(confirm|reason): /, '')
      confirmStep.hidden = false
      form.reason.focus()
      return false
    }
    toast(`Bay ${bayId}: ${value === 'release' ? 'back on the schedule' : value}`)
  })

  /** The next occurrence of HH:MM in the hub's zone. */
  function untilEpoch(hhmm) {
    const now = state.clock.nowS()
    const today = state.fmt.date(now)
    let at = zonedEpoch(today, hhmm, state.fmt.timeZone)
    if (at <= now) at += 24 * 3600
    return at
  }

  return {
    openBook({ bays = [], startS = null, minutes = 60, onClosed = () => {} } = {}) {
      const form = book.querySelector('form')
      form.reset()
      form.bays.value = bays.length ? bayText(bays) : ''
      const start = startS ?? Math.ceil(state.clock.nowS() / 300) * 300
      form.start.value = state.fmt.time(start)
      const options = [...form.minutes.options].map((o) => Number(o.value))
      if (!options.includes(minutes)) form.minutes.add(new Option(String(minutes), String(minutes)))
      form.minutes.value = String(minutes)
      onBookClosed = onClosed
      for (const f of book.querySelectorAll('[name=start]')) f.placeholder = state.fmt.placeholder
      book.showModal()
      form.querySelector('.primary').focus()
    },
    openSession(id) {
      const s = state.sessions.get(id)
      if (!s) return
      sessionId = id
      const form = session.querySelector('form')
      session.querySelector('h3').textContent = `Session #${s.session_id}`
      session.querySelector('.facts').innerHTML = [
        ['Bays', formatBays(s.machine_id)],
        ['Time', `${state.fmt.time(s.start_time)}–${state.fmt.time(s.end_time)} (${Math.round(s.duration / 60)} min)`],
        ['Status', s.status],
        ['Booked by', s.origin_node],
      ].map(([k, v]) => `<dt>${k}</dt><dd>${esc(v)}</dd>`).join('')
      form.bays.value = bayText(s.machine_id)
      form.start.value = state.fmt.time(s.start_time)
      form.start.disabled = s.status === 'active'
      const ended = s.status === 'completed' || s.status === 'cancelled'
      form.querySelectorAll('fieldset button, .danger').forEach((b) => (b.disabled = ended))
      const cancel = form.querySelector('.danger')
      cancel.classList.remove('confirm')
      cancel.textContent = 'Cancel session'
      session.showModal()
      // feature modules add to the dialog (admin-audit.js: customer details and history)
      session.dispatchEvent(new CustomEvent('session-open', { detail: s }))
    },
    openBay(id) {
      const m = state.machines.get(id)
      if (!m) return
      bayId = id
      pendingOverride = null
      confirmStep.hidden = true
      bay.querySelector('form').reset()
      bay.querySelector('h3').textContent = `Bay ${id}`
      const held = m.desired ? `${m.desired.source}${m.desired.holder ? ` (${m.desired.holder})` : ''}: ${m.desired.status}` : 'schedule'
      bay.querySelector('.facts').innerHTML = [
        ['State', m.status],
        ['Online', m.online ? 'yes' : `no${m.offline_reason ? ` (${m.offline_reason})` : ''}`],
        ['Balls', m.ball_level ?? 'unknown'],
        ['Following', held],
        ['Firmware', m.firmware ?? '–'],
        ['Address', m.ip_address ?? '–'],
      ].map(([k, v]) => `<dt>${k}</dt><dd>${esc(v)}</dd>`).join('')
      bay.showModal()
    },
  }
}
