/**
 * Field safety of the firmware against the real hub (issue 15): the hub (src/main.ts as a child
 * process) and the virtual dispenser (the ESP32 core built for the host, with its independent
 * deadline thread), each scenario with its own hub, run side by side:
 * - [freeze] the hub frozen for 80 s (SIGSTOP) mid-session: the dispenser turns itself off at
 *   the session's end (60 s, the shortest session the hub sells), and after SIGCONT it
 *   reconnects with no false `command_failed` alert;
 * - [10 days] an admin override `active` for 10 days is refused naming scheduled_until and the
 *   output never turns on;
 * - [no end] an admin `active` with no end, the dispenser built with MAX_ON_SECONDS=8 and the
 *   hub killed: the dispenser turns off at its own maximum;
 * - [restart] then (same hub, override released) the hub killed and restarted mid-session: the
 *   dispenser, still on, is back within its 5 s on-time reconnect cap (it took 49.9 s with the
 *   old 60 s backoff).
 * Real time throughout (separate processes); the freeze makes this file about 2 minutes long.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import { Topics, machineNodeName } from '../../src/protocol/topics.js'
import { bookNow, buildFirmwareWorld, type FirmwareWorld } from './hub-world.js'
import { firmwareSkipReason } from './virtual.js'

const skip = firmwareSkipReason()
if (skip) t.comment(skip)

t.setTimeout(300_000)

const FREEZE_MS = 80_000
// The hub's command policy (HUB_COMMAND_TIMEOUT_MS 2000 x HUB_COMMAND_RETRIES 3) plus margin:
// a command sent on a dead connection would have raised its alert within this window.
const RETRY_WINDOW_MS = 10_000

async function override(w: FirmwareWorld, body: Record<string, unknown>): Promise<void> {
  await w.admin.publishAsync(Topics.handler, JSON.stringify({ ...body, origin_node: 'admin_portal', destination_node: 'machine_handler' }), { qos: 1 })
}

const isCommandFailed = (id: number) => (m: Record<string, unknown>) => m.event === 'alert.raised' && m.kind === 'command_failed' && m.machine_id === id

async function hubFrozenMidSession(t: Test): Promise<void> {
  const id = 1
  const w = await buildFirmwareWorld(t, id)
  const session = await bookNow(w, id)
  const on = await w.dispenser.waitFor((e) => e.event === 'output' && e.on === true, 20_000)
  t.match(on, { reason: 'control', session_id: session.session_id }, '[freeze] on for the session')
  await w.inbox.waitFor((m) => m.origin_node === machineNodeName(id) && m.success === true && m.status === 'active', 20_000)

  const from = w.dispenser.events.length
  w.hub.child.kill('SIGSTOP')
  const frozenAt = Date.now()
  try {
    t.ok(session.end_time - frozenAt / 1000 > 30, `[freeze] hub frozen ${(session.end_time - frozenAt / 1000).toFixed(1)} s before the end`)
    const off = await w.dispenser.waitFor((e) => e.event === 'output' && e.on === false, FREEZE_MS, from)
    const offWallS = Date.now() / 1000
    t.match(off, { reason: 'deadline', session_id: session.session_id }, '[freeze] the dispenser turned itself off (fail-safe deadline)')
    t.ok(offWallS >= session.end_time - 0.5, `[freeze] not before scheduled_until (${(offWallS - session.end_time).toFixed(2)} s)`)
    t.ok(offWallS - session.end_time < 5, `[freeze] within 5 s of scheduled_until (${(offWallS - session.end_time).toFixed(2)} s)`)
    t.ok(Date.now() - frozenAt < FREEZE_MS, '[freeze] while the hub was still frozen')
    // The freeze itself is the scenario: the hub stays stopped for the whole 80 s.
    await sleep(frozenAt + FREEZE_MS - Date.now())
  } finally {
    w.hub.child.kill('SIGCONT')
  }
  const resumedEvents = w.dispenser.events.length
  const resumedInbox = w.inbox.messages.length
  await w.dispenser.waitFor((e) => e.event === 'connected', 60_000, resumedEvents)
  t.pass('[freeze] the dispenser reconnected after SIGCONT')
  const settled = await w.inbox.waitFor(
    (m) => m.machine_id === id && m.online === true && m.reported_status === 'idle' && (m.desired as { status?: string } | null)?.status === 'idle',
    60_000,
    resumedInbox,
  )
  t.match(settled, { status: 'idle' }, '[freeze] the hub sees the machine online and idle again')
  // No event to wait for here: the point is that none comes. Watch one retry window.
  await sleep(RETRY_WINDOW_MS)
  const falseAlerts = w.inbox.messages.slice(resumedInbox).filter((m) => isCommandFailed(id)(m.body))
  t.same(falseAlerts.map((m) => m.body.message), [], '[freeze] no command_failed alert after SIGCONT')
  t.notOk(w.dispenser.events.slice(from).some((e) => e.event === 'output' && e.on === true), '[freeze] the output stayed off after the session')
}

async function tenDayControlRefused(t: Test): Promise<FirmwareWorld> {
  const id = 2
  const w = await buildFirmwareWorld(t, id)
  const from = w.dispenser.events.length
  const inboxFrom = w.inbox.messages.length
  const until = Date.now() / 1000 + 10 * 24 * 3600
  await override(w, { machine_id: id, status: 'active', scheduled_until: until, exchange_id: 901 })
  // Refused by the dispenser (the hub forwards the override today) or by the hub itself: either
  // way the refusal names scheduled_until and the output never turns on.
  const refusal = await Promise.race([
    w.dispenser.waitFor((e) => e.event === 'refused', 20_000, from).then((e) => ({ by: 'dispenser', message: String(e.message) })),
    w.inbox
      .waitFor((m) => m.success === false && m.exchange_id === 901 && m.origin_node !== machineNodeName(id), 20_000, inboxFrom)
      .then((m) => ({ by: 'hub', message: String(m.message) })),
  ])
  t.match(refusal.message, /^scheduled_until: /, `[10 days] refused by the ${refusal.by}, naming the field: ${refusal.message}`)
  if (refusal.by === 'dispenser') {
    t.equal(refusal.message, "scheduled_until: run is over this machine's maximum of 14400 s", "[10 days] the device's own maximum")
    // The hub relays the refusal to the admin feed and raises an error alert that says why.
    const relayed = await w.inbox.waitFor((m) => m.success === false && m.machine_id === id && String(m.message).includes(refusal.message), 20_000, inboxFrom)
    t.match(relayed, { status: 'active' }, '[10 days] the hub received the refusal of its active command')
    const alert = await w.inbox.waitFor((m) => m.event === 'alert.raised' && m.machine_id === id && m.kind === 'error', 20_000, inboxFrom)
    t.match(String(alert.message), /scheduled_until: run is over this machine's maximum/, `[10 days] alert: ${String(alert.message)}`)
  }
  // A report round trip: every control the hub sent has been handled by then.
  const reportFrom = w.inbox.messages.length
  await w.admin.publishAsync(Topics.handler, JSON.stringify({ request_type: 'machine', machine_id: id, request_id: 902, origin_node: 'admin_portal' }), { qos: 1 })
  await w.inbox.waitFor((m) => m.request_id === 902, 20_000, reportFrom)
  t.notOk(w.dispenser.events.some((e) => e.event === 'output' && e.on === true), '[10 days] the output never turned on')
  return w
}

async function noEndStopsAtTheDeviceMaximum(t: Test): Promise<void> {
  const id = 3
  const w = await buildFirmwareWorld(t, id, { maxOnSeconds: 8 })
  t.match(w.dispenser.events.find((e) => e.event === 'started'), { max_on_s: 8 }, '[no end] built with MAX_ON_SECONDS=8')
  await override(w, { machine_id: id, status: 'active', exchange_id: 911 })
  // A hub that gives such an override its own deadline (issue 11: HUB_MAX_OVERRIDE_MINUTES,
  // 240 by default) sends a run longer than this build's 8 s, which the device refuses: safe
  // too, but then the device maximum is not what ends it. Either way, never on past 8 s.
  const first = await w.dispenser.waitFor((e) => (e.event === 'output' && e.on === true) || e.event === 'refused', 20_000)
  if (first.event === 'refused') {
    t.match(String(first.message), /^scheduled_until: run is over this machine's maximum of 8 s$/, `[no end] the hub bounded it beyond the device maximum: ${String(first.message)}`)
    t.notOk(w.dispenser.events.some((e) => e.event === 'output' && e.on === true), '[no end] the output never turned on')
    return
  }
  t.match(first, { reason: 'control' }, '[no end] the admin override switched the output on')
  await w.inbox.waitFor((m) => m.origin_node === machineNodeName(id) && m.success === true && m.status === 'active', 20_000)
  const from = w.dispenser.events.length
  await w.hub.kill('SIGKILL')
  const off = await w.dispenser.waitFor((e) => e.event === 'output' && e.on === false, 20_000, from)
  t.match(off, { reason: 'max_on' }, "[no end] off by the device's own maximum, with the hub dead")
  const heldMs = Number(off.mono_ms) - Number(first.mono_ms)
  t.ok(heldMs >= 7_900 && heldMs < 9_000, `[no end] held ${heldMs} ms on the monotonic clock (MAX_ON_SECONDS=8)`)
}

async function hubRestartedMidSession(t: Test, w: FirmwareWorld): Promise<void> {
  const id = 2
  const released = w.inbox.messages.length
  await override(w, { machine_id: id, release: true, exchange_id: 921 })
  await w.inbox.waitFor((m) => m.success === true && m.exchange_id === 921, 20_000, released)
  // Back to the schedule: idle confirmed, the refusal's error cleared.
  await w.inbox.waitFor(
    (m) => m.machine_id === id && m.error === null && m.reported_status === 'idle' && (m.desired as { status?: string } | null)?.status === 'idle',
    20_000,
    released,
  )
  const session = await bookNow(w, id)
  await w.dispenser.waitFor((e) => e.event === 'output' && e.on === true, 20_000)
  await w.inbox.waitFor((m) => m.origin_node === machineNodeName(id) && m.success === true && m.status === 'active', 20_000)
  const from = w.dispenser.events.length
  await w.restartHub()
  const readyAt = Date.now()
  const back = await w.dispenser.waitFor((e) => e.event === 'connected', 20_000, from)
  const tookMs = Date.now() - readyAt
  t.ok(Date.now() / 1000 < session.end_time, '[restart] the session was still running')
  t.notOk(w.dispenser.events.slice(from, w.dispenser.events.indexOf(back)).some((e) => e.event === 'output' && e.on === false), '[restart] on all along')
  const delays = w.dispenser.events.slice(from).filter((e) => e.event === 'link_down').map((e) => Number(e.retry_in_ms))
  t.ok(delays.length > 0 && delays.every((d) => d <= 5_000), `[restart] every retry while on within 5 s: ${delays.join(', ')} ms`)
  // 5 s cap + the connect itself on a loaded machine.
  t.ok(tookMs < 7_000, `[restart] reconnected ${tookMs} ms after the hub was ready`)
}

t.test('field safety against the real hub: frozen hub, 10-day control, no end, restart', { skip: skip ?? false }, async (t) => {
  await Promise.all([hubFrozenMidSession(t), tenDayControlRefused(t).then((w) => hubRestartedMidSession(t, w)), noEndStopsAtTheDeviceMaximum(t)])
})
