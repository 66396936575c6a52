// Model conditions are checked against the value types the core writes for
// each field (build/field-types.json from scripts/field-types.mjs): a value
// that its field can never hold is an error at load time, not a model that
// silently never fires.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { Core, type CoreRecord } from "../../agent/src/core/core.js";
import { compileModelTable, fieldIdsOf, ModelError, parseModelFile } from "../../agent/src/core/models.js";
import { describeValueTypes, type FieldValueTypes } from "../../agent/src/core/field-types.js";
import { capturesDir, capture } from "../helpers/captures.js";
import { captureFeed } from "../helpers/core-run.js";
import { modelYaml } from "./engine.js";

let core: Core;
let types: FieldValueTypes;

test.before(async () => {
  core = await Core.load();
  if (!core.fieldValueTypes) throw new Error("build/field-types.json is missing; run npm run build:core");
  types = core.fieldValueTypes;
});

function compile(record: string, conditions: string): Uint8Array {
  const model = parseModelFile("typed.yaml", modelYaml("typed", record, conditions));
  return compileModelTable([model], fieldIdsOf(core), types);
}

function compileError(record: string, conditions: string): ModelError {
  try {
    compile(record, conditions);
  } catch (error) {
    if (error instanceof ModelError) return error;
    throw error;
  }
  throw new Error(`the condition compiled: ${conditions}`);
}

test("quoted number on numeric field", () => {
  const error = compileError("modbus", '  - field: pdu_type\n    equals: request\n  - field: function_code\n    equals: "41"');
  assert.is(error.code, "model.value_type");
  assert.match(error.message, /typed\.yaml line 11: conditions\[1\]\.equals on function_code can never hold in modbus records/);
  assert.match(error.message, /the value "41" is text, but the field holds a number; write 41 without quotes/);
});

test("operand types need matching fields", () => {
  assert.match(compileError("smb", "  - field: share\n    in: [\"C$\", 5]").message, /the value 5 is a number, but the field holds text; write "5" in quotes/);
  assert.match(compileError("modbus", "  - field: function_code\n    contains: \"1\"").message, /contains needs text, but the field holds a number; use equals, in or range/);
  assert.match(compileError("smb", "  - field: share\n    range: { min: 1, max: 2 }").message, /range needs numbers, but the field holds text/);
  assert.match(compileError("modbus", "  - field: function_code\n    in: [3, \"write\"]").message, /the value "write" is text.*compare it with a number/);
});

test("matching conditions still compile", () => {
  compile("modbus", "  - field: function_code\n    in: [5, 6, 15, 16]\n  - field: function\n    ends_with: _COILS");
  compile("modbus", "  - field: run_indicator\n    equals: true");
  compile("modbus", "  - field: values_truncated\n    equals: 1");
  compile("dcerpc", "  - field: opnum\n    range: { min: 0, max: 3 }\n  - field: named_pipe\n    not_in: [lsarpc]");
  compile("smb", "  - field: share\n    exists: true");
});

test("every named field has types", () => {
  const missing: string[] = [];
  for (let id = 1; id < 1200; id++) {
    const name = core.fieldName(id);
    if (name && !types.get(id)?.length) missing.push(`${id} ${name}`);
  }
  assert.equal(missing, [], "fields without value types (extend scripts/field-types.mjs to trace their writer)");
});

// The JSON types of decoded values, by the core's value types that produce them.
function jsonKinds(types: readonly number[]): Set<string> {
  const kinds = new Set<string>();
  for (const t of types) {
    if (t === 4) kinds.add("boolean");
    else if (t === 2 || t === 3) kinds.add("string");
    else kinds.add("number");
  }
  return kinds;
}

test("real record values match the table", async () => {
  const files: string[] = [];
  for (const folder of ["modbus", "smb", "dcerpc", "ntlm", "s7comm", "dnp3", "mixed"]) {
    const dir = capture(folder);
    if (!dir) return;
    for (const name of readdirSync(dir)) if (/\.(pcap|pcapng|cap)$/.test(name)) files.push(join(capturesDir, folder, name));
  }
  const idsByName = fieldIdsOf(core);
  const wrong = new Set<string>();
  let values = 0;
  const check = (record: CoreRecord) => {
    for (const [name, value] of Object.entries(record.fields)) {
      const ids = idsByName.get(name);
      if (!ids) continue; // names the host adds, not the core
      const allowed = new Set(ids.flatMap((id) => [...jsonKinds(types.get(id) ?? [])]));
      for (const v of Array.isArray(value) ? value : [value]) {
        values++;
        if (!allowed.has(typeof v)) {
          wrong.add(`${record.type}.${name}: a ${typeof v} value, but the table says ${describeValueTypes(ids.flatMap((id) => [...(types.get(id) ?? [])]))}`);
        }
      }
    }
  };
  for (const file of files) await captureFeed(file)(core, check);
  core.finish(check);
  assert.ok(values > 10_000, `only ${values} field values were checked`);
  assert.equal([...wrong], []);
});

test.run();
