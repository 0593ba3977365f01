// `npm run build`: tsc type-checks and writes dist/ (one file per module: dist/cli.js and what it
// imports), then esbuild bundles the process, src/main.ts, into dist/hub.cjs (dist/main.js loads it).
//
// Why a bundle (issue 17, start-up): the hub loads ~1,300 modules at start (typebox alone is 683
// ESM files, fastify/aedes/ajv ~470 CommonJS files); resolving, reading and compiling them one by
// one was ~1 s of a 2 s start and ~17 MB of RSS on the 2-core machine. One file loads in a
// fraction of that.
//
// Two files: dist/hub.cjs, the bundle of src/main.ts as one CommonJS function, and dist/main.js, the
// entry (src/boot.ts), which compiles it with V8's code cache through vm.Script (see src/boot.ts).
// CommonJS because Node 20 can hand V8 cached code only for a script, not for an ES module; the
// bundle runs strict, as the ES modules it is made of.
// Code loaded on first use (`await import(...)` in src/) stays unevaluated until then: esbuild turns
// those into calls of the module's init function (`supported: { 'dynamic-import': false }`).
//
// Kept outside the bundle, required from node_modules: what finds its own files next to its code at
// run time (classic-level's native binding, below; swagger-ui's assets),
// prom-client (loaded by src/metrics on first use) and mqtt (the bridge and the demo simulator
// only: not parsed at every start). pino is bundled: the hub starts no pino transport (those start
// workers by file path). Whitespace and syntax are minified (a third less to parse); names are
// kept, so stack traces still name the functions, and dist/hub.cjs.map maps them back to src/
// (`node --enable-source-maps dist/main.js`).
import { execFileSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

/**
 * classic-level (LevelDB) is bundled but for its binding.js, which finds the native library next to
 * itself (`node-gyp-build(__dirname)`): required from node_modules at run time. Its JavaScript and
 * abstract-level's (~30 CommonJS files) then load with the bundle and its code cache instead of
 * one by one through Node's loader at every start.
 */
const nativeBindingOutside = {
  name: 'classic-level-binding',
  setup(build) {
    build.onResolve({ filter: /^\.\/binding(\.js)?$/ }, (args) =>
      /[\\/]node_modules[\\/]classic-level[\\/]/.test(args.importer) ? { path: 'classic-level/binding.js', external: true } : undefined)
  },
}

/**
 * issue 17: `debug` (mqtt-packet's parser and writer call it several times for every packet) as a
 * plain empty function for a namespace that DEBUG does not enable when it is created. debug's own
 * function takes its arguments as a rest array and asks a getter before it finds itself off:
 * ~16 MB of garbage in a 1,000-bay changeover bench run, all for nothing. DEBUG still works as
 * before for the namespaces it names at start (debug reads it once, at load, anyway); what no
 * bundled package does, `debug.enable()` later, reaches only debuggers created after it.
 */
export const quietDebug = {
  name: 'quiet-debug',
  setup(build) {
    build.onResolve({ filter: /^debug$/ }, (args) => (/[\\/]node_modules[\\/]/.test(args.importer) ? { path: 'quiet-debug', namespace: 'quiet-debug' } : undefined))
    build.onLoad({ filter: /.*/, namespace: 'quiet-debug' }, () => ({
      resolveDir: root,
      loader: 'js',
      contents: `
        const createDebug = require('debug/src/node.js')
        function quiet(namespace) {
          const real = createDebug(namespace)
          if (real.enabled) return real
          const off = function () {}
          off.namespace = namespace
          off.enabled = false
          off.log = real.log
          off.destroy = real.destroy
          off.extend = (sub, delimiter) => quiet(namespace + (delimiter === undefined ? ':' : delimiter) + sub)
          return off
        }
        module.exports = Object.assign(quiet, createDebug)
      `,
    }))
  },
}

/**
 * Bundles src/main.ts into `${outdir}/hub.cjs` and the entry src/boot.ts into `${outdir}/main.js`;
 * resolves with esbuild's metafile of both (which source files went into which output). outdir
 * must sit in the repo root: the bundle finds ../package.json and ../src/interfaces/public from there.
 */
export async function bundleMain(outdir = join(root, 'dist')) {
  const { build } = await import('esbuild')
  // the ES-module bundle's chunks of earlier builds
  rmSync(join(outdir, 'chunks'), { recursive: true, force: true })
  const common = { absWorkingDir: root, outdir, bundle: true, platform: 'node', target: 'node20', sourcemap: true, minifyWhitespace: true, minifySyntax: true, metafile: true, logLevel: 'warning' }
  const hub = await build({
    ...common,
    entryPoints: { hub: 'src/main.ts' },
    outExtension: { '.js': '.cjs' },
    format: 'cjs',
    supported: { 'dynamic-import': false },
    // import.meta.url of the sources (files found next to the code) is the bundle's own URL
    define: { 'import.meta.url': '__hubModuleUrl' },
    // the file is one function expression, CommonJS's wrapper: src/boot.ts compiles it as it is
    // (one copy of its 2.6 MB text in memory) and calls it with a module's five arguments
    banner: { js: `(function (exports, require, module, __filename, __dirname) {"use strict";const __hubModuleUrl=require("node:url").pathToFileURL(__filename).href;` },
    footer: { js: '\n})' },
    external: ['@fastify/swagger-ui', 'prom-client', 'mqtt'],
    plugins: [nativeBindingOutside, quietDebug],
  })
  const entry = await build({ ...common, entryPoints: { main: 'src/boot.ts' }, format: 'esm' })
  return { inputs: { ...hub.metafile.inputs, ...entry.metafile.inputs }, outputs: { ...hub.metafile.outputs, ...entry.metafile.outputs } }
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) {
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' })
  await bundleMain()
}
