/**
 * Module boundaries (STYLE §2.1, §2.3; issue 10): pure files import no broker, web server or
 * storage library (directly or through the files they import), the machines module never
 * imports scheduling (main.ts hands it narrow function ports), and protocol/ depends on nothing
 * of the hub but itself. Read from the sources, so a new import that breaks a rule fails here.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const src = join(root, 'src')

/** Pure domain logic: decisions only, no I/O (their headers say PURE / Pure). */
const PURE = [
  'scheduling/rules.ts',
  'scheduling/grid.ts',
  'scheduling/availability.ts',
  'scheduling/submission.ts',
  'scheduling/tz.ts',
  'lib/tzif.ts',
  'scheduling/alternatives.ts',
  'affected/detect.ts',
  'credits/ledger.ts',
  'machines/commands.ts',
  'machines/presence.ts',
  'machines/telemetry.ts',
  'machines/desired.ts',
  'machines/alerts.ts',
  'broker/acl.ts',
  ...readdirSync(join(src, 'protocol')).filter((f) => f.endsWith('.ts')).map((f) => `protocol/${f}`),
]

/** Packages that do I/O or own a transport: aedes (broker), fastify (HTTP), level (storage), mqtt, pino. */
const IO_PACKAGE = /^(aedes($|-)|@fastify\/|fastify($|\/)|level($|\/)|classic-level|abstract-level|mqtt($|\/)|pino($|\/)|node:(fs|net|http|https|tls|dgram|child_process))/

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  const found = new Set<string>()
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/g)) found.add(m[1]!)
  for (const m of text.matchAll(/(?:^|\n)\s*import\s+['"]([^'"]+)['"]/g)) found.add(m[1]!)
  for (const m of text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)) found.add(m[1]!)
  return [...found]
}

/** A relative import's source file (.js in the specifier, .ts on disk). */
function resolveLocal(from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined
  const target = resolve(dirname(from), spec).replace(/\.js$/, '.ts')
  return existsSync(target) ? target : undefined
}

/** Every file reachable from `file` by relative imports, with the package imports of each. */
function closure(file: string): Map<string, string[]> {
  const seen = new Map<string, string[]>()
  const walk = (f: string) => {
    if (seen.has(f)) return
    const specs = importsOf(f)
    seen.set(f, specs.filter((s) => !s.startsWith('.')))
    for (const s of specs) {
      const next = resolveLocal(f, s)
      if (next) walk(next)
    }
  }
  walk(file)
  return seen
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []))
}

t.test('pure files import no aedes, fastify, level or other I/O, not even through another file', async (t) => {
  for (const name of PURE) {
    const file = join(src, name)
    t.ok(existsSync(file), `${name} exists`)
    const offending: string[] = []
    for (const [f, packages] of closure(file)) {
      for (const p of packages) if (IO_PACKAGE.test(p)) offending.push(`${relative(src, f)} imports ${p}`)
    }
    t.same(offending, [], `${name} is pure`)
  }
})

t.test('src/machines never imports src/scheduling', async (t) => {
  const scheduling = join(src, 'scheduling')
  const offending = filesUnder(join(src, 'machines')).flatMap((f) =>
    importsOf(f)
      .map((s) => resolveLocal(f, s) ?? '')
      .filter((target) => target.startsWith(scheduling + '/'))
      .map((target) => `${relative(src, f)} imports ${relative(src, target)}`),
  )
  t.same(offending, [])
})

t.test('protocol/ imports only typebox and itself', async (t) => {
  const protocol = join(src, 'protocol')
  const offending = filesUnder(protocol).flatMap((f) =>
    importsOf(f)
      .filter((s) => (s.startsWith('.') ? !(resolveLocal(f, s) ?? '').startsWith(protocol + '/') : !/^typebox($|\/)/.test(s)))
      .map((s) => `${relative(src, f)} imports ${s}`),
  )
  t.same(offending, [])
})

t.test('the rule reader sees imports (a check that cannot fail proves nothing)', async (t) => {
  const adapter = join(src, 'machines', 'dispenser-adapter.ts')
  t.ok(importsOf(adapter).includes('../protocol/inbound.js'), 'reads a named import')
  t.ok([...closure(join(src, 'broker', 'index.ts')).values()].flat().some((p) => p.startsWith('aedes')), 'finds aedes behind broker/index.ts')
})
