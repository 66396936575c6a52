import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { AlertIdentity, type Alert } from "../../agent/src/publish/alert.js";
import { DEFAULT_WINDOW_MS, incidentScore, openStore, scoreIncident, type AlertInsert } from "../../correlator/src/store.js";
import { alertRecord, modbusAlertRecord, OFFICE, PLC, sampleAlert, smbCopyRecords, WORKSTATION } from "../publish/samples.js";

const HOUR = 3600;
const T0 = 1_773_129_640;
const WINDOW_SEC = DEFAULT_WINDOW_MS / 1000;

function alertAt(offsetSec: number, src: string, dst: string, site = "plant-a"): Alert {
  return sampleAlert(site, "gw-1", alertRecord({ tsSec: T0 + offsetSec, src, dst }), new AlertIdentity());
}

function incidentOf(result: AlertInsert): number {
  if (!result.stored || result.incidentId === null) throw new Error(`alert not stored in an incident: ${JSON.stringify(result)}`);
  return result.incidentId;
}

// Asserts that `work` rejects with an error that `pattern` matches.
async function rejects(work: () => Promise<unknown>, pattern: RegExp): Promise<void> {
  try {
    await work();
  } catch (error) {
    assert.match((error as Error).message, pattern);
    return;
  }
  assert.unreachable("expected an error");
}

test("store duplicate alert id ignored", async () => {
  const store = await openStore(":memory:");
  const alert = sampleAlert();
  assert.is((await store.insertAlert(alert)).stored, true);
  assert.equal(await store.insertAlert(alert), { stored: false, reason: "duplicate" });
  assert.is(await store.countAlerts(), 1);
  await store.close();
});

test("incident grows on a shared host", async () => {
  const store = await openStore(":memory:");
  const first = incidentOf(await store.insertAlert(sampleAlert()));
  const second = incidentOf(await store.insertAlert(sampleAlert("plant-a", "gw-1", modbusAlertRecord())));
  assert.is(second, first);
  assert.equal((await store.incident(first))!.hosts, [OFFICE, WORKSTATION, PLC].sort());
  await store.close();
});

test("incident split by window and site", async () => {
  const store = await openStore(":memory:");
  const base = await store.insertAlert(alertAt(0, OFFICE, WORKSTATION));
  const late = await store.insertAlert(alertAt(2 * WINDOW_SEC, OFFICE, WORKSTATION));
  const otherSite = await store.insertAlert(alertAt(60, OFFICE, WORKSTATION, "plant-b"));
  // Another account, so that nothing links it to the others.
  const unrelated = await store.insertAlert({ ...alertAt(60, "10.20.0.1", "10.20.0.2"), account: "OTHER\\someone" });
  const ids = [base, late, otherSite, unrelated].map(incidentOf);
  assert.is(new Set(ids).size, 4, `incident ids ${ids}`);
  await store.close();
});

test("incident joined by a shared account", async () => {
  const store = await openStore(":memory:");
  // Two host pairs with nothing in common but the account PLANT\m.keller.
  const a = incidentOf(await store.insertAlert(alertAt(0, OFFICE, WORKSTATION)));
  const b = incidentOf(await store.insertAlert(alertAt(60, "10.20.0.1", "10.20.0.2")));
  assert.is(b, a);
  const nodes = await store.entities(a);
  assert.ok(nodes.some((node) => node.id === "account:plant\\m.keller" && node.label === "PLANT\\m.keller"));
  const logons = (await store.edges(a)).filter((edge) => edge.kind === "logon").map((edge) => edge.to).sort();
  assert.equal(logons, [`host:${WORKSTATION}`, "host:10.20.0.2"]);
  await store.close();
});

test("incident merge when an alert bridges two", async () => {
  const store = await openStore(":memory:");
  const withoutAccount = (alert: Alert): Alert => {
    const { account: _account, ...rest } = alert;
    return { ...rest, id: `${alert.id.slice(0, 30)}aa` };
  };
  const a = incidentOf(await store.insertAlert(withoutAccount(alertAt(0, OFFICE, WORKSTATION))));
  const b = incidentOf(await store.insertAlert(withoutAccount(alertAt(30, "10.10.3.3", PLC))));
  const bridge = await store.insertAlert(withoutAccount(alertAt(60, WORKSTATION, PLC)));
  assert.is.not(a, b);
  assert.is(incidentOf(bridge), a);
  assert.equal(bridge.stored && bridge.mergedIncidentIds, [b]);
  assert.is(await store.incident(b), undefined);
  assert.is((await store.alertsOfIncident(a)).length, 3);
  assert.is((await store.incidents()).length, 1);
  await store.close();
});

test("alert below threshold opens no incident", async () => {
  const store = await openStore(":memory:");
  const result = await store.insertAlert({ ...sampleAlert(), score: 20 });
  assert.equal(result, { stored: true, incidentId: null, mergedIncidentIds: [] });
  assert.is(await store.countAlerts(), 1);
  assert.equal(await store.incidents(), []);
  await store.close();
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

test("store records deduplicated and queried", async () => {
  const store = await openStore(":memory:");
  for (const record of smbCopyRecords()) assert.is(await store.insertRecord("plant-a", "gw-1", record), true);
  for (const record of smbCopyRecords()) assert.is(await store.insertRecord("plant-a", "gw-1", record), false);
  assert.is(await store.countRecords(), 3);
  const from = Date.parse("2026-03-10T08:00:00Z");
  const to = Date.parse("2026-03-10T09:00:00Z");
  assert.is((await store.recordsBetween("plant-a", [OFFICE, WORKSTATION], "smb", from, to)).length, 3);
  assert.is((await store.recordsBetween("plant-a", [OFFICE, PLC], "smb", from, to)).length, 0);
  assert.is((await store.recordsBetween("plant-b", [OFFICE, WORKSTATION], "smb", from, to)).length, 0);
  await store.close();
});

test("store history between two hosts", async () => {
  const store = await openStore(":memory:");
  await store.insertAlert(alertAt(-3 * 24 * HOUR, OFFICE, WORKSTATION));
  await store.insertAlert(alertAt(-2 * 24 * HOUR, WORKSTATION, OFFICE));
  await store.insertRecord("plant-a", "gw-1", smbCopyRecords("2026-03-09T08:00:40")[0]);
  const history = await store.history("plant-a", OFFICE, WORKSTATION, T0 * 1000);
  assert.is(history.alerts, 2);
  assert.is(history.records, 1);
  assert.is(history.days, 3);
  assert.is(history.firstTs, "2026-03-07T08:00:40.660000Z");
  assert.is((await store.history("plant-a", OFFICE, PLC, T0 * 1000)).alerts, 0);
  await store.close();
});

test("store schema version mismatch", async () => {
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-store-"));
  try {
    const path = join(dir, "c.db");
    await (await openStore(path)).close();
    const db = new Database(path);
    db.prepare("UPDATE schema_version SET version = 99").run();
    db.close();
    await rejects(() => openStore(path), /schema version 99/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("store uses WAL journal", async () => {
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-store-"));
  try {
    const store = await openStore(join(dir, "c.db"));
    assert.is(store.db.pragma("journal_mode", { simple: true }), "wal");
    await store.close();
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

test("incident of 10,000 alerts keeps aggregates", async () => {
  const store = await openStore(":memory:");
  const base = sampleAlert();
  const models = ["remote-service-svcctl", "smb-admin-share-write", "modbus-write-unexpected-host"];
  const count = 10_000;
  for (let i = 0; i < count; i++) {
    const alert: Alert = {
      ...base,
      id: `bulk-${i}`,
      ts: new Date((T0 + i) * 1000).toISOString(),
      model: models[i % models.length],
      // 60 to 89, and one alert at 97.
      score: i === 7_777 ? 97 : 60 + (i % 30),
      mitre: i % 2 === 0 ? ["T1569.002"] : ["T1021.002", "T0836"],
    };
    const result = await store.insertAlert(alert);
    if (!result.stored || result.incidentId !== 1) throw new Error(`alert ${i} was not added to incident 1: ${JSON.stringify(result)}`);
  }

  const incident = (await store.incident(1))!;
  assert.is(incident.alertCount, count);
  assert.is(incident.maxAlertScore, 97);
  assert.equal(incident.models, [...models].sort());
  assert.equal(incident.techniques, ["T0836", "T1021.002", "T1569.002"]);
  assert.equal(incident.hosts, [OFFICE, WORKSTATION].sort());
  assert.is(incident.firstMs, T0 * 1000);
  assert.is(incident.lastMs, (T0 + count - 1) * 1000);
  // 97 + 5 x (2 extra models + 2 extra techniques) = 117, capped at 100.
  assert.is(incident.score, 100);
  assert.is(incidentScore(await store.alertsOfIncident(1)), 100);
  const summaries = await store.modelSummaries(1);
  assert.equal(summaries.map((m) => [m.model, m.alerts]), models.map((model, i) => [model, i === 0 ? 3_334 : 3_333]));
  assert.is(summaries.find((m) => m.model === models[7_777 % 3])!.maxScore, 97);
  await store.close();
});

test("incident aggregates after a merge", async () => {
  const store = await openStore(":memory:");
  const noAccount = (alert: Alert): Alert => {
    const { account: _account, ...rest } = alert;
    return rest;
  };
  incidentOf(await store.insertAlert(noAccount(alertAt(0, OFFICE, WORKSTATION))));
  incidentOf(await store.insertAlert({ ...noAccount(alertAt(30, "10.10.3.3", PLC)), model: "other-model", score: 90, mitre: ["T0836"] }));
  const bridge = incidentOf(await store.insertAlert(noAccount(alertAt(60, WORKSTATION, PLC))));
  const incident = (await store.incident(bridge))!;
  assert.is(incident.alertCount, 3);
  assert.is(incident.maxAlertScore, 90);
  assert.equal(incident.models, ["other-model", "remote-service-svcctl"]);
  assert.equal(incident.techniques, ["T0836", ...sampleAlert().mitre].sort());
  assert.is(incident.firstMs, T0 * 1000 + 660);
  assert.is(incident.lastMs, (T0 + 60) * 1000 + 660);
  assert.is(incident.score, incidentScore(await store.alertsOfIncident(bridge)));
  await store.close();
});

test("store version 1 migrated with aggregates", async () => {
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-store-"));
  try {
    const path = join(dir, "c.db");
    const store = await openStore(path);
    await store.insertAlert(alertAt(0, OFFICE, WORKSTATION));
    await store.insertAlert({ ...alertAt(30, OFFICE, PLC), model: "other-model", score: 90, mitre: ["T0836"] });
    await store.close();
    // Turn it back into a version 1 store: no aggregate, graph or rank
    // columns or tables.
    const db = new Database(path);
    db.exec(`CREATE TABLE incidents_v1 AS SELECT id, site, first_ms, last_ms, score, updated_at FROM incidents;
      DROP TABLE incidents; ALTER TABLE incidents_v1 RENAME TO incidents;
      CREATE TABLE alerts_v1 AS SELECT id, site, gateway, ts, ts_ms, model, score, src_ip, dst_ip, incident_id, received_at, body FROM alerts;
      DROP TABLE alerts; ALTER TABLE alerts_v1 RENAME TO alerts;
      DROP TABLE incident_models; DROP TABLE incident_techniques; DROP TABLE incident_entities; DROP TABLE incident_tactics;
      UPDATE schema_version SET version = 1;`);
    db.close();

    const migrated = await openStore(path);
    const incident = (await migrated.incident(1))!;
    assert.is(incident.alertCount, 2);
    assert.is(incident.maxAlertScore, 90);
    assert.equal(incident.models, ["other-model", "remote-service-svcctl"]);
    assert.equal(incident.techniques, ["T0836", ...sampleAlert().mitre].sort());
    const ranked = (await migrated.rankedIncidents())[0];
    assert.ok(ranked.tactics.some((tactic) => tactic.id === "TA0106"), JSON.stringify(ranked.tactics));
    assert.is(migrated.db.prepare("SELECT MAX(version) FROM schema_version").pluck().get(), 3);
    await migrated.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
