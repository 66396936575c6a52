// The same store behaviour on SQLite and on PostgreSQL: ingest, incidents,
// the entity graph, pivots and retention. PostgreSQL runs in a database
// created for each test and dropped after it.
import { suite, test } from "uvu";
import * as assert from "uvu/assert";
import { AlertIdentity, type Alert } from "../../agent/src/publish/alert.js";
import type { RecordJson } from "../../agent/src/publish/record.js";
import { openStore, type RetentionSettings, type Store, type StoreOptions } from "../../correlator/src/store.js";
import { capture } from "../helpers/captures.js";
import { alertRecord, modbusAlertRecord, OFFICE, PLC, sampleAlert, smbCopyRecords, WORKSTATION } from "../publish/samples.js";
import { createTestDatabase } from "./postgres.js";
import { replayCaptures, storeReplayed, type Replayed } from "./replay-store.js";

const T0 = 1_773_129_640;
const DAY_MS = 86_400_000;

type Opener = (options?: StoreOptions) => Promise<{ store: Store; cleanup(): Promise<void> } | undefined>;

const BACKENDS: Array<[string, Opener]> = [
  ["sqlite", async (options) => {
    const store = await openStore(":memory:", options);
    return { store, cleanup: async () => undefined };
  }],
  ["postgres", async (options) => {
    const database = await createTestDatabase("store");
    if (!database) return undefined;
    const store = await openStore(database.url, options);
    return {
      store,
      cleanup: async () => {
        await store.close();
        await database.drop();
      },
    };
  }],
];

function alertAt(offsetSec: number, src: string, dst: string): Alert {
  return sampleAlert("plant-a", "gw-1", alertRecord({ tsSec: T0 + offsetSec, src, dst }), new AlertIdentity());
}

// A forwarded Modbus request: Write Multiple Registers from `src` to `dst`.
function modbusWrite(ts: string, src: string, dst: string): RecordJson {
  return {
    type: "modbus", ts, src: { ip: src, port: 50400 }, dst: { ip: dst, port: 502 }, flow_id: 9, server_to_client: false,
    pdu_type: "request", transaction_id: 7, unit_id: 1, function_code: 16, function: "WRITE_MULTIPLE_REGISTERS",
    start_address: 10, quantity: 1,
  } as RecordJson;
}

let captured: { netUser: Replayed; psexec: Replayed } | undefined | null = null;

async function capturedAttack(): Promise<{ netUser: Replayed; psexec: Replayed } | undefined> {
  if (captured !== null) return captured;
  const netUser = capture("dcerpc/401trg_smb_net_user_samr_lsarpc.pcap");
  const psexec = capture("dcerpc/401trg_smb_psexec_add_user_svcctl.pcap");
  captured = netUser && psexec ? { netUser: await replayCaptures([netUser]), psexec: await replayCaptures([psexec]) } : undefined;
  return captured;
}

// What an incident list shows, without the ids the database assigns.
async function snapshot(store: Store): Promise<unknown[]> {
  const result: unknown[] = [];
  for (const incident of await store.rankedIncidents()) {
    const { id, ...rest } = incident;
    result.push({
      ...rest,
      alerts: (await store.alertsOfIncident(id)).map((alert) => alert.id),
      entities: await store.entities(id),
      edges: await store.edges(id),
      timeline: (await store.timeline(id)).map((entry) => [entry.alert.id, entry.tactics.map((tactic) => tactic.id)]),
      models: (await store.modelSummaries(id)).map((summary) => [summary.model, summary.alerts, summary.maxScore, summary.first.id]),
      pairs: await store.incidentHostPairs(id),
      accounts: await store.incidentAccounts(id),
    });
  }
  return result;
}

const snapshots = new Map<string, unknown[]>();

for (const [name, open] of BACKENDS) {
  const backend = suite(`store on ${name}`);

  backend(`${name}: duplicates, growth and merge`, async () => {
    const opened = await open();
    if (!opened) return;
    const { store, cleanup } = opened;
    try {
      const withoutAccount = (alert: Alert): Alert => {
        const { account: _account, ...rest } = alert;
        return rest;
      };
      const a = await store.insertAlert(withoutAccount(alertAt(0, OFFICE, WORKSTATION)));
      assert.equal(await store.insertAlert(withoutAccount(alertAt(0, OFFICE, WORKSTATION))), { stored: false, reason: "duplicate" });
      const b = await store.insertAlert({ ...withoutAccount(alertAt(30, "10.10.3.3", PLC)), model: "other-model", score: 90, mitre: ["T0836"] });
      const bridge = await store.insertAlert(withoutAccount(alertAt(60, WORKSTATION, PLC)));
      if (!a.stored || !b.stored || !bridge.stored) throw new Error("an alert was not stored");
      assert.is.not(a.incidentId, b.incidentId);
      assert.is(bridge.incidentId, a.incidentId);
      assert.equal(bridge.mergedIncidentIds, [b.incidentId]);
      const incident = (await store.incident(a.incidentId!))!;
      assert.is(incident.alertCount, 3);
      assert.is(incident.maxAlertScore, 90);
      assert.equal(incident.hosts, ["10.10.0.55", "10.10.1.20", "10.10.2.10", "10.10.3.3"]);
      assert.equal(incident.models, ["other-model", "remote-service-svcctl"]);
      assert.is(await store.countAlerts(), 3);
      assert.is((await store.incidents()).length, 1);
    } finally {
      await cleanup();
    }
  });

  backend(`${name}: records, names and history`, async () => {
    const opened = await open();
    if (!opened) return;
    const { store, cleanup } = opened;
    try {
      for (const record of smbCopyRecords()) assert.is(await store.insertRecord("plant-a", "gw-1", record), true);
      for (const record of smbCopyRecords()) assert.is(await store.insertRecord("plant-a", "gw-1", record), false);
      assert.is(await store.countRecords(), 3);
      const from = Date.parse("2026-03-10T08:00:00Z");
      const to = Date.parse("2026-03-10T09:00:00Z");
      assert.is((await store.recordsBetween("plant-a", [OFFICE, WORKSTATION], "smb", from, to)).length, 3);
      const history = await store.history("plant-a", OFFICE, WORKSTATION, to);
      assert.is(history.records, 3);
      assert.is(history.days, 1);
    } finally {
      await cleanup();
    }
  });

  backend(`${name}: accounts and services from records`, async () => {
    const opened = await open();
    if (!opened) return;
    const { store, cleanup } = opened;
    try {
      const entry = await store.insertAlert(sampleAlert());
      if (!entry.stored) throw new Error("alert not stored");
      const base = { ts: "2026-03-10T08:00:35.000000Z", flow_id: 3, server_to_client: true };
      // The office host requests a ticket from the KDC, then logs on to the workstation with NTLM.
      await store.insertRecord("plant-a", "gw-1", {
        ...base, type: "kerberos", src: { ip: OFFICE, port: 50100 }, dst: { ip: "10.10.0.5", port: 88 },
        request_type: "TGS-REQ", client: "m.keller", realm: "PLANT.LOCAL", service: "cifs/eng-ws01.plant.local", success: true,
      } as RecordJson);
      await store.insertRecord("plant-a", "gw-1", {
        ...base, type: "ntlm", src: { ip: OFFICE, port: 50112 }, dst: { ip: WORKSTATION, port: 445 },
        message: "AUTHENTICATE", message_type: 3, domain: "PLANT", user: "svc_backup", workstation: "OFFICE-PC07",
      } as RecordJson);
      const nodes = await store.entities(entry.incidentId!);
      const office = nodes.find((node) => node.id === `host:${OFFICE}`)!;
      assert.equal(office.facts, {
        ip: OFFICE, names: ["OFFICE-PC07"], kerberos_services: ["cifs/eng-ws01.plant.local"], domains: ["PLANT", "PLANT.LOCAL"],
      });
      assert.is(office.label, `OFFICE-PC07 (${OFFICE})`);
      const logons = (await store.edges(entry.incidentId!)).filter((edge) => edge.kind === "logon").map((edge) => `${edge.from} ${edge.to} ${edge.alertIds.length}`);
      assert.equal(logons.sort(), [
        "account:m.keller@plant.local host:10.10.0.5 0",
        `account:plant\\m.keller host:${WORKSTATION} 1`,
        `account:plant\\svc_backup host:${WORKSTATION} 0`,
      ]);
    } finally {
      await cleanup();
    }
  });

  backend(`${name}: captures give one incident`, async () => {
    const attack = await capturedAttack();
    if (!attack) return;
    const opened = await open();
    if (!opened) return;
    const { store, cleanup } = opened;
    try {
      await storeReplayed(store, attack.netUser);
      await storeReplayed(store, attack.psexec);
      const incidents = await store.rankedIncidents();
      assert.is(incidents.length, 1);
      assert.equal(incidents[0].progression, ["discovery", "lateral_movement", "execution"]);
      snapshots.set(name, await snapshot(store));
    } finally {
      await cleanup();
    }
  });

  backend(`${name}: pivot from a Modbus write record`, async () => {
    const opened = await open({ criticalHosts: [PLC] });
    if (!opened) return;
    const { store, cleanup } = opened;
    try {
      const entry = await store.insertAlert(sampleAlert());
      if (!entry.stored) throw new Error("alert not stored");
      assert.is((await store.rankedIncident(entry.incidentId!))!.pivot, false);
      const changes: number[][] = [];
      store.onIncidentChange((ids) => changes.push(ids));
      // The workstation that received the service writes to the PLC.
      await store.insertRecord("plant-a", "gw-1", modbusWrite("2026-03-10T08:05:00.000000Z", WORKSTATION, PLC));
      assert.equal(changes, [[entry.incidentId!]]);
      const ranked = (await store.rankedIncident(entry.incidentId!))!;
      assert.is(ranked.pivot, true);
      assert.is(ranked.pivotMs, Date.parse("2026-03-10T08:05:00Z"));
      // The Modbus alert from the office host brings the PLC in as an OT device.
      await store.insertAlert(sampleAlert("plant-a", "gw-1", modbusAlertRecord()));
      const after = (await store.rankedIncident(entry.incidentId!))!;
      assert.equal(after.why.map((factor) => factor.factor), ["score", "tactics", "pivot", "critical_hosts", "ot_devices"]);
      const device = (await store.entities(entry.incidentId!)).find((node) => node.id === `ot_device:${PLC}`);
      assert.equal(device?.facts, { ip: PLC, critical: true });
      const commands = (await store.edges(entry.incidentId!)).filter((edge) => edge.kind === "ot_command");
      assert.equal(commands, [{ from: `host:${WORKSTATION}`, to: `ot_device:${PLC}`, kind: "ot_command", alertIds: [] }]);

      // Identity facts that an OT record reports for its server.
      await store.insertRecord("plant-a", "gw-1", {
        ...modbusWrite("2026-03-10T08:06:00.000000Z", OFFICE, PLC), function_code: 43, function: "READ_DEVICE_IDENTIFICATION",
        vendor_name: "Schneider Electric", product_code: "BMX P34 2020", revision: "v2.7",
      } as RecordJson);
      const identified = (await store.entities(entry.incidentId!)).find((node) => node.id === `ot_device:${PLC}`);
      assert.equal(identified?.facts, { ip: PLC, critical: true, product_code: "BMX P34 2020", revision: "v2.7", vendor_name: "Schneider Electric" });
    } finally {
      await cleanup();
    }
  });

  backend(`${name}: retention by age`, async () => {
    const retention: RetentionSettings = { maxAgeMs: 30 * DAY_MS };
    const opened = await open({ retention });
    if (!opened) return;
    const { store, cleanup } = opened;
    try {
      const now = Date.parse("2026-06-01T00:00:00Z");
      const old = new Date(now - 40 * DAY_MS);
      const recent = new Date(now - DAY_MS);
      // Two incidents: one stored 40 days ago, one partly old and partly recent.
      await store.insertAlert(alertAt(0, "10.30.0.1", "10.30.0.2"), old);
      const mixedOld = await store.insertAlert({ ...alertAt(3 * DAY_MS / 1000, OFFICE, WORKSTATION), account: "PLANT\\a" }, old);
      const mixedNew = await store.insertAlert({ ...alertAt(3 * DAY_MS / 1000 + 60, OFFICE, WORKSTATION), account: "PLANT\\a", score: 60 }, recent);
      await store.insertRecord("plant-a", "gw-1", smbCopyRecords()[0], old);
      await store.insertRecord("plant-a", "gw-1", smbCopyRecords()[1], recent);
      if (!mixedOld.stored || !mixedNew.stored) throw new Error("alert not stored");
      assert.is(mixedNew.incidentId, mixedOld.incidentId);
      assert.is((await store.incidents()).length, 2);

      const result = await store.applyRetention(now);
      assert.equal(result, { alertsDeleted: 2, recordsDeleted: 1, incidentsDeleted: 1 });
      assert.is(await store.countAlerts(), 1);
      assert.is(await store.countRecords(), 1);
      const left = await store.incidents();
      assert.is(left.length, 1);
      assert.is(left[0].id, mixedOld.incidentId);
      // The aggregates now count the one alert left.
      assert.is(left[0].alertCount, 1);
      assert.is(left[0].maxAlertScore, 60);
      assert.equal(await store.applyRetention(now), { alertsDeleted: 0, recordsDeleted: 0, incidentsDeleted: 0 });
    } finally {
      await cleanup();
    }
  });

  backend(`${name}: retention by size`, async () => {
    const probe = await open();
    if (!probe) return;
    // The size of one alert's JSON, to set the limit to about 40 alerts.
    await probe.store.insertAlert(alertAt(0, OFFICE, WORKSTATION));
    const oneAlert = await probe.store.storedBytes();
    await probe.cleanup();

    const opened = await open({ retention: { maxBytes: 40 * oneAlert + oneAlert / 2 } });
    if (!opened) return;
    const { store, cleanup } = opened;
    try {
      const start = Date.parse("2026-06-01T00:00:00Z");
      for (let i = 0; i < 600; i++) {
        // Received one second apart; ids and packet times differ.
        await store.insertAlert({ ...alertAt(i * 10, OFFICE, WORKSTATION), id: `size${String(i).padStart(28, "0")}` }, new Date(start + i * 1000));
      }
      const before = await store.storedBytes();
      assert.ok(before > 500 * oneAlert, `${before} bytes before retention`);
      const result = await store.applyRetention(start + 600_000);
      const after = await store.storedBytes();
      assert.ok(after <= 40 * oneAlert + oneAlert / 2, `${after} bytes after retention`);
      // Batches of 500 rows: the first batch leaves 100 alerts, the second
      // deletes the other 100.
      assert.is(result.alertsDeleted, 600);
      assert.is(await store.countAlerts(), 0);
      assert.is(result.incidentsDeleted, 1);
    } finally {
      await cleanup();
    }
  });

  backend.run();
}

test("sqlite and postgres build the same incident", () => {
  if (!snapshots.has("sqlite") || !snapshots.has("postgres")) {
    console.log("  skipped: a backend did not run the capture test");
    return;
  }
  assert.equal(snapshots.get("postgres"), snapshots.get("sqlite"));
});

test.run();
