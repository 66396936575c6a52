// Preloaded with `node --require` by measure.ts: when the process exits it
// writes one JSON line to stderr with its memory use and run time, including
// the size of the linear memory of every WebAssembly instance it created.
// Under qemu-user the resident figures are those of the emulator process,
// which include qemu's own translation buffers.
"use strict";

const memories = [];
const originalInstantiate = WebAssembly.instantiate;

function recordMemories(instance) {
  for (const value of Object.values(instance.exports)) {
    if (value instanceof WebAssembly.Memory) memories.push(value);
  }
}

// Records the exported memories of each instance. Called with bytes it
// resolves to { module, instance }, and called with a module it resolves to
// the instance.
WebAssembly.instantiate = async function instantiateAndRecord(...args) {
  const result = await originalInstantiate.apply(this, args);
  recordMemories(result instanceof WebAssembly.Instance ? result : result.instance);
  return result;
};

// The agent instantiates the core synchronously (`new WebAssembly.Instance`
// in agent/src/core/core.ts), so the constructor is recorded as well.
WebAssembly.Instance = new Proxy(WebAssembly.Instance, {
  construct(target, args, newTarget) {
    const instance = Reflect.construct(target, args, newTarget);
    recordMemories(instance);
    return instance;
  },
});

process.on("exit", () => {
  const memory = process.memoryUsage();
  const usage = {
    rssBytes: memory.rss,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    heapUsedBytes: memory.heapUsed,
    arrayBuffersBytes: memory.arrayBuffers,
    wasmMemoryBytes: memories.reduce((total, entry) => total + entry.buffer.byteLength, 0),
    uptimeMs: Math.round(process.uptime() * 1000),
  };
  process.stderr.write(`${JSON.stringify({ fieldsenseUsage: usage })}\n`);
});
