// Runs captures and hand-built frames through the WebAssembly core and
// collects every record with the core's counters, plus a reader for the Zeek
// logs that real-capture tests compare against.
import { readFileSync } from "node:fs";
import { Core, type CoreLimits, type CoreRecord } from "../../agent/src/core/core.js";
import { readCapture } from "../../agent/src/capture/index.js";
import { batchOf, timed } from "./frames.js";

export interface CoreRun {
  records: CoreRecord[];
  anomalies: Record<string, number>;
  counters: Record<string, number>;
}

type Feed = (core: Core, onRecord: (r: CoreRecord) => void) => Promise<void>;

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
  return collect(async (core, onRecord) => {
    for await (const batch of readCapture(path)) core.process(batch, onRecord);
  }, limits);
}

// Frames are timed one millisecond apart and processed as one batch.
export function runFramesThroughCore(frames: Uint8Array[], limits?: CoreLimits): Promise<CoreRun> {
  return collect(async (core, onRecord) => {
    core.process(batchOf(timed(frames)), onRecord);
  }, limits);
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
