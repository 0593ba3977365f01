// Shared by the admin and kiosk pages: REST calls with the bearer token, and the live feed.
// Plain ES module, no build step (src/interfaces/http/README.md).

/**
 * A fresh Idempotency-Key (128 random bits, hex). getRandomValues, not randomUUID: the hub is
 * served over plain HTTP on the LAN, which is not a secure context.
 */
export function newIdempotencyKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16))
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
}

export class ApiError extends Error {
  constructor(status, code, message, body = null) {
    super(message)
    this.status = status
    this.code = code
    /** the whole error body (e.g. `affected` of a refused calendar change) */
    this.body = body
  }
}

/**
 * REST client. `getToken` is read on every call; without a token the browser's sign-in cookie
 * (httpOnly, sent by fetch on same-origin requests) speaks for the page. `onUnauthorized` runs on any 401.
 */
export function createApi(getToken, onUnauthorized = () => {}) {
  async function request(method, path, body, extraHeaders = {}) {
    const token = getToken()
    const headers = token ? { authorization: `Bearer ${token}`, ...extraHeaders } : { ...extraHeaders }
    if (body !== undefined) headers['content-type'] = 'application/json'
    let res
    try {
      res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
    } catch {
      throw new ApiError(0, 'NETWORK', 'The hub cannot be reached. Check the network and try again.')
    }
    const text = await res.text()
    let data = null
    try {
      data = text ? JSON.parse(text) : null
    } catch {
      data = null
    }
    if (!res.ok) {
      if (res.status === 401) onUnauthorized()
      throw new ApiError(res.status, data?.error ?? `HTTP_${res.status}`, data?.message ?? res.statusText, data)
    }
    return data
  }
  return {
    get: (path) => request('GET', path),
    post: (path, body = {}, headers = {}) => request('POST', path, body, headers),
    patch: (path, body) => request('PATCH', path, body),
    put: (path, body) => request('PUT', path, body),
    del: (path) => request('DELETE', path),
  }
}

/**
 * The live feed (/api/live). The token goes in the first message, not the URL, so it stays
 * out of logs and history. Reconnects with backoff (1 s .. 10 s); a 4401 close means the
 * token is bad, and then it stops. `onState` gets 'connecting' | 'live' | 'offline' | 'unauthorized'.
 */
export function connectLive({ getToken, onMessage, onState = () => {} }) {
  let ws
  let stopped = false
  let delay = 1000
  let timer
  // A ping every 30 s keeps idle proxies from closing the socket and re-syncs the hub clock (pong).
  const pinger = setInterval(() => ws?.readyState === WebSocket.OPEN && ws.send(JSON.stringify({ type: 'ping' })), 30_000)
  function open() {
    onState('connecting')
    ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/live`)
    ws.onopen = () => ws.send(JSON.stringify({ token: getToken() }))
    ws.onmessage = (event) => {
      let message
      try {
        message = JSON.parse(event.data)
      } catch {
        return
      }
      if (message.topic === 'snapshot') {
        delay = 1000
        onState('live')
      }
      onMessage(message)
    }
    ws.onclose = (event) => {
      if (stopped) return
      if (event.code === 4401) return onState('unauthorized')
      onState('offline')
      timer = setTimeout(open, delay)
      delay = Math.min(delay * 2, 10_000)
    }
  }
  open()
  return {
    close() {
      stopped = true
      clearTimeout(timer)
      clearInterval(pinger)
      ws?.close()
    },
  }
}

/**
 * The venue's clock and time format for the admin page's separately loaded modules (payments):
 * admin.js syncs the clock and sets `fmt` from each live snapshot, so every panel shows times in
 * HUB_TIMEZONE on the hub's clock, not in the tablet's zone on the tablet's clock.
 */
export const venueTime = { clock: createHubClock(), fmt: null }

/** Hub time: pages count down against the hub's clock (snapshot.now), not the tablet's. */
export function createHubClock() {
  let offsetMs = 0
  return {
    sync(hubNowS) {
      offsetMs = hubNowS * 1000 - Date.now()
    },
    nowS: () => (Date.now() + offsetMs) / 1000,
  }
}

/** Escapes text for innerHTML templates. */
export function esc(value) {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c])
}
