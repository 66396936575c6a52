// Snapshots of the learned baselines, so that a restarted gateway keeps what
// it learned. The host reads a snapshot in chunks through the scratch region
// and writes it to a file (agent/src/core/snapshot.ts); restoring copies the
// chunks back.
//
// Snapshot, little-endian:
//
//   header, SNAPSHOT_HEADER_BYTES
//      0 u32 magic 0x53425346 (bytes "FSBS")
//      4 u16 version (SNAPSHOT_VERSION)
//      6 u16 reserved, 0
//      8 u32 history entries (baseline-history.ts)
//     12 u32 bytes per history entry
//     16 u32 bytes of the Modbus master table (baseline.ts)
//     20 u32 learning period start (packet time, s; 0: not started)
//     24 u32 total snapshot length, header included
//     28 u32 bytes of the frequency table (baseline.ts); version 1: 0
//   then the history table, then the master table, as they are in memory;
//   version 2 then adds
//     the window keys: u32 count, then WINDOW_KEY_SLOTS u32 keys (baseline.ts)
//     the frequency table, as it is in memory, numbered by those keys.
//
// Version 1 (no frequency windows) is still restored: its windows start
// empty. The history is restored by re-inserting its entries one by one
// (historyReinsert), which puts the entries of a snapshot of the same size
// back in their ways. Into a smaller table, each full set drops its least
// valuable entries and counts them (restoredDroppedEntries).

import {
  historyConfigured, historyEntries, historyBytes, ENTRY_BYTES, learningStartSec, setLearningStart, resetHistory,
  historyReinsert, historyReadLaidOut, MIN_HISTORY_ENTRIES, MAX_HISTORY_ENTRIES,
} from "./baseline-history";
import {
  initBaselines, masterTableBase, masterTableBytes, resetAllBaselines, frequencyTableBase, frequencyTableBytes,
  frequencySourceBase, windowKeysBase, installedWindowKeyCount, moveWindows, WINDOW_KEY_SLOTS,
} from "./baseline";

@inline export const SNAPSHOT_MAGIC: u32 = 0x53425346;
@inline export const SNAPSHOT_VERSION: u16 = 2;
@inline const SNAPSHOT_VERSION_WITHOUT_WINDOWS: u16 = 1;
@inline export const SNAPSHOT_HEADER_BYTES: u32 = 32;
@inline const KEY_SECTION_BYTES: u32 = 4 + WINDOW_KEY_SLOTS * 4;

// restoreBegin / restoreEnd results.
@inline export const RESTORE_OK: i32 = 0;
@inline export const RESTORE_NOT_CONFIGURED: i32 = -1;
@inline export const RESTORE_BAD_MAGIC: i32 = -2;
@inline export const RESTORE_BAD_VERSION: i32 = -3;
@inline export const RESTORE_SIZE_MISMATCH: i32 = -4;
@inline export const RESTORE_INCOMPLETE: i32 = -5;
@inline export const RESTORE_OUT_OF_RANGE: i32 = -6;

const header = memory.data(<i32>SNAPSHOT_HEADER_BYTES);
// Window key section of the snapshot being read or restored.
const keySection = memory.data(<i32>KEY_SECTION_BYTES);
// A history entry of a restored snapshot whose bytes span two chunks.
const pendingEntry = memory.data(<i32>ENTRY_BYTES);
let pendingFill: u32 = 0;

// Layout of the snapshot stream being read or restored.
let streamVersion: u16 = 0;
let streamHistoryBytes: u32 = 0;

let restoreLength: u32 = 0;
let restoreWritten: u32 = 0;
let droppedEntries: u32 = 0;
let droppedWindows: u32 = 0;

function lengthOf(version: u16, historyLength: u32): u32 {
  let total = SNAPSHOT_HEADER_BYTES + historyLength + masterTableBytes();
  if (version >= SNAPSHOT_VERSION) total += KEY_SECTION_BYTES + frequencyTableBytes();
  return total;
}

// History entries of the last restore that did not fit a smaller table.
export function restoredDroppedEntries(): u32 { return droppedEntries; }

// Frequency windows of the last restore whose model is no longer installed
// with the same id and frequency settings, or whose set was full.
export function restoredDroppedWindows(): u32 { return droppedWindows; }

// Prepares a snapshot of the current baselines and returns its length, or 0
// when the baselines are not configured yet.
export function snapshotPrepare(): u32 {
  if (!historyConfigured()) return 0;
  initBaselines();
  streamVersion = SNAPSHOT_VERSION;
  streamHistoryBytes = historyBytes();
  const total = lengthOf(SNAPSHOT_VERSION, historyBytes());
  memory.fill(header, 0, <usize>SNAPSHOT_HEADER_BYTES);
  store<u32>(header, SNAPSHOT_MAGIC);
  store<u16>(header, SNAPSHOT_VERSION, 4);
  store<u32>(header, historyEntries(), 8);
  store<u32>(header, ENTRY_BYTES, 12);
  store<u32>(header, masterTableBytes(), 16);
  store<u32>(header, learningStartSec, 20);
  store<u32>(header, total, 24);
  store<u32>(header, frequencyTableBytes(), 28);
  memory.fill(keySection, 0, <usize>KEY_SECTION_BYTES);
  store<u32>(keySection, installedWindowKeyCount());
  memory.copy(keySection + 4, windowKeysBase(), <usize>(installedWindowKeyCount() * 4));
  return total;
}

// Feeds `length` snapshot history bytes at `ptr` to historyReinsert, one
// whole entry at a time.
function reinsertHistory(ptr: usize, length: u32): void {
  let done: u32 = 0;
  while (done < length) {
    let n = ENTRY_BYTES - pendingFill;
    if (n > length - done) n = length - done;
    memory.copy(pendingEntry + <usize>pendingFill, ptr + <usize>done, <usize>n);
    pendingFill += n;
    done += n;
    if (pendingFill == ENTRY_BYTES) {
      if (!historyReinsert(pendingEntry)) droppedEntries++;
      pendingFill = 0;
    }
  }
}

// Copies `length` bytes between the snapshot stream at `offset` and `ptr`:
// out of the baselines when `read`, into them otherwise. The history section
// (region 0 below) is read with historyReadLaidOut and restored with
// historyReinsert. A restore writes the frequency table to
// frequencySourceBase(), from which restoreEnd moves the windows to the
// installed models.
function copyStream(offset: u32, ptr: usize, length: u32, read: bool): void {
  const historyEnd = SNAPSHOT_HEADER_BYTES + streamHistoryBytes;
  const masterEnd = historyEnd + masterTableBytes();
  const keysEnd = masterEnd + KEY_SECTION_BYTES;
  let done: u32 = 0;
  while (done < length) {
    const at = offset + done;
    let region: usize;
    let regionStart: u32;
    let regionEnd: u32;
    if (at < SNAPSHOT_HEADER_BYTES) {
      region = header; regionStart = 0; regionEnd = SNAPSHOT_HEADER_BYTES;
    } else if (at < historyEnd) {
      region = 0; regionStart = SNAPSHOT_HEADER_BYTES; regionEnd = historyEnd;
    } else if (at < masterEnd) {
      region = masterTableBase(); regionStart = historyEnd; regionEnd = masterEnd;
    } else if (at < keysEnd) {
      region = keySection; regionStart = masterEnd; regionEnd = keysEnd;
    } else {
      region = read ? frequencyTableBase() : frequencySourceBase();
      regionStart = keysEnd; regionEnd = keysEnd + frequencyTableBytes();
    }
    let n = regionEnd - at;
    if (n > length - done) n = length - done;
    const inRegion = region + <usize>(at - regionStart);
    if (region == 0 && read) {
      historyReadLaidOut(at - regionStart, ptr + <usize>done, n);
    } else if (region == 0) {
      reinsertHistory(ptr + <usize>done, n);
    } else if (read) {
      memory.copy(ptr + <usize>done, inRegion, <usize>n);
    } else {
      memory.copy(inRegion, ptr + <usize>done, <usize>n);
    }
    done += n;
  }
}

// Copies up to `length` bytes of the prepared snapshot from `offset` to
// `ptr`. Returns the number of bytes copied (0 at the end).
export function snapshotRead(offset: u32, ptr: usize, length: u32): u32 {
  const total = load<u32>(header, 24);
  if (load<u32>(header) != SNAPSHOT_MAGIC || restoreLength != 0 || offset >= total) return 0;
  const n = length < total - offset ? length : total - offset;
  copyStream(offset, ptr, n, true);
  return n;
}

// Checks the snapshot header at `ptr` against the configured tables and
// starts a restore. The baselines are cleared, so a restore that does not
// complete leaves them empty, never half old and half new.
export function restoreBegin(ptr: usize, length: u32): i32 {
  restoreLength = 0;
  if (!historyConfigured()) return RESTORE_NOT_CONFIGURED;
  if (length < SNAPSHOT_HEADER_BYTES || load<u32>(ptr) != SNAPSHOT_MAGIC) return RESTORE_BAD_MAGIC;
  const version = load<u16>(ptr, 4);
  if (version != SNAPSHOT_VERSION && version != SNAPSHOT_VERSION_WITHOUT_WINDOWS) return RESTORE_BAD_VERSION;
  initBaselines();
  const entries = load<u32>(ptr, 8);
  const validEntries = entries >= MIN_HISTORY_ENTRIES && entries <= MAX_HISTORY_ENTRIES && (entries & (entries - 1)) == 0;
  if (!validEntries || load<u32>(ptr, 12) != ENTRY_BYTES || load<u32>(ptr, 16) != masterTableBytes()) {
    return RESTORE_SIZE_MISMATCH;
  }
  const expectedFrequency = version >= SNAPSHOT_VERSION ? frequencyTableBytes() : 0;
  const total = lengthOf(version, entries * ENTRY_BYTES);
  if (load<u32>(ptr, 28) != expectedFrequency || load<u32>(ptr, 24) != total) return RESTORE_SIZE_MISMATCH;

  resetHistory();
  resetAllBaselines();
  memory.copy(header, ptr, <usize>SNAPSHOT_HEADER_BYTES);
  memory.fill(keySection, 0, <usize>KEY_SECTION_BYTES);
  streamVersion = version;
  streamHistoryBytes = entries * ENTRY_BYTES;
  pendingFill = 0;
  droppedEntries = 0;
  droppedWindows = 0;
  restoreLength = total;
  restoreWritten = 0;
  return RESTORE_OK;
}

// Copies the next `length` bytes of the snapshot stream from `ptr`. Chunks
// come in order from offset 0, header included.
export function restoreWrite(ptr: usize, length: u32): i32 {
  if (restoreLength == 0) return RESTORE_NOT_CONFIGURED;
  const offset = restoreWritten;
  if (length > restoreLength - offset) return RESTORE_OUT_OF_RANGE;
  // The header was checked and kept by restoreBegin; it is not copied again.
  let skip: u32 = offset < SNAPSHOT_HEADER_BYTES ? SNAPSHOT_HEADER_BYTES - offset : 0;
  if (skip > length) skip = length;
  if (length > skip) copyStream(offset + skip, ptr + <usize>skip, length - skip, false);
  restoreWritten += length;
  return RESTORE_OK;
}

// Finishes a restore: moves the snapshot's frequency windows to the
// installed models. When bytes are missing the baselines are cleared.
export function restoreEnd(): i32 {
  if (restoreLength == 0) return RESTORE_NOT_CONFIGURED;
  const complete = restoreWritten == restoreLength;
  restoreLength = 0;
  // The next snapshotPrepare sets the stream layout again; until then
  // snapshotRead returns nothing.
  store<u32>(header, 0);
  if (!complete) {
    resetHistory();
    resetAllBaselines();
    return RESTORE_INCOMPLETE;
  }
  setLearningStart(load<u32>(header, 20));
  if (streamVersion >= SNAPSHOT_VERSION) {
    droppedWindows = moveWindows(frequencySourceBase(), keySection + 4, load<u32>(keySection));
  }
  return RESTORE_OK;
}
