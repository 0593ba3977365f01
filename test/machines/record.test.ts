/** The change checks behind every machine write and 'machine.changed' (record.ts, issue 17: field by field, not JSON). */
import t from 'tap'
import { emptyRecord, sameDurable, sameShown, toMachineState, type MachineRecord } from '../../src/machines/record.js'
import type { Alert, DesiredState } from '../../src/protocol/messages.js'

const alert = (kind: Alert['kind']): Alert => ({ alert_id: `a-${kind}`, kind, machine_id: 4, message: kind, raised_at: 100, acknowledged: false, cleared_at: null })
const base = (): MachineRecord => ({ ...emptyRecord(4), reported_status: 'idle', ball_level: 'full', firmware: '1.0.0', ip_address: '10.0.0.4', rssi: -60, uptime_s: 10, last_seen: 100, offline_reason: null, alerts: [alert('ball_low')] })
const held = { source: 'admin' as const, node: 'admin', status: 'maintenance' as const, session_id: null, scheduled_until: null, set_at: 100 }

t.test('every field but the heartbeat ones is a durable change', async (t) => {
  const changes: Array<[string, Partial<MachineRecord>]> = [
    ['reported_status', { reported_status: 'active' }],
    ['ball_level', { ball_level: 'low' }],
    ['session_id', { session_id: 812 }],
    ['scheduled_until', { scheduled_until: 2000 }],
    ['firmware', { firmware: '1.0.1' }],
    ['ip_address', { ip_address: '10.0.0.5' }],
    ['offline_reason', { offline_reason: 'connection lost' }],
    ['error', { error: 'refused' }],
    ['admin', { admin: held }],
    ['direct', { direct: { ...held, source: 'kiosk', node: 'kiosk_1' } }],
    ['an alert more', { alerts: [alert('ball_low'), alert('error')] }],
    ['an alert replaced (acknowledged)', { alerts: [{ ...alert('ball_low'), acknowledged: true }] }],
    ['no alert', { alerts: [] }],
  ]
  const a = base()
  for (const [name, change] of changes) t.notOk(sameDurable({ ...a, ...change }, a), name)
  t.ok(sameDurable({ ...a, last_seen: 500, rssi: -70, uptime_s: 400 }, a), 'last_seen, rssi, uptime_s: no write')
  t.ok(sameDurable({ ...a, alerts: a.alerts.slice() }, a), 'a fresh list of the same alerts is no change')
  t.ok(sameDurable({ ...a }, a))
})

t.test('every visible field but the heartbeat ones announces a change; desired states compare by value', async (t) => {
  const desired: DesiredState = { status: 'active', session_id: 812, scheduled_until: 2000, source: 'schedule', holder: 'session 812' }
  const r = base()
  const shown = toMachineState(r, true, desired)
  t.ok(sameShown(toMachineState({ ...r, last_seen: 900, rssi: -80, uptime_s: 999 }, true, { ...desired }), shown), 'heartbeat and a rebuilt equal desired: no event')
  t.notOk(sameShown(toMachineState(r, false, desired), shown), 'online')
  t.notOk(sameShown(toMachineState({ ...r, error: 'x' }, true, desired), shown), 'error (and the status with it)')
  t.notOk(sameShown(toMachineState({ ...r, ball_level: 'empty' }, true, desired), shown), 'ball level')
  t.notOk(sameShown(toMachineState(r, true, null), shown), 'desired gone')
  t.notOk(sameShown(toMachineState(r, true, { ...desired, scheduled_until: 2060 }), shown), 'desired until')
  t.notOk(sameShown(toMachineState(r, true, { ...desired, holder: 'session 813' }), shown), 'desired holder')
  t.notOk(sameShown(toMachineState(r, true, { ...desired, source: 'admin' }), shown), 'desired source')
})
