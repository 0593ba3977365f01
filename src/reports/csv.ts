/**
 * CSV documents (issue 13 exports; reused by every `GET /api/export/*.csv`). PURE: text in, text
 * out. RFC 4180: fields separated by commas, records by CRLF, a field holding a comma, a quote,
 * CR or LF is quoted and its quotes doubled. The document is produced lazily in chunks, so a
 * year of sessions streams to the client without being in memory at once.
 */

/** A cell: text is escaped (and guarded against formulas); numbers are written as they are; null/undefined = empty. */
export type CsvValue = string | number | boolean | null | undefined

export interface CsvColumn<T> {
  header: string
  value: (row: T) => CsvValue
}

/**
 * UTF-8 byte order mark. Spreadsheet programs (Excel above all) read a CSV without it in the
 * legacy local code page, so "Zoë" or "Müller" arrive as mojibake; with it they detect UTF-8.
 * CSV parsers skip it (csv-parse `bom: true`, Python's `utf-8-sig`).
 */
export const BOM = '\uFEFF'

/**
 * Text that a spreadsheet would run as a formula (=, +, - and @ start one; tab and CR too, per
 * OWASP "CSV Injection") gets a leading apostrophe, so a customer named `=HYPERLINK(...)` stays
 * text. Only text is guarded: numbers the hub writes itself (a negative amount) stay numbers.
 */
const FORMULA_START = /^[=+\-@\t\r]/

export function csvCell(value: CsvValue): string {
  if (value === null || value === undefined) return ''
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : ''
  if (typeof value === 'boolean') return value ? 'true' : 'false'
  const text = FORMULA_START.test(value) ? `'${value}` : value
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

export function csvRecord(values: readonly CsvValue[]): string {
  return values.map(csvCell).join(',') + '\r\n'
}

/** Bytes of text gathered before a chunk goes out: few writes, little memory. */
const CHUNK_CHARS = 64 * 1024

/**
 * BOM + header record at once (the download starts before the first row is read: a year's export
 * shows progress at once), then the rows in chunks of about 64 KiB.
 */
export async function* csvDocument<T>(columns: readonly CsvColumn<T>[], rows: AsyncIterable<T> | Iterable<T>): AsyncGenerator<string> {
  yield BOM + csvRecord(columns.map((c) => c.header))
  let chunk = ''
  for await (const row of rows) {
    chunk += csvRecord(columns.map((c) => c.value(row)))
    if (chunk.length >= CHUNK_CHARS) {
      yield chunk
      chunk = ''
    }
  }
  if (chunk) yield chunk
}
