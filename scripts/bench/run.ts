/**
 * `npm run bench -- <name> [args]`: runs scripts/bench/<name>.ts with the remaining arguments.
 * Each benchmark prints its figures and ratios against a reference run in the same invocation.
 */
import { readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const available = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts')
  .map((f) => f.slice(0, -3))
const [name, ...args] = process.argv.slice(2)
if (!name || !available.includes(name)) {
  console.error(`usage: npm run bench -- <${available.join('|')}> [args]${name ? `\nunknown benchmark "${name}"` : ''}`)
  process.exit(name ? 2 : 0)
}
// The benchmark reads its own arguments from process.argv as if run directly.
process.argv = [process.argv[0]!, join(here, `${name}.ts`), ...args]
await import(pathToFileURL(join(here, `${name}.ts`)).href)
