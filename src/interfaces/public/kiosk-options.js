// Kiosk options (issue 18): which of the hub's availability options to offer, the later start
// times to choose from, and the map of where the bays are. The hub lists options nearest the
// wanted start first, so on a busy evening its first four can be the same bays 5 minutes apart;
// the kiosk asks for more and offers different bay sets, and the same bays only at clearly
// different times.
import { formatBays } from './time.js'

export const OFFERED = 4
/** the same bays again only this far from an offered start */
const SAME_BAYS_APART_S = 30 * 60
export const LETTERS = ['A', 'B', 'C', 'D', 'E', 'F']

const keyOf = (o) => o.machine_id.join(',')

/**
 * PURE. Up to `limit` options from `all` (the hub's order): first one per bay set, then the same
 * bays again at starts at least 30 minutes from any offered start of that set. Sorted by start,
 * then by bay. Options starting before `fromS` (a chosen later time) are left out when there are
 * any at or after it.
 */
export function pickDistinct(all, { limit = OFFERED, fromS = null } = {}) {
  const later = fromS === null ? all : all.filter((o) => o.start_time >= fromS)
  const pool = later.length ? later : all
  const out = []
  const sets = new Set()
  for (const o of pool) {
    if (out.length >= limit) break
    if (sets.has(keyOf(o))) continue
    sets.add(keyOf(o))
    out.push(o)
  }
  for (const o of pool) {
    if (out.length >= limit) break
    if (out.includes(o)) continue
    if (out.some((p) => keyOf(p) === keyOf(o) && Math.abs(p.start_time - o.start_time) < SAME_BAYS_APART_S)) continue
    out.push(o)
  }
  return out.sort((a, b) => a.start_time - b.start_time || a.machine_id[0] - b.machine_id[0])
}

/** PURE. Later start times to offer: on the half hour, at least 10 minutes ahead, `count` of them. */
export function laterStarts(nowS, { count = 6, stepS = 30 * 60, closeS = null } = {}) {
  const first = Math.ceil((nowS + 600) / stepS) * stepS
  const out = []
  for (let t = first; out.length < count; t += stepS) {
    if (closeS !== null && t >= closeS) break
    out.push(t)
  }
  return out
}

/**
 * The map: each row of bays as a line of small squares, the offered bays marked with their
 * option's letter, the picked one stronger. A picture for sighted customers (role img with a
 * text summary); the option buttons carry the same letter and bays in words.
 */
export function renderMap(container, { rows, options, picked = -1 }) {
  if (!rows?.length) {
    container.hidden = true
    return
  }
  const letterOf = new Map()
  options.forEach((o, i) => o.machine_id.forEach((id) => letterOf.set(id, i)))
  const summary = options.map((o, i) => `${LETTERS[i]}: ${formatBays(o.machine_id)}`).join('; ')
  container.hidden = false
  container.setAttribute('aria-label', `Map of the range, ${rows.length === 1 ? 'one row' : `${rows.length} rows`} of bays. ${summary}`)
  container.innerHTML = rows
    .map((row, ri) => {
      const cells = row
        .map((id) => {
          const i = letterOf.get(id)
          if (i === undefined) return `<span class="map-bay" data-bay="${id}">${id}</span>`
          return `<span class="map-bay offered${i === picked ? ' picked' : ''}" data-bay="${id}" data-option="${i}"><b>${LETTERS[i]}</b>${id}</span>`
        })
        .join('')
      return `<div class="map-row"><span class="map-label">Row ${ri + 1}</span><div class="map-bays" style="--n:${Math.min(row.length, 20)}">${cells}</div></div>`
    })
    .join('')
}
