// The day's schedule as a grid: bays across (one column group per layout row, visibly apart),
// slots down, sessions as blocks, admin overrides and out-of-order bays as bands on it.
//
// Booking a range of bays x time (issue 18):
// - mouse or pen: drag over free time;
// - touch: tap the start cell, then the end cell (any bay of the same row: a group), or press
//   and hold, then drag (a plain drag scrolls the grid);
// - keyboard: the grid is one tab stop; arrows move a cursor cell by cell (a session block takes
//   the focus when the cursor is on it), Page Up/Down move an hour, Home/End go to the row's
//   first/last bay; Enter or Space marks the start, then the end; Escape clears.
// Live updates patch the blocks in place: the focused element, the cursor and the scroll stay.
import { esc } from './api.js'
import { formatBays } from './time.js'

/** session status -> block class; a new status only needs its line here and a colour in style.css */
export const BLOCK_CLASS = {
  reserved: 'reserved',
  active: 'active',
  held: 'held',
  maintenance: 'maintenance',
  completed: 'completed',
}
const HIDDEN_STATUSES = new Set(['cancelled'])
/** schedule cell status -> band class (issue 14: the reply carries the calendar's state per cell) */
export const CELL_CLASS = { closed: 'calendar-closed', walk_in_only: 'calendar-walk-in', unavailable: 'unavailable' }
const CELL_SHORT = { closed: 'closed', walk_in_only: 'walk-in', unavailable: 'not for sale' }
const HEAD_ROWS = 2 // row-group labels, then bay numbers
const LONG_PRESS_MS = 450
const MOVE_SLOP_PX = 10

export function createScheduleGrid(container, { onSelect, onOpenSession, status }) {
  let view = null
  let shapeKey = null
  let scrolledFor = null
  /** bay ids in column order, and each column's grid line (separator columns between rows) */
  let order = []
  let colLine = []
  let rowOf = [] // column index -> layout row index
  let els = null
  const blocks = new Map() // key -> button
  let cursor = { row: 0, col: 0 }
  let anchor = null // { row, col } after the first tap / Enter
  let selection = null // { a, b }

  function slotHeight() {
    return parseFloat(getComputedStyle(els.sched).getPropertyValue('--slot-h')) || 14
  }
  const slotS = () => view.schedule.slot_minutes * 60
  const rowsCount = () => view.schedule.slots
  const rowStart = (row) => view.dayStartS + row * slotS()

  // ---------------------------------------------------------------- shape (rebuilt only when the day or layout changes)

  function buildShape() {
    const { schedule } = view
    const ids = schedule.machines
    const layoutRows = (view.layout?.rows ?? [ids]).map((r) => r.filter((id) => ids.includes(id))).filter((r) => r.length)
    const seen = new Set(layoutRows.flat())
    const rest = ids.filter((id) => !seen.has(id))
    const groups = rest.length ? [...layoutRows, rest] : layoutRows
    order = groups.flat()
    colLine = []
    rowOf = []
    const template = ['var(--time-w)']
    let line = 2
    groups.forEach((g, gi) => {
      if (gi > 0) {
        template.push('var(--gap-w)')
        line++
      }
      for (const _ of g) {
        colLine.push(line++)
        rowOf.push(gi)
        template.push('minmax(var(--bay-min), 1fr)')
      }
    })
    const rows = rowsCount()
    const perHour = Math.max(1, Math.round(60 / schedule.slot_minutes))
    const parts = [`<div class="corner" style="grid-row:1 / span ${HEAD_ROWS}"></div>`]
    let c = 0
    groups.forEach((g, gi) => {
      const first = colLine[c]
      parts.push(`<div class="grp g${gi % 2}" style="grid-column:${first} / ${first + g.length}">${esc(formatBays(g))}</div>`)
      if (gi > 0) parts.push(`<div class="row-gap" aria-hidden="true" style="grid-column:${first - 1};grid-row:1 / span ${rows + HEAD_ROWS}"></div>`)
      c += g.length
    })
    order.forEach((id, i) => {
      parts.push(`<div class="bay-head g${rowOf[i] % 2}" data-bay="${id}" style="grid-column:${colLine[i]}"><span class="dot"></span>${id}</div>`)
    })
    for (let r = 0; r < rows; r += perHour) {
      parts.push(`<div class="time" style="grid-row:${r + HEAD_ROWS + 1} / span ${Math.min(perHour, rows - r)}">${esc(view.fmt.time(rowStart(r)))}</div>`)
    }
    order.forEach((id, i) => {
      parts.push(`<div class="col" data-col="${i}" data-bay="${id}" style="grid-column:${colLine[i]};grid-row:${HEAD_ROWS + 1} / span ${rows}"></div>`)
    })
    container.innerHTML =
      `<div class="sched" style="grid-template-columns:${template.join(' ')};--rows:${rows};--per-hour:${perHour}">${parts.join('')}` +
      `<div class="overlays"></div><div class="blocks"></div><div class="sel" hidden></div><div class="now" hidden></div>` +
      `<button type="button" class="cursor" tabindex="0"><span class="vh"></span></button></div>`
    els = {
      sched: container.querySelector('.sched'),
      overlays: container.querySelector('.overlays'),
      blocks: container.querySelector('.blocks'),
      sel: container.querySelector('.sel'),
      now: container.querySelector('.now'),
      cursor: container.querySelector('.cursor'),
    }
    els.sched.style.gridTemplateRows = `var(--grp-h) var(--head-h) repeat(${rows}, var(--slot-h))`
    blocks.clear()
    anchor = null
    selection = null
    cursor = { row: Math.min(rows - 1, Math.max(0, rowOfTime(view.nowS()))), col: 0 }
  }

  function rowOfTime(t) {
    return Math.floor((t - view.dayStartS) / slotS())
  }

  // ---------------------------------------------------------------- render (patches)

  function render(next) {
    view = next
    const key = JSON.stringify([view.date, view.dayStartS, view.schedule.machines, view.schedule.slot_minutes, rowsCount(), view.layout?.rows ?? null])
    if (key !== shapeKey) {
      shapeKey = key
      buildShape()
    }
    patchHeads()
    patchBlocks()
    drawOverlays()
    placeCursor(false)
    showSelection()
    updateNow()
    if (scrolledFor !== view.date) {
      scrolledFor = view.date
      scrollToInteresting()
    }
  }

  function patchHeads() {
    for (const head of els.sched.querySelectorAll('.bay-head')) {
      const m = view.machines.get(Number(head.dataset.bay))
      head.querySelector('.dot').className = `dot${m?.online ? ' on' : ''}`
      head.className = head.className.replace(/\bs-\S+/g, '').trim() + ` s-${m?.status ?? 'unknown'}`
    }
  }

  /** The runs of adjacent columns of each visible session, keyed so an update reuses the button. */
  function wantedBlocks() {
    const out = new Map()
    const rows = rowsCount()
    const { fmt } = view
    for (const s of view.sessions.values()) {
      if (HIDDEN_STATUSES.has(s.status)) continue
      const r0 = Math.max(0, Math.floor((s.start_time - view.dayStartS) / slotS()))
      const r1 = Math.min(rows, Math.ceil((s.end_time - view.dayStartS) / slotS()))
      if (r1 <= r0) continue
      const cols = s.machine_id.map((id) => order.indexOf(id)).filter((c) => c >= 0).sort((a, b) => a - b)
      const time = `${fmt.time(s.start_time)}–${fmt.time(s.end_time)}`
      const cls = BLOCK_CLASS[s.status] ?? 'other'
      const label = s.status === 'maintenance' ? 'maint.' : `#${s.session_id}`
      // The accessible name says which bays and when (issue 18: not just "19:00–21:00 #12").
      const spoken = `${formatBays(s.machine_id)}, ${s.status}, `
      for (const [a, b] of runs(cols, rowOf)) {
        out.set(`${s.session_id}:${a}`, {
          session: s.session_id,
          cls: `block ${cls}${s.affected ? ' affected' : ''}`,
          column: `${colLine[a]} / ${colLine[b] + 1}`,
          row: `${r0 + HEAD_ROWS + 1} / ${r1 + HEAD_ROWS + 1}`,
          r0,
          r1,
          c0: a,
          c1: b,
          title: `${formatBays(s.machine_id)} · ${time} · ${s.status} · #${s.session_id} (${s.origin_node})`,
          html: `<span class="vh">${esc(spoken)}</span><span>${esc(fmt.time(s.start_time))}–<wbr>${esc(fmt.time(s.end_time))}</span> <span>${esc(label)}</span>`,
        })
      }
    }
    return out
  }

  function patchBlocks() {
    const wanted = wantedBlocks()
    const focused = document.activeElement
    let lostFocus = false
    for (const [key, el] of blocks) {
      if (wanted.has(key)) continue
      if (el === focused) lostFocus = true
      el.remove()
      blocks.delete(key)
    }
    for (const [key, b] of wanted) {
      let el = blocks.get(key)
      if (!el) {
        el = document.createElement('button')
        el.type = 'button'
        el.tabIndex = -1
        els.blocks.append(el)
        blocks.set(key, el)
      }
      if (el.className !== b.cls) el.className = b.cls
      el.dataset.session = String(b.session)
      Object.assign(el.dataset, { r0: b.r0, r1: b.r1, c0: b.c0, c1: b.c1 })
      if (el.style.gridColumn !== b.column) el.style.gridColumn = b.column
      if (el.style.gridRow !== b.row) el.style.gridRow = b.row
      if (el.title !== b.title) el.title = b.title
      if (el.dataset.html !== b.html) {
        el.innerHTML = b.html
        el.dataset.html = b.html
      }
    }
    // A session that moved away under the keyboard focus: the focus stays in the grid, at the same cell.
    if (lostFocus) focusAt(cursor.row, cursor.col)
  }

  /** Admin overrides and bays that cannot dispense, as bands from now (today only). */
  function drawOverlays() {
    const now = view.nowS()
    const end = view.dayStartS + rowsCount() * slotS()
    const parts = []
    // A bay held by an override or out of order is drawn once: the schedule's "not for sale" cells
    // for that bay join its live band (class and reason) instead of a second band on top of it.
    const live = new Map()
    if (now < end && now >= view.dayStartS - 86400) {
      order.forEach((id, i) => {
        const band = overlayOf(view.machines.get(id), now, end)
        if (!band) return
        const r0 = Math.max(0, rowOfTime(Math.max(now, view.dayStartS)))
        const r1 = Math.min(rowsCount(), Math.ceil((band.until - view.dayStartS) / slotS()))
        if (r1 > r0) live.set(id, { ...band, i, r0, r1, classes: `ov ov-${band.kind}` })
      })
    }
    const extras = []
    for (const extra of [...cellBands(), ...(view.overlays ?? [])]) {
      const i = order.indexOf(extra.bay)
      if (i < 0) continue
      const held = live.get(extra.bay)
      if (extra.kind === 'unavailable' && held) {
        held.classes += ' ov-unavailable'
        held.text = extra.text ?? held.text
        continue
      }
      const r0 = Math.max(0, rowOfTime(extra.from))
      const r1 = Math.min(rowsCount(), Math.ceil((extra.to - view.dayStartS) / slotS()))
      if (r1 > r0) extras.push({ ...extra, i, r0, r1, classes: `ov ov-${esc(extra.kind)}` })
    }
    for (const [id, b] of live)
      parts.push(`<div class="${b.classes}" data-bay="${id}" aria-hidden="true" style="grid-column:${colLine[b.i]};grid-row:${b.r0 + HEAD_ROWS + 1} / ${b.r1 + HEAD_ROWS + 1}" title="${esc(b.text)}"><span>${esc(b.short)}</span></div>`)
    for (const b of extras)
      parts.push(`<div class="${b.classes}" data-bay="${b.bay}" aria-hidden="true" style="grid-column:${colLine[b.i]};grid-row:${b.r0 + HEAD_ROWS + 1} / ${b.r1 + HEAD_ROWS + 1}" title="${esc(b.text ?? b.kind)}"><span>${esc(b.short ?? '')}</span></div>`)
    const html = parts.join('')
    if (els.overlays.dataset.html !== html) {
      els.overlays.innerHTML = html
      els.overlays.dataset.html = html
    }
  }

  /**
   * Cells the calendar closes or keeps for walk-ins, or that cannot be sold: one band per run of
   * the ScheduleRuns reply (issue 17: `[first, count, status, ref]`, ref the reason's index).
   */
  function cellBands() {
    const out = []
    const { machines, runs, statuses, reasons } = view.schedule
    machines.forEach((bay, c) => {
      for (const [first, count, s, ref] of runs[c] ?? []) {
        const status = statuses[s]
        if (!Object.hasOwn(CELL_CLASS, status)) continue
        const text = ref === undefined ? status : (reasons[ref] ?? status)
        out.push({ bay, kind: CELL_CLASS[status], from: rowStart(first), to: rowStart(first + count), text, short: CELL_SHORT[status] })
      }
    })
    return out
  }

  function overlayOf(m, now, end) {
    if (!m) return null
    const d = m.desired
    if (d?.source === 'admin') {
      const until = d.scheduled_until ?? end
      const word = { maintenance: 'maintenance', idle: 'stopped', active: 'on' }[d.status] ?? d.status
      return { kind: `admin-${d.status}`, until, short: word, text: `Admin override: ${word}${d.scheduled_until ? ` until ${view.fmt.time(d.scheduled_until)}` : ''}` }
    }
    if (m.status === 'maintenance') return { kind: 'maintenance', until: end, short: 'maint.', text: 'In maintenance' }
    if (m.status === 'error') return { kind: 'error', until: end, short: 'error', text: `Error: ${m.error ?? 'command failed'}` }
    if (!m.online) return { kind: 'offline', until: end, short: 'offline', text: 'Offline' }
    return null
  }

  function updateNow() {
    if (!view || !els) return
    const offset = (view.nowS() - view.dayStartS) / slotS()
    if (offset < 0 || offset > rowsCount()) return (els.now.hidden = true)
    const top = container.querySelector('.col')?.offsetTop ?? 0
    els.now.style.top = `${top + offset * slotHeight()}px`
    els.now.hidden = false
  }

  function scrollToInteresting() {
    const now = view.nowS()
    const start = view.dayStartS
    const firstSession = Math.min(...[...view.sessions.values()].filter((s) => !HIDDEN_STATUSES.has(s.status)).map((s) => s.start_time))
    const target = now >= start && now < start + rowsCount() * slotS() ? now - 3600 : Number.isFinite(firstSession) ? firstSession - 1800 : start + 8 * 3600
    container.scrollTop = Math.max(0, ((target - start) / slotS()) * slotHeight())
  }

  // ---------------------------------------------------------------- cursor, roving focus

  function blockAt(row, col) {
    for (const el of blocks.values()) {
      const d = el.dataset
      if (row >= Number(d.r0) && row < Number(d.r1) && col >= Number(d.c0) && col <= Number(d.c1)) return el
    }
    return null
  }

  function describeCell(row, col) {
    const id = order[col]
    const t = view.fmt.time(rowStart(row))
    const m = view.machines.get(id)
    const band = m ? overlayOf(m, view.nowS(), view.dayStartS + rowsCount() * slotS()) : null
    const state = band && rowStart(row) + slotS() > view.nowS() ? `free on the schedule, ${band.text.toLowerCase()}` : 'free'
    const sel = selection ? ` Selected ${selectionText()}.` : ''
    const next = anchor ? ' Enter: book the selection.' : ' Enter: start a booking here.'
    return `Bay ${id}, ${t}, ${state}.${sel}${next}`
  }

  function placeCursor(moveFocus) {
    if (!els || !order.length) return
    cursor.row = Math.min(rowsCount() - 1, Math.max(0, cursor.row))
    cursor.col = Math.min(order.length - 1, Math.max(0, cursor.col))
    els.cursor.style.gridColumn = String(colLine[cursor.col])
    els.cursor.style.gridRow = String(cursor.row + HEAD_ROWS + 1)
    els.cursor.dataset.bay = String(order[cursor.col])
    els.cursor.dataset.row = String(cursor.row)
    const label = describeCell(cursor.row, cursor.col)
    const vh = els.cursor.firstChild
    if (vh.textContent !== label) vh.textContent = label
    if (moveFocus) focusAt(cursor.row, cursor.col)
  }

  /** One tab stop in the grid: the block under the cursor, or the cursor cell itself. */
  function focusAt(row, col) {
    const block = blockAt(row, col)
    for (const el of blocks.values()) el.tabIndex = el === block ? 0 : -1
    els.cursor.tabIndex = block ? -1 : 0
    const target = block ?? els.cursor
    target.focus({ preventScroll: true })
    keepVisible(row, col)
  }

  function keepVisible(row, col) {
    const slotH = slotHeight()
    const head = container.querySelector('.col')?.offsetTop ?? 0
    const top = head + row * slotH
    const view_ = container.clientHeight
    if (top - head < container.scrollTop) container.scrollTop = top - head - slotH
    else if (top + slotH > container.scrollTop + view_) container.scrollTop = top + 2 * slotH - view_
    const colEl = container.querySelector(`.col[data-col="${col}"]`)
    if (colEl) {
      const timeW = container.querySelector('.corner')?.offsetWidth ?? 0
      const left = colEl.offsetLeft
      if (left - timeW < container.scrollLeft) container.scrollLeft = left - timeW
      else if (left + colEl.offsetWidth > container.scrollLeft + container.clientWidth) container.scrollLeft = left + colEl.offsetWidth - container.clientWidth
    }
  }

  function move(dRow, dCol, extend) {
    const block = blockAt(cursor.row, cursor.col)
    let { row, col } = cursor
    if (block && !extend && dRow) row = dRow > 0 ? Number(block.dataset.r1) : Number(block.dataset.r0) - 1
    else row += dRow
    if (block && !extend && dCol) col = dCol > 0 ? Number(block.dataset.c1) + 1 : Number(block.dataset.c0) - 1
    else col += dCol
    cursor = { row: Math.min(rowsCount() - 1, Math.max(0, row)), col: Math.min(order.length - 1, Math.max(0, col)) }
    if (extend) {
      if (!anchor) anchor = { ...(selection?.a ?? cursor) }
      selection = { a: anchor, b: clampToRow(anchor, cursor) }
      showSelection()
    } else if (anchor) {
      selection = { a: anchor, b: clampToRow(anchor, cursor) }
      showSelection()
    }
    placeCursor(true)
  }

  /** A group stays in one layout row: the end column is held inside the start's row. */
  function clampToRow(a, b) {
    let col = b.col
    while (col > a.col && rowOf[col] !== rowOf[a.col]) col--
    while (col < a.col && rowOf[col] !== rowOf[a.col]) col++
    return { row: b.row, col }
  }

  container.addEventListener('keydown', (event) => {
    if (!view || !els) return
    const onGrid = event.target === els.cursor || event.target.classList?.contains('block')
    if (!onGrid) return
    const perHour = Math.max(1, Math.round(60 / view.schedule.slot_minutes))
    const k = event.key
    const shift = event.shiftKey
    const rowCols = () => order.map((_, i) => i).filter((i) => rowOf[i] === rowOf[cursor.col])
    if (k === 'ArrowDown') move(1, 0, shift)
    else if (k === 'ArrowUp') move(-1, 0, shift)
    else if (k === 'ArrowRight') move(0, 1, shift)
    else if (k === 'ArrowLeft') move(0, -1, shift)
    else if (k === 'PageDown') move(perHour, 0, shift)
    else if (k === 'PageUp') move(-perHour, 0, shift)
    else if (k === 'Home') move(0, rowCols()[0] - cursor.col, shift)
    else if (k === 'End') move(0, rowCols().at(-1) - cursor.col, shift)
    else if (k === 'Escape' && (anchor || selection)) clear()
    else if ((k === 'Enter' || k === ' ') && event.target === els.cursor) markCell(cursor)
    else return
    event.preventDefault()
  })

  // ---------------------------------------------------------------- selection

  function selectionText() {
    const [c0, c1] = [selection.a.col, selection.b.col].sort((x, y) => x - y)
    const [r0, r1] = [selection.a.row, selection.b.row].sort((x, y) => x - y)
    return `${formatBays(order.slice(c0, c1 + 1))}, ${view.fmt.time(rowStart(r0))}–${view.fmt.time(rowStart(r1 + 1))}`
  }

  function showSelection() {
    if (!els) return
    if (!selection) {
      els.sel.hidden = true
    } else {
      const [c0, c1] = [selection.a.col, selection.b.col].sort((x, y) => x - y)
      const [r0, r1] = [selection.a.row, selection.b.row].sort((x, y) => x - y)
      els.sel.style.gridColumn = `${colLine[c0]} / ${colLine[c1] + 1}`
      els.sel.style.gridRow = `${r0 + HEAD_ROWS + 1} / ${r1 + HEAD_ROWS + 2}`
      els.sel.hidden = false
    }
    status?.({ anchor: anchor && selection ? selectionText() : null })
  }

  /** First tap / Enter marks the start; the second marks the end and asks to book. */
  function markCell(cell) {
    if (!anchor) {
      anchor = { ...cell }
      selection = { a: anchor, b: { ...cell } }
      showSelection()
      placeCursor(false)
      return
    }
    selection = { a: anchor, b: clampToRow(anchor, cell) }
    showSelection()
    finish(false)
  }

  function finish(oneHour) {
    const [c0, c1] = [selection.a.col, selection.b.col].sort((x, y) => x - y)
    const [r0, r1] = [selection.a.row, selection.b.row].sort((x, y) => x - y)
    const ids = order.slice(c0, c1 + 1)
    const startS = rowStart(r0)
    const minutes = oneHour ? 60 : (r1 - r0 + 1) * view.schedule.slot_minutes
    onSelect({ bays: ids, startS, minutes, clear })
  }

  function clear() {
    anchor = null
    selection = null
    showSelection()
    if (els) placeCursor(false)
  }

  function cellAt(clientX, clientY) {
    const cols = [...container.querySelectorAll('.col')]
    const rect0 = cols[0].getBoundingClientRect()
    let col = cols.findIndex((c) => {
      const r = c.getBoundingClientRect()
      return clientX >= r.left && clientX < r.right
    })
    if (col < 0) {
      // on a row gap or outside: the nearest column
      let best = Infinity
      cols.forEach((c, i) => {
        const r = c.getBoundingClientRect()
        const d = Math.min(Math.abs(clientX - r.left), Math.abs(clientX - r.right))
        if (d < best) (best = d), (col = i)
      })
    }
    const row = Math.min(rowsCount() - 1, Math.max(0, Math.floor((clientY - rect0.top) / slotHeight())))
    return { col, row }
  }

  container.addEventListener('click', (event) => {
    const block = event.target.closest('.block')
    if (!block) return
    const d = block.dataset
    cursor = { row: Number(d.r0), col: Number(d.c0) }
    placeCursor(false)
    onOpenSession(Number(d.session))
  })

  // Pointer input. Mouse/pen: press, drag, release. Touch: a quick tap marks a cell (start, then
  // end); a press held still for LONG_PRESS_MS starts a drag selection and stops the scrolling.
  let press = null
  container.addEventListener('pointerdown', (event) => {
    const col = event.target.closest('.col, .ov, .sel, .cursor')
    if (!col || event.button !== 0 || !view) return
    const cell = cellAt(event.clientX, event.clientY)
    press = { pointerId: event.pointerId, touch: event.pointerType === 'touch', x: event.clientX, y: event.clientY, cell, dragging: false, moved: false, timer: null }
    if (press.touch) {
      press.timer = setTimeout(() => {
        if (!press || press.moved) return
        press.dragging = true
        anchor = { ...cell }
        selection = { a: anchor, b: { ...cell } }
        container.classList.add('dragging')
        navigator.vibrate?.(15)
        showSelection()
      }, LONG_PRESS_MS)
    } else {
      event.preventDefault()
      press.dragging = true
      selection = { a: cell, b: cell }
      showSelection()
    }
  })
  window.addEventListener('pointermove', (event) => {
    if (!press || event.pointerId !== press.pointerId) return
    if (Math.hypot(event.clientX - press.x, event.clientY - press.y) > MOVE_SLOP_PX) press.moved = true
    if (!press.dragging || press.touch) return // touch drags are followed by touchmove (below)
    extendTo(event.clientX, event.clientY)
  })
  function extendTo(x, y) {
    const cell = cellAt(x, y)
    const b = clampToRow(selection.a, cell)
    if (b.col !== selection.b.col || b.row !== selection.b.row) {
      selection.b = b
      press.moved = true
      showSelection()
    }
  }
  // Touch: once the long press holds, this listener (not passive) keeps the browser from scrolling.
  container.addEventListener(
    'touchmove',
    (event) => {
      if (!press?.touch) return
      const t = event.touches[0]
      if (!press.dragging) {
        if (t && Math.hypot(t.clientX - press.x, t.clientY - press.y) > MOVE_SLOP_PX) press.moved = true
        return
      }
      event.preventDefault()
      if (t) extendTo(t.clientX, t.clientY)
    },
    { passive: false },
  )
  container.addEventListener('touchend', (event) => {
    if (press?.touch && press.dragging) {
      event.preventDefault() // no synthetic click after a drag
      endPress()
    }
  })
  window.addEventListener('pointerup', (event) => {
    if (!press || event.pointerId !== press.pointerId) return
    if (press.touch && press.dragging) return // finished by touchend
    endPress()
  })
  function endPress() {
    const p = press
    press = null
    clearTimeout(p.timer)
    container.classList.remove('dragging')
    if (p.dragging && (p.moved || p.touch)) {
      cursor = { ...selection.b }
      placeCursor(false)
      if (p.touch && !p.moved) return markedByHold() // held still: the start is marked
      return finish(false)
    }
    if (p.moved) return // a scroll
    selection = anchor ? selection : null
    cursor = { ...p.cell }
    markCell(p.cell)
  }
  function markedByHold() {
    // a long press without moving marks the start, like a first tap
    showSelection()
  }
  window.addEventListener('pointercancel', (event) => {
    if (!press || event.pointerId !== press.pointerId) return
    if (press.touch && press.dragging) return // the page stopped scrolling for our drag
    clearTimeout(press.timer)
    press = null
    if (!anchor) {
      selection = null
      showSelection()
    }
  })
  // a long press is ours: no context menu or text callout on the grid
  container.addEventListener('contextmenu', (event) => {
    if (event.target.closest('.col, .ov, .cursor')) event.preventDefault()
  })
  setInterval(updateNow, 30_000)

  return {
    render,
    updateNow,
    clear,
    /** "Book 60 min here": the marked start cell, one hour */
    bookHour() {
      if (selection) finish(true)
    },
    focus() {
      if (els) focusAt(cursor.row, cursor.col)
    },
  }
}

/** [1,2,3,5] -> [[1,3],[5,5]]; a run never crosses a layout row */
function runs(sorted, rowOf) {
  const out = []
  for (const c of sorted) {
    const last = out[out.length - 1]
    if (last && c === last[1] + 1 && rowOf[c] === rowOf[last[1]]) last[1] = c
    else out.push([c, c])
  }
  return out
}
