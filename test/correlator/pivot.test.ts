// An IT-to-OT pivot from packets: the demo scene, where an office host
// creates a service on the engineering workstation, followed by Modbus writes
// that the workstation itself sends to a second PLC a minute later. The
// writes are byte-built frames run through the same replay path.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore, type Store } from "../../correlator/src/store.js";
import { renderIncidentReport } from "../../correlator/src/report.js";
import { capture, repoRoot } from "../helpers/captures.js";
import { pcapFile, TcpConversation, type TimedFrame } from "../helpers/frames.js";
import { ENGINEERING_HOST } from "../fixtures/demo/make-sample.js";
import { replayCaptures, storeReplayed, type Replayed } from "./replay-store.js";

const DEMO = join(repoRoot, "test", "fixtures", "demo", "plant-scene.pcap");
const SECOND_PLC = "10.10.2.11";
// 2026-03-10 08:02:00 UTC, a minute after the service was created. Frames
// are 1 ms apart, so the first write request (after the handshake) is at
// FIRST_WRITE_MS.
const WRITES_AT = Date.UTC(2026, 2, 10, 8, 2, 0) / 1000;
const FIRST_WRITE_MS = WRITES_AT * 1000 + 3;

// Modbus/TCP ADU: transaction id, protocol id 0, length, unit id, then
// function 16 (Write Multiple Registers) or its response.
function writeRegisters(transactionId: number, start: number, values: number[]): number[] {
  const pdu = [0x10, start >> 8, start & 0xff, 0, values.length, values.length * 2, ...values.flatMap((v) => [v >> 8, v & 0xff])];
  return [transactionId >> 8, transactionId & 0xff, 0, 0, 0, pdu.length + 1, 1, ...pdu];
}

function writeResponse(transactionId: number, start: number, quantity: number): number[] {
  const pdu = [0x10, start >> 8, start & 0xff, 0, quantity];
  return [transactionId >> 8, transactionId & 0xff, 0, 0, 0, pdu.length + 1, 1, ...pdu];
}

function pivotWrites(dir: string): string {
  const c = new TcpConversation(ENGINEERING_HOST, 49900, SECOND_PLC, 502, 0x51000000, 0x62000000).handshake();
  for (let i = 1; i <= 3; i++) {
    c.fromClient(writeRegisters(i, 100 + i, [0, 1]));
    c.fromServer(writeResponse(i, 100 + i, 2));
  }
  const frames: TimedFrame[] = c.frames.map((bytes, i) => ({ tsSec: WRITES_AT, tsFrac: i * 1000, bytes }));
  const path = join(dir, "pivot-writes.pcap");
  writeFileSync(path, pcapFile(frames));
  return path;
}

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
