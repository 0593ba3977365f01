// The bay strip of the admin page (issue 18): one small chip per bay, grouped by layout row, so
// 40 bays take two lines instead of the first screen. The strip is one tab stop (a toolbar with
// roving focus: arrows, Home/End); Enter opens the bay. Updates patch the chips in place, so a
// live change never moves the focus or rebuilds the strip.
import { esc } from './api.js'

const SHORT = { idle: '', active: 'on', maintenance: 'maint', error: 'error', offline: 'off' }

function ago(seconds) {
  if (seconds < 60) return 'just now'
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`
  return `${Math.floor(seconds / 86400)} d ago`
}

/** What a chip says in full (its accessible name and tooltip). */
export function describeBay(m, { fmt, nowS }) {
  const parts = [m.status]
  if (m.desired?.source === 'admin') parts.push(`admin override ${m.desired.status}${m.desired.scheduled_until ? ' until ' + fmt.time(m.desired.scheduled_until) : ''}`)
  else if (m.scheduled_until && m.status === 'active') parts.push(`until ${fmt.time(m.scheduled_until)}`)
  parts.push(`balls ${m.ball_level ?? 'unknown'}`)
  if (!m.online) parts.push(m.last_seen ? `seen ${ago(nowS() - m.last_seen)}` : 'never connected')
  if (m.error) parts.push(m.error)
  return parts.join(', ')
}

export function createBayStrip(container, { onOpen }) {
  const chips = new Map() // bay id -> button
  let shapeKey = null
  let current = null // the chip holding tabindex=0

  function build(groups) {
    container.innerHTML = groups
      .map((g, gi) => `<div class="bay-row" data-row="${gi}">${g.map((id) => `<button type="button" class="bay-card" data-bay="${id}" tabindex="-1"></button>`).join('')}</div>`)
      .join('')
    chips.clear()
    for (const el of container.querySelectorAll('.bay-card')) chips.set(Number(el.dataset.bay), el)
    current = container.querySelector('.bay-card')
    if (current) current.tabIndex = 0
  }

  function render(machines, { rows, fmt, nowS }) {
    const ids = [...machines.keys()].sort((a, b) => a - b)
    const inRows = (rows ?? []).map((r) => r.filter((id) => machines.has(id))).filter((r) => r.length)
    const placed = new Set(inRows.flat())
    const rest = ids.filter((id) => !placed.has(id))
    const groups = rest.length ? [...inRows, rest] : inRows.length ? inRows : [ids]
    const key = JSON.stringify(groups)
    if (key !== shapeKey) {
      shapeKey = key
      build(groups)
    }
    for (const [id, el] of chips) {
      const m = machines.get(id)
      if (!m) continue
      const full = describeBay(m, { fmt, nowS })
      const level = m.ball_level ?? 'unknown'
      const cls = `bay-card s-${m.status} l-${level}${m.desired?.source === 'admin' ? ' override' : ''}`
      const html =
        `<span class="vh">Bay </span><span class="no">${id}</span><span class="dot${m.online ? ' on' : ''}" aria-hidden="true"></span>` +
        `<span class="st" aria-hidden="true">${esc(SHORT[m.status] ?? m.status)}</span><span class="ball" aria-hidden="true"><i></i></span>` +
        `<span class="vh">: ${esc(full)}</span>`
      if (el.className !== cls) el.className = cls
      if (el.title !== `Bay ${id}: ${full}`) el.title = `Bay ${id}: ${full}`
      if (el.dataset.html !== html) {
        el.innerHTML = html
        el.dataset.html = html
      }
    }
  }

  function focusChip(el) {
    if (!el) return
    if (current) current.tabIndex = -1
    current = el
    el.tabIndex = 0
    el.focus()
  }

  container.addEventListener('keydown', (event) => {
    const chip = event.target.closest('.bay-card')
    if (!chip) return
    const all = [...chips.values()]
    const i = all.indexOf(chip)
    const row = chip.parentElement
    const rowsEls = [...container.querySelectorAll('.bay-row')]
    const ri = rowsEls.indexOf(row)
    const inRow = [...row.children]
    const pos = inRow.indexOf(chip)
    let next = null
    if (event.key === 'ArrowRight') next = all[i + 1]
    else if (event.key === 'ArrowLeft') next = all[i - 1]
    else if (event.key === 'ArrowDown') next = rowsEls[ri + 1]?.children[Math.min(pos, rowsEls[ri + 1].children.length - 1)]
    else if (event.key === 'ArrowUp') next = rowsEls[ri - 1]?.children[Math.min(pos, rowsEls[ri - 1].children.length - 1)]
    else if (event.key === 'Home') next = all[0]
    else if (event.key === 'End') next = all.at(-1)
    else return
    event.preventDefault()
    focusChip(next)
  })
  container.addEventListener('click', (event) => {
    const chip = event.target.closest('.bay-card')
    if (!chip) return
    if (current !== chip) {
      if (current) current.tabIndex = -1
      current = chip
      chip.tabIndex = 0
    }
    onOpen(Number(chip.dataset.bay))
  })

  return { render }
}
