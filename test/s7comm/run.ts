// Runs captures and hand-built frames through the core with the repository's
// models installed, and returns the records of one type with the ids of the
// models that fired on them. Shared by the S7comm and EtherNet/IP suites.
import { Core, type CoreRecord } from "../../agent/src/core/core.js";
import { readCapture } from "../../agent/src/capture/index.js";
import { loadModelSet } from "../../agent/src/core/models.js";
import { batchOf, timed, type TimedFrame } from "../helpers/frames.js";

export interface ModelRun {
  records: CoreRecord[];
  // Model ids of the alerts, in order, with the record each one fired on.
  alerts: { model: string; record: CoreRecord }[];
  anomalies: Record<string, number>;
  counters: Record<string, number>;
}

async function run(type: string, feed: (core: Core, onRecord: (r: CoreRecord) => void) => Promise<void>): Promise<ModelRun> {
  const core = await Core.load();
  const models = await loadModelSet();
  models.install(core);
  const records: CoreRecord[] = [];
  const alerts: ModelRun["alerts"] = [];
  let last: CoreRecord | undefined;
  const onRecord = (r: CoreRecord) => {
    if (r.type === "alert") {
      // An alert follows the record it fired on.
      alerts.push({ model: models.byIndex(r.fields.model_index as number)?.id ?? "?", record: last ?? r });
      return;
    }
    last = r;
    if (r.type === type) records.push(r);
  };
  await feed(core, onRecord);
  core.finish(onRecord);
  const stats = core.stats();
  return { records, alerts, anomalies: stats.anomalies, counters: stats.counters };
}

export function runCaptureWithModels(type: string, path: string): Promise<ModelRun> {
  return run(type, async (core, onRecord) => {
    for await (const batch of readCapture(path)) core.process(batch, onRecord);
  });
}

export function runFramesWithModels(type: string, frames: Uint8Array[]): Promise<ModelRun> {
  return runTimedWithModels(type, timed(frames));
}

// The same with the packet times the caller chose.
export function runTimedWithModels(type: string, frames: TimedFrame[]): Promise<ModelRun> {
  return run(type, async (core, onRecord) => { core.process(batchOf(frames), onRecord); });
}

// Anomaly counters above zero whose name starts with `prefix`.
export function anomaliesOf(anomalies: Record<string, number>, prefix: string): Record<string, number> {
  return Object.fromEntries(Object.entries(anomalies).filter(([name, n]) => name.startsWith(prefix) && n > 0));
}
