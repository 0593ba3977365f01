// The "now" board of the admin page (issue 18): per bay whether it is free now, free for the
// whole next hour, busy (and until when) or out of order, and its next booking today; with the
// counts on top. An idle bay booked in 10 minutes no longer looks like one free all evening.
import { esc } from './api.js'

const TAKING = new Set(['reserved', 'active', 'held', 'maintenance'])
const HOUR_S = 3600

/**
 * PURE. One entry per bay in `order`: { bay, state, until, next } where state is
 * 'out' (cannot dispense: offline, error, maintenance, or an admin override that is not "on"),
 * 'busy' (a session covers now), 'free' (free now, but a session starts within the hour) or
 * 'free-hour' (free now and for the next hour). `until`: end of the busy spell, or the next start.
 */
export function boardOf({ order, sessions, machines, nowS }) {
  const byBay = new Map(order.map((id) => [id, []]))
  for (const s of sessions) {
    if (!TAKING.has(s.status) || s.end_time <= nowS) continue
    for (const id of s.machine_id) byBay.get(id)?.push(s)
  }
  return order.map((bay) => {
    const list = byBay.get(bay).sort((a, b) => a.start_time - b.start_time)
    const m = machines.get(bay)
    const next = list.find((s) => s.start_time > nowS) ?? null
    const out = outOfOrder(m)
    if (out) return { bay, state: 'out', why: out, until: m?.desired?.source === 'admin' ? m.desired.scheduled_until : null, next }
    const now = list.find((s) => s.start_time <= nowS && s.end_time > nowS)
    if (now) {
      // back-to-back sessions: busy until the last one of the chain ends
      let until = now.end_time
      for (const s of list) if (s.start_time <= until && s.end_time > until) until = s.end_time
      return { bay, state: 'busy', why: now.status, until, next: list.find((s) => s.start_time >= until) ?? null }
    }
    const freeHour = !next || next.start_time >= nowS + HOUR_S
    return { bay, state: freeHour ? 'free-hour' : 'free', why: null, until: next?.start_time ?? null, next }
  })
}

function outOfOrder(m) {
  if (!m) return 'unknown'
  if (!m.online) return 'offline'
  if (m.status === 'error') return 'error'
  if (m.status === 'maintenance') return 'maintenance'
  if (m.desired?.source === 'admin' && m.desired.status !== 'active') return m.desired.status === 'idle' ? 'stopped' : m.desired.status
  return null
}

export function countsOf(entries) {
  const c = { freeNow: 0, freeHour: 0, busy: 0, out: 0 }
  for (const e of entries) {
    if (e.state === 'free' || e.state === 'free-hour') c.freeNow++
    if (e.state === 'free-hour') c.freeHour++
    if (e.state === 'busy') c.busy++
    if (e.state === 'out') c.out++
  }
  return c
}

export function renderBoard({ list, counts, time }, entries, { fmt, nowS }) {
  const c = countsOf(entries)
  time.textContent = fmt.time(nowS())
  const countsHtml = [
    ['free-now', 'Free now', c.freeNow],
    ['free-hour', 'Free for the next hour', c.freeHour],
    ['busy', 'Busy', c.busy],
    ['out', 'Out of order', c.out],
  ]
    .map(([k, label, n]) => `<div class="c-${k}"><dt>${label}</dt><dd data-count="${k}">${n}</dd></div>`)
    .join('')
  if (counts.dataset.html !== countsHtml) {
    counts.innerHTML = countsHtml
    counts.dataset.html = countsHtml
  }
  const html = entries
    .map((e) => {
      const next = e.next ? `next ${fmt.time(e.next.start_time)}` : ''
      const text =
        e.state === 'out' ? `${e.why}${e.until ? ` until ${fmt.time(e.until)}` : ''}`
        : e.state === 'busy' ? `busy until ${fmt.time(e.until)}${next ? ` · ${next}` : ''}`
        : next ? `free · ${next}` : 'free till close'
      return `<li class="b-${e.state}" data-bay="${e.bay}" data-state="${e.state}"><b>${e.bay}</b> <span>${esc(text)}</span></li>`
    })
    .join('')
  if (list.dataset.html !== html) {
    list.innerHTML = html
    list.dataset.html = html
  }
  return c
}
