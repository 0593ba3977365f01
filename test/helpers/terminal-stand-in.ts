/**
 * A payment terminal / gateway stand-in on 127.0.0.1 that behaves like a real one (issue 12):
 * it checks the hub's signature on each request, keeps each payment's status, answers status
 * polls, and delivers signed callbacks (approve, decline, duplicates, late ones) to the hub.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http'
import { once } from 'node:events'
import { CALLBACK_PATH, signature, signatureProblem } from '../../src/payments/index.js'

export interface TerminalPayment {
  payment_id: string
  amount: number
  currency: string
  session_id: number
  machine_id: number[]
  description: string
  expires_at?: number
  status: 'pending' | 'approved' | 'declined' | 'failed'
  reference?: string
}

export interface StandIn {
  url: string
  payments: Map<string, TerminalPayment>
  /** requests refused for a bad signature */
  refused: number
  /** resolves with the next payment request the hub makes (or one already made and not yet taken) */
  nextRequest(): Promise<TerminalPayment>
  /** the card is tapped: the status changes; with `callback` the outcome is posted to the hub */
  settle(id: string, status: 'approved' | 'declined' | 'failed', options?: { callback?: boolean; reference?: string }): Promise<{ status: number; body: string } | undefined>
  /** posts the callback of a payment's current status again (a duplicate) */
  callback(id: string, options?: { timestampS?: number; secret?: string }): Promise<{ status: number; body: string }>
  /** where callbacks go (the hub's base URL) */
  hub: string | null
  /** answer POST /payments with this status instead of 201 (a broken gateway) */
  failRequests: number | null
  close(): Promise<void>
}

async function readBody(req: IncomingMessage): Promise<string> {
  let text = ''
  for await (const chunk of req) {
    text += String(chunk)
    if (text.length > 65536) throw new Error('too big')
  }
  return text
}

export async function startStandIn(secret: string, nowS: () => number = () => Date.now() / 1000): Promise<StandIn> {
  const payments = new Map<string, TerminalPayment>()
  const untaken: TerminalPayment[] = []
  const waiters: Array<(p: TerminalPayment) => void> = []
  const state = { refused: 0, hub: null as string | null, failRequests: null as number | null }

  const server: Server = createServer((req, res) => {
    void (async () => {
      const raw = await readBody(req)
      const problem = signatureProblem(secret, raw, req.headers as Record<string, unknown>, nowS())
      const send = (status: number, body: object) => {
        res.writeHead(status, { 'content-type': 'application/json' })
        res.end(JSON.stringify(body))
      }
      if (problem) {
        state.refused++
        return send(401, { error: problem })
      }
      if (req.method === 'POST' && req.url === '/payments') {
        if (state.failRequests !== null) return send(state.failRequests, { error: 'terminal offline' })
        const body = JSON.parse(raw) as TerminalPayment
        const payment: TerminalPayment = { ...body, status: 'pending' }
        payments.set(payment.payment_id, payment)
        const waiter = waiters.shift()
        if (waiter) waiter(payment)
        else untaken.push(payment)
        return send(201, { payment_id: payment.payment_id, status: 'pending' })
      }
      const m = req.method === 'GET' ? /^\/payments\/([^/]+)$/.exec(req.url ?? '') : null
      const p = m ? payments.get(decodeURIComponent(m[1]!)) : undefined
      if (p) return send(200, outcomeOf(p))
      return send(404, { error: 'not found' })
    })().catch(() => {
      res.writeHead(500)
      res.end()
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0

  const outcomeOf = (p: TerminalPayment) => ({
    payment_id: p.payment_id,
    status: p.status,
    amount: p.amount,
    currency: p.currency,
    ...(p.reference !== undefined && { reference: p.reference }),
  })

  const callback = async (id: string, options: { timestampS?: number; secret?: string } = {}) => {
    const p = payments.get(id)
    if (!p) throw new Error(`no payment ${id}`)
    if (!state.hub) throw new Error('stand-in: hub URL not set')
    const body = JSON.stringify(outcomeOf(p))
    const ts = Math.floor(options.timestampS ?? nowS())
    const res = await fetch(state.hub + CALLBACK_PATH, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-timestamp': String(ts), 'x-hub-signature-256': signature(options.secret ?? secret, body, ts) },
      body,
    })
    return { status: res.status, body: await res.text() }
  }

  return {
    url: `http://127.0.0.1:${port}`,
    payments,
    get refused() {
      return state.refused
    },
    get hub() {
      return state.hub
    },
    set hub(v) {
      state.hub = v
    },
    get failRequests() {
      return state.failRequests
    },
    set failRequests(v) {
      state.failRequests = v
    },
    nextRequest() {
      const ready = untaken.shift()
      if (ready) return Promise.resolve(ready)
      return new Promise((resolve) => waiters.push(resolve))
    },
    async settle(id, status, options = {}) {
      const p = payments.get(id)
      if (!p) throw new Error(`no payment ${id}`)
      p.status = status
      p.reference = options.reference ?? `TXN-${id.slice(-6)}`
      return options.callback === false ? undefined : callback(id)
    },
    callback,
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
