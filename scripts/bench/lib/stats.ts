export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

export const mib = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10

/** Prints rows of figures with a ratio column for every numeric pair (second / first). */
export function printComparison(title: string, labels: [string, string], rows: Array<[string, number, number]>): void {
  console.log(`\n${title}`)
  console.log(`${'figure'.padEnd(44)}${labels[0].padStart(14)}${labels[1].padStart(14)}${'ratio'.padStart(10)}`)
  for (const [figure, a, b] of rows) {
    const ratio = a === 0 ? '-' : (b / a).toFixed(2)
    console.log(`${figure.padEnd(44)}${fmt(a).padStart(14)}${fmt(b).padStart(14)}${ratio.padStart(10)}`)
  }
}

const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1))
