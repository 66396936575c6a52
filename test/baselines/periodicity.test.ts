// Periodicity's spread over the day and duration: a regular series that runs
// around the clock for days scores higher than one confined to one hour a
// day for a short span, after the same days of watching.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadModelSet } from "../../agent/src/core/models.js";
import { Engine, modelFolder, modelYaml } from "../models/engine.js";

const HOUR = 3600;
const DAY = 86400;
// 2023-11-14 00:00:00 UTC.
const T0 = 1_699_920_000;
const TASK = modelYaml("task", "dcerpc", "  - field: opnum\n    equals: 0");

async function watchedEngine(): Promise<Engine> {
  const engine = await Engine.create();
  (await loadModelSet(modelFolder({ "task.yaml": TASK }))).install(engine, { learningSeconds: 0, historyEntries: 1024 });
  // The first record learned starts the observed window.
  engine.record("dcerpc", { tsSec: T0, src: "10.0.0.99", srcPort: 50000, dst: "10.0.0.98", dstPort: 445 }, [["opnum", 0]]);
  engine.drain();
  return engine;
}

// Periodicity of the last alert of a series from `src` at `times`.
function periodicityOf(engine: Engine, src: string, times: number[]): number {
  let last: unknown;
  for (const tsSec of times) {
    engine.record("dcerpc", { tsSec, src, srcPort: 50000, dst: "10.0.0.9", dstPort: 445 }, [["opnum", 0]]);
    const alerts = engine.alerts();
    last = alerts[alerts.length - 1]?.fields.periodicity;
  }
  assert.type(last, "number");
  return last as number;
}

// Every hour from the start of watching, for 10 days.
const AROUND_THE_CLOCK = Array.from({ length: 240 }, (_, i) => T0 + 60 + i * HOUR);
// Every 5 minutes between 02:00 and 03:00 on day 10 only.
const ONE_HOUR_ONE_DAY = Array.from({ length: 12 }, (_, i) => T0 + 10 * DAY + 2 * HOUR + i * 300);
// Every 5 minutes between 02:00 and 03:00 on each of days 0 to 9.
const ONE_HOUR_EVERY_DAY = Array.from({ length: 120 }, (_, i) => T0 + Math.floor(i / 12) * DAY + 2 * HOUR + (i % 12) * 300);

test("series around the clock for days", async () => {
  const score = periodicityOf(await watchedEngine(), "10.0.0.5", AROUND_THE_CLOCK);
  assert.ok(score >= 95, `periodicity ${score}`);
});

test("series in one hour of one day", async () => {
  const score = periodicityOf(await watchedEngine(), "10.0.0.6", ONE_HOUR_ONE_DAY);
  // Intervals and sizes are perfectly regular (300 points of 500), but the
  // series covers 1 hour of 24 and 55 minutes of 10 days.
  assert.ok(score >= 55, `periodicity ${score}`);
  assert.ok(score <= 65, `periodicity ${score}`);
});

test("spread and duration order the series", async () => {
  const aroundTheClock = periodicityOf(await watchedEngine(), "10.0.0.5", AROUND_THE_CLOCK);
  const everyDay = periodicityOf(await watchedEngine(), "10.0.0.7", ONE_HOUR_EVERY_DAY);
  const oneDay = periodicityOf(await watchedEngine(), "10.0.0.6", ONE_HOUR_ONE_DAY);
  // One hour every day keeps the duration points and loses the spread ones;
  // one hour of one day loses both.
  assert.ok(everyDay < aroundTheClock, `every day ${everyDay}, around the clock ${aroundTheClock}`);
  assert.ok(oneDay < everyDay, `one day ${oneDay}, every day ${everyDay}`);
});

test.run();
