/**
 * The bridge against a real mosquitto as the central broker (the suite is test/helpers/bridge-suite.ts, also
 * run against RabbitMQ): a password per site and an ACL pattern confining each site's login to
 * sites/<its username>/#, persistence on so the central consumer's session survives a restart.
 */
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createMosquitto, hasMosquitto } from '../helpers/mosquitto.js'
import { accounts, bridgeSuite } from '../helpers/bridge-suite.js'

t.test('bridge to a real mosquitto with store-and-forward', { skip: hasMosquitto ? false : 'mosquitto is not installed (.ci/run installs it)' }, async (t) => {
  // Not t.testdir(): the hub takes that one.
  const dir = mkdtempSync(join(tmpdir(), 'bridge-mosquitto-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const mosquitto = await createMosquitto(dir, {
    users: [accounts.venue1, accounts.venue2, accounts.central],
    // %u: the login's username, which is the site id; the central login only reads
    acl: 'pattern write sites/%u/#\n\nuser central\ntopic read sites/#\n',
    probe: accounts.central,
  })
  await mosquitto.start()
  t.teardown(() => mosquitto.stop())
  await bridgeSuite(t, { url: mosquitto.url, start: () => mosquitto.start(), stop: () => mosquitto.stop(), grantedQos2: 2, refusedPublish: 'acknowledged and dropped', refusedSubscribe: 'granted, nothing delivered' })
})
