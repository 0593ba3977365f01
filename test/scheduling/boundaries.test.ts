/**
 * Module boundaries (DESIGN §2, STYLE §2.3): scheduling never imports machines, the broker or
 * the interfaces; it learns bay health through the port src/hub.ts passes in (issue 11).
 */
import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

const dir = join(import.meta.dirname, '../../src/scheduling')

t.test('src/scheduling imports only protocol, lib, config and itself', async (t) => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts'))
  t.ok(files.length > 5)
  for (const file of files) {
    const text = readFileSync(join(dir, file), 'utf8')
    const imports = [...text.matchAll(/from '(\.\.?\/[^']+)'/g)].map((m) => m[1]!)
    for (const path of imports) {
      t.notOk(/^\.\.\/(machines|broker|interfaces|link|simulator)\//.test(path), `${file} does not import ${path}`)
    }
  }
})
