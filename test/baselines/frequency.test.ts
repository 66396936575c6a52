// Frequency thresholds written as "> N in W unit", as analysts state them.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadModelSet, parseModelFile, ModelError } from "../../agent/src/core/models.js";
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

test.run();
