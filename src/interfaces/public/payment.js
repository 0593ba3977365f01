// How the kiosk takes payment. A PaymentProvider is a small object:
//
//   name: string                        shown on the confirm screen
//   describe(order): string             what the customer is told before confirming
//   authorize(order): Promise<{ ok: true, reference } | { ok: false, message }>
//                                        runs BEFORE the booking (a card terminal would reserve the amount)
//   capture(reference, session): Promise<void>   after the hub confirmed the booking
//   release(reference): Promise<void>             when the booking failed: give the money back
//
// order = { bays, minutes, machine_id: number[], start_time, end_time }
// The default takes no money at the kiosk: the customer pays at the counter.

export const payAtCounter = {
  name: 'Pay at the counter',
  describe: (order) => `Please pay at the counter before you start: ${order.bays} ${order.bays === 1 ? 'bay' : 'bays'} for ${order.minutes} minutes.`,
  async authorize() {
    return { ok: true, reference: null }
  },
  async capture() {},
  async release() {},
}
