// The measurements that run other processes: the core alone (in a child
// process, batches preloaded), the whole-process comparison on one file, and
// memory on the many-flows corpora.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, relative } from "node:path";
import type { CorpusFile } from "./corpus.js";
import type { CoreThroughputResult, RecordDecoding } from "./core-throughput.js";
import { alternate, shellLine, summarise, type Command, type ProcessSample, type Summary } from "./measure.js";
import type { Tool } from "./tools.js";

// Protocol fields tshark extracts: the facts Fieldsense's records carry.
export const TSHARK_FIELDS = [
  "frame.time_epoch", "ip.src", "ip.dst", "tcp.srcport", "tcp.dstport",
  "mbtcp.trans_id", "mbtcp.unit_id", "modbus.func_code", "modbus.exception_code",
  "smb.cmd", "smb.nt_status", "smb.path", "smb.file",
  "smb2.cmd", "smb2.nt_status", "smb2.msg_id", "smb2.tid", "smb2.sesid", "smb2.tree", "smb2.filename",
  "dcerpc.pkt_type", "dcerpc.cn_call_id", "dcerpc.cn_bind_to_uuid", "dcerpc.opnum",
  "ntlmssp.auth.username", "ntlmssp.auth.domain", "ntlmssp.auth.hostname",
];
export const TSHARK_FILTER = "mbtcp || smb || smb2 || dcerpc || ntlmssp";

export interface SideResult {
  label: string;
  command: string;
  wallSeconds: Summary;
  packetsPerSecond: Summary;
  megabitsPerSecond: Summary;
  maxRssMiB: Summary;
  outputLines: number;
}

export interface WholeProcessResult {
  file: string;
  packets: number;
  wireBytes: number;
  runs: number;
  sides: SideResult[];
  ratios: { against: string; ratio: number; worstCase: number }[];
}

export interface WholeProcessTools {
  time: Tool;
  tshark?: Tool;
  tcpdump?: Tool;
  plainPipeline: boolean;
}

export const FIELDSENSE_LABEL = "fieldsense replay --json";
export const FIELDSENSE_RECORDS_LABEL = "fieldsense replay --json --records";

function display(repoRoot: string, argv: string[]): string {
  const displayArgument = (a: string) => {
    if (a === process.execPath) return "node";
    if (a.startsWith(repoRoot + "/")) return relative(repoRoot, a);
    if (/^\/usr\/s?bin\//.test(a)) return a.replace(/^.*\//, "");
    return a;
  };
  return shellLine(argv.map(displayArgument));
}

// Node flags on the `#!/usr/bin/env -S node ...` line of bin/fieldsense.js,
// so that the benchmark runs the CLI with the heap settings it is installed
// with even though it starts `node` itself.
export function cliNodeFlags(repoRoot: string): string[] {
  const firstLine = readFileSync(join(repoRoot, "bin", "fieldsense.js"), "utf8").split("\n", 1)[0];
  const words = firstLine.replace(/^#!/, "").trim().split(/\s+/);
  const node = words.indexOf("node");
  return node < 0 ? [] : words.slice(node + 1).filter((word) => word.startsWith("--"));
}

export function comparisonCommands(file: string, tools: WholeProcessTools, repoRoot: string): Command[] {
  const commands: Command[] = [];
  const add = (label: string, argv: string[]) => commands.push({ label, argv, display: display(repoRoot, argv) });
  const cli = [process.execPath, ...cliNodeFlags(repoRoot), "bin/fieldsense.js"];
  add(FIELDSENSE_LABEL, [...cli, "replay", file, "--json"]);
  add(FIELDSENSE_RECORDS_LABEL, [...cli, "replay", file, "--json", "--records"]);
  if (tools.tshark) {
    add("tshark -T fields", [tools.tshark.command, "-r", file, "-n", "-T", "fields", "-E", "separator=,", "-Y", TSHARK_FILTER, ...TSHARK_FIELDS.flatMap((f) => ["-e", f])]);
  }
  if (tools.tcpdump) add("tcpdump -w /dev/null", [tools.tcpdump.command, "-r", file, "-w", "/dev/null"]);
  if (tools.plainPipeline) add("node-pcap + hand-written checks", [process.execPath, "bench/plain-pipeline.mjs", file]);
  return commands;
}

function sideOf(command: Command, samples: ProcessSample[], file: CorpusFile): SideResult {
  return {
    label: command.label,
    command: command.display,
    wallSeconds: summarise(samples.map((s) => s.wallSeconds)),
    packetsPerSecond: summarise(samples.map((s) => file.packets / s.wallSeconds)),
    megabitsPerSecond: summarise(samples.map((s) => (file.wireBytes * 8) / s.wallSeconds / 1e6)),
    maxRssMiB: summarise(samples.map((s) => s.maxRssKiB / 1024)),
    outputLines: samples[samples.length - 1].outputLines,
  };
}

// Runs every side `runs` times, alternating, on one file.
export async function compareWholeProcess(file: CorpusFile, tools: WholeProcessTools, runs: number, repoRoot: string): Promise<WholeProcessResult> {
  const commands = comparisonCommands(file.path, tools, repoRoot);
  console.error(`bench: whole-process comparison on ${relative(repoRoot, file.path)} (${file.packets} packets), ${runs} runs of ${commands.length} commands`);
  const samples = await alternate(tools.time.command, commands, runs, repoRoot);
  const sides = commands.map((command) => sideOf(command, samples.get(command.label)!, file));
  const fieldsense = sides[0];
  const ratios = sides.slice(1).map((side) => ({
    against: side.label,
    ratio: fieldsense.packetsPerSecond.median / side.packetsPerSecond.median,
    worstCase: fieldsense.packetsPerSecond.min / side.packetsPerSecond.max,
  }));
  return { file: relative(repoRoot, file.path), packets: file.packets, wireBytes: file.wireBytes, runs, sides, ratios };
}

// ---------------------------------------------------------------- core alone

export interface CoreResult {
  command: string;
  // "all": the host decoded every record into a CoreRecord; "none": it
  // counted the records by the type in their header.
  decode: RecordDecoding;
  file: string;
  packets: number;
  models: number;
  packetsPerSecond: Summary;
  megabitsPerSecond: Summary;
  recordsPerRun: number;
  recordsByType: Record<string, number>;
  linearMemoryBytes: number | null;
  linearMemoryResidentBytes: number | null;
  counters: Record<string, number>;
  anomalies: Record<string, number>;
}

export function coreCommand(file: string, runs: number, repoRoot: string, maxFlows?: number, decode: RecordDecoding = "all"): { argv: string[]; display: string } {
  const script = "bench/core-throughput.ts";
  const extra = maxFlows === undefined ? [] : ["--max-flows", String(maxFlows)];
  if (decode !== "all") extra.push("--decode", decode);
  return {
    argv: [process.execPath, "--import", "tsx", script, file, "--runs", String(runs), ...extra],
    display: shellLine(["npx", "tsx", script, relative(repoRoot, file), "--runs", String(runs), ...extra]),
  };
}

// Runs bench/core-throughput.ts in a child process so that each measurement
// starts from a fresh V8 heap.
export async function measureCoreAlone(file: CorpusFile, runs: number, repoRoot: string, maxFlows?: number, decode: RecordDecoding = "all"): Promise<CoreResult> {
  const { argv, display: shown } = coreCommand(file.path, runs, repoRoot, maxFlows, decode);
  const output = await new Promise<string>((done, fail) => {
    const child = spawn(argv[0], argv.slice(1), { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    child.on("error", fail);
    child.on("close", (code) => (code === 0 ? done(stdout) : fail(new Error(`core benchmark failed with exit code ${code}: ${shown}\n${stderr.trim()}`))));
  });
  const result = JSON.parse(output) as CoreThroughputResult;
  return {
    command: shown,
    decode: result.decode,
    file: relative(repoRoot, file.path),
    packets: result.packets,
    models: result.models,
    packetsPerSecond: summarise(result.runs.map((r) => result.packets / r.seconds)),
    megabitsPerSecond: summarise(result.runs.map((r) => (result.wireBytes * 8) / r.seconds / 1e6)),
    recordsPerRun: result.runs[result.runs.length - 1].records,
    recordsByType: result.recordsByType,
    linearMemoryBytes: result.linearMemoryBytes,
    linearMemoryResidentBytes: result.linearMemoryResidentBytes ?? null,
    counters: result.counters,
    anomalies: result.anomalies,
  };
}

// ---------------------------------------------------------------- memory

export interface MemoryPoint {
  flows: number;
  packets: number;
  file: string;
  replayCommand: string;
  replayMaxRssMiB: Summary;
  coreCommand: string;
  coreLinearMemoryMiB: number | null;
  // The part of it in RAM after the file (absent from older results).
  coreResidentMiB?: number | null;
  corePacketsPerSecond: number;
  flowCounters: Record<string, number>;
  // The same file with the flow table sized for every flow (maxFlows raised,
  // other limits at their defaults).
  sized: { maxFlows: number; command: string; linearMemoryMiB: number | null; flowCounters: Record<string, number> };
}

// Flow table size with room for `flows` flows and a quarter more, so none is evicted.
export function sizedMaxFlows(flows: number): number {
  return Math.max(65_536, Math.ceil(flows * 1.25));
}

// Peak RSS of the whole replay process and the core's linear memory after
// the many-flows file, for each flow count.
export async function measureMemory(files: CorpusFile[], time: Tool, runs: number, repoRoot: string): Promise<MemoryPoint[]> {
  const points: MemoryPoint[] = [];
  for (const file of files) {
    const [replay] = comparisonCommands(file.path, { time, plainPipeline: false }, repoRoot);
    console.error(`bench: memory with ${file.flows} concurrent flows (${relative(repoRoot, file.path)})`);
    const samples = (await alternate(time.command, [replay], runs, repoRoot)).get(replay.label)!;
    const core = await measureCoreAlone(file, 1, repoRoot);
    const maxFlows = sizedMaxFlows(file.flows ?? 0);
    const sized = await measureCoreAlone(file, 1, repoRoot, maxFlows);
    const flowCountersOf = (counters: Record<string, number>) => Object.fromEntries(Object.entries(counters).filter(([name]) => /^flows\./.test(name)));
    const flowCounters = flowCountersOf(core.counters);
    points.push({
      flows: file.flows ?? 0,
      packets: file.packets,
      file: relative(repoRoot, file.path),
      replayCommand: replay.display,
      replayMaxRssMiB: summarise(samples.map((s) => s.maxRssKiB / 1024)),
      coreCommand: core.command,
      coreLinearMemoryMiB: core.linearMemoryBytes === null ? null : core.linearMemoryBytes / 2 ** 20,
      coreResidentMiB: core.linearMemoryResidentBytes === null ? null : core.linearMemoryResidentBytes / 2 ** 20,
      corePacketsPerSecond: core.packetsPerSecond.median,
      flowCounters,
      sized: {
        maxFlows,
        command: sized.command,
        linearMemoryMiB: sized.linearMemoryBytes === null ? null : sized.linearMemoryBytes / 2 ** 20,
        flowCounters: flowCountersOf(sized.counters),
      },
    });
  }
  return points;
}
