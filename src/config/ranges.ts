/** Parses id lists such as `1-80` or `1,2,5-9` (HUB_MACHINES) and rows `1-40;41-80` (HUB_LAYOUT). */
import { err, ok, type Result } from '../lib/result.js'

const MAX_ID = 9999

export function parseIdList(text: string): Result<number[]> {
  const ids = new Set<number>()
  for (const raw of text.split(',')) {
    const part = raw.trim()
    const m = /^(\d+)(?:\s*-\s*(\d+))?$/.exec(part)
    if (!m) return err('BAD_RANGE', `"${part}" is not an id or a range like 1-20`)
    const from = Number(m[1])
    const to = m[2] === undefined ? from : Number(m[2])
    if (from < 1 || to > MAX_ID || to < from) return err('BAD_RANGE', `"${part}" must be within 1-${MAX_ID}, low to high`)
    for (let id = from; id <= to; id++) ids.add(id)
  }
  return ok([...ids].sort((a, b) => a - b))
}

/** Rows of adjacent bays, in the order given (adjacency follows the written order). */
export function parseLayout(text: string, machines: readonly number[]): Result<number[][]> {
  const known = new Set(machines)
  const seen = new Set<number>()
  const rows: number[][] = []
  for (const rowText of text.split(';')) {
    const row: number[] = []
    for (const raw of rowText.split(',')) {
      const part = raw.trim()
      const m = /^(\d+)(?:\s*-\s*(\d+))?$/.exec(part)
      if (!m) return err('BAD_LAYOUT', `"${part}" is not an id or a range like 1-40`)
      const from = Number(m[1])
      const to = m[2] === undefined ? from : Number(m[2])
      const step = to >= from ? 1 : -1
      for (let id = from; id !== to + step; id += step) {
        if (!known.has(id)) return err('BAD_LAYOUT', `bay ${id} is not in HUB_MACHINES`)
        if (seen.has(id)) return err('BAD_LAYOUT', `bay ${id} appears twice`)
        seen.add(id)
        row.push(id)
      }
    }
    rows.push(row)
  }
  // Bays left out of the layout are each their own row: bookable alone, never grouped.
  for (const id of machines) if (!seen.has(id)) rows.push([id])
  return ok(rows)
}
