/**
 * The system's tz database (TZDIR, else /usr/share/zoneinfo): reads a zone's TZif file once and
 * registers it (src/lib/tzif.ts), so the hub's local times never load ICU through Intl (issue 17,
 * footprint: ~8 MB of RSS). A zone without a readable file here (no tzdata installed, a name only
 * ICU knows, a name in other letter case) is left to Intl, as before.
 */
import { readFileSync, readlinkSync } from 'node:fs'
import { join } from 'node:path'
import { parseTzif, registerZone, type ZoneRules } from './tzif.js'

/** IANA names (`Europe/Berlin`, `America/Argentina/Buenos_Aires`, `UTC`, `Etc/GMT+3`): never a path out of the database */
const ZONE_NAME = /^[A-Z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+)*$/
/** files of the database that are not zones Intl knows: left to Intl to accept or refuse */
const NOT_ZONES = new Set(['Factory', 'localtime', 'posixrules'])

const databaseDir = () => process.env.TZDIR || '/usr/share/zoneinfo'

function readZone(name: string): ZoneRules | undefined {
  if (!ZONE_NAME.test(name) || NOT_ZONES.has(name) || /^(posix|right)\//.test(name)) return undefined
  try {
    return parseTzif(readFileSync(join(databaseDir(), name)))
  } catch {
    return undefined
  }
}

/** Registers `name` from its TZif file when there is one; true when it now answers without Intl. */
export function useSystemZone(name: string): boolean {
  if (name === 'UTC') {
    registerZone(name, { offsetAt: () => 0 })
    return true
  }
  const rules = readZone(name)
  if (rules) registerZone(name, rules)
  return rules !== undefined
}

// What Intl calls every zone of offset 0 without daylight time that the database names for UTC or
// GMT: `Etc/UTC`, the usual /etc/localtime of a Pi or a container, is `UTC` to clients as before.
const UTC_ALIASES = new Set(['UTC', 'Etc/UTC', 'Etc/UCT', 'Etc/Universal', 'Etc/Zulu', 'UCT', 'Universal', 'Zulu', 'GMT', 'Etc/GMT', 'GMT0', 'GMT+0', 'GMT-0', 'Etc/GMT0', 'Etc/GMT+0', 'Etc/GMT-0', 'Greenwich', 'Etc/Greenwich'])

/**
 * The zone a backward link of the database points to (`US/Pacific` -> `America/Los_Angeles`), as
 * its tzdata.zi lists it (`L <target> <link>`); `name` when it is no link. undefined when the
 * database has no tzdata.zi to tell.
 */
function linkTarget(name: string): string | undefined {
  let text: string
  try {
    text = readFileSync(join(databaseDir(), 'tzdata.zi'), 'latin1')
  } catch {
    return undefined
  }
  const suffix = ` ${name}`
  for (const line of text.split('\n')) {
    if (!line.startsWith('L ') || !line.endsWith(suffix)) continue
    const fields = line.split(' ')
    if (fields.length === 3 && fields[2] === name) return fields[1]
  }
  return name
}

/**
 * The name the system's zone goes by to clients, as Intl would give it: the UTC aliases as `UTC`,
 * a backward link as the zone it points to. undefined when that cannot be told without Intl.
 */
function canonical(name: string): string | undefined {
  if (UTC_ALIASES.has(name)) return 'UTC'
  const target = linkTarget(name)
  if (target === undefined) return undefined
  if (UTC_ALIASES.has(target)) return 'UTC'
  return readZone(target) ? target : undefined
}

/**
 * The system's own zone by name, as the C library finds it (`TZ`, else the /etc/localtime link)
 * and as Intl names it (canonical above), when that name has a file in the database; undefined
 * otherwise (ask Intl).
 */
export function systemZoneName(): string | undefined {
  const tz = process.env.TZ?.replace(/^:/, '')
  if (tz !== undefined && tz !== '') return tz === 'UTC' || readZone(tz) ? canonical(tz) : undefined
  try {
    const target = readlinkSync('/etc/localtime')
    const at = target.lastIndexOf('zoneinfo/')
    const name = at < 0 ? undefined : target.slice(at + 'zoneinfo/'.length)
    return name !== undefined && readZone(name) ? canonical(name) : undefined
  } catch {
    return undefined
  }
}
