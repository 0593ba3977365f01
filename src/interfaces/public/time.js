// Times on the pages are shown in the hub's zone (HUB_TIMEZONE, from the live-feed snapshot),
// so a tablet set to another zone still shows the range's clock.

function offsetMs(timeZone, epochMs) {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
  }).formatToParts(epochMs)
  const get = (type) => Number(parts.find((p) => p.type === type)?.value ?? 0)
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'))
  return asUtc - Math.floor(epochMs / 1000) * 1000
}

/** Epoch seconds of `HH:MM` on `YYYY-MM-DD` in `timeZone` (two passes settle DST days). */
export function zonedEpoch(date, hhmm, timeZone) {
  const [y, m, d] = date.split('-').map(Number)
  const [hh, mm] = hhmm.split(':').map(Number)
  const wall = Date.UTC(y, m - 1, d, hh, mm)
  let guess = wall - offsetMs(timeZone, wall)
  guess = wall - offsetMs(timeZone, guess)
  return guess / 1000
}

export function createTimeFormat(timeZone) {
  const hm = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
  const ymd = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' })
  const long = new Intl.DateTimeFormat('en-GB', { timeZone, weekday: 'long', day: 'numeric', month: 'long' })
  return {
    timeZone,
    /** '14:05' */
    time: (epochS) => hm.format(epochS * 1000),
    /** '2026-01-10' */
    date: (epochS) => ymd.format(epochS * 1000),
    /** 'Saturday 10 January' */
    longDate: (date) => long.format(zonedEpoch(date, '12:00', timeZone) * 1000),
  }
}

export function addDays(date, days) {
  const [y, m, d] = date.split('-').map(Number)
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10)
}

/** 3725 -> '1:02:05', 125 -> '2:05' */
export function formatCountdown(seconds) {
  const s = Math.max(0, Math.floor(seconds))
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const sec = String(s % 60).padStart(2, '0')
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`
}

/** 90 -> '1 h 30 min' */
export function formatMinutes(minutes) {
  const h = Math.floor(minutes / 60)
  const m = minutes % 60
  return [h ? `${h} h` : '', m ? `${m} min` : ''].filter(Boolean).join(' ') || '0 min'
}

/** [3,4,5] -> 'Bays 3–5'; [7] -> 'Bay 7' */
export function formatBays(ids) {
  const sorted = [...ids].sort((a, b) => a - b)
  if (sorted.length === 1) return `Bay ${sorted[0]}`
  const contiguous = sorted.every((id, i) => i === 0 || id === sorted[i - 1] + 1)
  return contiguous ? `Bays ${sorted[0]}–${sorted[sorted.length - 1]}` : `Bays ${sorted.join(', ')}`
}
