// The binary model table: the core checks every table before installing it,
// so a corrupt or hostile table is rejected with a code and never traps.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { compileModelTable, fieldIdsOf, parseModelFile } from "../../agent/src/core/models.js";
import { Engine, modelYaml, type PacketContext } from "./engine.js";

const CTX: PacketContext = { tsSec: 1_700_000_000, src: "10.0.0.1", srcPort: 50000, dst: "10.0.0.2", dstPort: 445 };

function validTable(engine: Engine): Uint8Array {
  const model = parseModelFile("t.yaml", modelYaml("t", "dcerpc", "  - field: opnum\n    in: [0, 1]\n  - field: operation\n    contains: job", "frequency:\n  count: 2\n  within: 60\n  by: [src, named_pipe]"));
  return compileModelTable([model], fieldIdsOf(engine));
}

// Offsets inside the table compiled by validTable (layout in agent/src/core/models.ts).
const MODEL = 16;
const FIRST_CONDITION = MODEL + 40;

test("compiled table layout", async () => {
  const engine = await Engine.create();
  const table = validTable(engine);
  const view = new DataView(table.buffer);
  assert.is(view.getUint32(0, true), 0x544d5346, "magic");
  assert.is(view.getUint16(4, true), 2, "version");
  assert.is(view.getUint16(6, true), 1, "model count");
  assert.is(view.getUint32(8, true), table.length, "table length");
  assert.is(view.getUint16(MODEL + 4, true), 3, "record type dcerpc");
  assert.is(view.getUint8(MODEL + 6), 60, "score");
  assert.is(view.getUint8(MODEL + 9), 2, "condition count");
  assert.is(view.getUint8(MODEL + 10), 1, "by src");
  assert.is(view.getUint8(MODEL + 11), 1, "one by field");
  assert.is(view.getUint32(MODEL + 12, true), 2, "frequency count");
  assert.is(view.getUint32(MODEL + 16, true), 60, "window");
  assert.is(view.getUint16(MODEL + 28, true), engine.fieldId("named_pipe", "dcerpc"), "by field id");
  assert.is(view.getUint16(FIRST_CONDITION, true), engine.fieldId("opnum", "dcerpc"), "condition field");
  assert.is(view.getUint8(FIRST_CONDITION + 2), 2, "operator in");
  assert.is(view.getUint8(FIRST_CONDITION + 3), 2, "two values");
  assert.is(view.getUint32(FIRST_CONDITION + 4, true), 8 + 2 * 12, "condition length");
  assert.is(engine.callWithScratch("loadModels", table), 1);
});

test("corrupt tables are rejected with their code", async () => {
  const engine = await Engine.create();
  const cases: [string, (t: Uint8Array, v: DataView) => Uint8Array, number][] = [
    ["bad magic", (t) => { t[0] ^= 0xff; return t; }, -2],
    ["bad version", (t, v) => { v.setUint16(4, 1, true); return t; }, -3],
    ["length mismatch", (t, v) => { v.setUint32(8, t.length + 1, true); return t; }, -4],
    ["too many models", (t, v) => { v.setUint16(6, 257, true); return t; }, -5],
    ["model runs past the table", (t, v) => { v.setUint32(MODEL, t.length, true); return t; }, -6],
    ["score above 100", (t) => { t[MODEL + 6] = 101; return t; }, -7],
    ["unknown scorer", (t) => { t[MODEL + 7] = 42; return t; }, -7],
    ["frequency count above 32", (t, v) => { v.setUint32(MODEL + 12, 33, true); return t; }, -7],
    ["distinct without a frequency", (t, v) => { v.setUint32(MODEL + 12, 0, true); v.setUint16(MODEL + 36, 300, true); return t; }, -7],
    ["condition runs past the model", (t, v) => { v.setUint32(FIRST_CONDITION + 4, 4000, true); return t; }, -8],
    ["unknown operator", (t) => { t[FIRST_CONDITION + 2] = 42; return t; }, -9],
    ["integer value of 7 bytes", (t, v) => { v.setUint16(FIRST_CONDITION + 8 + 2, 7, true); return t; }, -10],
    ["value runs past the condition", (t, v) => { v.setUint16(FIRST_CONDITION + 8 + 2, 200, true); return t; }, -8],
    ["range with one value", (t) => { t[FIRST_CONDITION + 2] = 3; t[FIRST_CONDITION + 3] = 2; t[FIRST_CONDITION + 8 + 12] = 2; return t; }, -10],
    ["truncated header", (t) => t.slice(0, 10), -2],
  ];
  for (const [name, corrupt, code] of cases) {
    const table = validTable(engine);
    const bad = corrupt(table, new DataView(table.buffer));
    assert.is(engine.callWithScratch("loadModels", bad), code, name);
  }
});

test("random table bytes never trap", async () => {
  const engine = await Engine.create();
  const base = validTable(engine);
  let seed = 0x2545f491;
  const random = () => {
    seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
    return (seed >>> 0) / 0x100000000;
  };
  let accepted = 0;
  for (let round = 0; round < 3000; round++) {
    const table = base.slice();
    const flips = 1 + Math.floor(random() * 4);
    for (let i = 0; i < flips; i++) table[Math.floor(random() * table.length)] = Math.floor(random() * 256);
    const result = engine.callWithScratch("loadModels", table);
    if (result >= 0) {
      accepted++;
      // Evaluating an accepted table must not trap, whatever values it contains.
      engine.record("dcerpc", CTX, [["opnum", 1], ["operation", "NetrJobAdd"], ["named_pipe", "atsvc"]]);
      engine.drain();
    }
  }
  assert.ok(accepted > 0, "some mutations keep the table valid, so evaluation ran too");
});

test.run();
