// How the model engine finds the models and the fields a record meets: the
// installed table grouped by record type, and the per-record field index
// that conditions read.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadModelSet } from "../../agent/src/core/models.js";
import { Engine, modelFolder, modelYaml, type PacketContext } from "./engine.js";

const CTX: PacketContext = { tsSec: 1_700_000_000, flowId: 9, src: "10.2.1.5", srcPort: 49300, dst: "10.2.1.9", dstPort: 445 };

async function engineWith(files: Record<string, string>): Promise<Engine> {
  const engine = await Engine.create();
  const set = await loadModelSet(modelFolder(files));
  set.install(engine, { learningSeconds: 0 });
  return engine;
}

function firedModels(engine: Engine): number[] {
  return engine.alerts().map((alert) => alert.fields.model_index as number);
}

test("interleaved types fire own models", async () => {
  // Files load in name order, so the table alternates dcerpc and smb models.
  const engine = await engineWith({
    "a.yaml": modelYaml("a", "dcerpc", "  - field: opnum\n    equals: 1"),
    "b.yaml": modelYaml("b", "smb", "  - field: command\n    equals: create"),
    "c.yaml": modelYaml("c", "dcerpc", "  - field: opnum\n    in: [1, 2]"),
    "d.yaml": modelYaml("d", "smb", "  - field: share\n    exists: true"),
    "e.yaml": modelYaml("e", "dcerpc", "  - field: opnum\n    exists: true"),
  });

  engine.record("dcerpc", CTX, [["opnum", 1]]);
  assert.equal(firedModels(engine), [0, 2, 4], "dcerpc record: models a, c, e in table order");

  engine.record("smb", CTX, [["command", "create"], ["share", "ADMIN$"]]);
  assert.equal(firedModels(engine), [1, 3], "smb record: models b, d in table order");

  engine.record("modbus", CTX, [["function_code", 1]]);
  assert.equal(firedModels(engine), [], "no model watches modbus");
});

test("reinstall regroups models", async () => {
  const engine = await engineWith({ "a.yaml": modelYaml("a", "dcerpc", "  - field: opnum\n    equals: 1") });
  const set = await loadModelSet(modelFolder({ "z.yaml": modelYaml("z", "smb", "  - field: command\n    equals: create") }));
  set.install(engine, { learningSeconds: 0 });

  engine.record("dcerpc", CTX, [["opnum", 1]]);
  assert.equal(firedModels(engine), [], "the dcerpc model left with the old table");
  engine.record("smb", CTX, [["command", "create"]]);
  assert.equal(firedModels(engine), [0]);
});

test("repeated field matches its last value", async () => {
  const engine = await engineWith({
    "m.yaml": modelYaml("m", "dcerpc", "  - field: interface_uuid\n    equals: 12345778-1234-abcd-ef00-0123456789ac"),
  });
  engine.record("dcerpc", CTX, [
    ["interface_uuid", "e1af8308-5d1f-11c9-91a4-08002b14a0fa"],
    ["opnum", 3],
    ["operation", "Bind"],
    ["interface_uuid", "4b324fc8-1670-01d3-1278-5a47bf6ee188"],
    ["call_id", 7],
    ["interface_uuid", "12345778-1234-abcd-ef00-0123456789ac"],
  ]);
  assert.equal(firedModels(engine), [0]);

  engine.record("dcerpc", CTX, [
    ["interface_uuid", "e1af8308-5d1f-11c9-91a4-08002b14a0fa"],
    ["operation", "12345778-1234-abcd-ef00-0123456789ac"],
    ["interface_uuid", "4b324fc8-1670-01d3-1278-5a47bf6ee188"],
  ]);
  assert.equal(firedModels(engine), [], "the value under another field must not match");
});

test("conditions read each record afresh", async () => {
  const engine = await engineWith({ "m.yaml": modelYaml("m", "dcerpc", "  - field: opnum\n    equals: 4\n  - field: operation\n    exists: true") });
  engine.record("dcerpc", CTX, [["operation", "NetrJobAdd"], ["opnum", 4]]);
  assert.equal(firedModels(engine), [0]);

  // The next record has neither field where the last one had them.
  engine.record("dcerpc", CTX, [["call_id", 4], ["pdu_type", "request"]]);
  assert.equal(firedModels(engine), [], "fields of the previous record must not be seen");

  engine.record("dcerpc", CTX, [["opnum", 4]]);
  assert.equal(firedModels(engine), [], "operation is missing");
});

test("function code index keeps every model that can match", async () => {
  // a, b and e test function_code with equals or in; c has no such
  // condition; d's value lies above the index's range; f tests a range.
  const engine = await engineWith({
    "a.yaml": modelYaml("a", "modbus", "  - field: pdu_type\n    equals: request\n  - field: function_code\n    in: [5, 6]"),
    "b.yaml": modelYaml("b", "modbus", "  - field: function_code\n    equals: 3"),
    "c.yaml": modelYaml("c", "modbus", "  - field: pdu_type\n    equals: request"),
    "d.yaml": modelYaml("d", "modbus", "  - field: function_code\n    in: [3, 300]"),
    "e.yaml": modelYaml("e", "modbus", "  - field: function_code\n    in: [6, 3]\n  - field: unit_id\n    equals: 7"),
    "f.yaml": modelYaml("f", "modbus", "  - field: function_code\n    range: { min: 128, max: 400 }"),
  });
  const request = (functionCode: number | boolean | string): [string, number | boolean | string][] =>
    [["pdu_type", "request"], ["unit_id", 7], ["function_code", functionCode]];

  engine.record("modbus", CTX, request(3));
  assert.equal(firedModels(engine), [1, 2, 3, 4], "function code 3");
  engine.record("modbus", CTX, request(6));
  assert.equal(firedModels(engine), [0, 2, 4], "function code 6");
  engine.record("modbus", CTX, request(300));
  assert.equal(firedModels(engine), [2, 3, 5], "a value past the index range");
  engine.record("modbus", CTX, request(-3));
  assert.equal(firedModels(engine), [2], "a negative value");
  engine.record("modbus", CTX, request("3"));
  assert.equal(firedModels(engine), [2], "a text value equals no integer");
  engine.record("modbus", CTX, [["pdu_type", "request"], ["unit_id", 7]]);
  assert.equal(firedModels(engine), [2], "no function code");
  engine.record("modbus", CTX, [["pdu_type", "request"], ["function_code", 5], ["unit_id", 7], ["function_code", 3]]);
  assert.equal(firedModels(engine), [0, 1, 2, 3, 4], "a repeated function code matches through either value");
});

test("models past the index width are still evaluated", async () => {
  // 70 dcerpc models, model k fires on opnum k.
  const files: Record<string, string> = {};
  for (let k = 0; k < 70; k++) {
    const id = `m${String(k).padStart(2, "0")}`;
    files[`${id}.yaml`] = modelYaml(id, "dcerpc", `  - field: opnum\n    equals: ${k}`);
  }
  const engine = await engineWith(files);
  for (const opnum of [0, 5, 63, 64, 69]) {
    engine.record("dcerpc", CTX, [["opnum", opnum]]);
    assert.equal(firedModels(engine), [opnum], `opnum ${opnum}`);
  }
  engine.record("dcerpc", CTX, [["opnum", 70]]);
  assert.equal(firedModels(engine), []);
});

test("a shared condition is judged for each record", async () => {
  // a and b repeat `pdu_type equals request`, so the engine tests it once
  // per record; the result must not carry over to the next record.
  const engine = await engineWith({
    "a.yaml": modelYaml("a", "modbus", "  - field: pdu_type\n    equals: request\n  - field: unit_id\n    equals: 1"),
    "b.yaml": modelYaml("b", "modbus", "  - field: pdu_type\n    equals: request"),
    "c.yaml": modelYaml("c", "modbus", "  - field: unit_id\n    equals: 1\n  - field: pdu_type\n    equals: request"),
  });
  engine.record("modbus", CTX, [["pdu_type", "request"], ["unit_id", 1]]);
  assert.equal(firedModels(engine), [0, 1, 2]);
  engine.record("modbus", CTX, [["pdu_type", "response"], ["unit_id", 1]]);
  assert.equal(firedModels(engine), []);
  engine.record("modbus", CTX, [["pdu_type", "request"], ["unit_id", 2]]);
  assert.equal(firedModels(engine), [1]);
});

test.run();
