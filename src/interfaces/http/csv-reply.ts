/**
 * Sends a CSV document as a stream (issue 13 exports; payments.csv and any later export use the
 * same helper): `text/csv; charset=utf-8`, a Content-Disposition filename, no caching (the rows
 * hold customer data). The chunks are pulled only as fast as the client reads (Readable.from
 * honours back-pressure), so a year's export costs one chunk of memory, not the whole file.
 * At most `MAX_CONCURRENT_EXPORTS` run at once: each is seconds of CPU on a Pi that also runs the bays.
 */
import { Readable } from 'node:stream'
import type { FastifyReply } from 'fastify'
import { Type } from 'typebox'
import { HttpError } from './errors.js'

export const MAX_CONCURRENT_EXPORTS = 2
let running = 0

/** The OpenAPI description of a CSV answer. */
export const CsvBody = Type.String({ description: 'text/csv; charset=utf-8: a UTF-8 BOM, a header row, then one CRLF-terminated record per row (RFC 4180)' })

/** `sessions_2026-11-01_2026-11-30.csv`: ASCII only, so the header needs no encoding. */
export function csvFilename(kind: string, fromDate: string, toDate: string): string {
  return `${kind}_${fromDate}_${toDate}.csv`.replace(/[^A-Za-z0-9._-]/g, '_')
}

/** Call from a non-async handler that returns nothing (the reply is sent here). */
export function sendCsv(reply: FastifyReply, filename: string, chunks: AsyncIterable<string>): void {
  if (running >= MAX_CONCURRENT_EXPORTS) {
    reply.header('retry-after', '5')
    throw new HttpError(429, 'EXPORT_BUSY', `${MAX_CONCURRENT_EXPORTS} exports are running; try again when one has finished`)
  }
  running++
  const stream = Readable.from(chunks, { objectMode: false })
  let released = false
  const release = () => {
    if (!released) {
      released = true
      running--
    }
  }
  stream.once('close', release)
  reply.raw.once('close', release)
  void reply
    .type('text/csv; charset=utf-8')
    .header('content-disposition', `attachment; filename="${filename}"`)
    .header('cache-control', 'no-store')
    .send(stream)
}
