// Large synthetic captures: the readers stream them in bounded batches. The
// files are written piece by piece into a temporary folder, never held whole.
import { closeSync, openSync, writeSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { DEFAULT_BATCH_BYTES, newCaptureStats, readCapture } from "../../agent/src/capture/index.js";
import { PcapngFileWriter } from "../../agent/src/capture/pcapng-writer.js";
import { pcapFile } from "../helpers/frames.js";
import { packetsOf, TempFolder } from "./fixtures.js";

const folder = new TempFolder();
test.after(() => folder.remove());

const TARGET_PCAP_BYTES = 50 * 1024 * 1024;
// Larger than the 1 MiB read chunk and the default batch: it must travel alone.
const JUMBO_PACKET_BYTES = 3 * 1024 * 1024;
const JUMBO_PACKET_INDEX = 1000;

// Packet `index` is 60 to 1573 bytes long and starts with its index (u32, little-endian).
function packetData(index: number): Uint8Array {
  const length = index === JUMBO_PACKET_INDEX ? JUMBO_PACKET_BYTES : 60 + ((index * 7919) % 1514);
  const data = new Uint8Array(length).fill(index & 0xff);
  new DataView(data.buffer).setUint32(0, index, true);
  return data;
}

function writeLargePcap(path: string): { packets: number; bytes: number } {
  const fd = openSync(path, "w");
  // The file header comes from the shared builder, with an 8 MiB snap length that makes the jumbo packet legal.
  writeSync(fd, pcapFile([], { snapLength: 8 * 1024 * 1024 }));
  let written = 24;
  let packets = 0;
  let bytes = 0;
  while (written < TARGET_PCAP_BYTES) {
    const data = packetData(packets);
    const header = new DataView(new ArrayBuffer(16));
    header.setUint32(0, 1_700_000_000 + Math.floor(packets / 1000), true);
    header.setUint32(4, (packets % 1000) * 1000, true);
    header.setUint32(8, data.length, true);
    header.setUint32(12, data.length, true);
    writeSync(fd, new Uint8Array(header.buffer));
    writeSync(fd, data);
    written += 16 + data.length;
    packets += 1;
    bytes += data.length;
  }
  closeSync(fd);
  return { packets, bytes };
}

async function checkStreamed(path: string, expected: { packets: number; bytes: number }, batchBytes: number): Promise<void> {
  const stats = newCaptureStats();
  let next = 0;
  let batches = 0;
  for await (const batch of readCapture(path, { stats, batchBytes })) {
    batches += 1;
    if (batch.count > 1) assert.ok(batch.byteLength <= batchBytes, `batch ${batches} holds ${batch.byteLength} bytes, above ${batchBytes}`);
    assert.ok(batch.bytes.length <= Math.max(batchBytes, 16 + JUMBO_PACKET_BYTES), `batch ${batches} buffer of ${batch.bytes.length} bytes`);
    for (const packet of packetsOf(batch)) {
      const index = new DataView(packet.data.buffer, packet.data.byteOffset, 4).getUint32(0, true);
      if (index !== next) assert.is(index, next, "packets arrive complete and in order");
      if (index === JUMBO_PACKET_INDEX) assert.is(batch.count, 1, "the jumbo packet travels alone");
      next += 1;
    }
  }
  assert.is(next, expected.packets, "packets read");
  assert.is(stats.packets, expected.packets, "packets in the statistics");
  assert.is(stats.bytes, expected.bytes, "bytes in the statistics");
  assert.is(stats.batches, batches, "batches in the statistics");
  assert.is(stats.truncatedRecords, 0);
}

test("large pcap read in bounded batches", async () => {
  const path = folder.path + "/large.pcap";
  const expected = writeLargePcap(path);
  await checkStreamed(path, expected, DEFAULT_BATCH_BYTES);
  await checkStreamed(path, expected, 64 * 1024);
});

test("large pcapng read in bounded batches", async () => {
  const path = folder.path + "/large.pcapng";
  const writer = await PcapngFileWriter.create(path);
  await writer.addInterface({ linkType: 1, tsresol: { base: 10, exponent: 9 } });
  let bytes = 0;
  const packets = 12_000; // about 10 MB, crossing many 1 MiB read chunks mid-block
  for (let index = 0; index < packets; index++) {
    const data = packetData(index);
    bytes += data.length;
    await writer.writePacket({ interfaceId: 0, tsSec: 1_700_000_000 + index, tsNsec: index, data });
  }
  await writer.close();
  await checkStreamed(path, { packets, bytes }, 300 * 1024);
});

test.run();
