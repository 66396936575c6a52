// Test host for the model engine. It compiles test/models/harness/engine.ts,
// which is the real events.ts and models.ts without the packet pipeline. Tests
// write a record field by field in a packet context, install a model table and
// read back the records and alerts in the event buffer.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "../helpers/captures.js";
import { ipv4Bytes, ipv6Bytes } from "../helpers/frames.js";
import type { ModelHost } from "../../agent/src/core/models.js";

export type Value = number | string | boolean | { bytes: number[] };
export type FieldValue = number | string | boolean | FieldValue[];

export interface DecodedRecord {
  type: number;
  tsSec: number;
  tsNsec: number;
  flowId: number;
  serverToClient: boolean;
  truncated: boolean;
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  fields: Record<string, FieldValue>;
}

export interface PacketContext {
  tsSec: number;
  tsNsec?: number;
  flowId?: number;
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
}

export const RECORD_TYPES = { modbus: 1, smb: 2, dcerpc: 3, ntlm: 4, alert: 64 } as const;

const EVENT_BUFFER_BYTES = 1 << 20;
let wasmBytes: Uint8Array | undefined;

function buildWasm(): Uint8Array {
  if (wasmBytes) return wasmBytes;
  const out = join(mkdtempSync(join(tmpdir(), "fieldsense-models-")), "engine.wasm");
  const asc = join(repoRoot, "node_modules/assemblyscript/bin/asc.js");
  execFileSync(process.execPath, [asc, join(repoRoot, "test/models/harness/engine.ts"), "--runtime", "stub", "--outFile", out], { stdio: "pipe" });
  wasmBytes = readFileSync(out);
  return wasmBytes;
}

type ExportFunction = (...args: (number | bigint)[]) => number;
type Exports = Record<string, ExportFunction> & { memory: WebAssembly.Memory; anomalyCount: (id: number) => bigint };

export class Engine implements ModelHost {
  private readonly names = new Map<number, string>();
  private readonly ids = new Map<string, number[]>();

  private constructor(private readonly x: Exports) {
    const fieldIdLimit = Number(x.fieldIdLimit());
    for (let id = 1; id < fieldIdLimit; id++) {
      const name = this.readString(x.fieldName(id));
      if (!name) continue;
      this.names.set(id, name);
      this.ids.set(name, [...(this.ids.get(name) ?? []), id]);
    }
  }

  static async create(): Promise<Engine> {
    const module = await WebAssembly.compile(buildWasm() as BufferSource);
    const instance = await WebAssembly.instantiate(module, {
      env: {
        abort: () => { throw new Error("the model engine trapped (abort)"); },
      },
    });
    const engine = new Engine(instance.exports as unknown as Exports);
    engine.x.initEvents(EVENT_BUFFER_BYTES);
    return engine;
  }

  private bytes(): Uint8Array { return new Uint8Array(this.x.memory.buffer); }

  // Reads an AssemblyScript string: UTF-16LE, byte length in the header word before it.
  private readString(ptr: number): string {
    if (ptr === 0) return "";
    const length = new DataView(this.x.memory.buffer).getUint32(ptr - 4, true);
    return Buffer.from(this.x.memory.buffer, ptr, length).toString("utf16le");
  }

  fieldName(id: number): string | undefined { return this.names.get(id); }

  // Id of `name` in the range of `record` (names such as "command" repeat across protocols).
  fieldId(name: string, record?: keyof typeof RECORD_TYPES): number {
    const candidates = this.ids.get(name) ?? [];
    const ranges: Record<string, [number, number]> = { modbus: [100, 199], smb: [200, 299], dcerpc: [300, 399], ntlm: [400, 449] };
    const [low, high] = record ? ranges[record] ?? [0, -1] : [0, -1];
    const id = candidates.find((c) => c >= low && c <= high) ?? candidates.find((c) => c < 100) ?? candidates[0];
    if (id === undefined) throw new Error(`test uses field "${name}", which the core does not name`);
    return id;
  }

  // The Core's memory access for snapshots (agent/src/core/snapshot.ts).
  exportFunction(name: string): (...args: number[]) => number {
    const fn = this.x[name];
    if (typeof fn !== "function") throw new Error(`the test engine has no export ${name}`);
    return (...args: number[]) => Number(fn(...args));
  }

  readMemory(ptr: number, length: number): Uint8Array {
    return this.bytes().slice(ptr, ptr + length);
  }

  // The core's FNV-1a hashes of `bytes` (wasm-core/assembly/fnv.ts).
  fnv(bytes: Uint8Array): { fnv32: number; fnv64: bigint } {
    const scratch = this.x.scratchPointer();
    this.bytes().set(bytes, scratch);
    const fnv32 = Number(this.x.fnv32Scratch(bytes.length)) >>> 0;
    const fnv64 = BigInt.asUintN(64, BigInt(this.x.fnv64Scratch(bytes.length) as unknown as bigint));
    return { fnv32, fnv64 };
  }

  callWithScratch(name: string, bytes: Uint8Array): number {
    const scratch = this.x.scratchPointer();
    if (bytes.length > this.x.scratchBytes()) throw new Error(`${bytes.length} bytes do not fit the test scratch region`);
    this.bytes().set(bytes, scratch);
    return this.x[name](bytes.length);
  }

  anomaly(name: string): number {
    const anomalyIdLimit = Number(this.x.anomalyIdLimit());
    for (let id = 0; id < anomalyIdLimit; id++) {
      if (this.readString(this.x.anomalyName(id)) === name) return Number(this.x.anomalyCount(id));
    }
    throw new Error(`anomaly ${name} is not defined`);
  }

  resetBaselines(): void { this.x.resetBaselines(); }

  // Writes one record of `type` in the packet context `ctx`; endRecord lets
  // the models score it, as the dissectors' records are.
  // With `literalSamples`, the harness's fieldLiteral samples follow the
  // fields, each as one field of that name.
  record(type: keyof typeof RECORD_TYPES, ctx: PacketContext, fields: [string, Value][], serverToClient = false, literalSamples?: string): void {
    const scratch = this.x.scratchPointer();
    const address = (ip: string) => {
      const out = new Uint8Array(16);
      out.set(ip.includes(":") ? ipv6Bytes(ip) : ipv4Bytes(ip));
      return out;
    };
    const version = ctx.src.includes(":") ? 6 : 4;
    this.bytes().set(address(ctx.src), scratch);
    this.bytes().set(address(ctx.dst), scratch + 16);
    this.x.setRecordContext(ctx.tsSec, ctx.tsNsec ?? 0, ctx.flowId ?? 1, version, 6, scratch, ctx.srcPort, scratch + 16, ctx.dstPort);
    if (!this.x.beginRecord(RECORD_TYPES[type], serverToClient ? 1 : 0)) throw new Error("event buffer full in test");

    let at = scratch + 64;
    for (const [name, value] of fields) {
      const id = this.fieldId(name, type);
      if (typeof value === "number") {
        if (value < 0) this.x.fieldI64(id, BigInt(value));
        else this.x.fieldU64(id, BigInt(value));
      } else if (typeof value === "boolean") {
        this.x.fieldBool(id, value ? 1 : 0);
      } else if (typeof value === "string") {
        const encoded = Buffer.from(value, "utf8");
        this.bytes().set(encoded, at);
        this.x.fieldText(id, at, encoded.length);
        at += encoded.length;
      } else {
        this.bytes().set(value.bytes, at);
        this.x.fieldBytes(id, at, value.bytes.length);
        at += value.bytes.length;
      }
    }
    if (literalSamples !== undefined) this.x.fieldLiteralSamples(this.fieldId(literalSamples, type));
    this.x.endRecord();
  }

  // Returns every record in the event buffer and empties it.
  drain(): DecodedRecord[] {
    const base = this.x.eventBufferBase();
    const used = this.x.eventBufferUsed();
    const view = new DataView(this.x.memory.buffer, base, used);
    const out: DecodedRecord[] = [];
    let p = 0;
    while (p + 60 <= used) {
      const length = view.getUint32(p, true);
      const flags = view.getUint8(p + 22);
      const ip = (at: number) => view.getUint8(p + 20) === 6
        ? Array.from({ length: 8 }, (_, i) => view.getUint16(at + 2 * i).toString(16)).join(":")
        : [0, 1, 2, 3].map((i) => view.getUint8(at + i)).join(".");
      const record: DecodedRecord = {
        type: view.getUint16(p + 4, true), tsSec: view.getUint32(p + 8, true), tsNsec: view.getUint32(p + 12, true),
        flowId: view.getUint32(p + 16, true), serverToClient: (flags & 1) !== 0, truncated: (flags & 2) !== 0,
        srcPort: view.getUint16(p + 24, true), dstPort: view.getUint16(p + 26, true),
        src: ip(p + 28), dst: ip(p + 44), fields: {},
      };
      let f = p + 60;
      while (f + 6 <= p + length) {
        const id = view.getUint16(f, true);
        const type = view.getUint8(f + 2);
        const size = view.getUint16(f + 4, true);
        const at = f + 6;
        let value: FieldValue;
        if (type === 1) value = Number(view.getBigUint64(at, true));
        else if (type === 5) value = Number(view.getBigInt64(at, true));
        else if (type === 4) value = view.getUint8(at) !== 0;
        else if (type === 2) value = Buffer.from(this.x.memory.buffer, base + at, size).toString("utf8");
        else value = Buffer.from(this.x.memory.buffer, base + at, size).toString("hex");
        const name = this.names.get(id) ?? `field_${id}`;
        const existing = record.fields[name];
        if (existing === undefined) record.fields[name] = value;
        else record.fields[name] = Array.isArray(existing) ? [...existing, value] : [existing, value];
        f = at + size;
      }
      out.push(record);
      p += length;
    }
    this.x.resetEvents();
    return out;
  }

  alerts(): DecodedRecord[] {
    return this.drain().filter((r) => r.type === RECORD_TYPES.alert);
  }
}

// Writes model files into a fresh temporary folder and returns its path.
export function modelFolder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-model-files-"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

// A minimal valid model as YAML, with `extra` lines appended.
export function modelYaml(id: string, record: string, conditions: string, extra = ""): string {
  return [
    `id: ${id}`,
    `name: Test model ${id}`,
    `record: ${record}`,
    "logic: Fires on the test records.",
    "score: 60",
    "mitre: [T1053.002]",
    "conditions:",
    conditions.trimEnd(),
    extra.trimEnd(),
    "",
  ].join("\n");
}
