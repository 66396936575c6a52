// Runs captures and hand-built frames through the WebAssembly core, with or
// without detection models, and collects every record with the core's
// counters. Also a reader for the Zeek logs that real-capture tests compare
// against.
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Core, type CoreLimits, type CoreRecord } from "../../agent/src/core/core.js";
import { readCapture } from "../../agent/src/capture/index.js";
import { loadModelSet } from "../../agent/src/core/models.js";
import { repoRoot } from "./captures.js";
import { batchOf, timed } from "./frames.js";

export interface CoreRun {
  records: CoreRecord[];
  anomalies: Record<string, number>;
  counters: Record<string, number>;
}

export type Feed = (core: Core, onRecord: (r: CoreRecord) => void) => Promise<void>;

// Feeds every batch of the capture file at `path`.
export const captureFeed = (path: string): Feed => async (core, onRecord) => {
  for await (const batch of readCapture(path)) core.process(batch, onRecord);
};

// Feeds the frames as one batch, timed one millisecond apart.
export const framesFeed = (frames: Uint8Array[]): Feed => async (core, onRecord) => {
  core.process(batchOf(timed(frames)), onRecord);
};

export const PACKAGE_MODELS = join(repoRoot, "models");

export interface ModelAlert {
  // Id of the model that fired.
  id: string;
  score: number;
  alert: CoreRecord;
}

export interface ModelRun {
  records: CoreRecord[];
  alerts: ModelAlert[];
}

// Installs only the model files `files` of `dir` (the package's models/ by
// default) in a fresh core with no learning period, so that the tests check
// the models' own decisions. Feeds the core and returns every record, plus
// the alerts with the id of the model that fired each.
export async function runWithModels(files: string[], feed: Feed, dir = PACKAGE_MODELS): Promise<ModelRun> {
  const scratch = mkdtempSync(join(tmpdir(), "fieldsense-models-"));
  try {
    for (const file of files) copyFileSync(join(dir, file), join(scratch, file));
    const models = await loadModelSet(scratch);
    const core = await Core.load();
    models.install(core, { learningSeconds: 0 });
    const records: CoreRecord[] = [];
    const onRecord = (r: CoreRecord) => { records.push(r); };
    await feed(core, onRecord);
    core.finish(onRecord);
    const alerts = records.filter((r) => r.type === "alert").map((alert) => ({
      id: models.byIndex(alert.fields.model_index as number)?.id ?? "?",
      score: alert.fields.score as number,
      alert,
    }));
    return { records, alerts };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

async function collect(feed: Feed, limits?: CoreLimits): Promise<CoreRun> {
  const core = await Core.load({ limits });
  const records: CoreRecord[] = [];
  const onRecord = (r: CoreRecord) => { records.push(r); };
  await feed(core, onRecord);
  core.finish(onRecord);
  const stats = core.stats();
  return { records, anomalies: stats.anomalies, counters: stats.counters };
}

export function runCaptureThroughCore(path: string, limits?: CoreLimits): Promise<CoreRun> {
  return collect(captureFeed(path), limits);
}

// Frames are timed one millisecond apart and processed as one batch.
export function runFramesThroughCore(frames: Uint8Array[], limits?: CoreLimits): Promise<CoreRun> {
  return collect(framesFeed(frames), limits);
}

// Rows of a Zeek log (modbus.log, dce_rpc.log, smb_files.log, ...) as objects
// keyed by the #fields names; Zeek escapes a backslash as "\\".
export function readZeekLog(path: string): Record<string, string>[] {
  const lines = readFileSync(path, "utf8").split("\n");
  const header = lines.find((l) => l.startsWith("#fields"));
  if (!header) throw new Error(`missing #fields line in Zeek log ${path}`);
  const columns = header.split("\t").slice(1);
  const rows: Record<string, string>[] = [];
  for (const line of lines) {
    if (line === "" || line.startsWith("#")) continue;
    const values = line.split("\t");
    const row: Record<string, string> = {};
    columns.forEach((name, i) => { row[name] = (values[i] ?? "").replace(/\\\\/g, "\\"); });
    rows.push(row);
  }
  return rows;
}
