// Model files: YAML and schema errors name the file, the line and the key.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { loadModelSet, ModelError } from "../../agent/src/core/models.js";
import { Engine, modelFolder, modelYaml } from "./engine.js";

const CONDITION = "  - field: opnum\n    equals: 0";

async function loadError(files: Record<string, string>): Promise<ModelError> {
  const dir = modelFolder(files);
  try {
    await loadModelSet(dir);
  } catch (error) {
    assert.instance(error, ModelError);
    return error as ModelError;
  }
  throw new assert.Assertion({ message: "loadModelSet accepted an invalid model file", operator: "throws", generated: false });
}

test("unknown top-level key", async () => {
  const text = modelYaml("a", "dcerpc", CONDITION, "severity: high");
  const error = await loadError({ "a.yaml": text });
  assert.is(error.code, "model.unknown_key");
  assert.is(error.key, "severity");
  assert.ok(error.file.endsWith("a.yaml"));
  assert.is(error.line, 10);
  assert.match(error.message, /a\.yaml line 10: unknown key "severity"/);
  assert.match(error.message, /allowed keys: id, name, record/);
});

test("unknown key inside a condition", async () => {
  const text = modelYaml("a", "dcerpc", "  - field: opnum\n    equals: 0\n    negate: true");
  const error = await loadError({ "a.yaml": text });
  assert.is(error.code, "model.unknown_key");
  assert.is(error.key, "negate");
  assert.is(error.line, 10);
  assert.match(error.message, /conditions\[0\]/);
});

test("wrong type for score", async () => {
  const text = modelYaml("a", "dcerpc", CONDITION).replace("score: 60", 'score: "60"');
  const error = await loadError({ "a.yaml": text });
  assert.is(error.code, "model.value_invalid");
  assert.is(error.key, "score");
  assert.is(error.line, 5);
  assert.match(error.message, /score is "60", but it must be integer/);
});

test("missing mitre", async () => {
  const text = modelYaml("a", "dcerpc", CONDITION).replace("mitre: [T1053.002]\n", "");
  const error = await loadError({ "a.yaml": text });
  assert.is(error.code, "model.missing_key");
  assert.is(error.key, "mitre");
  assert.is(error.line, 1);
  assert.match(error.message, /missing the required key "mitre"/);
});

test("malformed technique id", async () => {
  const text = modelYaml("a", "dcerpc", CONDITION).replace("[T1053.002]", "[T1053.2]");
  const error = await loadError({ "a.yaml": text });
  assert.is(error.code, "model.value_invalid");
  assert.is(error.line, 6);
  assert.match(error.message, /ATT&CK technique id/);
});

test("unknown record type lists allowed values", async () => {
  const error = await loadError({ "a.yaml": modelYaml("a", "gopher", CONDITION) });
  assert.is(error.key, "record");
  assert.is(error.line, 3);
  assert.match(error.message, /"modbus", "smb", "dcerpc", "ntlm"/);
});

test("condition with two operators", async () => {
  const error = await loadError({ "a.yaml": modelYaml("a", "dcerpc", "  - field: opnum\n    equals: 0\n    in: [1]") });
  assert.is(error.code, "model.condition_invalid");
  assert.is(error.line, 8);
  assert.match(error.message, /exactly one operator/);
});

test("range with min above max", async () => {
  const error = await loadError({ "a.yaml": modelYaml("a", "modbus", "  - field: quantity\n    range: {min: 10, max: 2}") });
  assert.is(error.code, "model.value_invalid");
  assert.is(error.line, 9);
});

test("invalid YAML syntax", async () => {
  const error = await loadError({ "a.yaml": "id: a\nname: [unclosed\n" });
  assert.is(error.code, "model.yaml_invalid");
  assert.is.not(error.line, undefined);
  assert.ok((error.line ?? 0) >= 2, `line ${error.line} is before the broken line`);
});

test("duplicate key in YAML", async () => {
  const error = await loadError({ "a.yaml": modelYaml("a", "dcerpc", CONDITION) + "score: 10\n" });
  assert.is(error.code, "model.yaml_invalid");
});

test("duplicate model id across files", async () => {
  const error = await loadError({ "a.yaml": modelYaml("same", "dcerpc", CONDITION), "b.yaml": modelYaml("same", "dcerpc", CONDITION) });
  assert.is(error.code, "model.duplicate_id");
  assert.ok(error.file.endsWith("b.yaml"));
  assert.is(error.line, 1);
});

test("one broken file stops loading", async () => {
  const error = await loadError({ "a.yaml": modelYaml("a", "dcerpc", CONDITION), "b.yaml": modelYaml("b", "dcerpc", CONDITION, "extra: 1") });
  assert.ok(error.file.endsWith("b.yaml"));
});

test("empty folder is an error", async () => {
  const error = await loadError({ "README.md": "no models here" });
  assert.is(error.code, "model.folder_empty");
});

test("unknown field name reported at install", async () => {
  const dir = modelFolder({ "a.yaml": modelYaml("a", "dcerpc", "  - field: opnum\n    equals: 0\n  - field: opnumber\n    equals: 1") });
  const set = await loadModelSet(dir);
  const engine = await Engine.create();
  try {
    set.install(engine);
    assert.unreachable("install accepted an unknown field");
  } catch (error) {
    assert.instance(error, ModelError);
    const e = error as ModelError;
    assert.is(e.code, "model.unknown_field");
    assert.is(e.line, 10);
    assert.is(e.key, "field");
    assert.match(e.message, /"opnumber"/);
  }
});

test("field of another record type", async () => {
  const dir = modelFolder({ "a.yaml": modelYaml("a", "dcerpc", "  - field: function_code\n    equals: 6") });
  const set = await loadModelSet(dir);
  const engine = await Engine.create();
  try {
    set.install(engine);
    assert.unreachable("install accepted a Modbus field on dcerpc records");
  } catch (error) {
    const e = error as ModelError;
    assert.is(e.code, "model.unknown_field");
    assert.is(e.line, 8);
    // S7comm (and other OT protocols) name a field function_code too.
    assert.match(e.message, /belongs to modbus( and \w+)* records/);
  }
});

test("modbus_master scorer on a dcerpc model", async () => {
  const dir = modelFolder({ "a.yaml": modelYaml("a", "dcerpc", CONDITION, "scorer:\n  name: modbus_master") });
  const set = await loadModelSet(dir);
  const engine = await Engine.create();
  try {
    set.install(engine);
    assert.unreachable("install accepted modbus_master on dcerpc records");
  } catch (error) {
    assert.is((error as ModelError).code, "model.scorer_invalid");
    assert.is((error as ModelError).line, 11);
  }
});

test("shipped models load and install", async () => {
  const set = await loadModelSet();
  const ids = set.models.map((m) => m.id);
  for (const id of ["remote-task-atsvc", "remote-task-tsch-register", "remote-task-sasec", "remote-service-svcctl", "modbus-write-not-master"]) {
    assert.ok(ids.includes(id), `model ${id} is missing`);
  }
  for (const m of set.models) {
    assert.ok(m.logic.length > 40, `model ${m.id} has no real logic text`);
    assert.ok(m.mitre.length > 0);
    assert.is(set.byIndex(m.index), m);
  }
  const engine = await Engine.create();
  set.install(engine);
  assert.is(set.byIndex(set.models.length), undefined);
  assert.ok(set.models.every((m) => m.file.startsWith(join(process.cwd(), "models")) || m.file.includes("/models/")));
});

test("long values are shortened in errors", async () => {
  const list = Array.from({ length: 300 }, (_, i) => i).join(", ");
  const error = await loadError({ "a.yaml": modelYaml("a", "dcerpc", `  - field: opnum\n    in: [${list}]`) });
  assert.ok(error.message.length < 400, `${error.message.length} characters`);
  assert.match(error.message, /conditions\[0\]\.in is \[0,1,2,.*\.\.\. \(a list of 300 items\), but it must not have more than 255 items/);
});

test.run();
