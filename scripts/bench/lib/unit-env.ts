/**
 * The environment the systemd unit gives the hub (`Environment=KEY=VALUE` lines of
 * scripts/systemd/dispenser-hub.service: V8 flags, the allocator's arenas), so a bench measures the
 * hub as the Pi runs it. The references (bare Aedes) run without: they are what the hub is measured
 * against, not a product.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

export function unitEnvironment(repoRoot: string): Record<string, string> {
  const unit = readFileSync(join(repoRoot, 'scripts', 'systemd', 'dispenser-hub.service'), 'utf8')
  const env: Record<string, string> = {}
  // `Environment=KEY=value` or, for a value with spaces, `Environment="KEY=value with spaces"`
  for (const [, , key, value] of unit.matchAll(/^Environment=("?)([A-Z_][A-Z0-9_]*)=(.*?)\1$/gm)) env[key!] = value!.trim()
  return env
}

export const describeEnv = (env: Record<string, string>) =>
  Object.keys(env).length === 0 ? 'none' : Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ')
