// Frequency windows, the pair baseline and the Modbus master scorer, run by
// the core's model engine on records written through the core's event writer.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadModelSet } from "../../agent/src/core/models.js";
import { Engine, modelFolder, modelYaml, type PacketContext } from "./engine.js";

const T0 = 1_700_000_000;

function ctx(src: string, dst: string, tsSec: number, tsNsec = 0, dstPort = 445): PacketContext {
  return { tsSec, tsNsec, src, srcPort: 50000, dst, dstPort };
}

async function engineWith(files: Record<string, string>): Promise<Engine> {
  const engine = await Engine.create();
  (await loadModelSet(modelFolder(files))).install(engine);
  return engine;
}

const OPNUM_0 = "  - field: opnum\n    equals: 0";

test("frequency fires on the Nth match within the window", async () => {
  const engine = await engineWith({ "f.yaml": modelYaml("f", "dcerpc", OPNUM_0, "frequency:\n  count: 3\n  within: 10\n  by: [src]") });
  const fired: boolean[] = [];
  for (const t of [0, 4, 9]) {
    engine.record("dcerpc", ctx("10.0.0.1", "10.0.0.2", T0 + t), [["opnum", 0]]);
    fired.push(engine.alerts().length === 1);
  }
  assert.equal(fired, [false, false, true]);
});

test("frequency window slides past old matches", async () => {
  const engine = await engineWith({ "f.yaml": modelYaml("f", "dcerpc", OPNUM_0, "frequency:\n  count: 3\n  within: 10\n  by: [src]") });
  const fired: boolean[] = [];
  // 0, 8, 15: never three within 10 s; then 17 makes 8, 15, 17.
  for (const t of [0, 8, 15, 17]) {
    engine.record("dcerpc", ctx("10.0.0.1", "10.0.0.2", T0 + t), [["opnum", 0]]);
    fired.push(engine.alerts().length === 1);
  }
  assert.equal(fired, [false, false, false, true]);
});

test("frequency restarts after firing", async () => {
  const engine = await engineWith({ "f.yaml": modelYaml("f", "dcerpc", OPNUM_0, "frequency:\n  count: 2\n  within: 60") });
  const fired: boolean[] = [];
  for (let i = 0; i < 5; i++) {
    engine.record("dcerpc", ctx("10.0.0.1", "10.0.0.2", T0 + i), [["opnum", 0]]);
    fired.push(engine.alerts().length === 1);
  }
  assert.equal(fired, [false, true, false, true, false]);
});

test("frequency keys by source", async () => {
  const engine = await engineWith({ "f.yaml": modelYaml("f", "dcerpc", OPNUM_0, "frequency:\n  count: 2\n  within: 60\n  by: [src]") });
  engine.record("dcerpc", ctx("10.0.0.1", "10.0.0.9", T0), [["opnum", 0]]);
  engine.record("dcerpc", ctx("10.0.0.2", "10.0.0.9", T0 + 1), [["opnum", 0]]);
  assert.is(engine.alerts().length, 0, "two sources, one match each");
  engine.record("dcerpc", ctx("10.0.0.2", "10.0.0.9", T0 + 2), [["opnum", 0]]);
  const alerts = engine.alerts();
  assert.is(alerts.length, 1);
  assert.is(alerts[0].src, "10.0.0.2");
});

test("frequency keys by a record field", async () => {
  const engine = await engineWith({ "f.yaml": modelYaml("f", "dcerpc", OPNUM_0, "frequency:\n  count: 2\n  within: 60\n  by: [src, named_pipe]") });
  engine.record("dcerpc", ctx("10.0.0.1", "10.0.0.9", T0), [["opnum", 0], ["named_pipe", "atsvc"]]);
  engine.record("dcerpc", ctx("10.0.0.1", "10.0.0.9", T0 + 1), [["opnum", 0], ["named_pipe", "svcctl"]]);
  assert.is(engine.alerts().length, 0);
  engine.record("dcerpc", ctx("10.0.0.1", "10.0.0.9", T0 + 2), [["opnum", 0], ["named_pipe", "svcctl"]]);
  assert.is(engine.alerts().length, 1);
});

test("frequency table evicts and counts", async () => {
  const engine = await engineWith({ "f.yaml": modelYaml("f", "dcerpc", OPNUM_0, "frequency:\n  count: 2\n  within: 3600\n  by: [src]") });
  // 4096 entries in sets of 8: 5000 distinct sources must evict some.
  for (let i = 0; i < 5000; i++) {
    engine.record("dcerpc", ctx(`10.${(i >> 8) & 255}.${i & 255}.1`, "10.0.0.9", T0 + i), [["opnum", 0]]);
    engine.drain();
  }
  assert.ok(engine.anomaly("model.frequency_key_evicted") > 0);
});

test("pair baseline tells a routine pair from a new one", async () => {
  const engine = await engineWith({ "p.yaml": modelYaml("p", "dcerpc", OPNUM_0) });
  engine.record("dcerpc", ctx("10.0.0.1", "10.0.0.2", T0), [["opnum", 0]]);
  engine.record("dcerpc", ctx("10.0.0.1", "10.0.0.2", T0 + 86400), [["opnum", 0]]);
  engine.record("dcerpc", ctx("10.0.0.1", "10.0.0.2", T0 + 2 * 86400), [["opnum", 0]]);
  engine.record("dcerpc", ctx("10.0.0.3", "10.0.0.2", T0 + 2 * 86400 + 5), [["opnum", 0]]);
  const alerts = engine.alerts();
  assert.equal(alerts.map((a) => a.fields.seen_before), [false, true, true, false]);
  assert.equal(alerts.map((a) => a.fields.first_seen), [T0, T0, T0, T0 + 2 * 86400 + 5]);
  assert.equal(alerts.map((a) => a.fields.times_seen), [0, 1, 2, 0]);
});

test("pair baseline is per model", async () => {
  const engine = await engineWith({
    "a.yaml": modelYaml("a", "dcerpc", OPNUM_0),
    "b.yaml": modelYaml("b", "dcerpc", "  - field: operation\n    equals: NetrJobAdd"),
  });
  engine.record("dcerpc", ctx("10.0.0.1", "10.0.0.2", T0), [["opnum", 0]]);
  engine.record("dcerpc", ctx("10.0.0.1", "10.0.0.2", T0 + 1), [["opnum", 0], ["operation", "NetrJobAdd"]]);
  const alerts = engine.alerts();
  assert.equal(alerts.map((a) => [a.fields.model_index, a.fields.seen_before]), [[0, false], [0, true], [1, false]]);
});

test("pair table evicts and counts", async () => {
  const engine = await engineWith({ "p.yaml": modelYaml("p", "dcerpc", OPNUM_0) });
  for (let i = 0; i < 17000; i++) {
    engine.record("dcerpc", ctx(`10.${(i >> 8) & 255}.${i & 255}.1`, "10.0.0.2", T0 + i), [["opnum", 0]]);
    engine.drain();
  }
  assert.ok(engine.anomaly("model.pair_evicted") > 0);
});

// Modbus master scorer ------------------------------------------------------

const MODBUS_MODEL = modelYaml(
  "w", "modbus",
  "  - field: pdu_type\n    equals: request\n  - field: function_code\n    in: [5, 6, 8, 15, 16, 22, 23]",
  "scorer:\n  name: modbus_master\n  established_requests: 10\n  established_seconds: 5\n  learning_factor: 0.4",
).replace("score: 60", "score: 70");

const PLC = "192.168.1.10";
const HMI = "192.168.1.2";
const LAPTOP = "192.168.1.66";

function modbusRequest(engine: Engine, client: string, tsSec: number, functionCode: number, unitId = 1, tsNsec = 0): void {
  engine.record("modbus", ctx(client, PLC, tsSec, tsNsec, 502), [
    ["pdu_type", "request"], ["transaction_id", 1], ["unit_id", unitId], ["function_code", functionCode],
  ]);
}

// The HMI polls holding registers twice a second for `seconds`.
function poll(engine: Engine, seconds: number, unitId = 1): void {
  for (let i = 0; i < seconds * 2; i++) modbusRequest(engine, HMI, T0 + Math.floor(i / 2), 3, unitId, (i % 2) * 500_000_000);
  engine.drain();
}

test("modbus write while learning scores lower", async () => {
  const engine = await engineWith({ "w.yaml": MODBUS_MODEL });
  modbusRequest(engine, LAPTOP, T0, 6);
  const alerts = engine.alerts();
  assert.is(alerts.length, 1);
  assert.is(alerts[0].fields.learning, true);
  assert.is(alerts[0].fields.score, 28);
  assert.is(alerts[0].fields.function_code, 6);
});

test("modbus master needs both count and time span", async () => {
  const engine = await engineWith({ "w.yaml": MODBUS_MODEL });
  // 20 requests within 2 s: enough requests, too short a span.
  for (let i = 0; i < 20; i++) modbusRequest(engine, HMI, T0, 3, 1, i * 100_000_000);
  engine.drain();
  modbusRequest(engine, LAPTOP, T0 + 2, 16);
  assert.is(engine.alerts()[0].fields.learning, true);
});

test("modbus write from the established master is routine", async () => {
  const engine = await engineWith({ "w.yaml": MODBUS_MODEL });
  poll(engine, 6);
  modbusRequest(engine, HMI, T0 + 7, 16);
  assert.is(engine.alerts().length, 0);
});

test("modbus write from another host scores in full", async () => {
  const engine = await engineWith({ "w.yaml": MODBUS_MODEL });
  poll(engine, 6);
  modbusRequest(engine, LAPTOP, T0 + 7, 5);
  const alerts = engine.alerts();
  assert.is(alerts.length, 1);
  assert.is(alerts[0].fields.learning, false);
  assert.is(alerts[0].fields.score, 70);
  assert.is(alerts[0].src, LAPTOP);
  assert.is(alerts[0].dst, PLC);
});

test("modbus read from another host does not fire", async () => {
  const engine = await engineWith({ "w.yaml": MODBUS_MODEL });
  poll(engine, 6);
  modbusRequest(engine, LAPTOP, T0 + 7, 3);
  assert.is(engine.alerts().length, 0);
});

test("modbus masters are per unit id", async () => {
  const engine = await engineWith({ "w.yaml": MODBUS_MODEL });
  poll(engine, 6, 1);
  modbusRequest(engine, LAPTOP, T0 + 7, 6, 2);
  const alerts = engine.alerts();
  assert.is(alerts.length, 1);
  assert.is(alerts[0].fields.learning, true, "unit 2 has no master yet");
});

test("modbus response never fires the scorer", async () => {
  const engine = await engineWith({ "w.yaml": MODBUS_MODEL.replace("    equals: request", "    exists: true") });
  poll(engine, 6);
  engine.record("modbus", ctx(LAPTOP, PLC, T0 + 7, 0, 502), [["pdu_type", "response"], ["unit_id", 1], ["function_code", 6]], true);
  assert.is(engine.alerts().length, 0);
});

test("modbus master baseline survives a model reload", async () => {
  const engine = await engineWith({ "w.yaml": MODBUS_MODEL });
  poll(engine, 6);
  (await loadModelSet(modelFolder({ "w.yaml": MODBUS_MODEL }))).install(engine);
  modbusRequest(engine, HMI, T0 + 7, 6);
  assert.is(engine.alerts().length, 0);
  engine.resetBaselines();
  modbusRequest(engine, HMI, T0 + 8, 6);
  assert.is(engine.alerts()[0].fields.learning, true);
});

test.run();
