// The clock banner (issue 15): while the hub's system clock is not synchronised (a Pi without
// RTC after a power cut, no internet), staff see the hub's time beside this tablet's and can
// confirm the tablet's time. The hub then runs on it until its clock synchronises.
import { esc } from './api.js'

function describeOffset(ms) {
  const abs = Math.abs(ms)
  const sign = ms < 0 ? '−' : '+'
  if (abs < 60_000) return `${sign}${Math.round(abs / 1000)} s`
  const h = Math.floor(abs / 3_600_000)
  const m = Math.round((abs % 3_600_000) / 60_000)
  return `${sign}${h ? `${h} h ` : ''}${m} min`
}

/** `show(clock)` with the ClockStatus of /api/health, /api/clock or the live feed. */
export function createClockBanner({ el, text, button, api, toast, getFmt, onConfirmed }) {
  let last = null

  function show(clock) {
    if (!clock) return
    last = clock
    const fmt = getFmt()
    const tablet = Date.now() / 1000
    if (clock.source === 'staff') {
      el.hidden = false
      el.className = 'clock-banner confirmed'
      text.innerHTML = `Running on the time confirmed by <b>${esc(clock.confirmed_by ?? 'staff')}</b> at ${esc(fmt.time(clock.confirmed_at))} (${esc(describeOffset(clock.offset_ms))} from the hub's system clock) until its clock synchronises.`
      button.textContent = "Confirm this tablet's time again"
      return
    }
    if (clock.trusted) {
      el.hidden = true
      return
    }
    el.hidden = false
    el.className = 'clock-banner untrusted'
    text.innerHTML =
      `<b>The hub's clock is not synchronised</b> (${esc(clock.detail)}). Sessions start and end by it. ` +
      `Hub time <b class="hub-time">${esc(fmt.time(clock.now))}</b>, this tablet <b class="tablet-time">${esc(fmt.time(tablet))}</b>.`
    button.textContent = "Use this tablet's time"
  }

  button.addEventListener('click', async () => {
    button.disabled = true
    try {
      const clock = await api.post('/api/clock/confirm', { epoch_ms: Date.now() })
      show(clock)
      toast(`Hub time set to ${getFmt().time(clock.now)} from this tablet`)
      onConfirmed?.(clock)
    } catch (e) {
      toast(e.message, true)
    } finally {
      button.disabled = false
    }
  })

  return { show, last: () => last }
}
