// A fixed pool of equal areas carved from one allocation: the per-flow
// dissector state areas (dispatch.ts) and the stream buffers (stream.ts).
//
// Nothing is written when the pool is set up, so neither the areas nor the
// stack of released areas become resident before they are used. Areas never
// used yet are handed out in address order. A released area goes on a stack
// and is handed out again before any area never used.

@unmanaged export class AreaPool {
  areas: usize = 0;
  areaBytes: usize = 0;
  slots: u32 = 0;
  neverUsed: u32 = 0;
  freeStack: usize = 0;
  freeCount: u32 = 0;
}

// Allocates `slots` areas of `areaBytes` each, and the stack of released areas.
export function initAreaPool(pool: AreaPool, slots: u32, areaBytes: usize): void {
  pool.areaBytes = areaBytes;
  pool.areas = heap.alloc(<usize>slots * areaBytes);
  pool.freeStack = heap.alloc(<usize>slots * 4);
  pool.slots = slots;
  pool.neverUsed = slots;
  pool.freeCount = 0;
}

// Returns an area, or 0 when every area is in use. An area handed out again
// keeps the bytes of its last user: callers clear what they read.
export function acquireArea(pool: AreaPool): usize {
  if (pool.freeCount > 0) {
    pool.freeCount--;
    return <usize>load<u32>(pool.freeStack + (<usize>pool.freeCount << 2));
  }
  if (pool.neverUsed == 0) return 0;
  const area = pool.areas + <usize>(pool.slots - pool.neverUsed) * pool.areaBytes;
  pool.neverUsed--;
  return area;
}

export function releaseArea(pool: AreaPool, area: usize): void {
  store<u32>(pool.freeStack + (<usize>pool.freeCount << 2), <u32>area);
  pool.freeCount++;
}

// Areas that `acquireArea` can still hand out.
export function areasAvailable(pool: AreaPool): u32 {
  return pool.freeCount + pool.neverUsed;
}
