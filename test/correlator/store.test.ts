import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { AlertIdentity, type Alert } from "../../agent/src/publish/alert.js";
import { incidentScore, Store } from "../../correlator/src/store.js";
import { alertRecord, modbusAlertRecord, OFFICE, PLC, sampleAlert, smbCopyRecords, WORKSTATION } from "../publish/samples.js";

const HOUR = 3600;
const T0 = 1_773_129_640;

function alertAt(offsetSec: number, src: string, dst: string, site = "plant-a"): Alert {
  return sampleAlert(site, "gw-1", alertRecord({ tsSec: T0 + offsetSec, src, dst }), new AlertIdentity());
}

test("store duplicate alert id ignored", () => {
  const store = new Store(":memory:");
  const alert = sampleAlert();
  assert.is(store.insertAlert(alert).stored, true);
  assert.equal(store.insertAlert(alert), { stored: false, reason: "duplicate" });
  assert.is(store.countAlerts(), 1);
  store.close();
});

test("incident grows on a shared host", () => {
  const store = new Store(":memory:");
  const first = store.insertAlert(sampleAlert());
  const second = store.insertAlert(sampleAlert("plant-a", "gw-1", modbusAlertRecord()));
  assert.ok(first.stored);
  assert.ok(second.stored);
  if (!first.stored || !second.stored) return;
  assert.is(second.incidentId, first.incidentId);
  assert.equal(store.incident(first.incidentId)!.hosts, [OFFICE, WORKSTATION, PLC].sort());
  store.close();
});

test("incident split by window and site", () => {
  const store = new Store(":memory:");
  const base = store.insertAlert(alertAt(0, OFFICE, WORKSTATION));
  const late = store.insertAlert(alertAt(2 * HOUR, OFFICE, WORKSTATION));
  const otherSite = store.insertAlert(alertAt(60, OFFICE, WORKSTATION, "plant-b"));
  const unrelated = store.insertAlert(alertAt(60, "10.20.0.1", "10.20.0.2"));
  const ids = [base, late, otherSite, unrelated].map((r) => (r.stored ? r.incidentId : -1));
  assert.is(new Set(ids).size, 4, `incident ids ${ids}`);
  store.close();
});

test("incident merge when an alert bridges two", () => {
  const store = new Store(":memory:");
  const a = store.insertAlert(alertAt(0, OFFICE, WORKSTATION));
  const b = store.insertAlert(alertAt(30, "10.10.3.3", PLC));
  const bridge = store.insertAlert(alertAt(60, WORKSTATION, PLC));
  assert.ok(a.stored);
  assert.ok(b.stored);
  assert.ok(bridge.stored);
  if (!a.stored || !b.stored || !bridge.stored) return;
  assert.is.not(a.incidentId, b.incidentId);
  assert.is(bridge.incidentId, a.incidentId);
  assert.equal(bridge.mergedIncidentIds, [b.incidentId]);
  assert.is(store.incident(b.incidentId), undefined);
  assert.is(store.alertsOfIncident(a.incidentId).length, 3);
  assert.is(store.incidents().length, 1);
  store.close();
});

test("incident score bonus per model and technique", () => {
  const svc = sampleAlert();
  const modbus = sampleAlert("plant-a", "gw-1", modbusAlertRecord());
  assert.is(incidentScore([]), 0);
  // One model, two techniques: 80 + 5.
  assert.is(incidentScore([svc]), 85);
  assert.is(incidentScore([svc, { ...svc, id: "x" }]), 85);
  // Two models (+5) and four techniques (+15), capped at +20.
  assert.is(incidentScore([svc, modbus]), 100);
  const low = { ...modbus, score: 40, mitre: ["T0855"] };
  assert.is(incidentScore([low]), 40);
  assert.is(incidentScore([low, { ...low, model: "other", mitre: ["T0836"] }]), 50);
});

test("store records deduplicated and queried", () => {
  const store = new Store(":memory:");
  for (const record of smbCopyRecords()) assert.is(store.insertRecord("plant-a", "gw-1", record), true);
  for (const record of smbCopyRecords()) assert.is(store.insertRecord("plant-a", "gw-1", record), false);
  assert.is(store.countRecords(), 3);
  const from = Date.parse("2026-03-10T08:00:00Z");
  const to = Date.parse("2026-03-10T09:00:00Z");
  assert.is(store.recordsBetween("plant-a", [OFFICE, WORKSTATION], "smb", from, to).length, 3);
  assert.is(store.recordsBetween("plant-a", [OFFICE, PLC], "smb", from, to).length, 0);
  assert.is(store.recordsBetween("plant-b", [OFFICE, WORKSTATION], "smb", from, to).length, 0);
  store.close();
});

test("store history between two hosts", () => {
  const store = new Store(":memory:");
  store.insertAlert(alertAt(-3 * 24 * HOUR, OFFICE, WORKSTATION));
  store.insertAlert(alertAt(-2 * 24 * HOUR, WORKSTATION, OFFICE));
  store.insertRecord("plant-a", "gw-1", smbCopyRecords("2026-03-09T08:00:40")[0]);
  const history = store.history("plant-a", OFFICE, WORKSTATION, T0 * 1000);
  assert.is(history.alerts, 2);
  assert.is(history.records, 1);
  assert.is(history.days, 3);
  assert.is(history.firstTs, "2026-03-07T08:00:40.660000Z");
  assert.is(store.history("plant-a", OFFICE, PLC, T0 * 1000).alerts, 0);
  store.close();
});

test("store schema version mismatch", () => {
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-store-"));
  try {
    const path = join(dir, "c.db");
    new Store(path).close();
    const db = new Database(path);
    db.prepare("UPDATE schema_version SET version = 99").run();
    db.close();
    assert.throws(() => new Store(path), /schema version 99/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("store uses WAL journal", () => {
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-store-"));
  try {
    const store = new Store(join(dir, "c.db"));
    assert.is(store.db.pragma("journal_mode", { simple: true }), "wal");
    store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
