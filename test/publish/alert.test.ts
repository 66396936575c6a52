import { test } from "uvu";
import * as assert from "uvu/assert";
import { AlertIdentity, buildAlert, formatAlertText } from "../../agent/src/publish/alert.js";
import { evidenceFromFields } from "../../agent/src/publish/evidence.js";
import { loadValidators } from "../../agent/src/publish/schemas.js";
import { alertRecord, modbusAlertRecord, sampleAlert, svcctlModel } from "./samples.js";

const validators = loadValidators();

test("alert schema accepts a built alert", () => {
  const alert = sampleAlert();
  const check = validators.alert(alert);
  assert.ok(check.valid, check.firstError);
  const modbus = sampleAlert("plant-a", "gw-1", modbusAlertRecord());
  assert.ok(validators.alert(modbus).valid, validators.alert(modbus).firstError);
});

test("alert schema rejects invalid samples", () => {
  const cases: [string, (a: Record<string, unknown>) => void, string][] = [
    ["missing id", (a) => { delete a.id; }, "required"],
    ["score above 100", (a) => { a.score = 101; }, "/score"],
    ["fractional score", (a) => { a.score = 50.5; }, "/score"],
    ["bad ATT&CK id", (a) => { a.mitre = ["T15"]; }, "/mitre/0"],
    ["port out of range", (a) => { a.src = { ip: "10.0.0.1", port: 70000 }; }, "/src/port"],
    ["address not an IP", (a) => { a.dst = { ip: "plc.local", port: 502 }; }, "/dst/ip"],
    ["time without zone", (a) => { a.ts = "2026-03-10T08:00:40"; }, "/ts"],
    ["unknown member", (a) => { a.verdict = "bad"; }, "verdict"],
    ["site with a topic separator", (a) => { a.site = "plant/a"; }, "/site"],
    ["evidence name not snake_case", (a) => { a.evidence = { ServiceName: "x" }; }, "/evidence"],
    ["context without seen_before", (a) => { a.context = {}; }, "/context"],
    ["other schema version", (a) => { a.version = 2; }, "/version"],
  ];
  for (const [name, mutate, where] of cases) {
    const alert = JSON.parse(JSON.stringify(sampleAlert())) as Record<string, unknown>;
    mutate(alert);
    const check = validators.alert(alert);
    assert.is(check.valid, false, `${name} was accepted`);
    assert.ok(check.firstError?.includes(where), `${name}: error "${check.firstError}" does not mention ${where}`);
  }
});

test("alert id stable across replays", () => {
  const first = sampleAlert("plant-a", "gw-1", alertRecord(), new AlertIdentity());
  const again = sampleAlert("plant-a", "gw-1", alertRecord(), new AlertIdentity());
  assert.is(first.id, again.id);
  assert.match(first.id, /^[0-9a-f]{32}$/);
});

test("alert id ignores the core flow id", () => {
  const record = alertRecord();
  const renumbered = { ...alertRecord(), flowId: 9001 };
  assert.is(sampleAlert("s", "g", record).id, sampleAlert("s", "g", renumbered).id);
});

test("alert id differs for different alerts", () => {
  const base = sampleAlert("plant-a", "gw-1");
  const ids = new Set([
    base.id,
    sampleAlert("plant-b", "gw-1").id,
    sampleAlert("plant-a", "gw-2").id,
    sampleAlert("plant-a", "gw-1", alertRecord({ tsNsec: 660_000_001 })).id,
    sampleAlert("plant-a", "gw-1", alertRecord({ src: "10.10.0.56" })).id,
    sampleAlert("plant-a", "gw-1", modbusAlertRecord()).id,
  ]);
  const otherEvidence = alertRecord();
  otherEvidence.fields = { ...otherEvidence.fields, service_name: "OtherSvc" };
  ids.add(sampleAlert("plant-a", "gw-1", otherEvidence).id);
  assert.is(ids.size, 7);
});

test("alert id unique for identical repeats", () => {
  const identity = new AlertIdentity();
  const first = sampleAlert("s", "g", alertRecord(), identity);
  const second = sampleAlert("s", "g", alertRecord(), identity);
  assert.is.not(first.id, second.id);
  const replay = new AlertIdentity();
  assert.is(sampleAlert("s", "g", alertRecord(), replay).id, first.id);
  assert.is(sampleAlert("s", "g", alertRecord(), replay).id, second.id);
});

test("alert members from record and model", () => {
  const alert = sampleAlert();
  assert.is(alert.type, "alert");
  assert.is(alert.ts, "2026-03-10T08:00:40.660000Z");
  assert.is(alert.model, svcctlModel.id);
  assert.is(alert.name, svcctlModel.name);
  assert.is(alert.logic, svcctlModel.logic);
  assert.equal(alert.mitre, ["T1569.002", "T1543.003"]);
  assert.equal(alert.src, { ip: "10.10.0.55", port: 50112 });
  assert.equal(alert.dst, { ip: "10.10.1.20", port: 445 });
  assert.is(alert.account, "PLANT\\m.keller");
  assert.is(alert.score, 80);
  assert.is(alert.learning, false);
  assert.is(alert.context.seen_before, false);
  assert.is(alert.context.routine, false);
  assert.is(alert.context.summary, "new: first time seen between these hosts");
  assert.ok(Array.isArray(alert.why));
});

test("alert score clamped and model score fallback", () => {
  const high = alertRecord();
  high.fields = { ...high.fields, score: 250 };
  assert.is(sampleAlert("s", "g", high).score, 100);
  const none = alertRecord();
  const { score: _ignored, ...rest } = none.fields;
  none.fields = rest;
  assert.is(sampleAlert("s", "g", none).score, svcctlModel.score);
});

test("alert context first_seen from seconds", () => {
  const record = alertRecord();
  record.fields = { ...record.fields, seen_before: true, first_seen: 1_772_000_000 };
  const alert = buildAlert(record, svcctlModel, { site: "s", gateway: "g" }, new AlertIdentity());
  assert.is(alert.context.seen_before, true);
  assert.is(alert.context.first_seen, "2026-02-25T06:13:20.000Z");
  assert.is(alert.context.summary, "seen before between these hosts, first on 2026-02-25");
  assert.ok(validators.alert(alert).valid, validators.alert(alert).firstError);
});

test("evidence mapping renames path and drops verdict", () => {
  const { evidence, account } = evidenceFromFields({
    model_index: 3, score: 50, learning: true, seen_before: false, first_seen: 0,
    path: "upd4te.exe", share: "\\\\10.10.1.20\\ADMIN$", user: "m.keller", domain: "PLANT",
  });
  assert.equal(evidence, { file: "upd4te.exe", share: "\\\\10.10.1.20\\ADMIN$", user: "m.keller", domain: "PLANT" });
  assert.is(account, "PLANT\\m.keller");
});

test("evidence mapping without account", () => {
  const { evidence, account } = evidenceFromFields({ function_code: 16, unit_id: 1 });
  assert.equal(evidence, { function_code: 16, unit_id: 1 });
  assert.is(account, undefined);
});

test("alert text block for people", () => {
  const text = formatAlertText(sampleAlert());
  assert.ok(text.includes("score 80"), text);
  assert.ok(text.includes("10.10.0.55:50112 -> 10.10.1.20:445"), text);
  assert.ok(text.includes("account PLANT\\m.keller"), text);
  assert.ok(text.includes("operation=CreateServiceW"), text);
  assert.ok(text.includes("binary_path=%SystemRoot%\\upd4te.exe"), text);
  assert.ok(text.includes("first time seen"), text);
});

test.run();
