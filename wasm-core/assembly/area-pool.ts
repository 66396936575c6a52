// A fixed pool of equal areas carved from one allocation: the per-flow
// dissector state areas (dispatch.ts, protocols/modbus/state.ts) and the
// stream buffers (stream.ts).
//
// Nothing is written when the pool is set up, so no area becomes resident
// before it is used. Areas never used yet are handed out in address order. A
// released area goes on a free list, chained through its own first four
// bytes, and is handed out again before any area never used.

@unmanaged export class AreaPool {
  areas: usize = 0;
  areaBytes: usize = 0;
  slots: u32 = 0;
  neverUsed: u32 = 0;
  freeList: usize = 0;
  freeCount: u32 = 0;
}

// Allocates `slots` areas of `areaBytes` each. `areaBytes` must be a multiple
// of 4 and at least 4, because a released area holds a free list link.
export function initAreaPool(pool: AreaPool, slots: u32, areaBytes: usize): void {
  pool.areaBytes = areaBytes;
  pool.areas = heap.alloc(<usize>slots * areaBytes);
  pool.slots = slots;
  pool.neverUsed = slots;
  pool.freeList = 0;
  pool.freeCount = 0;
}

// Returns an area, or 0 when every area is in use. An area handed out again
// keeps the bytes of its last user except the first four, so callers clear
// what they read.
export function acquireArea(pool: AreaPool): usize {
  const released = pool.freeList;
  if (released != 0) {
    pool.freeList = <usize>load<u32>(released);
    pool.freeCount--;
    return released;
  }
  if (pool.neverUsed == 0) return 0;
  const area = pool.areas + <usize>(pool.slots - pool.neverUsed) * pool.areaBytes;
  pool.neverUsed--;
  return area;
}

export function releaseArea(pool: AreaPool, area: usize): void {
  store<u32>(area, <u32>pool.freeList);
  pool.freeList = area;
  pool.freeCount++;
}

// Areas that `acquireArea` can still hand out.
export function areasAvailable(pool: AreaPool): u32 {
  return pool.freeCount + pool.neverUsed;
}
