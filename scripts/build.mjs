// `npm run build`: tsc type-checks and writes dist/ (one file per module: dist/cli.js and what it
// imports), then esbuild bundles the process entry, src/main.ts, into dist/main.js.
//
// Why a bundle (issue 17, start-up): the hub loads ~1,300 modules at start (typebox alone is 683
// ESM files, fastify/aedes/ajv ~470 CommonJS files); resolving, reading and compiling them one by
// one was ~1 s of a 2 s start and ~17 MB of RSS on the 2-core machine. One file loads in a
// fraction of that. Code loaded only on first use (`await import(...)`) becomes a chunk under
// dist/chunks/, read when it is first needed.
//
// Kept outside the bundle: packages that find their own files next to their code at run time
// (classic-level's native binding, swagger-ui's assets), and prom-client: src/metrics loads it
// with `await import()`, and a CommonJS package split into a chunk that way would show only its
// `default` export (esbuild), where Node's own loader gives the named ones too. (Any other
// CommonJS package loaded with `await import()` belongs in this list for the same reason.) pino is
// bundled: the hub starts no pino transport (those start workers by file path). Whitespace and syntax are minified (a third
// less to parse at every start); names are kept, so stack traces still name the functions, and
// dist/main.js.map maps them back to src/ (`node --enable-source-maps dist/main.js`).
import { execFileSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

/**
 * Bundles src/main.ts into `${outdir}/main.js` (+ chunks/); resolves with esbuild's metafile (which
 * source files went into which output). outdir must sit in the repo root: the bundle finds
 * ../package.json and ../src/interfaces/public from there.
 */
export async function bundleMain(outdir = join(root, 'dist')) {
  const { build } = await import('esbuild')
  rmSync(join(outdir, 'chunks'), { recursive: true, force: true })
  const result = await build({
    absWorkingDir: root,
    entryPoints: { main: 'src/main.ts' },
    outdir,
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: true,
    // bundled CommonJS packages call require() for Node's own modules
    banner: { js: "import { createRequire as __hubRequire } from 'node:module'; const require = __hubRequire(import.meta.url);" },
    external: ['classic-level', '@fastify/swagger-ui', 'prom-client'],
    minifyWhitespace: true,
    minifySyntax: true,
    metafile: true,
    logLevel: 'warning',
  })
  return result.metafile
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) {
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' })
  await bundleMain()
}
