// File-transfer objects on hand-built SMB2 conversations: the streamed
// SHA-256 against the FIPS 180-4 example messages, holes and overlaps,
// messages longer than the parse window, content types, and the
// scheduled-task artefacts (.JOB files and task XML) parsed at close.
import { createHash } from "node:crypto";
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { CoreRecord } from "../../agent/src/core/core.js";
import { runFramesThroughCore } from "../helpers/core-run.js";
import { ascii, jobFile, taskXml, type Transfer, transferConversation } from "./build.js";
import { TcpConversation } from "../helpers/frames.js";
import {
  closeRequest, closeResponse, Command, createRequest, createResponse, fileId, nbss, smb2, treeConnectRequest,
  treeConnectResponse, writeRequest, writeResponse,
} from "../smb/build.js";

async function fileRecords(t: Transfer) {
  const run = await runFramesThroughCore(transferConversation(t).frames);
  return { ...run, files: run.records.filter((r) => r.type === "file" && r.fields.chunk !== true) };
}

function only(files: CoreRecord[]): CoreRecord["fields"] {
  assert.is(files.length, 1);
  return files[0].fields;
}

// FIPS 180-4 examples (NIST CSRC "Examples with Intermediate Values", SHA-256)
// with their published digests.
const vectors: [string, number[], string][] = [
  ["abc", ascii("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
  ["448-bit message", ascii("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"],
  ["896-bit message", ascii("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"),
    "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"],
  ["one million a", Array(1_000_000).fill(0x61), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"],
];

for (const [name, data, digest] of vectors) {
  test(`sha256 of ${name} written in one message`, async () => {
    const { files, anomalies } = await fileRecords({ share: "\\\\10.0.0.2\\data", name: "v.bin", pieces: [{ offset: 0, data }] });
    const file = only(files);
    assert.is(file.sha256, digest);
    assert.is(file.size, data.length);
    assert.is(file.bytes_seen, data.length);
    assert.is(file.bytes_missing, 0);
    assert.is(anomalies["file.data_gap"], undefined);
  });
}

test("sha256 of empty file", async () => {
  const { files } = await fileRecords({ share: "\\\\10.0.0.2\\data", name: "empty.txt", pieces: [{ offset: 0, data: [] }] });
  const file = only(files);
  assert.is(file.sha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  assert.is(file.size, 0);
});

test("sha256 over many writes of odd sizes", async () => {
  const data = Array.from({ length: 200_003 }, (_, i) => (i * 7 + (i >> 8)) & 0xff);
  const pieces = [];
  for (let at = 0, step = 1; at < data.length; at += step, step = (step * 5 + 3) % 40_000 + 1) {
    pieces.push({ offset: at, data: data.slice(at, at + step) });
  }
  const { files } = await fileRecords({ share: "\\\\10.0.0.2\\data", name: "odd.bin", pieces });
  const file = only(files);
  assert.is(file.sha256, createHash("sha256").update(Uint8Array.from(data)).digest("hex"));
  assert.is(file.bytes_seen, data.length);
});

// A small deterministic generator (xorshift32), so that a failure repeats.
function generator(seed: number): (below: number) => number {
  let state = seed >>> 0 || 1;
  return (below) => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state % below;
  };
}

// Lengths around the 64-byte block and the 56-byte padding limit, then
// random lengths up to five blocks. Each file is cut into WRITEs (or READ
// responses) at random offsets, and every message into TCP segments of a
// random size, so that the hash gets updates of every size at every
// position within a block.
test("sha256 of random lengths cut at random points", async () => {
  const next = generator(0x5eed);
  const lengths = [0, 1, 55, 56, 63, 64, 65, 119, 120, 127, 128, 129, 191, 192, 193];
  while (lengths.length < 60) lengths.push(next(5 * 64 + 1));
  const frames: Uint8Array[] = [];
  const expected = new Map<string, string>();
  lengths.forEach((length, i) => {
    const data = Array.from({ length }, () => next(256));
    const pieces = [];
    for (let at = 0; at < length || pieces.length === 0;) {
      const step = Math.min(length - at, 1 + next(100));
      pieces.push({ offset: at, data: data.slice(at, at + step) });
      at += step;
    }
    const name = `random${i}.bin`;
    expected.set(name, createHash("sha256").update(Uint8Array.from(data)).digest("hex"));
    frames.push(...transferConversation({
      share: "\\\\10.0.0.2\\data", name, pieces, read: i % 2 === 1, clientPort: 50000 + i, segmentBytes: 1 + next(150),
    }).frames);
  });
  const run = await runFramesThroughCore(frames);
  const files = run.records.filter((r) => r.type === "file" && r.fields.chunk !== true);
  assert.is(files.length, lengths.length);
  for (const file of files) {
    const name = String(file.fields.name);
    assert.is(file.fields.sha256, expected.get(name), `${name}, ${file.fields.size} bytes`);
  }
});

test("file read from server", async () => {
  const data = ascii("#!/bin/sh\necho plant\n");
  const { files } = await fileRecords({ share: "\\\\10.0.0.2\\tools", name: "scripts\\run.sh", pieces: [{ offset: 0, data }], read: true });
  const file = only(files);
  assert.is(file.direction, "from_server");
  assert.is(file.file_type, "script");
  assert.is(file.share, "\\\\10.0.0.2\\tools");
  assert.is(file.name, "scripts\\run.sh");
  assert.is(file.path, "\\\\10.0.0.2\\tools\\scripts\\run.sh");
  assert.is(file.sha256, createHash("sha256").update(Uint8Array.from(data)).digest("hex"));
});

test("file with hole has no hash", async () => {
  const { files, anomalies } = await fileRecords({
    share: "\\\\10.0.0.2\\data", name: "hole.bin",
    pieces: [{ offset: 0, data: Array(1000).fill(1) }, { offset: 2000, data: Array(1000).fill(2) }],
  });
  const file = only(files);
  assert.is(file.sha256, undefined);
  assert.is(file.size, 3000);
  assert.is(file.bytes_seen, 2000);
  assert.is(file.bytes_missing, 2000);
  assert.is(anomalies["file.data_gap"], 1);
});

test("file rewrite counts overlap", async () => {
  const { files, anomalies } = await fileRecords({
    share: "\\\\10.0.0.2\\data", name: "again.txt",
    pieces: [{ offset: 0, data: ascii("hello world") }, { offset: 0, data: ascii("hello") }],
  });
  const file = only(files);
  assert.is(file.sha256, createHash("sha256").update("hello world").digest("hex"));
  assert.is(file.bytes_seen, 16);
  assert.is(anomalies["file.data_overlap"], 1);
});

test("file shorter than close size misses bytes", async () => {
  const { files } = await fileRecords({ share: "\\\\10.0.0.2\\data", name: "part.bin", pieces: [{ offset: 0, data: Array(100).fill(9) }], closeSize: 500 });
  const file = only(files);
  assert.is(file.size, 500);
  assert.is(file.bytes_missing, 400);
  assert.is(file.sha256, undefined);
});

const magic: [string, string, number[]][] = [
  ["tool.exe", "pe", [0x4d, 0x5a, 0x90, 0, 3, 0, 0, 0]],
  ["tool", "elf", [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]],
  ["report.docx", "zip", [0x50, 0x4b, 3, 4, 20, 0, 6, 0]],
  ["manual.pdf", "pdf", ascii("%PDF-1.7\n")],
  ["config.xml", "xml", ascii("<?xml version=\"1.0\"?><a/>")],
  ["run.bat", "script", ascii("@echo off\r\nnet user\r\n")],
  ["notes.txt", "text", ascii("line one\nline two\n")],
  ["blob.dat", "data", [0, 1, 2, 3, 0xfe, 0xff, 0, 9]],
];

for (const [name, type, bytes] of magic) {
  test(`file type ${type} from ${name}`, async () => {
    const { files } = await fileRecords({ share: "\\\\10.0.0.2\\data", name, pieces: [{ offset: 0, data: bytes }] });
    assert.is(only(files).file_type, type);
  });
}

test("job file written to ADMIN$ Tasks", async () => {
  const job = jobFile({
    application: "C:\\Windows\\Temp\\update.exe", parameters: "/silent /s", workingDirectory: "C:\\Windows\\Temp",
    author: "CORP\\operator", trigger: { type: 1, year: 2026, month: 1, day: 31, hour: 8, minute: 5 },
  });
  const { files, anomalies } = await fileRecords({ share: "\\\\dc1\\ADMIN$", name: "Tasks\\At1.job", pieces: [{ offset: 0, data: job }] });
  const file = only(files);
  assert.is(file.file_type, "job");
  assert.is(file.task_command, "C:\\Windows\\Temp\\update.exe");
  assert.is(file.task_arguments, "/silent /s");
  assert.is(file.task_working_directory, "C:\\Windows\\Temp");
  assert.is(file.task_author, "CORP\\operator");
  assert.is(file.task_trigger, "daily 2026-01-31 08:05");
  assert.is(anomalies["file.job_malformed"], undefined);
});

test("job file cut short is malformed", async () => {
  const job = jobFile({ application: "C:\\a.exe", parameters: "", workingDirectory: "", author: "x" });
  const { files, anomalies } = await fileRecords({ share: "\\\\dc1\\ADMIN$", name: "Tasks\\cut.job", pieces: [{ offset: 0, data: job.slice(0, 74) }] });
  const file = only(files);
  assert.is(file.file_type, "job");
  assert.is(file.task_command, undefined);
  assert.is(anomalies["file.job_malformed"], 1);
});

test("task xml written to System32 Tasks", async () => {
  const xml = taskXml("C:\\ProgramData\\svc.exe", "-k run &amp; stay", "CORP\\admin", "S-1-5-18");
  const { files } = await fileRecords({ share: "\\\\host7\\C$", name: "Windows\\System32\\Tasks\\Updater", pieces: [{ offset: 0, data: xml }] });
  const file = only(files);
  assert.is(file.file_type, "xml");
  assert.is(file.task_command, "C:\\ProgramData\\svc.exe");
  assert.is(file.task_arguments, "-k run &amp; stay");
  assert.is(file.task_author, "CORP\\admin");
  assert.is(file.task_run_as, "S-1-5-18");
});

test("xml outside task folder is not parsed", async () => {
  const xml = taskXml("C:\\x.exe", "", "a", "b");
  const { files } = await fileRecords({ share: "\\\\host7\\data", name: "export\\task.xml", pieces: [{ offset: 0, data: xml }] });
  const file = only(files);
  assert.is(file.file_type, "xml");
  assert.is(file.task_command, undefined);
});

test("file data records carry the content", async () => {
  const { Core } = await import("../../agent/src/core/core.js");
  const { batchOf, timed } = await import("../helpers/frames.js");
  const data = Array.from({ length: 40_000 }, (_, i) => (i * 13) & 0xff);
  const core = await Core.load();
  core.setFileDataRecords(true);
  const records: CoreRecord[] = [];
  core.process(batchOf(timed(transferConversation({ share: "\\\\10.0.0.2\\data", name: "c.bin", pieces: [{ offset: 0, data }] }).frames)), (r) => records.push(r));
  core.finish((r) => records.push(r));
  const chunks = records.filter((r) => r.type === "file" && r.fields.chunk === true);
  const rebuilt = Buffer.alloc(data.length);
  for (const chunk of chunks) Buffer.from(String(chunk.fields.data), "hex").copy(rebuilt, Number(chunk.fields.offset));
  assert.ok(chunks.length >= 40);
  assert.equal([...rebuilt], data);
  const file = records.find((r) => r.type === "file" && r.fields.chunk !== true);
  assert.is(file?.fields.object_id, chunks[0].fields.object_id);
});

test("large read hashed past parse window", async () => {
  const data = Array.from({ length: 300_000 }, (_, i) => (i ^ (i >> 9)) & 0xff);
  const { files, counters } = await fileRecords({ share: "\\\\10.0.0.2\\data", name: "big.iso", pieces: [{ offset: 0, data }], read: true });
  const file = only(files);
  assert.is(file.sha256, createHash("sha256").update(Uint8Array.from(data)).digest("hex"));
  assert.is(file.bytes_missing, 0);
  assert.is(counters["stream.bytes_skipped"] ?? 0, 0);
});

test("garbage after file data does not trap", async () => {
  const conversation = transferConversation({ share: "\\\\10.0.0.2\\data", name: "x.bin", pieces: [{ offset: 0, data: Array(70_000).fill(7) }] });
  let seed = 7;
  const noise = Array.from({ length: 50_000 }, () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24);
  // A WRITE header that announces more data than arrives, then noise.
  conversation.fromClient([0, 0x0f, 0xff, 0xff, 0xfe, 0x53, 0x4d, 0x42, ...noise.slice(0, 1400)]);
  for (let at = 1400; at < noise.length; at += 1400) conversation.fromClient(noise.slice(at, at + 1400));
  const run = await runFramesThroughCore(conversation.frames);
  const files = run.records.filter((r) => r.type === "file");
  assert.is(files.length, 1);
  assert.is(files[0].fields.size, 70_000);
});

test("file objects per flow are bounded", async () => {
  // Nine files open at once on one flow; the flow tracks eight.
  const c = new TcpConversation("10.0.0.1", 49210, "10.0.0.2", 445).handshake();
  const ids = { sessionId: 0x4000000001n, treeId: 5 };
  c.fromClient(nbss(smb2({ command: Command.TREE_CONNECT, messageId: 1, sessionId: ids.sessionId }, treeConnectRequest("\\\\10.0.0.2\\data"))));
  c.fromServer(nbss(smb2({ command: Command.TREE_CONNECT, messageId: 1, response: true, ...ids }, treeConnectResponse(1))));
  let messageId = 2;
  for (let i = 0; i < 9; i++) {
    c.fromClient(nbss(smb2({ command: Command.CREATE, messageId, ...ids }, createRequest(`f${i}.txt`, 5))));
    c.fromServer(nbss(smb2({ command: Command.CREATE, messageId, response: true, ...ids }, createResponse(fileId(100 + i), 0, 2))));
    messageId++;
  }
  for (let i = 0; i < 9; i++) {
    c.fromClient(nbss(smb2({ command: Command.WRITE, messageId, ...ids }, writeRequest(fileId(100 + i), 0, ascii(`file ${i}`)))));
    c.fromServer(nbss(smb2({ command: Command.WRITE, messageId, response: true, ...ids }, writeResponse(6))));
    messageId++;
  }
  for (let i = 0; i < 9; i++) {
    c.fromClient(nbss(smb2({ command: Command.CLOSE, messageId, ...ids }, closeRequest(fileId(100 + i)))));
    c.fromServer(nbss(smb2({ command: Command.CLOSE, messageId, response: true, ...ids }, closeResponse(6))));
    messageId++;
  }
  const run = await runFramesThroughCore(c.frames);
  const files = run.records.filter((r) => r.type === "file");
  assert.is(files.length, 8);
  assert.equal(files.map((f) => f.fields.name), ["f0.txt", "f1.txt", "f2.txt", "f3.txt", "f4.txt", "f5.txt", "f6.txt", "f7.txt"]);
  assert.is(run.anomalies["file.object_table_full"], 1);
});

test.run();
