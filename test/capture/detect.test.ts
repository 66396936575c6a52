import { gzipSync } from "node:zlib";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { CaptureError, describeLinkType } from "../../agent/src/capture/index.js";
import { PcapngEncoder } from "../../agent/src/capture/pcapng-writer.js";
import { pcapFile, tcpFrame, timed } from "../helpers/frames.js";
import { concatBytes, readAll, readUntilError, TempFolder } from "./fixtures.js";

const folder = new TempFolder();
test.after(() => folder.remove());

const frame = tcpFrame({ src: "10.0.0.1", dst: "10.0.0.2", srcPort: 49152, dstPort: 445, seq: 1, payload: [0xfe, 0x53, 0x4d, 0x42] });

async function expectRejected(name: string, bytes: Uint8Array, code: string, ...phrases: string[]): Promise<void> {
  const path = folder.write(name, bytes);
  const { error } = await readUntilError(path);
  assert.instance(error, CaptureError, `${name}: a CaptureError`);
  const captureError = error as CaptureError;
  assert.is(captureError.code, code, `${name}: code`);
  assert.is(captureError.file, path, `${name}: file`);
  assert.is(captureError.offset, 0, `${name}: offset`);
  for (const phrase of phrases) assert.match(captureError.message, phrase, `${name}: message names "${phrase}"`);
}

test("pcapng detected by magic whatever the extension", async () => {
  const encoder = new PcapngEncoder();
  const file = concatBytes(
    encoder.sectionHeader(),
    encoder.interfaceDescription({ linkType: 1 }),
    encoder.enhancedPacket({ interfaceId: 0, tsSec: 5, tsNsec: 6_000, data: frame }),
  );
  const { packets, stats } = await readAll(folder.write("misnamed.pcap", file));
  assert.is(stats.format, "pcapng");
  assert.is(packets.length, 1);
  assert.equal(packets[0].data, frame);
});

test("pcap detected by magic whatever the extension", async () => {
  const { packets, stats } = await readAll(folder.write("misnamed.pcapng", pcapFile(timed([frame]))));
  assert.is(stats.format, "pcap");
  assert.is(packets.length, 1);
});

test("gzip-compressed capture rejected", async () => {
  await expectRejected("trace.pcap.gz", gzipSync(pcapFile(timed([frame]))), "not_a_capture",
    "byte 0 of trace.pcap.gz", "gzip", "gunzip");
});

test("text file rejected", async () => {
  const text = new TextEncoder().encode("ts,src,dst\n1700000000,10.0.0.1,10.0.0.2\n");
  await expectRejected("flows.csv", text, "not_a_capture", "0x74732c73", "text file");
});

test("empty file rejected", async () => {
  await expectRejected("empty.pcap", new Uint8Array(0), "not_a_capture", "0 bytes");
});

test("unknown binary file rejected", async () => {
  await expectRejected("random.bin", Uint8Array.of(0x00, 0x01, 0x02, 0x03, 0xff, 0xfe), "not_a_capture", "0x00010203", "no known capture format");
});

test("modified pcap named as unsupported", async () => {
  const file = pcapFile(timed([frame]));
  new DataView(file.buffer).setUint32(0, 0xa1b2cd34, true);
  await expectRejected("kuznetzov.pcap", file, "not_a_capture", "modified pcap", "editcap");
});

test("missing file reported with its path", async () => {
  const path = `${folder.path}/does-not-exist.pcap`;
  const { error } = await readUntilError(path);
  assert.instance(error, CaptureError);
  assert.is((error as CaptureError).code, "open_failed");
  assert.match((error as CaptureError).message, path);
  assert.match((error as CaptureError).message, "ENOENT");
});

test("describeLinkType names known and unknown types", () => {
  assert.is(describeLinkType(1), "Ethernet (LINKTYPE_ETHERNET, 1)");
  assert.is(describeLinkType(276), "Linux cooked capture v2 (LINKTYPE_LINUX_SLL2, 276)");
  assert.is(describeLinkType(105), "IEEE 802.11 wireless (LINKTYPE_IEEE802_11, 105, not decoded by Fieldsense)");
  assert.is(describeLinkType(4242), "link type 4242 (not in this reader's table, not decoded by Fieldsense)");
});

test.run();
