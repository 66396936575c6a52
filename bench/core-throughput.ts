// The core alone: a capture file loaded into batches in memory first, then
// timed from the first `process` call to the end of `finish`, with every
// record drained to the host. With `--decode all` (the default) the host
// decodes each record into a CoreRecord object. With `--decode none` it only
// counts each record by the type in its header, so the time is the
// WebAssembly core's plus the drain. Prints one JSON object on stdout.
//
// Usage: tsx bench/core-throughput.ts FILE.pcap [--runs N] [--no-models] [--max-flows N] [--decode all|none]
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { loadBatches } from "./pcap.js";

interface RunResult {
  seconds: number;
  records: number;
}

export type RecordDecoding = "all" | "none";

export interface CoreThroughputResult {
  file: string;
  decode: RecordDecoding;
  packets: number;
  wireBytes: number;
  models: number;
  runs: RunResult[];
  recordsByType: Record<string, number>;
  linearMemoryBytes: number | null;
  // Bytes of the linear memory in RAM after the last run (Linux only): pools
  // reserved for the limits stay out of RAM until the core touches them.
  linearMemoryResidentBytes: number | null;
  counters: Record<string, number>;
  anomalies: Record<string, number>;
}

// The core's linear memory, seen by wrapping the WebAssembly instantiation
// entry points: the host API has no accessor for it.
const instantiated: WebAssembly.Memory[] = [];

function rememberMemory(instance: WebAssembly.Instance, imports?: WebAssembly.Imports): void {
  for (const value of Object.values(instance.exports)) {
    if (value instanceof WebAssembly.Memory) instantiated.push(value);
  }
  for (const module of Object.values(imports ?? {})) {
    for (const value of Object.values(module)) {
      if (value instanceof WebAssembly.Memory) instantiated.push(value);
    }
  }
}

function watchInstantiation(): void {
  const OriginalInstance = WebAssembly.Instance;
  const instantiate = WebAssembly.instantiate.bind(WebAssembly) as (...args: unknown[]) => Promise<unknown>;
  // instantiate(bytes) resolves to { module, instance }, instantiate(module) to the instance.
  (WebAssembly as { instantiate: unknown }).instantiate = async (source: unknown, imports?: WebAssembly.Imports) => {
    const result = await instantiate(source, imports);
    const instance = result instanceof OriginalInstance ? result : (result as { instance: WebAssembly.Instance }).instance;
    rememberMemory(instance, imports);
    return result;
  };
  class WatchedInstance extends OriginalInstance {
    constructor(module: WebAssembly.Module, imports?: WebAssembly.Imports) {
      super(module, imports);
      rememberMemory(this, imports);
    }
  }
  (WebAssembly as { Instance: unknown }).Instance = WatchedInstance;
}

// Returns the resident size of the WebAssembly memory of `byteLength` bytes,
// read from /proc/self/smaps: V8 maps it as one read-write anonymous mapping of
// exactly that size next to its inaccessible guard reservation. Null when no
// single mapping fits (not Linux, several memories of that size, another
// layout).
export function residentLinearMemoryBytes(byteLength: number): number | null {
  let smaps: string;
  try {
    smaps = readFileSync("/proc/self/smaps", "utf8");
  } catch {
    return null;
  }
  const mappings = smaps.split(/\n(?=[0-9a-f]+-[0-9a-f]+ )/).map((block) => ({
    permissions: block.split(" ")[1] ?? "",
    anonymous: /^\S+ \S+ 00000000 00:00 0\s*$/.test(block.split("\n")[0]),
    sizeBytes: Number(/\nSize:\s+(\d+) kB/.exec(block)?.[1] ?? 0) * 1024,
    residentBytes: Number(/\nRss:\s+(\d+) kB/.exec(block)?.[1] ?? 0) * 1024,
  }));
  const candidates = mappings.filter((m, i) => m.permissions === "rw-p" && m.anonymous && m.sizeBytes === byteLength &&
    (mappings[i - 1]?.permissions === "---p" || mappings[i + 1]?.permissions === "---p"));
  return candidates.length === 1 ? candidates[0].residentBytes : null;
}

export async function measureCore(file: string, runs: number, withModels: boolean, maxFlows?: number, decode: RecordDecoding = "all"): Promise<CoreThroughputResult> {
  watchInstantiation();
  const { Core } = await import("../agent/src/core/core.js");
  const { batches, packets, wireBytes } = loadBatches(file);
  const modelSet = withModels ? await (await import("../agent/src/core/models.js")).loadModelSet() : undefined;
  const results: RunResult[] = [];
  let recordsByType: Record<string, number> = {};
  let stats: { counters: Record<string, number>; anomalies: Record<string, number> } = { counters: {}, anomalies: {} };
  let memory: WebAssembly.Memory | undefined;
  for (let run = 0; run < runs; run++) {
    const seenBefore = instantiated.length;
    const core = await Core.load(maxFlows === undefined ? {} : { limits: { maxFlows } });
    modelSet?.install(core);
    memory = instantiated[seenBefore] ?? memory;
    const byType: Record<string, number> = {};
    let records = 0;
    const count = (type: string) => {
      records += 1;
      byType[type] = (byType[type] ?? 0) + 1;
    };
    const onRecord = (record: { type: string }) => count(record.type);
    if (decode === "none") core.setRecordFilter({ decodes: () => false, onSkipped: count });
    const started = performance.now();
    for (const batch of batches) core.process(batch, onRecord);
    core.finish(onRecord);
    const seconds = (performance.now() - started) / 1000;
    results.push({ seconds, records });
    recordsByType = byType;
    stats = core.stats();
  }
  return {
    file, decode, packets, wireBytes,
    models: modelSet?.models.length ?? 0,
    runs: results,
    recordsByType,
    linearMemoryBytes: memory ? memory.buffer.byteLength : null,
    linearMemoryResidentBytes: memory ? residentLinearMemoryBytes(memory.buffer.byteLength) : null,
    counters: stats.counters,
    anomalies: stats.anomalies,
  };
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: {
      runs: { type: "string", default: "3" }, "no-models": { type: "boolean", default: false }, "max-flows": { type: "string" },
      decode: { type: "string", default: "all" },
    },
    allowPositionals: true,
  });
  const runs = Number(values.runs);
  const maxFlows = values["max-flows"] === undefined ? undefined : Number(values["max-flows"]);
  const validMaxFlows = maxFlows === undefined || (Number.isInteger(maxFlows) && maxFlows >= 1);
  const decode = values.decode as string;
  if (positionals.length !== 1 || !Number.isInteger(runs) || runs < 1 || !validMaxFlows || (decode !== "all" && decode !== "none")) {
    console.error("usage: tsx bench/core-throughput.ts FILE.pcap [--runs N] [--no-models] [--max-flows N] [--decode all|none]  (each N a whole number >= 1)");
    process.exit(2);
  }
  const result = await measureCore(positionals[0], runs, !values["no-models"], maxFlows, decode);
  process.stdout.write(JSON.stringify(result) + "\n");
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: Error) => {
    console.error(`core-throughput: ${error.message}`);
    process.exit(1);
  });
}
