// The day's schedule as a grid: bays across, slots down, sessions as blocks on it.
// Drag with a mouse or pen to select bays x time; a tap selects one slot (touch scrolls).
import { esc } from './api.js'
import { formatBays } from './time.js'

const HEAD_ROWS = 1

export function createScheduleGrid(container, { onSelect, onOpenSession }) {
  let view = null
  let selection = null
  let scrolledFor = null

  function slotHeight() {
    return parseFloat(getComputedStyle(container.querySelector('.sched')).getPropertyValue('--slot-h')) || 14
  }

  function gridStart(v) {
    return v.dayStartS
  }

  function render(next) {
    view = next
    const { schedule, sessions, machines, fmt } = view
    const rows = schedule.schedule.length
    const ids = schedule.machines
    const slotS = schedule.slot_minutes * 60
    const start = gridStart(view)
    const perHour = Math.max(1, Math.round(60 / schedule.slot_minutes))
    const parts = [`<div class="corner"></div>`]
    ids.forEach((id, i) => {
      const m = machines.get(id)
      parts.push(`<div class="bay-head" style="grid-column:${i + 2}"><span class="dot${m?.online ? ' on' : ''}"></span>${id}</div>`)
    })
    schedule.schedule.forEach((row, r) => {
      if (r % perHour === 0) parts.push(`<div class="time" style="grid-row:${r + 2} / span ${perHour}">${esc(row[0])}</div>`)
    })
    ids.forEach((id, i) => {
      parts.push(`<div class="col" data-col="${i}" data-bay="${id}" style="grid-column:${i + 2};grid-row:2 / span ${rows}"></div>`)
    })
    for (const s of sessions.values()) {
      if (s.status === 'cancelled') continue
      const r0 = Math.max(0, Math.floor((s.start_time - start) / slotS))
      const r1 = Math.min(rows, Math.ceil((s.end_time - start) / slotS))
      if (r1 <= r0) continue
      const cols = s.machine_id.map((id) => ids.indexOf(id)).filter((c) => c >= 0).sort((a, b) => a - b)
      const title = `${formatBays(s.machine_id)} · ${fmt.time(s.start_time)}–${fmt.time(s.end_time)} · ${s.status} · #${s.session_id} (${s.origin_node})`
      for (const [a, b] of runs(cols)) {
        parts.push(
          `<button type="button" class="block ${esc(s.status)}" data-session="${s.session_id}" title="${esc(title)}" ` +
            `style="grid-column:${a + 2} / ${b + 3};grid-row:${r0 + 2} / ${r1 + 2}">` +
            `<span>${esc(fmt.time(s.start_time))}–<wbr>${esc(fmt.time(s.end_time))}</span><span>${s.status === 'maintenance' ? 'maint.' : '#' + s.session_id}</span></button>`,
        )
      }
    }
    container.innerHTML = `<div class="sched" style="--bays:${ids.length};--rows:${rows};--per-hour:${perHour}">${parts.join('')}<div class="sel" hidden></div><div class="now" hidden></div></div>`
    updateNow()
    if (scrolledFor !== view.date) {
      scrolledFor = view.date
      scrollToInteresting()
    }
  }

  function updateNow() {
    if (!view) return
    const line = container.querySelector('.now')
    const slotS = view.schedule.slot_minutes * 60
    const offset = (view.nowS() - gridStart(view)) / slotS
    if (offset < 0 || offset > view.schedule.schedule.length) return (line.hidden = true)
    const head = container.querySelector('.bay-head')?.offsetHeight ?? 0
    line.style.top = `${head + offset * slotHeight()}px`
    line.hidden = false
  }

  function scrollToInteresting() {
    const slotS = view.schedule.slot_minutes * 60
    const now = view.nowS()
    const start = gridStart(view)
    const firstSession = Math.min(...[...view.sessions.values()].filter((s) => s.status !== 'cancelled').map((s) => s.start_time))
    const target = now >= start && now < start + view.schedule.schedule.length * slotS ? now - 3600 : Number.isFinite(firstSession) ? firstSession - 1800 : start + 8 * 3600
    container.scrollTop = Math.max(0, ((target - start) / slotS) * slotHeight())
  }

  // ---------------------------------------------------------------- selection
  let drag = null

  function cellAt(clientX, clientY) {
    const cols = [...container.querySelectorAll('.col')]
    const rect0 = cols[0].getBoundingClientRect()
    let col = cols.findIndex((c) => {
      const r = c.getBoundingClientRect()
      return clientX >= r.left && clientX < r.right
    })
    if (col < 0) col = clientX < rect0.left ? 0 : cols.length - 1
    const rows = view.schedule.schedule.length
    const row = Math.min(rows - 1, Math.max(0, Math.floor((clientY - rect0.top) / slotHeight())))
    return { col, row }
  }

  function showSelection() {
    const sel = container.querySelector('.sel')
    if (!selection) return (sel.hidden = true)
    const [c0, c1] = [selection.a.col, selection.b.col].sort((x, y) => x - y)
    const [r0, r1] = [selection.a.row, selection.b.row].sort((x, y) => x - y)
    sel.style.gridColumn = `${c0 + 2} / ${c1 + 3}`
    sel.style.gridRow = `${r0 + 2} / ${r1 + 3}`
    sel.hidden = false
  }

  function finish(tap) {
    const [c0, c1] = [selection.a.col, selection.b.col].sort((x, y) => x - y)
    const [r0, r1] = [selection.a.row, selection.b.row].sort((x, y) => x - y)
    const ids = view.schedule.machines.slice(c0, c1 + 1)
    const startS = gridStart(view) + r0 * view.schedule.slot_minutes * 60
    const minutes = tap ? 60 : (r1 - r0 + 1) * view.schedule.slot_minutes
    onSelect({ bays: ids, startS, minutes, clear: () => ((selection = null), showSelection()) })
  }

  container.addEventListener('click', (event) => {
    const block = event.target.closest('.block')
    if (block) onOpenSession(Number(block.dataset.session))
  })
  container.addEventListener('pointerdown', (event) => {
    const col = event.target.closest('.col')
    if (!col || event.button !== 0 || !view) return
    const cell = cellAt(event.clientX, event.clientY)
    drag = { pointerId: event.pointerId, touch: event.pointerType === 'touch', moved: false }
    selection = { a: cell, b: cell }
    if (!drag.touch) {
      event.preventDefault()
      showSelection()
    }
  })
  window.addEventListener('pointermove', (event) => {
    if (!drag || drag.touch || event.pointerId !== drag.pointerId) return
    const cell = cellAt(event.clientX, event.clientY)
    if (cell.col !== selection.b.col || cell.row !== selection.b.row) {
      selection.b = cell
      drag.moved = true
      showSelection()
    }
  })
  window.addEventListener('pointerup', (event) => {
    if (!drag || event.pointerId !== drag.pointerId) return
    const tap = !drag.moved
    drag = null
    showSelection()
    finish(tap)
  })
  window.addEventListener('pointercancel', () => {
    drag = null
    selection = null
    showSelection()
  })
  setInterval(updateNow, 30_000)

  return { render, updateNow }
}

/** [1,2,3,5] -> [[1,3],[5,5]] */
function runs(sorted) {
  const out = []
  for (const c of sorted) {
    const last = out[out.length - 1]
    if (last && c === last[1] + 1) last[1] = c
    else out.push([c, c])
  }
  return out
}
