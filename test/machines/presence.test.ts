import t from 'tap'
import { clientDown, clientUp, initialPresence, touch } from '../../src/machines/presence.js'

t.test('a machine goes online on connect and offline on disconnect with the reason', async (t) => {
  const start = initialPresence(null, 'never connected')
  const up = clientUp(start, 'machine_004', 100)
  t.equal(up.change, 'online')
  t.same(up.presence, { online: true, clients: ['machine_004'], last_seen: 100, offline_reason: null })
  const down = clientDown(up.presence, 'machine_004', 'keepalive', 115)
  t.equal(down.change, 'offline')
  t.same(down.presence, { online: false, clients: [], last_seen: 115, offline_reason: 'keep-alive expired' })
})

t.test('a reconnect racing the old socket does not flap the machine offline', async (t) => {
  let p = clientUp(initialPresence(null, null), 'a', 1).presence
  const again = clientUp(p, 'b', 2)
  t.equal(again.change, null, 'second connection is no transition')
  p = again.presence
  const oldGone = clientDown(p, 'a', 'dropped', 3)
  t.equal(oldGone.change, null)
  t.equal(oldGone.presence.online, true)
  t.equal(clientDown(oldGone.presence, 'b', 'clean', 4).change, 'offline')
})

t.test('a takeover is not an offline transition; a down while offline is ignored', async (t) => {
  const p = clientUp(initialPresence(null, null), 'm', 1).presence
  t.equal(clientDown(p, 'm', 'takeover', 2).change, null)
  t.equal(clientDown(p, 'm', 'takeover', 2).presence.online, true)
  const off = clientDown(p, 'm', 'dropped', 3).presence
  t.equal(clientDown(off, 'm', 'dropped', 4).change, null)
  t.equal(clientDown(off, 'm', 'dropped', 4).presence.last_seen, 3)
  t.equal(touch(off, 9).last_seen, 9)
  t.equal(touch(off, 9).online, false)
})
