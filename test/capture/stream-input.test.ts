// Captures read as streams: a FIFO, a pipe on standard input ("-" or
// /dev/stdin) and a stream that ends before a header. Every packet must come
// through as it does from the same bytes in a regular file.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn, spawnSync } from "node:child_process";
import { createWriteStream, readFileSync } from "node:fs";
import { join } from "node:path";
import { CaptureError } from "../../agent/src/capture/index.js";
import { FileSource } from "../../agent/src/capture/file-source.js";
import { demoCapturePath } from "../../agent/src/config/paths.js";
import { capture, repoRoot } from "../helpers/captures.js";
import { readAll, readUntilError, TempFolder } from "./fixtures.js";

const folder = new TempFolder();
test.after(() => folder.remove());

const RUNNER = join(repoRoot, "test/cli/run-cli.mts");

// Creates a FIFO and starts writing `bytes` into it; the write finishes once
// a reader has opened the FIFO and taken every byte.
function fifoWith(name: string, bytes: Uint8Array): { path: string; written: Promise<void> } {
  const path = join(folder.path, name);
  const mkfifoRun = spawnSync("mkfifo", [path]);
  if (mkfifoRun.status !== 0) throw new Error(`mkfifo ${path} failed: ${mkfifoRun.stderr.toString()}`);
  const written = new Promise<void>((resolve, reject) => {
    const out = createWriteStream(path);
    out.on("error", reject);
    out.end(bytes, () => resolve());
  });
  return { path, written };
}

function runCliWithStdin(args: string[], input: Uint8Array): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", RUNNER, ...args], { cwd: repoRoot, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => { stdout += chunk; });
    child.stderr.on("data", (chunk) => { stderr += chunk; });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.on("error", () => {});
    child.stdin.end(input);
  });
}

test("pcap from FIFO matches file", async () => {
  const path = demoCapturePath();
  const expected = await readAll(path);
  const fifo = fifoWith("demo.pcap", readFileSync(path));
  const streamed = await readAll(fifo.path);
  await fifo.written;
  assert.ok(expected.packets.length > 0, "the demo capture has packets");
  assert.is(streamed.packets.length, expected.packets.length);
  assert.is(streamed.stats.bytes, expected.stats.bytes);
  assert.is(streamed.stats.truncatedRecords, 0);
  assert.equal(streamed.packets.at(-1)?.data, expected.packets.at(-1)?.data);
});

test("pcapng from FIFO matches file", async () => {
  const path = capture("mixed/icsnpp_enip_set_attribute_single.pcapng");
  if (path === undefined) return;
  const expected = await readAll(path);
  const fifo = fifoWith("enip.pcapng", readFileSync(path));
  const streamed = await readAll(fifo.path);
  await fifo.written;
  assert.is(streamed.stats.format, "pcapng");
  assert.is(streamed.packets.length, expected.packets.length);
  assert.equal(streamed.stats.skippedBlocks, expected.stats.skippedBlocks);
  assert.equal(streamed.packets[0]?.data, expected.packets[0]?.data);
});

test("stream skip past small chunks", async () => {
  const bytes = Uint8Array.from({ length: 100 }, (_, i) => i);
  const fifo = fifoWith("counting", bytes);
  const source = await FileSource.open(fifo.path, 8);
  try {
    assert.ok(source.stream, "a FIFO is read as a stream");
    assert.ok(await source.ensure(4));
    source.skip(30);
    assert.ok(await source.ensure(4));
    assert.equal([...source.bytes(4)], [30, 31, 32, 33]);
    assert.is(source.offset, 30);
    source.skip(66);
    assert.ok(await source.ensure(4), "the last four bytes are there");
    assert.equal([...source.bytes(4)], [96, 97, 98, 99]);
    source.skip(4);
    assert.ok(await source.atEnd());
    assert.is(source.size, 100);
  } finally {
    await source.close();
  }
  await fifo.written;
});

test("empty FIFO named by path", async () => {
  const fifo = fifoWith("empty.pcap", new Uint8Array(0));
  const { error } = await readUntilError(fifo.path);
  await fifo.written;
  assert.instance(error, CaptureError);
  const message = (error as CaptureError).message;
  assert.ok(message.includes(fifo.path), `message names the path as given: ${message}`);
  assert.ok(message.includes("ended after 0 bytes"), message);
  assert.not.ok(message.includes("a file of 0 bytes"), message);
});

test("replay - reads stdin", async () => {
  const { code, stdout, stderr } = await runCliWithStdin(["replay", "-"], readFileSync(demoCapturePath()));
  assert.is(code, 0, stderr);
  const expected = await readAll(demoCapturePath());
  // The per-file summary goes to stderr, the alerts to stdout.
  assert.match(stderr, new RegExp(`^-: ${expected.packets.length} packets`, "m"));
  assert.match(stdout, /it-write-then-execute/);
});

test("replay /dev/stdin reads pipe", async () => {
  const { code, stdout, stderr } = await runCliWithStdin(["replay", "/dev/stdin"], readFileSync(demoCapturePath()));
  assert.is(code, 0, stderr);
  assert.match(stderr, /^\/dev\/stdin: 125 packets/m);
  assert.match(stdout, /it-write-then-execute/);
});

test.run();
