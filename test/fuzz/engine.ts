// The fuzz harness: runs hostile inputs through one core instance and checks,
// for every input, that the core did not trap, that the dissectors' step
// count stayed within a bound set by the bytes given, that linear memory did
// not grow, and that a well-formed Modbus flow mixed into the input produced
// exactly the records it produces alone. A watchdog around a worker thread
// (fuzzInWorker) catches inputs that never return.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { Core, DEFAULT_LIMITS, type CoreLimits, type CoreRecord, type CoreStats } from "../../agent/src/core/core.js";
import { readCapture } from "../../agent/src/capture/read.js";
import { silentLogger } from "../../agent/src/log.js";
import { batchOf, pcapFile, TcpConversation, type TimedFrame } from "../helpers/frames.js";
import { capturesDir, repoRoot } from "../helpers/captures.js";
import { modbusAdu, readHoldingRequest, readHoldingResponse, seededRandom } from "../core/run.js";
import { hostileFrames, type GeneratorName } from "./generators.js";

// Small pools, so that eviction, buffer exhaustion and event-room pauses
// happen often; large enough that one input's flows never evict the
// reference flow (an input has at most a few hundred frames).
export const FUZZ_LIMITS: Required<CoreLimits> = {
  ...DEFAULT_LIMITS,
  maxFlows: 2048,
  appStateSlots: 512,
  streamBufferBytes: 16388,
  reassemblyBytesTotal: 16388 * 64,
  eventBufferBytes: 131072,
};

// Dissector steps (onData calls) allowed per input: one per payload byte
// (a dissector that resynchronises byte by byte), plus the re-offers of held
// bytes when a segment arrives (at most about log2(bytes) slice doublings
// each), plus a constant for the flows' closes.
function stepBound(payloadBytes: number, segments: number): number {
  return 2 * payloadBytes + 40 * segments + 1000;
}

export type FailureKind = "trap" | "steps" | "memory" | "reference" | "hang" | "error";

export interface FuzzFailure {
  kind: FailureKind;
  seed: number;
  index: number;
  generator: GeneratorName | "replay";
  message: string;
}

export interface FuzzReport {
  seed: number;
  inputs: number;
  frames: number;
  failures: FuzzFailure[];
  generators: Record<string, number>;
  anomalies: Record<string, number>;
}

export interface FuzzConfig {
  seed: number;
  seconds: number;
  maxInputs?: number;
  firstIndex?: number;
  // Seed frames from the public captures (when present) and the fixtures.
  useCaptures?: boolean;
}

// ---------------------------------------------------------------------------
// Inputs

const REFERENCE_CLIENT = "192.0.2.10";
const REFERENCE_SERVER = "192.0.2.20";
const BASE_SEC = 1_750_000_000;
// Microseconds between two reference frames; hostile frames go in between.
const SLOT_US = 20_000;

// A Modbus conversation with reads and writes: the well-formed flow whose
// records no hostile input may change.
function referenceFrames(): Uint8Array[] {
  const c = new TcpConversation(REFERENCE_CLIENT, 40100, REFERENCE_SERVER, 502).handshake();
  for (let i = 0; i < 6; i++) c.fromClient(readHoldingRequest(i, 10 * i, 2)).fromServer(readHoldingResponse(i, [i, 2 * i]));
  c.fromClient(modbusAdu(6, 1, [6, 0, 40, 0x12, 0x34])).fromServer(modbusAdu(6, 1, [6, 0, 40, 0x12, 0x34]));
  c.fromClient(modbusAdu(7, 1, [16, 0, 50, 0, 2, 4, 0, 1, 0, 2])).fromServer(modbusAdu(7, 1, [16, 0, 50, 0, 2]));
  return c.frames;
}

function containsReferenceAddress(frame: Uint8Array): boolean {
  for (let i = 0; i + 4 <= frame.length; i++) {
    if (frame[i] === 192 && frame[i + 1] === 0 && frame[i + 2] === 2 && (frame[i + 3] === 10 || frame[i + 3] === 20)) return true;
  }
  return false;
}

// Mixes 32-bit seed and input index into the seed of the input's generator.
function inputSeed(seed: number, index: number): number {
  let h = (seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0 || 1;
}

export interface FuzzInput {
  generator: GeneratorName;
  frames: TimedFrame[];
  hostileCount: number;
}

// Builds input `index` of run `seed`: hostile frames spread between the
// reference flow's frames, all with increasing timestamps.
export function buildInput(seed: number, index: number, seeds: Uint8Array[][]): FuzzInput {
  const random = seededRandom(inputSeed(seed, index));
  const { generator, frames: hostile } = hostileFrames(random, seeds);
  const clean = hostile.filter((f) => !containsReferenceAddress(f));
  const reference = referenceFrames();
  const slots: Uint8Array[][] = reference.map(() => []);
  for (const frame of clean) slots[Math.floor(random() * slots.length)].push(frame);
  const frames: TimedFrame[] = [];
  reference.forEach((frame, k) => {
    frames.push(timedAt(k * SLOT_US, frame));
    slots[k].forEach((h, j) => frames.push(timedAt(k * SLOT_US + 1 + (j % (SLOT_US - 1)), h)));
  });
  return { generator, frames, hostileCount: clean.length };
}

function timedAt(us: number, bytes: Uint8Array): TimedFrame {
  return { tsSec: BASE_SEC + Math.floor(us / 1e6), tsFrac: us % 1e6, bytes };
}

// Ethernet frames of the public captures and the project's fixtures, one
// array per file, at most `perFile` frames each.
const FIXTURE_FILES = ["test/fixtures/modbus/pipelined-wraparound.pcap", "test/fixtures/demo/plant-scene.pcap"];

export async function loadSeeds(useCaptures: boolean, perFile = 4000): Promise<Uint8Array[][]> {
  const files: string[] = FIXTURE_FILES.map((f) => join(repoRoot, f));
  if (useCaptures) {
    for (const folder of ["modbus", "smb", "dcerpc", "ntlm", "s7comm", "mixed", "dnp3"]) {
      try {
        for (const name of readdirSync(join(capturesDir, folder)).sort()) files.push(join(capturesDir, folder, name));
      } catch {
        // The public captures are optional: without them the fixtures seed the mutations.
      }
    }
  }
  const seeds: Uint8Array[][] = [];
  for (const file of files) {
    const frames: Uint8Array[] = [];
    try {
      for await (const batch of readCapture(file)) {
        if (batch.linkType !== 1) continue;
        const view = new DataView(batch.bytes.buffer, batch.bytes.byteOffset, batch.byteLength);
        for (let at = 0; at + 16 <= batch.byteLength && frames.length < perFile;) {
          const caplen = view.getUint32(at + 8, true);
          frames.push(batch.bytes.slice(at + 16, at + 16 + caplen));
          at += 16 + caplen;
        }
        if (frames.length >= perFile) break;
      }
    } catch {
      continue;
    }
    if (frames.length > 0) seeds.push(frames);
  }
  return seeds;
}

// ---------------------------------------------------------------------------
// Checks

function comparable(records: CoreRecord[]): string[] {
  return records
    .filter((r) => r.src.ip === REFERENCE_CLIENT && r.dst.ip === REFERENCE_SERVER)
    .map((r) => JSON.stringify({ ...r, flowId: 0 }));
}

function delta(after: CoreStats, before: CoreStats, name: string): number {
  return (after.counters[name] ?? 0) - (before.counters[name] ?? 0);
}

// One core instance that inputs run through one after another; each input
// ends with `finish`, so no flow outlives it.
export class FuzzTarget {
  private constructor(private readonly core: Core, private readonly reference: string[], private readonly memory: number) {}

  static async create(): Promise<FuzzTarget> {
    const wasmPath = process.env.FIELDSENSE_CORE_WASM;
    const alone = await Core.load({ limits: FUZZ_LIMITS, wasmPath, logger: silentLogger });
    const records: CoreRecord[] = [];
    alone.process(batchOf(referenceFrames().map((bytes, k) => timedAt(k * SLOT_US, bytes))), (r) => records.push(r));
    alone.finish((r) => records.push(r));
    const reference = comparable(records);
    if (reference.length !== 16) throw new Error(`the reference Modbus flow gave ${reference.length} records alone, expected 16`);
    const core = await Core.load({ limits: FUZZ_LIMITS, wasmPath, logger: silentLogger });
    return new FuzzTarget(core, reference, core.memorySize());
  }

  stats(): CoreStats {
    return this.core.stats();
  }

  // Test hook of the harness's own tests: the core traps on the
  // `packets`-th packet from now.
  armTrap(packets: number): void {
    this.core.exportFunction("__forceTrapAfterPackets")(packets);
  }

  // Runs one input and returns what it broke, if anything.
  check(input: FuzzInput, seed: number, index: number): FuzzFailure | undefined {
    const fail = (kind: FailureKind, message: string): FuzzFailure => ({ kind, seed, index, generator: input.generator, message });
    const before = this.core.stats();
    const restarts = this.core.restarts;
    const records: CoreRecord[] = [];
    try {
      this.core.process(batchOf(input.frames), (r) => records.push(r));
      this.core.finish((r) => records.push(r));
    } catch (error) {
      return fail("error", `the core raised ${(error as Error).name}: ${(error as Error).message}`);
    }
    const after = this.core.stats();
    if (this.core.restarts !== restarts) return fail("trap", "the core trapped and was restarted");
    const steps = delta(after, before, "stream.dissector_calls");
    const bound = stepBound(delta(after, before, "tcp.payload_bytes"), delta(after, before, "tcp.segments"));
    if (steps > bound) return fail("steps", `${steps} dissector calls for this input, above the bound of ${bound}`);
    const memory = this.core.memorySize();
    if (memory !== this.memory) return fail("memory", `linear memory grew from ${this.memory} to ${memory} bytes`);
    const got = comparable(records);
    if (got.length !== this.reference.length || got.some((r, i) => r !== this.reference[i])) {
      const first = got.findIndex((r, i) => r !== this.reference[i]);
      return fail("reference", `the well-formed Modbus flow gave ${got.length} records instead of ${this.reference.length}; first difference at record ${first}: ${got[first] ?? "missing"}`);
    }
    return undefined;
  }
}

// ---------------------------------------------------------------------------
// Runs

// Runs inputs from `firstIndex` until `seconds` pass or `maxInputs` ran,
// calling `onInput` before each (the watchdog's heartbeat).
export async function runFuzz(config: FuzzConfig, onInput: (index: number) => void = () => {}): Promise<FuzzReport> {
  const seeds = await loadSeeds(config.useCaptures ?? true);
  const target = await FuzzTarget.create();
  const report: FuzzReport = { seed: config.seed, inputs: 0, frames: 0, failures: [], generators: {}, anomalies: {} };
  const deadline = Date.now() + config.seconds * 1000;
  let index = config.firstIndex ?? 0;
  while (Date.now() < deadline && (config.maxInputs === undefined || report.inputs < config.maxInputs)) {
    onInput(index);
    const input = buildInput(config.seed, index, seeds);
    const failure = target.check(input, config.seed, index);
    if (failure) report.failures.push(failure);
    report.inputs += 1;
    report.frames += input.frames.length;
    report.generators[input.generator] = (report.generators[input.generator] ?? 0) + 1;
    index += 1;
  }
  report.anomalies = target.stats().anomalies;
  return report;
}

// Reads a saved input (a pcap file of the fuzz harness) back as an input.
export async function readInput(path: string): Promise<FuzzInput> {
  const frames: TimedFrame[] = [];
  for await (const batch of readCapture(path)) {
    const view = new DataView(batch.bytes.buffer, batch.bytes.byteOffset, batch.byteLength);
    for (let at = 0; at + 16 <= batch.byteLength;) {
      const caplen = view.getUint32(at + 8, true);
      frames.push({ tsSec: view.getUint32(at, true), tsFrac: view.getUint32(at + 4, true), bytes: batch.bytes.slice(at + 16, at + 16 + caplen) });
      at += 16 + caplen;
    }
  }
  return { generator: "mutation", frames, hostileCount: frames.length };
}

// Saves the input of a failure under `dir` and returns the path. Inputs
// built from public captures are saved as a recipe (seed and index, JSON),
// because the captures' bytes stay out of the repository; every other input
// is saved as a pcap file.
export async function saveRegression(dir: string, failure: FuzzFailure, useCaptures = true): Promise<string> {
  const seeds = await loadSeeds(useCaptures);
  const input = buildInput(failure.seed, failure.index, seeds);
  mkdirSync(dir, { recursive: true });
  const name = `${failure.kind}-seed${failure.seed}-input${failure.index}`;
  if (useCaptures && input.generator === "mutation") {
    const path = join(dir, `${name}.json`);
    writeFileSync(path, `${JSON.stringify({ seed: failure.seed, index: failure.index, useCaptures, kind: failure.kind, message: failure.message }, null, 2)}\n`);
    return path;
  }
  const path = join(dir, `${name}.pcap`);
  writeFileSync(path, pcapFile(input.frames));
  return path;
}

// Rebuilds a saved input: a pcap file as it is, a JSON recipe from its seed
// and index. Returns undefined when a recipe needs the public captures and
// they are absent.
export async function loadSaved(path: string): Promise<FuzzInput | undefined> {
  if (path.endsWith(".pcap")) return readInput(path);
  const recipe = JSON.parse(readFileSync(path, "utf8")) as { seed: number; index: number; useCaptures: boolean };
  const seeds = await loadSeeds(recipe.useCaptures);
  if (recipe.useCaptures && seeds.length <= FIXTURE_FILES.length) return undefined;
  return buildInput(recipe.seed, recipe.index, seeds);
}

// Runs `runFuzz` in a worker thread and ends it when one input takes longer
// than `hangSeconds`: a core stuck in a loop never returns to JavaScript, so
// only another thread can notice. The hang becomes a failure of that input.
export function fuzzInWorker(config: FuzzConfig, hangSeconds = 30): Promise<FuzzReport> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL("./worker-shim.mjs", import.meta.url), {
      workerData: { module: new URL("./worker.ts", import.meta.url).href, config },
    });
    let current = config.firstIndex ?? 0;
    let settled = false;
    let timer: NodeJS.Timeout;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        settled = true;
        void worker.terminate();
        resolve({
          seed: config.seed, inputs: current - (config.firstIndex ?? 0) + 1, frames: 0, generators: {}, anomalies: {},
          failures: [{ kind: "hang", seed: config.seed, index: current, generator: "replay", message: `input ${current} ran for more than ${hangSeconds} s` }],
        });
      }, hangSeconds * 1000);
    };
    arm();
    worker.on("message", (message: { type: string; index?: number; report?: FuzzReport }) => {
      if (message.type === "input") {
        current = message.index!;
        arm();
      } else if (message.type === "done" && !settled) {
        settled = true;
        clearTimeout(timer);
        resolve(message.report!);
      }
    });
    worker.on("error", (error) => {
      clearTimeout(timer);
      if (!settled) reject(error);
    });
    worker.on("exit", (code) => {
      clearTimeout(timer);
      if (!settled) reject(new Error(`the fuzz worker exited with code ${code} before it reported`));
    });
  });
}
