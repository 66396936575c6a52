// Frequency thresholds written as "> N in W unit", as analysts state them.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadModelSet, parseModelFile, reloadModels, ModelError } from "../../agent/src/core/models.js";
import { takeSnapshot, restoreSnapshot } from "../../agent/src/core/snapshot.js";
import { Engine, modelFolder, modelYaml } from "../models/engine.js";

const T0 = 1_700_000_000;
const OPNUM_0 = "  - field: opnum\n    equals: 0";

function withRule(rule: string, extra = ""): string {
  return modelYaml("f", "dcerpc", OPNUM_0, `frequency:\n  rule: "${rule}"${extra}`);
}

test("rule above zero fires on the first match", () => {
  const model = parseModelFile("f.yaml", withRule("> 0 in 60 min"));
  assert.equal([model.spec.frequency?.count, model.spec.frequency?.within], [1, 3600]);
});

test("rule above two within ten minutes", async () => {
  const engine = await Engine.create();
  (await loadModelSet(modelFolder({ "f.yaml": withRule("> 2 in 10 min", "\n  by: [src]") }))).install(engine, { learningSeconds: 0 });
  const fired: boolean[] = [];
  for (const t of [0, 100, 200, 900]) {
    engine.record("dcerpc", { tsSec: T0 + t, src: "10.0.0.1", srcPort: 50000, dst: "10.0.0.2", dstPort: 445 }, [["opnum", 0]]);
    fired.push(engine.alerts().length === 1);
  }
  assert.equal(fired, [false, false, true, false]);
});

test("rule with count is rejected at its line", () => {
  const text = modelYaml("f", "dcerpc", OPNUM_0, 'frequency:\n  rule: "> 1 in 5 s"\n  count: 2');
  assert.throws(() => parseModelFile("f.yaml", text), (e: Error) => e instanceof ModelError && /f\.yaml line 11: frequency\.rule cannot be combined with count or within/.test(e.message));
});

test("rule above the core's count is rejected", () => {
  assert.throws(() => parseModelFile("f.yaml", withRule("> 40 in 1 h")), /needs 41 matches, but the core counts at most 32/);
});

test("rule of another form is rejected", () => {
  assert.throws(() => parseModelFile("f.yaml", withRule("more than 3 per hour")), /frequency\.rule is "more than 3 per hour"/);
});

test("frequency without within is rejected", () => {
  const text = modelYaml("f", "dcerpc", OPNUM_0, "frequency:\n  count: 2");
  assert.throws(() => parseModelFile("f.yaml", text), /frequency\.within is missing/);
});

const OPTIONS = { learningSeconds: 0, historyEntries: 1024 };

function match(engine: Engine, t: number): boolean {
  engine.record("dcerpc", { tsSec: T0 + t, src: "10.0.0.1", srcPort: 50000, dst: "10.0.0.2", dstPort: 445 }, [["opnum", 0]]);
  return engine.alerts().length === 1;
}

// Two matches of "> 2 in 10 min" counted, so the next one fires when the
// window is still there.
async function engineWithTwoMatches(dir: string) {
  const engine = await Engine.create();
  const running = await loadModelSet(dir);
  running.install(engine, OPTIONS);
  assert.is(match(engine, 0), false);
  assert.is(match(engine, 100), false);
  return { engine, running };
}

test("reload keeps frequency windows", async () => {
  const dir = modelFolder({ "f.yaml": withRule("> 2 in 10 min", "\n  by: [src]") });
  const { engine, running } = await engineWithTwoMatches(dir);
  // A new model sorted first moves the frequency model to index 1.
  writeFileSync(join(dir, "a.yaml"), modelYaml("a", "dcerpc", "  - field: opnum\n    equals: 9"));
  writeFileSync(join(dir, "f.yaml"), withRule("> 2 in 10 min", "\n  by: [src]").replace("score: 60", "score: 70"));
  const result = reloadModels(engine, running, dir, OPTIONS);
  assert.is(result.error, undefined);
  assert.is(result.set.models.findIndex((m) => m.id === "f"), 1);
  assert.is(match(engine, 200), true, "the third match within 10 minutes fires");
});

test("reload with another rule forgets windows", async () => {
  const dir = modelFolder({ "f.yaml": withRule("> 2 in 10 min", "\n  by: [src]") });
  const { engine, running } = await engineWithTwoMatches(dir);
  writeFileSync(join(dir, "f.yaml"), withRule("> 2 in 20 min", "\n  by: [src]"));
  assert.is(reloadModels(engine, running, dir, OPTIONS).error, undefined);
  assert.is(match(engine, 200), false, "the window restarted under the new rule");
});

test("snapshot keeps frequency windows", async () => {
  const dir = modelFolder({ "f.yaml": withRule("> 2 in 10 min", "\n  by: [src]") });
  const { engine } = await engineWithTwoMatches(dir);
  const snapshot = takeSnapshot(engine);

  const after = await Engine.create();
  (await loadModelSet(dir)).install(after, OPTIONS);
  assert.equal(restoreSnapshot(after, snapshot), { droppedEntries: 0, droppedWindows: 0 });
  assert.is(match(after, 200), true);
});

test("snapshot drops windows of a removed model", async () => {
  const dir = modelFolder({ "f.yaml": withRule("> 2 in 10 min", "\n  by: [src]") });
  const { engine } = await engineWithTwoMatches(dir);
  const snapshot = takeSnapshot(engine);

  const after = await Engine.create();
  (await loadModelSet(modelFolder({ "g.yaml": modelYaml("g", "dcerpc", OPNUM_0, 'frequency:\n  rule: "> 2 in 10 min"\n  by: [src]') }))).install(after, OPTIONS);
  assert.equal(restoreSnapshot(after, snapshot), { droppedEntries: 0, droppedWindows: 1 });
  assert.is(match(after, 200), false);
});

test.run();
