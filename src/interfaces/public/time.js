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

/**
 * Times and dates in the hub's zone, written the venue's way (HUB_LOCALE, HUB_TIME_FORMAT from the
 * snapshot's `venue`): every tablet shows the same clock, whatever its browser's language.
 */
export function createTimeFormat(timeZone, { locale = 'en-GB', time_format = '24h' } = {}) {
  const h12 = time_format === '12h'
  const hm = new Intl.DateTimeFormat(locale, { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: h12 ? 'h12' : 'h23' })
  const ymd = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' })
  const long = new Intl.DateTimeFormat(locale, { timeZone, weekday: 'long', day: 'numeric', month: 'long' })
  // Always 24-h 'HH:MM' for values handed to zonedEpoch.
  const clock = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
  const hour = new Intl.DateTimeFormat(h12 ? locale : 'en-GB', { timeZone, hour: h12 ? 'numeric' : '2-digit', hourCycle: h12 ? 'h12' : 'h23' })
  return {
    timeZone,
    locale,
    h12,
    /** '14:05' (or '02:05 pm' in a 12-h venue) */
    time: (epochS) => hm.format(epochS * 1000),
    /** '14:05' always: the value of a time field and zonedEpoch's input */
    clock: (epochS) => clock.format(epochS * 1000),
    /** '16' (or '4 pm'): chart axes */
    hour: (epochS) => hour.format(epochS * 1000),
    /** '2026-01-10' */
    date: (epochS) => ymd.format(epochS * 1000),
    /** 'Saturday 10 January' */
    longDate: (date) => long.format(zonedEpoch(date, '12:00', timeZone) * 1000),
    /** what a time field expects */
    placeholder: h12 ? 'h:mm am/pm' : 'HH:MM',
  }
}

/**
 * A typed time -> 'HH:MM' (24 h), or null. Accepts '16:30', '1630', '16.30', '9:05', and with
 * am/pm '4:30 pm', '4 pm'. Time fields are text fields: <input type=time> shows the tablet's
 * own locale ('04:00 PM') while the grid shows the venue's clock.
 */
export function parseClock(text) {
  const m = /^\s*(\d{1,2})(?:[:.h]?(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?\s*$/i.exec(String(text ?? ''))
  if (!m) return null
  let h = Number(m[1])
  const min = m[2] === undefined ? 0 : Number(m[2])
  const half = m[3]?.toLowerCase().replace(/\./g, '')
  if (m[2] === undefined && !half) return null // '16' alone is too ambiguous
  if (half) {
    if (h < 1 || h > 12) return null
    h = (h % 12) + (half === 'pm' ? 12 : 0)
  }
  if (h > 23 || min > 59) return null
  return `${String(h).padStart(2, '0')}:${String(min).padStart(2, '0')}`
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
