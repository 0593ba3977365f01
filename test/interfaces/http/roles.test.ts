/**
 * The role table (issue 13 "Must show"): every route x every role -> the expected status.
 * Staff roles sign in with a password (cookie); the others use bearer tokens.
 */
import t from 'tap'
import { ADMIN_TOKEN, buildWorld, inMinutes, signIn, type World } from './world.js'

const ROLES = ['manager', 'staff', 'viewer', 'admin', 'kiosk', 'reservation', 'monitor', 'none'] as const
type R = (typeof ROLES)[number]

interface Row {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  url: string | ((w: World, role: R) => string)
  body?: (w: World, role: R) => object
  expect: Partial<Record<R, number>> & { other: number }
}

const STAFF_OK = { manager: 200, staff: 200, viewer: 200, admin: 200 }
const ALL_BUT_MONITOR = { ...STAFF_OK, kiosk: 200, reservation: 200, monitor: 403, none: 401 }

const table: Row[] = [
  { method: 'GET', url: '/api/health', expect: { other: 200 } },
  { method: 'GET', url: '/', expect: { other: 200 } },
  { method: 'GET', url: '/docs/json', expect: { other: 200 } },
  { method: 'GET', url: '/api/me', expect: { ...ALL_BUT_MONITOR, other: 0 } },
  { method: 'GET', url: '/api/auth/me', expect: { ...ALL_BUT_MONITOR, other: 0 } },
  { method: 'GET', url: '/api/schedule', expect: { ...ALL_BUT_MONITOR, other: 0 } },
  { method: 'GET', url: '/api/availability?bays=1&minutes=60', expect: { ...ALL_BUT_MONITOR, other: 0 } },
  { method: 'GET', url: '/api/sessions', expect: { ...ALL_BUT_MONITOR, other: 0 } },
  {
    method: 'POST',
    url: '/api/sessions',
    body: (w, role) => ({ machine_id: 1 + ROLES.indexOf(role), status: 'reserved', start_time: inMinutes(w, 60), duration: 1800 }),
    expect: { manager: 201, staff: 201, admin: 201, kiosk: 201, reservation: 201, viewer: 403, monitor: 403, none: 401, other: 0 },
  },
  {
    method: 'POST',
    url: '/api/sessions',
    body: (w, role) => ({ machine_id: 11 + ROLES.indexOf(role), status: 'maintenance', start_time: inMinutes(w, 60), duration: 1800 }),
    expect: { manager: 201, staff: 201, admin: 201, other: 403, none: 401 },
  },
  // the admin's session: others' sessions are readable and changeable by staff roles only
  { method: 'GET', url: (w) => `/api/sessions/${adminSession(w)}`, expect: { ...STAFF_OK, kiosk: 403, reservation: 403, monitor: 403, none: 401, other: 0 } },
  {
    method: 'PATCH',
    url: (w) => `/api/sessions/${adminSession(w)}`,
    body: (_w, role) => ({ duration: 600 + 300 * ROLES.indexOf(role) }),
    expect: { manager: 200, staff: 200, admin: 200, other: 403, none: 401 },
  },
  { method: 'GET', url: '/api/machines', expect: { ...STAFF_OK, other: 403, none: 401 } },
  { method: 'GET', url: '/api/machines/1', expect: { ...STAFF_OK, other: 403, none: 401 } },
  { method: 'POST', url: '/api/machines/20/override', body: () => ({ release: true }), expect: { manager: 200, staff: 200, admin: 200, other: 403, none: 401 } },
  { method: 'GET', url: '/api/alerts', expect: { ...STAFF_OK, other: 403, none: 401 } },
  { method: 'POST', url: '/api/alerts/nope/ack', expect: { manager: 404, staff: 404, admin: 404, other: 403, none: 401 } },
  { method: 'GET', url: '/api/audit', expect: { ...STAFF_OK, other: 403, none: 401 } },
  // issue 13 reports: every reading staff role, no token role but admin
  { method: 'GET', url: '/api/export/sessions.csv', expect: { ...STAFF_OK, other: 403, none: 401 } },
  { method: 'GET', url: '/api/export/audit.csv', expect: { ...STAFF_OK, other: 403, none: 401 } },
  { method: 'GET', url: '/api/export/utilization.csv', expect: { ...STAFF_OK, other: 403, none: 401 } },
  { method: 'GET', url: '/api/reports/heatmap', expect: { ...STAFF_OK, other: 403, none: 401 } },
  { method: 'GET', url: '/api/reports/daily', expect: { ...STAFF_OK, other: 403, none: 401 } },
  { method: 'GET', url: '/metrics', expect: { manager: 200, admin: 200, monitor: 200, other: 403, none: 401 } },
  { method: 'GET', url: '/api/calendar', expect: { manager: 200, admin: 200, other: 403, none: 401 } },
  {
    method: 'PUT',
    url: '/api/calendar',
    body: () => ({ hours: { mon: 'closed', tue: '07:00-22:00', wed: '07:00-22:00', thu: '07:00-22:00', fri: '07:00-22:00', sat: '07:00-22:00', sun: '07:00-22:00' }, special_days: [], windows: [], confirm: true }),
    expect: { manager: 200, admin: 200, other: 403, none: 401 },
  },
  { method: 'GET', url: '/api/staff', expect: { manager: 200, admin: 200, other: 403, none: 401 } },
  {
    method: 'POST',
    url: '/api/staff',
    body: (_w, role) => ({ username: `new-${role}`, role: 'viewer', password: 'password-new' }),
    expect: { manager: 201, admin: 201, other: 403, none: 401 },
  },
  { method: 'PATCH', url: '/api/staff/victim', body: () => ({ role: 'staff' }), expect: { manager: 200, admin: 200, other: 403, none: 401 } },
  { method: 'POST', url: '/api/staff/victim/sign-out', expect: { manager: 200, admin: 200, other: 403, none: 401 } },
  { method: 'DELETE', url: (w) => `/api/sessions/${adminSession(w)}`, expect: { manager: 200, staff: 200, admin: 200, other: 403, none: 401 } },
  { method: 'DELETE', url: (_w, role) => `/api/staff/victim-${role}`, expect: { manager: 200, admin: 200, other: 403, none: 401 } },
]

const ids = new WeakMap<World, number>()
const adminSession = (w: World) => ids.get(w)!

t.test('every route x every role', async (t) => {
  const w = await buildWorld(t)
  const headers: Record<R, Record<string, string>> = {
    manager: await signIn(w, 'mia', 'manager'),
    staff: await signIn(w, 'sam', 'staff'),
    viewer: await signIn(w, 'vic', 'viewer'),
    admin: { authorization: `Bearer ${ADMIN_TOKEN}` },
    kiosk: { authorization: 'Bearer kiosk-token-1' },
    reservation: { authorization: 'Bearer reservation-token' },
    monitor: { authorization: 'Bearer monitor-token' },
    none: {},
  }
  for (const name of ['victim', ...ROLES.map((r) => `victim-${r}`)]) {
    const added = await w.staff.change({ kind: 'add', username: name, role: 'viewer', password: 'password-victim' }, 'node:test')
    t.ok(added.ok)
  }
  const booked = await w.app.inject({
    method: 'POST', url: '/api/sessions', headers: headers.admin,
    payload: { machine_id: 10, status: 'reserved', start_time: inMinutes(w, 120), duration: 3600 },
  })
  ids.set(w, booked.json().session_id)

  for (const row of table) {
    for (const role of ROLES) {
      const url = typeof row.url === 'function' ? row.url(w, role) : row.url
      const res = await w.app.inject({ method: row.method, url, headers: headers[role], ...(row.body && { payload: row.body(w, role) }) })
      const want = row.expect[role] ?? row.expect.other
      t.equal(res.statusCode, want, `${row.method} ${url} as ${role}: ${res.body.slice(0, 160)}`)
    }
  }
})
