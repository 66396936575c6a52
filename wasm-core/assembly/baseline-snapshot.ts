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
//     28 u32 reserved, 0
//   then the history table, then the master table, as they are in memory.
//
// Frequency windows are not kept: they span minutes and restart harmlessly.

import {
  historyTable, historyEntries, historyBytes, ENTRY_BYTES, learningStartSec, setLearningStart, resetHistory,
} from "./baseline-history";
import { initBaselines, masterTableBase, masterTableBytes, resetAllBaselines } from "./baseline";

@inline export const SNAPSHOT_MAGIC: u32 = 0x53425346;
@inline export const SNAPSHOT_VERSION: u16 = 1;
@inline export const SNAPSHOT_HEADER_BYTES: u32 = 32;

// restoreBegin / restoreEnd results.
@inline export const RESTORE_OK: i32 = 0;
@inline export const RESTORE_NOT_CONFIGURED: i32 = -1;
@inline export const RESTORE_BAD_MAGIC: i32 = -2;
@inline export const RESTORE_BAD_VERSION: i32 = -3;
@inline export const RESTORE_SIZE_MISMATCH: i32 = -4;
@inline export const RESTORE_INCOMPLETE: i32 = -5;
@inline export const RESTORE_OUT_OF_RANGE: i32 = -6;

const header = memory.data(<i32>SNAPSHOT_HEADER_BYTES);
let restoreLength: u32 = 0;
let restoreWritten: u32 = 0;

function totalLength(): u32 {
  return SNAPSHOT_HEADER_BYTES + historyBytes() + masterTableBytes();
}

// Prepares a snapshot of the current baselines and returns its length, or 0
// when the baselines are not configured yet.
export function snapshotPrepare(): u32 {
  if (historyTable() == 0) return 0;
  initBaselines();
  memory.fill(header, 0, <usize>SNAPSHOT_HEADER_BYTES);
  store<u32>(header, SNAPSHOT_MAGIC);
  store<u16>(header, SNAPSHOT_VERSION, 4);
  store<u32>(header, historyEntries(), 8);
  store<u32>(header, ENTRY_BYTES, 12);
  store<u32>(header, masterTableBytes(), 16);
  store<u32>(header, learningStartSec, 20);
  store<u32>(header, totalLength(), 24);
  return totalLength();
}

// Copies `length` bytes between the snapshot stream at `offset` and `ptr`:
// out of the baselines when `read`, into them otherwise.
function copyStream(offset: u32, ptr: usize, length: u32, read: bool): void {
  const historyEnd = SNAPSHOT_HEADER_BYTES + historyBytes();
  let done: u32 = 0;
  while (done < length) {
    const at = offset + done;
    let region: usize;
    let regionStart: u32;
    let regionEnd: u32;
    if (at < SNAPSHOT_HEADER_BYTES) {
      region = header; regionStart = 0; regionEnd = SNAPSHOT_HEADER_BYTES;
    } else if (at < historyEnd) {
      region = historyTable(); regionStart = SNAPSHOT_HEADER_BYTES; regionEnd = historyEnd;
    } else {
      region = masterTableBase(); regionStart = historyEnd; regionEnd = historyEnd + masterTableBytes();
    }
    let n = regionEnd - at;
    if (n > length - done) n = length - done;
    const inRegion = region + <usize>(at - regionStart);
    if (read) memory.copy(ptr + <usize>done, inRegion, <usize>n);
    else memory.copy(inRegion, ptr + <usize>done, <usize>n);
    done += n;
  }
}

// Copies up to `length` bytes of the prepared snapshot from `offset` to
// `ptr`. Returns the number of bytes copied (0 at the end).
export function snapshotRead(offset: u32, ptr: usize, length: u32): u32 {
  const total = load<u32>(header, 24);
  if (load<u32>(header) != SNAPSHOT_MAGIC || offset >= total) return 0;
  const n = length < total - offset ? length : total - offset;
  copyStream(offset, ptr, n, true);
  return n;
}

// Checks the snapshot header at `ptr` against the configured tables and
// starts a restore. The baselines are cleared, so a restore that does not
// complete leaves them empty, never half old and half new.
export function restoreBegin(ptr: usize, length: u32): i32 {
  restoreLength = 0;
  if (historyTable() == 0) return RESTORE_NOT_CONFIGURED;
  if (length < SNAPSHOT_HEADER_BYTES || load<u32>(ptr) != SNAPSHOT_MAGIC) return RESTORE_BAD_MAGIC;
  if (load<u16>(ptr, 4) != SNAPSHOT_VERSION) return RESTORE_BAD_VERSION;
  initBaselines();
  if (load<u32>(ptr, 8) != historyEntries() || load<u32>(ptr, 12) != ENTRY_BYTES ||
      load<u32>(ptr, 16) != masterTableBytes() || load<u32>(ptr, 24) != totalLength()) {
    return RESTORE_SIZE_MISMATCH;
  }
  resetHistory();
  resetAllBaselines();
  memory.copy(header, ptr, <usize>SNAPSHOT_HEADER_BYTES);
  restoreLength = totalLength();
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

// Finishes a restore. When bytes are missing the baselines are cleared.
export function restoreEnd(): i32 {
  if (restoreLength == 0) return RESTORE_NOT_CONFIGURED;
  const complete = restoreWritten == restoreLength;
  restoreLength = 0;
  if (!complete) {
    resetHistory();
    resetAllBaselines();
    return RESTORE_INCOMPLETE;
  }
  setLearningStart(load<u32>(header, 20));
  return RESTORE_OK;
}
