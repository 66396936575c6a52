// Runs captures and hand-built conversations through the WebAssembly core and
// collects the records by type, plus a reader for Zeek's SMB logs.
import { readFileSync } from "node:fs";
import { Core, type CoreLimits, type CoreRecord } from "../../agent/src/core/core.js";
import { readCapture } from "../../agent/src/capture/index.js";
import { batchOf, timed } from "../helpers/frames.js";

export interface RunResult {
  records: CoreRecord[];
  smb: CoreRecord[];
  anomalies: Record<string, number>;
  counters: Record<string, number>;
}

async function collect(feed: (core: Core, onRecord: (r: CoreRecord) => void) => Promise<void>, limits?: CoreLimits): Promise<RunResult> {
  const core = await Core.load({ limits });
  const records: CoreRecord[] = [];
  const onRecord = (r: CoreRecord) => { records.push(r); };
  await feed(core, onRecord);
  core.finish(onRecord);
  const stats = core.stats();
  return { records, smb: records.filter((r) => r.type === "smb"), anomalies: stats.anomalies, counters: stats.counters };
}

export function runCapture(path: string, limits?: CoreLimits): Promise<RunResult> {
  return collect(async (core, onRecord) => {
    for await (const batch of readCapture(path)) core.process(batch, onRecord);
  }, limits);
}

// Frames are timed one millisecond apart and processed as one batch.
export function runFrames(frames: Uint8Array[], limits?: CoreLimits): Promise<RunResult> {
  return collect(async (core, onRecord) => {
    core.process(batchOf(timed(frames)), onRecord);
  }, limits);
}

// Records of one command, in order.
export function byCommand(records: CoreRecord[], command: string): CoreRecord[] {
  return records.filter((r) => r.type === "smb" && r.fields.command === command);
}

// Rows of a Zeek log (smb_files.log, smb_mapping.log, files.log) as objects
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
