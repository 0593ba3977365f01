/**
 * Rule tables for the venue calendar (issue 14, src/scheduling/calendar.ts): overlapping
 * windows (most restrictive wins), a window across midnight, special days over weekdays, and
 * the 23- and 25-hour days in Europe/London and America/New_York.
 */
import t from 'tap'
import type { BayWindow, BookingChannel, Calendar } from '../../src/protocol/calendar.js'
import { checkCalendar, compileCalendar, defaultCalendar, parseBays } from '../../src/scheduling/calendar.js'
import { slotStarts } from '../../src/scheduling/grid.js'
import { instantOf } from '../../src/scheduling/tz.js'

const LONDON = 'Europe/London'
const NEW_YORK = 'America/New_York'
const H = 3600

/** Local wall time `YYYY-MM-DD HH:MM` in a zone, as epoch s (the earlier instant when repeated). */
function at(tz: string, text: string): number {
  const [date, hm] = text.split(' ') as [string, string]
  const [year, month, day] = date.split('-').map(Number) as [number, number, number]
  const [hour, minute] = hm.split(':').map(Number) as [number, number]
  return instantOf(tz, { year, month, day, hour, minute })
}

function cal(windows: BayWindow[], extra: Partial<Calendar> = {}): Calendar {
  return { ...defaultCalendar(null), ...extra, windows }
}

const win = (w: Partial<BayWindow> & Pick<BayWindow, 'kind'>): BayWindow => ({ bays: '1-40', days: ['tue'], from: '07:00', to: '09:00', reason: 'mowing', ...w })

// 2026-12-08 is a Tuesday.
const TUE = '2026-12-08'

t.test('overlapping windows: the most restrictive wins (closed > walk_in_only > bookable > free)', async (t) => {
  type Row = [kinds: BayWindow['kind'][], state: string | undefined, reservation: string | undefined, kiosk: string | undefined, staff: string | undefined, free: boolean]
  const rows: Row[] = [
    [[], undefined, undefined, undefined, undefined, false],
    [['free'], 'free', undefined, undefined, undefined, true],
    [['bookable'], 'bookable', undefined, undefined, undefined, false],
    [['free', 'bookable'], 'bookable', undefined, undefined, undefined, false],
    [['walk_in_only'], 'walk_in_only', 'WALK_IN_ONLY', undefined, undefined, false],
    [['free', 'walk_in_only'], 'walk_in_only', 'WALK_IN_ONLY', undefined, undefined, false],
    [['bookable', 'walk_in_only'], 'walk_in_only', 'WALK_IN_ONLY', undefined, undefined, false],
    [['closed'], 'closed', 'BAY_CLOSED', 'BAY_CLOSED', 'BAY_CLOSED', false],
    [['free', 'closed'], 'closed', 'BAY_CLOSED', 'BAY_CLOSED', 'BAY_CLOSED', false],
    [['walk_in_only', 'closed', 'bookable'], 'closed', 'BAY_CLOSED', 'BAY_CLOSED', 'BAY_CLOSED', false],
    [['closed', 'free', 'walk_in_only', 'bookable'], 'closed', 'BAY_CLOSED', 'BAY_CLOSED', 'BAY_CLOSED', false],
  ]
  for (const [kinds, state, reservation, kiosk, staff, free] of rows) {
    // The same band on every window, listed in the row's order: order must not matter.
    const c = compileCalendar(cal(kinds.map((kind) => win({ kind, reason: kind }))), LONDON)
    const s = at(LONDON, `${TUE} 07:30`)
    const e = s + 30 * 60
    const label = kinds.join(' + ') || 'no window'
    t.equal(c.stateOf(5, s, e)?.kind, state, `${label}: state`)
    const codes = (['reservation', 'kiosk', 'staff'] as BookingChannel[]).map((ch) => c.refusal([5], s, e, ch)?.code)
    t.same(codes, [reservation, kiosk, staff], `${label}: reservation / kiosk / staff`)
    t.equal(c.isFreeAt([5], s, e), free, `${label}: free`)
  }
})

t.test('overlap in part: a booking touching a stricter window is refused; windows on other bays or times do not count', async (t) => {
  const c = compileCalendar(
    cal([win({ kind: 'free', from: '06:00', to: '10:00', bays: '1-10', reason: 'members hour' }), win({ kind: 'closed', from: '08:00', to: '08:30', bays: '5', reason: 'net repair' })]),
    LONDON,
  )
  const s = (hm: string) => at(LONDON, `${TUE} ${hm}`)
  type Row = [bays: number[], from: string, to: string, code: string | undefined, free: boolean]
  const rows: Row[] = [
    [[4], '07:45', '08:45', undefined, true],
    [[5], '07:45', '08:05', 'BAY_CLOSED', false],
    [[4, 5], '07:00', '07:55', undefined, true],
    [[4, 5], '07:30', '08:15', 'BAY_CLOSED', false],
    [[5], '08:30', '09:00', undefined, true],
    [[5], '07:00', '08:00', undefined, true],
    [[11], '07:00', '08:00', undefined, false],
    [[4], '09:30', '10:30', undefined, false],
  ]
  for (const [bays, from, to, code, free] of rows) {
    t.equal(c.refusal(bays, s(from), s(to), 'reservation')?.code, code, `bays ${bays} ${from}-${to}: ${code ?? 'accepted'}`)
    t.equal(c.isFreeAt(bays, s(from), s(to)), free, `bays ${bays} ${from}-${to}: ${free ? 'free' : 'charged'}`)
  }
  t.match(c.refusal([5], s('08:00'), s('08:10'), 'kiosk')?.message, /^start_time: bay 5 is closed for net repair Tue 2026-12-08 08:00-08:30 \(calendar window 2: bays 5, tue 08:00-08:30\)$/)
})

t.test('a window across midnight belongs to the weekday it starts on', async (t) => {
  // Fridays 22:00 to 02:00 walk-in only (late league), bays 1-10; Sundays 23:00-01:00 closed, only in December.
  const c = compileCalendar(
    cal([
      win({ kind: 'walk_in_only', days: ['fri'], from: '22:00', to: '02:00', bays: '1-10', reason: 'late league' }),
      win({ kind: 'closed', days: ['sun'], from: '23:00', to: '01:00', bays: '1-40', reason: 'floodlight test', starts: '2026-12-01', ends: '2026-12-31' }),
    ]),
    LONDON,
  )
  // 2026-12-11 is a Friday, 12-12 Saturday, 12-13 Sunday.
  type Row = [when: string, minutes: number, reservation: string | undefined, kiosk: string | undefined]
  const rows: Row[] = [
    ['2026-12-11 21:00', 60, undefined, undefined],
    ['2026-12-11 21:30', 60, 'WALK_IN_ONLY', undefined],
    ['2026-12-11 23:30', 60, 'WALK_IN_ONLY', undefined],
    ['2026-12-12 01:30', 30, 'WALK_IN_ONLY', undefined],
    ['2026-12-12 02:00', 60, undefined, undefined],
    ['2026-12-12 22:30', 60, undefined, undefined], // Saturday night: not a Friday
    ['2026-12-13 01:00', 60, undefined, undefined], // Sunday 01:00 is Saturday's night: no window
    ['2026-12-13 23:30', 30, 'BAY_CLOSED', 'BAY_CLOSED'],
    ['2026-12-14 00:30', 30, 'BAY_CLOSED', 'BAY_CLOSED'], // Monday 00:30: still Sunday's window
    ['2026-12-14 01:00', 30, undefined, undefined],
    ['2026-12-27 23:30', 30, 'BAY_CLOSED', 'BAY_CLOSED'], // last Sunday in range
    ['2027-01-03 23:30', 30, undefined, undefined], // after `ends`
    ['2026-11-29 23:30', 30, undefined, undefined], // before `starts`
  ]
  for (const [when, minutes, reservation, kiosk] of rows) {
    const s = at(LONDON, when)
    t.same([c.refusal([3], s, s + minutes * 60, 'reservation')?.code, c.refusal([3], s, s + minutes * 60, 'kiosk')?.code], [reservation, kiosk], `${when} +${minutes} min`)
  }
  // The grid of each date shades its own part of the band.
  const states = (date: string, hm: string) => c.stateOf(3, at(LONDON, `${date} ${hm}`), at(LONDON, `${date} ${hm}`) + 300)?.kind
  t.same([states('2026-12-11', '23:55'), states('2026-12-12', '00:00'), states('2026-12-12', '01:55'), states('2026-12-12', '02:00')], ['walk_in_only', 'walk_in_only', 'walk_in_only', undefined])
})

t.test('a special day overrides its weekday: closed all day, or other hours, with the reason', async (t) => {
  const c = compileCalendar(
    {
      hours: { mon: '08:00-22:00', tue: '07:00-22:00', wed: '07:00-22:00', thu: '07:00-22:00', fri: '07:00-23:00', sat: '08:00-20:00', sun: 'closed' },
      special_days: [
        { date: '2026-12-25', hours: 'closed', reason: 'Christmas Day' },
        { date: '2026-12-24', hours: '10:00-16:00', reason: 'Christmas Eve' },
        { date: '2026-12-27', hours: '10:00-14:00', reason: 'Boxing Day weekend' },
      ],
      windows: [win({ kind: 'closed', days: ['thu'], from: '12:00', to: '13:00', reason: 'lunch clean' })],
    },
    LONDON,
  )
  type Row = [when: string, minutes: number, code: string | undefined, message?: RegExp]
  const rows: Row[] = [
    ['2026-12-17 07:00', 60, undefined], // a Thursday like the 24th
    ['2026-12-24 07:00', 60, 'SESSION_OUTSIDE_HOURS', /^start_time: 07:00 is outside opening hours 10:00-16:00 on 2026-12-24 \(Christmas Eve\)$/],
    ['2026-12-24 10:00', 60, undefined],
    ['2026-12-24 12:30', 30, 'BAY_CLOSED', /lunch clean/], // windows still apply on a special day
    ['2026-12-24 15:30', 60, 'SESSION_OUTSIDE_HOURS', /^duration: the session would run past closing time 16:00 \(it would end 16:30\)$/],
    ['2026-12-25 10:00', 60, 'SESSION_OUTSIDE_HOURS', /^start_time: the range is closed on Fri 2026-12-25 \(Christmas Day\)$/],
    ['2026-12-26 09:00', 60, undefined], // Saturday as usual
    ['2026-12-20 10:00', 60, 'SESSION_OUTSIDE_HOURS', /^start_time: the range is closed on Sundays$/],
    ['2026-12-27 10:00', 60, undefined], // a Sunday opened by a special day
    ['2026-12-27 13:30', 60, 'SESSION_OUTSIDE_HOURS'],
  ]
  for (const [when, minutes, code, message] of rows) {
    const s = at(LONDON, when)
    const r = c.refusal([3], s, s + minutes * 60, 'staff')
    t.equal(r?.code, code, `${when} +${minutes} min: ${code ?? 'accepted'}`)
    if (message) t.match(r?.message, message)
  }
  t.equal(slotStarts('2026-12-24', 5, c).length, 6 * 12, 'Christmas Eve grid: 10:00-16:00')
  t.same(c.gridSpan('2026-12-25'), { from: at(LONDON, '2026-12-25 07:00'), to: at(LONDON, '2026-12-25 23:00'), closed: 'closed: Christmas Day' }, 'a closed special day shows its weekday rows, all closed')
  t.equal(c.closingAfter(at(LONDON, '2026-12-24 11:00')), at(LONDON, '2026-12-24 16:00'), 'overrides close at the special day closing')
  t.equal(c.closingAfter(at(LONDON, '2026-12-25 11:00')), null, 'closed all day: no closing time')
})

t.test('23- and 25-hour days in Europe/London and America/New_York', async (t) => {
  const days = [
    { tz: LONDON, spring: '2026-03-29', fall: '2026-10-25', gap: '01:30', repeated: '01:30' },
    { tz: NEW_YORK, spring: '2026-03-08', fall: '2026-11-01', gap: '02:30', repeated: '01:30' },
  ]
  for (const { tz, spring, fall, gap, repeated } of days) {
    // All day open; Sundays 00:00-04:00 closed on every bay, 01:00-02:00 walk-in only on bay 2.
    const c = compileCalendar(
      cal([
        { bays: '1', days: ['sun'], from: '00:00', to: '04:00', kind: 'closed', reason: 'night' },
        { bays: '2', days: ['sun'], from: '01:00', to: '02:00', kind: 'walk_in_only', reason: 'league' },
        { bays: '3', days: ['sun'], from: '20:00', to: '24:00', kind: 'free', reason: 'late free' },
      ]),
      tz,
    )
    const plan = (date: string) => c.day(date).occurrences
    const spanOf = (date: string, bay: number) => plan(date).filter((o) => o.bays.some(([lo, hi]) => bay >= lo && bay <= hi)).map((o) => (o.to - o.from) / H)
    t.same(spanOf(spring, 1), [3], `${tz} ${spring}: 00:00-04:00 is 3 real hours`)
    t.same(spanOf(fall, 1), [5], `${tz} ${fall}: 00:00-04:00 is 5 real hours`)
    t.same(spanOf(fall, 2), [2], `${tz} ${fall}: the repeated 01:00-02:00 is walk-in only both times`)
    t.same(spanOf('2026-06-07', 1), [4], `${tz} a summer Sunday: 4 hours`)
    t.same(slotStarts(spring, 5, c).length, 23 * 12, `${tz} ${spring}: 23 hours of rows`)
    t.same(slotStarts(fall, 5, c).length, 25 * 12, `${tz} ${fall}: 25 hours of rows`)
    // A booking at 04:00 wall time is past the closure on both days; one just before is not.
    t.equal(c.refusal([1], at(tz, `${spring} 04:00`), at(tz, `${spring} 05:00`), 'kiosk'), undefined, `${tz} ${spring} 04:00 bookable`)
    t.equal(c.refusal([1], at(tz, `${fall} 03:55`), at(tz, `${fall} 04:00`), 'kiosk')?.code, 'BAY_CLOSED', `${tz} ${fall} 03:55 closed`)
    // The second 01:30 of the fall-back day is walk-in only too.
    const second = at(tz, `${fall} ${repeated}`) + H
    t.equal(c.refusal([2], second, second + 15 * 60, 'reservation')?.code, 'WALK_IN_ONLY', `${tz} ${fall}: the second ${repeated}`)
    t.equal(c.refusal([2], second, second + 15 * 60, 'kiosk'), undefined)
    // A wall time skipped by spring-forward resolves after the jump (tz.ts): still inside 00:00-04:00.
    t.equal(c.refusal([1], at(tz, `${spring} ${gap}`), at(tz, `${spring} ${gap}`) + 600, 'staff')?.code, 'BAY_CLOSED', `${tz} ${spring} ${gap} (skipped)`)
    // The free window to 24:00 ends at the real midnight on both days.
    t.ok(c.isFreeAt([3], at(tz, `${fall} 23:00`), at(tz, `${fall} 23:59`) + 60), `${tz} ${fall}: free to midnight`)
    t.notOk(c.isFreeAt([3], at(tz, `${fall} 23:00`), at(tz, `${fall} 23:59`) + 120), `${tz} ${fall}: not past midnight`)
    // Opening hours on DST days: the wall-clock hours, whatever the day's length.
    const open = compileCalendar({ ...defaultCalendar('07:00-22:00') }, tz)
    t.same([slotStarts(spring, 5, open).length, slotStarts(fall, 5, open).length], [15 * 12, 15 * 12], `${tz}: 07:00-22:00 is 15 hours on both days`)
    t.equal(open.closingAfter(at(tz, `${fall} 08:00`)), at(tz, `${fall} 22:00`))
  }
  // London's spring-forward has no 01:00-02:00: a window there is empty, not an hour long.
  const gapWindow = compileCalendar(cal([{ bays: '1', days: ['sun'], from: '01:00', to: '02:00', kind: 'closed', reason: 'gap' }]), LONDON)
  t.same(gapWindow.day('2026-03-29').occurrences, [], 'a band inside the skipped hour does not occur')
})

t.test('open time: days that close at 24:00 and open at 00:00 join; otherwise a booking stays inside one day', async (t) => {
  const always = compileCalendar(defaultCalendar(null), LONDON)
  t.equal(always.outsideHours(at(LONDON, '2026-12-08 23:00'), at(LONDON, '2026-12-09 01:00')), undefined, 'no hours set: across midnight')
  t.equal(always.closingAfter(at(LONDON, '2026-12-08 23:00')), null, 'always open: no closing time')
  const late = compileCalendar({ ...defaultCalendar(null), hours: { ...defaultCalendar(null).hours, tue: '18:00-24:00', wed: '00:00-02:00' } }, LONDON)
  t.equal(late.outsideHours(at(LONDON, '2026-12-08 23:00'), at(LONDON, '2026-12-09 01:00')), undefined, 'Tue to 24:00 joins Wed from 00:00')
  t.match(late.outsideHours(at(LONDON, '2026-12-08 23:00'), at(LONDON, '2026-12-09 03:00')), { field: 'duration' })
  t.equal(late.closingAfter(at(LONDON, '2026-12-08 23:00')), at(LONDON, '2026-12-09 02:00'))
  const day = compileCalendar(defaultCalendar('08:00-22:00'), LONDON)
  t.match(day.outsideHours(at(LONDON, '2026-12-08 21:00'), at(LONDON, '2026-12-08 22:30')), { field: 'duration', message: 'duration: the session would run past closing time 22:00 (it would end 22:30)' })
  t.match(day.outsideHours(at(LONDON, '2026-12-08 07:55'), at(LONDON, '2026-12-08 08:30')), { field: 'start_time', message: 'start_time: 07:55 is outside opening hours 08:00-22:00' })
})

t.test('checkCalendar names the field; bay ranges are never expanded', async (t) => {
  const known = new Set(Array.from({ length: 40 }, (_, i) => i + 1))
  const base = defaultCalendar('08:00-22:00')
  type Row = [Calendar, string | undefined]
  const rows: Row[] = [
    [base, undefined],
    [{ ...base, hours: { ...base.hours, mon: '22:00-08:00' } }, 'hours.mon'],
    [{ ...base, special_days: [{ date: '2026-02-30', hours: 'closed', reason: 'x' }] }, 'special_days[0].date'],
    [{ ...base, special_days: [{ date: '2026-12-25', hours: 'closed', reason: 'x' }, { date: '2026-12-25', hours: 'closed', reason: 'y' }] }, 'special_days[1].date'],
    [{ ...base, special_days: [{ date: '2026-12-24', hours: '16:00-10:00', reason: 'x' }] }, 'special_days[0].hours'],
    [cal([win({ kind: 'closed', bays: '41' })]), 'windows[0].bays'],
    [cal([win({ kind: 'closed', bays: '1-999999999' })]), 'windows[0].bays'],
    [cal([win({ kind: 'closed', bays: '1-9999' })]), 'windows[0].bays'],
    [cal([win({ kind: 'closed', bays: '10-2' })]), 'windows[0].bays'],
    [cal([win({ kind: 'closed', bays: ',' })]), 'windows[0].bays'],
    [cal([win({ kind: 'closed', bays: Array.from({ length: 60 }, (_, i) => String(i % 40 + 1)).join(',') })]), 'windows[0].bays'],
    [cal([win({ kind: 'closed', from: '09:00', to: '09:00' })]), 'windows[0].to'],
    [cal([win({ kind: 'closed', starts: '2027-01-01', ends: '2026-12-01' })]), 'windows[0].ends'],
    [cal([win({ kind: 'closed', starts: '2026-13-01' })]), 'windows[0].starts'],
    [cal([win({ kind: 'closed', bays: '1, 3-5 ,40' })]), undefined],
  ]
  for (const [c, field] of rows) {
    const r = checkCalendar(c, known)
    t.equal(r?.field, field, field ?? 'valid')
    if (field) t.ok(r?.message.startsWith(`${field}: `), 'the message starts with the field')
  }
  t.same(parseBays('1-40,45'), { ok: true, value: [[1, 40], [45, 45]] })
})
