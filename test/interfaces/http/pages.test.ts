import t from 'tap'
import { readdirSync } from 'node:fs'
import { publicDir } from '../../../src/interfaces/http/routes/pages.js'
import { buildWorld } from './world.js'

t.test('pages and assets are served without a token; nothing else is', async (t) => {
  const w = await buildWorld(t)
  const admin = await w.app.inject({ url: '/' })
  t.equal(admin.statusCode, 200)
  t.match(admin.headers['content-type'], /^text\/html/)
  t.match(admin.body, /<html/i)
  t.match(admin.headers['content-security-policy'], /default-src 'self'/)
  const kiosk = await w.app.inject({ url: '/kiosk' })
  t.equal(kiosk.statusCode, 200)
  t.match(kiosk.body, /<html/i)
  for (const file of readdirSync(publicDir()).filter((f) => /\.(js|css)$/.test(f))) {
    const res = await w.app.inject({ url: `/assets/${file}` })
    t.equal(res.statusCode, 200, file)
    t.match(res.headers['content-type'], file.endsWith('.js') ? /^text\/javascript/ : /^text\/css/)
  }
  for (const url of ['/assets/admin.html', '/assets/..%2Fhttp%2Fapp.ts', '/assets/nope.js', '/assets/%2e%2e%2fpackage.json']) {
    const res = await w.app.inject({ url })
    t.equal(res.statusCode, 404, url)
    t.equal(res.json().error, 'NOT_FOUND')
  }
})
