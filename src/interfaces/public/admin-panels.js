// Bay cards, the alert list and the utilization chart of the admin page.
import { esc } from './api.js'

const BALL_WIDTH = { full: 100, medium: 65, low: 35, urgent: 15, empty: 3 }

function ago(seconds) {
  if (seconds < 60) return 'just now'
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`
  return `${Math.floor(seconds / 86400)} d ago`
}

export function renderBays(container, summary, machines, { fmt, nowS }) {
  const list = [...machines.values()].sort((a, b) => a.machine_id - b.machine_id)
  container.innerHTML = list
    .map((m) => {
      const level = m.ball_level
      const seen = m.online
        ? m.desired?.source === 'admin' ? `admin: ${m.desired.status}${m.desired.scheduled_until ? ' until ' + fmt.time(m.desired.scheduled_until) : ''}` : m.scheduled_until ? `until ${fmt.time(m.scheduled_until)}` : 'online'
        : m.last_seen ? `seen ${ago(nowS() - m.last_seen)}` : 'never connected'
      const ball = level ? `<span class="ball l-${esc(level)}" title="Balls: ${esc(level)}"><i style="width:${BALL_WIDTH[level] ?? 0}%"></i></span>` : `<span class="ball" title="Balls: unknown"></span>`
      return (
        `<button type="button" class="bay-card s-${esc(m.status)}" data-bay="${m.machine_id}" ` +
        `aria-label="Bay ${m.machine_id}: ${esc(m.status)}, balls ${esc(level ?? 'unknown')}">` +
        `<span class="no">${m.machine_id}</span><span class="dot${m.online ? ' on' : ''}" title="${m.online ? 'online' : 'offline'}"></span>` +
        `<span class="status">${esc(m.status)}</span>${ball}` +
        `<span class="seen" title="${esc(m.error ?? seen)}">${esc(m.error ?? seen)}</span></button>`
      )
    })
    .join('')
  const online = list.filter((m) => m.online).length
  const active = list.filter((m) => m.status === 'active').length
  summary.textContent = `${online} of ${list.length} online · ${active} active`
}

export function renderAlerts(container, badge, alerts, { fmt }) {
  // open first, then acknowledged, then cleared; newest first within each
  const rank = (a) => (a.cleared_at !== null ? 2 : a.acknowledged ? 1 : 0)
  const list = [...alerts.values()].sort((a, b) => rank(a) - rank(b) || b.raised_at - a.raised_at)
  const open = list.filter((a) => a.cleared_at === null && !a.acknowledged).length
  badge.textContent = open ? String(open) : ''
  if (!list.length) {
    container.innerHTML = `<li class="none">No alerts. All bays report normally.</li>`
    return
  }
  container.innerHTML = list
    .slice(0, 50)
    .map((a) => {
      const cls = [`k-${a.kind}`, a.acknowledged ? 'acked' : '', a.cleared_at !== null ? 'cleared' : ''].join(' ')
      const action = a.acknowledged || a.cleared_at !== null ? '' : `<button type="button" data-ack="${esc(a.alert_id)}">Acknowledge</button>`
      const when = `${fmt.time(a.raised_at)}${a.cleared_at !== null ? ` · cleared ${fmt.time(a.cleared_at)}` : a.acknowledged ? ' · acknowledged' : ''}`
      return `<li class="${cls}"><span class="msg">${esc(a.message)}</span><span class="when">${esc(when)}</span>${action}</li>`
    })
    .join('')
}

/**
 * Hourly bars: share of bay-time booked (blue) and blocked for maintenance (grey) on the day.
 */
export function renderChart(container, summaryEl, { schedule, sessions, dayStartS, nowS }) {
  const bays = schedule.machines.length
  const hours = Math.ceil((schedule.schedule.length * schedule.slot_minutes) / 60)
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
  const W = 300
  const H = 120
  const pad = { l: 26, b: 16, t: 6 }
  const bw = (W - pad.l) / hours
  const y = (v) => pad.t + (1 - v) * (H - pad.t - pad.b)
  const firstHour = Number(schedule.schedule[0]?.[0]?.slice(0, 2) ?? 0)
  const parts = [0, 0.5, 1].map((v) => `<line class="grid" x1="${pad.l}" x2="${W}" y1="${y(v)}" y2="${y(v)}"/><text class="axis" x="0" y="${y(v) + 3}">${v * 100}%</text>`)
  for (let h = 0; h < hours; h++) {
    const x = pad.l + h * bw + 1
    const b = Math.min(1, booked[h])
    const m = Math.min(1 - b, blocked[h])
    parts.push(`<rect class="bar" x="${x}" width="${Math.max(1, bw - 2)}" y="${y(b)}" height="${y(0) - y(b)}"><title>${pct(b)} booked</title></rect>`)
    if (m > 0) parts.push(`<rect class="bar m" x="${x}" width="${Math.max(1, bw - 2)}" y="${y(b + m)}" height="${y(0) - y(m)}"><title>${pct(m)} maintenance</title></rect>`)
    const step = hours > 12 ? 3 : 1
    if (h % step === 0) parts.push(`<text class="axis" x="${x}" y="${H - 3}">${String((firstHour + h) % 24).padStart(2, '0')}</text>`)
  }
  const now = nowS()
  const nowX = pad.l + ((now - dayStartS) / 3600) * bw
  if (nowX >= pad.l && nowX <= W) parts.push(`<line class="nowline" x1="${nowX}" x2="${nowX}" y1="${pad.t}" y2="${y(0)}"/>`)
  container.innerHTML = `<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="Utilization by hour">${parts.join('')}</svg>`
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
