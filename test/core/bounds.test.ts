// Bounds of one delivery: records are never lost to a full event buffer
// while the host could drain it, whatever the number of PDUs in one
// reassembled run or one segment.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { tcpFrame, batchOf, timed, TcpConversation } from "../helpers/frames.js";
import { runFrames, modbusAdu, modbusRecords, loadCore, memoryLogger, readHoldingRequest } from "./run.js";
import type { CoreRecord } from "../../agent/src/core/core.js";

const CLIENT = "10.30.0.1";
const SERVER = "10.30.0.2";

function clientSegment(seq: number, payload: number[], flags = "AP") {
  return tcpFrame({ src: CLIENT, dst: SERVER, srcPort: 41000, dstPort: 502, seq, payload, flags });
}

// Read Exception Status (function code 7) has no request data: an 8-byte
// ADU, the smallest Modbus request.
function readExceptionStatus(transactionId: number): number[] {
  return modbusAdu(transactionId, 1, [7]);
}

test("thousands of minimal ADUs in one delivery", async () => {
  // The second segment (7000 ADUs) arrives before the first fills the hole
  // in front of it, so both reach the dissector as one 56,008-byte run.
  const isn = 20000;
  const first = readExceptionStatus(0);
  const rest = Array.from({ length: 7000 }, (_, i) => readExceptionStatus(i + 1)).flat();
  const frames = [
    clientSegment(isn - 1, [], "S"),
    clientSegment(isn + first.length, rest),
    clientSegment(isn, first),
  ];
  const run = await runFrames(frames, { limits: { eventBufferBytes: 131072 } });
  const ids = modbusRecords(run).map((r) => r.fields.transaction_id);

  assert.is(ids.length, 7001);
  assert.equal(ids.slice(0, 3), [0, 1, 2]);
  assert.is(ids[7000], 7000);
  assert.is(run.anomalies["event.buffer_full"], undefined);
  assert.ok(run.counters["stream.delivery_pauses"] > 0, "no delivery paused");
});

test("thousands of minimal ADUs in one segment", async () => {
  // 7000 ADUs in order in one 56,000-byte segment, then a FIN in the same
  // packet as the last bytes: the paused delivery ends before the flow closes.
  const isn = 30000;
  const payload = Array.from({ length: 7000 }, (_, i) => readExceptionStatus(i)).flat();
  const frames = [clientSegment(isn - 1, [], "S"), clientSegment(isn, payload, "FA")];
  const run = await runFrames(frames, { limits: { eventBufferBytes: 131072, streamBufferBytes: 65536 } });

  assert.is(modbusRecords(run).length, 7000);
  assert.is(run.anomalies["event.buffer_full"], undefined);
  assert.ok(run.counters["stream.delivery_pauses"] > 0, "no delivery paused");
});

// A batch of Modbus requests with the caplen of record `corrupt` replaced.
function batchWithCaplen(count: number, corrupt: number, caplen: number) {
  const c = new TcpConversation("10.31.0.1", 41001, "10.31.0.2", 502).handshake();
  for (let i = 0; i < count; i++) c.fromClient(readHoldingRequest(i, i, 1));
  const batch = batchOf(timed(c.frames));
  const view = new DataView(batch.bytes.buffer);
  let at = 0;
  for (let i = 0; i < corrupt; i++) at += 16 + view.getUint32(at + 8, true);
  view.setUint32(at + 8, caplen, true);
  return { batch, at };
}

test("corrupt caplen mid-batch stops the batch", async () => {
  // Record 10 of 23 (3 handshake frames, then 20 requests) claims 300,000
  // bytes, above the 262,144-byte caplen limit: no record boundary after it
  // can be trusted, so nothing after it may be read.
  const { logger, entries } = memoryLogger();
  const { batch, at } = batchWithCaplen(20, 10, 300000);
  const core = await loadCore(undefined, logger);
  const records: CoreRecord[] = [];
  core.process(batch, (r) => records.push(r));
  core.finish((r) => records.push(r));
  const stats = core.stats();

  assert.is(stats.counters["packets"], 10);
  assert.is(stats.anomalies["pcap.record_length_invalid"], 1);
  assert.is(records.filter((r) => r.type === "modbus").length, 7);
  const entry = entries.find((e) => e.batchOffset === at);
  assert.ok(entry, "no log entry for the stopped batch");
  assert.match(String(entry!.msg), `batch stopped at byte ${at} of test fixture: caplen 300000 exceeds 262144 bytes`);
});

test("batch larger than scratch with a corrupt record", async () => {
  // 5 MiB of frames so the batch needs two scratch chunks, with a corrupt
  // caplen in the second: the first chunk decodes whole.
  const c = new TcpConversation("10.32.0.1", 41002, "10.32.0.2", 502).handshake();
  const segment = Array.from({ length: 100 }, (_, i) => readHoldingRequest(i, i, 1)).flat();
  for (let i = 0; i < 4000; i++) c.fromClient(segment);
  const batch = batchOf(timed(c.frames));
  const view = new DataView(batch.bytes.buffer);
  let at = 0;
  for (let i = 0; i < 3500; i++) at += 16 + view.getUint32(at + 8, true);
  view.setUint32(at + 8, 0x7fffffff, true);
  const core = await loadCore();
  let modbus = 0;
  core.process(batch, (r) => { if (r.type === "modbus") modbus++; });
  core.finish(() => {});
  const stats = core.stats();

  assert.is(stats.counters["packets"], 3500);
  assert.is(stats.anomalies["pcap.record_length_invalid"], 1);
  assert.is(modbus, 3497 * 100);
});

test.run();
