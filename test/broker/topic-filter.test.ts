/**
 * topicMatches (src/broker/topic-filter.ts): the shortcuts of issue 17 (no split for a filter
 * without a wildcard, the literal part before the first wildcard compared first) answer exactly
 * as the level-by-level rule of MQTT 3.1.1 §4.7 does, over every filter and topic built from a
 * small set of levels.
 */
import t from 'tap'
import { topicMatches } from '../../src/broker/topic-filter.js'

/** The rule as the spec words it, level by level. */
function byLevels(filter: string, topic: string): boolean {
  if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false
  const f = filter.split('/')
  const levels = topic.split('/')
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true
    if (i >= levels.length) return false
    if (f[i] !== '+' && f[i] !== levels[i]) return false
  }
  return f.length === levels.length
}

const topicLevels = ['a', 'ab', '', '$SYS', 'external', 'machine']
const filterLevels = [...topicLevels, '+']

function* joined(levels: string[], depth: number): Generator<string[]> {
  if (depth === 0) return yield []
  for (const level of levels) for (const rest of joined(levels, depth - 1)) yield [level, ...rest]
}

t.test('the same answer as the level-by-level rule', async (t) => {
  const topics: string[] = []
  for (let d = 1; d <= 3; d++) for (const l of joined(topicLevels, d)) topics.push(l.join('/'))
  const filters: string[] = ['#']
  for (let d = 1; d <= 3; d++) {
    for (const l of joined(filterLevels, d)) {
      filters.push(l.join('/'))
      filters.push([...l, '#'].join('/'))
    }
  }
  let checked = 0
  const wrong: string[] = []
  for (const filter of filters) {
    for (const topic of topics) {
      checked++
      if (topicMatches(filter, topic) !== byLevels(filter, topic)) wrong.push(`${filter} ~ ${topic}`)
    }
  }
  t.same(wrong.slice(0, 10), [], `${checked} pairs`)
  t.ok(checked > 100_000)
})

t.test('the cases the hub relies on', async (t) => {
  t.ok(topicMatches('external/handler', 'external/handler'))
  t.notOk(topicMatches('external/handler', 'external/handlers'))
  t.notOk(topicMatches('internal/manager', 'internal/handler'))
  t.ok(topicMatches('external/enroll/+', 'external/enroll/aabbccddeeff'))
  t.notOk(topicMatches('external/enroll/+', 'external/enroll/a/b'))
  t.notOk(topicMatches('external/enroll/+', 'external/handler'))
  t.ok(topicMatches('sites/#', 'sites'), '# matches the parent level too')
  t.ok(topicMatches('sites/#', 'sites/x/y'))
  t.notOk(topicMatches('sites/#', 'site'))
  t.notOk(topicMatches('#', '$SYS/broker'), 'no wildcard reaches a $ topic')
  t.notOk(topicMatches('+/broker', '$SYS/broker'))
  t.ok(topicMatches('$SYS/#', '$SYS/broker'))
})
