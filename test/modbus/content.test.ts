// Modbus found by content on ports other than 502, request/response matching
// by transaction id and unit id, unit ids 0 and 255, MBAP lengths that are
// in range but wrong, and a replay of every public capture to check that no
// other protocol is taken for Modbus.
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { capturesDir } from "../helpers/captures.js";
import { TcpConversation } from "../helpers/frames.js";
import { adu, anomaliesOf, runCapture, runFrames, u16 } from "./run.js";

const CLIENT = "10.1.0.1";
const SERVER = "10.1.0.2";

function conversationOnPort(port: number): TcpConversation {
  return new TcpConversation(CLIENT, 41000, SERVER, port).handshake();
}

const readRequest = (tid: number, unit: number, start: number, quantity: number) => adu(tid, unit, [3, ...u16(start), ...u16(quantity)]);
const readResponse = (tid: number, unit: number, values: number[]) => adu(tid, unit, [3, values.length * 2, ...values.flatMap(u16)]);

test("modbus on port 5020 confirmed by response", async () => {
  // Two requests are held until the first response matches one of them;
  // then both are written with their own timestamps, before the response.
  const c = conversationOnPort(5020);
  c.fromClient(readRequest(7, 3, 100, 2));
  c.fromClient(readRequest(8, 3, 200, 1));
  c.fromServer(readResponse(7, 3, [11, 12]));
  c.fromServer(readResponse(8, 3, [13]));
  const { modbus, counters, anomalies } = await runFrames(c.frames);

  assert.equal(modbus.map((r) => `${r.fields.transaction_id} ${r.fields.pdu_type}`), ["7 request", "8 request", "7 response", "8 response"]);
  assert.is(modbus[0].ts, "2023-11-14T22:13:20.003000Z");
  assert.is(modbus[1].ts, "2023-11-14T22:13:20.004000Z");
  assert.is(modbus[2].ts, "2023-11-14T22:13:20.005000Z");
  assert.is(modbus[2].fields.rtt_us, 2000);
  assert.equal(modbus[2].fields.values, [11, 12]);
  assert.is(modbus[3].fields.start_address, 200);
  assert.is(counters["flows.modbus"], 1);
  assert.is(anomalies["modbus.content_match_unconfirmed"], undefined);
  assert.equal(modbus.flatMap(anomaliesOf), []);
});

test("modbus on other port without response", async () => {
  const c = conversationOnPort(6000);
  c.fromClient(readRequest(1, 1, 0, 10));
  c.fromClient(readRequest(2, 1, 10, 10));
  const { modbus, counters, anomalies } = await runFrames(c.frames);

  assert.is(modbus.length, 0);
  assert.is(counters["flows.modbus"], undefined);
  assert.is(anomalies["modbus.content_match_unconfirmed"], 1);
});

test("modbus on other port with wrong response", async () => {
  // The reply has another transaction id, then another unit id, then
  // another function: none confirms the flow.
  for (const reply of [readResponse(2, 1, [5]), readResponse(1, 9, [5]), adu(1, 1, [4, 2, 0, 5])]) {
    const c = conversationOnPort(6001);
    c.fromClient(readRequest(1, 1, 0, 1));
    c.fromServer(reply);
    const { modbus, counters, anomalies } = await runFrames(c.frames);

    assert.is(modbus.length, 0);
    assert.is(counters["flows.modbus"], undefined);
    assert.is(anomalies["modbus.content_match_unconfirmed"], 1);
  }
});

test("modbus on other port hold limit", async () => {
  // 80 pipelined 12-byte reads (1,600 bytes with their timestamps) overflow
  // the 1,440-byte hold area before any response, so the flow is dropped
  // although it is Modbus. 60 reads fit, and all 60 are written.
  for (const [requests, written] of [[60, 120], [80, 0]]) {
    const c = conversationOnPort(5021);
    for (let tid = 1; tid <= requests; tid++) c.fromClient(readRequest(tid, 1, tid, 1));
    for (let tid = 1; tid <= requests; tid++) c.fromServer(readResponse(tid, 1, [tid]));
    const { modbus, anomalies } = await runFrames(c.frames);

    assert.is(modbus.length, written, `${requests} requests`);
    assert.is(anomalies["modbus.content_match_unconfirmed"], written === 0 ? 1 : undefined);
  }
});

test("modbus on other port gap counted once", async () => {
  // A segment is lost and no response comes: the gap (when the core gives
  // up on the hole) or the close rejects the flow, and it is counted once.
  const c = conversationOnPort(5022);
  c.fromClient(readRequest(1, 1, 0, 1));
  c.clientSeq = (c.clientSeq + 12) >>> 0;
  c.fromClient(readRequest(3, 1, 0, 1));
  const { modbus, anomalies } = await runFrames(c.frames);

  assert.is(modbus.length, 0);
  assert.is(anomalies["modbus.content_match_unconfirmed"], 1);
});

test("modbus probe rejects loose requests", async () => {
  // Each first segment starts like an MBAP header but breaks a field rule:
  // quantity 0, quantity above 125, FC5 value other than 0xFF00/0, a length
  // that does not fit the function code, an unknown function code, and a
  // server that speaks first.
  const cases: Array<{ bytes: number[]; fromServer?: boolean }> = [
    { bytes: readRequest(1, 1, 0, 0) },
    { bytes: readRequest(1, 1, 0, 126) },
    { bytes: adu(1, 1, [5, 0, 1, 0x12, 0x34]) },
    { bytes: adu(1, 1, [3, 0, 1, 0, 1, 0]) },
    { bytes: adu(1, 1, [9, 0, 1, 0, 1]) },
    { bytes: readRequest(1, 1, 0, 1), fromServer: true },
  ];
  for (const { bytes, fromServer } of cases) {
    const c = conversationOnPort(7000);
    if (fromServer) c.fromServer(bytes); else c.fromClient(bytes);
    c.fromServer(readResponse(1, 1, [1]));
    const { modbus, counters } = await runFrames(c.frames);

    assert.is(modbus.length, 0, `first bytes ${bytes.join(",")}`);
    assert.is(counters["flows.modbus"], undefined);
  }
});

test("modbus late responses matched by unit id", async () => {
  // A gateway gets transaction id 5 for units 1 and 2 and responds in the
  // reverse order, after a third request: each response finds its own
  // request's address range.
  const c = new TcpConversation(CLIENT, 41001, SERVER, 502).handshake();
  c.fromClient(readRequest(5, 1, 100, 1));
  c.fromClient(readRequest(5, 2, 200, 1));
  c.fromClient(readRequest(6, 1, 300, 1));
  c.fromServer(readResponse(6, 1, [3]));
  c.fromServer(readResponse(5, 2, [2]));
  c.fromServer(readResponse(5, 1, [1]));
  const { modbus, anomalies } = await runFrames(c.frames);
  const responses = modbus.filter((r) => r.fields.pdu_type === "response");

  assert.equal(responses.map((r) => [r.fields.transaction_id, r.fields.unit_id, r.fields.start_address, r.fields.values]), [
    [6, 1, 300, 3], [5, 2, 200, 2], [5, 1, 100, 1],
  ]);
  assert.equal(modbus.flatMap(anomaliesOf), []);
  assert.is(anomalies["modbus.duplicate_transaction_id"], undefined);
});

test("modbus response from wrong unit is unmatched", async () => {
  const c = new TcpConversation(CLIENT, 41002, SERVER, 502).handshake();
  c.fromClient(readRequest(1, 1, 0, 1));
  c.fromServer(readResponse(1, 4, [1]));
  const { modbus, anomalies } = await runFrames(c.frames);

  assert.equal(anomaliesOf(modbus[1]), ["modbus.unmatched_response"]);
  assert.is(anomalies["modbus.unanswered_request"], 1);
});

test("modbus unit ids 0 and 255", async () => {
  const c = new TcpConversation(CLIENT, 41003, SERVER, 502).handshake();
  c.fromClient(readRequest(1, 0, 10, 1));
  c.fromClient(readRequest(2, 255, 20, 1));
  c.fromServer(readResponse(2, 255, [255]));
  c.fromServer(readResponse(1, 0, [0]));
  const { modbus } = await runFrames(c.frames);

  assert.equal(modbus.map((r) => r.fields.unit_id), [0, 255, 255, 0]);
  assert.equal(modbus.slice(2).map((r) => r.fields.start_address), [20, 10]);
  assert.equal(modbus.flatMap(anomaliesOf), []);
});

test("modbus MBAP length too short resynchronises", async () => {
  // Request 2 has length 4 but carries a 6-byte PDU: its record notes the
  // truncated PDU, the two stray bytes start no header, and request 3 after
  // them is found again.
  const c = new TcpConversation(CLIENT, 41004, SERVER, 502).handshake();
  c.fromClient(readRequest(1, 1, 0, 1));
  c.fromClient([...adu(2, 1, [3, 0, 5, 0, 1], { length: 4 }), ...readRequest(3, 1, 30, 1), ...readRequest(4, 1, 40, 1)]);
  const { modbus, anomalies } = await runFrames(c.frames);

  assert.equal(modbus.map((r) => r.fields.transaction_id), [1, 2, 3, 4]);
  assert.equal(anomaliesOf(modbus[1]), ["modbus.pdu_truncated"]);
  assert.is(modbus[2].fields.start_address, 30);
  assert.is(anomalies["modbus.resync_bytes_skipped"], 1);
});

test("modbus one ADU byte by byte", async () => {
  // An FC16 request for 3 registers in 19 one-byte segments, then two
  // responses in one segment.
  const c = new TcpConversation(CLIENT, 41005, SERVER, 502).handshake();
  const request = adu(1, 1, [16, ...u16(8), ...u16(3), 6, ...u16(1), ...u16(2), ...u16(3)]);
  for (const byte of request) c.fromClient([byte]);
  c.fromClient(readRequest(2, 1, 0, 1));
  c.fromServer([...adu(1, 1, [16, ...u16(8), ...u16(3)]), ...readResponse(2, 1, [9])]);
  const { modbus } = await runFrames(c.frames);

  assert.is(modbus.length, 4);
  assert.equal(modbus[0].fields.values, [1, 2, 3]);
  assert.is(modbus[2].fields.quantity, 3);
  assert.is(modbus[3].fields.values, 9);
});

// Every capture file under the captures folder, by path relative to it.
function allCaptures(): string[] {
  if (!existsSync(capturesDir)) return [];
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory() && entry.name !== "expected") walk(path);
      else if (/\.pcap(ng)?$/.test(entry.name)) found.push(path.slice(capturesDir.length + 1));
    }
  };
  walk(capturesDir);
  return found.sort();
}

test("modbus content probe over every capture", async () => {
  // No flow outside port 502 may become Modbus, and captures of other
  // protocols must give no Modbus record at all.
  const captures = allCaptures();
  if (captures.length === 0) {
    console.log(`  skipped: no captures in ${capturesDir}`);
    return;
  }
  for (const relative of captures) {
    const { modbus } = await runCapture(join(capturesDir, relative));
    const offPort = modbus.filter((r) => r.src.port !== 502 && r.dst.port !== 502);
    assert.equal(offPort.map((r) => `${r.src.ip}:${r.src.port} > ${r.dst.ip}:${r.dst.port}`), [], `${relative}: Modbus records off port 502`);
    if (!relative.startsWith("modbus/")) assert.is(modbus.length, 0, `${relative}: Modbus records`);
  }
});

test.run();
