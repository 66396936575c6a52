// Test entry for the model engine: the real event writer (events.ts), model
// engine (models.ts) and baselines, without the packet pipeline, so that
// tests can write records field by field and read the alerts the models
// append. Built by test/models/engine.ts into a temporary folder.

import { fieldLiteral } from "../../../wasm-core/assembly/events";
export {
  initEvents, setRecordContext, beginRecord, endRecord, fieldU64, fieldI64, fieldBool,
  fieldText, fieldBytes, eventBufferBase, eventBufferUsed, resetEvents,
} from "../../../wasm-core/assembly/events";
export { anomalyName, anomalyCount } from "../../../wasm-core/assembly/counters";
export { fieldName } from "../../../protocols/fields";
import { FIELD_ID_LIMIT } from "../../../protocols/fields";
import { ANOMALY_ID_LIMIT } from "../../../wasm-core/assembly/counters";
import { installModels } from "../../../wasm-core/assembly/models";
import { resetAllBaselines } from "../../../wasm-core/assembly/baseline";
import { configureTimeOffsets } from "../../../wasm-core/assembly/baseline-time";
import { configureHistory, setLearningSeconds, resetHistory } from "../../../wasm-core/assembly/baseline-history";
import { FNV32_OFFSET, FNV64_OFFSET, fnv32, fnv64 } from "../../../wasm-core/assembly/fnv";
import {
  snapshotPrepare, snapshotRead, restoreBegin, restoreWrite, restoreEnd, restoredDroppedEntries, restoredDroppedWindows,
} from "../../../wasm-core/assembly/baseline-snapshot";

// Region where the host writes model tables, addresses, text values and
// snapshot chunks.
@inline const SCRATCH_BYTES: u32 = 262144;
let scratch: usize = 0;

export function scratchPointer(): usize {
  if (scratch == 0) scratch = heap.alloc(<usize>SCRATCH_BYTES);
  return scratch;
}

export function scratchBytes(): u32 {
  return SCRATCH_BYTES;
}

export function fieldIdLimit(): u32 { return FIELD_ID_LIMIT; }
export function anomalyIdLimit(): u32 { return ANOMALY_ID_LIMIT; }

// The exports below have the contract of the core's (model-exports.ts).
export function scratchPtr(): usize { return scratchPointer(); }
export function scratchCapacity(): u32 { return SCRATCH_BYTES; }

export function loadModels(length: u32): i32 {
  return installModels(scratchPointer(), length);
}

export function configureBaselines(length: u32): i32 {
  if (length != 8) return -1;
  const result = configureHistory(load<u32>(scratchPointer()));
  if (result == 0) setLearningSeconds(load<u32>(scratchPointer(), 4));
  return result;
}

export function configureTimeZone(length: u32): i32 {
  return length > SCRATCH_BYTES ? -1 : configureTimeOffsets(scratchPointer(), length);
}

export function resetBaselines(): void {
  resetAllBaselines();
  resetHistory();
}

export function baselineSnapshotPrepare(): u32 { return snapshotPrepare(); }

export function baselineSnapshotRead(offset: u32, length: u32): u32 {
  return snapshotRead(offset, scratchPointer(), length < SCRATCH_BYTES ? length : SCRATCH_BYTES);
}

export function baselineRestoreBegin(length: u32): i32 {
  return length > SCRATCH_BYTES ? -6 : restoreBegin(scratchPointer(), length);
}

export function baselineRestoreWrite(length: u32): i32 {
  if (length > SCRATCH_BYTES) return -6;
  return restoreWrite(scratchPointer(), length);
}

export function baselineRestoreEnd(_length: u32): i32 { return restoreEnd(); }
export function baselineRestoreDroppedEntries(): u32 { return restoredDroppedEntries(); }
export function baselineRestoreDroppedWindows(): u32 { return restoredDroppedWindows(); }

// FNV-1a of the first `length` bytes of scratch, for the hash tests.
export function fnv32Scratch(length: u32): u32 { return fnv32(FNV32_OFFSET, scratchPointer(), length); }
export function fnv64Scratch(length: u32): u64 { return fnv64(FNV64_OFFSET, scratchPointer(), length); }

// Writes static names with fieldLiteral into the open record, one field
// `id` each: every length modulo 4, and code units outside ASCII.
export function fieldLiteralSamples(id: u16): void {
  fieldLiteral(id, "");
  fieldLiteral(id, "a");
  fieldLiteral(id, "abc");
  fieldLiteral(id, "abcd");
  fieldLiteral(id, "request");
  fieldLiteral(id, "READ_HOLDING_REGISTERS");
  fieldLiteral(id, "caf\u00e9 au lait");
  fieldLiteral(id, "\u20acuro");
}
