// Bay cards, the alert list and the utilization chart of the admin page.
import { esc } from './api.js'

/**
 * Runs `render` (which may rebuild `container`) and gives the focus back to the same control,
 * found again by its data-* key or id, and keeps the scroll: a live update never throws a
 * keyboard user back to the top (issue 18). Feature panels can use it for their own lists.
 */
export function keepFocus(container, render) {
  const active = document.activeElement
  const inside = active && active !== container && container.contains(active)
  const key = inside ? focusKey(active) : null
  const top = container.scrollTop
  render()
  container.scrollTop = top
  if (!inside || active.isConnected) return
  const again = key && container.querySelector(key)
  ;(again ?? container.closest('section') ?? container).focus?.({ preventScroll: true })
}

function focusKey(el) {
  if (el.id) return `#${CSS.escape(el.id)}`
  for (const attr of el.getAttributeNames()) {
    if (attr.startsWith('data-') && attr !== 'data-html') return `${el.tagName.toLowerCase()}[${attr}="${CSS.escape(el.getAttribute(attr))}"]`
  }
  return null
}

export function renderAlerts(container, badge, alerts, { fmt, openOnly = false, kind = '' }) {
  // open first, then acknowledged, then cleared; newest first within each
  const rank = (a) => (a.cleared_at !== null ? 2 : a.acknowledged ? 1 : 0)
  const list = [...alerts.values()].sort((a, b) => rank(a) - rank(b) || b.raised_at - a.raised_at)
  const open = list.filter((a) => a.cleared_at === null && !a.acknowledged).length
  badge.textContent = open ? String(open) : ''
  const shown = list.filter((a) => (!openOnly || (a.cleared_at === null && !a.acknowledged)) && (!kind || a.kind.startsWith(kind)))
  if (!shown.length) {
    const hidden = list.length - shown.length
    container.innerHTML = `<li class="none">${hidden ? `No alerts to show (${hidden} hidden by the filter).` : 'No alerts. All bays report normally.'}</li>`
    return
  }
  container.innerHTML = shown
    .slice(0, 50)
    .map((a) => {
      const cls = [`k-${a.kind}`, a.acknowledged ? 'acked' : '', a.cleared_at !== null ? 'cleared' : ''].join(' ')
      // open: acknowledge; cleared: dismiss it from the list (POST /api/alerts/:id/dismiss)
      const action = a.cleared_at !== null
        ? `<button type="button" data-dismiss="${esc(a.alert_id)}" data-needs="alerts.ack">Dismiss</button>`
        : a.acknowledged ? '' : `<button type="button" data-ack="${esc(a.alert_id)}" data-needs="alerts.ack">Acknowledge</button>`
      const when = `${fmt.time(a.raised_at)}${a.cleared_at !== null ? ` · cleared ${fmt.time(a.cleared_at)}` : a.acknowledged ? ' · acknowledged' : ''}`
      return `<li class="${cls}"><span class="msg">${esc(a.message)}</span><span class="when">${esc(when)}</span>${action}</li>`
    })
    .join('')
}

/**
 * Hourly bars: share of bay-time booked (blue) and blocked for maintenance (grey) on the day.
 */
export function renderChart(container, summaryEl, { schedule, sessions, dayStartS, nowS, fmt }) {
  const bays = schedule.machines.length
  const hours = Math.ceil((schedule.slots * schedule.slot_minutes) / 60)
  const booked = new Array(hours).fill(0)
  const blocked = new Array(hours).fill(0)
  for (const s of sessions.values()) {
    if (s.status === 'cancelled') continue
    for (let h = 0; h < hours; h++) {
      const from = dayStartS + h * 3600
      const overlap = Math.max(0, Math.min(s.end_time, from + 3600) - Math.max(s.start_time, from))
      const target = s.status === 'maintenance' ? blocked : booked
      target[h] += (overlap * s.machine_id.filter((id) => schedule.machines.includes(id)).length) / (3600 * bays)
    }
  }
  // One SVG unit = one CSS pixel (the drawn width), so labels stay 12 px whatever the panel's width.
  const W = Math.max(240, Math.round(container.clientWidth || 300))
  const H = 150
  const pad = { l: 40, b: 22, t: 8 }
  const bw = (W - pad.l) / hours
  const y = (v) => pad.t + (1 - v) * (H - pad.t - pad.b)
  const parts = [0, 0.5, 1].map((v) => `<line class="grid" x1="${pad.l}" x2="${W}" y1="${y(v)}" y2="${y(v)}"/><text class="axis" x="${pad.l - 6}" y="${y(v) + 4}" text-anchor="end">${v * 100}%</text>`)
  const step = Math.max(1, Math.ceil(hours / Math.floor((W - pad.l) / 34))) // a label every ~34 px at most
  for (let h = 0; h < hours; h++) {
    const x = pad.l + h * bw + 1
    const b = Math.min(1, booked[h])
    const m = Math.min(1 - b, blocked[h])
    parts.push(`<rect class="bar" x="${x}" width="${Math.max(1, bw - 2)}" y="${y(b)}" height="${y(0) - y(b)}"><title>${pct(b)} booked</title></rect>`)
    if (m > 0) parts.push(`<rect class="bar m" x="${x}" width="${Math.max(1, bw - 2)}" y="${y(b + m)}" height="${y(0) - y(m)}"><title>${pct(m)} maintenance</title></rect>`)
    if (h % step === 0) parts.push(`<text class="axis" x="${x + bw / 2}" y="${H - 5}" text-anchor="middle">${esc(fmt.hour(dayStartS + h * 3600))}</text>`)
  }
  const now = nowS()
  const nowX = pad.l + ((now - dayStartS) / 3600) * bw
  if (nowX >= pad.l && nowX <= W) parts.push(`<line class="nowline" x1="${nowX}" x2="${nowX}" y1="${pad.t}" y2="${y(0)}"/>`)
  container.innerHTML = `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="Share of bay time booked, by hour">${parts.join('')}</svg>`
  const total = booked.reduce((a, b) => a + b, 0) / hours
  const nowHour = Math.floor((now - dayStartS) / 3600)
  const current = nowHour >= 0 && nowHour < hours ? ` · this hour ${pct(booked[nowHour])}` : ''
  summaryEl.textContent = `${pct(total)} of bay time booked over the day${current}`
}

const pct = (v) => (v > 0 && v < 0.1 ? `${(v * 100).toFixed(1)}%` : `${Math.round(v * 100)}%`)

/** Cloud link parts from /api/health: each on or off, last success, backlog, last error. */
export function renderLink(container, link, { fmt }) {
  if (!link) {
    container.innerHTML = '<li class="muted">status unavailable</li>'
    return
  }
  const parts = [
    ['Reservations', link.reservations?.enabled || link.reservations?.webhook, link.reservations?.pull?.lastSuccess, link.reservations?.reports?.backlog, link.reservations?.pull?.lastError ?? link.reservations?.reports?.lastError],
    ['Event uplink', link.uplink?.enabled, link.uplink?.lastSuccess, link.uplink?.backlog, link.uplink?.lastError],
    ['Bridge', link.bridge?.enabled, link.bridge?.lastSuccess, link.bridge?.backlog, link.bridge?.connected === false ? link.bridge?.lastError ?? 'not connected' : link.bridge?.lastError],
  ]
  container.innerHTML = parts
    .map(([name, on, last, backlog, error]) => {
      if (!on) return `<li><b>${esc(name)}</b> <span class="muted">off</span></li>`
      const when = last ? `ok at ${esc(fmt.time(last))}` : 'not yet'
      const waiting = backlog ? ` · ${Number(backlog)} waiting` : ''
      const problem = error ? `<br><span class="error" title="${esc(error)}">${esc(String(error).slice(0, 80))}</span>` : ''
      return `<li><b>${esc(name)}</b> ${when}${waiting}${problem}</li>`
    })
    .join('')
}
