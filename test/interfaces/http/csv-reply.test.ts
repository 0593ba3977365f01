/**
 * csv-reply.ts on a real Fastify server and real sockets: the CSV streams as it is produced (the
 * client has the header before the rows exist), at most two exports run at once (429
 * EXPORT_BUSY with Retry-After beyond), and a client that hangs up frees its place and stops the
 * row source.
 */
import t from 'tap'
import Fastify from 'fastify'
import { request, type IncomingMessage } from 'node:http'
import { csvDocument } from '../../../src/reports/csv.js'
import { MAX_CONCURRENT_EXPORTS, sendCsv } from '../../../src/interfaces/http/csv-reply.js'
import { installErrorHandlers } from '../../../src/interfaces/http/errors.js'

const ROWS = 200_000 // ~1.4 MB: far more than one 64 KiB chunk, so an abandoned export stops early

/** A row source that yields one row, then waits for the gate before the rest. */
function gated() {
  let open!: () => void
  const gate = new Promise<void>((resolve) => (open = resolve))
  const state = { finished: false, stopped: false }
  async function* rows() {
    try {
      yield { n: 1 }
      await gate
      for (let n = 2; n <= ROWS; n++) yield { n }
      state.finished = true
    } finally {
      if (!state.finished) state.stopped = true
    }
  }
  return { rows, open, state }
}

function get(port: number): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => request({ host: '127.0.0.1', port, path: '/x.csv' }, resolve).on('error', reject).end())
}
/** Collects a response from its first byte: `first` resolves with the first chunk, `all` with the whole body. */
function collect(res: IncomingMessage) {
  let text = ''
  let gotFirst!: (s: string) => void
  const first = new Promise<string>((resolve) => (gotFirst = resolve))
  const all = new Promise<string>((resolve) => {
    res.on('data', (c: Buffer) => {
      if (!text) gotFirst(c.toString())
      text += c.toString()
    })
    res.on('end', () => resolve(text))
  })
  return { first, all }
}
const body = (res: IncomingMessage) => collect(res).all

t.test('streams, bounds concurrent exports, frees a place when the client hangs up', async (t) => {
  const sources: Array<ReturnType<typeof gated>> = []
  const app = Fastify()
  installErrorHandlers(app as never)
  app.get('/x.csv', (_request, reply) => {
    const g = gated()
    sources.push(g)
    sendCsv(reply, 'x_2026-01-01_2026-01-31.csv', csvDocument([{ header: 'n', value: (r: { n: number }) => r.n }], g.rows()))
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => app.close())
  const port = (app.server.address() as { port: number }).port
  t.equal(MAX_CONCURRENT_EXPORTS, 2)

  const a = await get(port)
  t.equal(a.statusCode, 200)
  t.equal(a.headers['content-disposition'], 'attachment; filename="x_2026-01-01_2026-01-31.csv"')
  const aBody = collect(a)
  t.equal(await aBody.first, '\uFEFFn\r\n', 'the header arrives while the source still waits: streamed')
  const b = await get(port)
  t.equal(b.statusCode, 200)
  const c = await get(port)
  t.equal(c.statusCode, 429, 'a third export while two run')
  t.equal(c.headers['retry-after'], '5')
  t.match(JSON.parse(await body(c)), { error: 'EXPORT_BUSY' })

  // b's client hangs up: its place is freed at once (the server sees the socket close)
  b.destroy()
  let d = await get(port)
  while (d.statusCode === 429) {
    d.resume()
    await new Promise((r) => setTimeout(r, 20))
    d = await get(port)
  }
  t.equal(d.statusCode, 200, 'the abandoned export no longer counts')
  // and its row source is stopped within a chunk (the CSV generator ends at its next yield)
  sources[1]!.open()
  await t.resolves(async () => {
    while (!sources[1]!.state.stopped) await new Promise((r) => setTimeout(r, 10))
  }, 'the source of an abandoned export is closed')
  t.notOk(sources[1]!.state.finished, 'it did not run on to the end')
  sources[0]!.open()
  const all = (await aBody.all).replace('\uFEFF', '').split('\r\n')
  t.equal(all.length, ROWS + 2, 'a finishes with every row (header, rows, the empty tail)')
  t.equal(all[ROWS], String(ROWS))
  sources[sources.length - 1]!.open()
  await body(d)
  const e = await get(port)
  t.equal(e.statusCode, 200, 'finished exports free their places')
  sources[sources.length - 1]!.open()
  await body(e)
})
