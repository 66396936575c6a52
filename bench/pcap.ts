// Streaming reader and writer for classic pcap files (not pcapng), used only
// to build and slice the benchmark corpus. The agent's own readers live in
// agent/src/capture. The benchmark keeps its own small copy so that it can
// generate corpora before, and independently of, the code it measures.
//
// File header (24 bytes), then records:
//
//   +--------+-------+-------+----------+---------+---------+----------+
//   | magic  | major | minor | thiszone | sigfigs | snaplen | linktype |
//   |   u32  |  u16  |  u16  |   i32    |   u32   |   u32   |   u32    |
//   +--------+-------+-------+----------+---------+---------+----------+
//   record: u32 ts_sec | u32 ts_frac | u32 caplen | u32 wirelen | caplen bytes
//
// magic 0xa1b2c3d4 means microsecond timestamps and 0xa1b23c4d nanoseconds,
// each in the byte order the writer used.
import { closeSync, openSync, readSync, writeSync } from "node:fs";
import type { PacketBatch } from "../agent/src/capture/batch.js";

export const PCAP_HEADER_BYTES = 24;
export const RECORD_HEADER_BYTES = 16;
const MAGIC_MICROSECONDS = 0xa1b2c3d4;
const MAGIC_NANOSECONDS = 0xa1b23c4d;
const PCAPNG_SECTION_HEADER = 0x0a0d0d0a;
// A record larger than this is treated as a corrupt length, not a packet.
const MAX_RECORD_BYTES = 262_144;
const READ_CHUNK_BYTES = 4 << 20;

export interface PcapHeader {
  linkType: number;
  nanoseconds: boolean;
  littleEndian: boolean;
  snapLength: number;
}

export interface PcapRecord {
  tsSec: number;
  tsFrac: number;          // microseconds, or nanoseconds when the magic number marks nanoseconds
  wireLength: number;
  data: Uint8Array;        // a view that is valid until the next record is read
}

// Reads records one at a time through a reusable 4 MiB window.
export class PcapReader {
  readonly header: PcapHeader;
  private readonly fd: number;
  private buffer = new Uint8Array(READ_CHUNK_BYTES);
  private view = new DataView(this.buffer.buffer);
  private start = 0;
  private end = 0;
  private fileOffset = 0;
  private eof = false;

  constructor(readonly path: string) {
    this.fd = openSync(path, "r");
    this.fill(PCAP_HEADER_BYTES);
    if (this.end < PCAP_HEADER_BYTES) {
      this.close();
      throw new Error(`invalid pcap file ${path}: ${this.end} bytes, shorter than the 24-byte file header`);
    }
    const magicLittle = this.view.getUint32(0, true);
    const magicBig = this.view.getUint32(0, false);
    let littleEndian: boolean;
    if (magicLittle === MAGIC_MICROSECONDS || magicLittle === MAGIC_NANOSECONDS) littleEndian = true;
    else if (magicBig === MAGIC_MICROSECONDS || magicBig === MAGIC_NANOSECONDS) littleEndian = false;
    else {
      this.close();
      const hint = magicBig === PCAPNG_SECTION_HEADER ? " (pcapng; convert it with `editcap -F pcap`)" : "";
      throw new Error(`invalid pcap header at byte 0 of ${path}: magic 0x${magicBig.toString(16).padStart(8, "0")} is not classic pcap${hint}`);
    }
    const magic = this.view.getUint32(0, littleEndian);
    this.header = {
      littleEndian,
      nanoseconds: magic === MAGIC_NANOSECONDS,
      snapLength: this.view.getUint32(16, littleEndian),
      linkType: this.view.getUint32(20, littleEndian),
    };
    this.start = PCAP_HEADER_BYTES;
  }

  // Returns the next record, or undefined at the end of the file.
  next(): PcapRecord | undefined {
    if (!this.ensure(RECORD_HEADER_BYTES)) return undefined;
    const little = this.header.littleEndian;
    const tsSec = this.view.getUint32(this.start, little);
    const tsFrac = this.view.getUint32(this.start + 4, little);
    const capLength = this.view.getUint32(this.start + 8, little);
    const wireLength = this.view.getUint32(this.start + 12, little);
    if (capLength > MAX_RECORD_BYTES) {
      throw new Error(`invalid pcap record at byte ${this.fileOffset + this.start} of ${this.path}: caplen ${capLength} exceeds ${MAX_RECORD_BYTES}; the file is corrupt or truncated`);
    }
    if (!this.ensure(RECORD_HEADER_BYTES + capLength)) {
      return undefined; // a record cut off by the end of the file, as tcpdump leaves after a kill
    }
    const dataStart = this.start + RECORD_HEADER_BYTES;
    const data = this.buffer.subarray(dataStart, dataStart + capLength);
    this.start = dataStart + capLength;
    return { tsSec, tsFrac, wireLength, data };
  }

  close(): void {
    closeSync(this.fd);
  }

  private ensure(bytes: number): boolean {
    if (this.end - this.start >= bytes) return true;
    if (this.eof) return false;
    // Move the unread tail to the front, then read more behind it.
    this.buffer.copyWithin(0, this.start, this.end);
    this.fileOffset += this.start;
    this.end -= this.start;
    this.start = 0;
    this.fill(bytes);
    return this.end - this.start >= bytes;
  }

  private fill(bytes: number): void {
    while (this.end < bytes && !this.eof) {
      const read = readSync(this.fd, this.buffer, this.end, this.buffer.length - this.end, null);
      if (read === 0) this.eof = true;
      this.end += read;
    }
  }
}

// Writes little-endian pcap with buffered, synchronous writes.
export class PcapWriter {
  private readonly fd: number;
  private buffer = new Uint8Array(READ_CHUNK_BYTES);
  private view = new DataView(this.buffer.buffer);
  private used = 0;
  packets = 0;
  bytes = 0;

  constructor(readonly path: string, header: { linkType: number; nanoseconds?: boolean; snapLength?: number }) {
    this.fd = openSync(path, "w");
    this.view.setUint32(0, header.nanoseconds ? MAGIC_NANOSECONDS : MAGIC_MICROSECONDS, true);
    this.view.setUint16(4, 2, true);
    this.view.setUint16(6, 4, true);
    this.view.setInt32(8, 0, true);
    this.view.setUint32(12, 0, true);
    this.view.setUint32(16, header.snapLength ?? MAX_RECORD_BYTES, true);
    this.view.setUint32(20, header.linkType, true);
    this.used = PCAP_HEADER_BYTES;
    this.bytes = PCAP_HEADER_BYTES;
  }

  write(tsSec: number, tsFrac: number, data: Uint8Array, wireLength = data.length): void {
    const size = RECORD_HEADER_BYTES + data.length;
    if (this.used + size > this.buffer.length) this.flush();
    this.view.setUint32(this.used, tsSec >>> 0, true);
    this.view.setUint32(this.used + 4, tsFrac >>> 0, true);
    this.view.setUint32(this.used + 8, data.length, true);
    this.view.setUint32(this.used + 12, wireLength, true);
    this.buffer.set(data, this.used + RECORD_HEADER_BYTES);
    this.used += size;
    this.packets += 1;
    this.bytes += size;
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }

  private flush(): void {
    let at = 0;
    while (at < this.used) at += writeSync(this.fd, this.buffer, at, this.used - at);
    this.used = 0;
  }
}

// Loads a little-endian pcap file into core batches of at most `batchBytes`
// and `batchPackets` each, cut at record boundaries: the batch layout is the
// pcap record layout, so each batch is one copy of a slice of the file.
// `times` (optional) receives each packet's timestamp in microseconds.
export function loadBatches(
  path: string,
  options: { batchBytes?: number; batchPackets?: number; times?: number[] } = {},
): { batches: PacketBatch[]; packets: number; wireBytes: number } {
  const batchBytes = options.batchBytes ?? 1 << 20;
  const batchPackets = options.batchPackets ?? Number.MAX_SAFE_INTEGER;
  const reader = new PcapReader(path);
  if (!reader.header.littleEndian) {
    reader.close();
    throw new Error(`unsupported pcap byte order in ${path}: big-endian; rewrite it with bench/corpus.ts or editcap first`);
  }
  const fracPerSecond = reader.header.nanoseconds ? 1_000_000_000 : 1_000_000;
  const batches: PacketBatch[] = [];
  let packets = 0;
  let wireBytes = 0;
  let current = new Uint8Array(batchBytes);
  let view = new DataView(current.buffer);
  let used = 0;
  let count = 0;
  const push = () => {
    if (count === 0) return;
    // A copy of exactly the used bytes, so small batches do not each hold a full buffer.
    batches.push({ linkType: reader.header.linkType, fracPerSecond, bytes: current.slice(0, used), byteLength: used, count, source: path, firstRecordOffset: 0 });
    used = 0;
    count = 0;
  };
  try {
    for (let record = reader.next(); record; record = reader.next()) {
      const size = RECORD_HEADER_BYTES + record.data.length;
      if (used + size > current.length || count >= batchPackets) push();
      if (size > current.length) {
        current = new Uint8Array(size);
        view = new DataView(current.buffer);
      }
      view.setUint32(used, record.tsSec, true);
      view.setUint32(used + 4, record.tsFrac, true);
      view.setUint32(used + 8, record.data.length, true);
      view.setUint32(used + 12, record.wireLength, true);
      current.set(record.data, used + RECORD_HEADER_BYTES);
      used += size;
      count += 1;
      packets += 1;
      wireBytes += record.wireLength;
      options.times?.push(record.tsSec * 1_000_000 + (reader.header.nanoseconds ? Math.floor(record.tsFrac / 1000) : record.tsFrac));
    }
    push();
  } finally {
    reader.close();
  }
  return { batches, packets, wireBytes };
}
