// Thirty days of one scheduled-task job, built from a real capture by
// shifting its timestamps, run through the real core. The daily job is a
// routine and scores low. The same job from a new host at night is new and
// scores high.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { loadModelSet, DEFAULT_LEARNING_SECONDS, type ModelSet } from "../../agent/src/core/models.js";
import { buildAlert, explainAlert, formatAlertText, AlertIdentity } from "../../agent/src/publish/alert.js";
import { capture, repoRoot } from "../helpers/captures.js";
import { readBatches, firstSecond, shifted } from "./series.js";
import { takeSnapshot, restoreSnapshot, writeSnapshotFile, readSnapshotFile } from "../../agent/src/core/snapshot.js";
import type { PacketBatch } from "../../agent/src/capture/index.js";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";

type CoreRecord = import("../../agent/src/core/core.js").CoreRecord;

const DAY = 86400;
const CLIENT = "192.168.10.31";
const SERVER = "192.168.10.30";
const NEW_HOST = "192.168.10.77";

async function loadCore() {
  if (!existsSync(join(repoRoot, "build/core.wasm"))) {
    console.log("  skipped: build/core.wasm not found (run npm run build:core)");
    return undefined;
  }
  const { Core } = await import("../../agent/src/core/core.js");
  return Core.load();
}

interface Series { models: ModelSet; routine: CoreRecord; night: CoreRecord; snapshot: Uint8Array; dayThirtyOne: PacketBatch[] }

let series: Series | undefined | null = null;

// Replays the capture on 30 days at 06:00 UTC (a few minutes' drift each
// day), then on day 31 once from the usual client at 06:00 and once from a
// new host at 02:00. A gateway's learning period (3 days) runs at the start.
async function runSeries(): Promise<Series | undefined> {
  if (series !== null) return series;
  series = undefined;
  // 401trg_smb_at_schedule_atsvc.pcap: at.exe on 192.168.10.31 schedules a
  // job on 192.168.10.30 through NetrJobAdd over \PIPE\atsvc.
  const path = capture("dcerpc/401trg_smb_at_schedule_atsvc.pcap");
  if (!path) return undefined;
  const core = await loadCore();
  if (!core) return undefined;
  const models = await loadModelSet();
  models.install(core, { learningSeconds: DEFAULT_LEARNING_SECONDS });

  const batches = await readBatches(path);
  const start = firstSecond(batches);
  const firstDay = (Math.floor(start / DAY) + 1) * DAY;
  const at = (day: number, hour: number, driftSec: number) => firstDay + day * DAY + hour * 3600 + driftSec - start;
  const alerts: CoreRecord[] = [];
  const onRecord = (r: CoreRecord) => { if (r.type === "alert") alerts.push(r); };

  for (let day = 0; day < 30; day++) {
    for (const batch of shifted(batches, at(day, 6, (day * 97) % 600))) core.process(batch, onRecord);
  }
  const learned = alerts.length;
  const snapshot = takeSnapshot(core);
  const dayThirtyOne = shifted(batches, at(30, 6, 120));
  for (const batch of dayThirtyOne) core.process(batch, onRecord);
  const routineAlerts = alerts.slice(learned);
  for (const batch of shifted(batches, at(30, 2, 0), { [CLIENT]: NEW_HOST })) core.process(batch, onRecord);
  const nightAlerts = alerts.slice(learned + routineAlerts.length);
  core.finish(onRecord);

  const isTask = (a: CoreRecord) => models.byIndex(a.fields.model_index as number)?.id === "remote-task-atsvc";
  const routine = routineAlerts.find(isTask);
  const night = nightAlerts.find(isTask);
  assert.ok(routine, "the day-31 job at 06:00 raised remote-task-atsvc");
  assert.ok(night, "the night job from the new host raised remote-task-atsvc");
  series = { models, routine: routine!, night: night!, snapshot, dayThirtyOne };
  return series;
}

test("daily job is a routine", async () => {
  const s = await runSeries();
  if (!s) return;
  const f = s.routine.fields;
  assert.is(s.routine.src.ip, CLIENT);
  assert.is(f.routine, true);
  assert.is(f.learning, false, "the learning period ended after 3 days");
  assert.is(f.days_seen, 30);
  assert.is(f.usual_hour, 6);
  assert.ok((f.score as number) <= 30, `routine score ${f.score}`);
});

test("routine is stated in words", async () => {
  const s = await runSeries();
  if (!s) return;
  const model = s.models.byIndex(s.routine.fields.model_index as number)!;
  const explanation = explainAlert(s.routine, model);
  assert.match(explanation.context.summary, "seen daily at about 06:00 UTC on 30 days between these hosts");
  assert.equal(explanation.why.map((w) => w.factor), ["base", "routine"]);
  assert.is(explanation.why.reduce((n, w) => n + w.points, 0), explanation.score);
  const text = formatAlertText(buildAlert(s.routine, model, { site: "plant", gateway: "gw1" }, new AlertIdentity()), explanation);
  assert.match(text, "why: +80 base");
});

test("same job from a new host at night is new", async () => {
  const s = await runSeries();
  if (!s) return;
  const f = s.night.fields;
  assert.is(s.night.src.ip, NEW_HOST);
  assert.is(s.night.dst.ip, SERVER);
  assert.is(f.routine, false);
  assert.is(f.seen_before, false);
  assert.is(f.pair_seen_before, false);
  assert.ok((f.score as number) >= 90, `night score ${f.score}`);
  const model = s.models.byIndex(f.model_index as number)!;
  assert.match(explainAlert(s.night, model).context.summary, "new: these hosts were never seen talking to each other before");
});

test("routine and new scores far apart", async () => {
  const s = await runSeries();
  if (!s) return;
  const gap = (s.night.fields.score as number) - (s.routine.fields.score as number);
  assert.ok(gap >= 60, `scores ${s.night.fields.score} and ${s.routine.fields.score}`);
});

test("routine survives a core restart", async () => {
  const s = await runSeries();
  if (!s) return;
  const file = join(mkdtempSync(join(tmpdir(), "fieldsense-series-")), "baselines.snapshot");
  writeSnapshotFile(file, s.snapshot);
  const core = await loadCore();
  if (!core) return;
  s.models.install(core, { learningSeconds: DEFAULT_LEARNING_SECONDS });
  restoreSnapshot(core, readSnapshotFile(file)!);
  const alerts: CoreRecord[] = [];
  for (const batch of s.dayThirtyOne) core.process(batch, (r) => { if (r.type === "alert") alerts.push(r); });
  core.finish(() => {});
  const task = alerts.find((a) => s.models.byIndex(a.fields.model_index as number)?.id === "remote-task-atsvc");
  assert.ok(task, "the restarted core raised remote-task-atsvc");
  assert.is(task!.fields.routine, true);
  assert.is(task!.fields.learning, false, "the learning period start was restored too");
  assert.is(task!.fields.days_seen, 30);
});

test("new core without the snapshot learns afresh", async () => {
  const s = await runSeries();
  if (!s) return;
  const core = await loadCore();
  if (!core) return;
  s.models.install(core, { learningSeconds: DEFAULT_LEARNING_SECONDS });
  const alerts: CoreRecord[] = [];
  for (const batch of s.dayThirtyOne) core.process(batch, (r) => { if (r.type === "alert") alerts.push(r); });
  const task = alerts.find((a) => s.models.byIndex(a.fields.model_index as number)?.id === "remote-task-atsvc");
  assert.ok(task);
  assert.is(task!.fields.learning, true);
  assert.is(task!.fields.routine, false);
});

test.run();
