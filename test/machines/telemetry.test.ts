import t from 'tap'
import { acknowledge, clearAlerts, raiseAlert } from '../../src/machines/alerts.js'
import { applyReport, ballAlertChanges } from '../../src/machines/telemetry.js'
import { emptyRecord } from '../../src/machines/record.js'
import type { AlertKind, BallLevel, MachineReport } from '../../src/protocol/messages.js'
import { ReportHistory } from '../../src/machines/report-history.js'

t.test('a report updates telemetry and keeps fields it does not carry', async (t) => {
  const first = applyReport(emptyRecord(4), { machine_id: 4, status: 'idle', ball_level: 'low', firmware: '1.0.0', ip_address: '192.168.4.23', rssi: -61, uptime_s: 3600 })
  t.same(first, { reported_status: 'idle', ball_level: 'low', session_id: null, scheduled_until: null, firmware: '1.0.0', ip_address: '192.168.4.23', rssi: -61, uptime_s: 3600 })
  const next = applyReport(first, { machine_id: 4, status: 'active', ball_level: 'low', session_id: 7, scheduled_until: 99 })
  t.equal(next.firmware, '1.0.0')
  t.equal(next.session_id, 7)
  t.equal(next.reported_status, 'active')
})

t.test('ball alerts: once per level crossing, cleared only by a refill to medium/full', async (t) => {
  let active: AlertKind[] = []
  const seen: string[] = []
  const levels: BallLevel[] = ['full', 'low', 'low', 'urgent', 'low', 'urgent', 'empty', 'low', 'medium', 'low']
  for (const level of levels) {
    const c = ballAlertChanges(active, level)
    if (c.raise) {
      active = [...active, c.raise]
      seen.push(`+${c.raise}`)
    }
    for (const k of c.clear) seen.push(`-${k}`)
    active = active.filter((k) => !c.clear.includes(k as never))
  }
  t.same(seen, ['+ball_low', '+ball_urgent', '+ball_empty', '-ball_low', '-ball_urgent', '-ball_empty', '+ball_low'])
  t.same(ballAlertChanges([], 'empty'), { raise: 'ball_empty', clear: [] }, 'straight to empty raises empty only')
})

t.test('history is bounded, oldest dropped', async (t) => {
  const h = new ReportHistory(3)
  for (let i = 0; i < 5; i++) h.push({ received_at: i, report: { machine_id: 1, status: 'idle', ball_level: 'full' } })
  t.same(h.entries().map((e) => e.received_at), [2, 3, 4])
  t.equal(h.length, 3)
  t.throws(() => new ReportHistory(0), /positive integer/)
})

t.test('history gives back each report as received: every field, absent ones absent, null kept', async (t) => {
  const h = new ReportHistory(4)
  t.same(h.entries(), [], 'empty at first')
  const full: MachineReport = {
    machine_id: 7, status: 'active', ball_level: 'low', scheduled_until: 1_764_600_600, session_id: 42, firmware: '1.4.2', ip_address: '192.168.4.107',
    rssi: -61.5, uptime_s: 3600, timestamp: 1_764_600_000.25, origin_node: 'machine_007', destination_node: 'hub', exchange_id: 9,
  }
  const sparse: MachineReport = { machine_id: 7, status: 'idle', ball_level: 'full', session_id: null, scheduled_until: null }
  const sent = [full, sparse, { ...full, uptime_s: 3630, rssi: -60 }, { ...full, firmware: '1.5.0', ip_address: '192.168.4.8' }, sparse, { ...sparse, status: 'maintenance' as const }]
  sent.forEach((report, i) => h.push({ received_at: 1000 + i * 30.5, report: structuredClone(report) }))
  const got = h.entries()
  t.same(got, sent.slice(-4).map((report, i) => ({ received_at: 1000 + (i + 2) * 30.5, report })), 'the newest 4, oldest first, field for field')
  t.strictSame(got.map((e) => Object.keys(e.report).length), [13, 13, 5, 5], 'a field the report lacked is not invented')
  t.equal(got[2]!.report.session_id, null, 'null stays null')
  got[0]!.report.status = 'error'
  t.equal(h.entries()[0]!.report.status, 'active', 'callers get copies')
})

t.test('alerts: one open per kind, cleared with a time, acknowledgeable', async (t) => {
  const a = raiseAlert([], 'offline', 4, 'machine 4 is offline', 10)
  t.ok(a.raised)
  t.equal(raiseAlert(a.open, 'offline', 4, 'again', 11).raised, null, 'already open')
  const ack = acknowledge(a.open, a.raised!.alert_id)
  t.equal(ack.alert?.acknowledged, true)
  t.equal(acknowledge(a.open, 'nope').alert, null)
  const c = clearAlerts(ack.list, ['offline'], 20)
  t.same(c.open, [])
  t.equal(c.cleared[0]?.cleared_at, 20)
  t.equal(c.cleared[0]?.acknowledged, true)
})
