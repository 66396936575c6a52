// Capture paths that cannot be read (a folder, a missing file, a name too
// long, no read permission) and files that are cut or corrupt. The reader's
// error names the path in plain words. `replay` and `demo` report every file
// in the summary, go on with the other files and set the exit code.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { chmodSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { CaptureError } from "../../agent/src/capture/index.js";
import { systemCaptureError } from "../../agent/src/capture/errors.js";
import { PcapngEncoder } from "../../agent/src/capture/pcapng-writer.js";
import { main } from "../../agent/src/cli/main.js";
import { demoCapturePath } from "../../agent/src/config/paths.js";
import { pcapFile, tcpFrame, timed } from "../helpers/frames.js";
import { concatBytes, readUntilError, TempFolder } from "./fixtures.js";

const folder = new TempFolder();
test.after(() => folder.remove());

const SAMPLE = demoCapturePath();
const frame = tcpFrame({ src: "10.0.0.1", dst: "10.0.0.2", srcPort: 49152, dstPort: 502, seq: 1, payload: [0, 1, 0, 0, 0, 6, 1, 3, 0, 0, 0, 1] });
const threePackets = pcapFile(timed([frame, frame, frame]));
// Offset of the third record: the 24-byte file header and two records.
const thirdRecordOffset = 24 + 2 * (16 + frame.length);

async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, { stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; } });
  return { code, stdout, stderr };
}

async function openError(path: string): Promise<CaptureError> {
  const { error } = await readUntilError(path);
  assert.instance(error, CaptureError, `no CaptureError for ${path}`);
  return error as CaptureError;
}

test("directory named as not a capture", async () => {
  const dir = join(folder.path, "captures-folder");
  mkdirSync(dir);
  const error = await openError(dir);
  assert.is(error.code, "open_failed");
  assert.is(error.message, `capture file ${dir} is a directory, not a capture file (EISDIR); give the pcap or pcapng files inside it`);
});

test("missing file named as not found", async () => {
  const path = join(folder.path, "absent.pcap");
  const error = await openError(path);
  assert.is(error.code, "open_failed");
  assert.match(error.message, `capture file ${path} not found (ENOENT); check the path`);
});

test("overlong name explained", async () => {
  const path = join(folder.path, "x".repeat(300) + ".pcap");
  const error = await openError(path);
  assert.match(error.message, `capture file ${path} has a name too long for the file system`);
});

test("unreadable file named as permission denied", async () => {
  // Root reads files without read permission, so the mapping is checked on the error itself.
  const denied = systemCaptureError("/captures/locked.pcap", Object.assign(new Error("EACCES: permission denied, open"), { code: "EACCES" }));
  assert.is(denied.code, "open_failed");
  assert.match(denied.message, "capture file /captures/locked.pcap permission denied (EACCES); give the user running fieldsense read permission");
  if (process.getuid?.() === 0) return;
  const path = folder.write("locked.pcap", threePackets);
  chmodSync(path, 0o000);
  const error = await openError(path);
  assert.match(error.message, `capture file ${path} permission denied`);
});

test("pcapng cut inside section header", async () => {
  const encoder = new PcapngEncoder();
  const whole = concatBytes(encoder.sectionHeader(), encoder.interfaceDescription({ linkType: 1 }));
  for (let size = 4; size < 28; size++) {
    const path = folder.write(`cut-${size}.pcapng`, whole.subarray(0, size));
    const error = await openError(path);
    assert.is(error.code, "truncated_header", `size ${size}`);
    assert.match(error.message, `the file has ${size} bytes, fewer than the 28-byte section header block`, `size ${size}`);
  }
});

test("cut last record offset kept", async () => {
  const path = folder.write("cut-record.pcap", threePackets.subarray(0, threePackets.length - 5));
  const { error, packets, stats } = await readUntilError(path);
  assert.is(error, undefined);
  assert.is(packets.length, 2);
  assert.is(stats.truncatedRecords, 1);
  assert.is(stats.truncatedAt, thirdRecordOffset);
});

test("empty file message is a sentence", async () => {
  const path = folder.write("empty.pcap", new Uint8Array(0));
  const error = await openError(path);
  assert.is(error.message, "invalid capture file empty.pcap: empty.pcap is a file of 0 bytes, shorter than any capture file header; give a pcap or pcapng file");
});

test("replay reports every bad path and goes on", async () => {
  const dir = join(folder.path, "replay-folder");
  mkdirSync(dir);
  const missing = join(folder.path, "missing.pcap");
  const text = folder.write("notes.pcap", new TextEncoder().encode("timestamp,src,dst\n"));
  const result = await run("replay", dir, missing, text, SAMPLE, "--json");
  assert.is(result.code, 1);
  assert.match(result.stderr, `${dir}: 0 packets, 0 bytes\n  error: capture file ${dir} is a directory, not a capture file`);
  assert.match(result.stderr, `${missing}: 0 packets, 0 bytes\n  error: capture file ${missing} not found`);
  assert.match(result.stderr, `${text}: 0 packets, 0 bytes\n  error: invalid capture file header`);
  assert.match(result.stderr, `${SAMPLE}: 125 packets`);
  assert.match(result.stderr, "(pcap)");
  assert.not.match(result.stderr, "illegal operation on a directory");
  assert.ok(result.stdout.split("\n").filter((line) => line.startsWith("{")).length >= 4, "the sample's alerts are missing");
  assert.match(result.stderr, "alerts: 5");
});

test("replay cut last record is a warning", async () => {
  const path = folder.write("cut-last.pcap", threePackets.subarray(0, threePackets.length - 5));
  const result = await run("replay", path);
  assert.is(result.code, 0, result.stderr);
  assert.match(result.stderr, `${path}: 2 packets`);
  assert.match(result.stderr, `  warning: the last record of ${path}, at byte ${thirdRecordOffset}, is cut short by the end of the file`);
});

test("replay impossible record length is an error", async () => {
  const corrupt = threePackets.slice();
  // Captured Packet Length of the third record: 0x7fffffff bytes.
  new DataView(corrupt.buffer).setUint32(thirdRecordOffset + 8, 0x7fffffff, true);
  const path = folder.write("corrupt.pcap", corrupt);
  const result = await run("replay", path);
  assert.is(result.code, 1);
  assert.match(result.stderr, `${path}: 2 packets`);
  assert.match(result.stderr, `  error: invalid pcap record at byte ${thirdRecordOffset} of corrupt.pcap`);
});

test("demo reports a directory and goes on", async () => {
  const dir = join(folder.path, "demo-folder");
  mkdirSync(dir);
  const result = await run("demo", dir, SAMPLE);
  assert.is(result.code, 1);
  assert.match(result.stderr, `capture file ${dir} is a directory, not a capture file`);
  assert.match(result.stderr, `${SAMPLE}: 125 packets`);
  assert.match(result.stdout, "== Incident reports ==");
});

test.run();
