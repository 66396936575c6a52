// Renders BENCHMARKS.md from one run's results: the machine, the corpus, each
// figure with the command that produced it, and the targets met or missed.
import type { CoreResult, MemoryPoint, WholeProcessResult } from "./comparisons.js";
import type { CorpusFile } from "./corpus.js";
import type { BackendIngest, IngestResult } from "./ingest.js";
import type { LatencyResult } from "./latency.js";
import { spreadPercent, type Summary } from "./measure.js";
import type { ProfileSummary } from "./profile.js";
import type { MachineInfo } from "./tools.js";

export type Section<T> = { ok: true; value: T; seconds: number } | { ok: false; reason: string };

export interface BenchResults {
  mode: "quick" | "full" | "smoke";
  startedAt: string;
  finishedAt: string;
  command: string;
  machine: MachineInfo & { loadAverageAtStart: number; loadAverageAtEnd: number };
  tools: { name: string; version: string }[];
  corpus: CorpusFile[];
  fieldsenseLabel: string;
  core: Section<CoreResult>;
  // The same run with the records counted by type but not decoded on the
  // host (absent from results written before it was measured).
  coreUndecoded?: Section<CoreResult>;
  wholeProcess: Section<WholeProcessResult>;
  memory: Section<MemoryPoint[]>;
  latency: Section<LatencyResult>;
  ingest: Section<IngestResult>;
  profile: Section<ProfileSummary>;
  coreProfile: Section<ProfileSummary>;
}

// Targets on a 2-core x86 machine, one core.
export const TARGETS = {
  corePacketsPerSecond: 10_000_000,
  tsharkRatio: 50,
  plainJsRatio: 5,
  // 120 MB, as decimal megabytes; GNU time reports kibibytes, shown as MiB.
  maxRssMiBAt100kFlows: 120e6 / 2 ** 20,
  p99AlertLatencyMs: 20,
  comparisonFilePackets: 1_500_000,
};

const integer = (n: number) => Math.round(n).toLocaleString("en-US");
const fixed = (n: number, digits = 1) => n.toFixed(digits);
// Formats a rate with an SI prefix and a trailing space for the unit: "1.25 M".
function rate(n: number): string {
  if (n >= 1e6) return `${fixed(n / 1e6, 2)} M`;
  if (n >= 1e3) return `${fixed(n / 1e3, 1)} k`;
  return `${fixed(n, 0)} `;
}
const range = (s: Summary, format: (n: number) => string) => `${format(s.median)} (${format(s.min)} – ${format(s.max)})`;
const code = (text: string) => `\`${text.replace(/`/g, "'")}\``;

interface TargetRow {
  target: string;
  measured: string;
  verdict: string;
}

function verdict(met: boolean, gap: string): string {
  return met ? "met" : `missed: ${gap}`;
}

function targetRows(results: BenchResults): TargetRow[] {
  const rows: TargetRow[] = [];
  const notMeasured = (target: string, reason: string) => rows.push({ target, measured: "not measured", verdict: oneLine(reason) });

  if (results.core.ok) {
    // The core's own rate is the one with the records left as the core wrote
    // them. The rate with every record decoded on the host is shown beside it.
    const decoded = results.core.value.packetsPerSecond.median;
    const undecoded = results.coreUndecoded?.ok ? results.coreUndecoded.value.packetsPerSecond.median : undefined;
    const pps = undecoded ?? decoded;
    rows.push({
      target: `core alone >= ${rate(TARGETS.corePacketsPerSecond)}packets/s on the plant mix (decoding, flows, models)`,
      measured: undecoded === undefined
        ? `${rate(pps)}packets/s`
        : `${rate(undecoded)}packets/s (${rate(decoded)}packets/s with the host decoding every record)`,
      verdict: verdict(pps >= TARGETS.corePacketsPerSecond, `${fixed(TARGETS.corePacketsPerSecond / pps, 1)}x too slow (${fixed((pps / TARGETS.corePacketsPerSecond) * 100, 1)}% of the target)`),
    });
  } else notMeasured("core alone >= 10 M packets/s", results.core.reason);

  if (results.wholeProcess.ok) {
    const w = results.wholeProcess.value;
    const onLarge = w.packets >= TARGETS.comparisonFilePackets ? "" : ` (on ${integer(w.packets)} packets, not the ${integer(TARGETS.comparisonFilePackets)}-packet file: run --full)`;
    for (const [label, want] of [["tshark -T fields", TARGETS.tsharkRatio], ["node-pcap + hand-written checks", TARGETS.plainJsRatio]] as const) {
      const ratio = w.ratios.find((r) => r.against === label);
      const target = `${results.fieldsenseLabel} >= ${want}x the packet rate of ${label}`;
      if (!ratio) notMeasured(target, `${label} was not available (see Tools)`);
      else rows.push({ target, measured: `${fixed(ratio.ratio, 2)}x${onLarge}`, verdict: verdict(ratio.ratio >= want, `${fixed(want / ratio.ratio, 1)}x short`) });
    }
  } else notMeasured("whole-process ratios", results.wholeProcess.reason);

  if (results.memory.ok) {
    const points = results.memory.value;
    const at = points.find((p) => p.flows >= 100_000);
    const target = `peak RSS of the agent < 120 MB (${fixed(TARGETS.maxRssMiBAt100kFlows)} MiB) with 100,000 concurrent flows`;
    if (!at) notMeasured(target, `largest flow count measured is ${integer(Math.max(...points.map((p) => p.flows)))}`);
    else {
      const rss = at.replayMaxRssMiB.median;
      const evicted = at.flowCounters["flows.evicted"] ?? 0;
      const evictionNote = evicted > 0 ? ` (default limits: ${integer(evicted)} of the ${integer(at.flows)} flows evicted before their end)` : "";
      rows.push({ target, measured: `${fixed(rss)} MiB${evictionNote}`, verdict: verdict(rss < TARGETS.maxRssMiBAt100kFlows, `${fixed(rss - TARGETS.maxRssMiBAt100kFlows)} MiB over`) });
    }
  } else notMeasured("peak RSS < 120 MB at 100,000 flows", results.memory.reason);

  if (results.latency.ok && results.latency.value.toPublishedMs) {
    const p99 = results.latency.value.toPublishedMs.p99;
    rows.push({
      target: `99th percentile packet-to-published-alert latency < ${TARGETS.p99AlertLatencyMs} ms (at ${integer(results.latency.value.packetsPerSecond)} packets/s)`,
      measured: `${fixed(p99, 2)} ms (${results.latency.value.alertsReceived} alerts)`,
      verdict: verdict(p99 < TARGETS.p99AlertLatencyMs, `${fixed(p99 - TARGETS.p99AlertLatencyMs, 1)} ms over`),
    });
  } else notMeasured("p99 packet-to-alert latency < 20 ms", results.latency.ok ? "no alert arrived during the run" : results.latency.reason);
  return rows;
}

function renderMachine(results: BenchResults): string[] {
  const m = results.machine;
  return [
    "## Machine",
    "",
    "| | |",
    "|---|---|",
    `| CPU | ${m.cpuModel}, ${m.logicalCores} logical cores |`,
    `| memory | ${m.memoryGiB} GiB |`,
    `| system | ${m.os}, Linux ${m.kernel} |`,
    `| Node.js | ${m.node} |`,
    `| 1-minute load average | ${fixed(m.loadAverageAtStart, 2)} at the start, ${fixed(m.loadAverageAtEnd, 2)} at the end |`,
    ...results.tools.map((t) => `| ${t.name} | ${t.version} |`),
    "",
    "Every process benchmark runs under GNU time (`/usr/bin/time -f '%e %U %S %M'`) for the peak resident set size.",
    "Each comparison runs its sides in turn within one run, rotating the order every round, so that load from other",
    "programs on the machine falls on every side. Figures are the median, with the lowest and highest run in brackets.",
    "",
  ];
}

function renderCorpus(results: BenchResults): string[] {
  return [
    "## Corpus",
    "",
    "Generated by `bench/corpus.ts` into `bench/corpus/` (not committed) from the public captures; same bytes on every machine (sha256 below).",
    "",
    "| file | packets | MB on disk | content | sha256 (first 16) |",
    "|---|---:|---:|---|---|",
    ...results.corpus.map((f) => `| ${code(f.path)} | ${integer(f.packets)} | ${fixed(f.fileBytes / 1e6)} | ${f.description} | ${f.sha256.slice(0, 16)} |`),
    "",
  ];
}

// Flattens a failure reason into one line that fits a Markdown table cell.
function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").replace(/\|/g, "\\|");
}

function failed(title: string, section: { ok: false; reason: string }): string[] {
  return [`## ${title}`, "", `Not measured: ${oneLine(section.reason)}`, ""];
}

function renderCore(results: BenchResults): string[] {
  if (!results.core.ok) return failed("Core alone", results.core);
  const c = results.core.value;
  const records = Object.entries(c.recordsByType).map(([type, n]) => `${type} ${integer(n)}`).join(", ");
  const anomalies = Object.entries(c.anomalies).sort((a, b) => b[1] - a[1]).slice(0, 8).map(([name, n]) => `${name} ${integer(n)}`).join(", ");
  const runs = [c, ...(results.coreUndecoded?.ok ? [results.coreUndecoded.value] : [])];
  const row = (r: CoreResult) => `| ${r.decode === "none" ? "counted by type (header only)" : "decoded into `CoreRecord` objects"} | ${integer(r.packets)} | ${range(r.packetsPerSecond, rate)} | ${range(r.megabitsPerSecond, (n) => fixed(n, 0))} | ${fixed(spreadPercent(r.packetsPerSecond), 0)}% over ${r.packetsPerSecond.runs} runs | ${integer(r.recordsPerRun)} |`;
  return [
    "## Core alone",
    "",
    `Batches of about 1 MiB of ${code(c.file)} already in memory; timed from the first \`process\` to the end of \`finish\`. ${c.models} models installed.`,
    "Every record is drained from the core's event buffer to the host. In the first row the host decodes each into a `CoreRecord` object, as the agent does for the records it uses; in the second it reads only each record's type from its header and counts it, which leaves the WebAssembly core's own cost. The target is judged on the second.",
    "",
    ...runs.map((r) => `Command (${r.decode === "none" ? "counted" : "decoded"}): ${code(r.command)}`),
    "",
    "| records | packets | packets/s | Mbit/s | spread | records per run |",
    "|---|---:|---:|---:|---:|---:|",
    ...runs.map(row),
    "",
    `Records by type: ${records || "none"}. Linear memory after the run: ${c.linearMemoryBytes === null ? "unknown" : `${fixed(c.linearMemoryBytes / 2 ** 20)} MiB`}.`,
    anomalies ? `Most frequent anomalies: ${anomalies}.` : "No anomalies counted.",
    "",
  ];
}

function renderWholeProcess(results: BenchResults): string[] {
  if (!results.wholeProcess.ok) return failed("Whole process", results.wholeProcess);
  const w = results.wholeProcess.value;
  return [
    "## Whole process",
    "",
    `${integer(w.packets)} packets (${fixed(w.wireBytes / 1e6)} MB on the wire) from ${code(w.file)}, ${w.runs} runs per side. Every side writes its output to a file.`,
    "Wall time includes process start (Node.js, WebAssembly compilation, model loading).",
    "",
    "| side | wall s | packets/s | Mbit/s | spread | peak RSS MiB | output lines |",
    "|---|---:|---:|---:|---:|---:|---:|",
    ...w.sides.map((s) => `| ${s.label} | ${range(s.wallSeconds, (n) => fixed(n, 2))} | ${range(s.packetsPerSecond, rate)} | ${fixed(s.megabitsPerSecond.median, 0)} | ${fixed(spreadPercent(s.wallSeconds), 0)}% | ${fixed(s.maxRssMiB.median)} | ${integer(s.outputLines)} |`),
    "",
    "Commands:",
    "",
    ...w.sides.map((s) => `- ${s.label}: ${code(s.command)}`),
    "",
    `Packet-rate ratio of ${code(results.fieldsenseLabel)} to each other side (median over median; in brackets its slowest run over the other side's fastest):`,
    "",
    ...w.ratios.map((r) => `- ${r.against}: ${fixed(r.ratio, 2)}x (${fixed(r.worstCase, 2)}x)`),
    "",
    "The plain JavaScript side (`bench/plain-pipeline.mjs`) does less work than the other three: no TCP sequence checks, no DCE-RPC inside SMB named pipes, no NTLM, no models.",
    "",
  ];
}

function renderMemory(results: BenchResults): string[] {
  if (!results.memory.ok) return failed("Memory with many concurrent flows", results.memory);
  const points = results.memory.value;
  return [
    "## Memory with many concurrent flows",
    "",
    "Default limits. Each file opens every flow (handshake, one Modbus request and response) before any closes.",
    "Peak RSS is the whole `fieldsense replay` process; linear memory is the core's WebAssembly memory after the file, measured by the core benchmark on the same file (it never shrinks): its size as reserved from the limits, and the part in RAM (the Rss of its mapping in /proc/self/smaps), which grows with the flows.",
    "",
    "| flows | packets | peak RSS MiB (replay) | core linear memory MiB | of it resident MiB | core packets/s | flow counters |",
    "|---:|---:|---:|---:|---:|---:|---|",
    ...points.map((p) => `| ${integer(p.flows)} | ${integer(p.packets)} | ${range(p.replayMaxRssMiB, (n) => fixed(n))} | ${mebibytes(p.coreLinearMemoryMiB)} | ${mebibytes(p.coreResidentMiB ?? null)} | ${rate(p.corePacketsPerSecond)} | ${counterList(p.flowCounters)} |`),
    "",
    points.length > 0 ? `Commands: ${code(withFilePlaceholder(points[0].replayCommand))} under GNU time, and ${code(withFilePlaceholder(points[0].coreCommand))}.` : "",
    "",
    new Set(points.map((p) => p.coreLinearMemoryMiB)).size === 1
      ? "The core's linear memory is the same size at every flow count: the core reserves it when it is configured, from the limits, and only its resident part grows."
      : "The core's linear memory differs between flow counts at the same limits.",
    "The same files with the flow table sized for every flow (`--max-flows`, other limits at their defaults) show what holding them all costs:",
    "",
    "| flows | maxFlows | core linear memory MiB | flow counters |",
    "|---:|---:|---:|---|",
    ...points.map((p) => `| ${integer(p.flows)} | ${integer(p.sized.maxFlows)} | ${mebibytes(p.sized.linearMemoryMiB)} | ${counterList(p.sized.flowCounters)} |`),
    "",
    ...points.filter((p) => (p.flowCounters["flows.evicted"] ?? 0) > 0).map((p) =>
      `With ${integer(p.flows)} flows the default flow table evicted ${integer(p.flowCounters["flows.evicted"])} flows before their end, so the core did not hold all ${integer(p.flows)} at once; ${integer(p.flowCounters["flows.modbus"] ?? 0)} flows got a Modbus dissector state.`),
    "",
  ];
}

function withFilePlaceholder(command: string): string {
  return command.replace(/\S*many-flows-\d+\.pcap/, "FILE");
}

function mebibytes(value: number | null): string {
  return value === null ? "unknown" : fixed(value);
}

function counterList(counters: Record<string, number>): string {
  return Object.entries(counters).map(([name, value]) => `${name} ${integer(value)}`).join(", ");
}

function renderLatency(results: BenchResults): string[] {
  if (!results.latency.ok) return failed("Latency", results.latency);
  const l = results.latency.value;
  const row = (what: string, s: (Summary & { p99: number }) | null, count: number) =>
    s ? `| ${what} | ${count} | ${fixed(s.median, 2)} | ${fixed(s.p99, 2)} | ${fixed(s.max, 2)} |` : `| ${what} | 0 | – | – | – |`;
  return [
    "## Latency",
    "",
    `The plant mix fed at a steady ${integer(l.packetsPerSecond)} packets/s in ${l.tickMs} ms ticks (${integer(l.packetsSent)} packets); latency counts from the moment a packet was due, so it includes up to one tick of batching.`,
    `Before it, a warm-up feeds the first ${l.warmupSeconds} s of the same file the same way through a throwaway core and a second publisher under another site name, so that V8 has compiled the alert path, as on a gateway that has been running. Its ${integer(l.warmupAlerts)} alerts are not counted` +
      (l.coldStartMaxMs === null ? "." : `; the slowest of them, the cost of a cold start, reached the subscriber ${fixed(l.coldStartMaxMs, 2)} ms after its packet was due.`),
    "Gateway side, in the harness process (`bench/latency.ts`): the core with the models, alerts built as the agent builds them, and the agent's `Publisher` (outbox journal with its default fsync policy, then MQTT QoS 1).",
    `Broker: ${code(l.brokerCommand)}. Correlator: ${code(l.correlatorCommand)} (stores ${code("received_at")} at millisecond resolution).`,
    l.lateTicks > 0 ? `The feeder fell more than one tick behind ${l.lateTicks} times.` : "The feeder never fell more than one tick behind.",
    "",
    "| from packet to | alerts | median ms | p99 ms | max ms |",
    "|---|---:|---:|---:|---:|",
    row("alert received from Mosquitto by a subscriber", l.toPublishedMs, l.alertsReceived),
    row("alert stored by the correlator (SQLite)", l.toStoredMs, l.alertsStored),
    "",
    `Alerts published: ${l.alertsPublished}.`,
    "",
  ];
}

function renderIngest(results: BenchResults): string[] {
  if (!results.ingest.ok) return failed("Correlator ingest", results.ingest);
  const i = results.ingest.value;
  const endToEnd = (backend: BackendIngest) => backend.asRaised.endToEndAlertsPerSecond === null
    ? `not all stored within the time limit (${integer(backend.asRaised.endToEndStored)} of ${integer(i.asRaised.alerts)})`
    : integer(backend.asRaised.endToEndAlertsPerSecond);
  const rows = (name: string, how: string, backend: BackendIngest) => [
    `| as raised | ${name}, store only | ${integer(backend.asRaised.storeAlertsPerSecond)} | ${i.storeCommand}; ${how} |`,
    `| as raised | ${name}, end to end over MQTT | ${endToEnd(backend)} | ${code(i.endToEndCommand)} |`,
    `| one incident each | ${name}, store only | ${integer(backend.oneIncidentEach.storeAlertsPerSecond)} | ${i.storeCommand}; ${how} |`,
  ];
  const postgres = "notMeasured" in i.postgres
    ? [`| – | PostgreSQL | – | not measured: ${i.postgres.notMeasured} |`]
    : rows("PostgreSQL", `${i.postgres.server}, a new database per row`, i.postgres);
  return [
    "## Correlator ingest",
    "",
    `The models raise ${integer(i.distinctModelAlerts)} alerts on the plant mix. "As raised" stores the first ${integer(i.asRaised.alerts)} of them with their own hosts, so alerts between the same hosts join one incident that grows.`,
    `"One incident each" stores ${integer(i.oneIncidentEach.alerts)} copies, each with its own id and pair of hosts.`,
    "",
    "| alerts | path | alerts/s | how |",
    "|---|---|---:|---|",
    ...rows("SQLite", "WAL, synchronous NORMAL", i.sqlite),
    ...postgres,
    "",
    `Harness: \`bench/ingest.ts\`. The store-only rows hand the store ${integer(i.batchMessages)} alerts per transaction, the most the correlator stores in one.`,
    "The end-to-end rate counts from the first publish until a second connection to the correlator's store counts every alert.",
    "",
  ];
}

function renderProfile(title: string, section: Section<ProfileSummary>, packetsProcessed?: number): string[] {
  if (!section.ok) return failed(title, section);
  const p = section.value;
  const wasmMs = p.areas.find((a) => a.area === "WebAssembly core")?.selfMs ?? 0;
  const estimate = packetsProcessed && wasmMs > 0
    ? [`The core's WebAssembly functions took ${integer(wasmMs)} ms of samples for ${integer(packetsProcessed)} packets: an estimated ${rate(packetsProcessed / (wasmMs / 1000))}packets/s for the WebAssembly part alone, if the host's record decoding cost nothing (sampling estimate, not a measurement).`, ""]
    : [];
  const areas = p.areas.slice(0, 3).map((a) => `${a.area} ${fixed(a.percent, 0)}%`).join(", ");
  const hottest = p.top.filter((e) => !e.name.startsWith("(")).slice(0, 3).map((e) => `${code(e.name)} ${fixed(e.percent, 0)}%`).join(", ");
  return [
    `## ${title}`,
    "",
    `In short: ${areas}; the hottest functions are ${hottest}.`,
    "",
    ...estimate,
    `${code(p.command)}, ${fixed(p.totalMs / 1000, 2)} s of samples. Self time by area:`,
    "",
    "| area | ms | share |",
    "|---|---:|---:|",
    ...p.areas.map((a) => `| ${a.area} | ${integer(a.selfMs)} | ${fixed(a.percent)}% |`),
    "",
    "Functions with the most self time:",
    "",
    "| function | where | ms | share |",
    "|---|---|---:|---:|",
    ...p.top.map((e) => `| ${code(e.name)} | ${e.where ? code(e.where) : ""} | ${integer(e.selfMs)} | ${fixed(e.percent)}% |`),
    "",
  ];
}

// Splits each missed speed target into a time budget per packet and what the
// profiles measured per packet, so that the gap reads as named costs. The
// per-function figures are sampled self time divided by the packets the
// profiled command processed: estimates, not measurements.
function renderGaps(results: BenchResults, corePackets: number | undefined): string[] {
  const lines: string[] = [];
  const nsPerPacket = (ms: number, packets: number) => (ms * 1e6) / packets;
  const wasmTop = (p: ProfileSummary, packets: number, budget: number) => p.top
    .filter((e) => e.where.startsWith("wasm://"))
    .slice(0, 5)
    .map((e) => `${code(e.name.split("/").slice(-2).join("/"))} ${integer(nsPerPacket(e.selfMs, packets))} ns (${fixed(nsPerPacket(e.selfMs, packets) / budget, 1)}x the budget)`);

  // The target is judged on the core's own rate, without host decoding, when it was measured.
  let core = results.core.ok ? results.core.value : undefined;
  if (results.coreUndecoded?.ok) core = results.coreUndecoded.value;
  if (core && core.packetsPerSecond.median < TARGETS.corePacketsPerSecond && results.coreProfile.ok && corePackets) {
    const budget = 1e9 / TARGETS.corePacketsPerSecond;
    const p = results.coreProfile.value;
    const wasmMs = p.areas.find((a) => a.area === "WebAssembly core")?.selfMs ?? 0;
    lines.push(
      `- Core alone: ${rate(TARGETS.corePacketsPerSecond)}packets/s leaves ${integer(budget)} ns per packet. The core takes ${integer(1e9 / core.packetsPerSecond.median)} ns per packet as measured, and its WebAssembly functions ${integer(nsPerPacket(wasmMs, corePackets))} ns in the profile below.`,
      `  The costliest, per packet of the plant mix: ${wasmTop(p, corePackets, budget).join(", ")}.`,
    );
    const sha256 = p.top.find((e) => e.name.endsWith("sha256/compress"));
    if (sha256 && nsPerPacket(sha256.selfMs, corePackets) > budget) {
      lines.push("  SHA-256 of the files SMB carries is part of full decoding, and on this mix it alone takes more than the whole budget.");
    }
  }

  const w = results.wholeProcess.ok ? results.wholeProcess.value : undefined;
  if (w && results.profile.ok) {
    const p = results.profile.value;
    const fieldsense = w.sides[0];
    for (const [label, want] of [["tshark -T fields", TARGETS.tsharkRatio], ["node-pcap + hand-written checks", TARGETS.plainJsRatio]] as const) {
      const other = w.sides.find((side) => side.label === label);
      const ratio = w.ratios.find((r) => r.against === label);
      if (!other || !ratio || ratio.ratio >= want) continue;
      const budget = 1e9 / (want * other.packetsPerSecond.median);
      const areas = p.areas.slice(0, 4).map((a) => `${a.area} ${integer(nsPerPacket(a.selfMs, w.packets))} ns`).join(", ");
      lines.push(
        `- ${want}x ${label}: the replay would need ${rate(want * other.packetsPerSecond.median)}packets/s, ${integer(budget)} ns per packet with start-up included. It takes ${integer(1e9 / fieldsense.packetsPerSecond.median)} ns per packet; the replay profile splits it into ${areas}.`,
      );
    }
  }
  if (lines.length === 0) return [];
  return [
    "## Where the missed speed targets lose their time",
    "",
    "Per packet, from the medians above and the two profiles at the end (sampled self time divided by the packets the profiled command processed: estimates, not measurements).",
    "",
    ...lines,
    "",
  ];
}

export function renderReport(results: BenchResults): string {
  const coreProfilePackets = results.core.ok ? results.core.value.packets * results.core.value.packetsPerSecond.runs : undefined;
  const lines = [
    "# Benchmarks",
    "",
    `Generated by ${code(results.command)} (${results.mode} mode) from ${results.startedAt} to ${results.finishedAt}. Rerun it to reproduce: the corpus is rebuilt from the public captures when missing, and missing tools (tshark, tcpdump, GNU time, Mosquitto) are installed from Debian's packages when the benchmark runs as root.`,
    results.mode === "full"
      ? "`npm run bench` (quick mode) runs the same benchmarks in under two minutes on smaller files: 100,000 packets for the whole-process comparison, up to 100,000 flows, and fewer runs."
      : "`npm run bench -- --full` adds the 1.5-million-packet file for the whole-process comparison, more flow counts and more runs.",
    "",
    "## Targets",
    "",
    "| target | measured | verdict |",
    "|---|---|---|",
    ...targetRows(results).map((r) => `| ${r.target} | ${r.measured} | ${r.verdict} |`),
    "",
    "Where a speed target is missed, \"Where the missed speed targets lose their time\" sets its budget per packet against the measured costs, from the two profiles at the end: V8's sampling profiler on the whole replay, and on the core benchmark.",
    "WebAssembly functions are named from `build/core.wat`, which the release build writes beside `build/core.wasm`.",
    "",
    ...renderMachine(results),
    ...renderCorpus(results),
    ...renderCore(results),
    ...renderWholeProcess(results),
    ...renderMemory(results),
    ...renderLatency(results),
    ...renderIngest(results),
    ...renderGaps(results, coreProfilePackets),
    ...renderProfile("Profile of the replay", results.profile),
    ...renderProfile("Profile of the core alone", results.coreProfile, coreProfilePackets),
  ];
  return lines.join("\n").replace(/\n{3,}/g, "\n\n").trimEnd() + "\n";
}
