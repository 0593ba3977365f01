/**
 * CSV documents (issue 13 "Must show"): what the hub writes, read back by a real CSV parser
 * (csv-parse), equals the data — quotes, commas, CR/LF, non-ASCII — and opens safely in a spreadsheet.
 */
import t from 'tap'
import { parse } from 'csv-parse/sync'
import { BOM, csvCell, csvDocument, csvRecord, type CsvColumn } from '../../src/reports/csv.js'

async function text(chunks: AsyncIterable<string>): Promise<string> {
  let out = ''
  for await (const c of chunks) out += c
  return out
}

const NASTY = [
  'plain',
  'Zoë Müller-Łukasiewicz 北京 🏌️',
  'comma, inside',
  'quote " inside and "at end"',
  '"starts with a quote',
  'line\nbreak',
  'crlf\r\nbreak and lone\rcr',
  '',
  ' padded ',
  'semi;colon\ttab',
]

t.test('RFC 4180 escaping: only fields that need it are quoted, quotes doubled, records end with CRLF', async (t) => {
  t.equal(csvCell('plain'), 'plain')
  t.equal(csvCell('a,b'), '"a,b"')
  t.equal(csvCell('say "hi"'), '"say ""hi"""')
  t.equal(csvCell('a\nb'), '"a\nb"')
  t.equal(csvCell('a\rb'), '"a\rb"')
  t.equal(csvCell(null), '')
  t.equal(csvCell(undefined), '')
  t.equal(csvCell(12.5), '12.5')
  t.equal(csvCell(-3), '-3', 'numbers the hub writes stay numbers, even negative')
  t.equal(csvCell(Number.NaN), '')
  t.equal(csvRecord(['a', 1, null, 'x,y']), 'a,1,,"x,y"\r\n')
})

t.test('formula injection: text starting with = + - @ tab or CR is prefixed with an apostrophe', async (t) => {
  t.equal(csvCell('=HYPERLINK("http://evil","click")'), `"'=HYPERLINK(""http://evil"",""click"")"`)
  t.equal(csvCell('+1 555'), "'+1 555")
  t.equal(csvCell('-2+3'), "'-2+3")
  t.equal(csvCell('@SUM(A1)'), "'@SUM(A1)")
  t.equal(csvCell('\t=1'), "'\t=1")
  t.equal(csvCell('\r=1'), `"'\r=1"`)
  t.equal(csvCell('a=b'), 'a=b', 'only a leading sign is a formula')
})

t.test('a document parsed back by csv-parse equals the data', async (t) => {
  interface Row { id: number; name: string; note: string | null }
  const rows: Row[] = NASTY.map((name, i) => ({ id: i + 1, name, note: i % 3 === 0 ? null : `${name} / ${i}` }))
  const columns: CsvColumn<Row>[] = [
    { header: 'id', value: (r) => r.id },
    { header: 'name, full', value: (r) => r.name },
    { header: 'note', value: (r) => r.note },
  ]
  async function* stream() {
    for (const r of rows) yield r
  }
  const doc = await text(csvDocument(columns, stream()))
  t.ok(doc.startsWith(BOM + 'id,"name, full",note\r\n'), 'BOM, then the header row')
  const buf = Buffer.from(doc, 'utf8')
  t.same([...buf.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'UTF-8 BOM bytes')
  const parsed: string[][] = parse(buf, { bom: true, relax_column_count: false })
  t.same(parsed[0], ['id', 'name, full', 'note'])
  t.same(
    parsed.slice(1),
    rows.map((r) => [String(r.id), r.name, r.note ?? '']),
    'every field round-trips: quotes, commas, CR, LF, CRLF, non-ASCII, empty',
  )
  // and the strict RFC reading: every record ends with CRLF, the last one too
  t.ok(doc.endsWith('\r\n'))
})

t.test('a long document comes out in bounded chunks (streamed, not built whole)', async (t) => {
  const columns: CsvColumn<number>[] = [{ header: 'n', value: (n) => n }, { header: 'text', value: (n) => `row ${n}, "quoted"` }]
  function* many() {
    for (let i = 0; i < 50_000; i++) yield i
  }
  let chunks = 0
  let biggest = 0
  let all = ''
  for await (const c of csvDocument(columns, many())) {
    chunks++
    biggest = Math.max(biggest, c.length)
    all += c
  }
  t.ok(chunks > 10, `${chunks} chunks`)
  t.ok(biggest < 70 * 1024, `largest chunk ${biggest} chars`)
  const parsed: string[][] = parse(all, { bom: true, from_line: 2 })
  t.equal(parsed.length, 50_000)
  t.same(parsed[49_999], ['49999', 'row 49999, "quoted"'])
})
