import type { PriceTable } from '../../src/protocol/payments.js'

const ALL = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const

/** 12.00 EUR an hour until 17:00, 18.00 after; covered bay 5 at 15.00 all day. */
export const TABLE: PriceTable = {
  currency: 'EUR',
  bands: [
    { days: [...ALL], from: '00:00', to: '17:00', per_hour: 1200 },
    { days: [...ALL], from: '17:00', to: '24:00', per_hour: 1800 },
    { days: [...ALL], from: '00:00', to: '24:00', per_hour: 1500, class: 'covered' },
  ],
  bay_classes: { '5': 'covered' },
}

/** 12.00 EUR an hour at every hour of every day: for tests on the real clock, whose price must not depend on when they run. */
export const FLAT_TABLE: PriceTable = {
  currency: 'EUR',
  bands: [{ days: [...ALL], from: '00:00', to: '24:00', per_hour: 1200 }],
}
