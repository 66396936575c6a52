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
import { decodeRecords, type NameTables } from "./records.js";

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
  appStateSlots?: number;
  streamBufferBytes?: number;
  reassemblyBytesTotal?: number;
  eventBufferBytes?: number;
  flowIdleTimeoutSec?: number;
}
export interface CoreStats { counters: Record<string, number>; anomalies: Record<string, number> }

// Defaults sized for a gateway with 1 GB of memory, about 143 MiB in all.
// That is 7 MiB of flow table and hash, 64 MiB of dissector state
// (2048 x 32 KiB), 64 MiB of stream buffers, 1 MiB of events, 4 MiB of
// scratch and 2 MiB for IP defragmentation.
export const DEFAULT_LIMITS: Required<CoreLimits> = {
  maxFlows: 65536,
  appStateSlots: 2048,
  streamBufferBytes: 65536,
  reassemblyBytesTotal: 64 * 1024 * 1024,
  eventBufferBytes: 1024 * 1024,
  flowIdleTimeoutSec: 300,
};

// Bounds the core checks in `configure` (wasm-core/assembly/index.ts).
const MAX_FLOWS_LIMIT = 1 << 24;
const MIN_STREAM_BUFFER_BYTES = 4096;
const MAX_STREAM_BUFFER_BYTES = 64 << 20;
const EVENT_RESERVE_BYTES = 65536;
const MAX_CAPLEN = 262144;
const SCRATCH_BYTES = 4 * 1024 * 1024;
// Wasm32 linear memory cannot exceed 4 GiB, and the core is built with a
// 2 GiB maximum (wasm-core/asconfig.json).
const MAX_CORE_MEMORY_BYTES = 2 * 1024 * 1024 * 1024;
// Pool sizes behind `estimateCoreBytes`, from wasm-core/assembly: a flow
// entry (flows.ts), a dissector state area (protocols/api.ts), the range list
// in front of each stream buffer (stream.ts) and the fixed defragmentation pool
// (fragments.ts).
const FLOW_ENTRY_BYTES = 104;
const APP_STATE_BYTES = 32768;
const STREAM_BUFFER_OVERHEAD_BYTES = 136;
const DEFRAGMENT_BYTES = 32 * 65992;

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
  constructor(message: string) {
    super(message);
    this.name = "CoreConfigError";
  }
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

function checkLimit(name: string, value: number, min: number, max: number, unit: string): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new CoreConfigError(`invalid core limit ${name}: ${value}; expected an integer from ${min} to ${max} ${unit}`);
  }
}

function resolveLimits(limits: CoreLimits = {}): Required<CoreLimits> {
  const l: Required<CoreLimits> = { ...DEFAULT_LIMITS };
  for (const [key, value] of Object.entries(limits)) {
    if (!(key in DEFAULT_LIMITS)) {
      throw new CoreConfigError(`unknown core limit ${key}; known limits: ${Object.keys(DEFAULT_LIMITS).join(", ")}`);
    }
    if (value !== undefined) (l as Record<string, number>)[key] = value as number;
  }
  checkLimit("maxFlows", l.maxFlows, 1, MAX_FLOWS_LIMIT, "flows");
  checkLimit("appStateSlots", l.appStateSlots, 1, l.maxFlows, "slots (at most maxFlows)");
  checkLimit("streamBufferBytes", l.streamBufferBytes, MIN_STREAM_BUFFER_BYTES, MAX_STREAM_BUFFER_BYTES, "bytes");
  checkLimit("reassemblyBytesTotal", l.reassemblyBytesTotal, l.streamBufferBytes, MAX_CORE_MEMORY_BYTES / 2, "bytes (at least streamBufferBytes)");
  checkLimit("eventBufferBytes", l.eventBufferBytes, 2 * EVENT_RESERVE_BYTES, 256 * 1024 * 1024, "bytes");
  checkLimit("flowIdleTimeoutSec", l.flowIdleTimeoutSec, 1, 0xffffffff, "seconds");
  const needed = estimateCoreBytes(l);
  if (needed > MAX_CORE_MEMORY_BYTES) {
    throw new CoreConfigError(`core limits need about ${Math.ceil(needed / 2 ** 20)} MiB, above the core's ${MAX_CORE_MEMORY_BYTES / 2 ** 20} MiB memory maximum; lower appStateSlots, maxFlows or reassemblyBytesTotal (limits ${JSON.stringify(l)})`);
  }
  return l;
}

// Bytes `configure` allocates for these limits; the layout of each pool is
// in wasm-core/README.md. The 1 MiB added covers static data and the stack.
export function estimateCoreBytes(l: Required<CoreLimits>): number {
  let buckets = 16;
  while (buckets < l.maxFlows * 2) buckets *= 2;
  const flowTable = l.maxFlows * FLOW_ENTRY_BYTES + buckets * 4;
  const appStates = l.appStateSlots * (APP_STATE_BYTES + 4);
  const streamBuffers = Math.floor(l.reassemblyBytesTotal / l.streamBufferBytes) * (l.streamBufferBytes + STREAM_BUFFER_OVERHEAD_BYTES + 4);
  return flowTable + appStates + streamBuffers + l.eventBufferBytes + SCRATCH_BYTES + DEFRAGMENT_BYTES + 2 ** 20;
}

export class Core {
  private memoryBytes: Uint8Array;
  private readonly names: NameTables;
  private readonly anomalyNames: string[];
  private readonly counterNames: string[];
  private readonly scratch: number;
  private readonly scratchBytes: number;

  private constructor(private readonly exports: CoreExports, readonly limits: Required<CoreLimits>) {
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
  static async load(options: { limits?: CoreLimits; wasmPath?: string } = {}): Promise<Core> {
    const limits = resolveLimits(options.limits);
    const path = options.wasmPath ?? defaultWasmPath();
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (error) {
      throw new CoreConfigError(`cannot read the core module ${path}: ${(error as Error).message}; run \`npm run build:core\` first`);
    }
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
    const module = await WebAssembly.compile(new Uint8Array(bytes));
    const instance = await WebAssembly.instantiate(module, imports);
    const exports = instance.exports as unknown as CoreExports;
    memory = exports.memory;
    const result = exports.configure(limits.maxFlows, limits.appStateSlots, limits.streamBufferBytes,
      limits.reassemblyBytesTotal, limits.eventBufferBytes, limits.flowIdleTimeoutSec, Math.max(SCRATCH_BYTES, MAX_CAPLEN + PCAP_RECORD_HEADER_BYTES));
    if (result !== 0) {
      throw new CoreConfigError(`core configure failed with code ${result}: ${CONFIGURE_ERRORS[result] ?? "unknown code"} (limits ${JSON.stringify(limits)})`);
    }
    return new Core(exports, limits);
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

  // JSON name of a field id, or undefined when the id is unassigned.
  fieldName(id: number): string | undefined {
    return this.names.fieldNames[id] || undefined;
  }

  // Decodes the event buffer, hands the records to `onRecord`, then empties
  // it. Returns the number of bytes drained.
  private drain(onRecord: (record: CoreRecord) => void): number {
    const length = this.exports.eventsLength();
    if (length === 0) return 0;
    const start = this.exports.eventsPtr();
    // Reset first: should `onRecord` throw, the next drain must not repeat
    // records already handed out.
    const copy = this.bytes().slice(start, start + length);
    this.exports.eventsReset();
    decodeRecords(copy, 0, length, this.names, onRecord);
    return length;
  }

  // Processes one batch. Batches larger than the scratch region are split at
  // record boundaries. The event buffer is drained whenever the core stops
  // for room, and at the end.
  process(batch: PacketBatch, onRecord: (record: CoreRecord) => void): void {
    if (!Number.isInteger(batch.linkType) || batch.linkType < 0 || batch.linkType > 0xffffffff) {
      throw new CoreConfigError(`invalid link type ${batch.linkType} in batch from ${batch.source}; expected a LINKTYPE_* number`);
    }
    if (batch.fracPerSecond !== 1_000_000 && batch.fracPerSecond !== 1_000_000_000 &&
        !(Number.isInteger(batch.fracPerSecond) && batch.fracPerSecond > 0 && batch.fracPerSecond <= 0xffffffff)) {
      throw new CoreConfigError(`invalid timestamp unit ${batch.fracPerSecond} per second in batch from ${batch.source}`);
    }
    const total = Math.min(batch.byteLength, batch.bytes.length);
    let at = 0;
    while (at < total) {
      const chunkEnd = this.chunkEnd(batch.bytes, at, total);
      this.bytes().set(batch.bytes.subarray(at, chunkEnd), this.scratch);
      const length = chunkEnd - at;
      let offset = 0;
      while (offset < length) {
        const reached = this.exports.processBatch(offset, length, batch.linkType, batch.fracPerSecond);
        const drained = this.drain(onRecord);
        if (reached <= offset && drained === 0) {
          // The core stops early only when the event buffer is short of
          // room. Stopping with an empty buffer means the ABI is broken.
          throw new CoreTrapError(`core made no progress at byte ${at + offset} of batch from ${batch.source}`);
        }
        offset = Math.max(offset, reached);
      }
      at = chunkEnd;
    }
  }

  // Returns the end of the longest run of whole records from `start` that
  // fits in scratch. A record that does not fit in one chunk (corrupt caplen,
  // or cut short at the batch end) is copied as far as it goes, and the core
  // counts it as `pcap.record_length_invalid` and moves on.
  private chunkEnd(bytes: Uint8Array, start: number, total: number): number {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const limit = Math.min(total, start + this.scratchBytes);
    let at = start;
    while (at + PCAP_RECORD_HEADER_BYTES <= limit) {
      const next = at + PCAP_RECORD_HEADER_BYTES + view.getUint32(at + 8, true);
      if (next > limit) break;
      at = next;
    }
    return at > start ? at : limit;
  }

  // End of input: closes every flow and drains what the dissectors report.
  finish(onRecord: (record: CoreRecord) => void): void {
    for (;;) {
      const done = this.exports.finish();
      const drained = this.drain(onRecord);
      if (done === 1) return;
      if (drained === 0) throw new CoreTrapError("core finish stopped for event room with an empty event buffer");
    }
  }

  // Expires idle flows at host time `nowSec` (a live capture with no
  // traffic has no packet time to drive expiry).
  tick(nowSec: number, onRecord: (record: CoreRecord) => void): void {
    for (;;) {
      const done = this.exports.tick(Math.max(0, Math.min(0xffffffff, Math.floor(nowSec))));
      const drained = this.drain(onRecord);
      if (done === 1) return;
      if (drained === 0) throw new CoreTrapError("core tick stopped for event room with an empty event buffer");
    }
  }

  // Counters and anomalies, non-zero entries only, by name.
  stats(): CoreStats {
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

  // Copies `bytes` into the scratch region and calls the export `name` with
  // their length; returns its i32 result.
  callWithScratch(name: string, bytes: Uint8Array): number {
    const fn = this.exports[name];
    if (typeof fn !== "function") {
      throw new CoreConfigError(`the core has no export named ${name}; rebuild build/core.wasm (npm run build:core)`);
    }
    if (bytes.length > this.scratchBytes) {
      throw new CoreConfigError(`${bytes.length} bytes for ${name} exceed the core's scratch region of ${this.scratchBytes} bytes`);
    }
    this.bytes().set(bytes, this.scratch);
    return (fn as (length: number) => number)(bytes.length);
  }
}
