/**
 * A time zone's offsets from the system's tz database file (TZif, RFC 8536: what
 * /usr/share/zoneinfo holds), instead of Intl (issue 17, footprint). The first Intl.DateTimeFormat
 * a process makes loads ICU's locale and zone data: ~8 MB more RSS for as long as the process runs
 * (5 MB of ICU's data pages in the node binary, the rest ICU's own allocations), a tenth of the
 * hub's idle footprint, for what is a table of offsets. PURE: parses bytes handed to it;
 * src/lib/tzdb.ts reads the file and registers the zone here, src/scheduling/tz.ts and the
 * machines' clock wording ask `registeredOffset` first and Intl only for a zone not registered.
 *
 * Offsets are read as the C library reads them: the file's transitions, time type 0 before the
 * first one, and the POSIX TZ rule of the file's footer after the last one. Files that count leap
 * seconds (`right/` zones) are refused: Intl does not count them.
 */

export interface ZoneRules {
  /** Offset from UTC at an instant, in seconds (positive east of Greenwich). */
  offsetAt(epochS: number): number
}

const registry = new Map<string, ZoneRules>()

/** Makes `name` answer from `rules` in this process (the tz database file of that name). */
export function registerZone(name: string, rules: ZoneRules): void {
  registry.set(name, rules)
}

/** The offset of a registered zone at an instant (seconds), or undefined when `name` is not registered. */
export function registeredOffset(name: string, epochS: number): number | undefined {
  return registry.get(name)?.offsetAt(epochS)
}

/** The zone of a TZif file (version 1 to 4), or undefined when the bytes are not one this reader takes. */
export function parseTzif(bytes: Uint8Array): ZoneRules | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const magicAt = (at: number) => at + 44 <= bytes.length && bytes[at] === 0x54 && bytes[at + 1] === 0x5a && bytes[at + 2] === 0x69 && bytes[at + 3] === 0x66
  if (!magicAt(0)) return undefined
  const counts = (at: number) => ({
    isut: view.getUint32(at + 20),
    isstd: view.getUint32(at + 24),
    leap: view.getUint32(at + 28),
    time: view.getUint32(at + 32),
    type: view.getUint32(at + 36),
    char: view.getUint32(at + 40),
  })
  const blockBytes = (c: ReturnType<typeof counts>, timeSize: number) => c.time * timeSize + c.time + c.type * 6 + c.char + c.leap * (timeSize + 4) + c.isstd + c.isut
  const version = bytes[4]!
  let c = counts(0)
  let at = 44
  let timeSize = 4
  if (version >= 0x32) {
    // version 2+: a second header and block with 64-bit times follow the 32-bit block
    at += blockBytes(c, 4)
    if (!magicAt(at)) return undefined
    c = counts(at)
    at += 44
    timeSize = 8
  }
  if (c.leap > 0 || c.type === 0 || at + blockBytes(c, timeSize) > bytes.length) return undefined
  const times = new Float64Array(c.time)
  for (let i = 0; i < c.time; i++) times[i] = timeSize === 8 ? Number(view.getBigInt64(at + 8 * i)) : view.getInt32(at + 4 * i)
  at += c.time * timeSize
  const typeOf = bytes.subarray(at, at + c.time)
  at += c.time
  const offsets: number[] = []
  for (let i = 0; i < c.type; i++) offsets.push(view.getInt32(at + 6 * i))
  if (typeOf.some((t) => t >= c.type)) return undefined
  const transitionOffsets = Int32Array.from(typeOf, (t) => offsets[t]!)
  let rule: ZoneRules | undefined
  if (version >= 0x32) {
    const footerAt = at + blockBytes(c, timeSize) - c.time * timeSize - c.time
    if (bytes[footerAt] !== 0x0a) return undefined
    const end = bytes.indexOf(0x0a, footerAt + 1)
    if (end < 0) return undefined
    const footer = String.fromCharCode(...bytes.subarray(footerAt + 1, end))
    if (footer !== '') {
      rule = parsePosixTz(footer)
      if (!rule) return undefined
    }
  }
  const first = offsets[0]!
  const last = c.time > 0 ? transitionOffsets[c.time - 1]! : first
  return {
    offsetAt(epochS) {
      const n = times.length
      if (n === 0) return rule ? rule.offsetAt(epochS) : first
      if (epochS < times[0]!) return first
      if (epochS >= times[n - 1]!) return rule ? rule.offsetAt(epochS) : last
      // the last transition at or before the instant
      let lo = 0
      let hi = n - 1
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1
        if (times[mid]! <= epochS) lo = mid
        else hi = mid - 1
      }
      return transitionOffsets[lo]!
    },
  }
}

/** A date of a POSIX TZ rule: `Jn` (1-365, no Feb 29), `n` (0-365) or `Mm.w.d`, with its local time (s). */
type RuleDate = { kind: 'J' | 'n'; day: number; time: number } | { kind: 'M'; month: number; week: number; weekday: number; time: number }

const DAY_S = 86_400

/** Seconds since 1970 of the rule date's local wall time in `year` (as if the wall clock were UTC). */
function wallOf(date: RuleDate, year: number): number {
  const yearStart = Date.UTC(year, 0, 1) / 1000
  if (date.kind !== 'M') {
    if (date.kind === 'n') return yearStart + date.day * DAY_S + date.time
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0
    return yearStart + (date.day - 1 + (leap && date.day >= 60 ? 1 : 0)) * DAY_S + date.time
  }
  const firstWeekday = new Date(Date.UTC(year, date.month - 1, 1)).getUTCDay()
  let day = 1 + ((date.weekday - firstWeekday + 7) % 7) + (date.week - 1) * 7
  const monthDays = new Date(Date.UTC(year, date.month, 0)).getUTCDate()
  while (day > monthDays) day -= 7
  return Date.UTC(year, date.month - 1, day) / 1000 + date.time
}

/**
 * The rule of a POSIX TZ string as TZif footers write it (`CET-1CEST,M3.5.0,M10.5.0/3`,
 * `<+0330>-3:30`, `EST5EDT,M3.2.0,M11.1.0`), with RFC 8536's extension of rule times to
 * -167..167 hours; undefined for anything else (a zone with daylight time and no rule included).
 */
export function parsePosixTz(text: string): ZoneRules | undefined {
  let i = 0
  const name = () => {
    if (text[i] === '<') {
      const end = text.indexOf('>', i)
      if (end < 0) return false
      i = end + 1
      return true
    }
    const from = i
    while (i < text.length && /[A-Za-z]/.test(text[i]!)) i++
    return i - from >= 3
  }
  /** [+-]h[h[h]][:mm[:ss]] in seconds, or undefined */
  const hms = (maxHours: number) => {
    const m = /^([+-]?)(\d{1,3})(?::(\d{2}))?(?::(\d{2}))?/.exec(text.slice(i))
    if (!m || Number(m[2]) > maxHours) return undefined
    i += m[0].length
    const s = Number(m[2]) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0)
    return m[1] === '-' ? -s : s
  }
  const ruleDate = (): RuleDate | undefined => {
    let date: RuleDate
    const m = /^(?:J(\d{1,3})|(\d{1,3})|M(\d{1,2})\.(\d)\.(\d))/.exec(text.slice(i))
    if (!m) return undefined
    i += m[0].length
    if (m[1] !== undefined) date = { kind: 'J', day: Number(m[1]), time: 7200 }
    else if (m[2] !== undefined) date = { kind: 'n', day: Number(m[2]), time: 7200 }
    else date = { kind: 'M', month: Number(m[3]), week: Number(m[4]), weekday: Number(m[5]), time: 7200 }
    if (date.kind === 'J' && (date.day < 1 || date.day > 365)) return undefined
    if (date.kind === 'n' && date.day > 365) return undefined
    if (date.kind === 'M' && (date.month < 1 || date.month > 12 || date.week < 1 || date.week > 5 || date.weekday > 6)) return undefined
    if (text[i] === '/') {
      i++
      const time = hms(167)
      if (time === undefined) return undefined
      date.time = time
    }
    return date
  }
  if (!name()) return undefined
  const stdPosix = hms(24)
  if (stdPosix === undefined) return undefined
  // POSIX offsets are west-positive
  const std = -stdPosix
  if (i === text.length) return { offsetAt: () => std }
  if (!name()) return undefined
  let dst = std + 3600
  if (text[i] !== ',') {
    const dstPosix = hms(24)
    if (dstPosix === undefined) return undefined
    dst = -dstPosix
  }
  if (text[i++] !== ',') return undefined
  const start = ruleDate()
  if (!start || text[i++] !== ',') return undefined
  const end = ruleDate()
  if (!end || i !== text.length) return undefined
  return {
    offsetAt(epochS) {
      const year = new Date(epochS * 1000).getUTCFullYear()
      // the changes of the years around the instant, in order: the latest at or before it applies
      // (a start time is read on the standard clock, an end time on the daylight clock)
      const changes: Array<[number, number]> = []
      for (let y = year - 1; y <= year + 1; y++) changes.push([wallOf(start, y) - std, dst], [wallOf(end, y) - dst, std])
      changes.sort((a, b) => a[0] - b[0])
      let offset = changes[0]![1] === dst ? std : dst
      for (const [at, o] of changes) if (at <= epochS) offset = o
      return offset
    },
  }
}
