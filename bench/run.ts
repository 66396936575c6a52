// `npm run bench`: builds the corpus when missing, runs every benchmark, and
// writes BENCHMARKS.md (and the raw figures to bench/results/).
//
//   npm run bench                 quick mode, under two minutes once the corpus exists
//   npm run bench -- --full       every flow count, the 1.5-million-packet file, more runs
//   npm run bench -- --smoke      tiny corpus, one run each (used by the test suite)
//
// Options: --corpus-dir DIR, --output FILE (default BENCHMARKS.md),
// --results FILE (default bench/results/<mode>.json), --no-install (never call apt-get),
// --render FILE.json (write the report from earlier results without measuring).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { loadavg } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { compareWholeProcess, measureCoreAlone, measureMemory, FIELDSENSE_LABEL } from "./comparisons.js";
import { defaultCorpusDir, ensureCorpus, FULL_PLAN, QUICK_PLAN, repoRoot, type Corpus, type CorpusPlan } from "./corpus.js";
import { measureIngest } from "./ingest.js";
import { measureLatency } from "./latency.js";
import { profileNode } from "./profile.js";
import { renderReport, type BenchResults, type Section } from "./report.js";
import { describeMachine, isMissing, requireDebianPackage, requireTool, toolVersion, type Tool } from "./tools.js";

type Mode = "quick" | "full" | "smoke";

interface ModeSettings {
  plan: CorpusPlan;
  coreRuns: number;
  processRuns: number;
  memoryRuns: number;
  latencyPacketsPerSecond: number;
  latencySeconds: number;
  latencyWarmupSeconds: number;
  ingestAlerts: number;
}

const SETTINGS: Record<Mode, ModeSettings> = {
  smoke: { plan: { plantMixPackets: 3_000, comparisonPackets: 3_000, manyFlowCounts: [100, 1_000] }, coreRuns: 1, processRuns: 1, memoryRuns: 1, latencyPacketsPerSecond: 2_000, latencySeconds: 1.5, latencyWarmupSeconds: 0.5, ingestAlerts: 200 },
  quick: { plan: QUICK_PLAN, coreRuns: 3, processRuns: 3, memoryRuns: 1, latencyPacketsPerSecond: 5_000, latencySeconds: 6, latencyWarmupSeconds: 2, ingestAlerts: 2_000 },
  full: { plan: FULL_PLAN, coreRuns: 7, processRuns: 5, memoryRuns: 3, latencyPacketsPerSecond: 5_000, latencySeconds: 60, latencyWarmupSeconds: 2, ingestAlerts: 20_000 },
};

function parseOptions() {
  const { values } = parseArgs({
    options: {
      full: { type: "boolean", default: false },
      smoke: { type: "boolean", default: false },
      "corpus-dir": { type: "string" },
      output: { type: "string" },
      results: { type: "string" },
      "no-install": { type: "boolean", default: false },
      render: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
    allowPositionals: false,
  });
  if (values.help) {
    console.log("usage: npm run bench [-- --full | --smoke] [--corpus-dir DIR] [--output FILE] [--results FILE] [--no-install] [--render FILE.json]");
    process.exit(0);
  }
  if (values.full && values.smoke) throw new Error("--full and --smoke exclude each other; pick one mode");
  let mode: Mode = "quick";
  if (values.full) mode = "full";
  if (values.smoke) mode = "smoke";
  return {
    mode,
    corpusDir: resolve(values["corpus-dir"] ?? defaultCorpusDir),
    output: resolve(values.output ?? join(repoRoot, "BENCHMARKS.md")),
    results: resolve(values.results ?? join(repoRoot, "bench", "results", `${mode}.json`)),
    install: !values["no-install"],
    render: values.render === undefined ? undefined : resolve(values.render),
  };
}

// Returns why node-pcap cannot be loaded, or undefined when it can. With
// `install`, a missing build is retried once after installing libpcap-dev and
// rebuilding the package (its native addon compiles against libpcap).
function plainPipelineAvailable(install: boolean): string | undefined {
  const load = (): string | undefined => {
    try {
      createRequire(import.meta.url)("pcap");
      return undefined;
    } catch (error) {
      return `npm package pcap (node-pcap 3.1) cannot be loaded: ${(error as Error).message.split("\n")[0]}`;
    }
  };
  const reason = load();
  if (reason === undefined || !install) return reason && `${reason}; install Debian package libpcap-dev, then run npm install (pcap is an optional dependency)`;
  const failure = requireDebianPackage("libpcap-dev");
  if (failure) return `${reason}; ${failure}`;
  console.error("bench: rebuilding npm package pcap against libpcap-dev");
  const rebuild = spawnSync("npm", ["rebuild", "pcap"], { cwd: repoRoot, stdio: ["ignore", "ignore", "pipe"] });
  if (rebuild.status !== 0) return `${reason}; npm rebuild pcap failed: ${rebuild.stderr.toString().trim().split("\n").pop()}`;
  return load();
}

// Runs one section, turning a failure into a reason printed in the report
// instead of stopping the other benchmarks.
async function section<T>(name: string, body: () => Promise<T>): Promise<Section<T>> {
  const started = Date.now();
  try {
    const value = await body();
    console.error(`bench: ${name} done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return { ok: true, value, seconds: (Date.now() - started) / 1000 };
  } catch (error) {
    const reason = (error as Error).message;
    console.error(`bench: ${name} not measured: ${reason}`);
    return { ok: false, reason };
  }
}

// The replay runs the compiled dist/ while the core benchmark runs the
// TypeScript sources through tsx, so a stale build makes the two disagree.
function warnIfBuildIsStale(): void {
  const built = statSync(join(repoRoot, "dist/agent/src/cli/main.js")).mtimeMs;
  const newer = (dir: string): string | undefined => {
    for (const entry of readdirSync(join(repoRoot, dir), { withFileTypes: true, recursive: true })) {
      if (!entry.isFile() || !entry.name.endsWith(".ts")) continue;
      const path = join(entry.parentPath, entry.name);
      if (statSync(path).mtimeMs > built) return relative(repoRoot, path);
    }
    return undefined;
  };
  const changed = newer("agent/src") ?? newer("correlator/src");
  if (changed) console.error(`bench: warning: ${changed} is newer than dist/; run npm run build so that the replay and the core benchmark run the same code`);
}

interface DiscoveredTools {
  time: Tool;
  tshark?: Tool;
  tcpdump?: Tool;
  mosquitto?: Tool;
  plainPipeline: boolean;
  versions: { name: string; version: string }[];
}

// Finds (and with `install`, installs) every external program the benchmarks use.
function discoverTools(install: boolean): DiscoveredTools {
  const time = requireTool("time", install);
  if (isMissing(time)) throw new Error(`${time.missing}; every process measurement needs GNU time for the peak resident memory`);
  const versions: { name: string; version: string }[] = [];
  const found: Record<string, Tool | undefined> = {};
  for (const name of ["tshark", "tcpdump", "mosquitto"] as const) {
    const tool = requireTool(name, install);
    if (isMissing(tool)) {
      versions.push({ name, version: `not available: ${tool.missing}` });
    } else {
      versions.push({ name, version: toolVersion(name, tool.command) });
      found[name] = tool;
    }
  }
  const plainProblem = plainPipelineAvailable(install);
  const pcapVersion = plainProblem === undefined
    ? createRequire(import.meta.url)("pcap/package.json").version as string
    : `not available: ${plainProblem}`;
  versions.push({ name: "node-pcap (npm pcap)", version: pcapVersion });
  return { time, tshark: found.tshark, tcpdump: found.tcpdump, mosquitto: found.mosquitto, plainPipeline: plainProblem === undefined, versions };
}

async function measureAll(settings: ModeSettings, corpus: Corpus, tools: DiscoveredTools) {
  const core = await section("core alone", () => measureCoreAlone(corpus.plantMix, settings.coreRuns, repoRoot));
  const coreUndecoded = await section("core alone, records not decoded", () => measureCoreAlone(corpus.plantMix, settings.coreRuns, repoRoot, undefined, "none"));
  const wholeProcess = await section("whole process", () => compareWholeProcess(corpus.comparison, tools, settings.processRuns, repoRoot));
  const memory = await section("memory", () => measureMemory(corpus.manyFlows, tools.time, settings.memoryRuns, repoRoot));
  const latency = await section("latency", () => measureLatency({
    file: corpus.plantMix, mosquitto: tools.mosquitto, packetsPerSecond: settings.latencyPacketsPerSecond,
    seconds: settings.latencySeconds, warmupSeconds: settings.latencyWarmupSeconds, repoRoot,
  }));
  const ingest = await section("correlator ingest", () => measureIngest({
    file: corpus.plantMix, mosquitto: tools.mosquitto, alerts: settings.ingestAlerts, repoRoot,
  }));

  const comparisonFile = relative(repoRoot, corpus.comparison.path);
  const profile = await section("profile of the replay", async () => profileNode(
    ["bin/fieldsense.js", "replay", corpus.comparison.path, "--json"], repoRoot,
    `node --cpu-prof bin/fieldsense.js replay ${comparisonFile} --json`,
  ));
  const plantFile = relative(repoRoot, corpus.plantMix.path);
  const coreProfile = await section("profile of the core alone", async () => profileNode(
    ["--import", "tsx", "bench/core-throughput.ts", corpus.plantMix.path, "--runs", String(settings.coreRuns)], repoRoot,
    `node --cpu-prof --import tsx bench/core-throughput.ts ${plantFile} --runs ${settings.coreRuns}`,
  ));
  return { core, coreUndecoded, wholeProcess, memory, latency, ingest, profile, coreProfile };
}

async function main(): Promise<void> {
  const options = parseOptions();
  if (options.render) {
    const earlier = JSON.parse(readFileSync(options.render, "utf8")) as BenchResults;
    writeFileSync(options.output, renderReport(earlier));
    console.error(`bench: wrote ${relative(process.cwd(), options.output)} from ${relative(process.cwd(), options.render)}`);
    return;
  }
  const settings = SETTINGS[options.mode];
  const started = new Date();
  const loadAverageAtStart = loadavg()[0];
  const missingBuild = ["build/core.wasm", "dist/agent/src/cli/main.js"].filter((path) => !existsSync(join(repoRoot, path)));
  if (missingBuild.length > 0) {
    throw new Error(`${missingBuild.join(" and ")} not found in ${repoRoot}; run npm run build first`);
  }

  warnIfBuildIsStale();
  const corpus = await ensureCorpus(settings.plan, options.corpusDir);
  const tools = discoverTools(options.install);
  const sections = await measureAll(settings, corpus, tools);

  const results: BenchResults = {
    mode: options.mode,
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    command: options.mode === "quick" ? "npm run bench" : `npm run bench -- --${options.mode}`,
    machine: { ...describeMachine(), loadAverageAtStart, loadAverageAtEnd: loadavg()[0] },
    tools: tools.versions,
    corpus: [...new Set([corpus.plantMix, corpus.comparison, ...corpus.manyFlows])].map((file) => ({ ...file, path: relative(repoRoot, file.path) })),
    fieldsenseLabel: FIELDSENSE_LABEL,
    ...sections,
  };
  mkdirSync(dirname(options.results), { recursive: true });
  writeFileSync(options.results, JSON.stringify(results, null, 2) + "\n");
  writeFileSync(options.output, renderReport(results));
  console.error(`bench: wrote ${relative(process.cwd(), options.output)} and ${relative(process.cwd(), options.results)} in ${((Date.now() - started.getTime()) / 1000).toFixed(0)} s`);
}

main().catch((error: Error) => {
  console.error(`bench: ${error.message}`);
  process.exit(1);
});
