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
//
// A key's hash picks a set of WAYS ways. The sets are kept apart from the
// entries, SET_BYTES each, so that a lookup reads one cache line of tags
// before it reads an entry:
//     0 u32 x WAYS tags: the key's hash with bit 0 set, 0 for a free way
//    32 u32 x WAYS addresses of the ways' entries
// Entries are taken in address order as ways are first used, and an evicted
// entry's storage goes to the entry that evicts it, so only the entries in
// use become resident. The ways of a set are used in order and never freed
// one by one, so a set's used ways are always its first ones.

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
@inline const SET_BYTES: usize = 64;
@inline const SET_ADDRESSES: usize = 32;   // offset of the entry addresses in a set
@inline export const OCCURRENCE_GAP_SEC: u32 = 30;

// Bounds on the configured entry count: a power of two, so that a hash picks
// a set with a mask.
@inline export const MIN_HISTORY_ENTRIES: u32 = 64;
@inline export const MAX_HISTORY_ENTRIES: u32 = 1 << 20;

// configureHistory results.
@inline export const HISTORY_OK: i32 = 0;
@inline export const HISTORY_INVALID_ENTRIES: i32 = -1;
@inline export const HISTORY_SIZE_FIXED: i32 = -2;

let table: usize = 0;     // the entries
let sets: usize = 0;
let setMask: u32 = 0;
let entries: u32 = 0;
let entriesTaken: u32 = 0;

export function historyConfigured(): bool { return table != 0; }
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
  // neither the sets nor the entries are filled: their pages become resident
  // as they are used.
  table = heap.alloc(<usize>count * <usize>ENTRY_BYTES);
  sets = heap.alloc(<usize>(count / WAYS) * SET_BYTES);
  setMask = count / WAYS - 1;
  entries = count;
  return HISTORY_OK;
}

// Forgets every entry and restarts the learning period.
export function resetHistory(): void {
  if (table != 0 && entriesTaken != 0) {
    memory.fill(sets, 0, <usize>(entries / WAYS) * SET_BYTES);
    entriesTaken = 0;
  }
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

function hashKey(level: u8, a: usize, b: usize, service: u64): u32 {
  let hash = (FNV32_OFFSET ^ <u32>level) * FNV32_PRIME;
  hash = fnv32(hash, a, 16);
  hash = fnv32(hash, b, 16);
  return (hash ^ <u32>service ^ <u32>(service >> 32)) * FNV32_PRIME;
}

// Bit 0 of a hash also picks the set, so forcing it loses nothing within a
// set and keeps every tag nonzero.
@inline function tagOf(hash: u32): u32 { return hash | 1; }
@inline function setOfHash(hash: u32): usize { return sets + <usize>(hash & setMask) * SET_BYTES; }
@inline function wayTag(set: usize, way: u32): u32 { return load<u32>(set + (<usize>way << 2)); }
@inline function wayEntry(set: usize, way: u32): usize { return <usize>load<u32>(set + SET_ADDRESSES + (<usize>way << 2)); }

// The record being scored (historyBeginRecord): its originator and responder
// addresses, its service hash, and the hashes of its four keys (valid when
// their bit in `hashedKeys` is set). The models look up the record's
// devices, pair and service, and historyObserve then learns the same keys,
// so each key is hashed once per record. The addresses are compared as
// pointers: they point into the record, which does not change until
// historyEndRecord.
let recordA: usize = 0;
let recordB: usize = 0;
let recordService: u64 = 0;
let hashedKeys: u32 = 0;
let hashDeviceA: u32 = 0;
let hashDeviceB: u32 = 0;
let hashPair: u32 = 0;
let hashService: u32 = 0;
@inline const KEY_DEVICE_A: u32 = 1;
@inline const KEY_DEVICE_B: u32 = 2;
@inline const KEY_PAIR: u32 = 4;
@inline const KEY_SERVICE: u32 = 8;

export function historyBeginRecord(a: usize, b: usize, service: u64): void {
  recordA = a;
  recordB = b;
  recordService = service;
  hashedKeys = 0;
}

export function historyEndRecord(): void {
  recordA = 0;
  recordB = 0;
}

function hashOf(level: u8, a: usize, b: usize, service: u64): u32 {
  if (recordA == 0) return hashKey(level, a, b, service);
  if (level == LEVEL_DEVICE && b == zeroAddress && service == 0) {
    if (a == recordA) {
      if ((hashedKeys & KEY_DEVICE_A) == 0) {
        hashDeviceA = hashKey(level, a, b, service);
        hashedKeys |= KEY_DEVICE_A;
      }
      return hashDeviceA;
    }
    if (a == recordB) {
      if ((hashedKeys & KEY_DEVICE_B) == 0) {
        hashDeviceB = hashKey(level, a, b, service);
        hashedKeys |= KEY_DEVICE_B;
      }
      return hashDeviceB;
    }
  } else if (a == recordA && b == recordB) {
    if (level == LEVEL_PAIR && service == 0) {
      if ((hashedKeys & KEY_PAIR) == 0) {
        hashPair = hashKey(level, a, b, service);
        hashedKeys |= KEY_PAIR;
      }
      return hashPair;
    }
    if (level == LEVEL_SERVICE && service == recordService) {
      if ((hashedKeys & KEY_SERVICE) == 0) {
        hashService = hashKey(level, a, b, service);
        hashedKeys |= KEY_SERVICE;
      }
      return hashService;
    }
  }
  return hashKey(level, a, b, service);
}

@inline function matches(e: usize, level: u8, a: usize, b: usize, service: u64): bool {
  return load<u8>(e) != 0 && load<u8>(e, 1) == level && load<u64>(e, 8) == service &&
    sameAddress(e + 16, a) && sameAddress(e + 32, b);
}

// Returns the way of `set` whose tag is `tag` and whose entry matches the
// key, or WAYS.
function findWay(set: usize, tag: u32, level: u8, a: usize, b: usize, service: u64): u32 {
  for (let way: u32 = 0; way < WAYS; way++) {
    const wayTagValue = wayTag(set, way);
    if (wayTagValue == 0) break;
    if (wayTagValue == tag && matches(wayEntry(set, way), level, a, b, service)) return way;
  }
  return WAYS;
}

// Finds an entry, or returns 0.
export function historyFind(level: u8, a: usize, b: usize, service: u64): usize {
  if (table == 0) return 0;
  const hash = hashOf(level, a, b, service);
  const set = setOfHash(hash);
  const way = findWay(set, tagOf(hash), level, a, b, service);
  return way < WAYS ? wayEntry(set, way) : 0;
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

// Returns the first way of a full `set` whose entry evictsBefore the others.
function victimWay(set: usize): u32 {
  let victim: u32 = 0;
  for (let way: u32 = 1; way < WAYS; way++) {
    if (evictsBefore(wayEntry(set, way), wayEntry(set, victim))) victim = way;
  }
  return victim;
}

// Gives the first free way of `set` the tag `tag` and the next entry never
// used, and returns that entry, or 0 when the set is full.
function takeFreeWay(set: usize, tag: u32): usize {
  for (let way: u32 = 0; way < WAYS; way++) {
    if (wayTag(set, way) != 0) continue;
    // Each way takes at most one entry, and the table has one per way.
    const e = table + <usize>entriesTaken * <usize>ENTRY_BYTES;
    entriesTaken++;
    store<u32>(set + (<usize>way << 2), tag);
    store<u32>(set + SET_ADDRESSES + (<usize>way << 2), <u32>e);
    return e;
  }
  return 0;
}

function findOrCreate(level: u8, a: usize, b: usize, service: u64, tsSec: u32): usize {
  const hash = hashOf(level, a, b, service);
  const set = setOfHash(hash);
  const tag = tagOf(hash);
  const found = findWay(set, tag, level, a, b, service);
  if (found < WAYS) return wayEntry(set, found);
  let e = takeFreeWay(set, tag);
  if (e == 0) {
    const victim = victimWay(set);
    e = wayEntry(set, victim);
    store<u32>(set + (<usize>victim << 2), tag);
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
  const hash = hashKey(load<u8>(source, 1), source + 16, source + 32, load<u64>(source, 8));
  const set = setOfHash(hash);
  const e = takeFreeWay(set, tagOf(hash));
  if (e != 0) {
    memory.copy(e, source, <usize>ENTRY_BYTES);
    return true;
  }
  countAnomaly(ModelAnomaly.HISTORY_EVICTED);
  const victim = victimWay(set);
  const victimEntry = wayEntry(set, victim);
  if (!evictsBefore(source, victimEntry)) {
    memory.copy(victimEntry, source, <usize>ENTRY_BYTES);
    store<u32>(set + (<usize>victim << 2), tagOf(hash));
  }
  return false;
}

// Copies `length` bytes of the table as snapshots lay it out, from byte
// `offset`, to `ptr`: every set's ways in order, ENTRY_BYTES each, and a
// free way as zeros. Snapshots keep the layout of the table from before the
// sets were kept apart from the entries.
export function historyReadLaidOut(offset: u32, ptr: usize, length: u32): void {
  let done: u32 = 0;
  while (done < length) {
    const index = (offset + done) / ENTRY_BYTES;
    const within = (offset + done) % ENTRY_BYTES;
    let n = ENTRY_BYTES - within;
    if (n > length - done) n = length - done;
    const set = sets + <usize>(index / WAYS) * SET_BYTES;
    const way = index % WAYS;
    if (wayTag(set, way) == 0) memory.fill(ptr + <usize>done, 0, <usize>n);
    else memory.copy(ptr + <usize>done, wayEntry(set, way) + <usize>within, <usize>n);
    done += n;
  }
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
