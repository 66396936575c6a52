// SMB2 dissector through the whole core, on hand-built conversations: NBSS
// framing, compound chains with related operations, request/response
// matching, large payloads skipped, and damaged input.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { TcpConversation } from "../helpers/frames.js";
import {
  closeRequest, closeResponse, Command, compound, createRequest, createResponse, errorResponse, FILE_ID_RELATED, fileId,
  le32, nbss, readRequest, readResponse, smb2, treeConnectRequest, treeConnectResponse, writeRequest, writeResponse,
} from "./build.js";
import { byCommand, runFrames } from "./run.js";

const CLIENT = "10.0.0.1";
const SERVER = "10.0.0.2";
const SESSION = 0x4000000001n;
const TREE = 5;

function conversation(port = 445): TcpConversation {
  return new TcpConversation(CLIENT, 49200, SERVER, port).handshake();
}

// TREE_CONNECT to \\10.0.0.2\data (share type DISK) as message 1.
function connectTree(c: TcpConversation): TcpConversation {
  c.fromClient(nbss(smb2({ command: Command.TREE_CONNECT, messageId: 1, sessionId: SESSION }, treeConnectRequest("\\\\10.0.0.2\\data"))));
  c.fromServer(nbss(smb2({ command: Command.TREE_CONNECT, messageId: 1, sessionId: SESSION, treeId: TREE, response: true }, treeConnectResponse(1))));
  return c;
}

test("smb2 compound create write close", async () => {
  const c = connectTree(conversation());
  const data = Array.from("hello", (ch) => ch.charCodeAt(0));
  const ids = { sessionId: SESSION, treeId: TREE };
  c.fromClient(nbss(compound([
    smb2({ command: Command.CREATE, messageId: 2, ...ids }, createRequest("reports\\q3.txt", 2)),
    smb2({ command: Command.WRITE, messageId: 3, related: true, ...ids }, writeRequest(FILE_ID_RELATED, 0, data)),
    smb2({ command: Command.CLOSE, messageId: 4, related: true, ...ids }, closeRequest(FILE_ID_RELATED)),
  ])));
  c.fromServer(nbss(compound([
    smb2({ command: Command.CREATE, messageId: 2, response: true, ...ids }, createResponse(fileId(7), 0, 2)),
    smb2({ command: Command.WRITE, messageId: 3, response: true, related: true, ...ids }, writeResponse(5)),
    smb2({ command: Command.CLOSE, messageId: 4, response: true, related: true, ...ids }, closeResponse(5)),
  ])));
  const { smb, anomalies } = await runFrames(c.frames);

  assert.equal(smb.map((r) => r.fields.command), ["TREE_CONNECT", "CREATE", "WRITE", "CLOSE"]);
  const [tree, create, write, close] = smb;
  assert.is(tree.fields.share, "\\\\10.0.0.2\\data");
  assert.is(tree.fields.share_type, "DISK");
  assert.is(tree.fields.tree_id, TREE);
  assert.is(create.fields.path, "reports\\q3.txt");
  assert.is(create.fields.share, "\\\\10.0.0.2\\data");
  assert.is(create.fields.create_disposition, "FILE_CREATE");
  assert.is(create.fields.create_action, "FILE_CREATED");
  assert.is(create.fields.status, "STATUS_SUCCESS");
  assert.is(create.fields.file_size, 0);
  assert.is(write.fields.path, "reports\\q3.txt");
  assert.is(write.fields.length, 5);
  assert.is(write.fields.offset, 0);
  assert.is(close.fields.path, "reports\\q3.txt");
  assert.is(close.fields.file_size, 5);
  assert.is(close.fields.file_id, "07000000000000000710000000000000");
  for (const r of smb) {
    assert.is(r.fields.version, 2);
    assert.is(r.fields.session_id, Number(SESSION));
    assert.is(r.serverToClient, true);
    assert.is(typeof r.fields.rtt_us, "number");
  }
  assert.is(anomalies["smb.compound_offset_invalid"], undefined);
  assert.is(anomalies["smb.response_without_request"], undefined);
});

// Each case replaces the first command's NextCommand in a two-command chain.
const invalidOffsets: [string, number][] = [
  ["smaller than a header", 8],
  ["not 8-byte aligned", 0x7c],
  ["past the message end", 0x10000],
  ["wrapping around 2^32", 0xfffffff8],
];

for (const [name, nextCommand] of invalidOffsets) {
  test(`smb2 compound NextCommand ${name}`, async () => {
    const c = connectTree(conversation());
    const ids = { sessionId: SESSION, treeId: TREE };
    const chain = compound([
      smb2({ command: Command.CREATE, messageId: 2, ...ids }, createRequest("a.txt")),
      smb2({ command: Command.CLOSE, messageId: 3, related: true, ...ids }, closeRequest(FILE_ID_RELATED)),
    ]);
    chain.splice(20, 4, ...le32(nextCommand));
    c.fromClient(nbss(chain));
    c.fromServer(nbss(smb2({ command: Command.CREATE, messageId: 2, response: true, ...ids }, createResponse(fileId(1), 10))));
    const { smb, anomalies } = await runFrames(c.frames);

    assert.is(anomalies["smb.compound_offset_invalid"], 1);
    assert.equal(smb.map((r) => r.fields.command), ["TREE_CONNECT", "CREATE"]);
    assert.is(smb[1].fields.path, "a.txt");
  });
}

test("smb2 compound chain longer than the limit", async () => {
  const c = connectTree(conversation());
  const ids = { sessionId: SESSION, treeId: TREE };
  const commands = Array.from({ length: 40 }, (_, i) => smb2({ command: Command.CLOSE, messageId: 10 + i, ...ids }, closeRequest(fileId(i))));
  c.fromClient(nbss(compound(commands)));
  const { smb, anomalies } = await runFrames(c.frames);

  assert.is(anomalies["smb.compound_limit"], 1);
  // The 32 requests parsed before the limit are reported unanswered at the end.
  assert.is(byCommand(smb, "CLOSE").length, 32);
});

test("smb2 read response with large payload skipped", async () => {
  const c = connectTree(conversation());
  const ids = { sessionId: SESSION, treeId: TREE };
  const payloadLength = 200_000;
  c.fromClient(nbss(smb2({ command: Command.CREATE, messageId: 2, ...ids }, createRequest("big.bin"))));
  c.fromServer(nbss(smb2({ command: Command.CREATE, messageId: 2, response: true, ...ids }, createResponse(fileId(3), payloadLength))));
  c.fromClient(nbss(smb2({ command: Command.READ, messageId: 3, ...ids }, readRequest(fileId(3), 4096, payloadLength))));
  // The READ response header, then its payload in 1400-byte segments.
  const head = smb2({ command: Command.READ, messageId: 3, response: true, ...ids }, readResponse([], payloadLength));
  c.fromServer(nbss(head, head.length + payloadLength));
  for (let sent = 0; sent < payloadLength; sent += 1400) c.fromServer(Array(Math.min(1400, payloadLength - sent)).fill(0x41));
  // A message after the payload must be parsed in step.
  c.fromClient(nbss(smb2({ command: Command.CLOSE, messageId: 4, ...ids }, closeRequest(fileId(3)))));
  c.fromServer(nbss(smb2({ command: Command.CLOSE, messageId: 4, response: true, ...ids }, closeResponse(payloadLength))));
  const { smb, anomalies, counters } = await runFrames(c.frames, { streamBufferBytes: 65536 });

  // The dissector parses the first 16 KiB of the message, which the core
  // buffers up to the end of a segment. The core skips the remaining payload
  // without buffering it.
  const skipped = counters["stream.bytes_skipped"];
  assert.ok(skipped >= payloadLength - 16384 - 1400, `stream.bytes_skipped is ${skipped}`);
  const read = byCommand(smb, "READ");
  assert.is(read.length, 1);
  assert.is(read[0].fields.length, payloadLength);
  assert.is(read[0].fields.offset, 4096);
  assert.is(read[0].fields.path, "big.bin");
  const close = byCommand(smb, "CLOSE");
  assert.is(close.length, 1);
  assert.is(close[0].fields.file_size, payloadLength);
  assert.is(anomalies["tcp.stream_buffer_full"], undefined);
  assert.is(anomalies["smb.resync_skipped_bytes"], undefined);
});

test("smb2 error response keeps the request facts", async () => {
  const c = connectTree(conversation());
  const ids = { sessionId: SESSION, treeId: TREE };
  c.fromClient(nbss(smb2({ command: Command.CREATE, messageId: 2, ...ids }, createRequest("missing.doc"))));
  c.fromServer(nbss(smb2({ command: Command.CREATE, messageId: 2, response: true, status: 0xc0000034, ...ids }, errorResponse())));
  const { smb } = await runFrames(c.frames);

  const create = byCommand(smb, "CREATE");
  assert.is(create.length, 1);
  assert.is(create[0].fields.status, "STATUS_OBJECT_NAME_NOT_FOUND");
  assert.is(create[0].fields.path, "missing.doc");
  assert.is(create[0].fields.create_disposition, "FILE_OPEN");
  assert.is(create[0].fields.file_size, undefined);
});

test("smb2 unanswered request reported at flow end", async () => {
  const c = connectTree(conversation());
  c.fromClient(nbss(smb2({ command: Command.CREATE, messageId: 2, sessionId: SESSION, treeId: TREE }, createRequest("late.txt"))));
  const { smb } = await runFrames(c.frames);

  const create = byCommand(smb, "CREATE");
  assert.is(create.length, 1);
  assert.is(create[0].fields.path, "late.txt");
  assert.is(create[0].fields.status, undefined);
  assert.is(create[0].serverToClient, false);
});

test("smb2 pending table overflow reports the oldest", async () => {
  const c = connectTree(conversation());
  for (let i = 0; i < 40; i++) {
    c.fromClient(nbss(smb2({ command: Command.CREATE, messageId: 10 + i, sessionId: SESSION, treeId: TREE }, createRequest(`f${i}.txt`))));
  }
  const { smb, anomalies } = await runFrames(c.frames);

  assert.is(anomalies["smb.pending_table_full"], 8);
  const paths = byCommand(smb, "CREATE").map((r) => r.fields.path);
  assert.is(paths.length, 40);
  assert.equal(paths.slice(0, 8), ["f0.txt", "f1.txt", "f2.txt", "f3.txt", "f4.txt", "f5.txt", "f6.txt", "f7.txt"]);
});

test("smb2 pipes beyond the pipe slots", async () => {
  const c = conversation();
  const ids = { sessionId: SESSION, treeId: 9 };
  c.fromClient(nbss(smb2({ command: Command.TREE_CONNECT, messageId: 1, sessionId: SESSION }, treeConnectRequest("\\\\10.0.0.2\\IPC$"))));
  c.fromServer(nbss(smb2({ command: Command.TREE_CONNECT, messageId: 1, response: true, ...ids }, treeConnectResponse(2))));
  // Five pipes open at once; the flow has DCE-RPC state for four.
  for (let i = 0; i < 5; i++) {
    c.fromClient(nbss(smb2({ command: Command.CREATE, messageId: 2 + i, ...ids }, createRequest(`pipe${i}`))));
    c.fromServer(nbss(smb2({ command: Command.CREATE, messageId: 2 + i, response: true, ...ids }, createResponse(fileId(i), 0))));
  }
  const { smb, anomalies } = await runFrames(c.frames);

  assert.is(anomalies["smb.pipe_table_full"], 1);
  const creates = byCommand(smb, "CREATE");
  assert.equal(creates.map((r) => r.fields.named_pipe), ["pipe0", "pipe1", "pipe2", "pipe3", "pipe4"]);
  assert.is(creates[0].fields.share, "\\\\10.0.0.2\\IPC$");
});

test("smb over port 139 with session request and keep-alive", async () => {
  const c = conversation(139);
  // NBSS SESSION REQUEST with two 34-byte encoded NetBIOS names (RFC 1002 4.3.2).
  const calledName = [0x20, ...Array(32).fill(0x41), 0];
  c.fromClient([0x81, 0, 0, 68, ...calledName, ...calledName]);
  c.fromServer([0x82, 0, 0, 0]);
  c.fromClient([0x85, 0, 0, 0]);
  connectTree(c);
  const { smb, anomalies } = await runFrames(c.frames);

  assert.equal(smb.map((r) => r.fields.command), ["TREE_CONNECT"]);
  assert.is(smb[0].dst.port, 139);
  assert.is(anomalies["smb.nbss_unknown_type"], undefined);
});

test("smb probe past keep-alives", async () => {
  const c = conversation();
  c.fromClient([0x85, 0, 0, 0, 0x85, 0, 0, 0]);
  connectTree(c);
  const { smb } = await runFrames(c.frames);

  assert.equal(smb.map((r) => r.fields.command), ["TREE_CONNECT"]);
});

test("smb probe rejects other bytes on 445", async () => {
  const c = conversation();
  const text = (line: string) => Array.from(line, (ch) => ch.charCodeAt(0));
  c.fromClient(text("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  c.fromServer(text("HTTP/1.1 404 Not Found\r\n\r\n"));
  const { smb, anomalies, counters } = await runFrames(c.frames);

  assert.is(smb.length, 0);
  assert.is(counters["flows.smb"], undefined);
  assert.is(counters["flows.undissected"], 1);
  assert.is(anomalies["smb.nbss_unknown_type"], undefined);
});

test("smb3 transform header counted, not parsed", async () => {
  const c = connectTree(conversation());
  const transform = [0xfd, 0x53, 0x4d, 0x42, ...Array(48).fill(0x11), ...Array(100).fill(0x22)];
  c.fromClient(nbss(transform));
  c.fromServer(nbss(transform));
  const { smb, anomalies } = await runFrames(c.frames);

  assert.is(anomalies["smb.encrypted_message"], 2);
  assert.equal(smb.map((r) => r.fields.command), ["TREE_CONNECT"]);
});

test("smb unknown NBSS type then resynchronised", async () => {
  const c = connectTree(conversation());
  c.fromClient([0x42, 0x13, 0x37, 0x00, 0x99, 0x98]);
  c.fromClient(nbss(smb2({ command: Command.CREATE, messageId: 2, sessionId: SESSION, treeId: TREE }, createRequest("after.txt"))));
  c.fromServer(nbss(smb2({ command: Command.CREATE, messageId: 2, sessionId: SESSION, treeId: TREE, response: true }, createResponse(fileId(2), 1))));
  const { smb, anomalies } = await runFrames(c.frames);

  assert.is(anomalies["smb.nbss_unknown_type"], 1);
  assert.is(byCommand(smb, "CREATE")[0]?.fields.path, "after.txt");
});

// A small deterministic generator (xorshift32) for damaged input.
function random(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x;
  };
}

test("smb truncated and garbage messages never trap", async () => {
  const next = random(0x5eed);
  const ids = { sessionId: SESSION, treeId: TREE };
  const valid = compound([
    smb2({ command: Command.CREATE, messageId: 2, ...ids }, createRequest("x.txt")),
    smb2({ command: Command.WRITE, messageId: 3, related: true, ...ids }, writeRequest(FILE_ID_RELATED, 0, [1, 2, 3])),
    smb2({ command: Command.CLOSE, messageId: 4, related: true, ...ids }, closeRequest(FILE_ID_RELATED)),
  ]);
  const c = connectTree(conversation());
  // Every prefix of a valid compound message, framed as a whole message.
  for (let cut = 0; cut < valid.length; cut += 7) c.fromClient(nbss(valid.slice(0, cut)));
  // The valid message with random bytes flipped, then pure noise.
  for (let round = 0; round < 200; round++) {
    const damaged = valid.slice();
    for (let k = 0; k < 4; k++) damaged[next() % damaged.length] = next() & 0xff;
    if (round % 2 === 0) c.fromClient(nbss(damaged)); else c.fromServer(nbss(damaged));
  }
  c.fromServer(Array.from({ length: 3000 }, () => next() & 0xff));
  const { anomalies, counters } = await runFrames(c.frames);

  assert.ok((anomalies["smb.header_invalid"] ?? 0) + (anomalies["smb.body_truncated"] ?? 0) > 0);
  assert.ok(Object.keys(counters).length > 0);
});

test.run();
