// `fieldsense models list|show`: the shipped models in words, and errors for
// a wrong id or an invalid model file.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { main } from "../../agent/src/cli/main.js";
import { modelFolder, modelYaml } from "./engine.js";

async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, { stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; } });
  return { code, stdout, stderr };
}

test("models list names every shipped model", async () => {
  const result = await run("models", "list");
  assert.is(result.code, 0, result.stderr);
  assert.match(result.stdout, /^ID\s+SCORE\s+RECORD\s+NAME/);
  assert.match(result.stdout, /remote-task-atsvc\s+80\s+dcerpc\s+Remote scheduled task created over ATSVC/);
  assert.match(result.stdout, /ot-beaconing\s+75\s+modbus/);
});

test("models show explains a model", async () => {
  const result = await run("models", "show", "remote-task-atsvc");
  assert.is(result.code, 0, result.stderr);
  assert.match(result.stdout, "NetrJobAdd (opnum 0)");
  assert.match(result.stdout, '  - opnum is 0');
  assert.match(result.stdout, "Frequency: every matching record");
  assert.match(result.stdout, "a daily routine at its usual hour");
  assert.match(result.stdout, "ATT&CK: T1053.002");
});

test("models show describes a frequency", async () => {
  const dir = modelFolder({ "f.yaml": modelYaml("f", "dcerpc", "  - field: opnum\n    in: [0, 1]", "frequency:\n  count: 3\n  within: 600\n  by: [src]") });
  const result = await run("models", "show", "f", "--models", dir);
  assert.is(result.code, 0, result.stderr);
  assert.match(result.stdout, "more than 2 matching records within 600 s with the same src");
  assert.match(result.stdout, "  - opnum is one of 0, 1");
});

test("models show of an unknown id", async () => {
  const result = await run("models", "show", "no-such-model");
  assert.is(result.code, 1);
  assert.match(result.stderr, 'model "no-such-model" not found');
});

test("models list of an invalid file", async () => {
  const dir = modelFolder({ "bad.yaml": modelYaml("bad", "dcerpc", "  - field: opnum\n    equals: 0").replace("score: 60", "score: 160") });
  const result = await run("models", "list", "--models", dir);
  assert.is(result.code, 1);
  assert.match(result.stderr, "bad.yaml line 5");
});

test("models without an action", async () => {
  const result = await run("models");
  assert.is(result.code, 2);
  assert.match(result.stderr, 'use "models list" or "models show ID"');
});

test("models list and show of a field typo", async () => {
  const dir = modelFolder({ "typo.yaml": modelYaml("typo", "dnp3", "  - field: commnd\n    equals: 1") });
  for (const argv of [["list"], ["show", "typo"]]) {
    const result = await run("models", ...argv, "--models", dir);
    assert.is(result.code, 1, `models ${argv.join(" ")}: ${result.stdout}`);
    assert.match(result.stderr, "typo.yaml line");
    assert.match(result.stderr, 'field "commnd" is not a record field of this core');
  }
});

test.run();
