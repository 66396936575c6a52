// Helpers of the OT tests: replay captures with the inventory and the
// firmware profiles, and group the alerts by model.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { replayWithInventory, type InventoryReplay } from "../../agent/src/inventory/session.js";
import { loadProfiles, packageProfilesDir } from "../../agent/src/profiles/profiles.js";
import type { Alert } from "../../agent/src/publish/alert.js";
import type { RecordJson } from "../../agent/src/publish/record.js";

export interface OtRun extends InventoryReplay {
  records: RecordJson[];
  byModel: Map<string, Alert[]>;
}

// Replays `files` with the shipped profiles plus `extraProfiles` (files or
// folders) and keeps every record.
export async function replayOt(files: string[], extraProfiles: string[] = []): Promise<OtRun> {
  const records: RecordJson[] = [];
  const run = await replayWithInventory(files, loadProfiles([packageProfilesDir, ...extraProfiles]), {
    onRecord: (record) => { records.push(record); },
  });
  const byModel = new Map<string, Alert[]>();
  for (const alert of run.alerts) byModel.set(alert.model, [...(byModel.get(alert.model) ?? []), alert]);
  return { ...run, records, byModel };
}

// Writes `text` as a YAML file in a new temporary folder and returns its path.
export function tempYaml(name: string, text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), "fieldsense-ot-")), name);
  writeFileSync(file, text);
  return file;
}

// Writes bytes to a new temporary file and returns its path.
export function tempFile(name: string, bytes: Uint8Array): string {
  const file = join(mkdtempSync(join(tmpdir(), "fieldsense-ot-")), name);
  writeFileSync(file, bytes);
  return file;
}
