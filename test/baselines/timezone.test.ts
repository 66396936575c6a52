// Baselines in the plant's time zone: a daily job at 06:00 local time keeps
// its hour across the end of daylight saving time.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadModelSet, ModelError } from "../../agent/src/core/models.js";
import { explainAlert } from "../../agent/src/publish/alert.js";
import { offsetScheduleOf } from "../../agent/src/core/timezone.js";
import { Engine, modelFolder, modelYaml } from "../models/engine.js";

const HOUR = 3600;
const DAY = 86400;
// 2023-10-15 00:00:00 UTC. Daylight saving time in Europe/Berlin ends on
// 2023-10-29 at 01:00 UTC (03:00 CEST becomes 02:00 CET).
const OCT_15 = 1_697_328_000;
const DST_END = 1_698_541_200;
const TASK = modelYaml("task", "dcerpc", "  - field: opnum\n    equals: 0");

// The job runs at 06:00 Berlin time: 04:00 UTC in summer time, 05:00 UTC after.
function jobTime(day: number): number {
  const fourUtc = OCT_15 + day * DAY + 4 * HOUR;
  return (fourUtc < DST_END ? fourUtc : fourUtc + HOUR) + (day * 37) % 300;
}

async function dailyJob(timeZone?: string) {
  const engine = await Engine.create();
  const models = await loadModelSet(modelFolder({ "task.yaml": TASK }));
  models.install(engine, { learningSeconds: 0, historyEntries: 1024, timeZone });
  for (let day = 0; day < 30; day++) {
    engine.record("dcerpc", { tsSec: jobTime(day), src: "10.0.0.5", srcPort: 50000, dst: "10.0.0.9", dstPort: 445 }, [["opnum", 0]]);
  }
  const alerts = engine.alerts();
  return { alert: alerts[alerts.length - 1], models };
}

test("schedule has the change to CET", () => {
  const change = offsetScheduleOf("Europe/Berlin").find((c) => c.startSec === DST_END);
  assert.equal(change, { startSec: DST_END, offsetSec: HOUR });
});

test("daily job across DST in Berlin time", async () => {
  const { alert, models } = await dailyJob("Europe/Berlin");
  assert.is(alert.fields.routine, true);
  assert.is(alert.fields.usual_hour, 6);
  assert.is(alert.fields.usual_hour_occurrences, 29, "every earlier occurrence is within an hour of 06:00 local");
  const model = models.byIndex(alert.fields.model_index as number)!;
  assert.match(explainAlert(alert as never, model).context.summary, "seen daily at about 06:00 Europe/Berlin on 29 days");
});

test("daily job across DST in UTC", async () => {
  const { alert } = await dailyJob();
  // 14 occurrences at 04:00 UTC and 15 at 05:00 UTC: the usual hour moved.
  assert.is(alert.fields.usual_hour, 5);
});

test("unknown time zone is rejected", async () => {
  const engine = await Engine.create();
  const models = await loadModelSet(modelFolder({ "task.yaml": TASK }));
  assert.throws(() => models.install(engine, { timeZone: "Europe/Atlantis" }), (e: Error) => e instanceof ModelError && /invalid time zone "Europe\/Atlantis"/.test(e.message));
});

test.run();
