// Helpers for the capture reader tests: temporary files, hand-built pcapng
// blocks the writer does not produce, and a flattened view of what a reader yields.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PacketBatch } from "../../agent/src/capture/batch.js";
import { readCapture, newCaptureStats, type CaptureStats } from "../../agent/src/capture/index.js";
import { encodeBlock } from "../../agent/src/capture/pcapng-writer.js";

export interface ReadPacket {
  linkType: number;
  fracPerSecond: number;
  tsSec: number;
  tsFrac: number;
  captureLength: number;
  wireLength: number;
  data: Uint8Array;
}

export interface ReadResult {
  batches: PacketBatch[];
  packets: ReadPacket[];
  stats: CaptureStats;
}

// Splits batches back into packets, checking the record layout on the way.
export function packetsOf(batch: PacketBatch): ReadPacket[] {
  const view = new DataView(batch.bytes.buffer, batch.bytes.byteOffset, batch.byteLength);
  const packets: ReadPacket[] = [];
  let at = 0;
  while (at < batch.byteLength) {
    const captureLength = view.getUint32(at + 8, true);
    packets.push({
      linkType: batch.linkType,
      fracPerSecond: batch.fracPerSecond,
      tsSec: view.getUint32(at, true),
      tsFrac: view.getUint32(at + 4, true),
      captureLength,
      wireLength: view.getUint32(at + 12, true),
      data: batch.bytes.slice(at + 16, at + 16 + captureLength),
    });
    at += 16 + captureLength;
  }
  if (at !== batch.byteLength) throw new Error(`batch from ${batch.source} has records running past byteLength ${batch.byteLength}`);
  if (packets.length !== batch.count) throw new Error(`batch from ${batch.source} holds ${packets.length} records but count says ${batch.count}`);
  return packets;
}

export async function readAll(path: string, batchBytes?: number): Promise<ReadResult> {
  const stats = newCaptureStats();
  const batches: PacketBatch[] = [];
  for await (const batch of readCapture(path, { stats, batchBytes })) batches.push(batch);
  return { batches, packets: batches.flatMap(packetsOf), stats };
}

// Reads until the reader throws and returns the error with the packets before it.
export async function readUntilError(path: string): Promise<{ error: unknown; packets: ReadPacket[]; stats: CaptureStats }> {
  const stats = newCaptureStats();
  const packets: ReadPacket[] = [];
  try {
    for await (const batch of readCapture(path, { stats })) packets.push(...packetsOf(batch));
  } catch (error) {
    return { error, packets, stats };
  }
  return { error: undefined, packets, stats };
}

// Nanoseconds since 1970 as a bigint, whatever the batch resolution.
export function nanosecondsOf(packet: ReadPacket): bigint {
  return BigInt(packet.tsSec) * 1_000_000_000n + (BigInt(packet.tsFrac) * 1_000_000_000n) / BigInt(packet.fracPerSecond);
}

export class TempFolder {
  readonly path = mkdtempSync(join(tmpdir(), "fieldsense-capture-"));

  write(name: string, ...parts: Uint8Array[]): string {
    const file = join(this.path, name);
    writeFileSync(file, Buffer.concat(parts));
    return file;
  }

  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}

// Simple Packet Block: original length, then the data padded to 32 bits.
export function simplePacketBlock(data: Uint8Array, wireLength = data.length, littleEndian = true): Uint8Array {
  const body = new Uint8Array(4 + data.length);
  new DataView(body.buffer).setUint32(0, wireLength, littleEndian);
  body.set(data, 4);
  return encodeBlock(0x00000003, body, littleEndian);
}

// Obsolete Packet Block (type 2): interface id and drops count as u16, then
// the fields of an enhanced packet block.
export function obsoletePacketBlock(interfaceId: number, timestampUnits: bigint, data: Uint8Array, littleEndian = true): Uint8Array {
  const body = new Uint8Array(20 + ((data.length + 3) & ~3));
  const view = new DataView(body.buffer);
  view.setUint16(0, interfaceId, littleEndian);
  view.setUint16(2, 0, littleEndian);
  view.setUint32(4, Number(timestampUnits >> 32n), littleEndian);
  view.setUint32(8, Number(timestampUnits & 0xffffffffn), littleEndian);
  view.setUint32(12, data.length, littleEndian);
  view.setUint32(16, data.length, littleEndian);
  body.set(data, 20);
  return encodeBlock(0x00000002, body, littleEndian);
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}
