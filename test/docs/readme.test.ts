import t from 'tap'
import { readFileSync } from 'node:fs'
import { EnvNames } from '../../src/config/index.js'
import { Topics } from '../../src/protocol/index.js'

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')

t.test('the README documents every setting the hub reads', async (t) => {
  for (const env of ['HUB_CONFIG', ...Object.values(EnvNames)]) t.match(readme, `\`${env}\``, env)
})

t.test('the README documents every topic the hub uses', async (t) => {
  for (const topic of Object.values(Topics)) t.match(readme, topic.replace(/\/$/, ''), topic)
})

t.test('the README gives the two commands', async (t) => {
  t.match(readme, 'npm ci && npm start')
  t.match(readme, 'npm ci && npm test')
})
