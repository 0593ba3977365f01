/**
 * The pure parts of issue 11's affected sessions and credits: which sessions a bay problem hits
 * and which lose minutes (detect.ts), where a session can move (alternatives.ts), credit
 * arithmetic (ledger.ts); and the credit ledger's durability on a real LevelDB across a reopen.
 */
import t, { type Test } from 'tap'
import { Level } from 'level'
import { pino } from 'pino'
import { detect, type BayIssue } from '../../src/affected/detect.js'
import { createAffected } from '../../src/affected/index.js'
import { createCredits } from '../../src/credits/index.js'
import { creditAt, issue } from '../../src/credits/ledger.js'
import { EventBus } from '../../src/lib/event-bus.js'
import type { HubEvents } from '../../src/protocol/events.js'
import type { BayProblem, SessionRecord } from '../../src/protocol/messages.js'
import type { AffectedSession } from '../../src/protocol/affected.js'
import { createAuditLog, type AuditSublevel } from '../../src/audit/log.js'
import { findAlternatives } from '../../src/scheduling/alternatives.js'
import { FakeClock } from '../helpers/fake-clock.js'

const NOW = 10_000
const session = (id: number, bays: number[], start: number, end: number, status: SessionRecord['status'] = 'reserved'): SessionRecord => ({
  session_id: id, machine_id: bays, status, start_time: start, end_time: end, duration: end - start, origin_node: 'kiosk_interface', created_at: 0, updated_at: 0,
})
const issue_ = (problem: BayProblem, dispensing = false): BayIssue => ({ problem, message: `bay ? ${problem.reason}`, dispensing })

t.test('detect: running and upcoming sessions are hit; a problem that ends before the start is not; only running ones lose time', async (t) => {
  const issues = new Map<number, BayIssue>([
    [3, issue_({ reason: 'offline', until: null, since: NOW - 100 })],
    [5, issue_({ reason: 'maintenance', until: NOW + 1800, holder: 'an admin override' })],
    [7, issue_({ reason: 'held', until: NOW + 600, holder: 'x' }, true)],
    [8, issue_({ reason: 'held', until: NOW + 600, holder: 'x' }, false)],
  ])
  const sessions = [
    session(1, [3], NOW - 600, NOW + 600, 'active'), // running on an offline bay
    session(2, [3], NOW + 3600, NOW + 7200), // upcoming on it
    session(3, [5], NOW + 3600, NOW + 7200), // after the maintenance ends: not hit
    session(4, [5], NOW + 600, NOW + 2400), // during it
    session(5, [7], NOW - 60, NOW + 600, 'active'), // admin manual start: hit, dispenses
    session(6, [8], NOW - 60, NOW + 600, 'active'), // admin stop: loses time
    session(7, [3], NOW - 3600, NOW - 60, 'completed'), // over
    session(8, [2, 3], NOW + 60, NOW + 600, 'cancelled'),
  ]
  const { affected, lost } = detect(sessions, issues, new Map(), NOW)
  t.same([...affected.keys()].sort(), [1, 2, 4, 5, 6])
  t.equal(affected.get(1)!.running, true)
  t.equal(affected.get(2)!.running, false)
  t.same(affected.get(6)!.bays.map((b) => b.reason), ['stopped'], 'an admin stop is named stopped')
  t.same(lost, [
    { session_id: 1, machine_id: 3, reason: 'offline' },
    { session_id: 6, machine_id: 8, reason: 'stopped' },
  ])
  const manual = detect([session(9, [1, 2], NOW + 60, NOW + 600)], new Map(), new Map([[9, { reason: 'calendar', message: 'bay window closed' }]]), NOW)
  t.same(manual.affected.get(9)!.bays.map((b) => [b.machine_id, b.reason]), [[1, 'calendar'], [2, 'calendar']], 'a manual flag covers every bay')
  t.same(manual.lost, [], 'a manual flag accrues no credit')
})

t.test('alternatives: same row, same size, healthy, free, nearest first; a running session needs the bays only from now', async (t) => {
  const rows = [[1, 2, 3, 4, 5, 6], [7, 8, 9]]
  const moving = session(10, [3, 4], NOW - 600, NOW + 1800, 'active')
  const others = [
    session(11, [2], NOW - 1200, NOW - 300, 'completed'), // ran on 2 before: does not block a running session
    session(12, [6], NOW + 600, NOW + 900), // blocks 6
  ]
  const sessionsOn = (bays: readonly number[]) => [moving, ...others].filter((s) => s.machine_id.some((b) => bays.includes(b)))
  const health = (id: number): BayProblem | undefined => (id === 4 ? { reason: 'error', until: null } : undefined)
  const alts = findAlternatives({ session: moving, nowS: NOW, bufferS: 0, rows, sessionsOn, health, limit: 5 })
  t.same(alts.map((a) => a.machine_id), [[2, 3], [1, 2]], 'windows with the broken bay 4 or the taken bay 6 are left out; nearest first')
  t.ok(alts.every((a) => a.start_time === moving.start_time && a.end_time === moving.end_time), 'same times')
  t.same(findAlternatives({ session: session(13, [8], NOW + 60, NOW + 600), nowS: NOW, bufferS: 0, rows, sessionsOn: () => [], health, limit: 5 }).map((a) => a.machine_id), [[7], [9]], 'never another row')
})

t.test('ledger: accrual counts to now, minutes round up, an empty episode is dropped', async (t) => {
  const c = {
    credit_id: 1, code: 'ABCDEFGHJK', session_id: 1, machine_id: 3, reason: 'offline', from: 100, to: null, lost_seconds: 0, minutes: 0,
    accruing: true, issued_at: null, redeemed: false, redeemed_at: null, redeemed_by: null, redeemed_for: null,
  }
  t.match(creditAt(c, 161), { lost_seconds: 61, minutes: 2 })
  t.match(issue(c, 220), { accruing: false, to: 220, lost_seconds: 120, minutes: 2, issued_at: 220 })
  t.equal(issue(c, 100.5), undefined)
})

t.test('credits on a real LevelDB: issue and redeem are durable with their audit entries, a reopen keeps them, a code is spent once', async (t) => {
  const dir = t.testdir()
  const clock = new FakeClock()
  const open = async () => {
    const db = new Level<string, unknown>(dir, { valueEncoding: 'json' })
    await db.open()
    const sub = (name: string) => db.sublevel<string, unknown>(name, { valueEncoding: 'json' }) as unknown as AuditSublevel
    const audit = createAuditLog({ entries: sub('audit'), bySession: sub('audit-session'), now: () => clock.now() })
    await audit.start()
    const events = new EventBus<HubEvents>(pino({ level: 'silent' }))
    const seen: string[] = []
    events.on('credit.changed', 'test', ({ change }) => void seen.push(change))
    const credits = createCredits({ db: db.sublevel('credits', { valueEncoding: 'json' }) as never, clock, events, log: pino({ level: 'silent' }), audit, fmt: (s) => String(s) })
    await credits.load()
    return { db, audit, credits, seen }
  }
  const a = await open()
  const now = clock.now() / 1000
  const started = await a.credits.start(7, 3, 'offline', now)
  t.equal((await a.credits.start(7, 3, 'offline', now + 5)).credit_id, started.credit_id, 'one accruing credit per session and bay')
  await clock.advance(90_000)
  t.match(await a.credits.redeem({ credit_id: started.credit_id }, { kind: 'staff', name: 'mia' }), { ok: false, code: 'CREDIT_ACCRUING' })
  const issued = await a.credits.stop(7, 3, clock.now() / 1000)
  t.match(issued, { lost_seconds: 90, minutes: 2, accruing: false })
  await a.db.close()

  const b = await open()
  t.match(b.credits.get(started.credit_id), { lost_seconds: 90, minutes: 2, accruing: false }, 'survives a reopen')
  t.match(await b.credits.redeem({ code: 'ZZZZZZZZZZ' }, { kind: 'token', name: 'lobby' }), { ok: false, code: 'CREDIT_NOT_FOUND' })
  const tries = await Promise.all([1, 2, 3].map(() => b.credits.redeem({ code: started.code }, { kind: 'token', name: 'lobby' }, { session_id: 9 })))
  t.same(tries.map((r) => r.ok).sort(), [false, false, true], 'redeemed exactly once under concurrency')
  t.match(b.credits.get(started.credit_id), { redeemed: true, redeemed_by: 'token:lobby', redeemed_for: 9 })
  t.same(b.seen, ['redeemed'])
  const kinds = (await b.audit.query({})).entries.map((e) => e.kind).sort()
  t.same(kinds, ['credit.issued', 'credit.redeemed'], 'one audit entry each, written with the credit')
  const next = await b.credits.start(8, 4, 'error', clock.now() / 1000)
  t.ok(next.credit_id > started.credit_id, 'ids never repeat after a reopen')
  await b.db.close()
})

/** What createAffected needs around it, on a real LevelDB in the test's directory: 50 bays. */
async function realParts(t: Test) {
  const db = new Level<string, unknown>(t.testdir(), { valueEncoding: 'json' })
  await db.open()
  t.teardown(() => db.close())
  const clock = new FakeClock()
  const log = pino({ level: 'silent' })
  const events = new EventBus<HubEvents>(log)
  const bays = Array.from({ length: 50 }, (_, i) => i + 1)
  const credits = createCredits({ db: db.sublevel('credits', { valueEncoding: 'json' }) as never, clock, events, log, fmt: (s) => String(s) })
  await credits.load()
  return { db, clock, log, events, bays, credits, now: clock.now() / 1000 }
}

t.test('createAffected on a real LevelDB: a machine change checks again only when the bay\'s health changed (issue 17)', async (t) => {
  const { db, clock, log, events, bays, credits, now } = await realParts(t)
  const running = session(1, [7], now - 60, now + 3600, 'active')
  const broken = new Map<number, BayProblem>()
  let reads = 0
  const alerts: Array<[number, string | null]> = []
  const affected = createAffected({
    clock, events, log, credits, timeZone: 'UTC', machineIds: bays,
    db: db.sublevel('affected', { valueEncoding: 'json' }) as never,
    sessions: { get: (id) => (id === 1 ? running : undefined), list: ({ machineId }) => (machineId === 7 ? [running] : []) },
    health: (id) => {
      reads++
      return broken.get(id)
    },
    dispensing: () => false,
    alert: async (id, message) => void alerts.push([id, message]),
    // the tick stays out of the way: only the events drive the checks here
    tickMs: 3_600_000,
  })
  await affected.start()
  t.teardown(() => affected.stop())
  const state = (id: number) => ({ machine: { machine_id: id } }) as HubEvents['machine.changed']

  reads = 0
  for (let i = 0; i < 20; i++) for (const id of bays) events.emit('machine.changed', state(id))
  await affected.check()
  reads -= bays.length // the explicit check reads every bay once
  t.equal(reads, 20 * bays.length, 'a thousand changes that leave the health alone read one bay each, never every bay')
  t.same(affected.list(), [], 'nothing flagged')

  broken.set(7, { reason: 'error', until: null, detail: 'jammed' })
  const flagged = new Promise<AffectedSession>((resolve) => events.on('session.affected', 'test', ({ affected: a }) => resolve(a)))
  events.emit('machine.changed', state(7))
  t.match(await flagged, { session_id: 1, affected: true, running: true, bays: [{ machine_id: 7, reason: 'error' }] }, 'a change of the health checks at once, without waiting for the tick')
  await affected.check()
  t.match(alerts.at(-1), [7, /session 1/], 'the bay\'s alert names the session')
  const flaggedAt = affected.get(1)!.since
  reads = 0
  events.emit('machine.changed', state(7))
  await affected.check()
  t.equal(reads, 1 + bays.length, 'the same problem again is no change: one read, then the explicit check')
  t.equal(affected.get(1)!.since, flaggedAt)
})

t.test('createAffected: a session change checks again only on a bay with an issue or for a flagged session (issue 17)', async (t) => {
  const { db, clock, log, events, bays, credits, now } = await realParts(t)
  const live = new Map<number, SessionRecord>()
  const broken = new Map<number, BayProblem>([[9, { reason: 'error', until: null, detail: 'jammed' }]])
  let reads = 0
  const affected = createAffected({
    clock, events, log, credits, timeZone: 'UTC', machineIds: bays,
    db: db.sublevel('affected', { valueEncoding: 'json' }) as never,
    sessions: {
      get: (id) => live.get(id),
      list: ({ machineId, from }) => [...live.values()].filter((s) => s.status !== 'cancelled' && (machineId === undefined || s.machine_id.includes(machineId)) && (from === undefined || s.end_time > from)),
    },
    health: (id) => {
      reads++
      return broken.get(id)
    },
    dispensing: () => false,
    alert: async () => undefined,
    tickMs: 3_600_000,
  })
  await affected.start()
  t.teardown(() => affected.stop())
  const change = (s: SessionRecord, previous?: SessionRecord) => {
    live.set(s.session_id, s)
    events.emit('session.changed', previous ? { change: 'updated', session: s, previous } : { change: 'created', session: s })
  }

  reads = 0
  for (let i = 1; i <= 100; i++) change(session(100 + i, [1 + (i % 8)], now + 3600 * i, now + 3600 * i + 3000))
  await affected.check()
  t.equal(reads, bays.length, 'a hundred bookings on healthy bays cost no check (only the explicit one reads the bays)')
  t.same(affected.list(), [])

  const onBroken = new Promise<AffectedSession>((resolve) => events.on('session.affected', 'test', ({ affected: a }) => resolve(a)))
  const booked = session(1, [9], now + 600, now + 3600)
  change(booked)
  t.match(await onBroken, { session_id: 1, affected: true, bays: [{ machine_id: 9, reason: 'error' }] }, 'a booking on the bay with an issue is flagged at once')

  const cleared = new Promise<AffectedSession>((resolve) => events.on('session.affected', 'test2', ({ affected: a }) => {
    if (!a.affected) resolve(a)
  }))
  change({ ...booked, machine_id: [2] }, booked)
  t.match(await cleared, { session_id: 1, affected: false, cleared_reason: 'moved' }, 'moving the flagged session to a healthy bay clears it at once')
})
