/**
 * Alerts that help (issue 11), on the whole hub with the real broker and a real MQTT dispenser:
 * one alert per condition episode (low -> medium -> low within a few minutes reopens the same
 * alert), a new episode after the window gets a new alert, cleared alerts can be dismissed (open
 * ones not), and the list is filterable and bounded.
 */
import t from 'tap'
import mqtt from 'mqtt'
import { startTestHub, waitFor } from '../helpers/hub.js'
import { REOPEN_WINDOW_S } from '../../src/machines/alerts.js'
import type { Alert } from '../../src/protocol/messages.js'

t.test('ball alerts: one per episode, dismiss, filters and bounds', async (t) => {
  const h = await startTestHub(t, { HUB_MACHINES: '1-4' })
  const m4 = await mqtt.connectAsync(h.url, { clientId: 'machine_4', username: 'machine_4', password: 'secret-4', keepalive: 10, reconnectPeriod: 0 })
  t.teardown(() => m4.endAsync(true))
  let reports = 0
  const report = async (ball_level: string) => {
    const before = h.hub.machines.history(4).length
    await m4.publishAsync('external/handler', JSON.stringify({ machine_id: 4, status: 'idle', ball_level, origin_node: 'machine_004' }), { qos: 1 })
    reports++
    await waitFor(() => h.hub.machines.history(4).length > before, 5_000, `report ${reports} applied`)
  }
  const ballLow = async () => (await h.api('admin', 'GET', '/api/alerts?kind=ball_low')).body as Alert[]
  await waitFor(() => h.hub.machines.get(4)?.online === true, 5_000, 'bay 4 online')

  await report('low')
  await h.clock.advance(60_000)
  await report('medium')
  t.match(await ballLow(), [{ cleared_at: Number }], 'medium clears it')
  await h.clock.advance(60_000)
  await report('low')
  const [one, ...rest] = await ballLow()
  t.equal(rest.length, 0, 'low -> medium -> low within minutes is one alert')
  t.match(one, { cleared_at: null, reopened: 1 }, 'the same alert, open again')

  // A new episode: cleared for longer than the window, then low again.
  await report('full')
  await h.clock.advance((REOPEN_WINDOW_S + 1) * 1000)
  await report('low')
  const episodes = await ballLow()
  t.equal(episodes.length, 2, 'after the window a new alert')
  t.not(episodes[0]!.alert_id, one!.alert_id)

  const open = episodes.find((a) => a.cleared_at === null)!
  const cleared = episodes.find((a) => a.cleared_at !== null)!
  t.match(await h.api('admin', 'POST', `/api/alerts/${open.alert_id}/dismiss`), { status: 409, body: { error: 'ALERT_OPEN' } }, 'an open alert is not dismissed')
  t.match(await h.api('kiosk_interface', 'POST', `/api/alerts/${cleared.alert_id}/dismiss`), { status: 403 })
  t.match(await h.api('admin', 'POST', `/api/alerts/${cleared.alert_id}/dismiss`), { status: 200, body: { alert_id: cleared.alert_id } })
  t.same((await ballLow()).map((a) => a.alert_id), [open.alert_id], 'dismissed ones leave the list')
  t.match(await h.api('admin', 'POST', `/api/alerts/${cleared.alert_id}/dismiss`), { status: 404, body: { error: 'ALERT_UNKNOWN' } })

  t.same((await h.api('admin', 'GET', '/api/alerts?state=cleared&kind=ball_low')).body, [], 'state filter')
  // (this bare client never confirms commands, so bay 4 also has a command_failed alert)
  const bay4 = (await h.api('admin', 'GET', '/api/alerts?state=open&machine_id=4')).body as Alert[]
  t.ok(bay4.length >= 1 && bay4.every((a) => a.machine_id === 4 && a.cleared_at === null), 'bay and state filters')
  t.same((await h.api('admin', 'GET', '/api/alerts?machine_id=3')).body, [])
  t.equal((await h.api('admin', 'GET', '/api/alerts?limit=1')).body.length, 1, 'limit')
  t.match(await h.api('admin', 'GET', '/api/alerts?limit=501'), { status: 400, body: { message: /limit/ } }, 'bounded')
  t.match(await h.api('admin', 'GET', '/api/alerts?state=maybe'), { status: 400, body: { message: /state/ } })
})
