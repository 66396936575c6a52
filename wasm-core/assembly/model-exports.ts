// Exports of the model engine and its baselines, re-exported by the core's
// entry (index.ts). Tables and snapshot chunks pass through the scratch region.

import { installModels, installedModelCount } from "./models";
import { resetAllBaselines } from "./baseline";
import { configureTimeOffsets } from "./baseline-time";
import { configureHistory, setLearningSeconds, resetHistory } from "./baseline-history";
import {
  snapshotPrepare, snapshotRead, restoreBegin, restoreWrite, restoreEnd, restoredDroppedEntries, restoredDroppedWindows,
} from "./baseline-snapshot";
import { installProfileTable, installedProfileDevices } from "./scorer-profile";
import { readHostMac, resetHostMacs, MAX_HOST_MACS } from "./host-macs";
import { scratchPtr, scratchCapacity } from "./index";

// Installs the model table the host copied into the scratch region (`length`
// bytes: the table laid out as documented in models.ts, optionally followed
// by the window key section of installModels). Returns the number of models
// installed, or a negative LOAD_* code from models.ts when the table is
// rejected; the previous table then stays installed.
export function loadModels(length: u32): i32 {
  if (length > scratchCapacity()) return -1;
  return installModels(scratchPtr(), length);
}

// Installs the firmware-profile table the host copied into the scratch region
// (`length` bytes, laid out as documented in scorer-profile.ts). Returns the
// number of devices, or a negative PROFILE_LOAD_* code; the previous table
// then stays installed.
export function loadProfiles(length: u32): i32 {
  if (length > scratchCapacity()) return -1;
  return installProfileTable(scratchPtr(), length);
}

export function profileDeviceCount(): u32 {
  return installedProfileDevices();
}

// Number of slots of the Ethernet address table; hostMacRead reads one.
export function hostMacSlots(): u32 {
  return MAX_HOST_MACS;
}

// Copies slot `index` of the Ethernet address table into scratch: 16 bytes
// IP address, 6 bytes Ethernet address, u8 IP version. Returns 1, or 0 for a
// free slot.
export function hostMacRead(index: u32): u32 {
  return readHostMac(index, scratchPtr()) ? 1 : 0;
}

export function modelCount(): u32 {
  return installedModelCount();
}

// Sizes the traffic baselines and sets the learning period, from 8 bytes in
// scratch: u32 history entries (a power of two), u32 learning period in
// seconds of packet time (0: none). Returns 0, or a negative HISTORY_* code
// from baseline-history.ts (-1 also for a wrong length).
export function configureBaselines(length: u32): i32 {
  if (length != 8) return -1;
  const result = configureHistory(load<u32>(scratchPtr()));
  if (result == 0) setLearningSeconds(load<u32>(scratchPtr(), 4));
  return result;
}

// Installs the schedule of UTC offsets of the plant's time zone, from
// `length` bytes in scratch laid out as documented in baseline-time.ts
// (0 bytes: UTC). Returns 0, or a negative OFFSETS_* code from
// baseline-time.ts; the previous schedule then stays.
export function configureTimeZone(length: u32): i32 {
  if (length > scratchCapacity()) return -1;
  return configureTimeOffsets(scratchPtr(), length);
}

// Forgets every baseline (traffic baselines, frequency windows, Modbus
// masters) and restarts the learning period.
export function resetBaselines(): void {
  resetAllBaselines();
  resetHostMacs();
  resetHistory();
}

// Snapshot of the baselines (baseline-snapshot.ts): prepare, then read it in
// chunks of at most the scratch capacity.
export function baselineSnapshotPrepare(): u32 {
  return snapshotPrepare();
}

// Copies up to `length` bytes of the snapshot from `offset` into scratch.
// Returns the number of bytes copied.
export function baselineSnapshotRead(offset: u32, length: u32): u32 {
  const n = length < scratchCapacity() ? length : scratchCapacity();
  return snapshotRead(offset, scratchPtr(), n);
}

// Restore: begin with the header in scratch, write every chunk in order from
// offset 0 (header included), then end. Each returns 0 or a
// negative RESTORE_* code from baseline-snapshot.ts.
export function baselineRestoreBegin(length: u32): i32 {
  if (length > scratchCapacity()) return -6;
  return restoreBegin(scratchPtr(), length);
}

export function baselineRestoreWrite(length: u32): i32 {
  if (length > scratchCapacity()) return -6;
  return restoreWrite(scratchPtr(), length);
}

export function baselineRestoreEnd(_length: u32): i32 {
  return restoreEnd();
}

// History entries the last restore dropped because the snapshot was taken
// with more historyEntries than this core has.
export function baselineRestoreDroppedEntries(): u32 {
  return restoredDroppedEntries();
}

// Frequency windows the last restore dropped: their model is gone, or its id
// or frequency settings changed.
export function baselineRestoreDroppedWindows(): u32 {
  return restoredDroppedWindows();
}
