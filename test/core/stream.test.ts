// TCP reassembly seen through the Modbus dissector: records must come out
// the same however the bytes are cut into segments, ordered or repeated.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { TcpConversation, tcpFrame } from "../helpers/frames.js";
import { runFrames, modbusRecords, readHoldingRequest, readHoldingResponse, seededRandom } from "./run.js";

const CLIENT = "10.0.0.1";
const SERVER = "10.0.0.2";
const CLIENT_PORT = 40000;

function clientSegment(seq: number, payload: number[], flags = "AP") {
  return tcpFrame({ src: CLIENT, dst: SERVER, srcPort: CLIENT_PORT, dstPort: 502, seq, payload, flags });
}

function requestIds(records: ReturnType<typeof modbusRecords>): unknown[] {
  return records.filter((r) => r.fields.pdu_type === "request").map((r) => r.fields.transaction_id);
}

test("modbus two ADUs in one segment", async () => {
  const c = new TcpConversation(CLIENT, CLIENT_PORT, SERVER, 502).handshake();
  c.fromClient([...readHoldingRequest(1, 100, 2), ...readHoldingRequest(2, 200, 1)]);
  c.fromServer([...readHoldingResponse(1, [7, 8]), ...readHoldingResponse(2, [9])]);
  const run = await runFrames(c.frames);
  const records = modbusRecords(run);

  assert.is(records.length, 4);
  assert.equal(requestIds(records), [1, 2]);
  assert.equal(records.map((r) => r.serverToClient), [false, false, true, true]);
  assert.equal(records[1].fields.start_address, 200);
  assert.equal(records[0].src, { ip: CLIENT, port: CLIENT_PORT });
  assert.equal(records[0].dst, { ip: SERVER, port: 502 });
  assert.is(run.counters["flows.modbus"], 1);
});

test("modbus one ADU across three segments", async () => {
  const request = readHoldingRequest(5, 1000, 10);
  const c = new TcpConversation(CLIENT, CLIENT_PORT, SERVER, 502).handshake();
  c.fromClient(request.slice(0, 3)).fromClient(request.slice(3, 7)).fromClient(request.slice(7));
  const run = await runFrames(c.frames);
  const records = modbusRecords(run);

  assert.is(records.length, 1);
  assert.is(records[0].fields.transaction_id, 5);
  assert.is(records[0].fields.quantity, 10);
  assert.is(run.counters["stream.bytes_delivered"], request.length);
});

test("modbus ADU across the sequence number wrap", async () => {
  // The client's data starts 5 bytes before 2^32, so the first ADU spans
  // the wrap and the second starts after it.
  const c = new TcpConversation(CLIENT, CLIENT_PORT, SERVER, 502, 0xfffffffa).handshake();
  const first = readHoldingRequest(11, 10, 1);
  c.fromClient(first.slice(0, 4)).fromClient(first.slice(4));
  c.fromClient(readHoldingRequest(12, 20, 1));
  const run = await runFrames(c.frames);

  assert.equal(requestIds(modbusRecords(run)), [11, 12]);
  assert.is(run.anomalies["tcp.seq_gap"], undefined);
});

test("modbus segments out of order", async () => {
  const request = readHoldingRequest(21, 300, 4);
  const isn = 1001;
  const frames = [
    clientSegment(isn - 1, [], "S"),
    clientSegment(isn + 8, request.slice(8)),
    clientSegment(isn + 4, request.slice(4, 8)),
    clientSegment(isn, request.slice(0, 4)),
    clientSegment(isn + 12, readHoldingRequest(22, 301, 1)),
  ];
  const run = await runFrames(frames);

  assert.equal(requestIds(modbusRecords(run)), [21, 22]);
  assert.is(modbusRecords(run)[0].fields.start_address, 300);
  assert.is(run.counters["tcp.out_of_order"], 2);
  assert.is(run.anomalies["tcp.seq_gap"], undefined);
});

test("modbus retransmission gives one record", async () => {
  const request = readHoldingRequest(31, 1, 1);
  const isn = 5001;
  const frames = [
    clientSegment(isn - 1, [], "S"),
    clientSegment(isn, request),
    clientSegment(isn, request),
    // A partial retransmission overlapping the end of the first ADU.
    clientSegment(isn + 6, [...request.slice(6), ...readHoldingRequest(32, 2, 1)]),
  ];
  const run = await runFrames(frames);

  assert.equal(requestIds(modbusRecords(run)), [31, 32]);
  assert.is(run.anomalies["tcp.overlap_conflict"], undefined);
});

test("conflicting overlap keeps the first bytes", async () => {
  const request = readHoldingRequest(41, 500, 3);
  const altered = readHoldingRequest(41, 999, 3);
  const isn = 7001;
  const frames = [
    clientSegment(isn - 1, [], "S"),
    clientSegment(isn + 6, request.slice(6)),
    clientSegment(isn + 6, altered.slice(6)),
    clientSegment(isn, request.slice(0, 6)),
  ];
  const run = await runFrames(frames);
  const records = modbusRecords(run);

  assert.is(records.length, 1);
  assert.is(records[0].fields.start_address, 500);
  assert.is(run.anomalies["tcp.overlap_conflict"], 1);
});

test("gap at flow end then resync", async () => {
  // The segment carrying ADU 52 is never seen; ADU 53 waits behind the hole
  // until the end of input declares the gap.
  const isn = 9001;
  const a = readHoldingRequest(51, 1, 1);
  const b = readHoldingRequest(52, 2, 1);
  const frames = [
    clientSegment(isn - 1, [], "S"),
    clientSegment(isn, a),
    clientSegment(isn + a.length + b.length, readHoldingRequest(53, 3, 1)),
  ];
  const run = await runFrames(frames);

  assert.equal(requestIds(modbusRecords(run)), [51, 53]);
  assert.is(run.anomalies["tcp.seq_gap"], 1);
  assert.is(run.counters["stream.bytes_lost"], b.length);
});

test("gap when buffer fills behind hole", async () => {
  // With a 16,388-byte stream buffer (the smallest accepted), 1500 ADUs
  // (18,000 bytes) behind a hole cannot all be held: the core gives up on
  // the hole and resynchronises.
  const isn = 11001;
  const lost = readHoldingRequest(60, 0, 1);
  const frames = [clientSegment(isn - 1, [], "S"), clientSegment(isn, readHoldingRequest(59, 0, 1))];
  let seq = isn + 12 + lost.length;
  for (let id = 61; id < 1561; id++) {
    const adu = readHoldingRequest(id, id, 1);
    frames.push(clientSegment(seq, adu));
    seq += adu.length;
  }
  const run = await runFrames(frames, { limits: { streamBufferBytes: 16388 } });
  const ids = requestIds(modbusRecords(run));

  assert.is(ids[0], 59);
  assert.not.ok(ids.includes(60));
  assert.is(ids.length, 1501);
  assert.is(ids[ids.length - 1], 1560);
  assert.is(run.anomalies["tcp.seq_gap"], 1);
});

// Builds ADUs 0..count-1 of 12 bytes each at their stream offsets from `isn`.
function aduSegments(isn: number, count: number) {
  return Array.from({ length: count }, (_, id) => clientSegment(isn + id * 12, readHoldingRequest(id, id, 1)));
}

test("out-of-order limit gives up the first hole", async () => {
  // Only odd ADUs arrive: 17 ranges behind holes, one more than a stream
  // buffer can track.
  const isn = 15001;
  const segments = aduSegments(isn, 34);
  const frames = [clientSegment(isn - 1, [], "S"), ...segments.filter((_, id) => id % 2 === 1)];
  const run = await runFrames(frames);
  const expected = Array.from({ length: 17 }, (_, i) => 2 * i + 1);

  assert.equal(requestIds(modbusRecords(run)), expected);
  assert.is(run.anomalies["tcp.out_of_order_limit"], 1);
  assert.is(run.anomalies["tcp.seq_gap"], 17);
});

test("out-of-order limit at base seq", async () => {
  // Even ADUs 2..32 wait behind holes, then ADU 0 arrives at base seq: the
  // farthest range (ADU 32) makes room for it.
  const isn = 17001;
  const segments = aduSegments(isn, 34);
  const frames = [clientSegment(isn - 1, [], "S"), ...segments.filter((_, id) => id % 2 === 0 && id > 0), segments[0]];
  const run = await runFrames(frames);
  const expected = Array.from({ length: 16 }, (_, i) => 2 * i);

  assert.equal(requestIds(modbusRecords(run)), expected);
  assert.is(run.anomalies["tcp.out_of_order_limit"], 1);
  assert.is(run.anomalies["tcp.seq_gap"], 15);
});

test("random segmentation, reordering and repeats", async () => {
  // However the stream is cut, reordered (neighbours swapped) or partly
  // resent with the same bytes, the records are the same. Odd rounds start
  // just before the sequence number wrap.
  for (let round = 0; round < 20; round++) {
    const random = seededRandom(0x57e40000 + round);
    const stream = Array.from({ length: 200 }, (_, id) => readHoldingRequest(id, id, 1)).flat();
    const isn = round % 2 === 1 ? 0x100000000 - 1000 : 1 + Math.floor(random() * 1e9);
    const segments: Array<[number, number]> = [];
    for (let at = 0; at < stream.length; ) {
      const size = 1 + Math.floor(random() * 40);
      segments.push([at, Math.min(stream.length, at + size)]);
      at += size;
    }
    for (let i = 0; i + 1 < segments.length; i++) {
      if (random() < 0.3) [segments[i], segments[i + 1]] = [segments[i + 1], segments[i]];
    }
    const withRepeats: Array<[number, number]> = [];
    for (const segment of segments) {
      withRepeats.push(segment);
      if (random() < 0.1) {
        const start = Math.max(0, segment[0] - Math.floor(random() * 30));
        withRepeats.push([start, segment[1]]);
      }
    }
    const frames = [
      clientSegment((isn - 1) >>> 0, [], "S"),
      ...withRepeats.map(([a, b]) => clientSegment((isn + a) >>> 0, stream.slice(a, b))),
    ];
    const run = await runFrames(frames);

    assert.equal(requestIds(modbusRecords(run)), Array.from({ length: 200 }, (_, id) => id), `round ${round}`);
    assert.is(run.anomalies["tcp.seq_gap"], undefined, `round ${round}`);
    assert.is(run.anomalies["tcp.overlap_conflict"], undefined, `round ${round}`);
  }
});

test("midstream pickup from the server side", async () => {
  // No handshake, and the first segment is a response: the side on port
  // 502 is still the responder.
  const frames = [
    tcpFrame({ src: SERVER, dst: CLIENT, srcPort: 502, dstPort: CLIENT_PORT, seq: 77, payload: readHoldingResponse(70, [1]) }),
    clientSegment(123456, readHoldingRequest(71, 4, 1)),
  ];
  const run = await runFrames(frames);
  const records = modbusRecords(run);

  assert.is(records.length, 2);
  assert.equal(records.map((r) => r.serverToClient), [true, false]);
  assert.equal(records[0].src, { ip: CLIENT, port: CLIENT_PORT });
  assert.equal(records[1].fields.transaction_id, 71);
});

test("FIN from both sides closes the flow", async () => {
  const c = new TcpConversation(CLIENT, CLIENT_PORT, SERVER, 502).handshake();
  c.fromClient(readHoldingRequest(81, 1, 1)).fromServer(readHoldingResponse(81, [2]));
  c.frames.push(tcpFrame({ src: CLIENT, dst: SERVER, srcPort: CLIENT_PORT, dstPort: 502, seq: c.clientSeq, flags: "FA" }));
  c.frames.push(tcpFrame({ src: SERVER, dst: CLIENT, srcPort: 502, dstPort: CLIENT_PORT, seq: c.serverSeq, flags: "FA" }));
  c.frames.push(tcpFrame({ src: CLIENT, dst: SERVER, srcPort: CLIENT_PORT, dstPort: 502, seq: c.clientSeq + 1, flags: "A" }));
  const run = await runFrames(c.frames);

  assert.is(modbusRecords(run).length, 2);
  assert.is(run.counters["flows.created"], 1);
  assert.is(run.counters["flows.closed"], 1);
  assert.is(run.counters["flows.active"], undefined);
});

test("RST closes the flow after its data", async () => {
  const isn = 13001;
  const frames = [clientSegment(isn - 1, [], "S"), clientSegment(isn, readHoldingRequest(91, 1, 1), "RA")];
  const run = await runFrames(frames);

  assert.equal(requestIds(modbusRecords(run)), [91]);
  assert.is(run.counters["flows.closed"], 1);
});

test("stream buffer reused after reset", async () => {
  // One stream buffer in all: the first flow keeps ADU 1 in it until ADU 0
  // arrives, and its reset returns the buffer for the second flow.
  const frames = [40001, 40002].flatMap((port, i) => {
    const isn = 21001 + i * 1000;
    const segment = (seq: number, payload: number[], flags = "AP") =>
      tcpFrame({ src: CLIENT, dst: SERVER, srcPort: port, dstPort: 502, seq, payload, flags });
    return [
      segment(isn - 1, [], "S"),
      segment(isn + 12, readHoldingRequest(10 * i + 2, 2, 1)),
      segment(isn, readHoldingRequest(10 * i + 1, 1, 1)),
      segment(isn + 24, [], "R"),
    ];
  });
  const run = await runFrames(frames, { limits: { streamBufferBytes: 16388, reassemblyBytesTotal: 16388 } });

  assert.equal(requestIds(modbusRecords(run)), [1, 2, 11, 12]);
  assert.is(run.anomalies["tcp.out_of_order_limit"], undefined);
  assert.is(run.anomalies["tcp.stream_buffer_full"], undefined);
  assert.is(run.counters["flows.closed"], 2);
});

test("non-modbus bytes on port 502", async () => {
  const c = new TcpConversation(CLIENT, CLIENT_PORT, SERVER, 502).handshake();
  const http = Array.from(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: plc\r\n\r\n"));
  for (let i = 0; i < 10; i++) c.fromClient(http);
  const run = await runFrames(c.frames);

  assert.is(modbusRecords(run).length, 0);
  assert.is(run.counters["flows.undissected"], 1);
  assert.is(run.counters["flows.modbus"], undefined);
});

test.run();
