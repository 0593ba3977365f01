/**
 * A strict reader of the Prometheus text exposition format 0.0.4, for tests: every line must be
 * empty, a `# HELP`, a `# TYPE` or a sample of the family its TYPE announced; names, label syntax and
 * escapes, values, duplicate series, histogram buckets (cumulative, ending in +Inf = _count)
 * are checked. Throws naming the line; returns the families for assertions.
 */

export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

export interface Family {
  name: string
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped'
  help: string
  samples: Sample[]
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped'])

/** What Go's strconv.ParseFloat takes (the format's rule): decimals, and nan / inf in any case (prom-client writes "Nan"). */
function parseValue(text: string, where: string): number {
  if (/^nan$/i.test(text)) return NaN
  const inf = /^([-+]?)inf(inity)?$/i.exec(text)
  if (inf) return inf[1] === '-' ? -Infinity : Infinity
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`${where}: value "${text}" is not a number`)
  return Number(text)
}

/** `{a="x",b="y\"z"}` starting at text[0] === '{'; returns the labels and the rest after '}' */
function parseLabels(text: string, where: string): [Record<string, string>, string] {
  const labels: Record<string, string> = {}
  let i = 1
  while (text[i] !== '}') {
    const eq = text.indexOf('=', i)
    if (eq < 0) throw new Error(`${where}: label without '='`)
    const name = text.slice(i, eq)
    if (!LABEL_NAME.test(name)) throw new Error(`${where}: bad label name "${name}"`)
    if (Object.hasOwn(labels, name)) throw new Error(`${where}: label "${name}" twice`)
    if (text[eq + 1] !== '"') throw new Error(`${where}: label value not quoted`)
    let value = ''
    let j = eq + 2
    for (;;) {
      const c = text[j]
      if (c === undefined) throw new Error(`${where}: unterminated label value`)
      if (c === '"') break
      if (c === '\\') {
        const next = text[j + 1]
        if (next === 'n') value += '\n'
        else if (next === '\\' || next === '"') value += next
        else throw new Error(`${where}: bad escape \\${next ?? ''}`)
        j += 2
      } else {
        if (c === '\n') throw new Error(`${where}: raw newline in a label value`)
        value += c
        j++
      }
    }
    labels[name] = value
    i = j + 1
    if (text[i] === ',') i++
    else if (text[i] !== '}') throw new Error(`${where}: expected ',' or '}' after a label`)
  }
  return [labels, text.slice(i + 1)]
}

/** HELP text escapes only \\ and \n */
function unescapeHelp(text: string, where: string): string {
  let out = ''
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== '\\') {
      out += text[i]
      continue
    }
    const next = text[++i]
    if (next === 'n') out += '\n'
    else if (next === '\\') out += '\\'
    else throw new Error(`${where}: bad escape \\${next ?? ''} in HELP`)
  }
  return out
}

/** the family a sample name belongs to (histogram/summary suffixes) */
function familyOf(name: string, families: Map<string, Family>): Family | undefined {
  const direct = families.get(name)
  if (direct) return direct
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!name.endsWith(suffix)) continue
    const base = families.get(name.slice(0, -suffix.length))
    if (base && (base.type === 'histogram' || (base.type === 'summary' && suffix !== '_bucket'))) return base
  }
  return undefined
}

function checkHistogram(family: Family): void {
  const series = new Map<string, { buckets: Array<[number, number]>; count?: number; sum?: boolean }>()
  for (const s of family.samples) {
    const { le, ...rest } = s.labels
    const key = JSON.stringify(Object.entries(rest).sort())
    const entry = series.get(key) ?? { buckets: [] }
    series.set(key, entry)
    if (s.name.endsWith('_bucket')) {
      if (le === undefined) throw new Error(`${family.name}: bucket without le`)
      entry.buckets.push([parseValue(le, family.name), s.value])
    } else if (s.name.endsWith('_count')) entry.count = s.value
    else if (s.name.endsWith('_sum')) entry.sum = true
    else throw new Error(`${family.name}: sample ${s.name} in a histogram`)
  }
  for (const [key, { buckets, count, sum }] of series) {
    const where = `${family.name}${key}`
    if (count === undefined || !sum) throw new Error(`${where}: histogram without _count or _sum`)
    const last = buckets.at(-1)
    if (!last || last[0] !== Infinity) throw new Error(`${where}: no le="+Inf" bucket last`)
    if (last[1] !== count) throw new Error(`${where}: +Inf bucket ${last[1]} != _count ${count}`)
    for (let i = 1; i < buckets.length; i++) {
      if (!(buckets[i]![0] > buckets[i - 1]![0])) throw new Error(`${where}: le not increasing`)
      if (buckets[i]![1] < buckets[i - 1]![1]) throw new Error(`${where}: buckets not cumulative`)
    }
  }
}

export function parsePrometheusText(text: string): Map<string, Family> {
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a newline')
  const families = new Map<string, Family>()
  const seen = new Set<string>()
  let current: Family | undefined
  const lines = text.slice(0, -1).split('\n')
  lines.forEach((line, index) => {
    const where = `line ${index + 1} "${line.slice(0, 120)}"`
    if (line === '') return // the format ignores empty lines (prom-client puts one between families)
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line)
      if (!m) return // a plain comment
      const [, kind, name, rest] = m as unknown as [string, 'HELP' | 'TYPE', string, string]
      if (!NAME.test(name)) throw new Error(`${where}: bad metric name`)
      let family = families.get(name)
      if (family && family !== current) throw new Error(`${where}: family ${name} appears twice`)
      if (!family) {
        family = { name, type: 'untyped', help: '', samples: [] }
        families.set(name, family)
      }
      current = family
      if (kind === 'TYPE') {
        if (!TYPES.has(rest)) throw new Error(`${where}: unknown type "${rest}"`)
        if (family.samples.length > 0) throw new Error(`${where}: TYPE after samples`)
        family.type = rest as Family['type']
      } else {
        family.help = unescapeHelp(rest, where)
      }
      return
    }
    const nameEnd = line.search(/[{ ]/)
    if (nameEnd <= 0) throw new Error(`${where}: not a sample`)
    const name = line.slice(0, nameEnd)
    if (!NAME.test(name)) throw new Error(`${where}: bad metric name`)
    let labels: Record<string, string> = {}
    let rest = line.slice(nameEnd)
    if (rest.startsWith('{')) [labels, rest] = parseLabels(rest, where)
    const parts = rest.split(' ')
    if (parts[0] !== '' || parts.length < 2 || parts.length > 3) throw new Error(`${where}: expected " value [timestamp]"`)
    const value = parseValue(parts[1]!, where)
    if (parts[2] !== undefined && !/^-?\d+$/.test(parts[2])) throw new Error(`${where}: bad timestamp`)
    const family = familyOf(name, families)
    if (!family || family !== current) throw new Error(`${where}: sample outside its family's block (no HELP/TYPE before it)`)
    const series = name + JSON.stringify(Object.entries(labels).sort())
    if (seen.has(series)) throw new Error(`${where}: duplicate series`)
    seen.add(series)
    if (family.type === 'counter' && !(value >= 0)) throw new Error(`${where}: counter below 0`)
    family.samples.push({ name, labels, value })
  })
  for (const family of families.values()) if (family.type === 'histogram') checkHistogram(family)
  return families
}

/** the value of one series (labels must match exactly), or undefined */
export function sampleValue(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = JSON.stringify(Object.entries(labels).sort())
  for (const family of families.values()) {
    for (const s of family.samples) if (s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === want) return s.value
  }
  return undefined
}
