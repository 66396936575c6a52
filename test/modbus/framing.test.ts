// Modbus/TCP dissector through the whole core, on hand-built conversations:
// MBAP framing across and within segments, request/response matching and the
// anomalies named after what the bytes show.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { TcpConversation } from "../helpers/frames.js";
import { adu, anomaliesOf, runFrames, u16 } from "./run.js";

const CLIENT = "10.0.0.1";
const SERVER = "10.0.0.2";

function conversation(clientIsn?: number): TcpConversation {
  return new TcpConversation(CLIENT, 50000, SERVER, 502, clientIsn).handshake();
}

// FC3 read holding registers: request for `quantity` registers at `start`,
// and a response carrying that many register values.
const readRequest = (tid: number, start: number, quantity: number) => adu(tid, 1, [3, ...u16(start), ...u16(quantity)]);
const readResponse = (tid: number, quantity: number) =>
  adu(tid, 1, [3, quantity * 2, ...Array.from({ length: quantity * 2 }, (_, i) => i & 0xff)]);

test("modbus two ADUs in one segment", async () => {
  const c = conversation();
  c.fromClient([...readRequest(1, 100, 2), ...readRequest(2, 200, 3)]);
  c.fromServer([...readResponse(1, 2), ...readResponse(2, 3)]);
  const { modbus } = await runFrames(c.frames);

  assert.is(modbus.length, 4);
  assert.equal(modbus.map((r) => r.fields.transaction_id), [1, 2, 1, 2]);
  assert.equal(modbus.map((r) => r.fields.pdu_type), ["request", "request", "response", "response"]);
  assert.equal(modbus.map((r) => r.fields.start_address), [100, 200, 100, 200]);
  assert.equal(modbus.map((r) => r.fields.quantity), [2, 3, 2, 3]);
  assert.equal(modbus.map((r) => r.fields.byte_count), [undefined, undefined, 4, 6]);
  assert.is(modbus[2].fields.function, "READ_HOLDING_REGISTERS");
  assert.is(modbus[2].serverToClient, true);
  assert.is(modbus[0].serverToClient, false);
  assert.is(typeof modbus[2].fields.rtt_us, "number");
  assert.is(modbus[0].src.ip, CLIENT);
  assert.is(modbus[0].dst.port, 502);
});

test("modbus one ADU across three segments", async () => {
  const c = conversation();
  const request = readRequest(7, 0x1234, 10);
  c.fromClient(request.slice(0, 5)).fromClient(request.slice(5, 9)).fromClient(request.slice(9));
  const { modbus, anomalies } = await runFrames(c.frames);

  assert.is(modbus.length, 1);
  assert.is(modbus[0].fields.transaction_id, 7);
  assert.is(modbus[0].fields.start_address, 0x1234);
  assert.is(modbus[0].fields.quantity, 10);
  assert.equal(anomaliesOf(modbus[0]), []);
  assert.is(anomalies["modbus.unanswered_request"], 1);
});

test("modbus sequence number wraparound inside an ADU", async () => {
  // After the SYN the client's next sequence number is 2^32 - 5, so the
  // 12-byte request crosses 2^32 in its first segment and the next segment
  // starts after the wrap.
  const c = conversation(0xffff_fffa);
  const request = readRequest(9, 40, 4);
  c.fromClient(request.slice(0, 8)).fromClient(request.slice(8));
  c.fromServer(readResponse(9, 4));
  const { modbus } = await runFrames(c.frames);

  assert.is(modbus.length, 2);
  assert.is(modbus[0].fields.start_address, 40);
  assert.is(modbus[0].fields.quantity, 4);
  assert.is(modbus[1].fields.pdu_type, "response");
  assert.equal(anomaliesOf(modbus[1]), []);
});

test("modbus exception response", async () => {
  const c = conversation();
  c.fromClient(readRequest(3, 9000, 1));
  c.fromServer(adu(3, 1, [0x83, 0x02]));
  const { modbus, anomalies } = await runFrames(c.frames);

  assert.is(modbus.length, 2);
  const response = modbus[1];
  assert.is(response.fields.function_code, 0x83);
  assert.is(response.fields.function, "READ_HOLDING_REGISTERS_EXCEPTION");
  assert.is(response.fields.exception_code, 2);
  assert.is(response.fields.exception, "ILLEGAL_DATA_ADDRESS");
  assert.is(response.fields.start_address, 9000);
  assert.is(typeof response.fields.rtt_us, "number");
  assert.equal(anomaliesOf(response), []);
  assert.is(anomalies["modbus.unanswered_request"], undefined);
});

test("modbus unmatched response", async () => {
  const c = conversation();
  c.fromClient(readRequest(1, 0, 1));
  c.fromServer(readResponse(1, 1));
  c.fromServer(readResponse(77, 1));
  const { modbus, anomalies } = await runFrames(c.frames);

  assert.is(modbus.length, 3);
  assert.is(modbus[2].fields.transaction_id, 77);
  assert.equal(anomaliesOf(modbus[2]), ["modbus.unmatched_response"]);
  assert.is(modbus[2].fields.rtt_us, undefined);
  assert.is(anomalies["modbus.unmatched_response"], 1);
});

test("modbus function mismatch", async () => {
  const c = conversation();
  c.fromClient(readRequest(5, 0, 1));
  c.fromServer(adu(5, 1, [4, 2, 0, 0]));
  const { modbus, anomalies } = await runFrames(c.frames);

  assert.equal(anomaliesOf(modbus[1]), ["modbus.function_mismatch"]);
  assert.is(anomalies["modbus.function_mismatch"], 1);
});

test("modbus length mismatch in FC16", async () => {
  // Two registers announced, byte count 4, but six value bytes follow: the
  // MBAP length covers bytes the PDU's own fields do not account for.
  const c = conversation();
  c.fromClient(adu(1, 1, [16, ...u16(10), ...u16(2), 4, 0, 1, 0, 2, 0, 3]));
  const { modbus, anomalies } = await runFrames(c.frames);

  assert.is(modbus.length, 1);
  assert.is(modbus[0].fields.function, "WRITE_MULTIPLE_REGISTERS");
  assert.is(modbus[0].fields.byte_count, 4);
  assert.equal(anomaliesOf(modbus[0]), ["modbus.length_mismatch"]);
  assert.is(anomalies["modbus.length_mismatch"], 1);
});

test("modbus truncated PDU", async () => {
  const c = conversation();
  c.fromClient(adu(1, 1, [3, 0, 1]));
  const { modbus, anomalies } = await runFrames(c.frames);

  assert.is(modbus.length, 1);
  assert.is(modbus[0].fields.start_address, undefined);
  assert.equal(anomaliesOf(modbus[0]), ["modbus.pdu_truncated"]);
  assert.is(anomalies["modbus.pdu_truncated"], 1);
});

test("modbus invalid first length not dispatched", async () => {
  // The probe reads length 300 in the first header, so the flow never becomes Modbus.
  const c = conversation();
  c.fromClient([...adu(1, 1, [3, 0, 0, 0, 1], { length: 300 }), ...readRequest(2, 5, 1)]);
  const { modbus, counters } = await runFrames(c.frames);

  assert.is(modbus.length, 0);
  assert.is(counters["flows.modbus"], undefined);
});

test("modbus garbage on port 502 rejected", async () => {
  const c = conversation();
  c.fromClient(Array.from(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: plc\r\n\r\n")));
  c.fromServer(Array.from(new TextEncoder().encode("HTTP/1.1 400 Bad Request\r\n\r\n")));
  c.fromClient(Array.from(new TextEncoder().encode("GET /status HTTP/1.1\r\n\r\n")));
  const { modbus, counters, anomalies } = await runFrames(c.frames);

  assert.is(modbus.length, 0);
  assert.is(counters["flows.modbus"], undefined);
  // Three segments were probed, but the anomaly counts the flow once.
  assert.is(anomalies["modbus.non_modbus_on_port_502"], 1);
});

test("modbus protocol id nonzero resynchronises", async () => {
  // Two ADUs with protocol id 1 are not Modbus (TCP guide 3.1.3). The
  // dissector counts the first, skips both while it looks for the next
  // plausible header, and reads request 4 after them.
  const c = conversation();
  c.fromClient(readRequest(1, 0, 1));
  c.fromClient(adu(2, 1, [3, 0, 0, 0, 1], { protocolId: 1 }));
  c.fromClient(adu(3, 1, [3, 0, 0, 0, 1], { protocolId: 1 }));
  c.fromClient(readRequest(4, 0, 1));
  const { modbus, anomalies } = await runFrames(c.frames);

  assert.equal(modbus.map((r) => r.fields.transaction_id), [1, 4]);
  assert.is(anomalies["modbus.protocol_id_nonzero"], 1);
  assert.is(anomalies["modbus.resync_bytes_skipped"], 1);
});

test("modbus garbage after a valid ADU is rejected", async () => {
  // After one request, 3,000 bytes with no plausible MBAP header: the
  // dissector gives up after RESYNC_LIMIT_BYTES (8 x 260) and writes nothing
  // more, and a later request on the flow is not read.
  const c = conversation();
  c.fromClient(readRequest(1, 0, 1));
  const garbage = Array.from({ length: 3000 }, (_, i) => 0x41 + (i % 26));
  for (let at = 0; at < garbage.length; at += 1000) c.fromClient(garbage.slice(at, at + 1000));
  c.fromClient(readRequest(2, 0, 1));
  const { modbus, anomalies } = await runFrames(c.frames);

  assert.equal(modbus.map((r) => r.fields.transaction_id), [1]);
  // "AB" then "CD": the first header read has protocol id 0x4344.
  assert.is(anomalies["modbus.protocol_id_nonzero"], 1);
  assert.is(anomalies["modbus.resync_limit_reached"], 1);
});

test("modbus invalid length resynchronises", async () => {
  // After a valid request, length 300 cannot be framed (at most 254): the
  // dissector skips bytes until the next plausible header.
  const c = conversation();
  c.fromClient(readRequest(1, 0, 1));
  c.fromClient([...adu(2, 1, [3, 0, 0, 0, 1], { length: 300 }), ...readRequest(3, 5, 1)]);
  const { modbus, anomalies } = await runFrames(c.frames);

  assert.equal(modbus.map((r) => r.fields.transaction_id), [1, 3]);
  assert.is(anomalies["modbus.length_invalid"], 1);
  assert.is(anomalies["modbus.resync_bytes_skipped"], 1);
});

test("modbus resynchronises after a gap", async () => {
  // The segment with the first half of request 2 is lost; the next segment
  // contains its second half and then request 3.
  const c = conversation();
  c.fromClient(readRequest(1, 0, 1));
  const lost = readRequest(2, 0, 1);
  c.clientSeq = (c.clientSeq + 6) >>> 0;
  c.fromClient([...lost.slice(6), ...readRequest(3, 30, 1)]);
  c.fromClient(readRequest(4, 40, 1));
  const { modbus, anomalies } = await runFrames(c.frames);

  assert.equal(modbus.map((r) => r.fields.transaction_id), [1, 3, 4]);
  assert.is(modbus[1].fields.start_address, 30);
  assert.is(anomalies["modbus.resync_bytes_skipped"], 1);
});

test("modbus pending table overflow", async () => {
  // 65 requests that are never answered: the 65th evicts the oldest of the
  // 64 pending entries, and the 64 left are reported when the flow closes.
  const c = conversation();
  for (let tid = 1; tid <= 65; tid++) c.fromClient(readRequest(tid, tid, 1));
  const { modbus, anomalies } = await runFrames(c.frames);

  assert.is(modbus.length, 65);
  assert.equal(anomaliesOf(modbus[64]), ["modbus.pending_overflow"]);
  assert.is(anomalies["modbus.pending_overflow"], 1);
  assert.is(anomalies["modbus.unanswered_request"], 64);
});

test("modbus pending overflow evicts oldest", async () => {
  // Requests 1 to 65 with no answer fill the 64 entries, so request 65 must
  // evict request 1. A response to request 1 then finds no request, and a
  // response to request 2 still finds its own.
  const c = conversation();
  for (let tid = 1; tid <= 65; tid++) c.fromClient(readRequest(tid, tid, 1));
  c.fromServer(readResponse(1, 1));
  c.fromServer(readResponse(2, 1));
  const { modbus } = await runFrames(c.frames);

  const responses = modbus.slice(65, 67);
  assert.is(responses.length, 2);
  assert.is(responses[0].fields.transaction_id, 1);
  assert.equal(anomaliesOf(responses[0]), ["modbus.unmatched_response"]);
  assert.is(responses[1].fields.transaction_id, 2);
  assert.equal(anomaliesOf(responses[1]), []);
  assert.is(responses[1].fields.start_address, 2);
});

test("modbus FC8 diagnostics sub-function", async () => {
  const c = conversation();
  c.fromClient(adu(1, 1, [8, ...u16(4), 0, 0]));
  c.fromServer(adu(1, 1, [0x88, 0x0b]));
  const { modbus } = await runFrames(c.frames);

  assert.is(modbus[0].fields.sub_function, 4);
  assert.is(modbus[0].fields.sub_function_name, "FORCE_LISTEN_ONLY_MODE");
  assert.is(modbus[1].fields.exception, "GATEWAY_TARGET_DEVICE_FAILED_TO_RESPOND");
  assert.is(modbus[1].fields.function, "DIAGNOSTICS_EXCEPTION");
});

test("modbus FC43/14 device identification objects", async () => {
  const text = (s: string) => Array.from(new TextEncoder().encode(s));
  const object = (id: number, value: string) => [id, value.length, ...text(value)];
  const c = conversation();
  c.fromClient(adu(1, 1, [0x2b, 14, 1, 0]));
  c.fromServer(adu(1, 1, [0x2b, 14, 1, 0x01, 0x00, 0x00, 3, ...object(0, "Acme"), ...object(1, "PLC-9"), ...object(2, "V2.1")]));
  const { modbus } = await runFrames(c.frames);

  assert.is(modbus[0].fields.mei_type, 14);
  assert.is(modbus[0].fields.read_device_id_code, 1);
  assert.is(modbus[0].fields.object_id, 0);
  assert.is(modbus[1].fields.vendor_name, "Acme");
  assert.is(modbus[1].fields.product_code, "PLC-9");
  assert.is(modbus[1].fields.revision, "V2.1");
  assert.equal(anomaliesOf(modbus[1]), []);
});

test("modbus FC22 and FC23 fields", async () => {
  const c = conversation();
  c.fromClient(adu(1, 1, [22, ...u16(4), ...u16(0xf2f2), ...u16(0x0025)]));
  c.fromClient(adu(2, 1, [23, ...u16(3), ...u16(6), ...u16(14), ...u16(3), 6, 0, 0xff, 0, 0xff, 0, 0xff]));
  const { modbus } = await runFrames(c.frames);

  assert.is(modbus[0].fields.function, "MASK_WRITE_REGISTER");
  assert.is(modbus[0].fields.start_address, 4);
  assert.is(modbus[0].fields.and_mask, 0xf2f2);
  assert.is(modbus[0].fields.or_mask, 0x0025);
  assert.is(modbus[1].fields.function, "READ_WRITE_MULTIPLE_REGISTERS");
  assert.is(modbus[1].fields.read_start_address, 3);
  assert.is(modbus[1].fields.read_quantity, 6);
  assert.is(modbus[1].fields.write_start_address, 14);
  assert.is(modbus[1].fields.write_quantity, 3);
  assert.is(modbus[1].fields.byte_count, 6);
  assert.equal(anomaliesOf(modbus[1]), []);
});

test("modbus function code names", async () => {
  // One request each: a public code, a user-defined code, UMAS and a code
  // that is in no category.
  const c = conversation();
  c.fromClient(adu(1, 1, [15, ...u16(0), ...u16(3), 1, 0x05]));
  c.fromClient(adu(2, 1, [65]));
  c.fromClient(adu(3, 1, [90, 0, 0x02]));
  c.fromClient(adu(4, 1, [9]));
  const { modbus } = await runFrames(c.frames);

  assert.equal(modbus.map((r) => r.fields.function), ["WRITE_MULTIPLE_COILS", "USER_DEFINED", "UMAS", "UNKNOWN"]);
  assert.equal(anomaliesOf(modbus[0]), []);
});

test.run();
