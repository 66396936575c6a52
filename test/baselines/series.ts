// Builds multi-day traffic from one capture: the project's capture reader
// yields batches in pcap record layout, and these helpers copy them with
// shifted timestamps and, optionally, another IPv4 address for a host.
import { readCapture, type PacketBatch } from "../../agent/src/capture/index.js";
import { ipv4Bytes } from "../helpers/frames.js";

const RECORD_HEADER_BYTES = 16;
const LINKTYPE_ETHERNET = 1;
const ETHERTYPE_IPV4 = 0x0800;

export async function readBatches(path: string): Promise<PacketBatch[]> {
  const batches: PacketBatch[] = [];
  for await (const batch of readCapture(path)) batches.push({ ...batch, bytes: batch.bytes.slice(0, batch.byteLength) });
  return batches;
}

// Packet time (seconds) of the first record.
export function firstSecond(batches: PacketBatch[]): number {
  const first = batches.find((b) => b.byteLength >= RECORD_HEADER_BYTES);
  if (!first) throw new Error("the capture has no packets");
  return new DataView(first.bytes.buffer, first.bytes.byteOffset).getUint32(0, true);
}

// Copies `batches` with every ts_sec moved by `deltaSec`; each IPv4 source or
// destination address in `rename` (Ethernet frames) is replaced.
export function shifted(batches: PacketBatch[], deltaSec: number, rename: Record<string, string> = {}): PacketBatch[] {
  const swaps = Object.entries(rename).map(([from, to]) => [ipv4Bytes(from), ipv4Bytes(to)] as const);
  return batches.map((batch) => {
    const bytes = batch.bytes.slice(0, batch.byteLength);
    const view = new DataView(bytes.buffer);
    let at = 0;
    while (at + RECORD_HEADER_BYTES <= bytes.length) {
      view.setUint32(at, view.getUint32(at, true) + deltaSec, true);
      const caplen = view.getUint32(at + 8, true);
      const frame = at + RECORD_HEADER_BYTES;
      if (swaps.length > 0 && batch.linkType === LINKTYPE_ETHERNET && caplen >= 34 && view.getUint16(frame + 12) === ETHERTYPE_IPV4) {
        for (const addressAt of [frame + 26, frame + 30]) {
          for (const [from, to] of swaps) {
            if (from.every((b, i) => bytes[addressAt + i] === b)) bytes.set(to, addressAt);
          }
        }
      }
      at = frame + caplen;
    }
    return { ...batch, bytes, byteLength: bytes.length };
  });
}
