// The standalone validators that `npm run build` writes for the model and
// profile schemas must reject what the run-time compiled ones reject, with the
// same error objects, because the file loaders build their messages from them.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../helpers/captures.js";
import {
  compileFileSchema, loadStandaloneValidator, standaloneValidatorFile, writeStandaloneValidators,
} from "../../agent/src/config/schema-validators.js";

const MODEL_SCHEMA = join(repoRoot, "models", "model.schema.json");
const PROFILE_SCHEMA = join(repoRoot, "firmware-profiles", "profile.schema.json");

// Inside the package, so that the generated code finds ajv's runtime modules.
function temporaryDir(): string {
  const parent = join(repoRoot, ".cache");
  mkdirSync(parent, { recursive: true });
  return mkdtempSync(join(parent, "schema-validators-"));
}

const model = {
  id: "modbus-write", name: "Modbus write", record: "modbus", logic: "a write", score: 40, mitre: ["T0855"],
  conditions: [{ field: "function_code", in: [5, 6, 15, 16] }],
};
const profile = {
  id: "plc", name: "PLC", protocol: "modbus", match: { addresses: ["10.0.0.1"] },
  sources: [{ title: "manual", url: "https://example.com/manual.pdf" }],
};

const cases: [string, string, unknown, boolean][] = [
  ["model valid", MODEL_SCHEMA, model, true],
  ["model not an object", MODEL_SCHEMA, 5, false],
  ["model missing id", MODEL_SCHEMA, { ...model, id: undefined }, false],
  ["model score too high", MODEL_SCHEMA, { ...model, score: 500 }, false],
  ["model bad mitre id", MODEL_SCHEMA, { ...model, mitre: ["T1"] }, false],
  ["model empty contains", MODEL_SCHEMA, { ...model, conditions: [{ field: "function", contains: "" }] }, false],
  ["model unknown key", MODEL_SCHEMA, { ...model, extra: 1 }, false],
  ["profile valid", PROFILE_SCHEMA, profile, true],
  ["profile wrong protocol", PROFILE_SCHEMA, { ...profile, protocol: "dnp3" }, false],
  ["profile missing sources", PROFILE_SCHEMA, { ...profile, sources: undefined }, false],
  ["profile bad range", PROFILE_SCHEMA, { ...profile, registers: { coils: { readable: [{ first: "a", last: 2 }] } } }, false],
];

test("standalone validators match compiled", () => {
  const dir = temporaryDir();
  try {
    writeStandaloneValidators(dir, [MODEL_SCHEMA, PROFILE_SCHEMA]);
    for (const [name, schemaPath, value, valid] of cases) {
      const text = readFileSync(schemaPath, "utf8");
      const standalone = loadStandaloneValidator(dir, schemaPath, text);
      assert.ok(standalone, `${name}: standalone validator loaded`);
      const compiled = compileFileSchema(text);
      const data = JSON.parse(JSON.stringify(value));
      assert.is(compiled(data), valid, `${name}: compiled result`);
      assert.is(standalone!(data), valid, `${name}: standalone result`);
      assert.equal(standalone!.errors ?? null, compiled.errors ?? null, `${name}: errors`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("standalone validator of another schema text ignored", () => {
  const dir = temporaryDir();
  try {
    const schemaPath = join(dir, "model.schema.json");
    const text = readFileSync(MODEL_SCHEMA, "utf8");
    writeFileSync(schemaPath, text);
    writeStandaloneValidators(dir, [schemaPath]);
    assert.ok(loadStandaloneValidator(dir, schemaPath, text));
    assert.is(loadStandaloneValidator(dir, schemaPath, text.replace('"maximum": 100', '"maximum": 99')), undefined);
    rmSync(standaloneValidatorFile(dir, schemaPath));
    assert.is(loadStandaloneValidator(dir, schemaPath, text), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
