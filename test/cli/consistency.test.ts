// Small consistencies a new user noticed: the "fieldsense:" prefix on errors,
// exit codes, help columns, plurals, case-insensitive host names, IPv6
// addresses in brackets, FC 17 server ids as text, and records whose
// captured length exceeds their original length.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PcapngEncoder } from "../../agent/src/capture/pcapng-writer.js";
import { serverIdText } from "../../agent/src/cli/assets.js";
import { main } from "../../agent/src/cli/main.js";
import { hostPort } from "../../agent/src/cli/modbus-identify.js";
import { isLoopbackHost } from "../../correlator/src/web/auth.js";
import { capture, repoRoot } from "../helpers/captures.js";
import { tcpFrame } from "../helpers/frames.js";
import { readAll } from "../capture/fixtures.js";

const dir = mkdtempSync(join(tmpdir(), "fieldsense-consistency-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, { stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; } });
  return { code, stdout, stderr };
}

test("report errors carry prefix", async () => {
  const missing = await run("report", "--db", join(dir, "none.db"));
  assert.is(missing.code, 1);
  assert.ok(missing.stderr.startsWith("fieldsense: store "), missing.stderr);
  const search = await run("search", "--db", join(dir, "none.db"), "a");
  assert.is(search.code, 1);
  assert.ok(search.stderr.startsWith("fieldsense: store "), search.stderr);
});

test("extract existing index exits 1", async () => {
  const path = capture("dcerpc/401trg_smb_psexec_add_user_svcctl.pcap");
  if (path === undefined) return;
  const out = join(dir, "extract");
  assert.is((await run("extract", path, "--out", out)).code, 0);
  const again = await run("extract", path, "--out", out);
  assert.is(again.code, 1);
  assert.match(again.stderr, "index.json already exists");
});

test("socket help lines up", async () => {
  for (const command of ["assets", "profiles", "extract", "status", "alerts"]) {
    const help = (await run(command, "--help")).stdout;
    const socketColumn = /^ {2}--socket PATH +/m.exec(help)?.[0].length;
    const configColumn = /^ {2}--config FILE +/m.exec(help)?.[0].length;
    const helpColumn = /^ {2}-h, --help +/m.exec(help)?.[0].length;
    assert.ok(helpColumn !== undefined, `${command} help has no -h line`);
    assert.is(socketColumn, helpColumn, `${command} --socket column`);
    assert.is(configColumn, helpColumn, `${command} --config column`);
  }
});

test("one profile in singular", async () => {
  const { code, stdout } = await run("profiles", "validate", join(repoRoot, "firmware-profiles", "generic-modbus-server.yaml"));
  assert.is(code, 0);
  assert.match(stdout, /^1 firmware profile valid: /);
});

test("loopback host any case", () => {
  assert.ok(isLoopbackHost("LOCALHOST"));
  assert.ok(isLoopbackHost("LocalHost"));
  assert.ok(isLoopbackHost("[::1]"));
  assert.not.ok(isLoopbackHost("localhost.example"));
});

test("IPv6 address in brackets", async () => {
  assert.is(hostPort("::1", 502), "[::1]:502");
  assert.is(hostPort("127.0.0.1", 502), "127.0.0.1:502");
  // Port 1 on loopback: nothing listens there, so the connection is refused.
  const { code, stderr } = await run("modbus", "identify", "[::1]:1");
  assert.is(code, 1);
  assert.match(stderr, "[::1]:1");
  assert.not.match(stderr, " ::1:1");
});

test("server id as text", () => {
  assert.is(serverIdText(Buffer.from("Zeek Modbus Test").toString("hex")), '"Zeek Modbus Test"');
  assert.is(serverIdText("5a00ff"), "5a00ff");
  assert.is(serverIdText("abc"), "abc");
});

// A pcap file with one TCP packet whose record gives an original length of 10 bytes.
function pcapWithShortWireLength(): Uint8Array {
  const frame = tcpFrame({ src: "10.0.0.1", dst: "10.0.0.2", srcPort: 49152, dstPort: 502, seq: 1, payload: [0, 1, 0, 0, 0, 6, 1, 3, 0, 0, 0, 1] });
  const bytes = new Uint8Array(24 + 16 + frame.length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, 0xa1b2c3d4, true);
  view.setUint16(4, 2, true);
  view.setUint16(6, 4, true);
  view.setUint32(16, 65535, true);
  view.setUint32(20, 1, true);
  view.setUint32(24, 1_700_000_000, true);
  view.setUint32(32, frame.length, true);
  view.setUint32(36, 10, true);
  bytes.set(frame, 40);
  return bytes;
}

test("caplen above wirelen counted", async () => {
  const pcap = join(dir, "short-wire.pcap");
  writeFileSync(pcap, pcapWithShortWireLength());
  const fromPcap = await readAll(pcap);
  assert.is(fromPcap.stats.packets, 1);
  assert.is(fromPcap.stats.caplenAboveWirelen, 1);
  assert.is(fromPcap.stats.caplenAboveWirelenAt, 24);

  const encoder = new PcapngEncoder();
  const frame = tcpFrame({ src: "10.0.0.1", dst: "10.0.0.2", srcPort: 49152, dstPort: 502, seq: 1, payload: [1, 2, 3] });
  const blocks = [
    encoder.sectionHeader(),
    encoder.interfaceDescription({ linkType: 1 }),
    encoder.enhancedPacket({ interfaceId: 0, tsSec: 1_700_000_000, tsNsec: 0, data: frame }),
    encoder.enhancedPacket({ interfaceId: 0, tsSec: 1_700_000_001, tsNsec: 0, data: frame, wireLength: 10 }),
  ];
  const pcapng = join(dir, "short-wire.pcapng");
  writeFileSync(pcapng, Buffer.concat(blocks));
  const fromPcapng = await readAll(pcapng);
  assert.is(fromPcapng.stats.packets, 2);
  assert.is(fromPcapng.stats.caplenAboveWirelen, 1);
  assert.is(fromPcapng.stats.caplenAboveWirelenAt, blocks[0].length + blocks[1].length + blocks[2].length);

  const replay = await run("replay", pcap);
  assert.match(replay.stderr, "capture.caplen_above_wirelen 1");
  assert.match(replay.stderr, "1 record has a captured length above the original length, the first at byte 24");
});

test.run();
