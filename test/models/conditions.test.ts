// Condition operators, evaluated by the core's model engine on records
// written through the core's event writer.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadModelSet } from "../../agent/src/core/models.js";
import { Engine, modelFolder, modelYaml, type PacketContext, type Value } from "./engine.js";

const CTX: PacketContext = { tsSec: 1_700_000_000, tsNsec: 250_000_000, flowId: 7, src: "10.1.1.5", srcPort: 49200, dst: "10.1.1.9", dstPort: 445 };

// Installs one model with `conditions` watching dcerpc records and returns the engine.
async function engineWith(conditions: string, record = "dcerpc"): Promise<Engine> {
  const engine = await Engine.create();
  const set = await loadModelSet(modelFolder({ "m.yaml": modelYaml("m", record, conditions) }));
  // No learning period, so that scores are the model's and the baselines'.
  set.install(engine, { learningSeconds: 0 });
  return engine;
}

function fires(engine: Engine, fields: [string, Value][], record: "dcerpc" | "modbus" | "smb" = "dcerpc"): boolean {
  engine.record(record, CTX, fields);
  return engine.alerts().length > 0;
}

test("equals on a number", async () => {
  const engine = await engineWith("  - field: opnum\n    equals: 12");
  assert.ok(fires(engine, [["opnum", 12]]));
  assert.not.ok(fires(engine, [["opnum", 13]]));
  assert.not.ok(fires(engine, [["call_id", 12]]), "another field with the value must not match");
});

test("equals on text is exact", async () => {
  const engine = await engineWith("  - field: operation\n    equals: NetrJobAdd");
  assert.ok(fires(engine, [["operation", "NetrJobAdd"]]));
  assert.not.ok(fires(engine, [["operation", "netrjobadd"]]));
  assert.not.ok(fires(engine, [["operation", "NetrJobAddX"]]));
});

test("equals on a boolean", async () => {
  const engine = await engineWith("  - field: stub_truncated\n    equals: true");
  assert.ok(fires(engine, [["stub_truncated", true]]));
  assert.not.ok(fires(engine, [["stub_truncated", false]]));
});

test("equals text on a bytes field compares hex", async () => {
  const engine = await engineWith("  - field: interface_uuid\n    equals: 0a0bFF");
  assert.ok(fires(engine, [["interface_uuid", { bytes: [0x0a, 0x0b, 0xff] }]]));
  assert.not.ok(fires(engine, [["interface_uuid", { bytes: [0x0a, 0x0b, 0xfe] }]]));
});

test("in matches any listed value", async () => {
  const engine = await engineWith("  - field: opnum\n    in: [11, 12, 19]");
  assert.ok(fires(engine, [["opnum", 19]]));
  assert.ok(fires(engine, [["opnum", 11]]));
  assert.not.ok(fires(engine, [["opnum", 15]]));
});

test("range is inclusive", async () => {
  const engine = await engineWith("  - field: start_address\n    range: {min: 100, max: 199}", "modbus");
  assert.ok(fires(engine, [["start_address", 100]], "modbus"));
  assert.ok(fires(engine, [["start_address", 199]], "modbus"));
  assert.not.ok(fires(engine, [["start_address", 99]], "modbus"));
  assert.not.ok(fires(engine, [["start_address", 200]], "modbus"));
  assert.not.ok(fires(engine, [["start_address", "150"]], "modbus"), "text never falls in a numeric range");
});

test("range with negative bounds on signed values", async () => {
  const engine = await engineWith("  - field: start_address\n    range: {min: -5, max: 5}", "modbus");
  assert.ok(fires(engine, [["start_address", -3]], "modbus"));
  assert.not.ok(fires(engine, [["start_address", -6]], "modbus"));
});

test("contains ignores ASCII case", async () => {
  const engine = await engineWith("  - field: binary_path\n    contains: [psexesvc, \"\\\\ADMIN$\\\\\"]");
  assert.ok(fires(engine, [["binary_path", "%SystemRoot%\\PSEXESVC.exe"]]));
  assert.ok(fires(engine, [["binary_path", "\\\\host\\admin$\\x.exe"]]));
  assert.not.ok(fires(engine, [["binary_path", "C:\\Windows\\system32\\svchost.exe"]]));
  assert.not.ok(fires(engine, [["binary_path", "psexes"]]), "a prefix of the needle is not a match");
});

test("contains on a bytes field searches hex", async () => {
  const engine = await engineWith("  - field: interface_uuid\n    contains: BEEF");
  assert.ok(fires(engine, [["interface_uuid", { bytes: [0x00, 0xbe, 0xef, 0x01] }]]));
  assert.not.ok(fires(engine, [["interface_uuid", { bytes: [0x0b, 0xe0, 0xef] }]]));
});

test("bits_any and bits_all", async () => {
  const any = await engineWith("  - field: desired_access\n    bits_any: 0x12", "smb");
  assert.ok(fires(any, [["desired_access", 0x10]], "smb"));
  assert.not.ok(fires(any, [["desired_access", 0x01]], "smb"));
  const all = await engineWith("  - field: desired_access\n    bits_all: 0x12", "smb");
  assert.ok(fires(all, [["desired_access", 0xf2]], "smb"));
  assert.not.ok(fires(all, [["desired_access", 0x10]], "smb"));
});

test("exists needs the field only", async () => {
  const engine = await engineWith("  - field: fault\n    exists: true");
  assert.ok(fires(engine, [["fault", "nca_s_op_rng_error"]]));
  assert.ok(fires(engine, [["fault", 0]]));
  assert.not.ok(fires(engine, [["opnum", 1]]));
});

test("repeated field matches on any value", async () => {
  const engine = await engineWith("  - field: interface_uuid\n    equals: 367abb81-9844-35f1-ad32-98f038001003");
  assert.ok(fires(engine, [
    ["interface_uuid", "e1af8308-5d1f-11c9-91a4-08002b14a0fa"],
    ["interface_uuid", "367abb81-9844-35f1-ad32-98f038001003"],
  ]));
});

test("all conditions must hold", async () => {
  const engine = await engineWith("  - field: opnum\n    equals: 0\n  - field: pdu_type\n    equals: request");
  assert.ok(fires(engine, [["pdu_type", "request"], ["opnum", 0]]));
  assert.not.ok(fires(engine, [["pdu_type", "response"], ["opnum", 0]]));
  assert.not.ok(fires(engine, [["opnum", 0]]));
});

test("model watches only its record type", async () => {
  const engine = await engineWith("  - field: pdu_type\n    equals: request");
  assert.not.ok(fires(engine, [["pdu_type", "request"]], "smb"));
  assert.ok(fires(engine, [["pdu_type", "request"]], "dcerpc"));
});

test("alert carries context, score and evidence", async () => {
  const engine = await engineWith("  - field: opnum\n    equals: 0");
  engine.record("dcerpc", CTX, [["opnum", 0], ["operation", "NetrJobAdd"], ["command", "c:\\mimikatz.exe"]], true);
  const records = engine.drain();
  assert.is(records.length, 2, "the record, then one alert");
  const [record, alert] = records;
  assert.is(record.type, 3);
  assert.is(alert.type, 64);
  assert.is(alert.tsSec, CTX.tsSec);
  assert.is(alert.tsNsec, CTX.tsNsec);
  assert.is(alert.flowId, 7);
  assert.is(alert.src, "10.1.1.5");
  assert.is(alert.dst, "10.1.1.9");
  assert.is(alert.srcPort, 49200);
  assert.is(alert.dstPort, 445);
  assert.ok(alert.serverToClient);
  assert.is(alert.fields.model_index, 0);
  // Base 60, plus 15 for a service and 10 for a host pair never seen.
  assert.is(alert.fields.score, 85);
  assert.is(alert.fields.base_score, 60);
  assert.is(alert.fields.learning, false);
  assert.is(alert.fields.seen_before, false);
  assert.is(alert.fields.first_seen, CTX.tsSec);
  assert.is(alert.fields.times_seen, 0);
  assert.is(alert.fields.opnum, 0);
  assert.is(alert.fields.operation, "NetrJobAdd");
  assert.is(alert.fields.command, "c:\\mimikatz.exe");
});

test("each firing model writes its own alert", async () => {
  const engine = await Engine.create();
  const set = await loadModelSet(modelFolder({
    "a.yaml": modelYaml("a", "dcerpc", "  - field: opnum\n    equals: 0"),
    "b.yaml": modelYaml("b", "dcerpc", "  - field: operation\n    contains: jobadd"),
    "c.yaml": modelYaml("c", "dcerpc", "  - field: opnum\n    equals: 1"),
  }));
  set.install(engine);
  engine.record("dcerpc", CTX, [["opnum", 0], ["operation", "NetrJobAdd"]]);
  const alerts = engine.alerts();
  assert.equal(alerts.map((a) => a.fields.model_index), [0, 1]);
  assert.equal(alerts.map((a) => set.byIndex(a.fields.model_index as number)?.id), ["a", "b"]);
});

test("reinstalling replaces the model table", async () => {
  const engine = await engineWith("  - field: opnum\n    equals: 0");
  const second = await loadModelSet(modelFolder({ "m.yaml": modelYaml("m", "dcerpc", "  - field: opnum\n    equals: 5") }));
  for (let i = 0; i < 50; i++) second.install(engine);
  assert.not.ok(fires(engine, [["opnum", 0]]));
  assert.ok(fires(engine, [["opnum", 5]]));
});

test("corrupt table is rejected and the old one kept", async () => {
  const engine = await engineWith("  - field: opnum\n    equals: 0");
  const bad = new Uint8Array(32);
  assert.is(engine.callWithScratch("loadModels", bad), -2);
  const tooLarge = new Uint8Array(70000);
  assert.is(engine.callWithScratch("loadModels", tooLarge), -1);
  assert.ok(fires(engine, [["opnum", 0]]));
});

test.run();
