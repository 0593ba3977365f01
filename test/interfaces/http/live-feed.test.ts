import t, { type Test } from 'tap'
import type { WebSocket } from 'ws'
import { ADMIN_TOKEN, auth, buildWorld, connectMachine, disconnectMachine, settle, signIn, type World } from './world.js'

interface FeedMessage {
  topic: string
  payload: Record<string, unknown>
}

/** Collects messages from the moment the socket exists, so none are missed. */
function collect(ws: WebSocket) {
  const seen: FeedMessage[] = []
  const waiters: Array<() => void> = []
  ws.on('message', (data) => {
    seen.push(JSON.parse(String(data)) as FeedMessage)
    waiters.splice(0).forEach((w) => w())
  })
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })))
  return {
    seen,
    closed,
    async next(topic: string): Promise<FeedMessage> {
      for (;;) {
        const i = seen.findIndex((m) => m.topic === topic)
        if (i >= 0) return seen.splice(i, 1)[0] as FeedMessage
        await new Promise<void>((resolve) => waiters.push(resolve))
      }
    },
  }
}

/**
 * injectWS joins client and server with in-memory streams that never emit 'close', so a graceful
 * WebSocket close would wait for ws's 30 s close timeout; end both sides hard after the test.
 */
function terminateAll(w: World, ws: WebSocket) {
  ws.terminate()
  for (const client of w.app.websocketServer.clients) client.terminate()
}

async function open(w: World, query: string, t: Test, headers: Record<string, string> = {}) {
  await w.app.ready()
  let feed: ReturnType<typeof collect> | undefined
  // onInit: listen before the upgrade completes; the snapshot is sent at once.
  const ws = await w.app.injectWS(`/api/live${query}`, { headers }, { onInit: (socket) => (feed = collect(socket)) })
  t.teardown(() => terminateAll(w, ws))
  return { ws, feed: feed! }
}

t.test('admin: snapshot on connect, then machine, session and alert events', async (t) => {
  const w = await buildWorld(t)
  const { ws, feed } = await open(w, `?token=${ADMIN_TOKEN}`, t)
  const snap = await feed.next('snapshot')
  t.equal(snap.payload.role, 'admin')
  t.equal(snap.payload.now, w.clock.now() / 1000)
  t.equal((snap.payload.machines as unknown[]).length, 20)
  t.same(snap.payload.alerts, [])
  t.match(snap.payload.layout, { slot_minutes: 5, opening_hours: null, rows: [[1, 2, 3]] }, 'the grid shape for the admin page')
  t.equal((snap.payload.layout as { machines: number[] }).machines.length, 20)

  await connectMachine(w, 7)
  const machine = await feed.next('machine.changed')
  t.match(machine.payload, { machine: { machine_id: 7, online: true } })

  await w.app.inject({ method: 'POST', url: '/api/sessions', headers: auth('kiosk'), payload: { machine_id: 7, status: 'reserved', start_time: w.clock.nowSeconds(), duration: 600 } })
  const session = await feed.next('session.changed')
  t.match(session.payload, { change: 'created', session: { machine_id: [7] } })

  await disconnectMachine(w, 7)
  t.match((await feed.next('alert.raised')).payload, { alert: { kind: 'offline', machine_id: 7 } })

  ws.send(JSON.stringify({ type: 'ping' }))
  t.same((await feed.next('pong')).payload, { now: w.clock.now() / 1000 })
  const metrics = await w.app.inject({ url: '/metrics', headers: auth('admin') })
  t.match(metrics.body, /^dispenser_live_feed_clients 1$/m)
})

t.test('token as the first message; kiosk sees only its own sessions', async (t) => {
  const w = await buildWorld(t)
  const { ws, feed } = await open(w, '', t)
  ws.send(JSON.stringify({ token: 'kiosk-token-1' }))
  const snap = await feed.next('snapshot')
  t.equal(snap.payload.role, 'kiosk')
  t.notOk('machines' in snap.payload || 'layout' in snap.payload, 'no machine details for kiosks')
  t.match(snap.payload.venue, { locale: 'en-GB', time_format: '24h', rows: [[1, 2, 3]] }, 'how to write times and where the bays are (the kiosk map)')

  await w.app.inject({ method: 'POST', url: '/api/sessions', headers: auth('reservation'), payload: { machine_id: 1, status: 'reserved', start_time: w.clock.nowSeconds(), duration: 600 } })
  await connectMachine(w, 1)
  await w.app.inject({ method: 'POST', url: '/api/sessions', headers: auth('kiosk'), payload: { machine_id: 2, status: 'reserved', start_time: w.clock.nowSeconds(), duration: 600 } })
  const mine = await feed.next('session.changed')
  t.match(mine.payload, { session: { machine_id: [2], origin_node: 'kiosk_interface' } })
  await settle(w)
  const others = feed.seen.filter((m) => m.topic !== 'session.changed' || (m.payload.session as { origin_node: string }).origin_node !== 'kiosk_interface')
  t.same(others, [], 'no machine events and no sessions of other nodes')
})

t.test('bad or missing token closes with 4401', async (t) => {
  const w = await buildWorld(t)
  const bad = await open(w, '?token=nope', t)
  t.equal((await bad.feed.closed).code, 4401)

  const wrongFirst = await open(w, '', t)
  wrongFirst.ws.send('not json')
  t.equal((await wrongFirst.feed.closed).code, 4401)

  const silent = await open(w, '', t)
  await w.clock.advance(10_000)
  t.equal((await silent.feed.closed).code, 4401, 'no token within 10 s (hub clock)')
  t.same([...bad.feed.seen, ...wrongFirst.feed.seen, ...silent.feed.seen], [], 'no snapshot leaked')
})

t.test('closing the app closes feed sockets', async (t) => {
  const w = await buildWorld(t)
  const { feed } = await open(w, `?token=${ADMIN_TOKEN}`, t)
  await feed.next('snapshot')
  await w.app.close()
  t.equal((await feed.closed).code, 1001)
})

t.test('a signed-in staff browser is known from its cookie; a monitor token is refused', async (t) => {
  const w = await buildWorld(t)
  const cookie = await signIn(w, 'vic', 'viewer')
  const { feed } = await open(w, '', t, cookie)
  const snap = await feed.next('snapshot')
  t.equal(snap.payload.role, 'viewer')
  t.equal((snap.payload.machines as unknown[]).length, 20, 'viewers see the bays')
  await connectMachine(w, 4)
  t.match((await feed.next('machine.changed')).payload, { machine: { machine_id: 4 } })
  const monitor = await open(w, '?token=monitor-token', t)
  t.equal((await monitor.feed.closed).code, 4401, 'monitor tokens read /metrics only')
})
