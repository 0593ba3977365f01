// Preloaded into the hub process by the fuzzer only (NODE_OPTIONS="--expose-gc --require ..."):
// SIGUSR2 runs a full garbage collection, so RSS is compared on memory the hub still holds, not on
// how far V8 happened to let its heap grow under the attack's allocation rate.
process.on('SIGUSR2', () => {
  if (typeof globalThis.gc === 'function') {
    globalThis.gc()
    globalThis.gc()
  }
  process.stderr.write(`fuzz-memory ${JSON.stringify(process.memoryUsage())}\n`)
})
