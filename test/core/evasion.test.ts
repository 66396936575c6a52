// Evasion shapes. The same application bytes cut, reordered or fragmented
// give the same records as the plain delivery. Where the monitor has to
// choose between two copies, it analyses the first and counts an anomaly.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { TcpConversation, tcpFrame } from "../helpers/frames.js";
import type { CoreRecord } from "../../agent/src/core/core.js";
import * as smb from "../smb/build.js";
import * as rpc from "../dcerpc/build.js";
import { ipv4Fragments, modbusAdu, modbusRecords, readHoldingRequest, readHoldingResponse, runFrames } from "./run.js";

type Message = [toServer: boolean, bytes: number[]];

// Application bytes of three conversations: Modbus reads and a write, SMB2
// tree connect, create and write, and a DCE-RPC bind and request to ATSVC.
const MODBUS: Message[] = [
  [true, readHoldingRequest(1, 10, 2)], [false, readHoldingResponse(1, [7, 8])],
  [true, modbusAdu(2, 1, [6, 0, 40, 0x12, 0x34])], [false, modbusAdu(2, 1, [6, 0, 40, 0x12, 0x34])],
];
const SESSION = 0x11n;
const SMB: Message[] = [
  [true, smb.nbss(smb.smb2({ command: smb.Command.TREE_CONNECT, messageId: 1, sessionId: SESSION }, smb.treeConnectRequest("\\\\HIST\\C$")))],
  [false, smb.nbss(smb.smb2({ command: smb.Command.TREE_CONNECT, messageId: 1, sessionId: SESSION, treeId: 3, response: true }, smb.treeConnectResponse(1)))],
  [true, smb.nbss(smb.smb2({ command: smb.Command.CREATE, messageId: 2, sessionId: SESSION, treeId: 3 }, smb.createRequest("Windows\\Tasks\\scan.job", 2)))],
  [false, smb.nbss(smb.smb2({ command: smb.Command.CREATE, messageId: 2, sessionId: SESSION, treeId: 3, response: true }, smb.createResponse(smb.fileId(4), 0, 2)))],
  [true, smb.nbss(smb.smb2({ command: smb.Command.WRITE, messageId: 3, sessionId: SESSION, treeId: 3 }, smb.writeRequest(smb.fileId(4), 0, Array(300).fill(0x41))))],
  [false, smb.nbss(smb.smb2({ command: smb.Command.WRITE, messageId: 3, sessionId: SESSION, treeId: 3, response: true }, smb.writeResponse(300)))],
];
const DCERPC: Message[] = [
  [true, rpc.bind(1, [{ contextId: 0, uuid: rpc.Uuid.atsvc, versionMajor: 1 }])],
  [false, rpc.bindAck(1, "135", 1)],
  [true, rpc.request({ callId: 2, contextId: 0, opnum: 0, stub: Array(64).fill(0) })],
  [false, rpc.response(2, 0, 8)],
];

// Sends each message whole, or cut into pieces of `pieceBytes`.
function frames(messages: Message[], port: number, pieceBytes = Infinity): Uint8Array[] {
  const c = new TcpConversation("10.60.0.1", 48000, "10.60.0.2", port).handshake();
  for (const [toServer, bytes] of messages) {
    for (let at = 0; at < bytes.length; at += Math.min(pieceBytes, bytes.length)) {
      const piece = bytes.slice(at, at + Math.min(pieceBytes, bytes.length));
      if (toServer) c.fromClient(piece); else c.fromServer(piece);
    }
  }
  return c.frames;
}

// Records without what depends on packet timing or the flow counter.
function facts(records: CoreRecord[]): unknown[] {
  return records.map((r) => {
    const { rtt_us: _rtt, ...fields } = r.fields as Record<string, unknown>;
    return { type: r.type, src: r.src, dst: r.dst, serverToClient: r.serverToClient, fields };
  });
}

// Records of the plain version: one per Modbus PDU, one per SMB2 exchange
// (tree connect, create, write) plus the `file` record of the written file,
// one per DCE-RPC exchange (bind, request).
const CASES = [["modbus", MODBUS, 502, 4], ["smb2", SMB, 445, 4], ["dcerpc", DCERPC, 135, 2]] as const;

for (const [name, messages, port, expected] of CASES) {
  test(`${name} in 1-byte segments`, async () => {
    const plain = await runFrames(frames(messages, port));
    const tiny = await runFrames(frames(messages, port, 1));

    assert.is(plain.records.length, expected);
    assert.equal(facts(tiny.records), facts(plain.records));
  });

  test(`${name} in reversed segments`, async () => {
    // Each message in 7-byte segments sent last piece first: every segment
    // but the first waits in the stream buffer.
    const plain = await runFrames(frames(messages, port));
    const cut = frames(messages, port, 7);
    const handshake = cut.slice(0, 3);
    const reordered: Uint8Array[] = [...handshake];
    let at = 3;
    for (const [, bytes] of messages) {
      const pieces = Math.ceil(bytes.length / 7);
      reordered.push(...cut.slice(at, at + pieces).reverse());
      at += pieces;
    }
    const run = await runFrames(reordered);

    assert.equal(facts(run.records), facts(plain.records));
    assert.ok(run.counters["tcp.out_of_order"] > 0);
  });

  test(`${name} in IPv4 fragments out of order`, async () => {
    const plain = await runFrames(frames(messages, port));
    const whole = frames(messages, port);
    // Every data segment (more than the 54 bytes of Ethernet, IPv4 and TCP
    // headers) in 16-byte fragments, last fragment first.
    const fragmented = [...whole.slice(0, 3), ...whole.slice(3).flatMap((f) => (f.length > 54 ? ipv4Fragments(f, 16).reverse() : [f]))];
    const run = await runFrames(fragmented);

    assert.equal(facts(run.records), facts(plain.records));
    assert.ok(run.counters["ip.reassembled"] > 0);
    assert.is(run.anomalies["ip.fragment_overlap"], undefined);
  });
}

// A Write Single Register segment of the flow 10.61.0.1:48100 -> :502 with
// the given register value and TTL.
function writeSegment(seq: number, value: number, ttl = 64): Uint8Array {
  const frame = tcpFrame({ src: "10.61.0.1", dst: "10.61.0.2", srcPort: 48100, dstPort: 502, seq, payload: modbusAdu(2, 1, [6, 0, 40, value >> 8, value & 0xff]) });
  frame[14 + 8] = ttl;
  return frame;
}

test("conflicting overlap analyses the first copy", async () => {
  // Both copies arrive while a hole before them is open, so the core keeps
  // the first in its stream buffer and compares the second with it.
  const isn = 90000;
  const syn = tcpFrame({ src: "10.61.0.1", dst: "10.61.0.2", srcPort: 48100, dstPort: 502, seq: isn - 1, flags: "S" });
  const read = tcpFrame({ src: "10.61.0.1", dst: "10.61.0.2", srcPort: 48100, dstPort: 502, seq: isn, payload: readHoldingRequest(1, 0, 1) });
  const run = await runFrames([syn, writeSegment(isn + 12, 0x1234), writeSegment(isn + 12, 0x9999), read]);
  const write = modbusRecords(run).find((r) => r.fields.function_code === 6);

  assert.is(write?.fields.value, 0x1234);
  assert.is(run.anomalies["tcp.overlap_conflict"], 1);
});

test("in-order decoy with a low TTL", async () => {
  // A decoy whose TTL expires before the receiver (TTL 1) arrives first and
  // in order, so the core consumes it at once. The real segment is then a
  // retransmission of consumed bytes, which the core does not keep, so the
  // record shows the decoy. The TTL far from the SYN's marks the flow.
  const isn = 91000;
  const syn = tcpFrame({ src: "10.61.0.1", dst: "10.61.0.2", srcPort: 48100, dstPort: 502, seq: isn - 1, flags: "S" });
  const run = await runFrames([syn, writeSegment(isn, 0x9999, 1), writeSegment(isn, 0x1234)]);
  const writes = modbusRecords(run).filter((r) => r.fields.function_code === 6);

  assert.equal(writes.map((r) => r.fields.value), [0x9999]);
  assert.is(run.anomalies["tcp.overlap_conflict"], undefined);
  assert.is(run.anomalies["tcp.ttl_changed"], 1);
});

test("small TTL change not counted", async () => {
  // A TTL within 5 of the direction's first one (a route change) is normal.
  const isn = 92000;
  const syn = tcpFrame({ src: "10.61.0.1", dst: "10.61.0.2", srcPort: 48100, dstPort: 502, seq: isn - 1, flags: "S" });
  const run = await runFrames([syn, writeSegment(isn, 0x1234, 60)]);

  assert.is(modbusRecords(run).length, 1);
  assert.is(run.anomalies["tcp.ttl_changed"], undefined);
});

test("overlapping fragments keep the first copy", async () => {
  const c = new TcpConversation("10.62.0.1", 48200, "10.62.0.2", 502).handshake();
  c.fromClient(modbusAdu(5, 1, [6, 0, 41, 0x00, 0x2a]));
  const fragments = ipv4Fragments(c.frames.pop()!, 16);
  // A second copy of the last fragment with the register value changed.
  const altered = Uint8Array.from(fragments[fragments.length - 1]);
  altered[altered.length - 1] ^= 0xff;
  const run = await runFrames([...c.frames, ...fragments.slice(0, -1).reverse(), fragments[fragments.length - 1], altered]);
  const write = modbusRecords(run).find((r) => r.fields.function_code === 6);

  assert.is(write?.fields.value, 0x2a);
  assert.is(run.counters["ip.reassembled"], 1);
});

test.run();
