// `npm start` builds first when dist/ is missing or older than any file under src/.
import { execFileSync } from 'node:child_process'
import { readdirSync, statSync, existsSync } from 'node:fs'
import { join } from 'node:path'

function newest(dir) {
  let latest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs)
  }
  return latest
}

const stamp = 'dist/main.js'
// dist/hub.cjs: the bundle dist/main.js loads (a dist/ of an older build may lack it)
const stale = !existsSync(stamp) || !existsSync('dist/hub.cjs') || newest('src') > statSync(stamp).mtimeMs || ['package.json', 'scripts/build.mjs'].some((f) => statSync(f).mtimeMs > statSync(stamp).mtimeMs)
if (stale) {
  console.error('building dist/ (src changed)')
  execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' })
}
