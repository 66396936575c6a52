// Floods: the core stays within the memory fixed by its limits, evicts and
// counts, and keeps decoding a Modbus flow that stays active meanwhile.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { TcpConversation, tcpFrame } from "../helpers/frames.js";
import type { PacketBatch } from "../../agent/src/capture/batch.js";
import type { CoreRecord } from "../../agent/src/core/core.js";
import { loadCore, modbusAdu, modbusRecords, readHoldingRequest, readHoldingResponse, runFrames } from "./run.js";

// Fills a batch with `count` SYN segments from distinct sources (one flow
// each) and, every `every` SYNs, the next frame of `interleaved`. Frames are
// written straight into one buffer: a million tcpFrame calls would take
// longer than the core needs to process them.
function synFloodBatch(count: number, every: number, interleaved: Uint8Array[], startSec: number): PacketBatch {
  const template = tcpFrame({ src: "172.16.0.1", dst: "10.50.0.2", srcPort: 1024, dstPort: 502, seq: 1, flags: "S" });
  const extra = interleaved.reduce((n, f) => n + 16 + f.length, 0);
  const bytes = new Uint8Array(count * (16 + template.length) + extra);
  const view = new DataView(bytes.buffer);
  let at = 0;
  let next = 0;
  const put = (frame: Uint8Array, i: number) => {
    view.setUint32(at, startSec + Math.floor(i / 100_000), true);
    view.setUint32(at + 4, i % 100_000, true);
    view.setUint32(at + 8, frame.length, true);
    view.setUint32(at + 12, frame.length, true);
    bytes.set(frame, at + 16);
    at += 16 + frame.length;
  };
  for (let i = 0; i < count; i++) {
    if (i % every === 0 && next < interleaved.length) put(interleaved[next++], i);
    const start = at + 16;
    put(template, i);
    // Source address 172.16.0.0/12 plus source port: a distinct flow per SYN.
    const source = 0xac100000 + Math.floor(i / 50_000);
    view.setUint32(start + 26, source);
    view.setUint16(start + 34, 1024 + (i % 50_000));
  }
  while (next < interleaved.length) put(interleaved[next++], count);
  return { linkType: 1, fracPerSecond: 1_000_000, bytes, byteLength: at, count: count + interleaved.length, source: "syn flood", firstRecordOffset: 0 };
}

// A long-lived Modbus flow: `exchanges` reads with their responses.
function pollingFrames(exchanges: number): Uint8Array[] {
  const c = new TcpConversation("10.50.0.1", 47000, "10.50.0.2", 502).handshake();
  for (let i = 0; i < exchanges; i++) c.fromClient(readHoldingRequest(i & 0xffff, i & 0xff, 1)).fromServer(readHoldingResponse(i & 0xffff, [i & 0xffff]));
  return c.frames;
}

async function flood(count: number, every: number, exchanges: number, maxFlows: number) {
  const core = await loadCore({ maxFlows, appStateSlots: 256 });
  const memory = core.memorySize();
  const records: CoreRecord[] = [];
  const polling = pollingFrames(exchanges);
  core.process(synFloodBatch(count, every, polling, 1_700_000_000), (r) => records.push(r));
  const memoryAfter = core.memorySize();
  core.finish((r) => records.push(r));
  return { core, memory, memoryAfter, records, polling, ...core.stats() };
}

test("syn flood evicts and keeps a modbus flow", async () => {
  // 100,000 SYNs through a table of 4096 flows; the polling flow sends a
  // frame every 1000 SYNs, so it is never the least recently used.
  const run = await flood(100_000, 1000, 48, 4096);
  const modbus = modbusRecords(run);

  assert.is(run.memoryAfter, run.memory);
  assert.is(run.counters["flows.created"], 100_001);
  assert.is(run.counters["flows.evicted"], 100_001 - 4096);
  assert.is(run.anomalies["flow.table_full_eviction"], 100_001 - 4096);
  assert.is(modbus.length, 96);
  assert.ok(modbus.every((r) => r.src.ip === "10.50.0.1"));
  assert.is(modbus.filter((r) => r.fields.rtt_us !== undefined).length, 48, "every response matched its request");
});

test("one million distinct flows", async () => {
  // 1,000,000 SYNs, each its own flow, through a table of 65,536 flows (the
  // default); the polling flow is active every 10,000 SYNs.
  const run = await flood(1_000_000, 10_000, 99, 65536);

  assert.is(run.memoryAfter, run.memory);
  assert.is(run.counters["flows.created"], 1_000_001);
  assert.is(run.counters["flows.evicted"], 1_000_001 - 65536);
  assert.is(modbusRecords(run).length, 198);
});

test("quiet flow evicted by a larger flood", async () => {
  // The limit of LRU eviction: more new flows than maxFlows between two
  // packets of a flow evict it. A request before the flood and its response
  // after it are then not matched; the response itself is still decoded,
  // because the flow is picked up again midstream.
  const polling = pollingFrames(2);
  const response = polling.pop()!;
  const core = await loadCore({ maxFlows: 1024, appStateSlots: 256 });
  const records: CoreRecord[] = [];
  const onRecord = (r: CoreRecord) => { records.push(r); };
  core.process(synFloodBatch(0, 1, polling, 1_700_000_000), onRecord);
  core.process(synFloodBatch(5000, 10_000, [], 1_700_000_001), onRecord);
  core.process(synFloodBatch(0, 1, [response], 1_700_000_002), onRecord);
  core.finish(onRecord);
  const { counters, anomalies } = core.stats();
  const modbus = records.filter((r) => r.type === "modbus");

  // The SYNs, the polling flow and its midstream pickup: 5002 flows in 1024.
  assert.is(counters["flows.evicted"], 5002 - 1024);
  assert.is(anomalies["modbus.unanswered_request"], 1);
  assert.is(anomalies["modbus.unmatched_response"], 1);
  assert.equal(modbus.map((r) => r.fields.pdu_type), ["request", "response", "request", "response"]);
});

// Write Multiple Registers (function code 16) of `count` registers.
function writeRequest(transactionId: number, count: number): number[] {
  const values = Array.from({ length: count }, (_, i) => [0x10 + (i >> 8), i & 0xff]).flat();
  return modbusAdu(transactionId, 1, [16, 0, 100, 0, count, 2 * count, ...values]);
}

function tinySegments(order: (n: number) => number[]): Uint8Array[] {
  const isn = 70000;
  const write = writeRequest(9, 60);
  const frames = [tcpFrame({ src: "10.51.0.1", dst: "10.51.0.2", srcPort: 47100, dstPort: 502, seq: isn - 1, flags: "S" })];
  for (const i of order(write.length)) {
    frames.push(tcpFrame({ src: "10.51.0.1", dst: "10.51.0.2", srcPort: 47100, dstPort: 502, seq: isn + i, payload: [write[i]] }));
  }
  return frames;
}

test("tiny segments reassembled in reverse", async () => {
  // The 133 bytes of one write as 1-byte segments, last byte first: the
  // held bytes form one growing range, within the stream buffer.
  const run = await runFrames(tinySegments((n) => Array.from({ length: n }, (_, i) => n - 1 - i)));
  const writes = modbusRecords(run).filter((r) => r.fields.function_code === 16);

  assert.is(writes.length, 1);
  assert.is(writes[0].fields.quantity, 60);
  assert.is(run.anomalies["tcp.out_of_order_limit"], undefined);
});

test("tiny segments beyond the range bound", async () => {
  // Odd bytes first, then even bytes: 66 disjoint ranges behind holes, more
  // than the 16 a stream buffer can keep. The core gives up on the holes and
  // counts that, instead of dropping the bytes without a trace.
  const order = (n: number) => [...Array.from({ length: n }, (_, i) => i).filter((i) => i % 2 === 1), ...Array.from({ length: n }, (_, i) => i).filter((i) => i % 2 === 0)];
  const run = await runFrames(tinySegments(order));

  assert.ok(run.anomalies["tcp.out_of_order_limit"] > 0, "no out-of-order limit anomaly");
  assert.ok(run.anomalies["tcp.seq_gap"] > 0, "no gap anomaly");
  assert.ok(run.counters["stream.bytes_lost"] > 0);
  assert.is(modbusRecords(run).filter((r) => r.fields.function_code === 16 && r.fields.quantity === 60).length, 0);
});

test.run();
