/** A real HTTP server on 127.0.0.1 standing in for the cloud service of the cloud link. */
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface FakeCloud {
  url: string
  /** reservations served by GET /reservations, in pages of `pageSize` */
  reservations: unknown[]
  pageSize: number
  /** POST /reservations/:id/status bodies */
  outcomes: Array<Record<string, unknown>>
  /** POST /events bodies' events, in arrival order (with repeats) */
  events: Array<Record<string, unknown>>
  /** answer every request with 503 while true */
  down: boolean
  requests: number
  close(): Promise<void>
}

async function bodyOf(req: IncomingMessage): Promise<string> {
  let text = ''
  for await (const chunk of req) text += chunk
  return text
}

export async function startFakeCloud(port = 0): Promise<FakeCloud> {
  const cloud: Omit<FakeCloud, 'url' | 'close'> = { reservations: [], pageSize: 2, outcomes: [], events: [], down: false, requests: 0 }
  const server: Server = createServer(async (req, res) => {
    cloud.requests++
    const body = await bodyOf(req)
    if (cloud.down) {
      res.writeHead(503).end('down')
      return
    }
    const url = new URL(req.url ?? '/', 'http://x')
    res.setHeader('content-type', 'application/json')
    if (req.method === 'GET' && url.pathname === '/reservations') {
      const since = Number(url.searchParams.get('since') ?? 0)
      const page = cloud.reservations.slice(since, since + cloud.pageSize)
      res.end(JSON.stringify({ reservations: page, cursor: String(since + page.length) }))
    } else if (req.method === 'POST' && /^\/reservations\/[^/]+\/status$/.test(url.pathname)) {
      cloud.outcomes.push(JSON.parse(body) as Record<string, unknown>)
      res.end('{}')
    } else if (req.method === 'POST' && url.pathname === '/events') {
      cloud.events.push(...(JSON.parse(body) as { events: Array<Record<string, unknown>> }).events)
      res.end('{}')
    } else {
      res.writeHead(404).end('{}')
    }
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return Object.assign(cloud, {
    url,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    }),
  }) as FakeCloud
}
