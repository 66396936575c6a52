// Profiles one replay with V8's sampling profiler (`node --cpu-prof`) and
// summarises where the time went: self time per function and per area
// (WebAssembly core, agent code, Node internals, garbage collection).
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileEntry {
  name: string;
  where: string;
  selfMs: number;
  percent: number;
}

export interface ProfileSummary {
  command: string;
  totalMs: number;
  areas: { area: string; selfMs: number; percent: number }[];
  top: ProfileEntry[];
}

function areaOf(url: string, functionName: string, repoRoot: string): string {
  if (functionName === "(garbage collector)") return "garbage collection";
  if (functionName === "(idle)" || functionName === "(program)") return "V8 and idle";
  if (url.startsWith("wasm://")) return "WebAssembly core";
  if (url.includes("/node_modules/")) return "npm packages";
  if (url.startsWith("node:") || url === "") return "Node internals";
  if (url.includes(`${repoRoot}/bench/`)) return "benchmark harness (loading the file)";
  if (url.includes(repoRoot)) return "Fieldsense host code (TypeScript)";
  return "other";
}

// Reads the function names of the core from the text format that the release
// build writes beside build/core.wasm: the binary carries no name section, so
// V8 reports its functions as wasm-function[INDEX]. Imported functions come
// first in the function index space, then the defined ones in order.
export function wasmFunctionNames(watPath: string): string[] {
  if (!existsSync(watPath)) return [];
  const names: string[] = [];
  const defined: string[] = [];
  for (const line of readFileSync(watPath, "utf8").split("\n")) {
    const imported = /^\s*\(import "[^"]*" "[^"]*" \(func \$(\S+)/.exec(line);
    if (imported) names.push(imported[1]);
    const own = /^ \(func \$(\S+)/.exec(line);
    if (own) defined.push(own[1]);
  }
  return [...names, ...defined];
}

// Sums self time per function from a .cpuprofile file.
export function summariseProfile(profile: CpuProfile, repoRoot: string, command: string, wasmNames: string[] = [], topCount = 15): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfMicroseconds = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    selfMicroseconds.set(profile.samples[i], (selfMicroseconds.get(profile.samples[i]) ?? 0) + delta);
  }
  const functions = new Map<string, ProfileEntry>();
  const areas = new Map<string, number>();
  let total = 0;
  for (const [id, micros] of selfMicroseconds) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const wasmIndex = /^wasm-function\[(\d+)\]$/.exec(functionName);
    const name = (wasmIndex ? wasmNames[Number(wasmIndex[1])] : undefined) ?? (functionName || "(anonymous)");
    const path = url.startsWith("file://") ? relative(repoRoot, new URL(url).pathname) : url;
    const where = path ? `${path}:${lineNumber + 1}` : "";
    const key = `${name}@${where}`;
    const entry = functions.get(key) ?? { name, where, selfMs: 0, percent: 0 };
    entry.selfMs += micros / 1000;
    functions.set(key, entry);
    const area = areaOf(url, functionName, repoRoot);
    areas.set(area, (areas.get(area) ?? 0) + micros / 1000);
    total += micros / 1000;
  }
  const percent = (ms: number) => (total === 0 ? 0 : (ms / total) * 100);
  const top = [...functions.values()].sort((a, b) => b.selfMs - a.selfMs).slice(0, topCount);
  for (const entry of top) entry.percent = percent(entry.selfMs);
  return {
    command,
    totalMs: total,
    areas: [...areas.entries()].map(([area, selfMs]) => ({ area, selfMs, percent: percent(selfMs) })).sort((a, b) => b.selfMs - a.selfMs),
    top,
  };
}

// Runs `node --cpu-prof` on the given script arguments and returns the summary.
export function profileNode(args: string[], repoRoot: string, display: string): ProfileSummary {
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-cpu-prof-"));
  try {
    const result = spawnSync(process.execPath, ["--cpu-prof", `--cpu-prof-dir=${dir}`, ...args], {
      cwd: repoRoot, stdio: ["ignore", "ignore", "pipe"], maxBuffer: 16 << 20,
    });
    if (result.status !== 0) {
      throw new Error(`profiled command failed with exit code ${result.status}: ${display}\n${result.stderr.toString().trim().split("\n").slice(-5).join("\n")}`);
    }
    const file = readdirSync(dir).find((name) => name.endsWith(".cpuprofile"));
    if (!file) throw new Error(`node --cpu-prof wrote no .cpuprofile file into ${dir} for: ${display}`);
    const profile = JSON.parse(readFileSync(join(dir, file), "utf8")) as CpuProfile;
    return summariseProfile(profile, repoRoot, display, wasmFunctionNames(join(repoRoot, "build", "core.wat")));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
