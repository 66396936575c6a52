// Hostile file contents and SMB framing around file transfers must never
// trap the core: random .JOB files and task XML in a Tasks folder, and
// WRITE messages whose lengths and offsets point anywhere.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { runFramesThroughCore } from "../helpers/core-run.js";
import { TcpConversation } from "../helpers/frames.js";
import { jobFile, transferConversation } from "./build.js";
import { Command, fileId, le16, le32, le64, nbss, smb2 } from "../smb/build.js";

// A small deterministic generator (a linear congruential generator), so a
// failure repeats.
function randomBytes(seed: number, length: number): number[] {
  let state = seed >>> 0;
  return Array.from({ length }, () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state >>> 24;
  });
}

test("random job files do not trap", async () => {
  const valid = jobFile({ application: "C:\\a.exe", parameters: "-x", workingDirectory: "C:\\", author: "a" });
  const frames: Uint8Array[] = [];
  for (let seed = 1; seed <= 40; seed++) {
    const noise = randomBytes(seed, 64 + seed * 37);
    // Keep the .JOB signature (File Version 1) so the parser runs, and
    // overwrite the rest, in places with the valid file's bytes.
    const job = [0x00, 0x06, 0x01, 0x00, ...noise.slice(4)];
    if (seed % 3 === 0) job.splice(20, valid.length - 20, ...valid.slice(20));
    frames.push(...transferConversation({ share: "\\\\dc1\\ADMIN$", name: `Tasks\\r${seed}.job`, pieces: [{ offset: 0, data: job }], clientPort: 50000 + seed }).frames);
  }
  const run = await runFramesThroughCore(frames);
  assert.is(run.counters["core.restarts"], undefined);
  assert.is(run.records.filter((r) => r.type === "file").length, 40);
  assert.ok((run.anomalies["file.job_malformed"] ?? 0) > 0);
});

test("random task xml does not trap", async () => {
  const frames: Uint8Array[] = [];
  for (let seed = 1; seed <= 30; seed++) {
    const xml = [0xff, 0xfe, 0x3c, 0x00, ...randomBytes(seed * 7, 300 + seed * 150)];
    frames.push(...transferConversation({ share: "\\\\h\\C$", name: `Windows\\System32\\Tasks\\t${seed}`, pieces: [{ offset: 0, data: xml }], clientPort: 51000 + seed }).frames);
  }
  const run = await runFramesThroughCore(frames);
  assert.is(run.counters["core.restarts"], undefined);
  assert.is(run.records.filter((r) => r.type === "file" && r.fields.file_type === "xml").length, 30);
});

test("write with wild offsets does not trap", async () => {
  const c = transferConversation({ share: "\\\\h\\data", name: "w.bin", pieces: [{ offset: 0, data: [1, 2, 3] }] });
  const ids = { sessionId: 0x4000000001n, treeId: 5 };
  for (let seed = 1; seed <= 30; seed++) {
    const [a, b, d] = randomBytes(seed, 3);
    // DataOffset, Length and Offset from the noise; the body is short.
    const body = [...le16(49), ...le16(a * 257), ...le32(b * 0x01010101), ...le64(d * 0x1000000), ...fileId(7), ...le32(0), ...le32(0), ...randomBytes(seed + 99, 40)];
    c.fromClient(nbss(smb2({ command: Command.WRITE, messageId: 100 + seed, ...ids }, body)));
  }
  const run = await runFramesThroughCore(c.frames);
  assert.is(run.counters["core.restarts"], undefined);
});

test.run();
