// How the kiosk takes payment (issue 12). The hub books a priced kiosk booking `held`: its bays
// are kept for HUB_HOLD_MINUTES while the golfer pays, and the dispenser turns on only once the
// hub has recorded the payment. A PaymentProvider is a small object:
//
//   name: string                               shown on the confirm screen
//   describe(order, quote): string             what the customer is told before confirming
//   start(api, session): Promise<session|null> after the booking: ask for the money (a terminal request)
//   waiting(session): string                   what the pay screen says while the hub waits
//
// order = { bays, minutes, machine_id: number[], start_time, end_time }; quote = { amount, currency } | undefined

/** 1200 EUR minor units -> "€12.00" in the page's locale. */
export function formatMoney(m) {
  if (!m) return ''
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency: m.currency }).format(m.amount / 100)
  } catch {
    return `${(m.amount / 100).toFixed(2)} ${m.currency}`
  }
}

const what = (order) => `${order.bays} ${order.bays === 1 ? 'bay' : 'bays'} for ${order.minutes} minutes`

/** Card at the payment terminal beside the kiosk: the hub asks the gateway, the golfer taps. */
export const payAtTerminal = {
  name: 'Card at the terminal',
  describe: (order, quote) => `${what(order)}${quote ? `: ${formatMoney(quote)}` : ''}. Pay by card at the terminal; your bays are held while you pay.`,
  start: (api, session) => api.post(`/api/sessions/${session.session_id}/payment/terminal`, {}),
  waiting: () => 'Tap your card on the terminal',
}

/** Staff take the money at the counter and mark the booking paid on the admin page. */
export const payAtCounter = {
  name: 'Pay at the counter',
  describe: (order, quote) => `${what(order)}${quote ? `: ${formatMoney(quote)}` : ''}. Please pay at the counter; your bays are held while you pay.`,
  async start() {
    return null
  },
  waiting: (session) => `Please pay at the counter: booking #${session.session_id}`,
}

/** The providers this hub offers (GET /api/payment-options), terminal first. */
export function providersFor(options) {
  return options?.terminal ? [payAtTerminal, payAtCounter] : [payAtCounter]
}
