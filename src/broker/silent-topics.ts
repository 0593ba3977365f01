/**
 * Topics the hub publishes on that no one would receive (issue 17). Every machine change, session
 * change, alert and relayed Confirmation goes to internal/admin (DESIGN §4), about five publishes
 * per bay in a changeover, each a full trip through Aedes (packet, offline-queue lookup, routing,
 * 'publish' event): with no admin node subscribed, more of the hub's CPU than the controls
 * themselves. A message on a topic without a subscriber (live, or a persistent session's while
 * it is offline) and without a hub-side observer is dropped by MQTT anyway, so it can be dropped
 * before Aedes: nobody can tell the difference. Retained messages always go through.
 *
 * A topic is known silent only after a check found no subscriber of any kind, and only until the
 * subscriptions may have changed (a subscribe, unsubscribe, connect or disconnect, an observer
 * added): then every topic is published again and checked anew. Pure bookkeeping; the lookups
 * are the broker's (index.ts).
 */

export interface SilentTopicsDeps {
  /** a live subscription matches `topic`; undefined when the broker cannot tell (then nothing is dropped) */
  live(topic: string): boolean | undefined
  /** a stored (persistent-session) subscription matches `topic` */
  stored(topic: string): Promise<boolean>
  /** a hub-side observer (BrokerPort.onPublish) matches `topic` */
  observed(topic: string): boolean
}

export interface SilentTopics {
  /** true: a hub publish on `topic` reaches no one now */
  isSilent(topic: string): boolean
  /** a publish on `topic` went through: find out (once, until subscriptions change) whether it reached anyone */
  learn(topic: string): void
  /** the subscriptions may have changed */
  changed(): void
}

/** Topics remembered between changes; the hub publishes on a bounded set (machines, nodes), this bounds it anyway. */
const MAX_TOPICS = 10_000

export function createSilentTopics(deps: SilentTopicsDeps): SilentTopics {
  const silent = new Set<string>()
  const checked = new Set<string>()
  let generation = 0

  return {
    isSilent: (topic) => silent.has(topic),
    learn(topic) {
      if (checked.has(topic)) return
      if (checked.size >= MAX_TOPICS) {
        checked.clear()
        silent.clear()
      }
      checked.add(topic)
      const asked = generation
      deps.stored(topic).then(
        (stored) => {
          // A change while the lookup ran may have added a subscriber the lookup did not see.
          if (asked !== generation || stored || deps.live(topic) !== false || deps.observed(topic)) return
          silent.add(topic)
        },
        () => undefined, // unknown: keep publishing
      )
    },
    changed() {
      generation++
      silent.clear()
      checked.clear()
    },
  }
}
