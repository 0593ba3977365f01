/**
 * The pure functions of the pages (issue 18), run where they run: in Chromium, imported from
 * /assets as the pages import them (the CSP allows same-origin modules). Tables of cases for the
 * venue time parser, the kiosk's distinct options and later starts, and the "now" board.
 */
import t from 'tap'
import { browserSkipReason, buildBrowserWorld } from './world.js'

const skip = browserSkipReason()
if (skip) t.comment(skip)

interface Option {
  machine_id: number[]
  start_time: number
  end_time: number
}

t.test('page logic in the browser', { skip: skip ?? false }, async (t) => {
  const w = await buildBrowserWorld(t, 0)
  const page = await w.page([])
  await page.goto(`${w.base}/`)
  // a module import from the page's origin, as the pages do
  const call = <T>(path: string, name: string, ...args: unknown[]) =>
    page.evaluate(
      async ([p, n, a]) => {
        const mod = (await import(p as string)) as Record<string, (...x: unknown[]) => unknown>
        return mod[n as string]!(...(a as unknown[]))
      },
      [path, name, args] as const,
    ) as Promise<T>

  t.test('parseClock: typed times -> HH:MM, or null', async (t) => {
    const cases: Array<[string, string | null]> = [
      ['16:30', '16:30'], ['9:05', '09:05'], ['1630', '16:30'], ['16.30', '16:30'], ['00:00', '00:00'], ['23:59', '23:59'],
      ['4:30 pm', '16:30'], ['4 pm', '16:00'], ['12:15 am', '00:15'], ['12 pm', '12:00'], ['4:30 P.M.', '16:30'],
      ['24:00', null], ['16:60', null], ['16', null], ['13 pm', null], ['', null], ['abc', null], ['16:30:00', null],
    ]
    for (const [text, want] of cases) t.equal(await call('/assets/time.js', 'parseClock', text), want, JSON.stringify(text))
  })

  t.test('venue time format: 24 h by default, 12 h when the venue says so', async (t) => {
    const at = Date.UTC(2026, 0, 10, 16, 5) / 1000
    const fmt24 = await page.evaluate(async (s) => {
      const { createTimeFormat } = await import('/assets/time.js' as string)
      const f = createTimeFormat('UTC', { locale: 'en-US', time_format: '24h' })
      return [f.time(s), f.clock(s), f.hour(s)]
    }, at)
    t.same(fmt24, ['16:05', '16:05', '16'], 'an en-US tablet still shows 16:05 in a 24-h venue')
    const fmt12 = await page.evaluate(async (s) => {
      const { createTimeFormat } = await import('/assets/time.js' as string)
      const f = createTimeFormat('UTC', { locale: 'en-US', time_format: '12h' })
      return [f.time(s), f.clock(s)]
    }, at)
    t.match(fmt12[0], /^0?4:05\s?PM$/i, '12-h venue')
    t.equal(fmt12[1], '16:05', 'time field values handed to zonedEpoch stay 24 h')
  })

  t.test('pickDistinct: one option per bay set, the same bays only 30 minutes apart', async (t) => {
    const T = 36_000
    const o = (bays: number[], start: number): Option => ({ machine_id: bays, start_time: T + start * 60, end_time: T + start * 60 + 3600 })
    // the hub's nearest-first list on a busy evening: bays 28-31 every 5 minutes
    const busy = [0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 60, 65].map((m) => o([28, 29, 30, 31], m))
    const picked = await call<Option[]>('/assets/kiosk-options.js', 'pickDistinct', busy)
    t.same(picked.map((p) => (p.start_time - T) / 60), [0, 30, 60], 'the same bays at 0, 30 and 60 minutes, not 5 minutes apart')
    const mixed = [o([1, 2], 0), o([1, 2], 5), o([3, 4], 0), o([3, 4], 5), o([7, 8], 10), o([1, 2], 40)]
    const m = await call<Option[]>('/assets/kiosk-options.js', 'pickDistinct', mixed)
    t.same(m.map((p) => `${p.machine_id.join('-')}@${(p.start_time - T) / 60}`), ['1-2@0', '3-4@0', '7-8@10', '1-2@40'], 'different sets first, then a set again at a clearly different time')
    const later = await call<Option[]>('/assets/kiosk-options.js', 'pickDistinct', mixed, { fromS: T + 10 * 60 })
    t.ok(later.every((p) => p.start_time >= T + 600), 'a chosen later time leaves out earlier starts')
    t.same(await call('/assets/kiosk-options.js', 'pickDistinct', []), [], 'nothing free, nothing offered')
  })

  t.test('laterStarts: on the half hour, at least 10 minutes ahead', async (t) => {
    const s = (h: number, m: number) => Date.UTC(2026, 0, 10, h, m) / 1000
    const hhmm = (xs: number[]) => xs.map((x) => new Date(x * 1000).toISOString().slice(11, 16))
    t.same(hhmm(await call('/assets/kiosk-options.js', 'laterStarts', s(10, 0), { count: 3 })), ['10:30', '11:00', '11:30'])
    t.same(hhmm(await call('/assets/kiosk-options.js', 'laterStarts', s(10, 25), { count: 2 })), ['11:00', '11:30'])
    t.same(hhmm(await call('/assets/kiosk-options.js', 'laterStarts', s(10, 10), { count: 6, closeS: s(11, 30) })), ['10:30', '11:00'], 'none at or after closing')
  })

  t.test('boardOf: free now, free for the hour, busy until, out of order, next booking', async (t) => {
    const now = 36_000
    const m = (id: number, extra: object = {}) => [id, { machine_id: id, online: true, status: 'idle', desired: null, ...extra }]
    const machines = [m(1), m(2), m(3), m(4), m(5, { online: false, status: 'offline' }), m(6, { desired: { source: 'admin', status: 'maintenance', scheduled_until: now + 900 } }), m(7, { status: 'error' }), m(8, { desired: { source: 'admin', status: 'active', scheduled_until: now + 900 } })]
    const s = (id: number, bays: number[], from: number, to: number, status = 'reserved') => ({ session_id: id, machine_id: bays, start_time: now + from * 60, end_time: now + to * 60, status })
    const sessions = [
      s(1, [1], -30, 30, 'active'), s(2, [1], 30, 60), // back to back: busy until +60
      s(3, [2], 10, 70), // free, but booked in 10 minutes
      s(4, [3], 90, 120), // free for the next hour
      s(5, [4], -60, -10, 'completed'), s(6, [4], 20, 40, 'cancelled'), // nothing that counts
    ]
    const entries = await page.evaluate(
      async ([ms, ss, n]) => {
        const { boardOf, countsOf } = await import('/assets/admin-board.js' as string)
        const list = boardOf({ order: [1, 2, 3, 4, 5, 6, 7, 8], sessions: ss, machines: new Map(ms as Array<[number, unknown]>), nowS: n })
        return { list: list.map((e: { bay: number; state: string; until: number | null; next: { session_id: number } | null }) => [e.bay, e.state, e.until, e.next?.session_id ?? null]), counts: countsOf(list) }
      },
      [machines, sessions, now] as const,
    )
    t.same(entries.list, [
      [1, 'busy', now + 3600, null],
      [2, 'free', now + 600, 3],
      [3, 'free-hour', now + 5400, 4],
      [4, 'free-hour', null, null],
      [5, 'out', null, null],
      [6, 'out', now + 900, null],
      [7, 'out', null, null],
      [8, 'free-hour', null, null],
    ])
    t.same(entries.counts, { freeNow: 4, freeHour: 3, busy: 1, out: 3 })
  })
})
