import { test } from "uvu";
import * as assert from "uvu/assert";
import { CaptureError, readPcapng } from "../../agent/src/capture/index.js";
import { encodeBlock, PcapngEncoder, PcapngFileWriter } from "../../agent/src/capture/pcapng-writer.js";
import { pcapFile, tcpFrame, timed } from "../helpers/frames.js";
import { concatBytes, nanosecondsOf, obsoletePacketBlock, readAll, readUntilError, simplePacketBlock, TempFolder } from "./fixtures.js";

const folder = new TempFolder();
test.after(() => folder.remove());

const ethernetFrame = tcpFrame({ src: "10.0.0.1", dst: "10.0.0.2", srcPort: 49152, dstPort: 502, seq: 1, payload: [1, 2, 3] });
// A bare IPv4 header with protocol 17, as a LINKTYPE_IPV4 interface records it.
const ipv4Packet = Uint8Array.of(0x45, 0, 0, 20, 0, 1, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2);

test("pcapng two interfaces keep link type and time", async () => {
  const encoder = new PcapngEncoder();
  const file = concatBytes(
    encoder.sectionHeader(),
    encoder.interfaceDescription({ linkType: 1, snapLength: 65535 }),                                 // microseconds by default
    encoder.interfaceDescription({ linkType: 228, snapLength: 0, tsresol: { base: 2, exponent: 20 } }), // 2^-20 s units
    encoder.enhancedPacket({ interfaceId: 0, tsSec: 1_700_000_000, tsNsec: 123_456_000, data: ethernetFrame }),
    encoder.enhancedPacket({ interfaceId: 1, tsSec: 1_700_000_001, tsNsec: 500_000_000, data: ipv4Packet, wireLength: 60 }),
    encoder.enhancedPacket({ interfaceId: 1, tsSec: 1_700_000_002, tsNsec: 250_000_000, data: ipv4Packet }),
    encoder.enhancedPacket({ interfaceId: 0, tsSec: 1_700_000_003, tsNsec: 1_000, data: ethernetFrame, comment: "back on eth0" }),
  );
  const { batches, packets, stats } = await readAll(folder.write("two-interfaces.pcapng", file));
  assert.equal(batches.map((b) => [b.linkType, b.count]), [[1, 1], [228, 2], [1, 1]], "a new batch at each link type change");
  for (const batch of batches) assert.is(batch.fracPerSecond, 1_000_000_000);
  assert.equal(packets.map((p) => [p.tsSec, p.tsFrac]), [
    [1_700_000_000, 123_456_000],
    [1_700_000_001, 500_000_000],   // 2^-20 s units hold one half exactly
    [1_700_000_002, 250_000_000],
    [1_700_000_003, 1_000],
  ]);
  assert.equal(packets[0].data, ethernetFrame);
  assert.equal(packets[1].data, ipv4Packet);
  assert.is(packets[1].wireLength, 60);
  assert.is(packets[3].captureLength, ethernetFrame.length, "the comment option is not packet data");
  assert.is(stats.format, "pcapng");
  assert.equal(stats.interfaces, [{ linkType: 1, tsresol: 1_000_000 }, { linkType: 228, tsresol: 1_048_576 }]);
  // Section header 28 bytes, each interface description 32 bytes with its if_tsresol option.
  assert.is(batches[0].firstRecordOffset, 28 + 32 + 32, "offset of the first enhanced packet block");
});

test("pcapng 2^-n resolution rounds down", async () => {
  const encoder = new PcapngEncoder();
  // 2^-30 s units: 1 unit is 0.93 ns, so 3 units are 2.79 ns and read as 2 ns.
  const file = concatBytes(
    encoder.sectionHeader(),
    encoder.interfaceDescription({ linkType: 1, tsresol: { base: 2, exponent: 30 } }),
    encoder.enhancedPacket({ interfaceId: 0, tsSec: 10, tsNsec: 3, data: ethernetFrame }),
  );
  const { packets } = await readAll(folder.write("pow2.pcapng", file));
  assert.is(packets[0].tsSec, 10);
  assert.is(packets[0].tsFrac, 2);
});

test("pcapng nanosecond interface keeps full precision", async () => {
  const encoder = new PcapngEncoder();
  const file = concatBytes(
    encoder.sectionHeader(),
    encoder.interfaceDescription({ linkType: 1, tsresol: { base: 10, exponent: 9 } }),
    encoder.enhancedPacket({ interfaceId: 0, tsSec: 1_800_000_000, tsNsec: 999_999_999, data: ethernetFrame }),
  );
  const { packets, stats } = await readAll(folder.write("ns.pcapng", file));
  assert.is(nanosecondsOf(packets[0]), 1_800_000_000_999_999_999n);
  assert.equal(stats.interfaces, [{ linkType: 1, tsresol: 1_000_000_000 }]);
});

test("pcapng unknown blocks skipped and counted", async () => {
  const encoder = new PcapngEncoder();
  const file = concatBytes(
    encoder.sectionHeader(),
    encodeBlock(0x00000004, new Uint8Array(8)),                    // name resolution block
    encoder.interfaceDescription({ linkType: 1 }),
    encodeBlock(0x12345678, Uint8Array.of(1, 2, 3, 4, 5)),         // a type this reader does not know
    encoder.enhancedPacket({ interfaceId: 0, tsSec: 1, tsNsec: 0, data: ethernetFrame }),
    encodeBlock(0x00000005, new Uint8Array(20)),                   // interface statistics block
    encodeBlock(0x00000005, new Uint8Array(20)),
  );
  const { packets, stats } = await readAll(folder.write("unknown-blocks.pcapng", file));
  assert.is(packets.length, 1);
  assert.equal(stats.skippedBlocks, { name_resolution: 1, "0x12345678": 1, interface_statistics: 2 });
});

test("pcapng simple packet block uses interface 0", async () => {
  const encoder = new PcapngEncoder();
  const longFrame = new Uint8Array(100).fill(9);
  const file = concatBytes(
    encoder.sectionHeader(),
    encoder.interfaceDescription({ linkType: 101, snapLength: 64 }),
    encoder.interfaceDescription({ linkType: 1 }),
    encoder.enhancedPacket({ interfaceId: 1, tsSec: 50, tsNsec: 7_000, data: ethernetFrame }),
    // Cut to the 64-byte snap length of interface 0, as a writer must store it.
    simplePacketBlock(longFrame.subarray(0, 64), 100),
    simplePacketBlock(ipv4Packet),
  );
  const { batches, packets } = await readAll(folder.write("simple.pcapng", file));
  assert.equal(batches.map((b) => b.linkType), [1, 101]);
  assert.is(packets.length, 3);
  assert.is(packets[1].linkType, 101);
  assert.is(packets[1].captureLength, 64);
  assert.is(packets[1].wireLength, 100);
  assert.equal(packets[2].data, ipv4Packet);
  // No timestamp in a simple packet block: the previous packet time is kept.
  assert.equal([packets[1].tsSec, packets[1].tsFrac], [50, 7_000]);
  assert.equal([packets[2].tsSec, packets[2].tsFrac], [50, 7_000]);
});

test("pcapng two sections with different byte order", async () => {
  const little = new PcapngEncoder(true);
  const big = new PcapngEncoder(false);
  const file = concatBytes(
    little.sectionHeader(),
    little.interfaceDescription({ linkType: 1 }),
    little.enhancedPacket({ interfaceId: 0, tsSec: 100, tsNsec: 1_000, data: ethernetFrame }),
    big.sectionHeader(),
    big.interfaceDescription({ linkType: 229, tsresol: { base: 10, exponent: 9 } }),
    big.enhancedPacket({ interfaceId: 0, tsSec: 200, tsNsec: 2, data: ipv4Packet, wireLength: 1500 }),
    big.enhancedPacket({ interfaceId: 0, tsSec: 201, tsNsec: 3, data: ipv4Packet }),
  );
  const { batches, packets, stats } = await readAll(folder.write("two-sections.pcapng", file));
  assert.equal(batches.map((b) => [b.linkType, b.count]), [[1, 1], [229, 2]]);
  assert.equal(packets.map((p) => [p.tsSec, p.tsFrac]), [[100, 1_000], [200, 2], [201, 3]]);
  assert.is(packets[1].wireLength, 1500);
  assert.equal(packets[1].data, ipv4Packet);
  assert.equal(stats.interfaces, [{ linkType: 1, tsresol: 1_000_000 }, { linkType: 229, tsresol: 1_000_000_000 }]);
});

test("pcapng interfaces reset by a new section", async () => {
  const encoder = new PcapngEncoder();
  const firstSection = concatBytes(
    encoder.sectionHeader(),
    encoder.interfaceDescription({ linkType: 1 }),
  );
  const packet = encoder.enhancedPacket({ interfaceId: 0, tsSec: 1, tsNsec: 0, data: ethernetFrame });
  // The second section describes no interface, so interface 0 of its packet is unknown.
  const secondSection = new PcapngEncoder().sectionHeader();
  const path = folder.write("reset.pcapng", firstSection, packet, secondSection, packet);
  const { error, packets } = await readUntilError(path);
  assert.instance(error, CaptureError);
  assert.is((error as CaptureError).code, "unknown_interface");
  assert.is((error as CaptureError).offset, firstSection.length + packet.length + secondSection.length);
  assert.is(packets.length, 1, "the packet of the first section is still yielded");
});

test("pcapng obsolete packet block read", async () => {
  const encoder = new PcapngEncoder();
  const file = concatBytes(
    encoder.sectionHeader(),
    encoder.interfaceDescription({ linkType: 1 }),
    obsoletePacketBlock(0, 1_700_000_000_250_000n, ethernetFrame),
  );
  const { packets } = await readAll(folder.write("obsolete.pcapng", file));
  assert.is(packets.length, 1);
  assert.equal([packets[0].tsSec, packets[0].tsFrac], [1_700_000_000, 250_000_000]);
  assert.equal(packets[0].data, ethernetFrame);
});

test("pcapng truncated last block counted", async () => {
  const encoder = new PcapngEncoder();
  const whole = concatBytes(
    encoder.sectionHeader(),
    encoder.interfaceDescription({ linkType: 1 }),
    encoder.enhancedPacket({ interfaceId: 0, tsSec: 1, tsNsec: 0, data: ethernetFrame }),
    encoder.enhancedPacket({ interfaceId: 0, tsSec: 2, tsNsec: 0, data: ethernetFrame }),
  );
  // The last enhanced packet block is 92 bytes: cut inside its data, inside its
  // frame, and leave only one byte of it.
  for (const cut of [3, 80, 91]) {
    const { packets, stats } = await readAll(folder.write(`cut-${cut}.pcapng`, whole.subarray(0, whole.length - cut)));
    assert.is(packets.length, 1, `cut ${cut}: packets`);
    assert.is(stats.truncatedRecords, 1, `cut ${cut}: truncated records`);
  }
});

test("pcapng block length not a multiple of 4 reported", async () => {
  const encoder = new PcapngEncoder();
  const head = concatBytes(encoder.sectionHeader(), encoder.interfaceDescription({ linkType: 1 }));
  const packet = encoder.enhancedPacket({ interfaceId: 0, tsSec: 1, tsNsec: 0, data: ethernetFrame });
  const file = concatBytes(head, packet, packet);
  const badBlock = head.length + packet.length;
  new DataView(file.buffer).setUint32(badBlock + 4, packet.length + 2, true);
  const path = folder.write("odd-length.pcapng", file);
  const { error, packets } = await readUntilError(path);
  assert.instance(error, CaptureError);
  const captureError = error as CaptureError;
  assert.is(captureError.code, "invalid_block_length");
  assert.is(captureError.file, path);
  assert.is(captureError.offset, badBlock + 4);
  assert.match(captureError.message, `byte ${badBlock} of odd-length.pcapng`);
  assert.match(captureError.message, "not a multiple of 4");
  assert.is(packets.length, 1);
});

test("pcapng block shorter than its minimum reported", async () => {
  const encoder = new PcapngEncoder();
  const head = concatBytes(encoder.sectionHeader(), encoder.interfaceDescription({ linkType: 1 }));
  const tooShort = encodeBlock(0x00000006, new Uint8Array(8)); // 20 bytes, an enhanced packet block needs 32
  const { error } = await readUntilError(folder.write("short-block.pcapng", head, tooShort));
  assert.instance(error, CaptureError);
  assert.is((error as CaptureError).code, "invalid_block_length");
  assert.match((error as CaptureError).message, "32-byte minimum");
});

test("pcapng trailing block length mismatch reported", async () => {
  const encoder = new PcapngEncoder();
  const head = concatBytes(encoder.sectionHeader(), encoder.interfaceDescription({ linkType: 1 }));
  const packet = encoder.enhancedPacket({ interfaceId: 0, tsSec: 1, tsNsec: 0, data: ethernetFrame });
  new DataView(packet.buffer).setUint32(packet.length - 4, packet.length + 4, true);
  const { error } = await readUntilError(folder.write("mismatch.pcapng", head, packet));
  assert.instance(error, CaptureError);
  assert.is((error as CaptureError).code, "invalid_block_length");
  assert.match((error as CaptureError).message, "ends with");
});

test("pcapng captured length beyond its block reported", async () => {
  const encoder = new PcapngEncoder();
  const head = concatBytes(encoder.sectionHeader(), encoder.interfaceDescription({ linkType: 1 }));
  const packet = encoder.enhancedPacket({ interfaceId: 0, tsSec: 1, tsNsec: 0, data: ethernetFrame });
  new DataView(packet.buffer).setUint32(20, ethernetFrame.length + 100, true);
  const { error } = await readUntilError(folder.write("caplen.pcapng", head, packet));
  assert.instance(error, CaptureError);
  assert.is((error as CaptureError).code, "invalid_block_length");
  assert.is((error as CaptureError).offset, head.length + 20);
});

test("pcapng invalid byte-order magic reported", async () => {
  const header = new PcapngEncoder().sectionHeader();
  new DataView(header.buffer).setUint32(8, 0x11223344, true);
  const { error } = await readUntilError(folder.write("bom.pcapng", header));
  assert.instance(error, CaptureError);
  assert.is((error as CaptureError).code, "invalid_byte_order");
  assert.match((error as CaptureError).message, "0x11223344");
});

test("pcapng unsupported major version rejected", async () => {
  const header = new PcapngEncoder().sectionHeader();
  new DataView(header.buffer).setUint16(12, 2, true);
  const { error } = await readUntilError(folder.write("v2.pcapng", header));
  assert.instance(error, CaptureError);
  assert.is((error as CaptureError).code, "unsupported_version");
  assert.match((error as CaptureError).message, "version 2.0");
});

test("pcapng option running past its block reported", async () => {
  const encoder = new PcapngEncoder();
  const idb = encoder.interfaceDescription({ linkType: 1 });
  new DataView(idb.buffer).setUint16(18, 200, true); // if_tsresol claims 200 bytes
  const { error } = await readUntilError(folder.write("option.pcapng", encoder.sectionHeader(), idb));
  assert.instance(error, CaptureError);
  assert.is((error as CaptureError).code, "invalid_block_length");
  assert.match((error as CaptureError).message, "option 9 has length 200");
});

test("pcapng file writer output read back", async () => {
  const path = `${folder.path}/written.pcapng`;
  const writer = await PcapngFileWriter.create(path, { bufferBytes: 100 });
  const eth = await writer.addInterface({ linkType: 1, snapLength: 262144, tsresol: { base: 10, exponent: 9 } });
  const raw = await writer.addInterface({ linkType: 101 });
  await writer.writePacket({ interfaceId: eth, tsSec: 1_700_000_000, tsNsec: 42, data: ethernetFrame, comment: "alert 17 evidence" });
  await writer.writePacket({ interfaceId: raw, tsSec: 1_700_000_001, tsNsec: 5_000, data: ipv4Packet });
  await writer.close();
  assert.equal([eth, raw], [0, 1]);
  const { packets, stats } = await readAll(path);
  assert.equal(packets.map((p) => [p.linkType, p.tsSec, p.tsFrac]), [[1, 1_700_000_000, 42], [101, 1_700_000_001, 5_000]]);
  assert.equal(packets[0].data, ethernetFrame);
  assert.equal(stats.interfaces, [{ linkType: 1, tsresol: 1_000_000_000 }, { linkType: 101, tsresol: 1_000_000 }]);
});

test("pcapng writer rejects an undescribed interface", () => {
  const encoder = new PcapngEncoder();
  encoder.sectionHeader();
  assert.throws(() => encoder.enhancedPacket({ interfaceId: 0, tsSec: 1, tsNsec: 0, data: ethernetFrame }), /invalid interface id 0/);
});

test("pcap given to readPcapng rejected", async () => {
  const path = folder.write("really.pcap", pcapFile(timed([ethernetFrame])));
  try {
    for await (const _ of readPcapng(path)) assert.unreachable("no batch expected");
    assert.unreachable("a pcap file must be rejected");
  } catch (error) {
    assert.instance(error, CaptureError);
    assert.is((error as CaptureError).code, "wrong_format");
    assert.match((error as CaptureError).message, "is pcap, not pcapng");
  }
});

test.run();
