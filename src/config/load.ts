/**
 * Settings: environment > config file (HUB_CONFIG, JSON or YAML) > defaults (DESIGN §3).
 * The result is validated once, frozen and passed down; there is no global.
 */
import { readFileSync } from 'node:fs'
import { extname } from 'node:path'
import { Value } from 'typebox/value'
import { parse as parseYaml } from 'yaml'
import { EnvNames, Settings, type SettingName } from './schema.js'
import { parseIdList, parseLayout } from './ranges.js'
import { systemZoneName, useSystemZone } from '../lib/tzdb.js'

export type Config = Readonly<
  Settings & {
    /** every machine id served, ascending */
    machineIds: readonly number[]
    /** rows of adjacent bays */
    layoutRows: readonly (readonly number[])[]
    /** path of the config file read, if any */
    configFile: string | null
  }
>

/** A start-up error that names the bad setting. */
export class ConfigError extends Error {
  constructor(
    readonly setting: string,
    message: string,
  ) {
    super(`invalid setting ${setting}: ${message}`)
    this.name = 'ConfigError'
  }
}

const envToKey = new Map<string, SettingName>(Object.entries(EnvNames).map(([key, env]) => [env, key as SettingName]))

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const configFile = env.HUB_CONFIG ?? null
  const fromFile = configFile ? readConfigFile(configFile) : {}
  const fromEnv: Record<string, unknown> = {}
  for (const [key, envName] of Object.entries(EnvNames)) {
    const value = env[envName]
    if (value !== undefined && value !== '') fromEnv[key] = value
  }
  const merged: Record<string, unknown> = { ...fromFile, ...fromEnv }
  for (const [key, value] of Object.entries(merged)) {
    if (!(key in EnvNames)) throw new ConfigError(key, 'unknown setting')
    merged[key] = coerce(key as SettingName, value)
  }
  const withDefaults = Value.Default(Settings, merged) as Record<string, unknown>
  // Checked once per process: TypeBox's interpreter, not a compiled validator (compiling the
  // Settings schema cost the start four times the check it makes, issue 17).
  if (!Value.Check(Settings, withDefaults)) {
    const first = [...Value.Errors(Settings, withDefaults)][0]
    const key = (first?.instancePath.split('/')[1] ?? '') as SettingName
    const shown = key in EnvNames ? EnvNames[key] : key || '(settings)'
    throw new ConfigError(shown, `${first?.message ?? 'is invalid'} (got ${JSON.stringify(withDefaults[key])})`)
  }
  const settings = withDefaults as Settings
  return Object.freeze({ ...settings, ...derived(settings), configFile })
}

function derived(settings: Settings) {
  const machines = parseIdList(settings.machines)
  if (!machines.ok) throw new ConfigError(EnvNames.machines, machines.message)
  const layout = parseLayout(settings.layout ?? settings.machines, machines.value)
  if (!layout.ok) throw new ConfigError(EnvNames.layout, layout.message)
  // The zone's tz database file when there is one (useSystemZone registers it: no Intl, ~8 MB
  // less RSS, issue 17); Intl decides about any other name.
  const timezone = settings.timezone || systemZoneName() || Intl.DateTimeFormat().resolvedOptions().timeZone
  if (!useSystemZone(timezone)) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: timezone })
    } catch {
      throw new ConfigError(EnvNames.timezone, `"${timezone}" is not an IANA time zone`)
    }
  }
  try {
    Intl.getCanonicalLocales(settings.locale)
  } catch {
    throw new ConfigError(EnvNames.locale, `"${settings.locale}" is not a BCP 47 language tag (e.g. en-GB)`)
  }
  if ((settings.mqttTlsPort === null) !== (settings.tlsCert === null || settings.tlsKey === null)) {
    throw new ConfigError(EnvNames.mqttTlsPort, 'HUB_MQTT_TLS_PORT, HUB_TLS_CERT and HUB_TLS_KEY go together')
  }
  if (settings.openingHours) {
    const [open, close] = settings.openingHours.split('-') as [string, string]
    if (!isClock(open) || !isClock(close) || open >= close) {
      throw new ConfigError(EnvNames.openingHours, `"${settings.openingHours}" must be HH:MM-HH:MM with open before close`)
    }
  }
  if ((24 * 60) % settings.slotMinutes !== 0) {
    throw new ConfigError(EnvNames.slotMinutes, `${settings.slotMinutes} does not divide a day into whole slots`)
  }
  return {
    timezone,
    machineIds: Object.freeze(machines.value),
    layoutRows: Object.freeze(layout.value.map((row) => Object.freeze(row))),
  }
}

function isClock(text: string): boolean {
  const m = /^(\d{2}):(\d{2})$/.exec(text)
  return !!m && Number(m[1]) <= 24 && Number(m[2]) < 60
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new ConfigError('HUB_CONFIG', `cannot read ${path}: ${(error as Error).message}`)
  }
  let parsed: unknown
  try {
    parsed = extname(path) === '.json' ? JSON.parse(text) : parseYaml(text)
  } catch (error) {
    throw new ConfigError('HUB_CONFIG', `${path} is not valid ${extname(path) === '.json' ? 'JSON' : 'YAML'}: ${(error as Error).message}`)
  }
  if (parsed === null || parsed === undefined) return {}
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError('HUB_CONFIG', `${path} must hold an object of settings`)
  // A file may use either the HUB_* names or the property names.
  const out: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(parsed)) out[envToKey.get(name) ?? name] = value
  return out
}

/** Environment values are strings; turn them into what the schema wants, naming the variable on failure. */
function coerce(key: SettingName, value: unknown): unknown {
  if (typeof value !== 'string') return value
  const schema = Settings.properties[key] as { type?: string; anyOf?: Array<{ type?: string }> }
  const types = schema.anyOf ? schema.anyOf.map((s) => s.type) : [schema.type]
  if (types.includes('integer')) {
    if (!/^-?\d+$/.test(value.trim())) throw new ConfigError(EnvNames[key], `"${value}" is not a whole number`)
    return Number(value)
  }
  if (types.includes('boolean')) {
    if (/^(true|1|yes)$/i.test(value)) return true
    if (/^(false|0|no)$/i.test(value)) return false
    throw new ConfigError(EnvNames[key], `"${value}" is not true or false`)
  }
  return value
}
