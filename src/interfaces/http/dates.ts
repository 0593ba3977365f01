/** Calendar days in HUB_TIMEZONE (DESIGN §3), for `?date=` on REST routes. Pure. */

/** 'YYYY-MM-DD' of an instant (epoch ms) in `timeZone`. */
export function dateIn(timeZone: string, epochMs: number): string {
  // en-CA formats as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(epochMs)
}

/** Offset of `timeZone` from UTC at an instant, in ms (positive east of Greenwich). */
function offsetMs(timeZone: string, epochMs: number): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(epochMs)
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0)
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'))
  return asUtc - Math.floor(epochMs / 1000) * 1000
}

/** Epoch ms of local midnight starting `date` in `timeZone`. */
export function startOfDay(date: string, timeZone: string): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number]
  const utcMidnight = Date.UTC(y, m - 1, d)
  // Two passes settle days on which the offset changes (DST).
  let guess = utcMidnight - offsetMs(timeZone, utcMidnight)
  guess = utcMidnight - offsetMs(timeZone, guess)
  return guess
}

/** [from, to) of a local calendar day in epoch seconds; 23 or 25 hours on DST days. */
export function dayBounds(date: string, timeZone: string): { from: number; to: number } {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number]
  const next = new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10)
  return { from: startOfDay(date, timeZone) / 1000, to: startOfDay(next, timeZone) / 1000 }
}
