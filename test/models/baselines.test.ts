// Frequency windows, the traffic baselines and the Modbus master scorer, run
// by the core's model engine on records written through the core's event
// writer. The learning period is off here; test/baselines covers it.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadModelSet } from "../../agent/src/core/models.js";
import { Engine, modelFolder, modelYaml, type PacketContext } from "./engine.js";

const T0 = 1_700_000_000;

function ctx(src: string, dst: string, tsSec: number, tsNsec = 0, dstPort = 445): PacketContext {
  return { tsSec, tsNsec, src, srcPort: 50000, dst, dstPort };
}

async function engineWith(files: Record<string, string>, historyEntries?: number): Promise<Engine> {
  const engine = await Engine.create();
  (await loadModelSet(modelFolder(files))).install(engine, { learningSeconds: 0, historyEntries });
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

test("distinct counts different values, not matches", async () => {
  const engine = await engineWith({ "d.yaml": modelYaml("d", "dcerpc", OPNUM_0, "frequency:\n  count: 3\n  within: 60\n  by: [src]\n  distinct: named_pipe") });
  const fired: boolean[] = [];
  // Repeats of one value do not count; the third different value fires.
  for (const [t, pipe] of [[0, "atsvc"], [1, "atsvc"], [2, "atsvc"], [3, "svcctl"], [4, "svcctl"], [5, "winreg"]] as [number, string][]) {
    engine.record("dcerpc", ctx("10.0.0.1", "10.0.0.2", T0 + t), [["opnum", 0], ["named_pipe", pipe]]);
    fired.push(engine.alerts().length === 1);
  }
  assert.equal(fired, [false, false, false, false, false, true]);
});

test("distinct forgets values older than the window and ignores records without the field", async () => {
  const engine = await engineWith({ "d.yaml": modelYaml("d", "dcerpc", OPNUM_0, "frequency:\n  count: 3\n  within: 10\n  by: [src]\n  distinct: named_pipe") });
  const fired: boolean[] = [];
  const steps: [number, string | undefined][] = [[0, "a"], [5, "b"], [6, undefined], [7, undefined], [12, "c"], [14, "d"], [15, "b"]];
  for (const [t, pipe] of steps) {
    const fields: [string, string | number][] = [["opnum", 0]];
    if (pipe) fields.push(["named_pipe", pipe]);
    engine.record("dcerpc", ctx("10.0.0.1", "10.0.0.2", T0 + t), fields);
    fired.push(engine.alerts().length === 1);
  }
  // At 12 s "a" (0 s) has left the window: b, c. At 14 s: b, c, d fire.
  assert.equal(fired, [false, false, false, false, false, true, false]);
});

test("distinct needs a known field", async () => {
  const set = await loadModelSet(modelFolder({ "d.yaml": modelYaml("d", "dcerpc", OPNUM_0, "frequency:\n  count: 3\n  within: 10\n  distinct: no_such_field") }));
  try {
    set.install(await Engine.create(), { learningSeconds: 0 });
    assert.unreachable("an unknown distinct field must be rejected");
  } catch (error) {
    assert.match(String((error as Error).message), /d\.yaml line \d+: field "no_such_field" is not a record field/);
  }
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

test("baseline is per service, shared by models", async () => {
  const engine = await engineWith({
    "a.yaml": modelYaml("a", "dcerpc", OPNUM_0),
    "b.yaml": modelYaml("b", "dcerpc", "  - field: operation\n    equals: NetrJobAdd"),
  });
  engine.record("dcerpc", ctx("10.0.0.1", "10.0.0.2", T0), [["opnum", 0]]);
  engine.record("dcerpc", ctx("10.0.0.1", "10.0.0.2", T0 + 7200), [["opnum", 0], ["operation", "NetrJobAdd"]]);
  const alerts = engine.alerts();
  // The baselines learn the traffic, not the alerts: model b's first alert
  // is about an opnum the pair used before.
  assert.equal(alerts.map((a) => [a.fields.model_index, a.fields.seen_before]), [[0, false], [0, true], [1, true]]);
});

test("pair seen within the hour is still new", async () => {
  const engine = await engineWith({ "p.yaml": modelYaml("p", "dcerpc", OPNUM_0) });
  engine.record("dcerpc", ctx("10.0.0.1", "10.0.0.2", T0), [["opnum", 1]]);
  engine.record("dcerpc", ctx("10.0.0.1", "10.0.0.2", T0 + 60), [["opnum", 0]]);
  const [alert] = engine.alerts();
  assert.is(alert.fields.pair_seen_before, false, "the pair's first record came a minute earlier, in the same session");
  assert.equal(alert.fields.factor, [1, 2, 3]);
});

test("new service on a known pair", async () => {
  const engine = await engineWith({ "p.yaml": modelYaml("p", "dcerpc", "  - field: opnum\n    exists: true") });
  engine.record("dcerpc", ctx("10.0.0.1", "10.0.0.2", T0), [["opnum", 0]]);
  engine.record("dcerpc", ctx("10.0.0.1", "10.0.0.2", T0 + 86400), [["opnum", 1]]);
  const [first, second] = engine.alerts();
  assert.equal(first.fields.factor, [1, 2, 3], "base, new service, new pair");
  assert.equal(first.fields.factor_points, [60, 15, 10]);
  assert.is(first.fields.score, 85);
  assert.is(second.fields.pair_seen_before, true);
  assert.equal(second.fields.factor, [1, 2], "base, new service");
  assert.is(second.fields.score, 75);
});

test("rare service scores above the base", async () => {
  const engine = await engineWith({ "p.yaml": modelYaml("p", "dcerpc", OPNUM_0) });
  engine.record("dcerpc", ctx("10.0.0.1", "10.0.0.2", T0), [["opnum", 0]]);
  engine.record("dcerpc", ctx("10.0.0.1", "10.0.0.2", T0 + 86400), [["opnum", 0]]);
  const alerts = engine.alerts();
  assert.equal(alerts[1].fields.factor, [1, 4], "base, rare");
  assert.is(alerts[1].fields.score, 70, "seen on 1 day: 2 missing days of 3, 5 points each");
  assert.is(alerts[1].fields.days_seen, 1);
});

test("baseline table evicts and counts", async () => {
  const engine = await engineWith({ "p.yaml": modelYaml("p", "dcerpc", OPNUM_0) }, 64);
  for (let i = 0; i < 200; i++) {
    engine.record("dcerpc", ctx(`10.${(i >> 8) & 255}.${i & 255}.1`, "10.0.0.2", T0 + i), [["opnum", 0]]);
    engine.drain();
  }
  assert.ok(engine.anomaly("model.baseline_evicted") > 0);
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
  // The laptop never talked to the PLC: base 70 + 15 new service + 10 new pair.
  assert.is(alerts[0].fields.score, 95);
  assert.is(alerts[0].fields.base_score, 70);
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

test("modbus server that opened the connection", async () => {
  const engine = await engineWith({ "w.yaml": MODBUS_MODEL });
  // The PLC opened the connection from port 502 (as 10.0.0.8 does in
  // suricata_modbus_fc8_diag_fc43.pcap), so the HMI's requests travel from
  // the flow's responder to its originator: record flag bit 0 is set.
  for (let i = 0; i < 12; i++) {
    engine.record("modbus", { tsSec: T0 + i, src: PLC, srcPort: 502, dst: HMI, dstPort: 49152 }, [
      ["pdu_type", "request"], ["transaction_id", i], ["unit_id", 1], ["function_code", 3],
    ], true);
  }
  engine.drain();
  modbusRequest(engine, LAPTOP, T0 + 20, 6);
  const alerts = engine.alerts();
  assert.is(alerts.length, 1);
  assert.is(alerts[0].fields.learning, false, "the PLC, not the HMI, has the established master");
  assert.is(alerts[0].dst, PLC);
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
