import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { AlertIdentity, type Alert } from "../../agent/src/publish/alert.js";
import { incidentScore, scoreIncident, Store } from "../../correlator/src/store.js";
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

test("incident score explained with its numbers", () => {
  assert.equal(scoreIncident({ maxScore: 80, models: 2, techniques: 2 }), {
    score: 90,
    explanation: "90 = highest alert score 80 + bonus 10 (5 x (1 extra model(s) + 1 extra ATT&CK technique(s)) = 10)",
  });
  assert.equal(scoreIncident({ maxScore: 80, models: 3, techniques: 4 }), {
    score: 100,
    explanation: "100 = highest alert score 80 + bonus 20 (5 x (2 extra model(s) + 3 extra ATT&CK technique(s)) = 25, capped at 20)",
  });
  assert.equal(scoreIncident({ maxScore: 95, models: 3, techniques: 4 }).explanation,
    "100 = highest alert score 95 + bonus 20 (5 x (2 extra model(s) + 3 extra ATT&CK technique(s)) = 25, capped at 20); the sum 115 is capped at 100");
  assert.is(scoreIncident({ maxScore: 0, models: 0, techniques: 0 }).score, 0);
});

test("incident of 100,000 alerts keeps aggregates", () => {
  const store = new Store(":memory:");
  const base = sampleAlert();
  const models = ["remote-service-svcctl", "smb-admin-share-write", "modbus-write-unexpected-host"];
  const count = 100_000;
  store.db.transaction(() => {
    for (let i = 0; i < count; i++) {
      const alert: Alert = {
        ...base,
        id: `bulk-${i}`,
        ts: new Date((T0 + i) * 1000).toISOString(),
        model: models[i % models.length],
        // 60 to 89, and one alert at 97.
        score: i === 77_777 ? 97 : 60 + (i % 30),
        mitre: i % 2 === 0 ? ["T1569.002"] : ["T1021.002", "T0836"],
      };
      const result = store.insertAlert(alert);
      if (!result.stored || result.incidentId !== 1) throw new Error(`alert ${i} was not added to incident 1: ${JSON.stringify(result)}`);
    }
  })();

  const incident = store.incident(1)!;
  assert.is(incident.alertCount, count);
  assert.is(incident.maxAlertScore, 97);
  assert.equal(incident.models, [...models].sort());
  assert.equal(incident.techniques, ["T0836", "T1021.002", "T1569.002"]);
  assert.equal(incident.hosts, [OFFICE, WORKSTATION].sort());
  assert.is(incident.firstMs, T0 * 1000);
  assert.is(incident.lastMs, (T0 + count - 1) * 1000);
  // 97 + 5 x (2 extra models + 2 extra techniques) = 117, capped at 100.
  assert.is(incident.score, 100);
  assert.is(incidentScore(store.alertsOfIncident(1)), 100);
  const summaries = store.modelSummaries(1);
  assert.equal(summaries.map((m) => [m.model, m.alerts]), models.map((model, i) => [model, i === 0 ? 33_334 : 33_333]));
  assert.is(summaries.find((m) => m.model === models[77_777 % 3])!.maxScore, 97);
  store.close();
});

test("incident aggregates after a merge", () => {
  const store = new Store(":memory:");
  const a = store.insertAlert(alertAt(0, OFFICE, WORKSTATION));
  const b = store.insertAlert({ ...alertAt(30, "10.10.3.3", PLC), model: "other-model", score: 90, mitre: ["T0836"] });
  const bridge = store.insertAlert(alertAt(60, WORKSTATION, PLC));
  if (!a.stored || !b.stored || !bridge.stored) throw new Error("an alert was not stored");
  const incident = store.incident(bridge.incidentId)!;
  assert.is(incident.alertCount, 3);
  assert.is(incident.maxAlertScore, 90);
  assert.equal(incident.models, ["other-model", "remote-service-svcctl"]);
  assert.equal(incident.techniques, ["T0836", ...sampleAlert().mitre].sort());
  assert.is(incident.firstMs, T0 * 1000 + 660);
  assert.is(incident.lastMs, (T0 + 60) * 1000 + 660);
  assert.is(incident.score, incidentScore(store.alertsOfIncident(bridge.incidentId)));
  store.close();
});

test("store version 1 migrated with aggregates", () => {
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-store-"));
  try {
    const path = join(dir, "c.db");
    const store = new Store(path);
    store.insertAlert(alertAt(0, OFFICE, WORKSTATION));
    store.insertAlert({ ...alertAt(30, OFFICE, PLC), model: "other-model", score: 90, mitre: ["T0836"] });
    store.close();
    // Turn it back into a version 1 store: no aggregate columns or tables.
    const db = new Database(path);
    db.exec(`CREATE TABLE incidents_v1 AS SELECT id, site, first_ms, last_ms, score, updated_at FROM incidents;
      DROP TABLE incidents; ALTER TABLE incidents_v1 RENAME TO incidents;
      DROP TABLE incident_models; DROP TABLE incident_techniques; UPDATE schema_version SET version = 1;`);
    db.close();

    const migrated = new Store(path);
    const incident = migrated.incident(1)!;
    assert.is(incident.alertCount, 2);
    assert.is(incident.maxAlertScore, 90);
    assert.equal(incident.models, ["other-model", "remote-service-svcctl"]);
    assert.equal(incident.techniques, ["T0836", ...sampleAlert().mitre].sort());
    assert.is(migrated.db.prepare("SELECT version FROM schema_version").pluck().get(), 2);
    migrated.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
