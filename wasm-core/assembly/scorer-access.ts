// Scorers for logins and remote access (records with `login_result` or
// `session_event`: HTTP, FTP, Telnet, VNC, RDP, SSH).
//
// login_burst: one alert per burst of failed logins, however long the burst.
//   A model with this scorer groups its matching records by its frequency
//   `by` keys. The first failure (login_result "failure") opens a burst of
//   `within` seconds. The burst keeps the number of failures, the distinct
//   accounts and the last failure record. The alert is written
//   - at a success (login_result "success") in the burst after at least
//     `count` failures: on the success record, with login_succeeded true;
//   - otherwise when the burst's window ends with at least `count`
//     failures: on the last failure record, with login_succeeded false. The
//     end is noticed at the next matching record of the key, when packet time
//     passes it (processBatch), at tick, or at finish.
//   A success after fewer failures, or outside a burst, ends the burst quietly.
//
// remote_access_novelty: a matching record (a session start) fires only when
//   the host pair never used this service before (not before the hour ahead
//   of the record), or when the pair plus service has been seen on
//   ROUTINE_MIN_DAYS days or more but never within an hour of this hour.

import { Field, RecordType, ValueType } from "../../protocols/fields";
import { eventBufferFree, fieldBool, fieldText, fieldU64, findField, FIELD_HEADER_BYTES, RECORD_HEADER_BYTES } from "./events";
import { countAnomaly } from "./counters";
import { ModelAnomaly, ModelField } from "./model-fields";
import { entryDays, entryOccurrencesNearHour } from "./baseline-history";
import { isNew, ROUTINE_MIN_DAYS } from "./scorer";
import { HttpField } from "../../protocols/http/fields";
import { FtpField } from "../../protocols/ftp/fields";
import { TelnetField } from "../../protocols/telnet/fields";
import { VncField } from "../../protocols/vnc/fields";
import { RdpField } from "../../protocols/rdp/fields";
import { SshField } from "../../protocols/ssh/fields";

@inline export const SCORER_LOGIN_BURST: u8 = 10;
@inline export const SCORER_REMOTE_ACCESS_NOVELTY: u8 = 11;

// Bursts followed at once; when full, the one seen least recently is
// dropped and counted as model.login_burst_evicted.
@inline const MAX_BURSTS: u32 = 512;
// Distinct accounts counted per burst, and names kept for the alert.
@inline const MAX_ACCOUNT_HASHES: u32 = 32;
@inline const MAX_ACCOUNT_NAMES: u32 = 8;
@inline const ACCOUNT_NAME_BYTES: u32 = 64;
// A failure record longer than this is kept without its last fields.
@inline const MAX_KEPT_RECORD_BYTES: u32 = 1024;
// Alerts written by one sweep, so a sweep stays within the event reserve.
@inline const MAX_ALERTS_PER_SWEEP: u32 = 16;

// Burst entry:
//   0 u64 key | 8 u16 model index + 1 (0: free) | 10 u8 names kept |
//   11 u8 reserved | 12 u32 failures | 16 u32 first failure (s) |
//   20 u32 last record (s) | 24 u32 distinct accounts | 28 u32 reserved |
//   32 u32 x MAX_ACCOUNT_HASHES | names (u8 length + bytes) | u32 kept
//   record length | kept record
@inline const B_HASHES: usize = 32;
@inline const B_NAMES: usize = B_HASHES + <usize>MAX_ACCOUNT_HASHES * 4;
@inline const B_RECORD_LENGTH: usize = B_NAMES + <usize>(MAX_ACCOUNT_NAMES * ACCOUNT_NAME_BYTES);
@inline const B_RECORD: usize = B_RECORD_LENGTH + 4;
// 1,700 bytes; estimateCoreBytes (agent/src/core/core.ts) counts the table.
@inline const BURST_BYTES: u32 = <u32>B_RECORD + MAX_KEPT_RECORD_BYTES;

let bursts: usize = 0;

function initBursts(): void {
  if (bursts == 0) bursts = heap.alloc(<usize>MAX_BURSTS * BURST_BYTES);
  memory.fill(bursts, 0, <usize>MAX_BURSTS * BURST_BYTES);
}

// Called when a model table is installed: bursts of the old set are dropped.
export function resetLoginBursts(): void {
  initBursts();
}

@inline function burstAt(i: u32): usize { return bursts + <usize>(i * BURST_BYTES); }

function findBurst(modelIndex: u32, key: u64): usize {
  for (let i: u32 = 0; i < MAX_BURSTS; i++) {
    const b = burstAt(i);
    if (load<u16>(b, 8) == <u16>(modelIndex + 1) && load<u64>(b) == key) return b;
  }
  return 0;
}

function takeBurst(modelIndex: u32, key: u64): usize {
  let oldest: usize = 0;
  for (let i: u32 = 0; i < MAX_BURSTS; i++) {
    const b = burstAt(i);
    if (load<u16>(b, 8) == 0) { oldest = b; break; }
    if (oldest == 0 || load<u32>(b, 20) < load<u32>(oldest, 20)) oldest = b;
  }
  if (load<u16>(oldest, 8) != 0) countAnomaly(ModelAnomaly.LOGIN_BURST_EVICTED);
  memory.fill(oldest, 0, <usize>B_RECORD);
  store<u64>(oldest, key);
  store<u16>(oldest, <u16>(modelIndex + 1), 8);
  return oldest;
}

@inline function freeBurst(b: usize): void { store<u16>(b, 0, 8); }

// FNV-1a of the account name, for counting distinct accounts.
function nameHash(ptr: usize, length: u32): u32 {
  let hash: u32 = 0x811c9dc5;
  for (let i: u32 = 0; i < length; i++) hash = (hash ^ <u32>load<u8>(ptr + <usize>i)) * 0x01000193;
  return hash;
}

// Adds the record's account (or user) to the burst's distinct accounts.
function addAccount(b: usize, record: usize): void {
  let f = findField(record, Field.ACCOUNT);
  if (f == 0) f = findField(record, Field.USER);
  if (f == 0 || load<u8>(f, 2) != ValueType.STR) return;
  const name = f + FIELD_HEADER_BYTES;
  const length = <u32>load<u16>(f, 4);
  const hash = nameHash(name, length);
  const distinct = load<u32>(b, 24);
  const kept = distinct < MAX_ACCOUNT_HASHES ? distinct : MAX_ACCOUNT_HASHES;
  for (let i: u32 = 0; i < kept; i++) {
    if (load<u32>(b + B_HASHES + <usize>(i << 2)) == hash) return;
  }
  // Beyond MAX_ACCOUNT_HASHES names the count stops growing.
  if (distinct >= MAX_ACCOUNT_HASHES) return;
  store<u32>(b + B_HASHES + <usize>(distinct << 2), hash);
  store<u32>(b, distinct + 1, 24);
  const names = <u32>load<u8>(b, 10);
  if (names < MAX_ACCOUNT_NAMES) {
    const slot = b + B_NAMES + <usize>(names * ACCOUNT_NAME_BYTES);
    const n = length < ACCOUNT_NAME_BYTES - 1 ? length : ACCOUNT_NAME_BYTES - 1;
    store<u8>(slot, <u8>n);
    memory.copy(slot + 1, name, n);
    store<u8>(b, <u8>(names + 1), 10);
  }
}

// Keeps a copy of the failure record for an alert at the end of the window.
function keepRecord(b: usize, record: usize): void {
  let length = load<u32>(record);
  if (length > MAX_KEPT_RECORD_BYTES) {
    // Cut at a field boundary so the copy stays a valid record.
    const end = record + <usize>MAX_KEPT_RECORD_BYTES;
    let p = record + RECORD_HEADER_BYTES;
    while (p + FIELD_HEADER_BYTES <= end) {
      const next = p + FIELD_HEADER_BYTES + <usize>load<u16>(p, 4);
      if (next > end) break;
      p = next;
    }
    length = <u32>(p - record);
  }
  memory.copy(b + B_RECORD, record, length);
  store<u32>(b + B_RECORD, length);
  store<u32>(b + B_RECORD_LENGTH, length);
}

// True when the text field `id` of `record` equals `literal` (ASCII).
function fieldIs(record: usize, id: u16, literal: string): bool {
  const end = record + <usize>load<u32>(record);
  let p = record + RECORD_HEADER_BYTES;
  const n = <u32>literal.length;
  while (p + FIELD_HEADER_BYTES <= end) {
    const length = <u32>load<u16>(p, 4);
    if (load<u16>(p) == id && length == n) {
      let same = true;
      for (let i: u32 = 0; i < n; i++) {
        if (<u32>load<u8>(p + FIELD_HEADER_BYTES + <usize>i) != <u32>load<u16>(changetype<usize>(literal) + (<usize>i << 1))) { same = false; break; }
      }
      if (same) return true;
    }
    p += <usize>FIELD_HEADER_BYTES + <usize>length;
  }
  return false;
}

// Id of the `login_result` field of a record type; 0 for a type without one.
function loginResultField(type: u16): u16 {
  switch (type) {
    case RecordType.HTTP: return HttpField.LOGIN_RESULT;
    case RecordType.FTP: return FtpField.LOGIN_RESULT;
    case RecordType.TELNET: return TelnetField.LOGIN_RESULT;
    case RecordType.VNC: return VncField.LOGIN_RESULT;
    case RecordType.RDP: return RdpField.LOGIN_RESULT;
    case RecordType.SSH: return SshField.LOGIN_RESULT;
  }
  return 0;
}

// A burst whose window had ended before the record loginBurstObserve was
// given; the caller reports it (takeExpiredBurst) before that record.
let expired: usize = 0;

export function takeExpiredBurst(): usize {
  const b = expired;
  expired = 0;
  return b;
}

// Observes a record that matched a login_burst model whose frequency `key`
// is `key`. Returns the burst to report on this record (a success after at
// least `count` failures), or 0. `within` is the model's window in seconds.
export function loginBurstObserve(modelIndex: u32, key: u64, record: usize, tsSec: u32, count: u32, within: u32): usize {
  if (bursts == 0) initBursts();
  const resultField = loginResultField(load<u16>(record, 4));
  if (resultField == 0) return 0;
  let b = findBurst(modelIndex, key);
  if (b != 0 && tsSec - load<u32>(b, 16) > within) {
    if (load<u32>(b, 12) >= count) expired = b;
    else freeBurst(b);
    b = 0;
  }
  if (fieldIs(record, resultField, "failure")) {
    if (b == 0) {
      b = takeBurst(modelIndex, key);
      store<u32>(b, tsSec, 16);
    }
    store<u32>(b, load<u32>(b, 12) + 1, 12);
    store<u32>(b, tsSec, 20);
    addAccount(b, record);
    keepRecord(b, record);
    return 0;
  }
  if (b == 0 || !fieldIs(record, resultField, "success")) return 0;
  if (load<u32>(b, 12) < count) {
    freeBurst(b);
    return 0;
  }
  return b;
}

// Writes the login_burst fields of burst `b` into the open alert.
export function writeBurstFields(b: usize, succeeded: bool): void {
  fieldU64(ModelField.LOGIN_FAILURES, load<u32>(b, 12));
  fieldU64(ModelField.LOGIN_ACCOUNT_COUNT, load<u32>(b, 24));
  const names = <u32>load<u8>(b, 10);
  for (let i: u32 = 0; i < names; i++) {
    const slot = b + B_NAMES + <usize>(i * ACCOUNT_NAME_BYTES);
    fieldText(ModelField.LOGIN_ACCOUNTS, slot + 1, <u32>load<u8>(slot));
  }
  fieldBool(ModelField.LOGIN_SUCCEEDED, succeeded);
  fieldU64(ModelField.BURST_FIRST_SEEN, load<u32>(b, 16));
  fieldU64(ModelField.BURST_LAST_SEEN, load<u32>(b, 20));
}

export function burstModelIndex(b: usize): u32 { return <u32>load<u16>(b, 8) - 1; }
export function burstRecord(b: usize): usize { return b + B_RECORD; }
export function releaseBurst(b: usize): void { freeBurst(b); }

// Passes each burst whose window ended by `nowSec` (every burst when `all`)
// and that reached its model's count of failures to `report`, and drops the
// others. Returns false when it stopped early, for event room or the
// per-sweep cap, so the caller drains the events and calls again.
export function sweepLoginBursts(nowSec: u32, all: bool, windowOf: (modelIndex: u32) => u32, countOf: (modelIndex: u32) => u32,
  report: (b: usize) => void): bool {
  if (bursts == 0) return true;
  let written: u32 = 0;
  for (let i: u32 = 0; i < MAX_BURSTS; i++) {
    const b = burstAt(i);
    if (load<u16>(b, 8) == 0) continue;
    const index = burstModelIndex(b);
    if (!all && nowSec - load<u32>(b, 16) <= windowOf(index)) continue;
    if (load<u32>(b, 12) < countOf(index)) {
      freeBurst(b);
      continue;
    }
    if (written >= MAX_ALERTS_PER_SWEEP || eventBufferFree() < 8192) return false;
    report(b);
    freeBurst(b);
    written++;
  }
  return true;
}

// remote_access_novelty: true when the alert should be written.
export function remoteAccessIsNovel(serviceEntry: usize, tsSec: u32): bool {
  if (isNew(serviceEntry, tsSec)) return true;
  const hour = (tsSec % 86400) / 3600;
  return entryDays(serviceEntry) >= ROUTINE_MIN_DAYS && entryOccurrencesNearHour(serviceEntry, hour) == 0;
}
