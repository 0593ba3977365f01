/** MQTT topic filter matching with + and # ([MQTT-4.7.1]); `$` topics never match wildcards ([MQTT-4.7.2-1]). */
export function topicMatches(filter: string, topic: string): boolean {
  if (filter === topic) return true
  if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false
  const f = filter.split('/')
  const t = topic.split('/')
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true
    if (i >= t.length) return false
    if (f[i] !== '+' && f[i] !== t[i]) return false
  }
  return f.length === t.length
}
