// The benchmark corpus generator: packet counts, time order, one flow per
// copy, and checksums that stay valid after the address rewrite.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { PLANT_MIX_SOURCES, writePlantMix } from "../../bench/corpus.js";
import { writeManyFlows } from "../../bench/many-flows.js";
import { loadBatches, PcapReader } from "../../bench/pcap.js";
import { summarise } from "../../bench/measure.js";
import { capture } from "../helpers/captures.js";

const dir = mkdtempSync(join(tmpdir(), "fieldsense-corpus-test-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

interface Packet { time: number; data: Uint8Array }

function readAll(path: string): Packet[] {
  const reader = new PcapReader(path);
  const packets: Packet[] = [];
  for (let r = reader.next(); r; r = reader.next()) packets.push({ time: r.tsSec * 1e6 + r.tsFrac, data: Uint8Array.from(r.data) });
  reader.close();
  return packets;
}

function onesComplement(bytes: Uint8Array, start: number, end: number, initial = 0): number {
  let sum = initial;
  for (let i = start; i < end; i += 2) sum += (bytes[i] << 8) | (i + 1 < end ? bytes[i + 1] : 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

// True when the IPv4 header checksum and the TCP checksum of an untruncated
// Ethernet/IPv4/TCP frame verify.
function checksumsValid(frame: Uint8Array): boolean {
  const ip = 14;
  const headerLength = (frame[ip] & 0x0f) * 4;
  const total = (frame[ip + 2] << 8) | frame[ip + 3];
  if (onesComplement(frame, ip, ip + headerLength) !== 0xffff) return false;
  const tcpLength = total - headerLength;
  const pseudo = onesComplement(frame, ip + 12, ip + 20) + 6 + tcpLength;
  return onesComplement(frame, ip + headerLength, ip + total, pseudo) === 0xffff;
}

test("many-flows file has eight packets per flow", () => {
  const path = join(dir, "many.pcap");
  writeManyFlows(path, 300);
  const packets = readAll(path);
  assert.is(packets.length, 300 * 8);
  for (let i = 1; i < packets.length; i++) assert.ok(packets[i].time >= packets[i - 1].time, `packet ${i} goes back in time`);
  const syns = packets.filter((p) => p.data[14 + 20 + 13] === 0x02);
  const clients = new Set(syns.map((p) => Buffer.from(p.data.subarray(26, 30)).toString("hex")));
  assert.is(syns.length, 300);
  assert.is(clients.size, 300, "every flow has its own client address");
  const firstFin = packets.findIndex((p) => (p.data[14 + 20 + 13] & 0x01) !== 0);
  assert.is(firstFin, 300 * 5, "no flow closes before every flow is open");
  assert.ok(packets.every((p) => checksumsValid(p.data)), "IPv4 and TCP checksums verify");
});

test("many-flows rejects a zero flow count", () => {
  assert.throws(() => writeManyFlows(join(dir, "zero.pcap"), 0), /invalid many-flows count 0/);
});

test("plant mix has the requested packet count", () => {
  if (!PLANT_MIX_SOURCES.every((s) => capture(s.path))) return;
  const path = join(dir, "plant.pcap");
  // Two rounds and a part of a third: the polling capture has 15,387 packets.
  const { rounds } = writePlantMix(path, 40_000);
  assert.is(rounds, 3);
  const packets = readAll(path);
  assert.is(packets.length, 40_000);
  for (let i = 1; i < packets.length; i++) assert.ok(packets[i].time >= packets[i - 1].time, `packet ${i} goes back in time`);
  const { batches, packets: counted } = loadBatches(path, { batchPackets: 1000, batchBytes: 8 << 20 });
  assert.is(counted, 40_000);
  assert.is(batches.length, 40);
  assert.is(batches[0].count, 1000);
});

test("plant mix rounds use distinct addresses", () => {
  const polling = capture("modbus/iti_plant1_modbus_normal_polling.pcap");
  if (!polling || !PLANT_MIX_SOURCES.every((s) => capture(s.path))) return;
  const original = readAll(polling).find((p) => p.data[23] === 6 && checksumsValid(p.data))!.data;
  const path = join(dir, "plant-rounds.pcap");
  writePlantMix(path, 60_000);
  const packets = readAll(path);
  const addressesOf = (from: number, to: number) => {
    const set = new Set<string>();
    for (const p of packets.slice(from, to)) {
      if (p.data[12] === 0x08 && p.data[13] === 0x00) set.add(Buffer.from(p.data.subarray(26, 34)).toString("hex"));
    }
    return set;
  };
  const roundOne = addressesOf(0, 15_000);
  const roundTwo = addressesOf(20_000, 35_000);
  for (const pair of roundOne) assert.not.ok(roundTwo.has(pair), `address pair ${pair} appears in two rounds`);
  // A frame whose checksums verified before the rewrite still verifies after
  // it: the same TCP segment (ports, sequence numbers, payload) in round one.
  const sameSegment = (frame: Uint8Array) => frame.length === original.length
    && Buffer.compare(Buffer.from(frame.subarray(34, 50)), Buffer.from(original.subarray(34, 50))) === 0
    && Buffer.compare(Buffer.from(frame.subarray(52)), Buffer.from(original.subarray(52))) === 0;
  const rewritten = packets.find((p) => sameSegment(p.data));
  assert.ok(rewritten, "the segment is in the mix");
  assert.not.equal(Buffer.from(rewritten!.data.subarray(26, 34)), Buffer.from(original.subarray(26, 34)), "addresses were rewritten");
  assert.ok(checksumsValid(rewritten!.data), "checksums verify after the rewrite");
});

test("summarise median of even and odd counts", () => {
  assert.equal(summarise([3, 1, 2]), { median: 2, min: 1, max: 3, runs: 3 });
  assert.equal(summarise([4, 1, 3, 2]), { median: 2.5, min: 1, max: 4, runs: 4 });
  assert.throws(() => summarise([]), /empty list/);
});

test.run();
