/** The payments module's refusals (issue 12); the HTTP door maps each to a status (errors.ts). */
export type PaymentsErrorCode =
  | 'PRICES_INVALID' // a price table that cannot be used; field named
  | 'PAYMENT_INVALID' // a payment that cannot be recorded; field named, nothing marked paid
  | 'PAYMENT_UNKNOWN' // a callback for a payment id this hub never asked for
  | 'PAYMENT_UNAVAILABLE' // no terminal configured, or the gateway did not take the request
  | 'PAYMENT_REQUIRED'
  | 'SESSION_NOT_FOUND'
  | 'SESSION_ENDED'
  | 'SESSION_FORBIDDEN'
