// Two correlators on one PostgreSQL store behind an MQTT 5 shared
// subscription build the same incidents as one correlator alone. A real
// Mosquitto broker runs on a free loopback port, and a gateway publishes the
// alerts and records of the lateral-movement captures and the pivot scene.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GatewayPublisher } from "../../agent/src/publish/mqtt.js";
import { Correlator } from "../../correlator/src/service.js";
import { openStore, type Store } from "../../correlator/src/store.js";
import { capture, repoRoot } from "../helpers/captures.js";
import { startMosquitto } from "./mosquitto.js";
import { createTestDatabase, type TestDatabase } from "./postgres.js";
import { pivotWrites } from "./pivot-scene.js";
import { replayCaptures, type Replayed } from "./replay-store.js";

const WAIT_MS = 60_000;

async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// Incidents as sets of alert ids with their pivot flag, rank and
// progression, independent of the incident ids each database assigned.
async function incidentSets(store: Store): Promise<string[]> {
  const sets: string[] = [];
  for (const incident of await store.rankedIncidents()) {
    const ids = (await store.alertsOfIncident(incident.id)).map((alert) => alert.id).sort();
    sets.push(JSON.stringify({ ids, pivot: incident.pivot, rank: incident.rank, progression: incident.progression, hosts: incident.hosts }));
  }
  return sets.sort();
}

test("shared subscription same incidents as one", async () => {
  const netUser = capture("dcerpc/401trg_smb_net_user_samr_lsarpc.pcap");
  const psexec = capture("dcerpc/401trg_smb_psexec_add_user_svcctl.pcap");
  if (!netUser || !psexec) return;
  const broker = await startMosquitto();
  if (!broker) return;
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-shared-"));
  const databases: TestDatabase[] = [];
  const correlators: Correlator[] = [];
  try {
    const shared = await createTestDatabase("shared");
    if (!shared) return;
    databases.push(shared);
    const alone = await createTestDatabase("alone");
    if (!alone) return;
    databases.push(alone);

    const start = (db: string, clientId: string, shareGroup?: string) =>
      Correlator.start({ url: broker.url, dbPath: db, clientId, shareGroup, protocolVersion: 5 });
    correlators.push(await start(shared.url, "corr-a", "correlators"));
    correlators.push(await start(shared.url, "corr-b", "correlators"));
    correlators.push(await start(alone.url, "corr-alone"));
    const [a, b, single] = correlators;

    const replays: Replayed[] = [
      await replayCaptures([netUser]),
      await replayCaptures([psexec]),
      await replayCaptures([join(repoRoot, "test", "fixtures", "demo", "plant-scene.pcap")]),
      await replayCaptures([pivotWrites(dir)]),
    ];
    const publisher = await GatewayPublisher.connect({ url: broker.url, site: "plant-a", gateway: "gw-1", protocolVersion: 5 });
    let alerts = 0;
    let records = 0;
    for (const replayed of replays) {
      for (const record of replayed.records) await publisher.publishRecord(record);
      for (const alert of replayed.alerts) await publisher.publishAlert(alert);
      alerts += replayed.alerts.length;
      records += replayed.records.length;
    }
    await publisher.close();

    const handled = (c: Correlator) => c.stats.alertsStored + c.stats.alertsDuplicate;
    await until(async () => handled(a) + handled(b) >= alerts && handled(single) >= alerts, `${alerts} alerts at both stores`);
    await until(async () => a.stats.recordsStored + b.stats.recordsStored >= records && single.stats.recordsStored >= records, `${records} records`);
    for (const c of correlators) await c.idle();

    // The broker shared the messages: each member stored some, none twice.
    assert.ok(a.stats.alertsStored > 0, `member a stored no alert, member b stored ${b.stats.alertsStored}`);
    assert.ok(b.stats.alertsStored > 0, `member b stored no alert, member a stored ${a.stats.alertsStored}`);
    assert.is(a.stats.alertsStored + b.stats.alertsStored, alerts);
    assert.is(single.stats.alertsStored, alerts);

    const sharedStore = await openStore(shared.url);
    const aloneStore = await openStore(alone.url);
    try {
      const fromShared = await incidentSets(sharedStore);
      const fromAlone = await incidentSets(aloneStore);
      assert.is(fromAlone.length, 2, fromAlone.join("\n"));
      assert.ok(fromAlone.some((text) => JSON.parse(text).pivot === true), "the pivot scene was not marked as a pivot");
      assert.equal(fromShared, fromAlone);
    } finally {
      await sharedStore.close();
      await aloneStore.close();
    }
  } finally {
    for (const c of correlators) await c.stop(true);
    await broker.stop();
    for (const database of databases) await database.drop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
