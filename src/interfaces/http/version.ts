import { readFileSync } from 'node:fs'

/**
 * The package version for /api/health and OpenAPI: package.json sits two or three levels up from
 * this file in src/ and dist/, one level up from dist/hub.cjs, the bundle this file is part of there.
 */
export function readVersion(): string {
  for (const rel of ['../../../package.json', '../../../../package.json', '../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string }
      if (pkg.name === 'dispenser-hub' && pkg.version) return pkg.version
    } catch {
      // try the next location
    }
  }
  return '0.0.0'
}
