// Public captures through the whole core: counters per layer, no trap, and
// no stream loss where the capture has none.
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { CoreRecord } from "../../agent/src/core/core.js";
import { readCapture } from "../../agent/src/capture/index.js";
import { capture } from "../helpers/captures.js";
import { loadCore, type CoreRun } from "./run.js";

async function runCapture(path: string): Promise<CoreRun> {
  const core = await loadCore();
  const records: CoreRecord[] = [];
  const onRecord = (r: CoreRecord) => { records.push(r); };
  for await (const batch of readCapture(path)) core.process(batch, onRecord);
  core.finish(onRecord);
  return { records, ...core.stats() };
}

test("modbus polling capture", async () => {
  // iti_plant1_modbus_normal_polling.pcap: 15,387 Ethernet/IPv4 frames of an
  // HMI polling PLCs over 14 Modbus/TCP connections, with two segments
  // captured out of order.
  const path = capture("modbus/iti_plant1_modbus_normal_polling.pcap");
  if (!path) return;
  const run = await runCapture(path);

  assert.is(run.counters["packets"], 15387);
  assert.is(run.counters["tcp.segments"], 15387);
  assert.is(run.counters["flows.created"], 14);
  assert.is(run.counters["flows.modbus"], 14);
  assert.is(run.counters["tcp.out_of_order"], 2);
  assert.is(run.anomalies["tcp.seq_gap"], undefined);
  assert.is(run.counters["stream.bytes_lost"], undefined);
  assert.ok(run.records.length > 15000);
});

test("smb2 capture with reordered segments", async () => {
  // zeek_smb2.pcap: one SMB2 session (1,178 frames) whose capture has 260
  // segments out of order. Reassembly must lose nothing.
  const path = capture("smb/zeek_smb2.pcap");
  if (!path) return;
  const run = await runCapture(path);

  assert.is(run.counters["packets"], 1178);
  assert.is(run.counters["flows.smb"], 1);
  assert.is(run.counters["tcp.out_of_order"], 260);
  assert.is(run.anomalies["tcp.seq_gap"], undefined);
  assert.ok(run.records.some((r) => r.type === "smb"));
  // The upload's WRITE data is followed whole for its SHA-256, so the
  // delivered bytes plus any skipped ones account for every payload byte.
  const upload = run.records.find((r) => r.type === "file");
  assert.is(upload?.fields.bytes_missing, 0);
  assert.is(run.counters["stream.bytes_delivered"] + (run.counters["stream.bytes_skipped"] ?? 0), run.counters["tcp.payload_bytes"]);
});

test.run();
