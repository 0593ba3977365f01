/**
 * The role table (issue 13 "Must show"): every route x every role -> the expected status, on the
 * whole hub (src/hub.ts, so routes other modules register count too). The table is checked
 * against the hub's real route list (`hub.routes()`): a route without a row here, or a row for a
 * route that no longer exists, fails the first test. Adding a route? Add its row below: each
 * case names the statuses for the roles that differ from `other`.
 *
 * Staff roles sign in with a password (cookie); the others use bearer tokens; `none` sends nothing.
 */
import t from 'tap'
import { addApiToken } from '../../helpers/api-token.js'
import { startTestHub, type TestHub } from '../../helpers/hub.js'

const ROLES = ['manager', 'staff', 'viewer', 'admin', 'kiosk', 'reservation', 'monitor', 'none'] as const
type R = (typeof ROLES)[number]

interface Ctx {
  hub: TestHub
  /** a session the admin token booked (others' sessions: staff roles only) */
  adminSession: number
  nowS: number
}

interface Case {
  /** the concrete URL when the route has parameters or needs a query */
  url?: string | ((c: Ctx, role: R) => string)
  body?: (c: Ctx, role: R) => object
  /** staff roles sign in afresh for this case (it ends the sign-in it uses) */
  ownSignIn?: boolean
  expect: Partial<Record<R, number>> & { other: number }
}

const STAFF_OK = { manager: 200, staff: 200, viewer: 200, admin: 200 }
const READERS = { ...STAFF_OK, kiosk: 200, reservation: 200, monitor: 403, none: 401, other: 0 }
const COUNTER = (ok: number) => ({ manager: ok, staff: ok, admin: ok, other: 403, none: 401 })
const MANAGERS = (ok: number) => ({ manager: ok, admin: ok, other: 403, none: 401 })
const MACHINE_READERS = { ...STAFF_OK, other: 403, none: 401 }
const PUBLIC = { other: 200 }
const idx = (role: R) => ROLES.indexOf(role)

/** Keyed `METHOD url` exactly as the route is registered. */
const TABLE: Record<string, Case[]> = {
  'GET /': [{ expect: PUBLIC }],
  'GET /kiosk': [{ expect: PUBLIC }],
  'GET /assets/:file': [{ url: '/assets/admin.js', expect: PUBLIC }, { url: '/assets/nope.js', expect: { other: 404 } }],
  'GET /docs': [{ expect: PUBLIC }],
  'GET /docs/json': [{ expect: PUBLIC }],
  'GET /docs/yaml': [{ expect: PUBLIC }],
  'GET /docs/static/index.html': [{ expect: { other: 302 } }],
  'GET /docs/static/swagger-initializer.js': [{ expect: PUBLIC }],
  'GET /docs/static/*': [{ url: '/docs/static/swagger-ui.css', expect: PUBLIC }],
  'GET /api/health': [{ expect: PUBLIC }],
  'GET /metrics': [{ expect: { manager: 200, admin: 200, monitor: 200, other: 403, none: 401 } }],
  'GET /api/me': [{ expect: READERS }],
  'GET /api/auth/me': [{ expect: READERS }],
  // sign-in is open to anyone; a wrong password is 401 whoever asks
  'POST /api/auth/login': [{ body: (_c, role) => ({ username: `nobody-${role}`, password: 'wrong-password' }), expect: { other: 401 } }],
  // sign-out needs no sign-in (it clears the cookie); sign-out everywhere needs one
  'POST /api/auth/logout': [{ ownSignIn: true, expect: { other: 200 } }],
  'POST /api/auth/logout-all': [{ ownSignIn: true, expect: { manager: 200, staff: 200, viewer: 200, monitor: 403, none: 401, other: 400 } }],
  'GET /api/schedule': [{ expect: READERS }],
  'GET /api/availability': [{ url: '/api/availability?bays=1&minutes=60', expect: READERS }],
  'GET /api/sessions': [{ expect: READERS }],
  'POST /api/sessions': [
    {
      body: (c, role) => ({ machine_id: 1 + idx(role), status: 'reserved', start_time: c.nowS + 3600, duration: 1800 }),
      expect: { manager: 201, staff: 201, admin: 201, kiosk: 201, reservation: 201, viewer: 403, monitor: 403, none: 401, other: 0 },
    },
    { body: (c, role) => ({ machine_id: 11 + idx(role), status: 'maintenance', start_time: c.nowS + 3600, duration: 1800 }), expect: COUNTER(201) },
  ],
  'GET /api/sessions/:id': [{ url: (c) => `/api/sessions/${c.adminSession}`, expect: { ...STAFF_OK, kiosk: 403, reservation: 403, monitor: 403, none: 401, other: 0 } }],
  'PATCH /api/sessions/:id': [{ url: (c) => `/api/sessions/${c.adminSession}`, body: (_c, role) => ({ duration: 600 + 300 * idx(role) }), expect: COUNTER(200) }],
  'DELETE /api/sessions/:id': [{ url: (c) => `/api/sessions/${c.adminSession}`, expect: COUNTER(200) }],
  'GET /api/machines': [{ expect: MACHINE_READERS }],
  'GET /api/machines/:id': [{ url: '/api/machines/1', expect: MACHINE_READERS }],
  'POST /api/machines/:id/override': [{ url: '/api/machines/20/override', body: () => ({ release: true }), expect: COUNTER(200) }],
  'GET /api/alerts': [{ expect: MACHINE_READERS }],
  'POST /api/alerts/:id/ack': [{ url: '/api/alerts/nope/ack', expect: COUNTER(404) }],
  'GET /api/clock': [{ expect: MACHINE_READERS }],
  // the test hub's clock is synchronised: allowed roles are refused with 409 (nothing to confirm)
  'POST /api/clock/confirm': [{ body: (c) => ({ epoch_ms: c.nowS * 1000 }), expect: COUNTER(409) }],
  // a plain GET of the WebSocket route (no upgrade); test/interfaces/http/live-feed.test.ts covers the feed per role
  'GET /api/live': [{ expect: { other: 404 } }],
  'GET /api/audit': [{ expect: MACHINE_READERS }],
  // issue 13 reports: every reading staff role, no token role but admin
  'GET /api/export/sessions.csv': [{ expect: MACHINE_READERS }],
  'GET /api/export/audit.csv': [{ expect: MACHINE_READERS }],
  'GET /api/export/utilization.csv': [{ expect: MACHINE_READERS }],
  'GET /api/reports/heatmap': [{ expect: MACHINE_READERS }],
  'GET /api/reports/daily': [{ expect: MACHINE_READERS }],
  // issue 14 venue calendar: managers and admins
  'GET /api/calendar': [{ expect: MANAGERS(200) }],
  'PUT /api/calendar': [
    {
      body: () => ({ hours: { mon: 'closed', tue: '07:00-22:00', wed: '07:00-22:00', thu: '07:00-22:00', fri: '07:00-22:00', sat: '07:00-22:00', sun: '07:00-22:00' }, special_days: [], windows: [], confirm: true }),
      expect: MANAGERS(200),
    },
  ],
  'GET /api/staff': [{ expect: MANAGERS(200) }],
  'POST /api/staff': [{ body: (_c, role) => ({ username: `new-${role}`, role: 'viewer', password: 'password-new' }), expect: MANAGERS(201) }],
  'PATCH /api/staff/:username': [{ url: '/api/staff/victim', body: () => ({ role: 'staff' }), expect: MANAGERS(200) }],
  'POST /api/staff/:username/sign-out': [{ url: '/api/staff/victim/sign-out', expect: MANAGERS(200) }],
  'DELETE /api/staff/:username': [{ url: (_c, role) => `/api/staff/victim-${role}`, expect: MANAGERS(200) }],
  // fleet adoption (issue 16); no device is waiting, so identify / assign name an unknown MAC
  'GET /api/enrollment': [{ expect: COUNTER(200) }],
  'POST /api/enrollment': [{ body: () => ({ open: false }), expect: COUNTER(200) }],
  'GET /api/devices/pending': [{ expect: COUNTER(200) }],
  'GET /api/devices': [{ expect: MACHINE_READERS }],
  'POST /api/devices/:mac/identify': [{ url: '/api/devices/aabbccddeeff/identify', body: () => ({}), expect: COUNTER(404) }],
  'POST /api/devices/:mac/assign': [{ url: '/api/devices/aabbccddeeff/assign', body: () => ({ machine_id: 5 }), expect: COUNTER(404) }],
  // issue 12 prices and payments. The admin session is cancelled by the DELETE row above, so the
  // roles allowed through reach the module and are refused with 409 (nothing to pay / ended).
  'GET /api/prices': [{ expect: MANAGERS(200) }],
  'GET /api/export/payments.csv': [{ expect: MACHINE_READERS }],
  'PUT /api/prices': [
    { body: () => ({ currency: 'EUR', bands: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], from: '00:00', to: '24:00', per_hour: 1200 }] }), expect: MANAGERS(200) },
  ],
  'GET /api/payments': [{ expect: COUNTER(200) }],
  'GET /api/payment-options': [{ expect: READERS }],
  'GET /api/quote': [{ url: (c) => `/api/quote?machine_id=1&start_time=${Math.floor(c.nowS)}&minutes=60`, expect: READERS }],
  'POST /api/sessions/:id/payment': [{ url: (c) => `/api/sessions/${c.adminSession}/payment`, body: () => ({ method: 'cash' }), expect: COUNTER(409) }],
  'POST /api/sessions/:id/payment/terminal': [{ url: (c) => `/api/sessions/${c.adminSession}/payment/terminal`, body: () => ({}), expect: { ...COUNTER(409), kiosk: 403, reservation: 403 } }],
  'POST /api/sessions/:id/extend': [{ url: (c) => `/api/sessions/${c.adminSession}/extend`, body: () => ({ minutes: 30 }), expect: { ...COUNTER(409), kiosk: 403, reservation: 403 } }],
  // the kiosk checks in any reservation by its booking code; a reservation token only its own
  'POST /api/sessions/:id/check-in': [{ url: (c) => `/api/sessions/${c.adminSession}/check-in`, body: () => ({}), expect: { ...COUNTER(409), kiosk: 409, reservation: 403 } }],
  // HMAC-signed by the gateway: off unless HUB_PAYMENT_URL and HUB_PAYMENT_SECRET are set
  'POST /api/payments/terminal/callback': [{ body: () => ({}), expect: { other: 404 } }],
  // issue 16 firmware (reads: machines.read)
  'GET /api/firmware': [{ expect: MACHINE_READERS }],
  'GET /api/firmware/rollouts': [{ expect: MACHINE_READERS }],
  // issue 11 affected sessions, alternatives, credits
  'GET /api/affected': [{ expect: MACHINE_READERS }],
  // (the admin's session is cancelled by the DELETE row above: readers get 409, others 403)
  'GET /api/sessions/:id/alternatives': [{ url: (c) => `/api/sessions/${c.adminSession}/alternatives`, expect: { manager: 409, staff: 409, viewer: 409, admin: 409, monitor: 403, kiosk: 403, reservation: 403, none: 401, other: 0 } }],
  'POST /api/sessions/:id/move': [{ url: (c) => `/api/sessions/${c.adminSession}/move`, body: () => ({ machine_id: 9 }), expect: { manager: 409, staff: 409, admin: 409, other: 403, none: 401 } }],
  'POST /api/credits/:id/redeem': [{ url: '/api/credits/999999/redeem', body: () => ({}), expect: COUNTER(404) }],
  // kiosks redeem a customer's credit code at the counter too
  'POST /api/credits/redeem': [{ body: () => ({}), expect: { ...COUNTER(400), kiosk: 400, reservation: 400 } }],
  'POST /api/alerts/:id/dismiss': [{ url: '/api/alerts/nope/dismiss', expect: COUNTER(404) }],
  'POST /api/firmware': [{ body: () => ({}), expect: MANAGERS(400) }],
  'POST /api/firmware/rollouts': [{ body: () => ({}), expect: MANAGERS(400) }],
  'POST /api/firmware/rollouts/:id': [{ url: '/api/firmware/rollouts/999999', body: () => ({}), expect: MANAGERS(400) }],
  // a dispenser's download link: the token is the credential, no role involved
  'GET /fw/:token': [{ url: `/fw/${'0'.repeat(32)}`, expect: { other: 404 } }],
  'GET /api/credits': [{ expect: MACHINE_READERS }],
  // HMAC-signed by the cloud, no role involved: off unless HUB_WEBHOOK_SECRET is set
  'POST /api/link/reservations': [{ body: () => ({}), expect: { other: 404 } }],
}

async function signIn(h: TestHub, username: string, role: 'manager' | 'staff' | 'viewer'): Promise<Record<string, string>> {
  const added = await h.hub.staff.change({ kind: 'add', username, role, password: `password-${username}` }, 'node:test')
  if (!added.ok) throw new Error(added.message)
  const res = await fetch(`http://127.0.0.1:${h.hub.ports.http}/api/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password: `password-${username}` }),
  })
  if (res.status !== 200) throw new Error(`login ${res.status}`)
  return { cookie: String(res.headers.get('set-cookie')).split(';')[0]! }
}

t.test('the table has one row per route the hub serves, and no row for a route it does not', async (t) => {
  const h = await startTestHub(t)
  const served = [...new Set(h.hub.routes().map((r) => `${r.method} ${r.url}`))].sort()
  t.ok(served.length > 30, `${served.length} routes`)
  t.same(served.filter((k) => !Object.hasOwn(TABLE, k)), [], 'every route has a row in the role table')
  t.same(Object.keys(TABLE).filter((k) => !served.includes(k)).sort(), [], 'every row names a route that exists')
})

t.test('every route x every role', async (t) => {
  const h = await startTestHub(t, { HUB_HTTP_BOOKINGS_PER_MINUTE: '100000' })
  const monitor = addApiToken(h.dataDir, 'prometheus', 'monitor')
  const kiosk = addApiToken(h.dataDir, 'lobby_kiosk', 'kiosk')
  const reservation = addApiToken(h.dataDir, 'web_booking', 'reservation')
  const headers: Record<R, Record<string, string>> = {
    manager: await signIn(h, 'mia', 'manager'),
    staff: await signIn(h, 'sam', 'staff'),
    viewer: await signIn(h, 'vic', 'viewer'),
    admin: { authorization: `Bearer ${h.hub.adminToken}` },
    kiosk: { authorization: `Bearer ${kiosk}` },
    reservation: { authorization: `Bearer ${reservation}` },
    monitor: { authorization: `Bearer ${monitor}` },
    none: {},
  }
  for (const name of ['victim', ...ROLES.map((r) => `victim-${r}`)]) {
    const added = await h.hub.staff.change({ kind: 'add', username: name, role: 'viewer', password: 'password-victim' }, 'node:test')
    t.ok(added.ok)
  }
  const nowS = h.clock.now() / 1000
  const booked = await h.api('admin', 'POST', '/api/sessions', { machine_id: 10, status: 'reserved', start_time: nowS + 7200, duration: 3600 })
  t.equal(booked.status, 201)
  const c: Ctx = { hub: h, adminSession: booked.body.session_id, nowS }

  let fresh = 0
  for (const [key, cases] of Object.entries(TABLE)) {
    const [method, path] = key.split(' ') as [string, string]
    for (const row of cases) {
      for (const role of ROLES) {
        const url = typeof row.url === 'function' ? row.url(c, role) : (row.url ?? path)
        const body = row.body?.(c, role)
        const who = row.ownSignIn && (role === 'manager' || role === 'staff' || role === 'viewer') ? await signIn(h, `${role}-${++fresh}`, role) : headers[role]
        const res = await fetch(`http://127.0.0.1:${h.hub.ports.http}${url}`, {
          method,
          redirect: 'manual',
          headers: { ...who, ...(body && { 'content-type': 'application/json' }) },
          ...(body && { body: JSON.stringify(body) }),
        })
        const text = await res.text()
        const want = row.expect[role] ?? row.expect.other
        t.equal(res.status, want, `${method} ${url} as ${role}: ${res.status} ${text.slice(0, 120)}`)
      }
    }
  }
})
