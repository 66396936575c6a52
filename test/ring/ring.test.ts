// The packet ring: storage within its limits, the per-flow index, reopening
// after a stop or a crash, truncate rules, and slices written as pcapng.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { appendFileSync, readdirSync, statSync, writeSync } from "node:fs";
import pino from "pino";
import { join } from "node:path";
import { PacketRing, WRITE_RETRY_MS, type RingLimits } from "../../agent/src/ring/ring.js";
import type { Logger } from "../../agent/src/log.js";
import { exportToBytes, exportToFile } from "../../agent/src/ring/export.js";
import { flowKey, packetFlow, parseFlow } from "../../agent/src/ring/flow-key.js";
import { batchOf, tcpFrame, udpFrame, type TimedFrame } from "../helpers/frames.js";
import { packetsOf, removeTempDirs, tempDir as newTempDir } from "./files.js";

const T0 = 1_700_000_000;

async function rejects(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  try {
    await promise;
  } catch (error) {
    assert.match((error as Error).message, pattern);
    return;
  }
  assert.unreachable(`expected a rejection matching ${pattern}`);
}
const tempDir = () => newTempDir("fieldsense-ring-");
test.after(removeTempDirs);

// One frame per second for `count` seconds, alternating two TCP flows, with
// `payload` bytes each.
function frames(count: number, payload: number, startSec = T0): TimedFrame[] {
  const out: TimedFrame[] = [];
  for (let i = 0; i < count; i++) {
    const client = i % 2 === 0 ? "10.0.0.1" : "10.0.0.3";
    const bytes = tcpFrame({ src: client, dst: "10.0.0.2", srcPort: 50000 + (i % 2), dstPort: 445, seq: i * payload, payload: new Uint8Array(payload).fill(i & 0xff) });
    out.push({ tsSec: startSec + i, tsFrac: 0, bytes });
  }
  return out;
}

test("flow keys are the same in both directions and name IPv6 in brackets", () => {
  const forward = packetFlow(1, tcpFrame({ src: "10.0.0.9", dst: "10.0.0.2", srcPort: 40000, dstPort: 502, seq: 1 }))!;
  const reverse = packetFlow(1, tcpFrame({ src: "10.0.0.2", dst: "10.0.0.9", srcPort: 502, dstPort: 40000, seq: 1 }))!;
  assert.is(flowKey(forward.transport, forward.a, forward.b), "tcp 10.0.0.2:502 10.0.0.9:40000");
  assert.is(flowKey(reverse.transport, reverse.a, reverse.b), flowKey(forward.transport, forward.a, forward.b));
  const v6 = packetFlow(1, udpFrame({ src: "fe80::1", dst: "fe80::2", srcPort: 20000, dstPort: 20000 }))!;
  assert.is(flowKey(v6.transport, v6.a, v6.b), "udp [fe80::1]:20000 [fe80::2]:20000");
  // The header bytes stop after the TCP header (14 + 20 + 20).
  assert.is(forward.headerBytes, 54);
  // ARP is not IP: no flow.
  const arp = Uint8Array.from([...Array(12).fill(0), 0x08, 0x06, ...Array(28).fill(0)]);
  assert.is(packetFlow(1, arp), undefined);
  // 802.1Q tag in front of IPv4.
  const plain = tcpFrame({ src: "10.1.1.1", dst: "10.1.1.2", srcPort: 1234, dstPort: 102, seq: 1 });
  const tagged = Uint8Array.from([...plain.subarray(0, 12), 0x81, 0x00, 0x00, 0x64, ...plain.subarray(12)]);
  assert.is(flowKey(packetFlow(1, tagged)!.transport, packetFlow(1, tagged)!.a, packetFlow(1, tagged)!.b), "tcp 10.1.1.1:1234 10.1.1.2:102");
});

test("flows are parsed as people write them, and bad ones are named", () => {
  const a = parseFlow("tcp 10.0.0.1:49158 10.0.0.2:445");
  const b = parseFlow("10.0.0.2:445-10.0.0.1:49158/TCP");
  assert.is(flowKey(a.transport, a.one, a.two), flowKey(b.transport, b.one, b.two));
  const v6 = parseFlow("udp [fe80::1]:20000 [fe80::2]:20000");
  assert.is(v6.one.ip, "fe80::1");
  assert.throws(() => parseFlow("10.0.0.1:1 10.0.0.2:2"), /invalid flow "10\.0\.0\.1:1 10\.0\.0\.2:2": the transport \(tcp or udp\) is missing; write it as/);
  assert.throws(() => parseFlow("tcp 10.0.0.1:1 10.0.0.2:70000"), /port 70000 is above 65535/);
  assert.throws(() => parseFlow("tcp 10.0.0.1 10.0.0.2:2"), /endpoint "10\.0\.0\.1" is not ADDRESS:PORT/);
});

test("the ring keeps to its byte limit and counts what it dropped", () => {
  const limits: RingLimits = { maxBytes: 1 << 20, maxAgeSeconds: 1_000_000, segmentBytes: 128 * 1024 };
  const ring = PacketRing.open(tempDir(), limits);
  const all = frames(5000, 1000);
  for (let i = 0; i < all.length; i += 100) ring.append(batchOf(all.slice(i, i + 100)));
  const stats = ring.stats();
  assert.ok(stats.bytesStored <= limits.maxBytes, `${stats.bytesStored} bytes stored`);
  assert.ok(stats.segmentsDropped > 0);
  assert.is(stats.packetsStored + stats.packetsDropped, 5000);
  assert.ok(stats.bytesStored + stats.bytesDropped > 5000 * 1054);
  // What is left is the newest packets, without a gap.
  const kept = [...ring.slice({ from: 0 })];
  assert.is(kept.length, stats.packetsStored);
  assert.is(kept.at(-1)!.tsSec, T0 + 4999);
  assert.is(kept[0].tsSec, T0 + 5000 - kept.length);
  ring.close();
});

test("the ring drops segments older than its age limit, in packet time", () => {
  const limits: RingLimits = { maxBytes: 64 << 20, maxAgeSeconds: 600, segmentBytes: 64 * 1024 };
  const ring = PacketRing.open(tempDir(), limits);
  const all = frames(7200, 1000);
  for (let i = 0; i < all.length; i += 50) ring.append(batchOf(all.slice(i, i + 50)));
  const stats = ring.stats();
  assert.ok(stats.packetsDropped > 6000, `${stats.packetsDropped} dropped`);
  // A segment goes once its newest packet is older than the limit, so the
  // oldest packet kept is at most one segment (about 60 packets, 60 s) older.
  assert.ok(stats.oldestSec! >= stats.newestSec! - 600 - 70, `oldest ${stats.oldestSec}, newest ${stats.newestSec}`);
  assert.ok(stats.oldestSec! < stats.newestSec! - 600 + 70);
  ring.close();
});

test("slice by flow and host", () => {
  const ring = PacketRing.open(tempDir(), { maxBytes: 64 << 20, maxAgeSeconds: 86400, segmentBytes: 64 * 1024 });
  ring.append(batchOf(frames(400, 500)));
  const one = [...ring.slice({ flows: ["tcp 10.0.0.1:50000 10.0.0.2:445"] })];
  assert.is(one.length, 200);
  assert.ok(one.every((p) => packetFlow(p.linkType, p.data)!.a.ip === "10.0.0.1"));
  assert.is([...ring.slice({ host: "10.0.0.3" })].length, 200);
  assert.is([...ring.slice({ host: "10.0.0.2" })].length, 400);
  assert.is([...ring.slice({ host: "10.0.0.2", from: T0 + 100, to: T0 + 109 })].length, 10);
  ring.close();
});

test("reopen and torn last packet", () => {
  const dir = tempDir();
  const limits: RingLimits = { maxBytes: 64 << 20, maxAgeSeconds: 86400, segmentBytes: 64 * 1024 };
  const ring = PacketRing.open(dir, limits);
  ring.append(batchOf(frames(300, 500)));
  ring.close();
  const again = PacketRing.open(dir, limits);
  assert.is(again.stats().packetsStored, 300);
  // A crash: packets written, the newest segment never sealed, and half a
  // packet at its end.
  again.append(batchOf(frames(10, 500, T0 + 1000)));
  const newest = readdirSync(dir).filter((n) => n.endsWith(".seg")).sort().at(-1)!;
  appendFileSync(join(dir, newest), Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 200, 0, 0, 0]));
  const reader = PacketRing.open(dir, limits, { readOnly: true });
  assert.is(reader.stats().packetsStored, 310);
  assert.is([...reader.slice({ from: T0 + 1000 })].length, 10);
  const writer = PacketRing.open(dir, limits);
  assert.is(writer.stats().packetsStored, 310);
  writer.append(batchOf(frames(1, 500, T0 + 2000)));
  assert.is([...writer.slice({ from: T0 + 1000 })].length, 11);
  writer.close();
});

test("truncate rules keep only the headers of the flows they name", () => {
  const ring = PacketRing.open(tempDir(), { maxBytes: 64 << 20, maxAgeSeconds: 86400, segmentBytes: 64 * 1024, truncate: [{ host: "10.0.0.0/30", port: 50001 }] });
  ring.append(batchOf(frames(10, 500)));
  const packets = [...ring.slice({ from: 0 })];
  const cut = packets.filter((p) => p.truncated);
  assert.is(cut.length, 5);
  assert.ok(cut.every((p) => p.data.length === 54 && p.wireLength === 554));
  assert.ok(packets.filter((p) => !p.truncated).every((p) => p.data.length === 554));
  assert.is(ring.stats().packetsTruncated, 5);
  assert.throws(() => PacketRing.open(tempDir(), { maxBytes: 1 << 20, maxAgeSeconds: 60, segmentBytes: 65536, truncate: [{ host: "10.0.0.0/40" }] }), /prefix length "40" of "10\.0\.0\.0\/40" must be a whole number from 0 to 32/);
});

test("limits that cannot work are refused with the key to change", () => {
  assert.throws(() => PacketRing.open(tempDir(), { maxBytes: 1 << 20, maxAgeSeconds: 60, segmentBytes: 1 << 19 }), /segment_bytes 524288 is above a quarter of max_bytes 1048576/);
  assert.throws(() => PacketRing.open(tempDir(), { maxBytes: 1 << 20, maxAgeSeconds: 0, segmentBytes: 1 << 16 }), /max_age_s 0 is not a positive whole number/);
  assert.throws(() => PacketRing.open(join(tempDir(), "absent"), undefined, { readOnly: true }), /no packet ring at .*absent: the folder does not exist/);
});

test("slices become pcapng with one interface per link type and a comment", async () => {
  const ring = PacketRing.open(tempDir(), { maxBytes: 64 << 20, maxAgeSeconds: 86400, segmentBytes: 64 * 1024 });
  ring.append(batchOf(frames(4, 100)));
  // The same conversation captured raw (LINKTYPE_RAW): a second interface.
  ring.append(batchOf(frames(2, 100, T0 + 10).map((f) => ({ ...f, bytes: f.bytes.subarray(14) })), 101));
  const path = join(tempDir(), "slice.pcapng");
  const written = await exportToFile(ring, { host: "10.0.0.1" }, path);
  assert.is(written.packets, 3);
  const back = await packetsOf(path);
  assert.equal(back.map((p) => p.linkType), [1, 1, 101]);
  assert.equal(back.map((p) => p.tsSec), [T0, T0 + 2, T0 + 10]);
  const { bytes } = await exportToBytes(ring, { host: "10.0.0.1" }, 1 << 20);
  assert.ok(Buffer.from(bytes).includes(Buffer.from("Fieldsense packet ring: host 10.0.0.1")));
  await rejects(exportToBytes(ring, { host: "10.0.0.1" }, 200), /larger than the 200-byte limit of one response; narrow it/);
  await rejects(exportToBytes(ring, { host: "10.9.9.9" }, 1 << 20), /no packets in the packet ring match the request \(the ring holds 2023-11-14T22:13:20\.000Z to/);
  await rejects(exportToBytes(ring, { alert: "feedface" }, 1 << 20), /alert feedface is not in the packet ring/);
  await rejects(exportToBytes(ring, {}, 1 << 20), /names no alert, flow, host or time range/);
  ring.close();
});

// A disk of `capacity` bytes for the ring's segment files: a write fills what
// is left, and a write to a full disk fails with ENOSPC as fs.writeSync does.
function diskOf(dir: string, capacity: number): (fd: number, bytes: Uint8Array) => number {
  return (fd, bytes) => {
    const used = readdirSync(dir).filter((name) => name.endsWith(".seg")).reduce((n, name) => n + statSync(join(dir, name)).size, 0);
    const free = capacity - used;
    if (free <= 0) throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
    return writeSync(fd, bytes, 0, Math.min(free, bytes.length));
  };
}

// Collects the messages that the ring logs.
function messageLog(): { logger: Logger; messages: string[] } {
  const messages: string[] = [];
  const logger = pino({ level: "info" }, { write: (line: string) => { messages.push(JSON.parse(line).msg as string); } });
  return { logger, messages };
}

test("full disk: the ring drops its oldest segment and goes on", () => {
  const dir = tempDir();
  const limits: RingLimits = { maxBytes: 4 << 20, maxAgeSeconds: 1_000_000, segmentBytes: 128 * 1024 };
  const { logger, messages } = messageLog();
  const ring = PacketRing.open(dir, limits, { logger, write: diskOf(dir, 600 * 1024) });
  const all = frames(3000, 1000);
  const realNow = Date.now;
  let clockOffsetMs = 0;
  Date.now = () => realNow() + clockOffsetMs;
  try {
    // 1000 packets of 1,054 bytes do not fit on a disk of 600 KiB.
    for (let i = 0; i < 1000; i += 100) ring.append(batchOf(all.slice(i, i + 100)));
    let stats = ring.stats();
    assert.is(stats.writing, false);
    assert.is(stats.writeFailures, 1, "one failure, then the ring waits before it writes again");
    assert.match(stats.writeError ?? "", /ENOSPC/);
    assert.ok(stats.segmentsDropped >= 1, "the oldest segment makes room");
    assert.ok(stats.effectiveMaxBytes < limits.maxBytes);
    assert.ok(stats.packetsNotStored > 0);
    assert.is(stats.packetsStored + stats.packetsDropped + stats.packetsNotStored, 1000);
    // The segment cut at the failure contains whole packets only.
    assert.is([...ring.slice({ from: 0 })].length, stats.packetsStored);

    // Space has returned after the retry interval: the ring writes again.
    clockOffsetMs += WRITE_RETRY_MS;
    for (let i = 1000; i < 3000; i += 100) ring.append(batchOf(all.slice(i, i + 100)));
    stats = ring.stats();
    assert.is(stats.writing, true);
    assert.match(stats.writeError ?? "", /ENOSPC/, "the last error stays for the status");
    assert.ok(stats.bytesStored <= stats.effectiveMaxBytes + limits.segmentBytes, `${stats.bytesStored} bytes stored`);
    assert.is(stats.packetsStored + stats.packetsDropped + stats.packetsNotStored, 3000);
    const kept = [...ring.slice({ from: 0 })];
    assert.is(kept.length, stats.packetsStored);
    assert.is(kept.at(-1)!.tsSec, T0 + 2999, "the newest packet is stored");
    assert.is(messages.filter((m) => m.startsWith("packet ring write failed")).length, 1);
    assert.is(messages.filter((m) => m === "packet ring writes again").length, 1);
  } finally {
    Date.now = realNow;
  }
  ring.close();
  const reopened = PacketRing.open(dir, limits, { readOnly: true });
  assert.is([...reopened.slice({ from: 0 })].length, ring.stats().packetsStored);
  reopened.close();
});

test("full disk with one segment: the ring keeps it and stores nothing", () => {
  const dir = tempDir();
  const limits: RingLimits = { maxBytes: 4 << 20, maxAgeSeconds: 1_000_000, segmentBytes: 1 << 20 };
  const ring = PacketRing.open(dir, limits, { write: diskOf(dir, 200 * 1024) });
  const all = frames(400, 1000);
  for (let i = 0; i < all.length; i += 50) ring.append(batchOf(all.slice(i, i + 50)));
  const stats = ring.stats();
  assert.is(stats.writing, false);
  assert.is(stats.segmentsDropped, 0);
  assert.ok(stats.packetsStored > 150, `${stats.packetsStored} packets stored`);
  assert.is(stats.packetsStored + stats.packetsNotStored, 400);
  assert.is([...ring.slice({ from: 0 })].length, stats.packetsStored);
  // No empty segment is left behind by the failed start of a new one.
  assert.equal(readdirSync(dir).filter((name) => name.endsWith(".seg")), ["00000001.seg"]);
  ring.close();
});

test.run();
