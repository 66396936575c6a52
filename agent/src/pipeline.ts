// Replays capture files through the WebAssembly core: readCapture -> Core
// (with the detection models installed) -> protocol records and alerts.
//
// The core calls back synchronously while it processes a batch, so records
// and alerts of one batch are queued and handed to the (possibly
// asynchronous) consumers after the batch, in the order the core wrote them.
// Awaiting the consumers there gives back-pressure: the next batch waits
// until, for example, the MQTT publisher has room in its window.
import { CaptureError, newCaptureStats, readCapture } from "./capture/index.js";
import type { CaptureStats } from "./capture/index.js";
import { Core, type CoreLimits, type CoreRecord, type CoreStats } from "./core/core.js";
import { loadModelSet } from "./core/models.js";
import { AlertIdentity, buildAlert, type Alert } from "./publish/alert.js";
import { recordToJson, type RecordJson } from "./publish/record.js";
import type { Logger } from "./log.js";
import { silentLogger } from "./log.js";

export interface ReplayOptions {
  site: string;
  gateway: string;
  modelsDir?: string;
  wasmPath?: string;
  limits?: CoreLimits;
  // Also hand protocol records to onRecord (alerts are always produced).
  keepRecords?: boolean;
  onAlert?: (alert: Alert) => void | Promise<void>;
  onRecord?: (record: RecordJson) => void | Promise<void>;
  logger?: Logger;
}

export interface FileResult {
  file: string;
  capture: CaptureStats;
  // Set when the file could not be read to its end; batches read before the
  // error were still processed.
  error?: CaptureError;
}

export interface ReplayResult {
  files: FileResult[];
  alerts: number;
  records: number;
  recordsByType: Record<string, number>;
  // Alert records naming a model index the loaded model set does not have.
  alertsWithUnknownModel: number;
  core: CoreStats;
}

type Pending = { kind: "alert"; alert: Alert } | { kind: "record"; record: RecordJson };

export async function replayFiles(files: string[], options: ReplayOptions): Promise<ReplayResult> {
  const logger = options.logger ?? silentLogger;
  const core = await Core.load({ limits: options.limits, wasmPath: options.wasmPath });
  const modelSet = await loadModelSet(options.modelsDir);
  modelSet.install(core);
  logger.info({ models: modelSet.models.length, files: files.length }, "replay started");

  const identity = new AlertIdentity();
  const origin = { site: options.site, gateway: options.gateway };
  const result: ReplayResult = { files: [], alerts: 0, records: 0, recordsByType: {}, alertsWithUnknownModel: 0, core: { counters: {}, anomalies: {} } };
  let pending: Pending[] = [];

  const onCoreRecord = (record: CoreRecord): void => {
    if (record.type === "alert") {
      const index = record.fields.model_index;
      const model = typeof index === "number" ? modelSet.byIndex(index) : undefined;
      if (!model) {
        result.alertsWithUnknownModel++;
        logger.warn({ modelIndex: index, flowId: record.flowId }, "alert record names no loaded model; dropped");
        return;
      }
      result.alerts++;
      pending.push({ kind: "alert", alert: buildAlert(record, model, origin, identity) });
      return;
    }
    result.records++;
    result.recordsByType[record.type] = (result.recordsByType[record.type] ?? 0) + 1;
    if (options.keepRecords) pending.push({ kind: "record", record: recordToJson(record) });
  };

  const drain = async (): Promise<void> => {
    const batch = pending;
    pending = [];
    for (const item of batch) {
      if (item.kind === "alert") await options.onAlert?.(item.alert);
      else await options.onRecord?.(item.record);
    }
  };

  for (const file of files) {
    const stats = newCaptureStats();
    const fileResult: FileResult = { file, capture: stats };
    result.files.push(fileResult);
    try {
      for await (const batch of readCapture(file, { stats })) {
        core.process(batch, onCoreRecord);
        await drain();
      }
    } catch (error) {
      if (!(error instanceof CaptureError)) throw error;
      fileResult.error = error;
      logger.warn({ file, code: error.code, offset: error.offset }, "capture file not read to its end");
      await drain();
    }
  }

  core.finish(onCoreRecord);
  await drain();
  result.core = core.stats();
  logger.info({ records: result.records, alerts: result.alerts }, "replay finished");
  return result;
}
