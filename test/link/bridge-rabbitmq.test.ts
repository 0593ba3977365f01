/**
 * The bridge against RabbitMQ's MQTT plugin (Debian rabbitmq-server 3.10: MQTT 3.1.1, QoS 0/1),
 * a clustered engine, as the central broker: the same suite as mosquitto (test/helpers/bridge-suite.ts). The
 * test starts its own node (test/helpers/rabbitmq.ts) with a vhost `sites`, a login per site whose
 * topic permission is `^sites\.{username}\.` (RabbitMQ turns the MQTT `/` into `.`), a central
 * login that reads `sites.#`, and persistent MQTT sessions as quorum queues.
 */
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRabbitNode, hasRabbitMq, type RabbitUser } from '../helpers/rabbitmq.js'
import { accounts, bridgeSuite } from '../helpers/bridge-suite.js'

const site = (login: { username: string; password: string }): RabbitUser => ({
  ...login,
  // a site only publishes (the bridge opens no queue): write on the MQTT exchange, nothing else
  configure: '^$',
  write: '^amq\\.topic$',
  read: '^$',
  topicWrite: '^sites\\.{username}\\.',
  topicRead: '^$',
})

// ~25 s on an idle 2-core machine; each Erlang boot slows several-fold when the machine is busy
// (65 s seen at load average 14), so this file gets more than the suite's 120 s default
t.setTimeout(240_000)

t.test('bridge to RabbitMQ (MQTT plugin) with store-and-forward', { skip: hasRabbitMq ? false : 'rabbitmq-server is not installed (.ci/run installs it)' }, async (t) => {
  const began = Date.now()
  // Not t.testdir(): the hub takes that one.
  const dir = mkdtempSync(join(tmpdir(), 'bridge-rabbitmq-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const rabbit = await createRabbitNode(dir, {
    vhost: 'sites',
    users: [
      site(accounts.venue1),
      site(accounts.venue2),
      // the central consumer: its own subscription queues, reads every site, publishes nothing
      { ...accounts.central, configure: '^mqtt-subscription-central', write: '^(amq\\.topic|mqtt-subscription-central.*)$', read: '^(amq\\.topic|mqtt-subscription-central.*)$', topicWrite: '^$', topicRead: '^sites\\.' },
    ],
    probe: accounts.central,
    startTimeoutMs: 90_000,
  })
  t.teardown(() => rabbit.close())
  await rabbit.start()
  await bridgeSuite(t, { url: rabbit.mqttUrl, start: () => rabbit.start(), stop: () => rabbit.stop(), grantedQos2: 1, refusedPublish: 'connection closed', refusedSubscribe: 'connection closed' })
  t.comment(`RabbitMQ boot (spawn to first MQTT login): first ${rabbit.bootMs[0]} ms, restart ${rabbit.bootMs[1]} ms; whole test ${Date.now() - began} ms`)
})
