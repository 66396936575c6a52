// Node ids, learned names, accounts and edges of the entity graph.
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { RecordJson } from "../../agent/src/publish/record.js";
import { alertGraph, deviceFacts, fileId, learnedNames, recordAccount } from "../../correlator/src/graph.js";
import { modbusAlertRecord, OFFICE, PLC, sampleAlert, WORKSTATION } from "../publish/samples.js";

function record(type: string, fields: Record<string, unknown>): RecordJson {
  return { type, ts: "2026-03-10T08:00:00.000000Z", src: { ip: "10.0.0.1", port: 50000 }, dst: { ip: "10.0.0.2", port: 445 }, flow_id: 1, ...fields } as RecordJson;
}

test("names learned from records", () => {
  assert.equal(learnedNames(record("ntlm", { workstation: "ENG-WS01" })), [["10.0.0.1", "ENG-WS01", "ntlm"]]);
  assert.equal(learnedNames(record("smb", { share: "\\\\dc1\\ADMIN$" })), [["10.0.0.2", "dc1", "smb"]]);
  // A share path by IP teaches no name.
  assert.equal(learnedNames(record("smb", { share: "\\\\10.0.0.2\\C$" })), []);
  assert.equal(learnedNames(record("dns", { query: "hmi01.plant.local", answers: ["10.0.5.5", "not-an-ip"] })), [["10.0.5.5", "hmi01.plant.local", "dns"]]);
  assert.equal(learnedNames(record("modbus", { share: "\\\\x\\y" })), []);
});

test("accounts from ntlm and kerberos", () => {
  assert.is(recordAccount(record("ntlm", { domain: "PLANT", user: "m.keller" })), "PLANT\\m.keller");
  assert.is(recordAccount(record("ntlm", { user: "guest" })), "guest");
  assert.is(recordAccount(record("ntlm", { domain: "PLANT" })), undefined);
  assert.is(recordAccount(record("kerberos", { client: "m.keller", client_realm: "PLANT.LOCAL", realm: "OTHER" })), "m.keller@PLANT.LOCAL");
  assert.is(recordAccount(record("kerberos", { client: "m.keller", realm: "PLANT.LOCAL" })), "m.keller@PLANT.LOCAL");
  assert.is(recordAccount(record("kerberos", { client: "m.keller" })), "m.keller");
});

test("file ids by hash or path", () => {
  const hash = "A".repeat(64);
  assert.is(fileId({ sha256: hash, path: "x.exe" }, "10.0.0.2"), `file:sha256:${"a".repeat(64)}`);
  assert.is(fileId({ share: "\\\\DC1\\ADMIN$", path: "PSEXESVC.exe" }, "10.0.0.2"), "file:path:\\\\dc1\\admin$\\psexesvc.exe");
  assert.is(fileId({ file: "\\tools\\x.ps1" }, "10.0.0.2"), "file:path:\\\\10.0.0.2\\tools\\x.ps1");
  assert.is(fileId({ sha256: "short" }, "10.0.0.2"), undefined);
});

test("alert graph edges", () => {
  const svc = sampleAlert();
  const graph = alertGraph(svc);
  assert.equal(graph.entities, ["account:plant\\m.keller"]);
  assert.equal(graph.edges.map((edge) => [edge.from, edge.to, edge.kind]), [
    [`host:${OFFICE}`, `host:${WORKSTATION}`, "alert"],
    ["account:plant\\m.keller", `host:${WORKSTATION}`, "logon"],
  ]);
  const modbus = alertGraph(sampleAlert("plant-a", "gw-1", modbusAlertRecord()));
  assert.equal(modbus.edges.map((edge) => [edge.from, edge.to, edge.kind]), [[`host:${OFFICE}`, `ot_device:${PLC}`, "alert"]]);
  // A named pipe is no file.
  const pipe = alertGraph({ ...svc, evidence: { ...svc.evidence, share: "\\\\ws\\IPC$", file: "svcctl", named_pipe: "svcctl" } });
  assert.not.ok(pipe.entities.some((id) => id.startsWith("file:")));
  const copy = alertGraph({ ...svc, evidence: { share: "\\\\ws\\ADMIN$", file: "upd4te.exe" } });
  assert.ok(copy.edges.some((edge) => edge.kind === "file_write" && edge.to === "file:path:\\\\ws\\admin$\\upd4te.exe"));
});

test("device facts only from ot records", () => {
  assert.equal(deviceFacts(record("modbus", { vendor_name: "ACME", revision: "1.2", vendor_id: 42, other: "x" })),
    [["vendor_name", "ACME"], ["vendor_id", "42"], ["revision", "1.2"]]);
  assert.equal(deviceFacts(record("smb", { vendor_name: "ACME" })), []);
});

test.run();
