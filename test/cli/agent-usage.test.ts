// The gateway commands without a running agent: help, usage errors, exit
// codes, replay pacing, and the errors when no agent is listening.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../agent/src/cli/main.js";
import { parseSince } from "../../agent/src/cli/inspect.js";
import { PACED_BATCH_BYTES, ReplayPacer } from "../../agent/src/pipeline.js";
import { MAX_PACING_GAP_SEC } from "../../agent/src/config/config.js";
import { readCapture } from "../../agent/src/capture/index.js";
import { repoRoot } from "../helpers/captures.js";
import type { PacketBatch } from "../../agent/src/capture/batch.js";

async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, { stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; } });
  return { code, stdout, stderr };
}

test("gateway commands have help", async () => {
  const units: Record<string, string[]> = {
    agent: ["--snap-length N", "bytes", "--buffer-bytes N", "SIGHUP"],
    status: ["--json", "--socket PATH"],
    alerts: ["--follow", "--since TIME", "30s, 15m, 2h, 7d"],
    assets: ["unit ids", "function codes"],
    extract: ["SMB", "--json"],
    config: ["check FILE", "line"],
  };
  for (const [command, parts] of Object.entries(units)) {
    const viaOption = await run(command, "--help");
    assert.is(viaOption.code, 0, `${command}: ${viaOption.stderr}`);
    assert.match(viaOption.stdout, `Usage: fieldsense ${command}`);
    for (const part of parts) assert.ok(viaOption.stdout.includes(part), `${command} --help lacks "${part}"`);
    const viaHelp = await run("help", command);
    assert.is(viaHelp.stdout, viaOption.stdout);
  }
  const replay = await run("replay", "--help");
  assert.match(replay.stdout, "--speed X");
  const top = await run("--help");
  assert.match(top.stdout, "Exit codes: 0 success, 1 failure");
  assert.match(top.stdout, "NO_COLOR");
});

test("gateway commands usage errors", async () => {
  const cases: [string[], string][] = [
    [["agent", "extra"], 'unexpected argument "extra"'],
    [["agent", "--log-level", "loud"], 'invalid --log-level "loud"'],
    [["agent", "--snap-length", "10"], "invalid --snap-length 10"],
    [["agent", "--snap-length", "big"], 'invalid --snap-length "big"'],
    [["agent", "--site", "a/b"], 'invalid --site "a/b"'],
    [["agent", "--broker", "http://127.0.0.1:1"], "not an MQTT scheme"],
    [["alerts", "--since", "yesterday"], 'invalid --since "yesterday"'],
    [["alerts", "--limit", "0"], 'invalid --limit "0"'],
    [["status", "now"], 'unexpected argument "now"'],
    [["assets", "--bogus"], "unknown option --bogus"],
    [["replay", "a.pcap", "--speed", "fast"], 'invalid --speed "fast"'],
    [["replay", "a.pcap", "--speed", "-1"], "--speed"],
    [["config"], 'missing action for "fieldsense config"'],
    [["config", "lint", "a.yaml"], 'unknown action "lint"'],
  ];
  for (const [argv, expected] of cases) {
    const result = await run(...argv);
    assert.is(result.code, 2, `${argv.join(" ")} exited ${result.code}: ${result.stderr}`);
    assert.ok(result.stderr.includes(expected), `${argv.join(" ")}: "${result.stderr.trim()}" lacks "${expected}"`);
  }
});

test("cli without agent reports the socket", async () => {
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-noagent-"));
  try {
    const socket = join(dir, "agent.sock");
    for (const command of ["status", "alerts", "assets", "extract"]) {
      const result = await run(command, "--socket", socket);
      assert.is(result.code, 1, command);
      assert.match(result.stderr, `no running agent is listening on ${socket}`);
      assert.match(result.stderr, "fieldsense agent --config FILE");
    }
    const config = join(dir, "agent.yaml");
    writeFileSync(config, `control:\n  socket: ${join(dir, "other.sock")}\n`);
    const viaConfig = await run("status", "--config", config);
    assert.match(viaConfig.stderr, join(dir, "other.sock"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("agent start errors", async () => {
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-agentstart-"));
  try {
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, "capture:\n  snap_length: 1\n");
    const invalid = await run("agent", "--config", bad);
    assert.is(invalid.code, 1);
    assert.match(invalid.stderr, "bad.yaml line 2: capture.snap_length");

    const empty = join(dir, "empty.yaml");
    writeFileSync(empty, `control:\n  socket: ${join(dir, "a.sock")}\ndata_dir: ${join(dir, "data")}\nlog_level: silent\n`);
    const noInterface = await run("agent", "--config", empty);
    assert.is(noInterface.code, 1);
    assert.match(noInterface.stderr, "no capture interface configured");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("since accepts times and durations", () => {
  const now = Date.parse("2026-03-10T12:00:00Z");
  assert.is(parseSince("15m", now).toISOString(), "2026-03-10T11:45:00.000Z");
  assert.is(parseSince("2d", now).toISOString(), "2026-03-08T12:00:00.000Z");
  assert.is(parseSince("2026-03-10T08:00:00Z", now).toISOString(), "2026-03-10T08:00:00.000Z");
  assert.throws(() => parseSince("10", now), /invalid --since "10"/);
});

function batchAt(seconds: number, micros: number): PacketBatch {
  const bytes = new Uint8Array(16);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, seconds, true);
  view.setUint32(4, micros, true);
  return { linkType: 1, fracPerSecond: 1_000_000, bytes, byteLength: 16, count: 1, source: "test", firstRecordOffset: 0 };
}

test("replay pacing follows packet time", async () => {
  let now = 50_000;
  const sleeps: number[] = [];
  const sleep = async (ms: number) => { sleeps.push(ms); now += ms; };
  const pacer = new ReplayPacer(2, () => now, sleep);
  await pacer.pace(batchAt(1000, 0));
  await pacer.pace(batchAt(1004, 0));
  // 4 s of packet time at speed 2: 2 s after the first batch.
  assert.equal(sleeps, [2000]);
  now += 5000;
  await pacer.pace(batchAt(1006, 500_000));
  // Behind schedule: no wait.
  assert.equal(sleeps, [2000]);

  const fast = new ReplayPacer(0, () => now, sleep);
  await fast.pace(batchAt(1000, 0));
  await fast.pace(batchAt(2000, 0));
  assert.equal(sleeps, [2000]);
});

test("replay pacing skips long gaps and backward time", async () => {
  let now = 50_000;
  const sleeps: number[] = [];
  const skips: number[] = [];
  const sleep = async (ms: number) => { sleeps.push(ms); now += ms; };
  const pacer = new ReplayPacer(100, () => now, sleep, (gapSec) => skips.push(gapSec));
  await pacer.pace(batchAt(1000, 0));
  // A capture resumed 10 days later: no wait of 2.4 hours at speed 100.
  await pacer.pace(batchAt(1000 + 864_000, 0));
  assert.equal(sleeps, []);
  assert.equal(skips, [864_000]);
  // The schedule goes on from the packet after the gap.
  await pacer.pace(batchAt(1000 + 864_010, 0));
  assert.equal(sleeps, [100]);
  // Time going back is not a negative wait, and the schedule goes on from there.
  await pacer.pace(batchAt(1000, 0));
  assert.equal(skips, [864_000, -864_010]);
  assert.equal(sleeps, [100]);
  await pacer.pace(batchAt(1030, 0));
  assert.equal(sleeps, [100, 300]);
  // A gap of exactly MAX_PACING_GAP_SEC is waited for.
  await pacer.pace(batchAt(1030 + MAX_PACING_GAP_SEC, 0));
  assert.equal(sleeps, [100, 300, MAX_PACING_GAP_SEC * 10]);
  assert.is(skips.length, 2);
});

test("paced replays hand the core one packet per batch", async () => {
  // Pacing waits before each batch, so a packet inside a batch would run
  // ahead of its packet time.
  const counts: number[] = [];
  for await (const batch of readCapture(join(repoRoot, "test/fixtures/demo/plant-scene.pcap"), { batchBytes: PACED_BATCH_BYTES })) counts.push(batch.count);
  assert.ok(counts.length > 100, `${counts.length} batches`);
  assert.ok(counts.every((n) => n === 1));
});

test.run();
