// Test entry for the model engine: the real event writer (events.ts) and
// model engine (models.ts), without the packet pipeline, so that tests can
// write records field by field and read the alerts the models append.
// Built by test/models/engine.ts into a temporary folder.

export {
  initEvents, setRecordContext, beginRecord, endRecord, fieldU64, fieldI64, fieldBool,
  fieldText, fieldBytes, eventBufferBase, eventBufferUsed, resetEvents,
} from "../../../wasm-core/assembly/events";
export { anomalyName, anomalyCount } from "../../../wasm-core/assembly/counters";
export { fieldName } from "../../../protocols/fields";
import { installModelTable } from "../../../wasm-core/assembly/models";
import { resetAllBaselines } from "../../../wasm-core/assembly/baseline";

// Region where the host writes model tables, addresses and text values.
@inline const SCRATCH_BYTES: u32 = 131072;
let scratch: usize = 0;

export function scratchPointer(): usize {
  if (scratch == 0) scratch = heap.alloc(<usize>SCRATCH_BYTES);
  return scratch;
}

export function scratchBytes(): u32 {
  return SCRATCH_BYTES;
}

// Same contract as the core's loadModels (wasm-core/assembly/model-exports.ts):
// the table is in the scratch region.
export function loadModels(length: u32): i32 {
  return installModelTable(scratchPointer(), length);
}

export function resetBaselines(): void {
  resetAllBaselines();
}
