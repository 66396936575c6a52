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
import type { RecordFilter } from "./core/records.js";
import { loadModelSet, type ModelSet } from "./core/models.js";
import type { PacketBatch } from "./capture/batch.js";
import { AlertIdentity, buildAlert, type Alert, type AlertOrigin } from "./publish/alert.js";
import { recordToJson, type RecordJson } from "./publish/record.js";
import type { Logger } from "./log.js";
import { silentLogger } from "./log.js";
import { MAX_PACING_GAP_SEC } from "./config/config.js";

export interface ReplayOptions {
  site: string;
  gateway: string;
  modelsDir?: string;
  // IANA time zone of the baselines' hour-of-day profile (default UTC).
  timeZone?: string;
  wasmPath?: string;
  limits?: CoreLimits;
  // Also decode protocol records for observeRecord and onRecord (alerts are
  // always produced).
  keepRecords?: boolean;
  onAlert?: (alert: Alert) => void | Promise<void>;
  // Receives protocol records as JSON, after their batch. Without it no
  // record is turned into JSON.
  onRecord?: (record: RecordJson) => void | Promise<void>;
  // Limits onRecord to the records for which it returns true (the agent
  // publishes a selection), so that the others are never turned into JSON.
  // Without it onRecord receives every record.
  selectRecord?: (record: CoreRecord) => boolean;
  // Sees each protocol record as the core decoded it, synchronously while
  // the core processes the batch, in the core's order: for consumers that
  // only read records and need no JSON (the OT inventory). The record must
  // not be changed, because onRecord's JSON is built from it afterwards.
  observeRecord?: (record: CoreRecord) => void;
  // The JSON names of the fields observeRecord reads. When this is set and
  // onRecord is not, only these fields of protocol records are decoded.
  observedFields?: readonly string[];
  // Set when observeRecord keeps no record object (it copies the values it
  // keeps): without onRecord, one record object then serves every record.
  reuseObservedRecords?: boolean;
  // Sees every batch before the core does (the packet ring writes them).
  // The reader reuses the batch's buffer for the next batch, so a consumer
  // must copy the bytes it keeps before returning.
  onBatch?: (batch: PacketBatch) => void;
  // Replay pacing: 1 is the captured rate, 2 twice as fast, 0 as fast as possible.
  speed?: number;
  // Receives a gap of packet time that pacing skipped (see ReplayPacer).
  onPacingSkip?: (file: string, gapSec: number) => void;
  // Stops the replay before the next batch, and a pacing wait at once; the
  // result counts what was read until then.
  signal?: AbortSignal;
  // Called after each batch with the file and the byte offset of its first packet.
  onProgress?: (file: string, offset: number) => void;
  // Called once the core is loaded and the models installed, before the
  // first packet, so that a caller can install more tables (firmware
  // profiles) or read the core after the replay (the asset inventory).
  onCoreReady?: (core: Core) => void;
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

export interface RecordCounts {
  alerts: number;
  records: number;
  recordsByType: Record<string, number>;
  alertsWithUnknownModel: number;
}

// Turns core records into alerts and record JSON. The core calls `onCoreRecord`
// synchronously during a batch; `drain` then hands the queued items to the
// consumers in order, awaiting each. The live agent shares this with replays.
export class RecordRouter {
  readonly counts: RecordCounts = { alerts: 0, records: 0, recordsByType: {}, alertsWithUnknownModel: 0 };
  private pending: Pending[] = [];
  private readonly identity = new AlertIdentity();

  constructor(
    // Replaced on a model reload; alerts name models by index into this set.
    public modelSet: ModelSet,
    private readonly origin: AlertOrigin,
    private readonly options: Pick<ReplayOptions, "keepRecords" | "onAlert" | "onRecord" | "selectRecord" | "observeRecord" | "observedFields" | "reuseObservedRecords"> & { logger: Logger },
  ) {}

  // For Core.setRecordFilter: without keepRecords, only alerts need
  // decoding; the other records are only counted.
  readonly filter: RecordFilter = {
    decodes: (type) => type === "alert" || this.options.keepRecords === true,
    onSkipped: (type) => this.countRecord(type),
    // Without a JSON consumer, records other than alerts reach only
    // observeRecord, which names the fields it reads in observedFields.
    fields: (type) => (type === "alert" || this.options.onRecord ? undefined : this.options.observedFields),
    reusesRecords: (type) => type !== "alert" && !this.options.onRecord && this.options.reuseObservedRecords === true,
  };

  private countRecord(type: string): void {
    this.counts.records++;
    this.counts.recordsByType[type] = (this.counts.recordsByType[type] ?? 0) + 1;
  }

  readonly onCoreRecord = (record: CoreRecord): void => {
    if (record.type === "alert") {
      const index = record.fields.model_index;
      const model = typeof index === "number" ? this.modelSet.byIndex(index) : undefined;
      if (!model) {
        this.counts.alertsWithUnknownModel++;
        this.options.logger.warn({ modelIndex: index, flowId: record.flowId }, "alert record names no loaded model; dropped");
        return;
      }
      this.counts.alerts++;
      this.pending.push({ kind: "alert", alert: buildAlert(record, model, this.origin, this.identity) });
      return;
    }
    this.countRecord(record.type);
    if (!this.options.keepRecords) return;
    this.options.observeRecord?.(record);
    if (!this.options.onRecord) return;
    if (this.options.selectRecord && !this.options.selectRecord(record)) return;
    this.pending.push({ kind: "record", record: recordToJson(record) });
  };

  async drain(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    for (const item of batch) {
      if (item.kind === "alert") await this.options.onAlert?.(item.alert);
      else await this.options.onRecord?.(item.record);
    }
  }
}

// Waits until the packet time of `batch`'s first packet, scaled by 1/speed,
// has passed since the first batch of the replay, so that a replay runs at
// `speed` times the captured rate. The first call sets the reference. A gap
// above MAX_PACING_GAP_SEC, or time going backwards, is not waited for:
// the schedule goes on from that packet, and `onSkip` receives the gap.
export class ReplayPacer {
  private lastPacketSec: number | undefined;
  // Host time at which the last packet was due.
  private dueMs = 0;

  constructor(
    private readonly speed: number,
    private readonly now: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    private readonly onSkip?: (gapSec: number) => void,
  ) {}

  async pace(batch: PacketBatch): Promise<void> {
    if (this.speed <= 0 || batch.count === 0) return;
    const view = new DataView(batch.bytes.buffer, batch.bytes.byteOffset, batch.bytes.byteLength);
    const packetSec = view.getUint32(0, true) + view.getUint32(4, true) / batch.fracPerSecond;
    if (this.lastPacketSec === undefined) {
      this.lastPacketSec = packetSec;
      this.dueMs = this.now();
      return;
    }
    let gapSec = packetSec - this.lastPacketSec;
    this.lastPacketSec = packetSec;
    if (gapSec < 0 || gapSec > MAX_PACING_GAP_SEC) {
      this.onSkip?.(gapSec);
      gapSec = 0;
    }
    this.dueMs += (gapSec * 1000) / this.speed;
    const waitMs = this.dueMs - this.now();
    if (waitMs > 0) await this.sleep(waitMs);
  }
}

// Batch size while pacing: the readers' smallest, so that every packet
// travels alone and is handed over at its own packet time.
export const PACED_BATCH_BYTES = 64;

function sleepUnlessAborted(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

export async function replayFiles(files: string[], options: ReplayOptions): Promise<ReplayResult> {
  const logger = options.logger ?? silentLogger;
  const core = await Core.load({ limits: options.limits, wasmPath: options.wasmPath });
  const modelSet = await loadModelSet(options.modelsDir);
  modelSet.install(core, { timeZone: options.timeZone });
  options.onCoreReady?.(core);
  logger.info({ models: modelSet.models.length, files: files.length }, "replay started");

  const router = new RecordRouter(modelSet, { site: options.site, gateway: options.gateway }, { ...options, logger });
  core.setRecordFilter(router.filter);
  const result: ReplayResult = { files: [], alerts: 0, records: 0, recordsByType: {}, alertsWithUnknownModel: 0, core: { counters: {}, anomalies: {} } };
  const onCoreRecord = router.onCoreRecord;
  const drain = () => router.drain();
  const speed = options.speed ?? 0;
  let currentFile = "";
  const pacer = new ReplayPacer(speed, Date.now, (ms) => sleepUnlessAborted(ms, options.signal),
    (gapSec) => options.onPacingSkip?.(currentFile, gapSec));

  for (const file of files) {
    if (options.signal?.aborted) break;
    currentFile = file;
    const stats = newCaptureStats();
    const fileResult: FileResult = { file, capture: stats };
    result.files.push(fileResult);
    try {
      for await (const batch of readCapture(file, { stats, batchBytes: speed > 0 ? PACED_BATCH_BYTES : undefined, reuseBuffers: true })) {
        await pacer.pace(batch);
        if (options.signal?.aborted) break;
        options.onBatch?.(batch);
        core.process(batch, onCoreRecord);
        await drain();
        options.onProgress?.(file, batch.firstRecordOffset);
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
  Object.assign(result, router.counts);
  result.core = core.stats();
  logger.info({ records: result.records, alerts: result.alerts }, "replay finished");
  return result;
}
