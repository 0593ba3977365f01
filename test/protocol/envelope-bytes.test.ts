/**
 * envelopeBytes (issue 17): a cached reply's bytes with the envelope appended is the same JSON
 * as envelope() of the parsed body, for empty and full bodies, with and without echo fields.
 */
import t from 'tap'
import { JsonBytes } from '../../src/broker/port.js'
import { envelope, envelopeBytes } from '../../src/protocol/envelope.js'

t.test('envelopeBytes equals envelope() of the parsed body', async (t) => {
  const bodies: object[] = [{}, { date: '2026-06-01', runs: [[[0, 12, 2, 811]]], reasons: ['closed: mowing "north"'] }, { a: 'ü€' }]
  const echoes = [{}, { request_id: 7 }, { exchange_id: 9, request_id: 0 }]
  for (const body of bodies) {
    for (const echo of echoes) {
      const bytes = envelopeBytes(Buffer.from(JSON.stringify(body)), 'schedule_manager', 'kiosk_interface', 1_780_000_000.25, echo)
      t.same(JSON.parse(bytes.toString('utf8')), envelope(body, 'schedule_manager', 'kiosk_interface', 1_780_000_000.25, echo), `${JSON.stringify(body).slice(0, 30)} ${JSON.stringify(echo)}`)
    }
  }
})

t.test('JsonBytes: sent as its bytes, and a port that stringifies objects still gets the same JSON', async (t) => {
  const bytes = Buffer.from('{"date":"2026-06-01","slots":288}')
  const payload = new JsonBytes(bytes)
  t.equal(payload.bytes, bytes)
  t.equal(JSON.stringify(payload), bytes.toString())
})
