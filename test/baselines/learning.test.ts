// Learning period, snapshots across a restart and model reloads, on the
// model engine with records written field by field.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, writeFileSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadModelSet, reloadModels, watchModels, ModelError, type ReloadResult } from "../../agent/src/core/models.js";
import {
  takeSnapshot, restoreSnapshot, writeSnapshotFile, readSnapshotFile, SnapshotError, registerSnapshotRecovery, crc32,
} from "../../agent/src/core/snapshot.js";
import { Engine, modelFolder, modelYaml, type PacketContext } from "../models/engine.js";

const DAY = 86400;
// 2023-11-14 00:00:00 UTC.
const T0 = 1_699_920_000;
const ADMIN = "10.0.0.5";
const SERVER = "10.0.0.9";
const TASK = modelYaml("task", "dcerpc", "  - field: opnum\n    equals: 0").replace("score: 60", "score: 80");

function ctx(src: string, tsSec: number): PacketContext {
  return { tsSec, src, srcPort: 50000, dst: SERVER, dstPort: 445 };
}

async function engineWith(learningSeconds: number): Promise<Engine> {
  const engine = await Engine.create();
  (await loadModelSet(modelFolder({ "task.yaml": TASK }))).install(engine, { learningSeconds, historyEntries: 1024 });
  return engine;
}

// The admin host runs the job every day at 06:00 (plus a few minutes).
function dailyJob(engine: Engine, days: number, firstDay = 0): void {
  for (let day = firstDay; day < firstDay + days; day++) {
    engine.record("dcerpc", ctx(ADMIN, T0 + day * DAY + 6 * 3600 + (day * 53) % 600), [["opnum", 0]]);
  }
}

test("learning period marks and scores down", async () => {
  const engine = await engineWith(3 * DAY);
  dailyJob(engine, 3);
  const alerts = engine.alerts();
  assert.equal(alerts.map((a) => a.fields.learning), [true, true, true]);
  // Learning factor 0.4 (the default) of base 80.
  assert.equal(alerts.map((a) => a.fields.score), [32, 32, 32]);
  assert.equal(alerts[0].fields.factor, [1, 7], "base, learning period");
});

test("learning period ends", async () => {
  const engine = await engineWith(3 * DAY);
  dailyJob(engine, 3);
  engine.drain();
  engine.record("dcerpc", ctx("10.0.0.66", T0 + 3 * DAY + 7 * 3600), [["opnum", 0]]);
  const [alert] = engine.alerts();
  assert.is(alert.fields.learning, false);
  assert.is(alert.fields.score, 100, "new host after learning: 80 + 15 + 10, clamped");
});

test("daily job becomes a routine", async () => {
  const engine = await engineWith(0);
  dailyJob(engine, 10);
  const alerts = engine.alerts();
  const last = alerts[alerts.length - 1];
  assert.is(last.fields.routine, true);
  assert.is(last.fields.usual_hour, 6);
  assert.is(last.fields.score, 24, "80 - 70 % of 80");
  assert.is(alerts[6].fields.routine, false, "7 days are needed: the 7th record knows 6");
});

test("established job at an unusual hour", async () => {
  const engine = await engineWith(0);
  dailyJob(engine, 10);
  engine.drain();
  engine.record("dcerpc", ctx(ADMIN, T0 + 10 * DAY + 2 * 3600), [["opnum", 0]]);
  const [alert] = engine.alerts();
  assert.is(alert.fields.routine, false);
  assert.equal(alert.fields.factor, [1, 5], "base, unusual hour");
  assert.is(alert.fields.score, 90);
});

test("routine survives a restart", async () => {
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-snapshot-"));
  const file = join(dir, "baselines.snapshot");
  const before = await engineWith(0);
  dailyJob(before, 10);
  before.drain();
  writeSnapshotFile(file, takeSnapshot(before));

  const after = await engineWith(0);
  const snapshot = readSnapshotFile(file);
  assert.ok(snapshot, "the snapshot file was read");
  restoreSnapshot(after, snapshot!);
  dailyJob(after, 1, 10);
  const [alert] = after.alerts();
  assert.is(alert.fields.routine, true);
  assert.is(alert.fields.days_seen, 10);
  assert.is(alert.fields.first_seen, T0 + 6 * 3600);
});

test("new core without restore forgets", async () => {
  const after = await engineWith(0);
  dailyJob(after, 1, 10);
  const [alert] = after.alerts();
  assert.is(alert.fields.routine, false);
  assert.is(alert.fields.seen_before, false);
});

test("trap recovery gets the last snapshot", async () => {
  const engine = await engineWith(0);
  let provider: (() => Uint8Array | undefined) | undefined;
  let restorer: ((bytes: Uint8Array) => void) | undefined;
  const host = Object.assign(engine, {
    setSnapshotProvider: (p: () => Uint8Array | undefined) => { provider = p; },
    setSnapshotRestorer: (r: (bytes: Uint8Array) => void) => { restorer = r; },
  });
  registerSnapshotRecovery(host);
  assert.is(provider!(), undefined, "no snapshot taken yet");
  dailyJob(engine, 10);
  engine.drain();
  const bytes = takeSnapshot(host);
  assert.is(provider!(), bytes);

  engine.resetBaselines();
  restorer!(provider!()!);
  dailyJob(engine, 1, 10);
  assert.is(engine.alerts()[0].fields.routine, true);
});

async function engineSized(historyEntries: number): Promise<Engine> {
  const engine = await Engine.create();
  (await loadModelSet(modelFolder({ "task.yaml": TASK }))).install(engine, { learningSeconds: 0, historyEntries });
  return engine;
}

// One-off calls from `count` hosts on day 0: entries seen on one day each.
function oneOffHosts(engine: Engine, count: number): void {
  for (let i = 0; i < count; i++) {
    engine.record("dcerpc", ctx(`10.1.${i >> 8}.${i & 0xff}`, T0 + 3600 + i * 60), [["opnum", 0]]);
  }
}

test("snapshot restores into a larger table", async () => {
  const before = await engineSized(1024);
  dailyJob(before, 10);
  before.drain();
  const after = await engineSized(4096);
  const result = restoreSnapshot(after, takeSnapshot(before));
  assert.is(result.droppedEntries, 0);
  dailyJob(after, 1, 10);
  const [alert] = after.alerts();
  assert.is(alert.fields.routine, true);
  assert.is(alert.fields.days_seen, 10);
});

test("snapshot into a smaller table drops the rarest", async () => {
  const before = await engineSized(1024);
  dailyJob(before, 10);
  oneOffHosts(before, 120);
  before.drain();
  assert.is(before.anomaly("model.baseline_evicted"), 0, "the large table keeps everything");

  const after = await engineSized(64);
  const result = restoreSnapshot(after, takeSnapshot(before));
  // 4 daily entries (admin, server, pair, service) plus 3 per one-off host
  // (device, pair, service) do not fit 64 entries.
  assert.ok(result.droppedEntries >= 4 + 3 * 120 - 64, `dropped ${result.droppedEntries}`);
  assert.is(after.anomaly("model.baseline_evicted"), result.droppedEntries);
  dailyJob(after, 1, 10);
  const [alert] = after.alerts();
  assert.is(alert.fields.routine, true, "entries seen on 10 days outrank one-off ones");
  assert.is(alert.fields.days_seen, 10);
});

test("snapshot of an unknown layout is rejected", async () => {
  const before = await engineWith(0);
  dailyJob(before, 2);
  const snapshot = takeSnapshot(before).slice();
  new DataView(snapshot.buffer).setUint32(12, 200, true);
  const after = await engineWith(0);
  assert.throws(() => restoreSnapshot(after, snapshot), (e: Error) => e instanceof SnapshotError && /bytes per history entry/.test(e.message));
});

test("version 1 snapshot restores without windows", async () => {
  const before = await engineWith(0);
  dailyJob(before, 10);
  before.drain();
  const current = takeSnapshot(before);
  const view = new DataView(current.buffer, current.byteOffset);
  const historyBytes = view.getUint32(8, true) * view.getUint32(12, true);
  const v1Length = 32 + historyBytes + view.getUint32(16, true);
  const v1 = current.slice(0, v1Length);
  const v1View = new DataView(v1.buffer);
  v1View.setUint16(4, 1, true);
  v1View.setUint32(24, v1Length, true);
  v1View.setUint32(28, 0, true);

  const after = await engineWith(0);
  assert.equal(restoreSnapshot(after, v1), { droppedEntries: 0, droppedWindows: 0 });
  dailyJob(after, 1, 10);
  assert.is(after.alerts()[0].fields.routine, true);
});

test("snapshot file of another version is rejected", async () => {
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-snapshot-"));
  const file = join(dir, "baselines.snapshot");
  const engine = await engineWith(0);
  dailyJob(engine, 1);
  writeSnapshotFile(file, takeSnapshot(engine));
  const bytes = readFileSync(file);
  bytes.writeUInt16LE(7, 4);
  writeFileSync(file, bytes);
  assert.throws(() => readSnapshotFile(file), /file version 7, but this agent reads versions 1 and 2/);
});

test("damaged snapshot file is rejected", async () => {
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-snapshot-"));
  const file = join(dir, "baselines.snapshot");
  const engine = await engineWith(0);
  dailyJob(engine, 1);
  writeSnapshotFile(file, takeSnapshot(engine));
  const bytes = readFileSync(file);
  bytes[100] ^= 0xff;
  writeFileSync(file, bytes);
  assert.throws(() => readSnapshotFile(file), /the file is damaged/);
});

// A snapshot of one learned daily job, and a file path for it in a new folder.
async function learnedSnapshot(): Promise<{ file: string; snapshot: Uint8Array }> {
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-snapshot-"));
  const engine = await engineWith(0);
  dailyJob(engine, 1);
  return { file: join(dir, "baselines.snapshot"), snapshot: takeSnapshot(engine) };
}

test("snapshot file is compressed", async () => {
  const { file, snapshot } = await learnedSnapshot();
  writeSnapshotFile(file, snapshot);
  // Most of a snapshot is tables not yet filled.
  assert.ok(statSync(file).size * 10 < snapshot.length, `${statSync(file).size} bytes on disk for ${snapshot.length}`);
  assert.equal(readSnapshotFile(file), snapshot);
});

test("uncompressed version 1 file still read", async () => {
  const { file, snapshot } = await learnedSnapshot();
  const header = Buffer.alloc(16);
  header.writeUInt32LE(0x46534e53, 0);
  header.writeUInt16LE(1, 4);
  header.writeUInt32LE(snapshot.length, 8);
  header.writeUInt32LE(crc32(snapshot), 12);
  writeFileSync(file, Buffer.concat([header, snapshot]));
  assert.equal(readSnapshotFile(file), snapshot);
});

test("reload keeps baselines", async () => {
  const dir = modelFolder({ "task.yaml": TASK });
  const engine = await Engine.create();
  const running = await loadModelSet(dir);
  running.install(engine, { learningSeconds: 0, historyEntries: 1024 });
  dailyJob(engine, 10);
  engine.drain();
  writeFileSync(join(dir, "task.yaml"), TASK.replace("score: 80", "score: 90"));
  const result = reloadModels(engine, running, dir, { learningSeconds: 0, historyEntries: 1024 });
  assert.is(result.error, undefined);
  dailyJob(engine, 1, 10);
  const [alert] = engine.alerts();
  assert.is(alert.fields.base_score, 90, "the new model is installed");
  assert.is(alert.fields.routine, true, "the routine is still known");
});

test("reload rejects an invalid file and keeps the running set", async () => {
  const dir = modelFolder({ "task.yaml": TASK });
  const engine = await Engine.create();
  const running = await loadModelSet(dir);
  running.install(engine, { learningSeconds: 0, historyEntries: 1024 });
  writeFileSync(join(dir, "task.yaml"), TASK.replace("score: 80", "score: 180"));
  const result = reloadModels(engine, running, dir, { learningSeconds: 0, historyEntries: 1024 });
  assert.is(result.set, running);
  assert.ok(result.error instanceof ModelError);
  assert.match(result.error!.message, "task.yaml line 5");
  dailyJob(engine, 1);
  assert.is(engine.alerts()[0].fields.base_score, 80, "the running model still fires");
});

test("file change reloads the models", async () => {
  const dir = modelFolder({ "task.yaml": TASK });
  const engine = await Engine.create();
  const running = await loadModelSet(dir);
  running.install(engine, { historyEntries: 1024 });
  const results: ReloadResult[] = [];
  const reloaded = new Promise<void>((resolve) => {
    const watcher = watchModels(engine, running, (result) => {
      results.push(result);
      watcher.close();
      resolve();
    }, { historyEntries: 1024, settleMs: 50 });
  });
  writeFileSync(join(dir, "task.yaml"), TASK.replace("score: 80", "score: 90"));
  await reloaded;
  assert.is(results[0].error, undefined);
  assert.is(results[0].set.models[0].score, 90);
  dailyJob(engine, 1);
  assert.is(engine.alerts()[0].fields.base_score, 90);
});

test.run();
