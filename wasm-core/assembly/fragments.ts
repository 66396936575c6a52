// Bounded IP defragmentation, for IPv4 (RFC 791 section 3.2) and for the
// IPv6 fragment header (RFC 8200 section 4.5). A fixed pool of datagrams in
// progress, each with its own 64 KiB data area and a capped list of received
// ranges. Overlapping fragments keep the bytes that arrived first (the
// overlap is counted, since it is a known evasion trick).

import { countAnomaly, CoreAnomaly } from "./counters";
import { count, CoreCounter } from "./stats";
import { insertRange, rangeListBytes, rangeCount, rangeStart, rangeEnd, clearRanges, RANGE_LIMIT, RANGE_OVERLAP } from "./ranges";

// Datagrams reassembled at the same time; the oldest is dropped for a new one.
@inline export const MAX_DATAGRAMS_IN_PROGRESS: u32 = 32;
// Disjoint ranges held per datagram; a 64 KiB datagram in 1480-byte
// fragments arriving in any order needs at most 23.
@inline export const MAX_FRAGMENT_RANGES: u32 = 48;
// Largest reassembled payload: the IPv4 total length field is 16 bits, and
// IPv6 fragment offsets plus lengths stay within the same bound.
@inline export const MAX_DATAGRAM_BYTES: u32 = 65535;
// Fragments of a datagram that did not complete within this many seconds of
// packet time are dropped (RFC 791 suggests 15 s, Linux uses 30 s).
@inline export const FRAGMENT_TIMEOUT_SEC: u32 = 30;

//   context: | in use (1) | ip version (1) | protocol (1) | last seen (1) |
//            | identification (4) | payload length (4) | first seen sec (4) |
//            | src (16) | dst (16) | padding (16) | range list | data |
@inline const CTX_IN_USE: usize = 0;
@inline const CTX_VERSION: usize = 1;
@inline const CTX_PROTOCOL: usize = 2;
@inline const CTX_HAVE_LAST: usize = 3;
@inline const CTX_ID: usize = 4;
@inline const CTX_TOTAL: usize = 8;
@inline const CTX_FIRST_SEC: usize = 12;
@inline const CTX_SRC: usize = 16;
@inline const CTX_DST: usize = 32;
@inline const CTX_RANGES: usize = 64;

let pool: usize = 0;
let contextBytes: usize = 0;
let dataOffset: usize = 0;

// Length of the datagram returned by the last completing `addFragment`.
export let reassembledLength: u32 = 0;
// Protocol (IPv4) or next header (IPv6) of the reassembled payload.
export let reassembledProtocol: u8 = 0;

export function initFragments(): void {
  if (pool != 0) return;
  dataOffset = (CTX_RANGES + <usize>rangeListBytes(MAX_FRAGMENT_RANGES) + 7) & ~(<usize>7);
  contextBytes = (dataOffset + <usize>MAX_DATAGRAM_BYTES + 7) & ~(<usize>7);
  // Fresh memory from the stub runtime is zero, so every context starts
  // free without a fill, and a context becomes resident only when a
  // fragment first uses it.
  pool = heap.alloc(contextBytes * <usize>MAX_DATAGRAMS_IN_PROGRESS);
}

@inline function context(i: u32): usize { return pool + contextBytes * <usize>i; }

function sameKey(ctx: usize, version: u8, src: usize, dst: usize, id: u32): bool {
  return load<u8>(ctx, CTX_VERSION) == version && load<u32>(ctx, CTX_ID) == id &&
    memory.compare(ctx + CTX_SRC, src, 16) == 0 && memory.compare(ctx + CTX_DST, dst, 16) == 0;
}

// Finds the datagram for this key, or claims a free (or the oldest) context.
// Datagrams past FRAGMENT_TIMEOUT_SEC are released on the way.
function findContext(version: u8, src: usize, dst: usize, id: u32, nowSec: u32): usize {
  let free: usize = 0;
  let oldest: usize = 0;
  for (let i: u32 = 0; i < MAX_DATAGRAMS_IN_PROGRESS; i++) {
    const ctx = context(i);
    if (load<u8>(ctx, CTX_IN_USE) != 0) {
      // Expiry comes first: a late fragment with the key of a timed-out
      // datagram starts a new one.
      const first = load<u32>(ctx, CTX_FIRST_SEC);
      if (nowSec > first && nowSec - first > FRAGMENT_TIMEOUT_SEC) {
        countAnomaly(CoreAnomaly.IP_FRAGMENT_TIMEOUT);
        store<u8>(ctx, 0, CTX_IN_USE);
      } else {
        if (sameKey(ctx, version, src, dst, id)) return ctx;
        if (oldest == 0 || first < load<u32>(oldest, CTX_FIRST_SEC)) oldest = ctx;
        continue;
      }
    }
    if (free == 0) free = ctx;
  }

  let ctx = free;
  if (ctx == 0) {
    countAnomaly(CoreAnomaly.IP_FRAGMENT_LIMIT);
    ctx = oldest;
  }

  store<u8>(ctx, 1, CTX_IN_USE);
  store<u8>(ctx, version, CTX_VERSION);
  store<u8>(ctx, 0, CTX_PROTOCOL);
  store<u8>(ctx, 0, CTX_HAVE_LAST);
  store<u32>(ctx, id, CTX_ID);
  store<u32>(ctx, 0, CTX_TOTAL);
  store<u32>(ctx, nowSec, CTX_FIRST_SEC);
  memory.copy(ctx + CTX_SRC, src, 16);
  memory.copy(ctx + CTX_DST, dst, 16);
  clearRanges(ctx + CTX_RANGES);
  return ctx;
}

// Adds one fragment: `offset` is its byte offset in the payload, `more` the
// more-fragments flag. Returns the address of the complete payload
// (`reassembledLength` bytes, valid until the next call) or 0 while
// fragments are missing or the fragment was dropped.
export function addFragment(
  version: u8, src: usize, dst: usize, id: u32, protocol: u8,
  offset: u32, more: bool, ptr: usize, length: u32, nowSec: u32,
): usize {
  count(CoreCounter.IP_FRAGMENTS);
  if (pool == 0) return 0;
  const end = <u64>offset + <u64>length;
  if (end > <u64>MAX_DATAGRAM_BYTES) {
    countAnomaly(CoreAnomaly.IP_FRAGMENT_TOO_LARGE);
    return 0;
  }
  const ctx = findContext(version, src, dst, id, nowSec);
  const ranges = ctx + CTX_RANGES;
  const haveLast = load<u8>(ctx, CTX_HAVE_LAST) != 0;
  const total = load<u32>(ctx, CTX_TOTAL);
  // RFC 8200 section 4.5: fragments past the end given by the last
  // fragment, or a second differing last fragment, make the datagram invalid.
  if ((haveLast && (<u32>end > total || (!more && <u32>end != total))) ||
      (!more && rangeCount(ranges) > 0 && <u32>end < rangeEnd(ranges, rangeCount(ranges) - 1))) {
    countAnomaly(CoreAnomaly.IP_FRAGMENT_OVERLAP);
    store<u8>(ctx, 0, CTX_IN_USE);
    return 0;
  }
  const result = insertRange(ranges, MAX_FRAGMENT_RANGES, ctx + dataOffset, offset, <u32>end, ptr);
  if (result & RANGE_LIMIT) {
    countAnomaly(CoreAnomaly.IP_FRAGMENT_LIMIT);
    store<u8>(ctx, 0, CTX_IN_USE);
    return 0;
  }
  if (result & RANGE_OVERLAP) countAnomaly(CoreAnomaly.IP_FRAGMENT_OVERLAP);
  if (offset == 0) store<u8>(ctx, protocol, CTX_PROTOCOL);
  if (!more) {
    store<u8>(ctx, 1, CTX_HAVE_LAST);
    store<u32>(ctx, <u32>end, CTX_TOTAL);
  }
  if (load<u8>(ctx, CTX_HAVE_LAST) == 0) return 0;
  const length0 = load<u32>(ctx, CTX_TOTAL);
  if (rangeCount(ranges) != 1 || rangeStart(ranges, 0) != 0 || rangeEnd(ranges, 0) != length0) return 0;

  store<u8>(ctx, 0, CTX_IN_USE);
  count(CoreCounter.IP_REASSEMBLED);
  reassembledLength = length0;
  reassembledProtocol = load<u8>(ctx, CTX_PROTOCOL);
  return ctx + dataOffset;
}

// Drops every datagram in progress (end of input).
export function clearFragments(): void {
  if (pool == 0) return;
  for (let i: u32 = 0; i < MAX_DATAGRAMS_IN_PROGRESS; i++) store<u8>(context(i), 0, CTX_IN_USE);
}
