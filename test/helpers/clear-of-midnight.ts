/**
 * For tests that run a hub on the real clock: a fixed-offset HUB_TIMEZONE in which it is
 * 12:00-12:59 now, so the venue's "today" cannot change for about eleven hours whatever hour of
 * the day CI runs the test (a test that books "now" or reads "today's" takings would otherwise
 * fail when UTC midnight falls inside it). Fixed offsets (Etc/GMT-N is UTC+N) have no DST.
 */
export function zoneClearOfMidnight(nowMs = Date.now()): { timeZone: string; offsetHours: number } {
  const offsetHours = 12 - new Date(nowMs).getUTCHours() // -11 .. +12, all valid Etc/GMT zones
  const timeZone = offsetHours === 0 ? 'Etc/UTC' : offsetHours > 0 ? `Etc/GMT-${offsetHours}` : `Etc/GMT+${-offsetHours}`
  return { timeZone, offsetHours }
}

/** "HH:MM" of epoch ms in a zone `offsetHours` from UTC (whole hours only). */
export function clockInOffset(ms: number, offsetHours: number): string {
  return new Date(ms + offsetHours * 3_600_000).toISOString().slice(11, 16)
}

/**
 * Resolves once at least `marginMs` remain before the next multiple of `periodMs` on the real
 * clock, waiting into the next period if needed: a test that computes "the current slot" and
 * then sends it cannot see the slot end in between.
 */
export async function clearOfBoundary(periodMs: number, marginMs: number): Promise<number> {
  const left = periodMs - (Date.now() % periodMs)
  if (left < marginMs) await new Promise((resolve) => setTimeout(resolve, left + 50))
  return Date.now()
}
