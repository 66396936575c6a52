// Baselines the models consult: what is routine on this network.
//
// Two bounded tables, allocated once when the first model table is installed
// and never grown (the traffic baselines are in baseline-history.ts). Each is
// set-associative: a key hashes to one set of WAYS entries, and when the set
// is full the least recently seen entry is evicted and counted as an anomaly.
//
//   frequency table  (model, values of the model's `by` keys) -> packet times
//                    of the last matches, for `count >= N within T`
//   master table     (Modbus device = request destination + unit id) -> the
//                    clients that sent it requests, with counts and times
//
// Times are packet times in milliseconds since the Unix epoch, so replaying a
// capture gives the same results as watching it live.

import { countAnomaly } from "./counters";
import { ModelAnomaly } from "./model-fields";
import { FNV32_OFFSET, fnv32, fnv32Word } from "./fnv";

@inline const WAYS: u32 = 8;

// Table sizes (entries). Powers of two, multiples of WAYS.
@inline export const FREQUENCY_ENTRIES: u32 = 4096;
@inline export const MASTER_DEVICES: u32 = 2048;

// Largest N in `count >= N within T`: the table keeps the last N match times
// of every key. The host rejects larger counts when it compiles a model.
@inline export const MAX_FREQUENCY_COUNT: u32 = 32;
// Clients remembered per Modbus device; a further client evicts the one seen
// least recently.
@inline export const MAX_CLIENTS_PER_DEVICE: u32 = 8;

// Unit id used for a Modbus request whose record carries no unit id
// (Modbus unit ids are 0-255).
@inline export const UNIT_ID_ABSENT: u32 = 0xffff;

// Frequency entry, 24 + 8 * MAX_FREQUENCY_COUNT bytes:
//   0 u8 used | 1 u8 times stored | 2 u16 model index | 4 u32 next ring slot |
//   8 u64 key hash | 16 u64 last match (ms) | 24 u64 match times (ms) ring
@inline const FREQUENCY_BYTES: u32 = 24 + 8 * MAX_FREQUENCY_COUNT;

// Master device entry, 32 + 40 * MAX_CLIENTS_PER_DEVICE bytes:
//   0 u8 used | 1 u8 clients stored | 2 u16 unit id | 4 u32 unused |
//   8 u64 last request (ms) | 16 device address (16) | 32 clients
// Client, 40 bytes:
//   0 client address (16) | 16 u32 requests | 20 u32 unused |
//   24 u64 first request (ms) | 32 u64 last request (ms)
@inline const CLIENT_BYTES: u32 = 40;
@inline const DEVICE_BYTES: u32 = 32 + CLIENT_BYTES * MAX_CLIENTS_PER_DEVICE;

let frequencyTable: usize = 0;
let masterTable: usize = 0;
// True once a frequency window may be stored: the table is then filled to
// empty it, and copied to move its windows. Until then both are skipped, so
// that installing models does not make the table and its copy resident.
let frequencyWindowsStored = false;

// Master table region, for snapshots (baseline-snapshot.ts).
export function masterTableBase(): usize { return masterTable; }
export function masterTableBytes(): u32 { return MASTER_DEVICES * DEVICE_BYTES; }

// Allocates the tables on the first call. Later calls keep them. Fresh
// memory from the stub runtime (which frees nothing) is zero, so the tables
// are not filled: a page becomes resident when an entry on it is first used.
export function initBaselines(): void {
  if (frequencyTable != 0) return;
  frequencyTable = heap.alloc(<usize>(FREQUENCY_ENTRIES * FREQUENCY_BYTES));
  masterTable = heap.alloc(<usize>(MASTER_DEVICES * DEVICE_BYTES));
}

// Frequency table region, for snapshots (baseline-snapshot.ts).
export function frequencyTableBase(): usize { return frequencyTable; }
export function frequencyTableBytes(): u32 { return FREQUENCY_ENTRIES * FREQUENCY_BYTES; }

// Forgets what is keyed by model index (frequency windows) and the window
// keys, for a model table installed without keys. The Modbus master baseline
// and the traffic baselines do not depend on the models and are kept.
export function resetModelBaselines(): void {
  windowKeyCount = 0;
  if (frequencyTable == 0) return;
  clearFrequencyTable();
}

function clearFrequencyTable(): void {
  if (!frequencyWindowsStored) return;
  memory.fill(frequencyTable, 0, <usize>(FREQUENCY_ENTRIES * FREQUENCY_BYTES));
  frequencyWindowsStored = false;
}

// Forgets the frequency windows and the Modbus masters. The window keys of
// the installed models stay.
export function resetAllBaselines(): void {
  if (frequencyTable == 0) return;
  clearFrequencyTable();
  memory.fill(masterTable, 0, <usize>(MASTER_DEVICES * DEVICE_BYTES));
}

@inline function sameAddress(a: usize, b: usize): bool {
  return load<u64>(a) == load<u64>(b) && load<u64>(a, 8) == load<u64>(b, 8);
}

// ---------------------------------------------------------------------------
// Frequency windows

// Finds the frequency entry of `modelIndex` and the key whose 64-bit hash is
// `keyHash`, or takes a free (else the least recently matched) entry of its
// set for it, emptied.
//
// NOTE: keys are compared by model index and a 64-bit FNV-1a hash of their
// values, not in full: two different keys of one model that collide in 64
// bits would share a window.
//
// With `moving` (moveWindows), a full set yields 0 instead of evicting.
function frequencyEntry(modelIndex: u32, keyHash: u64, moving: bool = false): usize {
  const setIndex = (<u32>keyHash ^ <u32>(keyHash >> 32) ^ modelIndex) & (FREQUENCY_ENTRIES / WAYS - 1);
  const set = frequencyTable + <usize>(setIndex * WAYS * FREQUENCY_BYTES);

  let free: usize = 0;
  let oldest: usize = 0;
  for (let way: u32 = 0; way < WAYS; way++) {
    const e = set + <usize>(way * FREQUENCY_BYTES);
    if (load<u8>(e) == 0) {
      if (free == 0) free = e;
      continue;
    }
    if (<u32>load<u16>(e, 2) == modelIndex && load<u64>(e, 8) == keyHash) return e;
    if (oldest == 0 || load<u64>(e, 16) < load<u64>(oldest, 16)) oldest = e;
  }
  let entry = free;
  if (entry == 0) {
    countAnomaly(ModelAnomaly.FREQUENCY_KEY_EVICTED);
    if (moving) return 0;
    entry = oldest;
  }
  frequencyWindowsStored = true;
  store<u8>(entry, 1);
  store<u8>(entry, 0, 1);
  store<u16>(entry, <u16>modelIndex, 2);
  store<u32>(entry, 0, 4);
  store<u64>(entry, keyHash, 8);
  return entry;
}

// Packet times can step back a little between flows; a negative span counts
// as inside the window.
@inline function withinWindow(nowMs: u64, thenMs: u64, windowMs: u64): bool {
  return nowMs <= thenMs || nowMs - thenMs <= windowMs;
}

// Records a match of `modelIndex` for the key whose 64-bit hash is `keyHash`
// at `nowMs`. Returns true when this match is the `count`-th within
// `windowMs`; the window then starts afresh, so the model fires once per
// `count` matches. `count` must be 1..MAX_FREQUENCY_COUNT (the table loader
// checks it).
export function frequencyObserve(modelIndex: u32, keyHash: u64, nowMs: u64, count: u32, windowMs: u64): bool {
  const entry = frequencyEntry(modelIndex, keyHash);
  // The ring holds the last `count` match times; the slot written next holds
  // the oldest of them once the ring is full.
  let next = load<u32>(entry, 4);
  if (next >= count) next = 0;
  store<u64>(entry + 24 + (<usize>next << 3), nowMs);
  next = next + 1 == count ? 0 : next + 1;
  let stored = <u32>load<u8>(entry, 1) + 1;
  if (stored > count) stored = count;
  store<u32>(entry, next, 4);
  store<u8>(entry, <u8>stored, 1);
  store<u64>(entry, nowMs, 16);
  if (stored < count) return false;

  const oldestMs = load<u64>(entry + 24 + (<usize>next << 3));
  if (!withinWindow(nowMs, oldestMs, windowMs)) return false;
  store<u8>(entry, 0, 1);
  store<u32>(entry, 0, 4);
  return true;
}

// In `distinct` mode a ring slot contains one distinct value: the low
// DISTINCT_TIME_BITS bits are the time of its last match in milliseconds
// (enough until the year 2109), the high bits a hash of the value.
@inline const DISTINCT_TIME_BITS: u64 = 42;
@inline const DISTINCT_TIME_MASK: u64 = (<u64>1 << DISTINCT_TIME_BITS) - 1;

// Records a match of `modelIndex` for the key `keyHash` whose distinct field
// hashes to `valueHash`, at `nowMs`. Returns true when the matches within
// `windowMs` carry `count` different values; the window then starts afresh.
// A value seen again only refreshes its time.
//
// NOTE: values are distinguished by 22 bits of their hash: two values of one key
// that collide count once, which can only delay an alert, never raise one.
export function frequencyObserveDistinct(modelIndex: u32, keyHash: u64, valueHash: u64, nowMs: u64, count: u32, windowMs: u64): bool {
  const entry = frequencyEntry(modelIndex, keyHash);
  const tag = (valueHash ^ (valueHash >> 32)) << DISTINCT_TIME_BITS;
  const slotValue = tag | (nowMs & DISTINCT_TIME_MASK);
  const stored = <u32>load<u8>(entry, 1);
  let target: i32 = -1;
  let live: u32 = 0;
  for (let i: u32 = 0; i < stored; i++) {
    const slot = load<u64>(entry + 24 + (<usize>i << 3));
    if ((slot & ~DISTINCT_TIME_MASK) == tag) {
      target = <i32>i;
      live++;
      continue;
    }
    const thenMs = (nowMs & ~DISTINCT_TIME_MASK) | (slot & DISTINCT_TIME_MASK);
    if (withinWindow(nowMs, thenMs, windowMs)) {
      live++;
    } else if (target < 0) {
      // An expired value's slot is reused for the new one.
      target = <i32>i;
    }
  }
  if (target < 0) {
    if (stored < count) {
      target = <i32>stored;
      store<u8>(entry, <u8>(stored + 1), 1);
    } else {
      target = 0;
    }
    live++;
  }
  store<u64>(entry + 24 + (<usize>target << 3), slotValue);
  store<u64>(entry, nowMs, 16);
  if (live < count) return false;
  store<u8>(entry, 0, 1);
  return true;
}

// ---------------------------------------------------------------------------
// Window keys: frequency windows across model reloads and snapshots

// Frequency entries name their model by its index in the installed table, and
// a reloaded table may number its models differently. The host therefore
// gives each model a window key, a 32-bit hash of its id and frequency
// settings (0: the model keeps no windows). When the models change, a window
// moves to the model with the same key and is dropped when there is none.
@inline export const WINDOW_KEY_SLOTS: u32 = 256;

const windowKeys = memory.data(<i32>(WINDOW_KEY_SLOTS * 4));
let windowKeyCount: u32 = 0;
const previousKeys = memory.data(<i32>(WINDOW_KEY_SLOTS * 4));
// New model index of each old one, NO_MODEL_INDEX when its windows go.
const indexMap = memory.data(<i32>(WINDOW_KEY_SLOTS * 4));
@inline const NO_MODEL_INDEX: u32 = 0xffffffff;
// Copy of the frequency table that windows move out of, allocated on the
// first move.
let frequencySource: usize = 0;

export function windowKeysBase(): usize { return windowKeys; }
export function installedWindowKeyCount(): u32 { return windowKeyCount; }

// Area of frequencyTableBytes() bytes that a restore writes the snapshot's
// frequency table into before moveWindows re-keys it.
export function frequencySourceBase(): usize {
  initBaselines();
  if (frequencySource == 0) frequencySource = heap.alloc(<usize>(FREQUENCY_ENTRIES * FREQUENCY_BYTES));
  return frequencySource;
}

// Installs the window keys of a new model table (`count` u32 at `keys`) and
// moves the frequency windows of the previous table to it.
export function installWindowKeys(keys: usize, count: u32): void {
  initBaselines();
  if (count > WINDOW_KEY_SLOTS) count = WINDOW_KEY_SLOTS;
  const oldCount = windowKeyCount;
  memory.copy(previousKeys, windowKeys, <usize>(oldCount * 4));
  memory.copy(windowKeys, keys, <usize>(count * 4));
  windowKeyCount = count;
  // With no window stored there is nothing to move.
  if (!frequencyWindowsStored) return;
  const source = frequencySourceBase();
  memory.copy(source, frequencyTable, <usize>(FREQUENCY_ENTRIES * FREQUENCY_BYTES));
  moveWindows(source, previousKeys, oldCount);
}

// Empties the frequency table and re-inserts the windows of `source` (a
// frequency table numbered by `oldKeys`, `oldCount` u32) under the installed
// window keys. Returns the number of windows dropped: their model is gone or
// its settings changed, or their new set was full (also counted as
// model.frequency_key_evicted).
export function moveWindows(source: usize, oldKeys: usize, oldCount: u32): u32 {
  if (oldCount > WINDOW_KEY_SLOTS) oldCount = WINDOW_KEY_SLOTS;
  for (let i: u32 = 0; i < oldCount; i++) {
    const key = load<u32>(oldKeys + (<usize>i << 2));
    let mapped = NO_MODEL_INDEX;
    for (let j: u32 = 0; key != 0 && j < windowKeyCount; j++) {
      if (load<u32>(windowKeys + (<usize>j << 2)) == key) { mapped = j; break; }
    }
    store<u32>(indexMap + (<usize>i << 2), mapped);
  }
  clearFrequencyTable();

  let dropped: u32 = 0;
  for (let n: u32 = 0; n < FREQUENCY_ENTRIES; n++) {
    const e = source + <usize>(n * FREQUENCY_BYTES);
    if (load<u8>(e) == 0) continue;
    const oldIndex = <u32>load<u16>(e, 2);
    const mapped = oldIndex < oldCount ? load<u32>(indexMap + (<usize>oldIndex << 2)) : NO_MODEL_INDEX;
    if (mapped == NO_MODEL_INDEX) { dropped++; continue; }
    // frequencyEntry finds or empties the slot the window belongs in now
    // (the set depends on the model index); the ring is then copied over.
    const keyHash = load<u64>(e, 8);
    const target = frequencyEntry(mapped, keyHash, true);
    if (target == 0) { dropped++; continue; }
    memory.copy(target, e, <usize>FREQUENCY_BYTES);
    store<u16>(target, <u16>mapped, 2);
  }
  return dropped;
}

// ---------------------------------------------------------------------------
// Modbus master baseline

@inline export const MASTER_NONE: i32 = 0;        // no established master yet
@inline export const MASTER_THIS_CLIENT: i32 = 1; // the client is an established master
@inline export const MASTER_OTHER: i32 = 2;       // masters exist, the client is not one

function findDevice(device: usize, unitId: u32, create: bool, nowMs: u64): usize {
  // FNV-1a picks a set, and keys are then compared in full.
  const hash = fnv32Word(fnv32(FNV32_OFFSET, device, 16), unitId);
  const set = masterTable + <usize>((hash & (MASTER_DEVICES / WAYS - 1)) * WAYS * DEVICE_BYTES);
  let free: usize = 0;
  let oldest: usize = 0;
  for (let way: u32 = 0; way < WAYS; way++) {
    const e = set + <usize>(way * DEVICE_BYTES);
    if (load<u8>(e) == 0) {
      if (free == 0) free = e;
      continue;
    }
    if (<u32>load<u16>(e, 2) == unitId && sameAddress(e + 16, device)) return e;
    if (oldest == 0 || load<u64>(e, 8) < load<u64>(oldest, 8)) oldest = e;
  }
  if (!create) return 0;
  let e = free;
  if (e == 0) {
    e = oldest;
    countAnomaly(ModelAnomaly.MASTER_DEVICE_EVICTED);
  }
  memory.fill(e, 0, <usize>DEVICE_BYTES);
  store<u8>(e, 1);
  store<u16>(e, <u16>unitId, 2);
  store<u64>(e, nowMs, 8);
  memory.copy(e + 16, device, 16);
  return e;
}

@inline function isEstablished(client: usize, minRequests: u32, minSpanMs: u64): bool {
  return load<u32>(client, 16) >= minRequests && load<u64>(client, 32) - load<u64>(client, 24) >= minSpanMs;
}

// Classifies `client` (16-byte address) for the Modbus device at `device`
// with `unitId`: a client is an established master once it has sent at least
// `minRequests` requests spread over at least `minSpanMs` of packet time.
export function masterStatus(device: usize, unitId: u32, client: usize, minRequests: u32, minSpanMs: u64): i32 {
  const e = findDevice(device, unitId, false, 0);
  if (e == 0) return MASTER_NONE;
  const clients = <u32>load<u8>(e, 1);
  let anyMaster = false;
  for (let i: u32 = 0; i < clients; i++) {
    const c = e + 32 + <usize>(i * CLIENT_BYTES);
    if (!isEstablished(c, minRequests, minSpanMs)) continue;
    if (sameAddress(c, client)) return MASTER_THIS_CLIENT;
    anyMaster = true;
  }
  return anyMaster ? MASTER_OTHER : MASTER_NONE;
}

// Counts one request from `client` to the device.
export function masterObserve(device: usize, unitId: u32, client: usize, nowMs: u64): void {
  const e = findDevice(device, unitId, true, nowMs);
  if (nowMs > load<u64>(e, 8)) store<u64>(e, nowMs, 8);
  const clients = <u32>load<u8>(e, 1);
  let oldest: usize = 0;
  for (let i: u32 = 0; i < clients; i++) {
    const c = e + 32 + <usize>(i * CLIENT_BYTES);
    if (sameAddress(c, client)) {
      store<u32>(c, load<u32>(c, 16) + 1, 16);
      if (nowMs > load<u64>(c, 32)) store<u64>(c, nowMs, 32);
      if (nowMs < load<u64>(c, 24)) store<u64>(c, nowMs, 24);
      return;
    }
    if (oldest == 0 || load<u64>(c, 32) < load<u64>(oldest, 32)) oldest = c;
  }
  let c: usize;
  if (clients < MAX_CLIENTS_PER_DEVICE) {
    c = e + 32 + <usize>(clients * CLIENT_BYTES);
    store<u8>(e, <u8>(clients + 1), 1);
  } else {
    c = oldest;
    countAnomaly(ModelAnomaly.MASTER_CLIENT_EVICTED);
  }
  memory.copy(c, client, 16);
  store<u32>(c, 1, 16);
  store<u32>(c, 0, 20);
  store<u64>(c, nowMs, 24);
  store<u64>(c, nowMs, 32);
}
