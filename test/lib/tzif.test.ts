/**
 * Zone offsets from the tz database's TZif files instead of Intl (src/lib/tzif.ts, src/lib/tzdb.ts;
 * issue 17, footprint): the same offsets as Intl for the system's zone files, the POSIX footer's
 * rules, and no file or bytes this reader does not take answering at all (Intl decides then).
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { parsePosixTz, parseTzif, registeredOffset } from '../../src/lib/tzif.js'
import { systemZoneName, useSystemZone } from '../../src/lib/tzdb.js'

const ZONEINFO = process.env.TZDIR || '/usr/share/zoneinfo'

const formats = new Map<string, Intl.DateTimeFormat>()
function intlOffset(zone: string, epochS: number): number {
  let f = formats.get(zone)
  if (!f) formats.set(zone, (f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' })))
  const parts = f.formatToParts(epochS * 1000)
  const get = (type: string) => Number(parts.find((p) => p.type === type)!.value)
  return Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second')) / 1000 - epochS
}

// northern and southern daylight time, negative DST (Dublin), half-hour and 45-minute offsets,
// half-hour DST (Lord Howe), 2-hour DST (Troll), abolished DST (Sao Paulo), fixed offsets
const ZONES = ['Europe/Berlin', 'Europe/London', 'Europe/Dublin', 'America/New_York', 'America/Sao_Paulo', 'America/Santiago', 'America/St_Johns', 'Australia/Sydney', 'Australia/Lord_Howe', 'Asia/Kolkata', 'Asia/Tehran', 'Asia/Kathmandu', 'Pacific/Chatham', 'Pacific/Auckland', 'Antarctica/Troll', 'Africa/Cairo', 'Etc/GMT+3', 'UTC']
const FROM = Date.UTC(1995, 0, 1) / 1000
const TO = Date.UTC(2045, 0, 1) / 1000
const STEP = 49 * 3600

t.test('a zone file gives the offsets Intl gives, at every change to the second, 1995-2045', async (t) => {
  for (const zone of ZONES) {
    const rules = parseTzif(readFileSync(join(ZONEINFO, zone)))
    if (!t.ok(rules, `${zone}: parsed`)) continue
    let mismatches = 0
    let changes = 0
    for (let s = FROM; s < TO; s += STEP) {
      const a = rules!.offsetAt(s)
      if (a !== intlOffset(zone, s)) mismatches++
      const b = rules!.offsetAt(s + STEP)
      if (a === b) continue
      // the change between two samples: the last second of the old offset and the first of the new
      let lo = s
      let hi = s + STEP
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2)
        if (rules!.offsetAt(mid) === a) lo = mid
        else hi = mid
      }
      changes++
      if (intlOffset(zone, lo) !== rules!.offsetAt(lo) || intlOffset(zone, hi) !== rules!.offsetAt(hi)) mismatches++
    }
    t.equal(mismatches, 0, `${zone}: every sample and all ${changes} changes as Intl`)
  }
})

t.test('the footer rule: daylight time both sides of the equator, all-year daylight time, fixed offsets', async (t) => {
  const berlin = parsePosixTz('CET-1CEST,M3.5.0,M10.5.0/3')!
  t.equal(berlin.offsetAt(Date.UTC(2030, 2, 31, 0, 59, 59) / 1000), 3600, 'before the last Sunday of March, 01:00 UTC')
  t.equal(berlin.offsetAt(Date.UTC(2030, 2, 31, 1) / 1000), 7200, 'from it')
  t.equal(berlin.offsetAt(Date.UTC(2030, 9, 27, 0, 59, 59) / 1000), 7200, 'until the last Sunday of October, 03:00 local daylight time')
  t.equal(berlin.offsetAt(Date.UTC(2030, 9, 27, 1) / 1000), 3600)
  const sydney = parsePosixTz('AEST-10AEDT,M10.1.0,M4.1.0/3')!
  t.equal(sydney.offsetAt(Date.UTC(2030, 0, 15) / 1000), 11 * 3600, 'southern summer in January')
  t.equal(sydney.offsetAt(Date.UTC(2030, 6, 15) / 1000), 10 * 3600, 'standard time in July')
  const allYear = parsePosixTz('EST5EDT,0/0,J365/25')!
  for (const month of [0, 5, 11]) t.equal(allYear.offsetAt(Date.UTC(2031, month, 31, 23) / 1000), -4 * 3600, `daylight time all year (month ${month + 1})`)
  t.equal(parsePosixTz('<+0545>-5:45')!.offsetAt(0), 5 * 3600 + 45 * 60, 'quoted name, minutes')
  t.equal(parsePosixTz('<-03>3')!.offsetAt(0), -3 * 3600, 'west of Greenwich')
  t.equal(parsePosixTz('IST-1GMT0,M10.5.0,M3.5.0/1')!.offsetAt(Date.UTC(2030, 0, 10) / 1000), 0, 'negative daylight time (Dublin): winter at GMT')
  for (const bad of ['', 'CET', 'CET-1CEST', 'CET-1CEST,M13.5.0,M10.5.0', 'CET-1CEST,M3.5.0', 'X-1', 'CET-1CEST,M3.5.0,M10.5.0/3junk', 'CET-99']) t.equal(parsePosixTz(bad), undefined, `refused: ${JSON.stringify(bad)}`)
})

t.test('bytes that are not a whole TZif file answer nothing: the zone is left to Intl', async (t) => {
  const berlin = readFileSync(join(ZONEINFO, 'Europe/Berlin'))
  t.equal(parseTzif(Buffer.from('not a zone file at all, but long enough to have a header.....')), undefined, 'no magic')
  t.equal(parseTzif(berlin.subarray(0, 40)), undefined, 'header cut short')
  for (const cut of [60, Math.floor(berlin.length / 2), berlin.length - 10]) t.equal(parseTzif(berlin.subarray(0, cut)), undefined, `cut at ${cut} of ${berlin.length} bytes`)
  const noTypes = Buffer.from(berlin)
  noTypes.writeUInt32BE(0, 36)
  t.equal(parseTzif(noTypes), undefined, 'no time types')
  t.equal(parseTzif(new Uint8Array(0)), undefined, 'empty')
})

t.test('useSystemZone registers files of the database only, by IANA name', async (t) => {
  t.equal(registeredOffset('Europe/Berlin', 0), undefined, 'nothing registered before')
  t.ok(useSystemZone('Europe/Berlin'))
  t.equal(registeredOffset('Europe/Berlin', Date.UTC(2031, 6, 1) / 1000), 7200)
  t.ok(useSystemZone('UTC'), 'UTC needs no file')
  t.equal(registeredOffset('UTC', 1e9), 0)
  for (const name of ['Mars/Olympus', '../../etc/passwd', '/etc/localtime', 'Europe/../Europe/Berlin', 'europe/berlin', 'posixrules', 'posix/Europe/Berlin', 'right/Europe/Berlin', 'zone.tab', 'Europe', '']) {
    t.notOk(useSystemZone(name), `not from a file: ${JSON.stringify(name)}`)
    t.equal(registeredOffset(name, 0), undefined)
  }
})

t.test('the system zone by name: TZ, else the /etc/localtime link; undefined leaves it to Intl', async (t) => {
  const saved = process.env.TZ
  t.teardown(() => {
    if (saved === undefined) delete process.env.TZ
    else process.env.TZ = saved
  })
  process.env.TZ = 'America/New_York'
  t.equal(systemZoneName(), 'America/New_York')
  process.env.TZ = ':Europe/London'
  t.equal(systemZoneName(), 'Europe/London', 'the leading colon of TZ')
  process.env.TZ = 'EST+5EDT,M3.2.0/2,M11.1.0/2'
  t.equal(systemZoneName(), undefined, 'a POSIX rule in TZ: Intl reads it')
  // named as Intl names them, since the name goes out to clients (schedule, calendar, reports)
  for (const tz of ['Etc/UTC', 'Zulu', 'Etc/GMT', 'US/Pacific', 'Europe/Berlin']) {
    process.env.TZ = tz
    t.equal(systemZoneName(), Intl.DateTimeFormat().resolvedOptions().timeZone, `TZ=${tz} is named ${Intl.DateTimeFormat().resolvedOptions().timeZone}, as by Intl`)
  }
  delete process.env.TZ
  t.equal(systemZoneName() ?? Intl.DateTimeFormat().resolvedOptions().timeZone, Intl.DateTimeFormat().resolvedOptions().timeZone, 'the /etc/localtime zone is named as by Intl')
  const name = systemZoneName()
  if (name !== undefined) t.equal(intlOffset(name, 1e9), (useSystemZone(name), registeredOffset(name, 1e9)), `the link's zone ${name} answers as Intl`)
  else t.pass('no /etc/localtime link to a zone file on this machine')
})
