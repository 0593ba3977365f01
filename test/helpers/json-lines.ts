import type { Readable } from 'node:stream'

/** Calls `onLine` with each complete line of a child's stdout: JSON-parsed, or undefined when not JSON. */
export function onJsonLines(stream: Readable, onLine: (entry: Record<string, unknown> | undefined, line: string) => void): void {
  let buffer = ''
  stream.on('data', (chunk: Buffer) => {
    buffer += chunk.toString()
    let nl: number
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl)
      buffer = buffer.slice(nl + 1)
      let entry: Record<string, unknown> | undefined
      try {
        entry = JSON.parse(line) as Record<string, unknown>
      } catch {
        entry = undefined
      }
      onLine(entry, line)
    }
  })
}
