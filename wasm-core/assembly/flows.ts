// The TCP flow table. A fixed pool of flow entries is indexed by a hash on
// the 5-tuple that finds a flow from packets of either direction. A least
// recently used list orders the flows for eviction when the pool is full and
// for idle expiry.
//
// Entries are addressed by pointer, and 0 means none. Every entry is
// allocated once by `initFlows`.

import { count, uncount, CoreCounter } from "./stats";

//   flow entry (FLOW_BYTES):
//   | hash next (4) | lru prev (4) | lru next (4) | flow id (4) |
//   | last sec (4) | last nsec (4) | ip version (1) | protocol (1) | flags (1) | probes (1) |
//   | originator port (2) | responder port (2) | originator address (16) | responder address (16) |
//   | dissector state (4) | direction 0 (12) | direction 1 (12) |
//   | direction flags (1 per direction) | first TTL (1 per direction) |
//
// The table has an entry for every flow, so each byte costs maxFlows
// bytes: the tuple's hash is computed again where it is needed instead of
// being stored.
@inline const F_HASH_NEXT: usize = 0;
@inline const F_LRU_PREV: usize = 4;
@inline const F_LRU_NEXT: usize = 8;
@inline const F_ID: usize = 12;
@inline const F_LAST_SEC: usize = 16;
@inline const F_LAST_NSEC: usize = 20;
@inline const F_IP_VERSION: usize = 24;
@inline const F_PROTOCOL: usize = 25;
@inline const F_FLAGS: usize = 26;
@inline const F_PROBES: usize = 27;
@inline const F_SRC_PORT: usize = 28;
@inline const F_DST_PORT: usize = 30;
@inline export const F_SRC: usize = 32;
@inline export const F_DST: usize = 48;
@inline const F_APP_STATE: usize = 64;
@inline const F_DIRECTIONS: usize = 68;
@inline const DIRECTION_BYTES: usize = 12;
@inline const F_DIRECTION_FLAGS: usize = 92;
@inline const F_FIRST_TTLS: usize = 94;
@inline const FLOW_BYTES: usize = 96;

// Per-direction state: direction 0 is originator to responder.
//   | base seq (4): sequence number of the first byte not yet consumed |
//   | stream buffer (4): held bytes, 0 when none |
//   | fin seq (4): sequence number after the FIN |
@inline const D_BASE_SEQ: usize = 0;
@inline const D_BUFFER: usize = 4;
@inline const D_FIN_SEQ: usize = 8;

@inline export const DIRECTION_SEQ_KNOWN: u8 = 1;
@inline export const DIRECTION_FIN: u8 = 2;
// The direction's stream buffer contains bytes not yet offered to the
// dissector, because its delivery paused for event room (stream.ts).
@inline export const DIRECTION_PAUSED: u8 = 4;
// The direction's first TTL (IPv6 hop limit) is stored.
@inline export const DIRECTION_TTL_KNOWN: u8 = 8;

@inline export const FLOW_IN_USE: u8 = 1;
// No dissector applies, or the dissector rejected the stream: segments only
// keep the flow alive.
@inline export const FLOW_UNDISSECTED: u8 = 2;

let pool: usize = 0;
let capacity: u32 = 0;
let used: u32 = 0;
let freeList: usize = 0;     // chained through F_HASH_NEXT
let buckets: usize = 0;
let bucketMask: u32 = 0;
let lruHead: usize = 0;      // most recently used
let lruTail: usize = 0;
let nextFlowId: u32 = 1;

// Set by `findFlow`: the packet travels originator to responder.
export let foundToServer: bool = false;

// The pool and the buckets come from fresh linear memory, which is zero, and
// are not filled here: a page of the flow table becomes resident only when a
// flow first uses it. Entries never used yet are taken in order
// (`neverUsed`), released ones from the free list.
let neverUsed: u32 = 0;

export function initFlows(maxFlows: u32): void {
  if (pool != 0) return;
  capacity = maxFlows;
  pool = heap.alloc(<usize>maxFlows * FLOW_BYTES);
  neverUsed = maxFlows;
  // At least two buckets per flow keeps chains short.
  let bucketCount: u32 = 16;
  while (bucketCount < maxFlows * 2 && bucketCount < (1 << 30)) bucketCount <<= 1;
  bucketMask = bucketCount - 1;
  buckets = heap.alloc(<usize>bucketCount * 4);
}

@inline function mix(h: u32, v: u32): u32 {
  h ^= v;
  h *= 0x01000193;   // FNV-1a prime, applied per 32-bit word
  return h ^ (h >> 15);
}

function hashEndpoint(address: usize, port: u16): u32 {
  let h: u32 = 0x811c9dc5;
  h = mix(h, load<u32>(address));
  h = mix(h, load<u32>(address, 4));
  h = mix(h, load<u32>(address, 8));
  h = mix(h, load<u32>(address, 12));
  return mix(h, <u32>port);
}

// Symmetric in the two endpoints, so both directions land in one bucket.
function hashTuple(version: u8, a: usize, aPort: u16, b: usize, bPort: u16): u32 {
  const h = hashEndpoint(a, aPort) ^ hashEndpoint(b, bPort);
  return mix(h, <u32>version);
}

// Finds the flow of a packet from `src`:`srcPort` to `dst`:`dstPort` in
// either direction; sets `foundToServer`. Returns 0 when there is none.
export function findFlow(version: u8, src: usize, srcPort: u16, dst: usize, dstPort: u16): usize {
  const hash = hashTuple(version, src, srcPort, dst, dstPort);
  let flow = <usize>load<u32>(buckets + (<usize>(hash & bucketMask) << 2));
  while (flow != 0) {
    if (load<u8>(flow + F_IP_VERSION) == version) {
      const fs = load<u16>(flow + F_SRC_PORT);
      const fd = load<u16>(flow + F_DST_PORT);
      if (fs == srcPort && fd == dstPort &&
          memory.compare(flow + F_SRC, src, 16) == 0 && memory.compare(flow + F_DST, dst, 16) == 0) {
        foundToServer = true;
        return flow;
      }
      if (fs == dstPort && fd == srcPort &&
          memory.compare(flow + F_SRC, dst, 16) == 0 && memory.compare(flow + F_DST, src, 16) == 0) {
        foundToServer = false;
        return flow;
      }
    }
    flow = <usize>load<u32>(flow + F_HASH_NEXT);
  }
  return 0;
}

export function flowTableFull(): bool { return used >= capacity; }
export function flowCapacity(): u32 { return capacity; }
export function leastRecentlyUsedFlow(): usize { return lruTail; }
export function activeFlows(): u32 { return used; }

// Takes a free entry for a flow from `originator` to `responder`. The caller
// makes room first (flowTableFull, then closes the least recently used).
export function createFlow(
  version: u8, originator: usize, originatorPort: u16, responder: usize, responderPort: u16,
): usize {
  let flow = freeList;
  if (flow != 0) {
    freeList = <usize>load<u32>(flow + F_HASH_NEXT);
  } else if (neverUsed > 0) {
    flow = pool + <usize>(capacity - neverUsed) * FLOW_BYTES;
    neverUsed--;
  } else {
    return 0;
  }
  memory.fill(flow, 0, FLOW_BYTES);
  const hash = hashTuple(version, originator, originatorPort, responder, responderPort);
  store<u32>(flow + F_ID, nextFlowId);
  nextFlowId++;
  if (nextFlowId == 0) nextFlowId = 1;
  store<u8>(flow + F_IP_VERSION, version);
  store<u8>(flow + F_FLAGS, FLOW_IN_USE);
  store<u16>(flow + F_SRC_PORT, originatorPort);
  store<u16>(flow + F_DST_PORT, responderPort);
  memory.copy(flow + F_SRC, originator, 16);
  memory.copy(flow + F_DST, responder, 16);

  const bucket = buckets + (<usize>(hash & bucketMask) << 2);
  store<u32>(flow + F_HASH_NEXT, load<u32>(bucket));
  store<u32>(bucket, <u32>flow);
  linkAtHead(flow);
  used++;
  count(CoreCounter.FLOWS_CREATED);
  count(CoreCounter.FLOWS_ACTIVE);
  return flow;
}

// Unlinks a flow from the hash and the LRU list and returns it to the pool.
// The caller has closed its dissector and released its buffers.
export function releaseFlow(flow: usize): void {
  if ((load<u8>(flow + F_FLAGS) & FLOW_IN_USE) == 0) return;
  const hash = hashTuple(
    load<u8>(flow + F_IP_VERSION), flow + F_SRC, load<u16>(flow + F_SRC_PORT), flow + F_DST, load<u16>(flow + F_DST_PORT),
  );
  let link = buckets + (<usize>(hash & bucketMask) << 2);
  // Walk the chain by the address of each `next` link so removal is one store.
  while (load<u32>(link) != 0) {
    const candidate = <usize>load<u32>(link);
    if (candidate == flow) {
      store<u32>(link, load<u32>(flow + F_HASH_NEXT));
      break;
    }
    link = candidate + F_HASH_NEXT;
  }
  unlinkLru(flow);
  store<u8>(flow + F_FLAGS, 0);
  store<u32>(flow + F_HASH_NEXT, <u32>freeList);
  freeList = flow;
  used--;
  uncount(CoreCounter.FLOWS_ACTIVE);
}

function linkAtHead(flow: usize): void {
  store<u32>(flow + F_LRU_PREV, 0);
  store<u32>(flow + F_LRU_NEXT, <u32>lruHead);
  if (lruHead != 0) store<u32>(lruHead + F_LRU_PREV, <u32>flow);
  lruHead = flow;
  if (lruTail == 0) lruTail = flow;
}

function unlinkLru(flow: usize): void {
  const prev = <usize>load<u32>(flow + F_LRU_PREV);
  const next = <usize>load<u32>(flow + F_LRU_NEXT);
  if (prev != 0) store<u32>(prev + F_LRU_NEXT, <u32>next);
  else lruHead = next;
  if (next != 0) store<u32>(next + F_LRU_PREV, <u32>prev);
  else lruTail = prev;
}

// Marks the flow as just used at packet time `sec`.`nsec`.
export function touchFlow(flow: usize, sec: u32, nsec: u32): void {
  store<u32>(flow + F_LAST_SEC, sec);
  store<u32>(flow + F_LAST_NSEC, nsec);
  if (lruHead != flow) {
    unlinkLru(flow);
    linkAtHead(flow);
  }
}

@inline export function flowId(flow: usize): u32 { return load<u32>(flow + F_ID); }
@inline export function flowLastSec(flow: usize): u32 { return load<u32>(flow + F_LAST_SEC); }
@inline export function flowLastNsec(flow: usize): u32 { return load<u32>(flow + F_LAST_NSEC); }
@inline export function flowIpVersion(flow: usize): u8 { return load<u8>(flow + F_IP_VERSION); }
@inline export function flowProtocol(flow: usize): u8 { return load<u8>(flow + F_PROTOCOL); }
@inline export function setFlowProtocol(flow: usize, protocol: u8): void { store<u8>(flow + F_PROTOCOL, protocol); }
@inline export function flowFlags(flow: usize): u8 { return load<u8>(flow + F_FLAGS); }
@inline export function setFlowFlag(flow: usize, flag: u8): void { store<u8>(flow + F_FLAGS, load<u8>(flow + F_FLAGS) | flag); }
@inline export function flowProbes(flow: usize): u8 { return load<u8>(flow + F_PROBES); }
@inline export function setFlowProbes(flow: usize, probes: u8): void { store<u8>(flow + F_PROBES, probes); }
@inline export function flowSrcPort(flow: usize): u16 { return load<u16>(flow + F_SRC_PORT); }
@inline export function flowDstPort(flow: usize): u16 { return load<u16>(flow + F_DST_PORT); }
@inline export function flowAppState(flow: usize): usize { return <usize>load<u32>(flow + F_APP_STATE); }
@inline export function setFlowAppState(flow: usize, state: usize): void { store<u32>(flow + F_APP_STATE, <u32>state); }

@inline function direction(flow: usize, d: u32): usize { return flow + F_DIRECTIONS + <usize>d * DIRECTION_BYTES; }
@inline export function baseSeq(flow: usize, d: u32): u32 { return load<u32>(direction(flow, d) + D_BASE_SEQ); }
@inline export function setBaseSeq(flow: usize, d: u32, seq: u32): void { store<u32>(direction(flow, d) + D_BASE_SEQ, seq); }
@inline export function streamBuffer(flow: usize, d: u32): usize { return <usize>load<u32>(direction(flow, d) + D_BUFFER); }
@inline export function setStreamBuffer(flow: usize, d: u32, buffer: usize): void { store<u32>(direction(flow, d) + D_BUFFER, <u32>buffer); }
@inline export function finSeq(flow: usize, d: u32): u32 { return load<u32>(direction(flow, d) + D_FIN_SEQ); }
@inline export function setFinSeq(flow: usize, d: u32, seq: u32): void { store<u32>(direction(flow, d) + D_FIN_SEQ, seq); }
@inline function directionFlagsAt(flow: usize, d: u32): usize { return flow + F_DIRECTION_FLAGS + <usize>d; }
@inline export function directionFlags(flow: usize, d: u32): u8 { return load<u8>(directionFlagsAt(flow, d)); }
@inline export function setDirectionFlag(flow: usize, d: u32, flag: u8): void {
  store<u8>(directionFlagsAt(flow, d), load<u8>(directionFlagsAt(flow, d)) | flag);
}
@inline export function directionFirstTtl(flow: usize, d: u32): u8 { return load<u8>(flow + F_FIRST_TTLS + <usize>d); }
@inline export function setDirectionFirstTtl(flow: usize, d: u32, ttl: u8): void { store<u8>(flow + F_FIRST_TTLS + <usize>d, ttl); }
@inline export function clearDirectionFlag(flow: usize, d: u32, flag: u8): void {
  store<u8>(directionFlagsAt(flow, d), load<u8>(directionFlagsAt(flow, d)) & ~flag);
}
