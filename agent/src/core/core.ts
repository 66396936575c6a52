// Host side of the WebAssembly core: loads build/core.wasm, copies packet
// batches into the core's scratch region, loops `processBatch` and turns the
// event buffer into CoreRecord objects. The ABI is documented in
// wasm-core/README.md. The Node side never parses packets.
import { readFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { PacketBatch } from "../capture/batch.js";
import { RECORD_HEADER_BYTES as PCAP_RECORD_HEADER_BYTES } from "../capture/batch.js";
import { decodeRecords, type NameTables, type RecordFilter } from "./records.js";
import { createLogger, type Logger } from "../log.js";
import { FIELD_TYPES_FILE, readFieldValueTypes, type FieldValueTypes } from "./field-types.js";

export interface Endpoint { ip: string; port: number }
export interface CoreRecord {
  type: string;
  tsSec: number; tsNsec: number;
  ts: string;
  flowId: number;
  transport: "tcp" | "udp";
  serverToClient: boolean;
  truncated: boolean;
  src: Endpoint;
  dst: Endpoint;
  fields: Record<string, FieldValue>;
}
export type FieldValue = number | string | boolean | FieldValue[];
export interface CoreLimits {
  maxFlows?: number;
  // Large (32 KiB) dissector state areas: SMB, DCE-RPC and Kerberos flows
  // dissected at once. Modbus flows take a small area, one per flow.
  appStateSlots?: number;
  streamBufferBytes?: number;
  reassemblyBytesTotal?: number;
  eventBufferBytes?: number;
  flowIdleTimeoutSec?: number;
}
export interface CoreStats { counters: Record<string, number>; anomalies: Record<string, number> }

// Defaults sized for a gateway with 1 GB of memory. The pools take about
// 138 MiB of address space (estimateCoreBytes, with the model engine's
// tables), but a page becomes resident only when it is first written. The
// flow table and hash take 13 MiB for 131,072 flows. Modbus state takes 7 MiB
// (one 56-byte area per flow). Other small dissector state takes 16 MiB (one
// 128-byte area per flow, for EtherNet/IP and the remote access protocols),
// and large dissector state 16 MiB (512 x 32 KiB, for SMB, DCE-RPC and
// Kerberos). The Modbus pending extensions take 3 MiB, stream buffers 64 MiB,
// events 1 MiB, scratch 4 MiB, IP defragmentation 2 MiB, and the baseline,
// model and login burst tables 11 MiB. 100,000 concurrent Modbus flows fit
// without eviction. After bench/core-throughput.ts ran
// bench/corpus/many-flows-100000.pcap (100,000 Modbus flows) once,
// /proc/self/smaps showed 27.3 MiB resident. The flows took 15.6 MiB of it:
// each a 96-byte entry and a 56-byte Modbus area, plus 1 MiB of hash
// buckets. The model engine's tables took 9.1 MiB, and events and scratch
// 2 MiB.
export const DEFAULT_LIMITS: Required<CoreLimits> = {
  maxFlows: 131072,
  appStateSlots: 512,
  streamBufferBytes: 65536,
  reassemblyBytesTotal: 64 * 1024 * 1024,
  eventBufferBytes: 1024 * 1024,
  flowIdleTimeoutSec: 300,
};

// Bounds the core checks in `configure` (wasm-core/assembly/index.ts).
const MAX_FLOWS_LIMIT = 1 << 24;
// The SMB dissector parses the first 16,384 bytes of a message
// (SMB_PARSE_WINDOW_BYTES in protocols/smb/smb.ts) behind the 4-byte session
// header, and a stream buffer must be able to hold them together.
const MIN_STREAM_BUFFER_BYTES = 16384 + 4;
const MAX_STREAM_BUFFER_BYTES = 64 << 20;
const EVENT_RESERVE_BYTES = 65536;
const MAX_CAPLEN = 262144;
const SCRATCH_BYTES = 4 * 1024 * 1024;
// Wasm32 linear memory cannot exceed 4 GiB, and the core is built with a
// 2 GiB maximum (wasm-core/asconfig.json).
const MAX_CORE_MEMORY_BYTES = 2 * 1024 * 1024 * 1024;
// Pool sizes behind `estimateCoreBytes`, from wasm-core/assembly. The core
// allocates a flow entry (flows.ts), the two dissector state classes
// (protocols/api.ts) and the Modbus state pool, the range list in front of
// each stream buffer (stream.ts), the fixed defragmentation pool (fragments.ts) and the Modbus
// pending extensions (protocols/modbus/state.ts). The model engine allocates
// the baseline history (224 bytes an entry, baseline-history.ts), the
// frequency table and its copy for moving windows, the master table
// (baseline.ts) and the model table (models.ts).
const FLOW_ENTRY_BYTES = 96;
const APP_STATE_BYTES = 32768;
const APP_STATE_SMALL_BYTES = 128;
const MODBUS_STATE_BYTES = 56;
const STREAM_BUFFER_OVERHEAD_BYTES = 136;
const DEFRAGMENT_BYTES = 32 * 65992;
const MODBUS_EXTENSION_BYTES = 2048 * (63 * 24 + 4);
// Head buffers for scheduled-task files: FILE_HEAD_SLOTS (protocols/file/objects.ts)
// x FILE_HEAD_BYTES (protocols/file/task.ts), plus one owner byte per slot.
const FILE_HEAD_POOL_BYTES = 16 * 4096 + 16;
const BASELINE_HISTORY_ENTRY_BYTES = 224;
// Each set of 8 entries has a 64-byte line of tags and entry addresses.
const BASELINE_HISTORY_SET_BYTES_PER_ENTRY = 8;
// DEFAULT_HISTORY_ENTRIES in agent/src/core/models.ts.
const DEFAULT_BASELINE_HISTORY_ENTRIES = 32768;
const BASELINE_FIXED_BYTES = 2 * 4096 * (24 + 8 * 32) + 2048 * (32 + 40 * 8);
const MODEL_TABLE_BYTES = 65536;
// The login_burst table (scorer-access.ts): 512 bursts of 1,700 bytes.
const LOGIN_BURST_TABLE_BYTES = 512 * 1700;

const CONFIGURE_ERRORS: Record<number, string> = {
  1: "the core was already configured",
  2: "maxFlows is out of range",
  3: "appStateSlots is out of range",
  4: "streamBufferBytes is out of range",
  5: "reassemblyBytesTotal is below streamBufferBytes",
  6: "eventBufferBytes is too small",
  7: "the scratch region is too small",
  8: "flowIdleTimeoutSec must be at least 1",
};

// The module aborted (an `abort` or a trap): its state is lost and the
// instance must be replaced.
export class CoreTrapError extends Error {
  readonly code = "CORE_TRAP";
  constructor(message: string, readonly file?: string, readonly line?: number, readonly column?: number) {
    super(message);
    this.name = "CoreTrapError";
  }
}

export class CoreConfigError extends Error {
  readonly code = "CORE_CONFIG_INVALID";
  // `limit`: the CoreLimits name whose value is invalid; absent when the
  // limits together need too much memory.
  constructor(message: string, readonly limit?: keyof CoreLimits) {
    super(message);
    this.name = "CoreConfigError";
  }
}

// A trap inside the module: WebAssembly.RuntimeError (unreachable, out of
// bounds memory, division by zero), a stack overflow (RangeError) or an
// AssemblyScript abort (CoreTrapError from the abort import).
function isTrap(error: unknown): boolean {
  return error instanceof WebAssembly.RuntimeError || error instanceof CoreTrapError ||
    (error instanceof RangeError && /call stack/i.test(error.message));
}

interface CoreExports {
  memory: WebAssembly.Memory;
  configure(maxFlows: number, appStateSlots: number, streamBufferBytes: number, reassemblyBytesTotal: number,
    eventBufferBytes: number, flowIdleTimeoutSec: number, scratchBytes: number): number;
  scratchPtr(): number;
  scratchCapacity(): number;
  processBatch(offset: number, length: number, linkType: number, fracPerSecond: number): number;
  eventsPtr(): number;
  eventsLength(): number;
  eventsReset(): void;
  finish(): number;
  tick(nowSec: number): number;
  fieldName(id: number): number;
  recordTypeName(type: number): number;
  anomalyName(id: number): number;
  counterName(id: number): number;
  counterValue(id: number): number;
  anomalyCount(id: number): number;
  fieldIdLimit(): number;
  recordTypeLimit(): number;
  anomalyIdLimit(): number;
  counterIdLimit(): number;
  eventsClosedLength(): number;
  currentRecordOffset(): number;
  setFileDataRecords(enabled: number): void;
  [name: string]: unknown;
}

// build/core.wasm relative to the package root: this file runs from
// agent/src/core (tsx) or dist/agent/src/core (compiled).
function defaultWasmPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const up of ["../../..", "../../../.."]) {
    const root = resolve(here, up);
    if (existsSync(join(root, "package.json"))) return join(root, "build", "core.wasm");
  }
  return resolve(here, "../../../build/core.wasm");
}

function checkLimit(name: keyof CoreLimits, value: number, min: number, max: number, unit: string): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new CoreConfigError(`invalid core limit ${name}: ${value}; expected an integer from ${min} to ${max} ${unit}`, name);
  }
}

// Fills in the defaults and checks the limits as Core.load does, without
// loading the module; throws CoreConfigError.
export function resolveLimits(limits: CoreLimits = {}): Required<CoreLimits> {
  const l: Required<CoreLimits> = { ...DEFAULT_LIMITS };
  for (const [key, value] of Object.entries(limits)) {
    if (!(key in DEFAULT_LIMITS)) {
      throw new CoreConfigError(`unknown core limit ${key}; known limits: ${Object.keys(DEFAULT_LIMITS).join(", ")}`);
    }
    if (value !== undefined) (l as Record<string, number>)[key] = value as number;
  }
  checkLimit("maxFlows", l.maxFlows, 1, MAX_FLOWS_LIMIT, "flows");
  checkLimit("appStateSlots", l.appStateSlots, 1, l.maxFlows, "slots (at most maxFlows)");
  checkLimit("streamBufferBytes", l.streamBufferBytes, MIN_STREAM_BUFFER_BYTES, MAX_STREAM_BUFFER_BYTES,
    "bytes (the SMB dissector needs a 16,384-byte message window plus the 4-byte session header in one stream buffer)");
  checkLimit("reassemblyBytesTotal", l.reassemblyBytesTotal, l.streamBufferBytes, MAX_CORE_MEMORY_BYTES / 2, "bytes (at least streamBufferBytes)");
  checkLimit("eventBufferBytes", l.eventBufferBytes, 2 * EVENT_RESERVE_BYTES, 256 * 1024 * 1024, "bytes");
  checkLimit("flowIdleTimeoutSec", l.flowIdleTimeoutSec, 1, 0xffffffff, "seconds");
  const needed = estimateCoreBytes(l);
  if (needed > MAX_CORE_MEMORY_BYTES) {
    throw new CoreConfigError(`core limits need about ${Math.ceil(needed / 2 ** 20)} MiB, above the core's ${MAX_CORE_MEMORY_BYTES / 2 ** 20} MiB memory maximum; lower appStateSlots, maxFlows or reassemblyBytesTotal (limits ${JSON.stringify(l)})`);
  }
  return l;
}

// Returns the bytes the core allocates for these limits (`configure`) and for
// the model engine's tables with `historyEntries` baseline history entries.
// wasm-core/README.md lays out each pool. The 1 MiB added covers static data
// and the stack.
export function estimateCoreBytes(l: Required<CoreLimits>, historyEntries = DEFAULT_BASELINE_HISTORY_ENTRIES): number {
  let buckets = 16;
  while (buckets < l.maxFlows * 2) buckets *= 2;
  const flowTable = l.maxFlows * FLOW_ENTRY_BYTES + buckets * 4;
  const appStates = l.maxFlows * (APP_STATE_SMALL_BYTES + MODBUS_STATE_BYTES) + l.appStateSlots * APP_STATE_BYTES;
  const streamBuffers = Math.floor(l.reassemblyBytesTotal / l.streamBufferBytes) * (l.streamBufferBytes + STREAM_BUFFER_OVERHEAD_BYTES);
  const models = historyEntries * (BASELINE_HISTORY_ENTRY_BYTES + BASELINE_HISTORY_SET_BYTES_PER_ENTRY) + BASELINE_FIXED_BYTES + MODEL_TABLE_BYTES + LOGIN_BURST_TABLE_BYTES;
  return flowTable + appStates + streamBuffers + l.eventBufferBytes + SCRATCH_BYTES + DEFRAGMENT_BYTES +
    MODBUS_EXTENSION_BYTES + FILE_HEAD_POOL_BYTES + models + 2 ** 20;
}

export interface CoreLoadOptions {
  limits?: CoreLimits;
  wasmPath?: string;
  // Receives restarts after a trap and batches stopped at a corrupt record.
  logger?: Logger;
}

export interface CallOptions {
  // Call the export again, with the same bytes, on the instance that replaces
  // a trapped one. A later call of the same export replaces the bytes kept.
  replayOnRestart?: boolean;
}

// currentRecordOffset() while the core runs no record.
const NO_RECORD = 0xffffffff;

let defaultLogger: Logger | undefined;
function coreLogger(): Logger {
  defaultLogger ??= createLogger("core");
  return defaultLogger;
}

// Instantiates and configures one core instance. Synchronous, so a trapped
// instance can be replaced in the middle of `process`.
function instantiate(module: WebAssembly.Module, limits: Required<CoreLimits>): CoreExports {
  let memory: WebAssembly.Memory | undefined;
  const readText = (ptr: number): string => {
    if (!memory || ptr === 0) return "";
    const view = new Uint8Array(memory.buffer);
    // AssemblyScript strings: UTF-16LE, byte length stored at ptr - 4.
    const length = new DataView(memory.buffer).getUint32(ptr - 4, true);
    return new TextDecoder("utf-16le").decode(view.subarray(ptr, ptr + length));
  };
  const imports = {
    env: {
      abort(messagePtr: number, filePtr: number, line: number, column: number): never {
        const message = readText(messagePtr);
        const file = readText(filePtr);
        throw new CoreTrapError(`core aborted: ${message || "no message"} at ${file || "unknown file"}:${line}:${column}`, file, line, column);
      },
    },
  };
  const instance = new WebAssembly.Instance(module, imports);
  const exports = instance.exports as unknown as CoreExports;
  memory = exports.memory;
  const result = exports.configure(limits.maxFlows, limits.appStateSlots, limits.streamBufferBytes,
    limits.reassemblyBytesTotal, limits.eventBufferBytes, limits.flowIdleTimeoutSec, Math.max(SCRATCH_BYTES, MAX_CAPLEN + PCAP_RECORD_HEADER_BYTES));
  if (result !== 0) {
    throw new CoreConfigError(`core configure failed with code ${result}: ${CONFIGURE_ERRORS[result] ?? "unknown code"} (limits ${JSON.stringify(limits)})`);
  }
  return exports;
}

export class Core {
  private exports: CoreExports;
  private memoryBytes: Uint8Array;
  private readonly names: NameTables;
  private readonly anomalyNames: string[];
  private readonly counterNames: string[];
  private scratch: number;
  private scratchBytes: number;
  // Configuration calls replayed on a new instance, by export name, in the
  // order of their first call.
  private readonly replayCalls = new Map<string, Uint8Array>();
  private snapshotProvider?: () => Uint8Array | undefined;
  private snapshotRestorer?: (bytes: Uint8Array) => void;
  // Counters and anomalies of instances that trapped, so that stats() keeps
  // counting from the start.
  private readonly carriedCounters: Record<string, number> = {};
  private readonly carriedAnomalies: Record<string, number> = {};
  private restartCount = 0;
  // Batch and byte offset of the last trap that no record could be blamed
  // for: a second such trap at the same place would repeat forever.
  private lastUnattributedTrap = "";
  // The copy of the event buffer that records are decoded from, kept between
  // drains; `draining` is set while records from it are handed out.
  private drainBuffer = new Uint8Array(0);
  private draining = false;
  // Record types left undecoded (setRecordFilter).
  private recordFilter: RecordFilter | undefined;
  private fileDataRecords = false;

  private constructor(private readonly module: WebAssembly.Module, exports: CoreExports,
    readonly limits: Required<CoreLimits>, private readonly logger: Logger) {
    this.exports = exports;
    this.memoryBytes = new Uint8Array(exports.memory.buffer);
    this.scratch = exports.scratchPtr();
    this.scratchBytes = exports.scratchCapacity();
    this.names = {
      fieldNames: this.readNames(exports.fieldName, exports.fieldIdLimit()),
      recordTypeNames: this.readNames(exports.recordTypeName, exports.recordTypeLimit()),
    };
    this.anomalyNames = this.readNames(exports.anomalyName, exports.anomalyIdLimit());
    this.counterNames = this.readNames(exports.counterName, exports.counterIdLimit());
  }

  // Loads and configures a core instance. Every pool is allocated here, so
  // memory use is fixed by `limits` from the start.
  static async load(options: CoreLoadOptions = {}): Promise<Core> {
    const limits = resolveLimits(options.limits);
    const path = options.wasmPath ?? defaultWasmPath();
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (error) {
      throw new CoreConfigError(`cannot read the core module ${path}: ${(error as Error).message}; run \`npm run build:core\` first`);
    }
    const module = await WebAssembly.compile(new Uint8Array(bytes));
    const logger = options.logger ?? coreLogger();
    const core = new Core(module, instantiate(module, limits), limits, logger);
    core.fieldValueTypes = readFieldValueTypes(path);
    if (!core.fieldValueTypes) {
      logger.warn({ wasmPath: path }, `no ${FIELD_TYPES_FILE} beside the core module, so model condition values are not checked against their field types; run npm run build:core`);
    }
    return core;
  }

  // Refreshes the byte view after the core grew its memory (the old
  // ArrayBuffer is detached then).
  private bytes(): Uint8Array {
    if (this.memoryBytes.buffer !== this.exports.memory.buffer || this.memoryBytes.byteLength === 0) {
      this.memoryBytes = new Uint8Array(this.exports.memory.buffer);
    }
    return this.memoryBytes;
  }

  private readNames(fn: (id: number) => number, limit: number): string[] {
    const decoder = new TextDecoder("utf-8");
    const names: string[] = [];
    for (let id = 0; id < limit; id++) {
      const length = fn(id);
      names.push(length === 0 ? "" : decoder.decode(this.bytes().subarray(this.scratch, this.scratch + length)));
    }
    return names;
  }

  // Value types the core writes per field id (build/field-types.json).
  fieldValueTypes: FieldValueTypes | undefined;

  // JSON name of a field id, or undefined when the id is unassigned.
  fieldName(id: number): string | undefined {
    return this.names.fieldNames[id] || undefined;
  }

  // Number of times a trapped instance was replaced.
  get restarts(): number {
    return this.restartCount;
  }

  // Size of the core's linear memory in bytes. `configure` allocates every
  // pool, so it stays the same for the life of an instance.
  memorySize(): number {
    return this.exports.memory.buffer.byteLength;
  }

  // Copies `length` bytes of the core's memory from `ptr`.
  readMemory(ptr: number, length: number): Uint8Array {
    const memory = this.bytes();
    if (!Number.isInteger(ptr) || !Number.isInteger(length) || ptr < 0 || length < 0 || ptr + length > memory.length) {
      throw new RangeError(`invalid core memory range: ${length} bytes at ${ptr}; the core's memory has ${memory.length} bytes`);
    }
    return memory.slice(ptr, ptr + length);
  }

  // Returns a function that calls the core export `name` on the current
  // instance (so it keeps working after a restart). A trap inside it raises
  // CoreTrapError and is not recovered.
  exportFunction(name: string): (...args: number[]) => number {
    if (typeof this.exports[name] !== "function") {
      throw new CoreConfigError(`the core has no export named ${name}; rebuild build/core.wasm (npm run build:core)`);
    }
    return (...args: number[]) => this.callExport(name, args);
  }

  private callExport(name: string, args: number[]): number {
    const fn = this.exports[name] as (...a: number[]) => number;
    try {
      return fn(...args);
    } catch (error) {
      if (!isTrap(error) || error instanceof CoreTrapError) throw error;
      throw new CoreTrapError(`core trapped in ${name}: ${(error as Error).message}`);
    }
  }

  // Registers the source of the last baseline snapshot, restored into the
  // instance that replaces a trapped one.
  setSnapshotProvider(provider: () => Uint8Array | undefined): void {
    this.snapshotProvider = provider;
  }

  // Registers the function that loads a snapshot into the current instance.
  setSnapshotRestorer(restorer: (bytes: Uint8Array) => void): void {
    this.snapshotRestorer = restorer;
  }

  // Decodes the event buffer, hands the records to `onRecord`, then empties
  // it. Returns the number of bytes drained.
  private drain(onRecord: (record: CoreRecord) => void): number {
    const length = this.exports.eventsLength();
    if (length === 0) return 0;
    return this.drainBytes(length, onRecord);
  }

  private drainBytes(length: number, onRecord: (record: CoreRecord) => void): number {
    const start = this.exports.eventsPtr();
    // Reset first: should `onRecord` throw, the next drain must not repeat
    // records already handed out. The records are copied into a buffer kept
    // for the next drain, unless `onRecord` drains again from inside one.
    const reuse = !this.draining;
    let copy: Uint8Array;
    if (reuse) {
      if (this.drainBuffer.length < length) this.drainBuffer = new Uint8Array(Math.max(length, this.limits.eventBufferBytes));
      copy = this.drainBuffer;
      copy.set(this.bytes().subarray(start, start + length));
    } else {
      copy = this.bytes().slice(start, start + length);
    }
    this.exports.eventsReset();
    if (reuse) this.draining = true;
    try {
      decodeRecords(copy, 0, length, this.names, onRecord, this.recordFilter);
    } finally {
      if (reuse) this.draining = false;
    }
    return length;
  }

  // Leaves the record types that `filter.decodes` rejects undecoded from now
  // on: their records reach `filter.onSkipped` (type only) instead of the
  // `onRecord` callbacks. `undefined` decodes every record again.
  setRecordFilter(filter: RecordFilter | undefined): void {
    this.recordFilter = filter;
  }

  // Processes one batch. Batches larger than the scratch region are split at
  // record boundaries. The event buffer is drained whenever the core stops
  // for room, and at the end. A trap replaces the instance (see `restart`)
  // and processing goes on with the record after the one that trapped.
  process(batch: PacketBatch, onRecord: (record: CoreRecord) => void): void {
    if (!Number.isInteger(batch.linkType) || batch.linkType < 0 || batch.linkType > 0xffffffff) {
      throw new CoreConfigError(`invalid link type ${batch.linkType} in batch from ${batch.source}; expected a LINKTYPE_* number`);
    }
    if (batch.fracPerSecond !== 1_000_000 && batch.fracPerSecond !== 1_000_000_000 &&
        !(Number.isInteger(batch.fracPerSecond) && batch.fracPerSecond > 0 && batch.fracPerSecond <= 0xffffffff)) {
      throw new CoreConfigError(`invalid timestamp unit ${batch.fracPerSecond} per second in batch from ${batch.source}`);
    }
    const total = Math.min(batch.byteLength, batch.bytes.length);
    const view = new DataView(batch.bytes.buffer, batch.bytes.byteOffset, batch.bytes.byteLength);
    let at = 0;
    while (at < total) {
      const chunkEnd = this.chunkEnd(view, at, total);
      const oversized = chunkEnd < 0;
      const end = oversized ? Math.min(total, at + PCAP_RECORD_HEADER_BYTES) : chunkEnd;
      this.bytes().set(batch.bytes.subarray(at, end), this.scratch);
      const length = end - at;
      let offset = 0;
      while (offset < length) {
        let reached: number;
        try {
          reached = this.exports.processBatch(offset, length, batch.linkType, batch.fracPerSecond);
        } catch (error) {
          if (!isTrap(error)) throw error;
          offset = this.recoverFromTrap(error as Error, view, at, offset, length, batch.source, onRecord);
          this.bytes().set(batch.bytes.subarray(at, end), this.scratch);
          continue;
        }
        const drained = this.drain(onRecord);
        if (reached <= offset && drained === 0) {
          // The core stops early only when the event buffer is short of
          // room. Stopping with an empty buffer means the ABI is broken.
          throw new CoreTrapError(`core made no progress at byte ${at + offset} of batch from ${batch.source}`);
        }
        offset = Math.max(offset, reached);
      }
      if (oversized) {
        // The core counted the record as pcap.record_length_invalid. Its
        // caplen cannot be trusted, so neither can any offset after it.
        const caplen = total - at >= PCAP_RECORD_HEADER_BYTES ? view.getUint32(at + 8, true) : undefined;
        const reason = caplen === undefined ? `a record header needs ${PCAP_RECORD_HEADER_BYTES} bytes`
          : caplen > MAX_CAPLEN ? `caplen ${caplen} exceeds ${MAX_CAPLEN} bytes`
          : `caplen ${caplen} runs past the end of the batch`;
        this.logger.warn({ source: batch.source, batchOffset: at, caplen, skippedBytes: total - at },
          `batch stopped at byte ${at} of ${batch.source}: ${reason}, so the last ${total - at} bytes are skipped`);
        return;
      }
      at = chunkEnd;
    }
  }

  // Returns the end of the longest run of whole records from `start` that
  // fits in scratch. Returns -1 when the first record cannot be processed
  // whole, because its caplen is above MAX_CAPLEN or runs past the end of the
  // batch: no record boundary after it is known then.
  private chunkEnd(view: DataView, start: number, total: number): number {
    const limit = Math.min(total, start + this.scratchBytes);
    let at = start;
    while (at + PCAP_RECORD_HEADER_BYTES <= limit) {
      const caplen = view.getUint32(at + 8, true);
      const next = at + PCAP_RECORD_HEADER_BYTES + caplen;
      if (caplen > MAX_CAPLEN || next > limit) break;
      at = next;
    }
    if (at > start) return at;
    return -1;
  }

  // Handles a trap in processBatch: hands out the records the dead instance
  // closed, replaces it (`restart`) and returns the offset to go on from,
  // past the record that trapped.
  private recoverFromTrap(error: Error, view: DataView, chunkStart: number, offset: number, length: number,
    source: string, onRecord: (record: CoreRecord) => void): number {
    let trapped = NO_RECORD;
    try {
      trapped = this.exports.currentRecordOffset();
      const closed = this.exports.eventsClosedLength();
      if (closed > 0) this.drainBytes(closed, onRecord);
    } catch (readError) {
      this.logger.error({ err: readError, source }, "records of the trapped core instance could not be read");
    }
    let next = offset;
    if (trapped !== NO_RECORD && trapped >= offset && trapped + PCAP_RECORD_HEADER_BYTES <= length) {
      next = Math.min(length, trapped + PCAP_RECORD_HEADER_BYTES + view.getUint32(chunkStart + trapped + 8, true));
      this.lastUnattributedTrap = "";
    } else {
      // The trap came outside any record (resuming a paused delivery,
      // expiring flows): the new instance retries from the same offset, but
      // only once, since no record can be skipped to make progress.
      const place = `${source}@${chunkStart + offset}`;
      if (this.lastUnattributedTrap === place) throw error;
      this.lastUnattributedTrap = place;
    }
    const batchOffset = chunkStart + (trapped !== NO_RECORD ? trapped : offset);
    this.restart(error, { source, batchOffset });
    return next;
  }

  // Replaces a trapped instance: a new instance with the same limits, the
  // configuration calls replayed, then the last snapshot restored.
  private restart(error: Error, where: { source: string; batchOffset?: number }): void {
    this.carryStats();
    this.restartCount += 1;
    this.exports = instantiate(this.module, this.limits);
    this.memoryBytes = new Uint8Array(this.exports.memory.buffer);
    this.scratch = this.exports.scratchPtr();
    this.scratchBytes = this.exports.scratchCapacity();
    for (const [name, bytes] of this.replayCalls) this.callWithScratch(name, bytes);
    if (this.fileDataRecords) this.exports.setFileDataRecords(1);
    let restored = false;
    const snapshot = this.snapshotProvider?.();
    if (snapshot && this.snapshotRestorer) {
      try {
        this.snapshotRestorer(snapshot);
        restored = true;
      } catch (restoreError) {
        this.logger.error({ err: restoreError, source: where.source }, "snapshot restore after a core restart failed; baselines start empty");
      }
    }
    this.logger.error({ err: error, ...where, restarts: this.restartCount, snapshotRestored: restored },
      `core trapped on the record at byte ${where.batchOffset ?? "?"} of ${where.source}; restarted the core and skipped that record`);
  }

  // Adds the counters of the current instance to the carried totals.
  private carryStats(): void {
    try {
      const { counters, anomalies } = this.instanceStats();
      for (const [name, value] of Object.entries(counters)) {
        if (name !== "flows.active") this.carriedCounters[name] = (this.carriedCounters[name] ?? 0) + value;
      }
      for (const [name, value] of Object.entries(anomalies)) this.carriedAnomalies[name] = (this.carriedAnomalies[name] ?? 0) + value;
    } catch (error) {
      this.logger.error({ err: error }, "counters of the trapped core instance could not be read");
    }
  }

  // End of input: closes every flow and drains what the dissectors report.
  finish(onRecord: (record: CoreRecord) => void): void {
    this.loopUntilDone("finish", () => this.exports.finish(), onRecord);
  }

  // Expires idle flows at host time `nowSec` (a live capture with no
  // traffic has no packet time to drive expiry).
  tick(nowSec: number, onRecord: (record: CoreRecord) => void): void {
    const sec = Math.max(0, Math.min(0xffffffff, Math.floor(nowSec)));
    this.loopUntilDone("tick", () => this.exports.tick(sec), onRecord);
  }

  // Calls `step` until it returns 1, draining between calls. A trap replaces
  // the instance; the new one has no flows, so there is nothing left to do.
  private loopUntilDone(name: string, step: () => number, onRecord: (record: CoreRecord) => void): void {
    for (;;) {
      let done: number;
      try {
        done = step();
      } catch (error) {
        if (!isTrap(error)) throw error;
        try {
          const closed = this.exports.eventsClosedLength();
          if (closed > 0) this.drainBytes(closed, onRecord);
        } catch (readError) {
          this.logger.error({ err: readError }, "records of the trapped core instance could not be read");
        }
        this.restart(error as Error, { source: name });
        return;
      }
      const drained = this.drain(onRecord);
      if (done === 1) return;
      if (drained === 0) throw new CoreTrapError(`core ${name} stopped for event room with an empty event buffer`);
    }
  }

  private instanceStats(): CoreStats {
    const counters: Record<string, number> = {};
    this.counterNames.forEach((name, id) => {
      if (!name) return;
      const value = this.exports.counterValue(id);
      if (value !== 0) counters[name] = value;
    });
    const anomalies: Record<string, number> = {};
    this.anomalyNames.forEach((name, id) => {
      if (!name) return;
      const value = this.exports.anomalyCount(id);
      if (value !== 0) anomalies[name] = value;
    });
    return { counters, anomalies };
  }

  // Counters and anomalies, non-zero entries only, by name, summed over the
  // instances that trapped. `core.restarts` counts the restarts.
  // Turns `file` records with `chunk: true` on or off: they carry the bytes
  // of every SMB file the core hashes (object_id, offset, data), for
  // `fieldsense extract`. Off by default, because they multiply the records.
  setFileDataRecords(enabled: boolean): void {
    this.fileDataRecords = enabled;
    this.exports.setFileDataRecords(enabled ? 1 : 0);
  }

  stats(): CoreStats {
    const { counters, anomalies } = this.instanceStats();
    for (const [name, value] of Object.entries(this.carriedCounters)) counters[name] = (counters[name] ?? 0) + value;
    for (const [name, value] of Object.entries(this.carriedAnomalies)) anomalies[name] = (anomalies[name] ?? 0) + value;
    if (this.restartCount > 0) counters["core.restarts"] = this.restartCount;
    return { counters, anomalies };
  }

  // Copies `bytes` into the scratch region and calls the export `name` with
  // their length; returns its i32 result. With `replayOnRestart` the call is
  // repeated on an instance that replaces a trapped one.
  callWithScratch(name: string, bytes: Uint8Array, options: CallOptions = {}): number {
    const fn = this.exports[name];
    if (typeof fn !== "function") {
      throw new CoreConfigError(`the core has no export named ${name}; rebuild build/core.wasm (npm run build:core)`);
    }
    if (bytes.length > this.scratchBytes) {
      throw new CoreConfigError(`${bytes.length} bytes for ${name} exceed the core's scratch region of ${this.scratchBytes} bytes`);
    }
    this.bytes().set(bytes, this.scratch);
    const result = this.callExport(name, [bytes.length]);
    if (options.replayOnRestart) this.replayCalls.set(name, Uint8Array.from(bytes));
    return result;
  }
}
