// Stores on one PostgreSQL database written at the same time. Three stores
// create the schema at once. Alerts and records inserted from two
// connections concurrently give the incidents of one sequential store, and
// batches give the incidents of one message at a time. Batches of two sites
// from two connections at once do not deadlock.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AlertIdentity, type Alert } from "../../agent/src/publish/alert.js";
import { openStore, type IngestItem, type IngestOutcome, type Store } from "../../correlator/src/store.js";
import { capture, repoRoot } from "../helpers/captures.js";
import { alertRecord, sampleAlert } from "../publish/samples.js";
import { pivotWrites } from "./pivot-scene.js";
import { createTestDatabase, type TestDatabase } from "./postgres.js";
import { replayCaptures, type Replayed } from "./replay-store.js";

const T0 = 1_773_129_640;

// Alerts without accounts between chained host pairs, so that the order of
// arrival decides which incidents exist until the bridging alerts come.
function chainAlerts(): Alert[] {
  const alerts: Alert[] = [];
  for (let i = 0; i < 30; i++) {
    const record = alertRecord({ tsSec: T0 + i * 60, src: `10.50.${i}.1`, dst: `10.50.${i + 1}.1` });
    const { account: _account, ...alert } = sampleAlert("plant-a", "gw-1", record, new AlertIdentity());
    alerts.push(alert);
  }
  return alerts;
}

async function partition(store: Store): Promise<string[]> {
  const sets: string[] = [];
  for (const incident of await store.rankedIncidents()) {
    const ids = (await store.alertsOfIncident(incident.id)).map((alert) => alert.id).sort();
    sets.push(JSON.stringify({
      ids, pivot: incident.pivot, pivotMs: incident.pivotMs, rank: incident.rank, why: incident.why, alerts: incident.alertCount,
      score: incident.score, firstMs: incident.firstMs, lastMs: incident.lastMs, hosts: incident.hosts, models: incident.models,
      techniques: incident.techniques, progression: incident.progression, routine: incident.routineAlerts,
    }));
  }
  return sets.sort();
}

test("schema created by two stores at once", async () => {
  const database = await createTestDatabase("schema");
  if (!database) return;
  try {
    const stores = await Promise.all([openStore(database.url), openStore(database.url), openStore(database.url)]);
    for (const store of stores) assert.is(await store.countAlerts(), 0);
    for (const store of stores) await store.close();
  } finally {
    await database.drop();
  }
});

test("concurrent inserts same incidents as sequential", async () => {
  const psexec = capture("dcerpc/401trg_smb_psexec_add_user_svcctl.pcap");
  const netUser = capture("dcerpc/401trg_smb_net_user_samr_lsarpc.pcap");
  if (!psexec || !netUser) return;
  const database = await createTestDatabase("parallel");
  if (!database) return;
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-parallel-"));
  const stores: Store[] = [];
  try {
    const replays: Replayed[] = [
      await replayCaptures([netUser]),
      await replayCaptures([psexec]),
      await replayCaptures([join(repoRoot, "test", "fixtures", "demo", "plant-scene.pcap")]),
      await replayCaptures([pivotWrites(dir)]),
    ];
    const records = replays.flatMap((r) => r.records);
    // The chain's odd links first, then the even ones, so both writers
    // create incidents that later alerts merge.
    const chain = chainAlerts();
    const alerts = [...replays.flatMap((r) => r.alerts), ...chain.filter((_, i) => i % 2 === 1), ...chain.filter((_, i) => i % 2 === 0)];

    const sequential = await openStore(":memory:");
    stores.push(sequential);
    for (const record of records) await sequential.insertRecord("plant-a", "gw-1", record);
    for (const alert of alerts) await sequential.insertAlert(alert);

    const first = await openStore(database.url);
    const second = await openStore(database.url);
    stores.push(first, second);
    // Each writer takes every other message, and both run at once.
    const writer = async (store: Store, parity: number) => {
      for (let i = parity; i < records.length; i += 2) await store.insertRecord("plant-a", "gw-1", records[i]);
      for (let i = parity; i < alerts.length; i += 2) await store.insertAlert(alerts[i]);
    };
    await Promise.all([writer(first, 0), writer(second, 1)]);

    const expected = await partition(sequential);
    const parallel = await partition(first);
    assert.ok(expected.length >= 3, expected.join("\n"));
    assert.ok(expected.some((text) => JSON.parse(text).pivot === true), "no pivot in the expected incidents");
    assert.equal(parallel, expected);
    assert.is(await first.countAlerts(), alerts.length);
    assert.is(await first.countRecords(), await sequential.countRecords());
  } finally {
    for (const store of stores) await store.close();
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  }
});

// The replayed scenes and the chain as one stream, each scene's records
// before its alerts as a gateway sends them. The pivot scene plays twice:
// at plant-a the OT writes come after the IT alerts, at plant-b before
// them, so that both an OT command and an IT entry complete a pivot. Then
// the chain's odd links and its even ones, which merge the incidents of the
// odd ones, and a resend of an alert.
async function messageStream(dir: string): Promise<IngestItem[] | undefined> {
  const psexec = capture("dcerpc/401trg_smb_psexec_add_user_svcctl.pcap");
  const netUser = capture("dcerpc/401trg_smb_net_user_samr_lsarpc.pcap");
  if (!psexec || !netUser) return undefined;
  const scene = join(repoRoot, "test", "fixtures", "demo", "plant-scene.pcap");
  const writes = pivotWrites(dir);
  const replays: Array<[string, Replayed]> = [
    ["plant-a", await replayCaptures([netUser])],
    ["plant-a", await replayCaptures([psexec])],
    ["plant-a", await replayCaptures([scene])],
    ["plant-a", await replayCaptures([writes])],
    ["plant-b", await replayCaptures([writes], "plant-b")],
    ["plant-b", await replayCaptures([scene], "plant-b")],
  ];
  const items: IngestItem[] = replays.flatMap(([site, r]) => [
    ...r.records.map((record): IngestItem => ({ kind: "record", site, gateway: "gw-1", record })),
    ...r.alerts.map((alert): IngestItem => ({ kind: "alert", alert })),
  ]);
  const chain = chainAlerts();
  for (const alert of [...chain.filter((_, i) => i % 2 === 1), ...chain.filter((_, i) => i % 2 === 0)]) items.push({ kind: "alert", alert });
  const firstAlert = items.find((item) => item.kind === "alert")!;
  items.splice(Math.floor(items.length / 2), 0, firstAlert);
  return items;
}

test("batched ingest same as one at a time", async () => {
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-batches-"));
  const stores: Store[] = [];
  const databases: TestDatabase[] = [];
  try {
    const items = await messageStream(dir);
    if (!items) return;
    const single = await openStore(":memory:");
    stores.push(single);
    const outcomes: IngestOutcome[] = [];
    for (const item of items) {
      outcomes.push(item.kind === "alert"
        ? { kind: "alert", result: await single.insertAlert(item.alert) }
        : { kind: "record", stored: await single.insertRecord(item.site, item.gateway, item.record) });
    }
    const expected = await partition(single);
    assert.ok(expected.filter((text) => JSON.parse(text).pivot === true).length >= 2, "fewer than two pivots in the expected incidents");
    assert.ok(outcomes.some((outcome) => outcome.kind === "alert" && outcome.result.stored && outcome.result.mergedIncidentIds.length > 0), "no merge");

    for (const name of ["sqlite", "postgres"]) {
      for (const size of [7, items.length]) {
        let target = ":memory:";
        if (name === "postgres") {
          const database = await createTestDatabase("batches");
          if (!database) continue;
          databases.push(database);
          target = database.url;
        }
        const store = await openStore(target);
        stores.push(store);
        const batched: IngestOutcome[] = [];
        for (let i = 0; i < items.length; i += size) batched.push(...await store.ingest(items.slice(i, i + size)));
        assert.equal(batched, outcomes, `${name}, batches of ${size}: outcomes`);
        assert.equal(await partition(store), expected, `${name}, batches of ${size}: incidents`);
        assert.is(await store.countAlerts(), await single.countAlerts());
        assert.is(await store.countRecords(), await single.countRecords());
      }
    }
  } finally {
    for (const store of stores) await store.close();
    for (const database of databases) await database.drop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("two-site batches from two connections", async () => {
  const database = await createTestDatabase("sites");
  if (!database) return;
  const stores: Store[] = [];
  try {
    const first = await openStore(database.url);
    const second = await openStore(database.url);
    stores.push(first, second);
    // Each batch holds alerts of both sites, listed in opposite orders, so
    // two connections that locked sites in the order listed would wait on
    // each other.
    const batch = (round: number, sites: string[]): IngestItem[] => sites.flatMap((site) => chainAlerts().slice(0, 5).map((alert, i) => ({
      kind: "alert" as const, alert: { ...alert, site, id: `${site}-${round}-${i}`.padEnd(32, "0") },
    })));
    const writer = async (store: Store, sites: string[], parity: number) => {
      for (let round = parity; round < 40; round += 2) await store.ingest(batch(round, sites));
    };
    await Promise.all([writer(first, ["plant-a", "plant-b"], 0), writer(second, ["plant-b", "plant-a"], 1)]);
    assert.is(await first.countAlerts(), 40 * 10);
  } finally {
    for (const store of stores) await store.close();
    await database.drop();
  }
});

test.run();
