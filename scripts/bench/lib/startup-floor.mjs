// The start-up floor of `npm run bench -- startup`: the least a process built on the hub's three
// foundations does before it serves, with no hub code. It imports fastify, aedes and level (plain
// files from node_modules, as any app would), opens a LevelDB in HUB_DATA_DIR, starts an Aedes
// broker on a TCP port (noDelay, as DESIGN §7) and a Fastify app answering /api/health, and listens.
// With FLOOR_BARE=1 it is bare `node`: node:http alone answering /api/health.
import { createServer } from 'node:net'
import { join } from 'node:path'

const port = Number(process.env.HUB_HTTP_PORT)
if (process.env.FLOOR_BARE === '1') {
  const { createServer: createHttp } = await import('node:http')
  createHttp((_req, res) => res.end('{"ok":true}')).listen(port, '127.0.0.1')
} else {
  const [{ default: Fastify }, { Aedes }, { Level }] = await Promise.all([import('fastify'), import('aedes'), import('level')])
  const db = new Level(join(process.env.HUB_DATA_DIR, 'state'), { valueEncoding: 'json' })
  await db.open()
  const broker = await Aedes.createBroker()
  await new Promise((resolve) => createServer({ noDelay: true }, broker.handle).listen(0, '127.0.0.1', resolve))
  const app = Fastify()
  app.get('/api/health', async () => ({ ok: true }))
  await app.listen({ host: '127.0.0.1', port })
}
