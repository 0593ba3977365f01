/**
 * MQTT topic filter matching with + and # ([MQTT-4.7.1]); `$` topics never match wildcards ([MQTT-4.7.2-1]).
 *
 * issue 17: asked for every handler on every publish (a 1,000-bay changeover is thousands): a
 * filter without a wildcard is a plain comparison, and one with a wildcard is compared up to its
 * first wildcard before anything is split.
 */
export function topicMatches(filter: string, topic: string): boolean {
  if (filter === topic) return true
  const plus = filter.indexOf('+')
  const hash = filter.indexOf('#')
  if (plus < 0 && hash < 0) return false
  if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false
  const literal = plus < 0 ? hash : hash < 0 ? plus : Math.min(plus, hash)
  if (topic.length < literal) {
    // `a/#` also matches `a` (the parent level): the literal part may end one '/' past the topic
    if (!(hash === literal && literal === topic.length + 1 && filter.charCodeAt(literal - 1) === 47)) return false
  }
  for (let i = 0; i < literal && i < topic.length; i++) if (filter.charCodeAt(i) !== topic.charCodeAt(i)) return false
  const f = filter.split('/')
  const t = topic.split('/')
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true
    if (i >= t.length) return false
    if (f[i] !== '+' && f[i] !== t[i]) return false
  }
  return f.length === t.length
}
