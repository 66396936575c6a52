// Traffic baselines: what the core has seen, per device, per host pair and
// per host pair plus service, learned from every record the dissectors close.
//
// One table contains the three levels. An entry is keyed by its level, two
// 16-byte addresses and a 64-bit service hash:
//   LEVEL_DEVICE   address a, b all zero, service 0
//   LEVEL_PAIR     a = flow originator, b = flow responder, service 0
//   LEVEL_SERVICE  a, b as for a pair, service = serviceHash() of the record
//
// Entry, ENTRY_BYTES bytes, little-endian:
//     0 u8  used (1)          1 u8  level          2 u8 ring count
//     3 u8  next ring slot    4 u8  roles (ROLE_*) 5 u8 alerted (beaconing)
//     6 u16 unused
//     8 u64 service hash
//    16 address a (16)       32 address b (16)
//    48 u32 first seen (s)   52 u32 last seen (s)
//    56 u32 records          60 u32 distinct days seen
//    64 u32 last day seen (local days since the epoch, baseline-time.ts)
//    68 u32 occurrences      72 u32 last occurrence start (s)
//    76 u32 unused
//    80 u16 x 24 occurrences per local hour of the day (saturating)
//   128 u32 x RING_SLOTS start times of the last occurrences (s)
//   192 u16 x RING_SLOTS record bytes of those occurrences (saturating)
//
// Records closer than OCCURRENCE_GAP_SEC to the previous one of the same
// entry belong to the same occurrence: a scheduled job is a burst of records,
// and the hour profile and interval statistics count bursts, not records.
//
// Times are packet times, so replaying a capture learns what watching it live
// would. The table size is set by the host once (configureHistory); when a set
// is full the entry seen on the fewest days, then the least recently, is
// evicted and counted.

import { countAnomaly } from "./counters";
import { ModelAnomaly } from "./model-fields";
import { localDayOf, localHourOf } from "./baseline-time";
import { FNV32_OFFSET, FNV32_PRIME, fnv32 } from "./fnv";

@inline export const LEVEL_DEVICE: u8 = 1;
@inline export const LEVEL_PAIR: u8 = 2;
@inline export const LEVEL_SERVICE: u8 = 3;

// Roles a device entry has been seen in.
@inline export const ROLE_MODBUS_SERVER: u8 = 1;
@inline export const ROLE_MODBUS_CLIENT: u8 = 2;

@inline export const ENTRY_BYTES: u32 = 224;
@inline export const RING_SLOTS: u32 = 16;
@inline const WAYS: u32 = 8;
@inline export const OCCURRENCE_GAP_SEC: u32 = 30;

// Bounds on the configured entry count: a power of two, so that a hash picks
// a set with a mask.
@inline export const MIN_HISTORY_ENTRIES: u32 = 64;
@inline export const MAX_HISTORY_ENTRIES: u32 = 1 << 20;

// configureHistory results.
@inline export const HISTORY_OK: i32 = 0;
@inline export const HISTORY_INVALID_ENTRIES: i32 = -1;
@inline export const HISTORY_SIZE_FIXED: i32 = -2;

let table: usize = 0;
let entries: u32 = 0;

export function historyTable(): usize { return table; }
export function historyEntries(): u32 { return entries; }
export function historyBytes(): u32 { return entries * ENTRY_BYTES; }

// Allocates the table with `count` entries. The stub runtime never frees
// memory, so the first call fixes the size. A later call with the same size
// keeps what was learned, and another size is rejected.
export function configureHistory(count: u32): i32 {
  if (count < MIN_HISTORY_ENTRIES || count > MAX_HISTORY_ENTRIES || (count & (count - 1)) != 0) {
    return HISTORY_INVALID_ENTRIES;
  }
  if (table != 0) return count == entries ? HISTORY_OK : HISTORY_SIZE_FIXED;
  // Fresh memory from the stub runtime (which frees nothing) is zero, so
  // the table is not filled: its pages become resident as entries are used.
  table = heap.alloc(<usize>count * <usize>ENTRY_BYTES);
  entries = count;
  return HISTORY_OK;
}

// Forgets every entry and restarts the learning period.
export function resetHistory(): void {
  if (table != 0) memory.fill(table, 0, <usize>entries * <usize>ENTRY_BYTES);
  learningStartSec = 0;
}

// Learning period: it starts at the packet time of the first record learned
// and lasts `learningSeconds` of packet time. 0 disables it.
export let learningStartSec: u32 = 0;
export let learningSeconds: u32 = 0;

export function setLearningSeconds(seconds: u32): void { learningSeconds = seconds; }
export function setLearningStart(tsSec: u32): void { learningStartSec = tsSec; }

export function inLearningPeriod(tsSec: u32): bool {
  if (learningSeconds == 0) return false;
  if (learningStartSec == 0) return true;
  return tsSec < learningStartSec || tsSec - learningStartSec < learningSeconds;
}

// Zero address used as b of device entries.
const zeroAddress = memory.data(16);

@inline function sameAddress(x: usize, y: usize): bool {
  return load<u64>(x) == load<u64>(y) && load<u64>(x, 8) == load<u64>(y, 8);
}

function hashSet(level: u8, a: usize, b: usize, service: u64): usize {
  let hash = (FNV32_OFFSET ^ <u32>level) * FNV32_PRIME;
  hash = fnv32(hash, a, 16);
  hash = fnv32(hash, b, 16);
  hash = (hash ^ <u32>service ^ <u32>(service >> 32)) * FNV32_PRIME;
  return table + <usize>((hash & (entries / WAYS - 1)) * WAYS * ENTRY_BYTES);
}

// The record being scored (historyBeginRecord): its originator and responder
// addresses, its service hash, and the sets of its four keys (0: not hashed
// yet). The models look up the record's devices, pair and service, and
// historyObserve then learns the same keys, so each key is hashed once per
// record. The addresses are compared as pointers: they point into the
// record, which does not change until historyEndRecord.
let recordA: usize = 0;
let recordB: usize = 0;
let recordService: u64 = 0;
let setDeviceA: usize = 0;
let setDeviceB: usize = 0;
let setPair: usize = 0;
let setService: usize = 0;

export function historyBeginRecord(a: usize, b: usize, service: u64): void {
  recordA = a;
  recordB = b;
  recordService = service;
  setDeviceA = 0;
  setDeviceB = 0;
  setPair = 0;
  setService = 0;
}

export function historyEndRecord(): void {
  recordA = 0;
  recordB = 0;
}

function setOf(level: u8, a: usize, b: usize, service: u64): usize {
  if (recordA == 0) return hashSet(level, a, b, service);
  if (level == LEVEL_DEVICE && b == zeroAddress && service == 0) {
    if (a == recordA) {
      if (setDeviceA == 0) setDeviceA = hashSet(level, a, b, service);
      return setDeviceA;
    }
    if (a == recordB) {
      if (setDeviceB == 0) setDeviceB = hashSet(level, a, b, service);
      return setDeviceB;
    }
  } else if (a == recordA && b == recordB) {
    if (level == LEVEL_PAIR && service == 0) {
      if (setPair == 0) setPair = hashSet(level, a, b, service);
      return setPair;
    }
    if (level == LEVEL_SERVICE && service == recordService) {
      if (setService == 0) setService = hashSet(level, a, b, service);
      return setService;
    }
  }
  return hashSet(level, a, b, service);
}

@inline function matches(e: usize, level: u8, a: usize, b: usize, service: u64): bool {
  return load<u8>(e) != 0 && load<u8>(e, 1) == level && load<u64>(e, 8) == service &&
    sameAddress(e + 16, a) && sameAddress(e + 32, b);
}

// Finds an entry, or returns 0.
export function historyFind(level: u8, a: usize, b: usize, service: u64): usize {
  if (table == 0) return 0;
  const set = setOf(level, a, b, service);
  for (let way: u32 = 0; way < WAYS; way++) {
    const e = set + <usize>(way * ENTRY_BYTES);
    if (matches(e, level, a, b, service)) return e;
  }
  return 0;
}

export function deviceFind(address: usize): usize {
  return historyFind(LEVEL_DEVICE, address, zeroAddress, 0);
}

// True when `candidate` should be evicted before `current`: seen on fewer
// days, or on as many days but longer ago.
@inline function evictsBefore(candidate: usize, current: usize): bool {
  const days = load<u32>(candidate, 60);
  const currentDays = load<u32>(current, 60);
  if (days != currentDays) return days < currentDays;
  return load<u32>(candidate, 52) < load<u32>(current, 52);
}

function findOrCreate(level: u8, a: usize, b: usize, service: u64, tsSec: u32): usize {
  const set = setOf(level, a, b, service);
  let free: usize = 0;
  let victim: usize = 0;
  for (let way: u32 = 0; way < WAYS; way++) {
    const e = set + <usize>(way * ENTRY_BYTES);
    if (load<u8>(e) == 0) {
      if (free == 0) free = e;
      continue;
    }
    if (matches(e, level, a, b, service)) return e;
    if (victim == 0 || evictsBefore(e, victim)) victim = e;
  }
  let e = free;
  if (e == 0) {
    e = victim;
    countAnomaly(ModelAnomaly.HISTORY_EVICTED);
  }
  memory.fill(e, 0, <usize>ENTRY_BYTES);
  store<u8>(e, 1);
  store<u8>(e, level, 1);
  store<u64>(e, service, 8);
  memory.copy(e + 16, a, 16);
  memory.copy(e + 32, b, 16);
  store<u32>(e, tsSec, 48);
  return e;
}

// Inserts a copy of the entry at `source`, taken from a table of another
// size (a snapshot), into its set of this table. When the set is full the
// entry that evictsBefore the others, the copy included, is dropped. Returns
// false when something was dropped (counted as model.baseline_evicted).
export function historyReinsert(source: usize): bool {
  if (table == 0 || load<u8>(source) == 0) return true;
  const set = hashSet(load<u8>(source, 1), source + 16, source + 32, load<u64>(source, 8));
  let victim: usize = 0;
  for (let way: u32 = 0; way < WAYS; way++) {
    const e = set + <usize>(way * ENTRY_BYTES);
    if (load<u8>(e) == 0) {
      memory.copy(e, source, <usize>ENTRY_BYTES);
      return true;
    }
    if (victim == 0 || evictsBefore(e, victim)) victim = e;
  }
  countAnomaly(ModelAnomaly.HISTORY_EVICTED);
  if (!evictsBefore(source, victim)) memory.copy(victim, source, <usize>ENTRY_BYTES);
  return false;
}

@inline function saturatingU16(value: u32): u16 {
  return value > 0xffff ? 0xffff : <u16>value;
}

// Counts one record of `recordBytes` at `tsSec` in entry `e`.
function observeEntry(e: usize, tsSec: u32, recordBytes: u32): void {
  const records = load<u32>(e, 56);
  if (records != 0xffffffff) store<u32>(e, records + 1, 56);
  if (tsSec > load<u32>(e, 52)) store<u32>(e, tsSec, 52);
  if (tsSec < load<u32>(e, 48)) store<u32>(e, tsSec, 48);

  const day = localDayOf(tsSec);
  if (records == 0 || day > load<u32>(e, 64)) {
    store<u32>(e, load<u32>(e, 60) + 1, 60);
    store<u32>(e, day, 64);
  }

  // A record that steps back in time, or falls inside the current burst,
  // extends the current occurrence.
  const occurrences = load<u32>(e, 68);
  const lastStart = load<u32>(e, 72);
  if (occurrences != 0 && (tsSec < lastStart || tsSec - lastStart < OCCURRENCE_GAP_SEC)) return;

  store<u32>(e, occurrences + 1, 68);
  store<u32>(e, tsSec, 72);
  const hourSlot = e + 80 + <usize>(localHourOf(tsSec) << 1);
  store<u16>(hourSlot, saturatingU16(<u32>load<u16>(hourSlot) + 1));
  let next = <u32>load<u8>(e, 3);
  if (next >= RING_SLOTS) next = 0;
  store<u32>(e + 128 + (<usize>next << 2), tsSec);
  store<u16>(e + 192 + (<usize>next << 1), saturatingU16(recordBytes));
  store<u8>(e, <u8>((next + 1) % RING_SLOTS), 3);
  const stored = <u32>load<u8>(e, 2);
  if (stored < RING_SLOTS) store<u8>(e, <u8>(stored + 1), 2);
}

// Learns one record: the originator's and responder's device entries, their
// pair (unless `learnPair` is false) and their pair plus `service`.
// `roleOfA`/`roleOfB` add ROLE_* bits.
export function historyObserve(a: usize, b: usize, service: u64, tsSec: u32, recordBytes: u32, roleOfA: u8, roleOfB: u8, learnPair: bool = true): void {
  if (table == 0) return;
  if (learningStartSec == 0) learningStartSec = tsSec;
  const deviceA = findOrCreate(LEVEL_DEVICE, a, zeroAddress, 0, tsSec);
  observeEntry(deviceA, tsSec, recordBytes);
  store<u8>(deviceA, load<u8>(deviceA, 4) | roleOfA, 4);
  const deviceB = findOrCreate(LEVEL_DEVICE, b, zeroAddress, 0, tsSec);
  observeEntry(deviceB, tsSec, recordBytes);
  store<u8>(deviceB, load<u8>(deviceB, 4) | roleOfB, 4);
  if (learnPair) observeEntry(findOrCreate(LEVEL_PAIR, a, b, 0, tsSec), tsSec, recordBytes);
  observeEntry(findOrCreate(LEVEL_SERVICE, a, b, service, tsSec), tsSec, recordBytes);
}

// Accessors of an entry found with historyFind.
@inline export function entryFirstSeen(e: usize): u32 { return load<u32>(e, 48); }
@inline export function entryLastSeen(e: usize): u32 { return load<u32>(e, 52); }
@inline export function entryRecords(e: usize): u32 { return load<u32>(e, 56); }
@inline export function entryDays(e: usize): u32 { return load<u32>(e, 60); }
@inline export function entryOccurrences(e: usize): u32 { return load<u32>(e, 68); }
@inline export function entryRoles(e: usize): u8 { return load<u8>(e, 4); }
@inline export function entryAlerted(e: usize): bool { return load<u8>(e, 5) != 0; }
@inline export function markAlerted(e: usize): void { store<u8>(e, 1, 5); }
@inline export function entryRingCount(e: usize): u32 { return <u32>load<u8>(e, 2); }
@inline export function entryHourCount(e: usize, hour: u32): u32 { return <u32>load<u16>(e + 80 + (<usize>hour << 1)); }

// Ring slots in time order: slot i (0 = oldest) of `count` stored ones.
@inline function ringSlot(e: usize, i: u32): u32 {
  const count = <u32>load<u8>(e, 2);
  const next = <u32>load<u8>(e, 3);
  return count < RING_SLOTS ? i : (next + i) % RING_SLOTS;
}

export function entryOccurrenceTime(e: usize, i: u32): u32 {
  return load<u32>(e + 128 + (<usize>ringSlot(e, i) << 2));
}

export function entryOccurrenceBytes(e: usize, i: u32): u32 {
  return <u32>load<u16>(e + 192 + (<usize>ringSlot(e, i) << 1));
}

// Local hour of the day with the most occurrences, or 24 when none.
export function entryUsualHour(e: usize): u32 {
  let best: u32 = 24;
  let bestCount: u32 = 0;
  for (let hour: u32 = 0; hour < 24; hour++) {
    const n = entryHourCount(e, hour);
    if (n > bestCount) { best = hour; bestCount = n; }
  }
  return best;
}

// Occurrences within one hour of `hour` (wrapping at midnight).
export function entryOccurrencesNearHour(e: usize, hour: u32): u32 {
  return entryHourCount(e, (hour + 23) % 24) + entryHourCount(e, hour) + entryHourCount(e, (hour + 1) % 24);
}
