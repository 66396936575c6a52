// An IT-to-OT pivot from packets: the demo scene, where an office host
// creates a service on the engineering workstation, followed by Modbus writes
// that the workstation itself sends to a second PLC a minute later. The
// writes are byte-built frames run through the same replay path.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore, type Store } from "../../correlator/src/store.js";
import { renderIncidentReport } from "../../correlator/src/report.js";
import { capture, repoRoot } from "../helpers/captures.js";
import { ENGINEERING_HOST } from "../fixtures/demo/make-sample.js";
import { FIRST_WRITE_MS, pivotWrites } from "./pivot-scene.js";
import { replayCaptures, storeReplayed, type Replayed } from "./replay-store.js";

const DEMO = join(repoRoot, "test", "fixtures", "demo", "plant-scene.pcap");
async function replayScene(): Promise<{ scene: Replayed; writes: Replayed; psexec?: Replayed; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-pivot-"));
  const scene = await replayCaptures([DEMO]);
  const writes = await replayCaptures([pivotWrites(dir)]);
  const psexecPath = capture("dcerpc/401trg_smb_psexec_add_user_svcctl.pcap");
  const psexec = psexecPath ? await replayCaptures([psexecPath]) : undefined;
  return { scene, writes, psexec, dir };
}

async function sceneIncident(store: Store) {
  const incidents = await store.rankedIncidents();
  const found = incidents.find((incident) => incident.hosts.includes(ENGINEERING_HOST));
  if (!found) throw new Error(`no incident with ${ENGINEERING_HOST}: ${JSON.stringify(incidents.map((i) => i.hosts))}`);
  return { found, incidents };
}

test("pivot marked and ranked above IT-only", async () => {
  const { scene, writes, psexec, dir } = await replayScene();
  const store = await openStore(":memory:");
  try {
    // The writes are forwarded as Modbus requests from the workstation.
    assert.ok(writes.records.some((r) => r.type === "modbus" && r.src.ip === ENGINEERING_HOST && r.function_code === 16));
    await storeReplayed(store, scene);
    const before = (await sceneIncident(store)).found;
    assert.is(before.pivot, false, "the scene alone has no pivot: its Modbus write comes from the office host");

    await storeReplayed(store, writes);
    if (psexec) await storeReplayed(store, psexec);
    const { found, incidents } = await sceneIncident(store);
    assert.is(found.id, before.id);
    assert.is(found.pivot, true);
    assert.is(found.pivotMs, FIRST_WRITE_MS);
    assert.ok(found.why.some((factor) => factor.factor === "pivot" && factor.points === 30));
    assert.is(found.rank, before.rank + 30);

    if (psexec) {
      assert.is(incidents.length, 2);
      const itOnly = incidents.find((incident) => incident.id !== found.id)!;
      assert.is(itOnly.pivot, false);
      assert.is(incidents[0].id, found.id, `ranks ${found.rank} and ${itOnly.rank}`);
      assert.ok(found.rank > itOnly.rank);
    }

    const report = (await renderIncidentReport(store, found.id))!;
    assert.match(report, "- IT-to-OT pivot: a host reached from IT sent OT commands at 2026-03-10T08:02:00.003Z.");
    assert.match(report, "+30 a host reached from IT then commanded OT devices");
    assert.match(report, "- IT-to-OT pivot: isolate the pivot host");
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("pivot found when writes arrive first", async () => {
  const { scene, writes, dir } = await replayScene();
  const store = await openStore(":memory:");
  try {
    await storeReplayed(store, writes);
    await storeReplayed(store, scene);
    const { found } = await sceneIncident(store);
    assert.is(found.pivot, true);
    assert.is(found.pivotMs, FIRST_WRITE_MS);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
