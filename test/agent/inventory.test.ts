import { test } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { repoRoot } from "../helpers/captures.js";
import { BoundedAlerts, Inventory } from "../../agent/src/control/inventory.js";
import { replayFiles } from "../../agent/src/pipeline.js";
import { INVENTORY_FIELDS, OtInventory } from "../../agent/src/inventory/ot-inventory.js";
import type { CoreRecord } from "../../agent/src/core/core.js";
import { isForwardedCoreRecord, isForwardedRecord, type RecordJson } from "../../agent/src/publish/record.js";
import type { Alert } from "../../agent/src/publish/alert.js";

// Built by test/fixtures/demo/make-sample.ts: a workstation polls a PLC over
// Modbus/TCP, an office host copies upd4te.exe to the workstation's ADMIN$
// over SMB2 and starts it as a service through svcctl, then writes holding
// registers on the PLC.
const SAMPLE = join(repoRoot, "test", "fixtures", "demo", "plant-scene.pcap");

async function sampleRecords(): Promise<{ records: RecordJson[]; alerts: Alert[] }> {
  const records: RecordJson[] = [];
  const alerts: Alert[] = [];
  await replayFiles([SAMPLE], {
    site: "s", gateway: "g", keepRecords: true,
    onRecord: (record) => { records.push(record); },
    onAlert: (alert) => { alerts.push(alert); },
  });
  return { records, alerts };
}

test("inventory of the plant sample", async () => {
  const { records } = await sampleRecords();
  const inventory = new Inventory(100, 100);
  for (const record of records) inventory.addRecord(record);

  const assets = inventory.listAssets();
  const plc = assets.find((asset) => asset.ip === "10.10.2.10");
  assert.ok(plc, JSON.stringify(assets.map((a) => a.ip)));
  assert.equal(plc!.server_ports, [502]);
  assert.equal(plc!.protocols, ["modbus"]);
  assert.equal(plc!.modbus?.role, ["device"]);
  assert.ok(plc!.modbus!.unit_ids.includes(1));
  assert.ok(plc!.modbus!.function_codes.includes(3));
  const server = assets.find((asset) => asset.ip === "10.10.1.20");
  assert.ok(server?.server_ports.includes(445));
  assert.ok(server?.protocols.includes("smb"));

  const files = inventory.listFiles();
  const dropped = files.find((file) => file.path === "upd4te.exe");
  assert.ok(dropped, JSON.stringify(files));
  assert.is(dropped!.share, "\\\\10.10.1.20\\ADMIN$");
  assert.is(dropped!.client, "10.10.0.55");
  assert.is(dropped!.server, "10.10.1.20");
  assert.is(dropped!.opens, 1);
  assert.is(dropped!.bytes_written, 6144);
  assert.is(dropped!.bytes_read, 0);
  // The file record of the write adds the content type and hash.
  const fileRecord = records.find((r) => r.type === "file" && r.name === "upd4te.exe");
  assert.ok(fileRecord);
  assert.is(dropped!.file_type, fileRecord!.file_type);
  assert.is(dropped!.sha256, fileRecord!.sha256);
  assert.match(String(dropped!.sha256), /^[0-9a-f]{64}$/);
  assert.not.ok(files.some((file) => file.path === "svcctl"), "named pipes are not files");
});

test("inventory stores stay bounded", async () => {
  const { records } = await sampleRecords();
  const inventory = new Inventory(2, 100);
  for (const record of records) inventory.addRecord(record);
  assert.is(inventory.listAssets().length, 2);
  assert.ok(inventory.assetsDropped > 0);
});

// The agent feeds its Inventory the decoded records and builds JSON only for
// the forwarded ones; replaying the sample both ways must give one inventory.
test("inventory same from core records and JSON", async () => {
  const coreRecords: CoreRecord[] = [];
  const { records } = await sampleRecords();
  await replayFiles([SAMPLE], { site: "s", gateway: "g", keepRecords: true, observeRecord: (record) => { coreRecords.push(record); } });
  assert.is(coreRecords.length, records.length);
  const fromCore = new Inventory(100, 100);
  const fromJson = new Inventory(100, 100);
  for (const record of coreRecords) fromCore.addCoreRecord(record);
  for (const record of records) fromJson.addRecord(record);
  assert.ok(fromJson.listFiles().length > 0);
  assert.equal(fromCore.listAssets(), fromJson.listAssets());
  assert.equal(fromCore.listFiles(), fromJson.listFiles());
  assert.equal(fromCore.ot.snapshot(), fromJson.ot.snapshot());
});

// observedFields: with only an observer, records carry just the fields it
// reads, and the OT inventory comes out the same; with onRecord, all fields.
test("observedFields limits decoded fields", async () => {
  const full: CoreRecord[] = [];
  const limited: CoreRecord[] = [];
  const withJson: CoreRecord[] = [];
  const options = { site: "s", gateway: "g", keepRecords: true };
  await replayFiles([SAMPLE], { ...options, observeRecord: (record) => { full.push(record); } });
  await replayFiles([SAMPLE], { ...options, observedFields: INVENTORY_FIELDS, observeRecord: (record) => { limited.push(record); } });
  await replayFiles([SAMPLE], {
    ...options, observedFields: INVENTORY_FIELDS, observeRecord: (record) => { withJson.push(record); }, onRecord: () => {},
  });
  assert.is(limited.length, full.length);
  const modbus = limited.find((record) => record.type === "modbus" && "values" in (full[limited.indexOf(record)].fields))!;
  assert.ok(modbus, "a Modbus record with register values");
  assert.is("values" in modbus.fields, false, "values are not decoded");
  assert.ok(Object.keys(modbus.fields).every((name) => INVENTORY_FIELDS.includes(name)));
  assert.equal(withJson, full, "records for JSON keep every field");
  const fromFull = new OtInventory();
  const fromLimited = new OtInventory();
  for (const record of full) fromFull.addCoreRecord(record);
  for (const record of limited) fromLimited.addCoreRecord(record);
  assert.equal(fromLimited.snapshot(), fromFull.snapshot());
});

// selectRecord lets the agent build JSON for the records it publishes only.
test("selectRecord limits record JSON", async () => {
  const { records } = await sampleRecords();
  const selected: RecordJson[] = [];
  await replayFiles([SAMPLE], {
    site: "s", gateway: "g", keepRecords: true, selectRecord: isForwardedCoreRecord,
    onRecord: (record) => { selected.push(record); },
  });
  const forwarded = records.filter(isForwardedRecord);
  assert.ok(forwarded.length > 0);
  assert.ok(forwarded.length < records.length);
  assert.equal(selected, forwarded);
});

test("alert store keeps the latest", async () => {
  const { alerts } = await sampleRecords();
  assert.ok(alerts.length >= 2, `the sample raises ${alerts.length} alerts`);
  const store = new BoundedAlerts(1);
  const seen: number[] = [];
  const unsubscribe = store.subscribe((item) => seen.push(item.seq));
  for (const alert of alerts) store.add(alert);
  unsubscribe();
  assert.is(store.size, 1);
  assert.is(store.total, alerts.length);
  assert.is(store.dropped, alerts.length - 1);
  assert.equal(seen, alerts.map((_, i) => i + 1));
  assert.is(store.list()[0].seq, alerts.length);
  assert.equal(store.list({ afterSeq: alerts.length }), []);
  assert.equal(store.list({ since: new Date("2099-01-01T00:00:00Z") }), []);
});

test.run();
