// Per-flow DNP3 state: framing status per direction, transport reassembly
// slots and a bounded table of requests awaiting a response. It lives in a
// zeroed area of DNP3_STATE_BYTES from the core's large state pool
// (wasm-core/assembly/dispatch.ts), or from the UDP conversation table of dnp3.ts.
//
//   offset  size  field
//        0     1  flags (bit 0: stream rejected)
//        1     2  resynchronising, one byte per direction (0 to server, 1 to client)
//        4     8  bytes skipped while resynchronising, u32 per direction
//       12     8  frames dropped since the last record, u32 per direction
//       20     4  clock for slot and pending ages (never 0 once used)
//       24     8  reserved
//       32   192  pending requests: PENDING_MAX entries of PENDING_ENTRY_BYTES
//      224  8256  reassembly slots: SLOT_COUNT slots of SLOT_BYTES
//
// Pending entry (24 bytes): u8 used | u8 application sequence | u8 function
// code | u8 reserved | u16 master address | u16 outstation address | u32
// ts_sec | u32 ts_nsec | u32 age (0 when free) | u32 reserved.
//
// Reassembly slot (16 + FRAGMENT_MAX_BYTES): u8 used | u8 direction | u8
// last transport sequence | u8 status (bit 0 overflowed, bit 1 discarding)
// | u16 source | u16 destination | u16 length | u16 segments | u32 age (0
// when free) | fragment bytes.

import { freeOrOldest, nextStamp, tableEvicted } from "../slot-table";
import { addSkipped, clearSkipped, resyncing, setResyncing } from "../resync";

@inline const FLAGS: usize = 0;
@inline const RESYNCING: usize = 1;
@inline const RESYNC_SKIPPED: usize = 4;
@inline const DROPPED: usize = 12;
@inline const CLOCK: usize = 20;
@inline const PENDING_TABLE: usize = 32;
@inline const SLOTS: usize = 224;

@inline const FLAG_REJECTED: u8 = 1;

// Requests awaiting a response per flow. A master has one request
// outstanding per outstation, so 8 covers a master polling several
// outstations over one connection.
@inline export const PENDING_MAX: u32 = 8;
@inline const PENDING_ENTRY_BYTES: u32 = 24;

// Largest application fragment reassembled. NOTE: the standard lets each
// device choose its fragment size, and 2048 is the usual default of DNP3
// stacks, not a limit. Bytes past it are dropped and the fragment is
// dissected from its first FRAGMENT_MAX_BYTES, marked truncated.
@inline export const FRAGMENT_MAX_BYTES: u32 = 2048;
// Fragments reassembled at the same time per flow, keyed by direction and
// link address pair: four address pairs per connection.
@inline export const SLOT_COUNT: u32 = 4;
@inline const SLOT_HEADER_BYTES: u32 = 16;
@inline const SLOT_BYTES: u32 = SLOT_HEADER_BYTES + FRAGMENT_MAX_BYTES;

@inline export const DNP3_STATE_BYTES: u32 = <u32>SLOTS + SLOT_COUNT * SLOT_BYTES;

@inline function direction(toServer: bool): usize { return toServer ? 0 : 1; }

@inline function tick(state: usize): u32 { return nextStamp(state + CLOCK); }

export function isRejected(state: usize): bool { return (load<u8>(state + FLAGS) & FLAG_REJECTED) != 0; }
export function markRejected(state: usize): void { store<u8>(state + FLAGS, load<u8>(state + FLAGS) | FLAG_REJECTED); }
export function clearRejected(state: usize): void { store<u8>(state + FLAGS, load<u8>(state + FLAGS) & ~FLAG_REJECTED); }

export function isResyncing(state: usize, toServer: bool): bool {
  return resyncing(state + RESYNCING, toServer);
}

// The bytes skipped count on until a frame with a good header CRC clears
// them, so junk that repeats the start octets cannot reset the limit.
export function startResync(state: usize, toServer: bool): void {
  setResyncing(state + RESYNCING, toServer, true);
}

export function clearResyncSkipped(state: usize, toServer: bool): void {
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

export function addDroppedFrame(state: usize, toServer: bool): void {
  const p = state + DROPPED + (direction(toServer) << 2);
  store<u32>(p, load<u32>(p) + 1);
}

// Returns the frames dropped in this direction since the last call, and clears them.
export function takeDroppedFrames(state: usize, toServer: bool): u32 {
  const p = state + DROPPED + (direction(toServer) << 2);
  const n = load<u32>(p);
  store<u32>(p, 0);
  return n;
}

// ---------------------------------------------------------------------------
// Reassembly slots

@inline function slotAt(state: usize, i: u32): usize { return state + SLOTS + <usize>(i * SLOT_BYTES); }

export function slotData(slot: usize): usize { return slot + SLOT_HEADER_BYTES; }
export function slotLength(slot: usize): u32 { return <u32>load<u16>(slot, 8); }
export function slotSegments(slot: usize): u32 { return <u32>load<u16>(slot, 10); }
export function slotLastSequence(slot: usize): u8 { return load<u8>(slot, 2); }
export function slotOverflowed(slot: usize): bool { return (load<u8>(slot, 3) & 1) != 0; }
// A discarding slot follows the segments of a fragment that lost one, so
// that they are dropped quietly until its FIN or the next FIR.
export function slotDiscarding(slot: usize): bool { return (load<u8>(slot, 3) & 2) != 0; }
export function discardSlot(slot: usize, sequence: u8): void {
  store<u8>(slot, load<u8>(slot, 3) | 2, 3);
  store<u8>(slot, sequence, 2);
}
// Frees a slot: clears its used byte and its age, the stamp of slot-table.ts.
export function releaseSlot(slot: usize): void {
  store<u8>(slot, 0);
  store<u32>(slot, 0, 12);
}

// The slot reassembling a fragment from `source` to `destination` in this
// direction, or 0.
export function findSlot(state: usize, toServer: bool, source: u16, destination: u16): usize {
  for (let i: u32 = 0; i < SLOT_COUNT; i++) {
    const slot = slotAt(state, i);
    if (load<u8>(slot) == 0 || load<u8>(slot, 1) != <u8>direction(toServer)) continue;
    if (load<u16>(slot, 4) == source && load<u16>(slot, 6) == destination) return slot;
  }
  return 0;
}

// Starts a fragment in a free slot, or in the oldest one. Returns the slot
// and sets `evicted` when a fragment under way gave way.
export let evicted: bool = false;
export function openSlot(state: usize, toServer: bool, source: u16, destination: u16, sequence: u8): usize {
  const slot = freeOrOldest(state + SLOTS, SLOT_COUNT, SLOT_BYTES, 12);
  evicted = tableEvicted;
  store<u8>(slot, 1);
  store<u8>(slot, <u8>direction(toServer), 1);
  store<u8>(slot, sequence, 2);
  store<u8>(slot, 0, 3);
  store<u16>(slot, source, 4);
  store<u16>(slot, destination, 6);
  store<u16>(slot, 0, 8);
  store<u16>(slot, 0, 10);
  store<u32>(slot, tick(state), 12);
  return slot;
}

// Appends transport payload to a slot, up to FRAGMENT_MAX_BYTES. Returns
// false when bytes were dropped for the first time in this fragment.
export function appendToSlot(state: usize, slot: usize, sequence: u8, p: usize, length: u32): bool {
  const used = slotLength(slot);
  const room = FRAGMENT_MAX_BYTES - used;
  const n = length < room ? length : room;
  memory.copy(slotData(slot) + <usize>used, p, <usize>n);
  store<u16>(slot, <u16>(used + n), 8);
  store<u16>(slot, <u16>(slotSegments(slot) + 1), 10);
  store<u8>(slot, sequence, 2);
  store<u32>(slot, tick(state), 12);
  if (n == length || slotOverflowed(slot)) return true;
  store<u8>(slot, load<u8>(slot, 3) | 1, 3);
  return false;
}

// Releases the slots of one direction; returns how many held a fragment
// that was still being reassembled (not discarded already).
export function releaseSlots(state: usize, toServer: bool): u32 {
  let released: u32 = 0;
  for (let i: u32 = 0; i < SLOT_COUNT; i++) {
    const slot = slotAt(state, i);
    if (load<u8>(slot) == 0 || load<u8>(slot, 1) != <u8>direction(toServer)) continue;
    if (!slotDiscarding(slot)) released++;
    releaseSlot(slot);
  }
  return released;
}

// ---------------------------------------------------------------------------
// Pending requests

@inline function pendingAt(state: usize, i: u32): usize { return state + PENDING_TABLE + <usize>(i * PENDING_ENTRY_BYTES); }

export function pendingFunctionCode(entry: usize): u8 { return load<u8>(entry, 2); }
export function pendingTsSec(entry: usize): u32 { return load<u32>(entry, 8); }
export function pendingTsNsec(entry: usize): u32 { return load<u32>(entry, 12); }
// Frees an entry: clears its used byte and its age, the stamp of slot-table.ts.
export function releasePending(entry: usize): void {
  store<u8>(entry, 0);
  store<u32>(entry, 0, 16);
}

// The pending request with this sequence from `master` to `outstation`, or 0.
export function findPending(state: usize, sequence: u8, master: u16, outstation: u16): usize {
  for (let i: u32 = 0; i < PENDING_MAX; i++) {
    const e = pendingAt(state, i);
    if (load<u8>(e) == 0 || load<u8>(e, 1) != sequence) continue;
    if (load<u16>(e, 4) == master && load<u16>(e, 6) == outstation) return e;
  }
  return 0;
}

// Stores a request. A request with the same sequence and addresses replaces
// the earlier one (a retry). Returns true when the table was full and the
// oldest request gave way.
export function addPending(
  state: usize, sequence: u8, functionCode: u8, master: u16, outstation: u16, tsSec: u32, tsNsec: u32,
): bool {
  let e = findPending(state, sequence, master, outstation);
  let overflow = false;
  if (e == 0) {
    e = freeOrOldest(state + PENDING_TABLE, PENDING_MAX, PENDING_ENTRY_BYTES, 16);
    overflow = tableEvicted;
  }
  store<u8>(e, 1);
  store<u8>(e, sequence, 1);
  store<u8>(e, functionCode, 2);
  store<u16>(e, master, 4);
  store<u16>(e, outstation, 6);
  store<u32>(e, tsSec, 8);
  store<u32>(e, tsNsec, 12);
  store<u32>(e, tick(state), 16);
  return overflow;
}

export function pendingCount(state: usize): u32 {
  let n: u32 = 0;
  for (let i: u32 = 0; i < PENDING_MAX; i++) if (load<u8>(pendingAt(state, i)) != 0) n++;
  return n;
}
