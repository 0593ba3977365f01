export * from './topics.js'
export * from './messages.js'
export * from './codec.js'
export * from './events.js'
