// Runs `npm run bench -- --smoke` on a tiny corpus in a temporary folder and
// checks that every benchmark produced figures. It never checks how fast:
// speed belongs in BENCHMARKS.md, not in tests.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { BenchResults } from "../../bench/report.js";
import { PLANT_MIX_SOURCES } from "../../bench/corpus.js";
import { capture, repoRoot } from "../helpers/captures.js";

const dir = mkdtempSync(join(tmpdir(), "fieldsense-bench-smoke-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

let results: BenchResults | undefined;
let report = "";

// Runs the benchmark once for all the tests below; undefined when the
// public captures are missing (a skip reason is printed).
function runSmoke(): BenchResults | undefined {
  if (results) return results;
  if (!PLANT_MIX_SOURCES.every((source) => capture(source.path))) return undefined;
  if (!existsSync("/usr/bin/time")) {
    console.log("  skipped: GNU time (/usr/bin/time, Debian package time) is not installed; the benchmark needs it for peak RSS");
    return undefined;
  }
  const outcome = spawnSync(process.execPath, [
    "--import", "tsx", "bench/run.ts", "--smoke", "--no-install",
    "--corpus-dir", join(dir, "corpus"), "--output", join(dir, "BENCHMARKS.md"), "--results", join(dir, "results.json"),
  ], { cwd: repoRoot, encoding: "utf8", timeout: 240_000 });
  assert.is(outcome.status, 0, `bench --smoke failed:\n${outcome.stderr}`);
  results = JSON.parse(readFileSync(join(dir, "results.json"), "utf8")) as BenchResults;
  report = readFileSync(join(dir, "BENCHMARKS.md"), "utf8");
  return results;
}

function tool(name: string): boolean {
  const found = ["/usr/bin/", "/usr/sbin/"].some((prefix) => existsSync(prefix + name));
  if (!found) console.log(`  skipped: ${name} is not installed, so its side is not checked`);
  return found;
}

test("bench smoke builds the corpus", () => {
  const r = runSmoke();
  if (!r) return;
  assert.is(r.mode, "smoke");
  const names = r.corpus.map((file) => file.name);
  assert.equal(names, ["plant-mix-3000.pcap", "many-flows-100.pcap", "many-flows-1000.pcap"]);
  assert.is(r.corpus[0].packets, 3000);
  assert.is(r.corpus[2].packets, 8000);
});

test("bench smoke measures the core alone", () => {
  const r = runSmoke();
  if (!r) return;
  assert.ok(r.core.ok, r.core.ok ? "" : r.core.reason);
  if (!r.core.ok) return;
  assert.ok(r.core.value.packetsPerSecond.median > 0);
  assert.ok(r.core.value.recordsPerRun > 0, "the core produced records from the plant mix");
  assert.ok((r.core.value.linearMemoryBytes ?? 0) > 0, "linear memory size is known");
  const resident = r.core.value.linearMemoryResidentBytes;
  assert.ok(resident !== null, "resident linear memory is known");
  assert.ok(resident! > 0, `resident linear memory ${resident}`);
  assert.ok(resident! <= r.core.value.linearMemoryBytes!, `resident linear memory ${resident} within the reserved size`);
  // The same file with the records counted, not decoded: the same records.
  assert.ok(r.coreUndecoded?.ok, r.coreUndecoded?.ok ? "" : r.coreUndecoded?.reason);
  if (!r.coreUndecoded?.ok) return;
  assert.is(r.coreUndecoded.value.decode, "none");
  assert.equal(r.coreUndecoded.value.recordsByType, r.core.value.recordsByType);
});

test("bench smoke compares whole processes", () => {
  const r = runSmoke();
  if (!r) return;
  assert.ok(r.wholeProcess.ok, r.wholeProcess.ok ? "" : r.wholeProcess.reason);
  if (!r.wholeProcess.ok) return;
  const labels = r.wholeProcess.value.sides.map((side) => side.label);
  assert.is(labels[0], "fieldsense replay --json");
  assert.ok(labels.includes("fieldsense replay --json --records"));
  const records = r.wholeProcess.value.sides.find((side) => side.label === "fieldsense replay --json --records")!;
  assert.ok(records.outputLines > 0, "replay --records printed records");
  if (tool("tshark")) assert.ok(labels.includes("tshark -T fields"));
  if (tool("tcpdump")) assert.ok(labels.includes("tcpdump -w /dev/null"));
  for (const side of r.wholeProcess.value.sides) {
    assert.ok(side.packetsPerSecond.median > 0, `${side.label} has a packet rate`);
    assert.ok(side.maxRssMiB.median > 0, `${side.label} has a peak RSS`);
  }
  assert.is(r.wholeProcess.value.ratios.length, labels.length - 1);
});

test("bench smoke measures memory per flow count", () => {
  const r = runSmoke();
  if (!r) return;
  assert.ok(r.memory.ok, r.memory.ok ? "" : r.memory.reason);
  if (!r.memory.ok) return;
  assert.equal(r.memory.value.map((point) => point.flows), [100, 1000]);
  for (const point of r.memory.value) assert.ok(point.replayMaxRssMiB.median > 0, `${point.flows} flows has a peak RSS`);
});

test("bench smoke measures latency and ingest", () => {
  const r = runSmoke();
  if (!r || !tool("mosquitto")) return;
  assert.ok(r.latency.ok, r.latency.ok ? "" : r.latency.reason);
  if (r.latency.ok) {
    const l = r.latency.value;
    assert.ok(l.packetsSent > 0);
    // The warm-up's alerts go to their own site and stay out of the percentiles.
    assert.ok(l.warmupSeconds > 0);
    assert.ok(l.alertsReceived <= l.alertsPublished, `${l.alertsReceived} counted of ${l.alertsPublished} published`);
  }
  assert.ok(r.ingest.ok, r.ingest.ok ? "" : r.ingest.reason);
  if (!r.ingest.ok) return;
  const { sqlite, postgres } = r.ingest.value;
  assert.ok(sqlite.asRaised.storeAlertsPerSecond > 0);
  assert.ok(sqlite.oneIncidentEach.storeAlertsPerSecond > 0);
  assert.ok(sqlite.asRaised.endToEndAlertsPerSecond !== null, `SQLite end to end stored ${sqlite.asRaised.endToEndStored} alerts`);
  // PostgreSQL is measured whenever a server runs on 127.0.0.1:5432 or initdb can start one.
  if ("notMeasured" in postgres) {
    assert.ok(postgres.notMeasured.length > 0);
    return;
  }
  assert.ok(postgres.asRaised.storeAlertsPerSecond > 0);
  assert.ok(postgres.oneIncidentEach.storeAlertsPerSecond > 0);
  assert.ok(postgres.asRaised.endToEndAlertsPerSecond !== null, `PostgreSQL end to end stored ${postgres.asRaised.endToEndStored} alerts`);
});

test("bench smoke writes the report", () => {
  const r = runSmoke();
  if (!r) return;
  assert.ok(r.profile.ok, r.profile.ok ? "" : r.profile.reason);
  assert.ok(r.coreProfile.ok, r.coreProfile.ok ? "" : r.coreProfile.reason);
  for (const heading of ["## Targets", "## Machine", "## Corpus", "## Core alone", "## Whole process", "## Memory with many concurrent flows", "## Latency", "## Correlator ingest", "## Profile of the replay", "## Profile of the core alone"]) {
    assert.ok(report.includes(heading), `BENCHMARKS.md has "${heading}"`);
  }
  assert.ok(report.includes("`npx tsx bench/core-throughput.ts"), "the core figure names its command");
  assert.ok(report.includes(r.machine.cpuModel), "the machine is named");
});

test.run();
