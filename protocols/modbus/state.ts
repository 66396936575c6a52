// Per-flow Modbus state in a zeroed area of MODBUS_STATE_BYTES that the core
// takes from the Modbus state pool (modbusStatePool): framing status per
// direction and a bounded table of pending requests for request/response
// matching by transaction id.
//
//   offset  size  field
//        0     1  flags (bit 0: stream rejected, bit 1: found by content and
//                 not yet confirmed by a matching response, bit 2: confirmed)
//        1     2  resynchronising, one byte per direction (0 to server, 1 to client)
//        3     2  reserved
//        5     1  reserved
//        6     2  pending requests in use
//        8     8  bytes skipped while resynchronising, u32 per direction
//       16     4  insertion counter of the pending table (never 0 once used)
//       20     4  pending extension: address of EXTENSION_ENTRIES more entries, 0 when none
//       24     4  hold area: address of the requests kept until a flow found by
//                 content is confirmed (an area of the extension pool), 0 when none
//       28     2  bytes used in the hold area
//       30     2  reserved
//       32    24  pending requests: INLINE_ENTRIES entries of PENDING_ENTRY_BYTES
//
// A polling master waits for each response before it sends the next request,
// so the INLINE_ENTRIES entry in the flow's own area covers it. A flow that
// pipelines more requests takes a pending extension from a module pool of
// EXTENSION_POOL_SLOTS, which gives it PENDING_CAPACITY entries in all until
// the flow closes. When the pool is empty the flow keeps INLINE_ENTRIES, and
// a request beyond them evicts the oldest (modbus.pending_overflow).
//
// Pending entry:
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +---------------------------------------------------------------+
//   |       sequence (insertion order; 0 marks a free entry)        |  0
//   +---------------------------------------------------------------+
//   |                ts_sec of the request                          |  4
//   +---------------------------------------------------------------+
//   |                ts_nsec of the request                         |  8
//   +-------------------------------+---------------+---------------+
//   |        transaction id         | function code |    unit id    | 12
//   +-------------------------------+---------------+---------------+
//   |         start address         |           quantity            | 16
//   +---------------+---------------+---------------+---------------+
//   |  has address  | UMAS function |   has UMAS    |   reserved    | 20
//   +---------------+---------------+---------------+---------------+

import { freeOrOldest, nextStamp, tableEvicted } from "../slot-table";
import { addSkipped, clearSkipped, resyncing, setResyncing } from "../resync";
import { AreaPool, initAreaPool } from "../../wasm-core/assembly/area-pool";
import { flowCapacity } from "../../wasm-core/assembly/flows";

@inline const FLAGS: usize = 0;
@inline const RESYNCING: usize = 1;
@inline const PENDING_COUNT: usize = 6;
@inline const RESYNC_SKIPPED: usize = 8;
@inline const SEQUENCE_COUNTER: usize = 16;
@inline const EXTENSION: usize = 20;
@inline const HOLD_AREA: usize = 24;
@inline const HOLD_USED: usize = 28;
@inline const PENDING_TABLE: usize = 32;

@inline const FLAG_REJECTED: u8 = 1;
@inline const FLAG_UNCONFIRMED: u8 = 2;
@inline const FLAG_CONFIRMED: u8 = 4;

// Requests awaiting a response per flow with a pending extension. NOTE: 64
// is an estimate that leaves room for bursts of pipelined requests. On
// overflow the oldest entry gives way.
@inline export const PENDING_CAPACITY: u32 = 64;
@inline export const PENDING_ENTRY_BYTES: u32 = 24;
// Entries inside the flow's own state area. Every Modbus flow has this area,
// so each inline entry costs PENDING_ENTRY_BYTES per flow of the flow table,
// while only a flow that pipelines requests needs a second entry.
@inline export const INLINE_ENTRIES: u32 = 1;
@inline const EXTENSION_ENTRIES: u32 = PENDING_CAPACITY - INLINE_ENTRIES;
@inline const EXTENSION_BYTES: u32 = EXTENSION_ENTRIES * PENDING_ENTRY_BYTES;
// Bytes of a hold area, one area of the extension pool.
@inline export const HOLD_AREA_BYTES: u32 = EXTENSION_BYTES;
// Flows that may pipeline more than INLINE_ENTRIES requests at the same
// time. NOTE: 2048 is a choice (3 MiB of static memory, resident only when
// used), not a figure from a specification.
@inline const EXTENSION_POOL_SLOTS: u32 = 2048;

// Bytes of the per-flow state area: 32 + 1 * 24 = 56.
@inline export const MODBUS_STATE_BYTES: u32 = <u32>PENDING_TABLE + INLINE_ENTRIES * PENDING_ENTRY_BYTES;

// The state areas of Modbus flows, one per flow of the flow table. Modbus has
// a pool of its own, apart from the small class of protocols/api.ts (128
// bytes an area), because a plant network can hold a Modbus flow for every
// flow the table has room for.
const statePool = changetype<AreaPool>(memory.data(offsetof<AreaPool>()));

// Returns the Modbus state pool, allocated on the first call, after the flow
// table is configured. Nothing is written then (area-pool.ts), so an area
// becomes resident when a flow first takes it.
export function modbusStatePool(): AreaPool {
  if (statePool.areas == 0) initAreaPool(statePool, flowCapacity(), <usize>MODBUS_STATE_BYTES);
  return statePool;
}

// The extension pool: EXTENSION_POOL_SLOTS areas, handed out in order the
// first time and then from a stack of released areas.
const extensionPool = memory.data(<i32>(EXTENSION_POOL_SLOTS * EXTENSION_BYTES));
const extensionFree = memory.data(<i32>(EXTENSION_POOL_SLOTS * 4));
let extensionsNeverUsed: u32 = EXTENSION_POOL_SLOTS;
let extensionFreeCount: u32 = 0;

// Returns a zeroed extension area, or 0 when every area is in use.
function acquireExtension(): usize {
  let area: usize = 0;
  if (extensionFreeCount > 0) {
    extensionFreeCount--;
    area = <usize>load<u32>(extensionFree + (<usize>extensionFreeCount << 2));
  } else if (extensionsNeverUsed > 0) {
    extensionsNeverUsed--;
    area = extensionPool + <usize>extensionsNeverUsed * <usize>EXTENSION_BYTES;
  } else {
    return 0;
  }
  memory.fill(area, 0, <usize>EXTENSION_BYTES);
  return area;
}

function releaseExtension(area: usize): void {
  store<u32>(extensionFree + (<usize>extensionFreeCount << 2), <u32>area);
  extensionFreeCount++;
}

// Gives the flow's pending extension and hold area back to the pool; the
// flow is closing.
export function releasePendingExtension(state: usize): void {
  const area = <usize>load<u32>(state + EXTENSION);
  if (area != 0) {
    store<u32>(state + EXTENSION, 0);
    releaseExtension(area);
  }
  releaseHoldArea(state);
}

// The hold area keeps the requests of a flow found by content until a
// response confirms it. Returns its address, taking one from the extension
// pool on first use, or 0 when the pool is empty.
export function holdArea(state: usize): usize {
  let area = <usize>load<u32>(state + HOLD_AREA);
  if (area == 0) {
    area = acquireExtension();
    store<u32>(state + HOLD_AREA, <u32>area);
  }
  return area;
}

// Returns the hold area's address without taking one, or 0.
export function heldArea(state: usize): usize { return <usize>load<u32>(state + HOLD_AREA); }

export function holdUsed(state: usize): u32 { return <u32>load<u16>(state + HOLD_USED); }
export function setHoldUsed(state: usize, used: u32): void { store<u16>(state + HOLD_USED, <u16>used); }

export function releaseHoldArea(state: usize): void {
  const area = <usize>load<u32>(state + HOLD_AREA);
  if (area == 0) return;
  store<u32>(state + HOLD_AREA, 0);
  store<u16>(state + HOLD_USED, 0);
  releaseExtension(area);
}

export function isRejected(state: usize): bool {
  return (load<u8>(state + FLAGS) & FLAG_REJECTED) != 0;
}

export function markRejected(state: usize): void {
  store<u8>(state + FLAGS, load<u8>(state + FLAGS) | FLAG_REJECTED);
}

// A flow that no port named Modbus stays unconfirmed until a response
// matches one of its requests.
export function isUnconfirmed(state: usize): bool {
  return (load<u8>(state + FLAGS) & FLAG_UNCONFIRMED) != 0;
}

// True once the flow was looked at: confirmed, or marked unconfirmed.
export function isClassified(state: usize): bool {
  return (load<u8>(state + FLAGS) & (FLAG_UNCONFIRMED | FLAG_CONFIRMED)) != 0;
}

export function markUnconfirmed(state: usize): void {
  store<u8>(state + FLAGS, load<u8>(state + FLAGS) | FLAG_UNCONFIRMED);
}

export function markConfirmed(state: usize): void {
  store<u8>(state + FLAGS, (load<u8>(state + FLAGS) & ~FLAG_UNCONFIRMED) | FLAG_CONFIRMED);
}

export function isResyncing(state: usize, toServer: bool): bool {
  return resyncing(state + RESYNCING, toServer);
}

export function startResync(state: usize, toServer: bool): void {
  setResyncing(state + RESYNCING, toServer, true);
  clearSkipped(state + RESYNC_SKIPPED, toServer);
}

export function endResync(state: usize, toServer: bool): void {
  setResyncing(state + RESYNCING, toServer, false);
}

// Adds `count` to the bytes skipped in the current resynchronisation and
// returns the new total.
export function addResyncSkipped(state: usize, toServer: bool, count: u32): u32 {
  return addSkipped(state + RESYNC_SKIPPED, toServer, count);
}

export function pendingCount(state: usize): u32 {
  return <u32>load<u16>(state + PENDING_COUNT);
}

export function pendingTransactionId(entry: usize): u16 { return load<u16>(entry, 12); }
export function pendingFunctionCode(entry: usize): u8 { return load<u8>(entry, 14); }
export function pendingHasAddress(entry: usize): bool { return load<u8>(entry, 20) != 0; }
export function pendingStartAddress(entry: usize): u16 { return load<u16>(entry, 16); }
export function pendingQuantity(entry: usize): u16 { return load<u16>(entry, 18); }
export function pendingTsSec(entry: usize): u32 { return load<u32>(entry, 4); }
export function pendingTsNsec(entry: usize): u32 { return load<u32>(entry, 8); }
// UMAS function code of a pending FC90 request, or -1.
export function pendingUmasFunction(entry: usize): i32 { return load<u8>(entry, 22) != 0 ? <i32>load<u8>(entry, 21) : -1; }

// Returns the pending entry with this transaction id and unit id, or 0.
// TCP §4.2 lets a client have several transactions outstanding, and a
// gateway answers for many unit ids, so both identify the request.
// addPending replaces a pending request with the same pair, so at most one
// entry matches. The scan stops once it has passed every entry in use, so
// the request of a polling master, whose table is empty, costs no scan.
export function findPending(state: usize, transactionId: u16, unitId: u8): usize {
  let inUse = pendingCount(state);
  if (inUse == 0) return 0;
  const key = <u32>transactionId | (<u32>unitId << 24);
  const inlineEntries = state + PENDING_TABLE;
  for (let i: u32 = 0; i < INLINE_ENTRIES; i++) {
    const entry = inlineEntries + <usize>(i * PENDING_ENTRY_BYTES);
    if (load<u32>(entry) == 0) continue;
    if (matchesKey(entry, key)) return entry;
    if (--inUse == 0) return 0;
  }
  const extension = <usize>load<u32>(state + EXTENSION);
  if (extension == 0) return 0;
  for (let i: u32 = 0; i < EXTENSION_ENTRIES; i++) {
    const entry = extension + <usize>(i * PENDING_ENTRY_BYTES);
    if (load<u32>(entry) == 0) continue;
    if (matchesKey(entry, key)) return entry;
    if (--inUse == 0) return 0;
  }
  return 0;
}

// True when the entry's transaction id (offset 12) and unit id (offset 15)
// equal `key`'s low 16 and high 8 bits. The function code between them is
// masked out.
@inline function matchesKey(entry: usize, key: u32): bool {
  return (load<u32>(entry, 12) & 0xff00ffff) == key;
}

export function releasePending(state: usize, entry: usize): void {
  store<u32>(entry, 0);
  store<u16>(state + PENDING_COUNT, load<u16>(state + PENDING_COUNT) - 1);
}

// Result of addPending besides the entry itself.
export namespace AddPendingResult {
  @inline export const ADDED: u8 = 0;
  @inline export const REPLACED_DUPLICATE: u8 = 1;
  @inline export const EVICTED_OLDEST: u8 = 2;
}

// Stores a request and returns an AddPendingResult. A pending request with
// the same transaction id and unit id is replaced, because its response could no longer
// be matched to one of the two. When the table is full the oldest request is evicted.
export function addPending(
  state: usize, transactionId: u16, functionCode: u8, unitId: u8,
  hasAddress: bool, startAddress: u16, quantity: u16, umasFunction: i32, tsSec: u32, tsNsec: u32,
): u8 {
  let target = findPending(state, transactionId, unitId);
  let result = AddPendingResult.REPLACED_DUPLICATE;
  if (target == 0) {
    target = freeOrOldestEntry(state);
    if (load<u32>(target) != 0) {
      result = AddPendingResult.EVICTED_OLDEST;
    } else {
      result = AddPendingResult.ADDED;
      store<u16>(state + PENDING_COUNT, load<u16>(state + PENDING_COUNT) + 1);
    }
  }
  store<u32>(target, nextSequence(state));
  store<u32>(target, tsSec, 4);
  store<u32>(target, tsNsec, 8);
  store<u16>(target, transactionId, 12);
  store<u8>(target, functionCode, 14);
  store<u8>(target, unitId, 15);
  store<u16>(target, startAddress, 16);
  store<u16>(target, quantity, 18);
  store<u8>(target, hasAddress ? 1 : 0, 20);
  store<u8>(target, umasFunction >= 0 ? <u8>umasFunction : 0, 21);
  store<u8>(target, umasFunction >= 0 ? 1 : 0, 22);
  return result;
}

// Returns the first free entry, inline before the extension, or else the
// oldest entry. A flow whose inline entries are all in use takes an
// extension from the pool when one is left.
function freeOrOldestEntry(state: usize): usize {
  const inlineEntry = freeOrOldest(state + PENDING_TABLE, INLINE_ENTRIES, PENDING_ENTRY_BYTES, 0);
  if (!tableEvicted) return inlineEntry;
  const extension = <usize>load<u32>(state + EXTENSION);
  if (extension == 0) {
    const area = acquireExtension();
    if (area == 0) return inlineEntry;
    store<u32>(state + EXTENSION, <u32>area);
    return area;
  }
  const extensionEntry = freeOrOldest(extension, EXTENSION_ENTRIES, PENDING_ENTRY_BYTES, 0);
  if (!tableEvicted) return extensionEntry;
  return load<u32>(extensionEntry) - load<u32>(inlineEntry) > 0x80000000 ? extensionEntry : inlineEntry;
}

// Returns the next insertion number, starting at 1 so that 0 marks a free
// entry. Eviction compares insertion numbers modulo 2^32, so it stays oldest
// first across the counter's wrap.
@inline function nextSequence(state: usize): u32 {
  return nextStamp(state + SEQUENCE_COUNTER);
}
