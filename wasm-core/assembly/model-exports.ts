// Exports of the model engine, re-exported by the core's entry (index.ts).

import { installModelTable, installedModelCount } from "./models";
import { resetAllBaselines } from "./baseline";
import { scratchPtr, scratchCapacity } from "./index";

// Installs the model table the host copied into the scratch region (`length`
// bytes, laid out as documented in models.ts). Returns the number of models
// installed, or a negative LOAD_* code from models.ts when the table is
// rejected; the previous table then stays installed.
export function loadModels(length: u32): i32 {
  if (length > scratchCapacity()) return -1;
  return installModelTable(scratchPtr(), length);
}

export function modelCount(): u32 {
  return installedModelCount();
}

// Forgets every baseline (pairs, frequency windows, Modbus masters).
export function resetBaselines(): void {
  resetAllBaselines();
}
