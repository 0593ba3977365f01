// Calendar dialog of the admin page (issue 14, managers): opening hours per weekday, special days
// (closed or other hours, with a reason) and weekly bay windows (closed / walk-in only / bookable /
// free). It edits GET/PUT /api/calendar as a whole; the hub checks everything and names the field.
// A change over booked sessions comes back listing them: a second step saves it anyway.
import { esc } from './api.js'

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']
const DAY_NAMES = { mon: 'Mon', tue: 'Tue', wed: 'Wed', thu: 'Thu', fri: 'Fri', sat: 'Sat', sun: 'Sun' }
const KINDS = [
  ['closed', 'closed (nobody)'],
  ['walk_in_only', 'walk-in only (kiosk and desk)'],
  ['bookable', 'bookable'],
  ['free', 'free (no payment)'],
]

export function createCalendarDialog({ api, toast, fmt, onSaved }) {
  const dlg = document.getElementById('dlg-calendar')
  const form = dlg.querySelector('form')
  const hoursEl = document.getElementById('cal-hours')
  const specialsEl = document.getElementById('cal-specials')
  const windowsEl = document.getElementById('cal-windows')
  const error = dlg.querySelector('.error')
  const affectedEl = document.getElementById('cal-affected')
  const zoneEl = document.getElementById('cal-zone')
  let pending = null // the calendar waiting for "save anyway"

  const text = (name, value, label, extra = '') =>
    `<input name="${name}" value="${esc(value ?? '')}" aria-label="${esc(label)}" ${extra}>`

  function specialRow(s = { date: '', hours: 'closed', reason: '' }) {
    return (
      `<tr><td>${text('date', s.date, 'Date', 'type="date" required')}</td>` +
      `<td>${text('hours', s.hours, 'Hours (HH:MM-HH:MM or closed)', 'required maxlength="11" size="11"')}</td>` +
      `<td>${text('reason', s.reason, 'Reason', 'required maxlength="120"')}</td>` +
      `<td><button type="button" data-act="remove" aria-label="Remove this special day">✕</button></td></tr>`
    )
  }

  function windowRow(w = { bays: '', days: [], from: '', to: '', kind: 'closed', reason: '' }) {
    const days = DAYS.map((d) => `<label class="cal-day"><input type="checkbox" name="day-${d}"${w.days.includes(d) ? ' checked' : ''}>${DAY_NAMES[d]}</label>`).join('')
    const kinds = KINDS.map(([k, label]) => `<option value="${k}"${k === w.kind ? ' selected' : ''}>${esc(label)}</option>`).join('')
    return (
      `<tr><td>${text('bays', w.bays, 'Bays, e.g. 1-40', 'required maxlength="200" size="8" placeholder="1-40"')}</td>` +
      `<td class="cal-days">${days}</td>` +
      `<td>${text('from', w.from, 'From (HH:MM)', 'required maxlength="5" size="5" placeholder="07:00"')}</td>` +
      `<td>${text('to', w.to, 'To (HH:MM, 24:00; before From runs past midnight)', 'required maxlength="5" size="5" placeholder="09:00"')}</td>` +
      `<td><select name="kind" aria-label="What the window does">${kinds}</select></td>` +
      `<td>${text('reason', w.reason, 'Reason', 'required maxlength="120"')}</td>` +
      `<td>${text('starts', w.starts, 'From date (optional)', 'type="date"')}</td>` +
      `<td>${text('ends', w.ends, 'To date (optional)', 'type="date"')}</td>` +
      `<td><button type="button" data-act="remove" aria-label="Remove this window">✕</button></td></tr>`
    )
  }

  function fill(reply) {
    zoneEl.textContent = reply.timezone
    const c = reply.calendar
    hoursEl.innerHTML = DAYS.map((d) => `<label>${DAY_NAMES[d]} ${text(`hours-${d}`, c.hours[d], `${DAY_NAMES[d]} hours`, 'required maxlength="11" size="11"')}</label>`).join('')
    specialsEl.innerHTML = c.special_days.map(specialRow).join('')
    windowsEl.innerHTML = c.windows.map(windowRow).join('')
  }

  const val = (row, name) => row.querySelector(`[name="${name}"]`)?.value.trim() ?? ''

  function read() {
    const hours = Object.fromEntries(DAYS.map((d) => [d, form.elements[`hours-${d}`].value.trim()]))
    const special_days = [...specialsEl.rows].map((r) => ({ date: val(r, 'date'), hours: val(r, 'hours'), reason: val(r, 'reason') }))
    const windows = [...windowsEl.rows].map((r) => {
      const w = {
        bays: val(r, 'bays'),
        days: DAYS.filter((d) => r.querySelector(`[name="day-${d}"]`).checked),
        from: val(r, 'from'),
        to: val(r, 'to'),
        kind: val(r, 'kind'),
        reason: val(r, 'reason'),
      }
      if (val(r, 'starts')) w.starts = val(r, 'starts')
      if (val(r, 'ends')) w.ends = val(r, 'ends')
      return w
    })
    return { hours, special_days, windows }
  }

  function showAffected(list) {
    affectedEl.hidden = false
    affectedEl.querySelector('ul').innerHTML = list
      .map((a) => `<li>Session #${a.session_id}, bay ${esc(a.machine_id.join(', '))}, ${esc(fmt().time(a.start_time))}–${esc(fmt().time(a.end_time))} (${esc(a.origin_node)}): ${esc(a.reason)}</li>`)
      .join('')
  }

  async function save(confirm) {
    error.textContent = ''
    const body = confirm && pending ? { ...pending, confirm: true } : read()
    try {
      const reply = await api.put('/api/calendar', body)
      pending = null
      affectedEl.hidden = true
      const n = reply.affected?.length ?? 0
      toast(n ? `Calendar saved; ${n} booked session${n === 1 ? '' : 's'} affected` : 'Calendar saved')
      dlg.close()
      onSaved?.(reply)
    } catch (e) {
      if (e.code === 'CALENDAR_AFFECTS_SESSIONS' && e.body?.affected) {
        pending = body
        error.textContent = 'These booked sessions would fall outside the new calendar. Save anyway, or change it.'
        showAffected(e.body.affected)
      } else {
        error.textContent = e.message
      }
    }
  }

  dlg.addEventListener('click', (event) => {
    const button = event.target.closest('button')
    if (!button) return
    if (button.dataset.act === 'remove') button.closest('tr').remove()
    else if (button.id === 'cal-add-special') specialsEl.insertAdjacentHTML('beforeend', specialRow())
    else if (button.id === 'cal-add-window') windowsEl.insertAdjacentHTML('beforeend', windowRow())
    else if (button.id === 'cal-save-anyway') void save(true)
  })
  form.addEventListener('input', () => {
    // An edit after a refusal is a new change: it is checked again before any "save anyway".
    pending = null
    affectedEl.hidden = true
  })
  form.addEventListener('submit', (event) => {
    if (event.submitter?.value !== 'save') return
    event.preventDefault()
    void save(false)
  })

  return {
    async open() {
      error.textContent = ''
      affectedEl.hidden = true
      pending = null
      try {
        fill(await api.get('/api/calendar'))
      } catch (e) {
        return toast(e.message, true)
      }
      dlg.showModal()
    },
  }
}
