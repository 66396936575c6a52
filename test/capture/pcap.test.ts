import { test } from "uvu";
import * as assert from "uvu/assert";
import { CaptureError, readCapture, readPcap } from "../../agent/src/capture/index.js";
import { pcapFile, tcpFrame, timed, udpFrame, type TimedFrame } from "../helpers/frames.js";
import { nanosecondsOf, packetsOf, readAll, readUntilError, TempFolder, type ReadPacket } from "./fixtures.js";

const folder = new TempFolder();
test.after(() => folder.remove());

function sampleFrames(): TimedFrame[] {
  const frames = [
    tcpFrame({ src: "10.0.0.1", dst: "10.0.0.2", srcPort: 49152, dstPort: 502, seq: 1, flags: "S" }),
    tcpFrame({ src: "10.0.0.2", dst: "10.0.0.1", srcPort: 502, dstPort: 49152, seq: 7, payload: [0, 1, 0, 0, 0, 6, 1, 3, 0, 0, 0, 2] }),
    udpFrame({ src: "fd00::1", dst: "fd00::2", srcPort: 5353, dstPort: 53, payload: [1, 2, 3] }),
  ];
  // Times with a non-zero microsecond part and a second boundary between packets.
  return timed(frames).map((f, i) => ({ ...f, tsSec: f.tsSec + i, tsFrac: 999_999 - i * 123_456 }));
}

test("pcap little-endian microseconds read as written", async () => {
  const frames = sampleFrames();
  const path = folder.write("le-us.pcap", pcapFile(frames));
  const { packets, stats, batches } = await readAll(path);
  assert.is(packets.length, frames.length);
  assert.is(batches.length, 1);
  assert.is(batches[0].linkType, 1);
  assert.is(batches[0].fracPerSecond, 1_000_000);
  assert.is(batches[0].firstRecordOffset, 24);
  frames.forEach((frame, i) => {
    assert.is(packets[i].tsSec, frame.tsSec, `ts_sec of packet ${i}`);
    assert.is(packets[i].tsFrac, frame.tsFrac, `ts_frac of packet ${i}`);
    assert.equal(packets[i].data, frame.bytes, `data of packet ${i}`);
  });
  assert.is(stats.format, "pcap");
  assert.is(stats.packets, 3);
  assert.is(stats.bytes, frames.reduce((n, f) => n + f.bytes.length, 0));
  assert.is(stats.batches, 1);
  assert.equal(stats.interfaces, [{ linkType: 1, tsresol: 1_000_000 }]);
});

test("pcap big-endian and nanosecond forms match little-endian", async () => {
  const frames = sampleFrames();
  const nanoFrames = frames.map((f) => ({ ...f, tsFrac: f.tsFrac * 1000 }));
  const reference = (await readAll(folder.write("ref.pcap", pcapFile(frames)))).packets;
  const variants = {
    "big-endian microseconds": await readAll(folder.write("be-us.pcap", pcapFile(frames, { bigEndian: true }))),
    "little-endian nanoseconds": await readAll(folder.write("le-ns.pcap", pcapFile(nanoFrames, { nanoseconds: true }))),
    "big-endian nanoseconds": await readAll(folder.write("be-ns.pcap", pcapFile(nanoFrames, { nanoseconds: true, bigEndian: true }))),
  };
  for (const [name, result] of Object.entries(variants)) {
    assert.is(result.packets.length, reference.length, `${name}: packet count`);
    const nanoseconds = name.includes("nanoseconds");
    assert.is(result.batches[0].fracPerSecond, nanoseconds ? 1_000_000_000 : 1_000_000, `${name}: fracPerSecond`);
    assert.equal(result.stats.interfaces, [{ linkType: 1, tsresol: nanoseconds ? 1_000_000_000 : 1_000_000 }], `${name}: interfaces`);
    reference.forEach((expected, i) => {
      const packet = result.packets[i];
      assert.is(nanosecondsOf(packet), nanosecondsOf(expected), `${name}: time of packet ${i}`);
      assert.is(packet.wireLength, expected.wireLength, `${name}: wire length of packet ${i}`);
      assert.equal(packet.data, expected.data, `${name}: data of packet ${i}`);
    });
  }
});

test("pcap link types pass through unchanged", async () => {
  // SLL, SLL2, raw IP in its three numberings, IPv4, IPv6, null, loop, and an
  // unsupported one (USER0): the reader yields them all, the core decides.
  for (const linkType of [113, 276, 101, 12, 14, 228, 229, 0, 108, 147]) {
    const path = folder.write(`link-${linkType}.pcap`, pcapFile(timed([Uint8Array.of(0x45, 0, 0, 20)]), { linkType }));
    const { batches } = await readAll(path);
    assert.is(batches.length, 1, `link type ${linkType}: batches`);
    assert.is(batches[0].linkType, linkType, `link type ${linkType}`);
  }
});

test("pcap FCS bits in the link type field ignored", async () => {
  const file = pcapFile(timed([Uint8Array.of(1, 2, 3, 4)]));
  // Upper 16 bits: FCS length 4 known (P bit and FCS length 2 in 16-bit units).
  new DataView(file.buffer).setUint32(20, 0x24000000 | 1, true);
  const { batches } = await readAll(folder.write("fcs.pcap", file));
  assert.is(batches[0].linkType, 1);
});

test("pcap truncated last record counted", async () => {
  const frames = sampleFrames();
  const whole = pcapFile(frames);
  const path = folder.write("cut.pcap", whole.subarray(0, whole.length - 5));
  const { packets, stats } = await readAll(path);
  assert.is(packets.length, 2);
  assert.is(stats.packets, 2);
  assert.is(stats.truncatedRecords, 1);
});

test("pcap record header cut short counted", async () => {
  const whole = pcapFile(sampleFrames().slice(0, 1));
  const path = folder.write("cut-header.pcap", whole, Uint8Array.of(1, 2, 3, 4, 5, 6));
  const { packets, stats } = await readAll(path);
  assert.is(packets.length, 1);
  assert.is(stats.truncatedRecords, 1);
});

test("pcap impossible captured length reported", async () => {
  const frames = sampleFrames();
  const file = pcapFile(frames, { snapLength: 65535 });
  const secondRecord = 24 + 16 + frames[0].bytes.length;
  new DataView(file.buffer).setUint32(secondRecord + 8, 0x40000000, true);
  const path = folder.write("corrupt.pcap", file);
  const { error, packets } = await readUntilError(path);
  assert.ok(error instanceof CaptureError, "a CaptureError is raised");
  const captureError = error as CaptureError;
  assert.is(captureError.code, "invalid_record_length");
  assert.is(captureError.file, path);
  assert.is(captureError.offset, secondRecord);
  assert.match(captureError.message, `byte ${secondRecord} of corrupt.pcap`);
  assert.match(captureError.message, "captured length 1073741824");
  assert.is(packets.length, 1, "the packet before the bad record is still yielded");
});

test("pcap captured length above snap length tolerated", async () => {
  // Some writers store packets longer than their snap length, and up to 256 KiB is accepted.
  const frame = new Uint8Array(2000).fill(7);
  const path = folder.write("over-snap.pcap", pcapFile(timed([frame]), { snapLength: 1500 }));
  const { packets } = await readAll(path);
  assert.is(packets.length, 1);
  assert.is(packets[0].captureLength, 2000);
});

test("pcap unsupported major version rejected", async () => {
  const file = pcapFile(sampleFrames());
  new DataView(file.buffer).setUint16(4, 3, true);
  const path = folder.write("v3.pcap", file);
  const { error } = await readUntilError(path);
  assert.ok(error instanceof CaptureError);
  assert.is((error as CaptureError).code, "unsupported_version");
  assert.is((error as CaptureError).offset, 4);
  assert.match((error as CaptureError).message, "version 3.4");
});

test("pcap file header cut short rejected", async () => {
  const path = folder.write("short-header.pcap", pcapFile([]).subarray(0, 10));
  const { error } = await readUntilError(path);
  assert.ok(error instanceof CaptureError);
  assert.is((error as CaptureError).code, "truncated_header");
  assert.match((error as CaptureError).message, "10 bytes");
});

test("pcap with no packets yields nothing", async () => {
  const { batches, stats } = await readAll(folder.write("empty.pcap", pcapFile([])));
  assert.is(batches.length, 0);
  assert.is(stats.packets, 0);
  assert.is(stats.truncatedRecords, 0);
  assert.equal(stats.interfaces, [{ linkType: 1, tsresol: 1_000_000 }]);
});

test("pcap batches bounded by batchBytes", async () => {
  const frames = timed(Array.from({ length: 40 }, (_, i) => new Uint8Array(100 + i).fill(i)));
  const path = folder.write("many.pcap", pcapFile(frames));
  const { batches, packets, stats } = await readAll(path, 1024);
  assert.ok(batches.length > 1, "more than one batch");
  for (const batch of batches) assert.ok(batch.byteLength <= 1024, `batch of ${batch.byteLength} bytes`);
  assert.is(packets.length, 40);
  assert.is(stats.batches, batches.length);
  packets.forEach((p, i) => assert.is(p.data[0], i, `packet ${i} in order`));
  // Each batch points at the file offset of its first record.
  assert.is(batches[1].firstRecordOffset, 24 + batches[0].byteLength);
});

test("pcap packet larger than batchBytes travels alone", async () => {
  const frames = timed([new Uint8Array(50), new Uint8Array(5000), new Uint8Array(60)]);
  const { batches } = await readAll(folder.write("big-packet.pcap", pcapFile(frames)), 1024);
  assert.equal(batches.map((b) => b.count), [1, 1, 1]);
  assert.is(batches[1].byteLength, 16 + 5000);
});

test("pcap invalid batchBytes rejected", async () => {
  const path = folder.write("any.pcap", pcapFile(sampleFrames()));
  try {
    await readAll(path, 0);
    assert.unreachable("batchBytes 0 must be rejected");
  } catch (error) {
    assert.instance(error, RangeError);
    assert.match((error as Error).message, "invalid batchBytes 0");
  }
});

test("pcapng given to readPcap rejected", async () => {
  const path = folder.write("really.pcapng", Uint8Array.of(0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a));
  try {
    for await (const _ of readPcap(path)) assert.unreachable("no batch expected");
    assert.unreachable("a pcapng file must be rejected");
  } catch (error) {
    assert.instance(error, CaptureError);
    assert.is((error as CaptureError).code, "wrong_format");
    assert.match((error as CaptureError).message, "is pcapng, not pcap");
  }
});

test("pcap reused batch buffer keeps packets", async () => {
  // 40 small frames and one of 3,000 bytes, larger than the 1,024-byte
  // batches, which must travel alone without growing the reused buffer.
  const frames = timed(Array.from({ length: 41 }, (_, i) => i === 20
    ? udpFrame({ src: "10.0.0.1", dst: "10.0.0.2", srcPort: 5000, dstPort: 5001, payload: new Array(3000).fill(i) })
    : udpFrame({ src: "10.0.0.1", dst: "10.0.0.2", srcPort: 5000, dstPort: 5001, payload: [i, i, i] })));
  const path = folder.write("reuse.pcap", pcapFile(frames));
  const expected = await readAll(path, 1024);

  const packets: ReadPacket[] = [];
  const buffers = new Set<ArrayBufferLike>();
  const sizes: number[] = [];
  for await (const batch of readCapture(path, { batchBytes: 1024, reuseBuffers: true })) {
    packets.push(...packetsOf(batch));
    buffers.add(batch.bytes.buffer);
    sizes.push(batch.bytes.length);
  }
  assert.equal(packets, expected.packets);
  assert.is(sizes.length, expected.batches.length);
  // One buffer for the batches within 1,024 bytes, one for the large frame.
  assert.is(buffers.size, 2);
  assert.is(sizes.filter((size) => size > 1024).length, 1, `batch sizes ${sizes.join(", ")}`);
});

test.run();
