// Stores on one PostgreSQL database written at the same time: the schema
// created by three stores at once, and alerts and records inserted from two
// connections concurrently giving the incidents of one sequential store.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AlertIdentity, type Alert } from "../../agent/src/publish/alert.js";
import { openStore, type Store } from "../../correlator/src/store.js";
import { capture, repoRoot } from "../helpers/captures.js";
import { alertRecord, sampleAlert } from "../publish/samples.js";
import { pivotWrites } from "./pivot-scene.js";
import { createTestDatabase } from "./postgres.js";
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
    sets.push(JSON.stringify({ ids, pivot: incident.pivot, rank: incident.rank, alerts: incident.alertCount }));
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

test.run();
