/**
 * Firmware against the real hub (DESIGN §4 "Dispensers", §5): the hub (src/main.ts as a child
 * process, credentials from its CLI) and the virtual dispenser (the ESP32 core built for the
 * host, over libmosquitto), with a real MQTT client as the admin node.
 * - a Session on internal/manager switches the output on, the hub receives the Confirmation,
 *   and the output goes off at the session's end (the hub's idle command and the dispenser's
 *   own deadline race by milliseconds; either may win) and the hub sees the machine idle;
 * - with the hub killed (SIGKILL) mid-session, the output still goes off at scheduled_until.
 * Real time: the shortest session the hub accepts is 60 s, so the two scenarios run side by
 * side, each with its own hub and dispenser (about 65 s in all).
 */
import t, { type Test } from 'tap'
import { machineNodeName } from '../../src/protocol/topics.js'
import { bookNow, buildFirmwareWorld } from './hub-world.js'
import { firmwareSkipReason } from './virtual.js'

const skip = firmwareSkipReason()
if (skip) t.comment(skip)

t.setTimeout(240_000)

async function sessionRunsAndEnds(t: Test): Promise<void> {
  const w = await buildFirmwareWorld(t, 1)
  const session = await bookNow(w, 1)
  const on = await w.dispenser.waitFor((e) => e.event === 'output' && e.on === true, 20_000)
  const onWallS = Date.now() / 1000
  t.match(on, { reason: 'control', session_id: session.session_id }, '[end] the output turned on for the session')
  t.ok(onWallS - session.start_time < 10, `[end] on ${(onWallS - session.start_time).toFixed(2)} s after the start`)
  const node = machineNodeName(1)
  const confirmed = await w.inbox.waitFor((m) => m.origin_node === node && m.success === true && m.status === 'active', 20_000)
  t.match(confirmed, { session_id: session.session_id, machine_id: 1 }, '[end] the hub received the Confirmation of the active command')
  t.comment(`[end] command round trip ${String(confirmed.latency_ms)} ms`)

  const off = await w.dispenser.waitFor((e) => e.event === 'output' && e.on === false, 90_000)
  const offWallS = Date.now() / 1000
  t.equal(off.session_id, session.session_id, '[end] the output turned off for the same session')
  t.ok(Math.abs(offWallS - session.end_time) < 5, `[end] off ${(offWallS - session.end_time).toFixed(2)} s from the session end (reason ${String(off.reason)})`)
  const heldS = (Number(off.mono_ms) - Number(on.mono_ms)) / 1000
  t.ok(heldS > 50 && heldS < 70, `[end] held ${heldS.toFixed(1)} s on the dispenser's monotonic clock`)
  // Whichever came first (the hub's idle command or the dispenser's own deadline, a race of
  // milliseconds), the hub ends up knowing the machine idle, as the schedule wants it.
  const settled = await w.inbox.waitFor((m) => m.machine_id === 1 && m.reported_status === 'idle' && (m.desired as { status?: string } | null)?.status === 'idle' && m.online === true, 20_000)
  t.match(settled, { status: 'idle', session_id: null }, '[end] the hub sees the machine idle after the session')
}

async function hubKilledMidSession(t: Test): Promise<void> {
  const w = await buildFirmwareWorld(t, 2)
  const session = await bookNow(w, 2)
  const on = await w.dispenser.waitFor((e) => e.event === 'output' && e.on === true, 20_000)
  t.match(on, { session_id: session.session_id }, '[kill] on for the session')
  await w.inbox.waitFor((m) => m.origin_node === machineNodeName(2) && m.success === true && m.status === 'active', 20_000)

  const from = w.dispenser.events.length
  await w.hub.kill('SIGKILL')
  const killedAtS = Date.now() / 1000
  t.ok(session.end_time - killedAtS > 20, `[kill] hub killed ${(session.end_time - killedAtS).toFixed(1)} s before the end`)
  await w.dispenser.waitFor((e) => e.event === 'link_down', 30_000, from)
  const off = await w.dispenser.waitFor((e) => e.event === 'output' && e.on === false, 90_000, from)
  const offWallS = Date.now() / 1000
  t.match(off, { reason: 'deadline', session_id: session.session_id }, '[kill] the dispenser turned itself off (fail-safe deadline)')
  t.ok(offWallS >= session.end_time - 0.5, `[kill] not before scheduled_until (${(offWallS - session.end_time).toFixed(2)} s)`)
  t.ok(offWallS - session.end_time < 5, `[kill] within 5 s of scheduled_until (${(offWallS - session.end_time).toFixed(2)} s)`)
  t.notOk(w.dispenser.events.slice(from).some((e) => e.event === 'connected'), '[kill] with no hub to reconnect to')
}

t.test('firmware against the real hub: session on/off, and off at scheduled_until with the hub killed', { skip: skip ?? false }, async (t) => {
  await Promise.all([sessionRunsAndEnds(t), hubKilledMidSession(t)])
})
