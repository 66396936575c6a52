// BENCHMARKS.md rendering: target verdicts and sections that were not measured.
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { CoreResult, WholeProcessResult } from "../../bench/comparisons.js";
import type { BackendIngest, IngestResult } from "../../bench/ingest.js";
import type { ProfileSummary } from "../../bench/profile.js";
import { renderReport, type BenchResults } from "../../bench/report.js";

const summary = (median: number) => ({ median, min: median * 0.9, max: median * 1.1, runs: 3 });

function results(corePacketsPerSecond: number, tsharkRatio: number): BenchResults {
  const core: CoreResult = {
    command: "npx tsx bench/core-throughput.ts bench/corpus/plant-mix-300000.pcap --runs 3", decode: "all",
    file: "bench/corpus/plant-mix-300000.pcap", packets: 300_000, models: 5,
    packetsPerSecond: summary(corePacketsPerSecond), megabitsPerSecond: summary(100),
    recordsPerRun: 1000, recordsByType: { modbus: 1000 }, linearMemoryBytes: 64 << 20, linearMemoryResidentBytes: 8 << 20, counters: {}, anomalies: {},
  };
  const side = (label: string, packetsPerSecond: number) => ({
    label, command: label, wallSeconds: summary(1), packetsPerSecond: summary(packetsPerSecond),
    megabitsPerSecond: summary(10), maxRssMiB: summary(100), outputLines: 10,
  });
  const wholeProcess: WholeProcessResult = {
    file: "bench/corpus/plant-mix-1500000.pcap", packets: 1_500_000, wireBytes: 1e9, runs: 3,
    sides: [side("fieldsense replay --json", 1000 * tsharkRatio), side("tshark -T fields", 1000)],
    ratios: [{ against: "tshark -T fields", ratio: tsharkRatio, worstCase: tsharkRatio * 0.8 }],
  };
  return {
    mode: "full", startedAt: "2026-01-01T00:00:00Z", finishedAt: "2026-01-01T00:10:00Z", command: "npm run bench -- --full",
    machine: { cpuModel: "Test CPU", logicalCores: 2, memoryGiB: 24, kernel: "6", os: "Debian", node: "v20", loadAverageAtStart: 0.1, loadAverageAtEnd: 0.2 },
    tools: [{ name: "tshark", version: "4.0" }], corpus: [], fieldsenseLabel: "fieldsense replay --json",
    core: { ok: true, value: core, seconds: 1 },
    wholeProcess: { ok: true, value: wholeProcess, seconds: 1 },
    memory: { ok: false, reason: "memory failed\nwith a second line | and a pipe" },
    latency: { ok: false, reason: "mosquitto is not installed" },
    ingest: { ok: false, reason: "mosquitto is not installed" },
    profile: { ok: false, reason: "not run" },
    coreProfile: { ok: false, reason: "not run" },
  };
}

function targetRow(report: string, start: string): string {
  const row = report.split("\n").find((line) => line.startsWith(`| ${start}`));
  assert.ok(row, `no target row starting with "${start}"`);
  return row!;
}

test("report core target missed by factor", () => {
  const row = targetRow(renderReport(results(5_000_000, 60)), "core alone");
  assert.ok(row.includes("5.00 Mpackets/s"), row);
  assert.ok(row.includes("missed: 2.0x too slow (50.0% of the target)"), row);
});

test("report core target judged without host decoding", () => {
  const input = results(2_000_000, 60);
  const counted: CoreResult = { ...(input.core as { value: CoreResult }).value, decode: "none", packetsPerSecond: summary(4_000_000) };
  input.coreUndecoded = { ok: true, value: counted, seconds: 1 };
  const report = renderReport(input);
  const row = targetRow(report, "core alone");
  assert.ok(row.includes("4.00 Mpackets/s (2.00 Mpackets/s with the host decoding every record)"), row);
  assert.ok(row.includes("missed: 2.5x too slow"), row);
  assert.ok(report.includes("| counted by type (header only) | 300,000 |"), "the core section has a row per measurement");
  assert.ok(report.includes("| decoded into `CoreRecord` objects | 300,000 |"));
});

test("report core target met", () => {
  const row = targetRow(renderReport(results(12_000_000, 60)), "core alone");
  assert.ok(row.endsWith("| met |"), row);
});

test("report tshark ratio met and plain side missing", () => {
  const report = renderReport(results(12_000_000, 60));
  assert.ok(targetRow(report, "fieldsense replay --json >= 50x").endsWith("| met |"));
  const plain = targetRow(report, "fieldsense replay --json >= 5x");
  assert.ok(plain.includes("not measured"), plain);
  assert.ok(plain.includes("was not available"), plain);
});

test("report tshark ratio missed", () => {
  const row = targetRow(renderReport(results(12_000_000, 25)), "fieldsense replay --json >= 50x");
  assert.ok(row.includes("missed: 2.0x short"), row);
});

test("report failure reason stays one table row", () => {
  const report = renderReport(results(12_000_000, 60));
  const row = targetRow(report, "peak RSS < 120 MB");
  assert.ok(row.includes("memory failed with a second line \\| and a pipe"), row);
  assert.ok(report.includes("## Memory with many concurrent flows\n\nNot measured: memory failed with a second line"));
});

function ingest(postgres: { server: string } | { notMeasured: string }): IngestResult {
  const rates = (store: number, endToEnd: number | null): BackendIngest => ({
    asRaised: { storeAlertsPerSecond: store, endToEndAlertsPerSecond: endToEnd, endToEndStored: endToEnd === null ? 1500 : 2000 },
    oneIncidentEach: { storeAlertsPerSecond: store / 2 },
  });
  return {
    distinctModelAlerts: 2806, asRaised: { alerts: 2000 }, oneIncidentEach: { alerts: 2000 }, batchMessages: 500,
    sqlite: rates(7000, 1200), postgres: "notMeasured" in postgres ? postgres : { ...postgres, ...rates(3000, null) },
    storeCommand: "Store.insertAlerts", endToEndCommand: "publisher -> mosquitto -> correlator",
  };
}

function ingestRows(result: IngestResult): string[] {
  const report = renderReport({ ...results(12_000_000, 60), ingest: { ok: true, value: result, seconds: 1 } });
  return report.split("\n").filter((line) => /^\| (as raised|one incident each|–) \|/.test(line));
}

test("report ingest rows for both databases", () => {
  const rows = ingestRows(ingest({ server: "PostgreSQL on 127.0.0.1:5432" }));
  assert.is(rows.length, 6);
  assert.ok(rows[0].startsWith("| as raised | SQLite, store only | 7,000 |"), rows[0]);
  assert.ok(rows[3].startsWith("| as raised | PostgreSQL, store only | 3,000 |"), rows[3]);
  assert.ok(rows[3].includes("PostgreSQL on 127.0.0.1:5432"), rows[3]);
  assert.ok(rows[4].includes("not all stored within the time limit (1,500 of 2,000)"), rows[4]);
  assert.ok(rows[5].startsWith("| one incident each | PostgreSQL, store only | 1,500 |"), rows[5]);
});

test("report ingest PostgreSQL not measured", () => {
  const rows = ingestRows(ingest({ notMeasured: "no PostgreSQL accepts connections on 127.0.0.1:5432" }));
  assert.is(rows.length, 4);
  assert.is(rows[3], "| – | PostgreSQL | – | not measured: no PostgreSQL accepts connections on 127.0.0.1:5432 |");
});


function profile(command: string, wasmMs: number, shaMs: number): ProfileSummary {
  return {
    command, totalMs: wasmMs + 500,
    areas: [{ area: "WebAssembly core", selfMs: wasmMs, percent: 60 }, { area: "Fieldsense host code (TypeScript)", selfMs: 500, percent: 40 }],
    top: [
      { name: "protocols/file/sha256/compress", where: "wasm://wasm/0001:1", selfMs: shaMs, percent: 20 },
      { name: "decodeFields", where: "agent/src/core/records.ts:1", selfMs: 400, percent: 15 },
    ],
  };
}

test("report splits missed speed targets per packet", () => {
  const input = results(1_000_000, 25);
  // 900,000 packets profiled (300,000 x 3 runs): 900 ms of WebAssembly is 1,000 ns per packet.
  input.coreProfile = { ok: true, value: profile("core", 900, 450), seconds: 1 };
  input.profile = { ok: true, value: profile("replay", 1500, 300), seconds: 1 };
  const report = renderReport(input);
  assert.ok(report.includes("## Where the missed speed targets lose their time"));
  assert.ok(report.includes("leaves 100 ns per packet"), "the core's budget");
  assert.ok(report.includes("its WebAssembly functions 1,000 ns"), "the core's WebAssembly time per packet");
  assert.ok(report.includes("`sha256/compress` 500 ns (5.0x the budget)"), "the costliest function against the budget");
  assert.ok(report.includes("SHA-256 of the files SMB carries"), "SHA-256 alone over the budget");
  assert.ok(report.includes("- 50x tshark -T fields: the replay would need 50.0 kpackets/s"), "the replay's rate for the tshark ratio");
  const gaps = report.slice(report.indexOf("## Where the missed"), report.indexOf("## Profile of the replay"));
  assert.not.ok(gaps.includes("decodeFields"), "host functions are not listed among the core's costs");
});

test("report omits per-packet split when targets met", () => {
  const input = results(12_000_000, 60);
  input.coreProfile = { ok: true, value: profile("core", 900, 450), seconds: 1 };
  input.profile = { ok: true, value: profile("replay", 1500, 300), seconds: 1 };
  assert.not.ok(renderReport(input).includes("## Where the missed speed targets"));
});
test.run();
