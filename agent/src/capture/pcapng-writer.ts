// pcapng writer: section header, interface description and enhanced packet
// blocks, laid out as the reader in pcapng.ts expects them (same format
// document). PcapngEncoder builds blocks in memory, and PcapngFileWriter
// streams them to a file.
import { open, type FileHandle } from "node:fs/promises";
import {
  BLOCK_ENHANCED_PACKET, BLOCK_INTERFACE_DESCRIPTION, BLOCK_SECTION_HEADER, BYTE_ORDER_MAGIC,
  OPTION_COMMENT, OPTION_IF_TSRESOL,
} from "./pcapng.js";

// Timestamp units of an interface: base^-exponent seconds. Microseconds are
// { base: 10, exponent: 6 }, the default of the format.
export interface TimestampResolution { base: 10 | 2; exponent: number }

export interface InterfaceDescription {
  linkType: number;
  snapLength?: number;              // 0 (the default) means no limit
  tsresol?: TimestampResolution;
}

export interface PacketToWrite {
  interfaceId: number;
  tsSec: number;
  tsNsec: number;
  data: Uint8Array;
  wireLength?: number;              // defaults to data.length
  comment?: string;                 // written as an opt_comment option
}

const MICROSECONDS: TimestampResolution = { base: 10, exponent: 6 };
const textEncoder = new TextEncoder();

// Encodes one block: type, total length, body padded to 32 bits, total length.
export function encodeBlock(blockType: number, body: Uint8Array, littleEndian = true): Uint8Array {
  const padded = (body.length + 3) & ~3;
  const total = 12 + padded;
  const block = new Uint8Array(total);
  const view = new DataView(block.buffer);
  view.setUint32(0, blockType, littleEndian);
  view.setUint32(4, total, littleEndian);
  block.set(body, 8);
  view.setUint32(total - 4, total, littleEndian);
  return block;
}

// Encodes options (code, length, value padded to 32 bits) ending with opt_endofopt.
export function encodeOptions(options: { code: number; value: Uint8Array }[], littleEndian = true): Uint8Array {
  if (options.length === 0) return new Uint8Array(0);
  const total = options.reduce((n, o) => n + 4 + ((o.value.length + 3) & ~3), 4);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const option of options) {
    if (option.value.length > 0xffff) {
      throw new RangeError(`invalid pcapng option ${option.code}: value of ${option.value.length} bytes exceeds the 65535-byte option limit`);
    }
    view.setUint16(at, option.code, littleEndian);
    view.setUint16(at + 2, option.value.length, littleEndian);
    out.set(option.value, at + 4);
    at += 4 + ((option.value.length + 3) & ~3);
  }
  return out; // the last four zero bytes are opt_endofopt
}

export class PcapngEncoder {
  private resolutions: TimestampResolution[] = [];

  constructor(readonly littleEndian = true) {}

  // Interfaces described in the current section.
  get interfaceCount(): number {
    return this.resolutions.length;
  }

  // Starts a section. Interfaces of an earlier section no longer apply.
  sectionHeader(): Uint8Array {
    this.resolutions = [];
    const body = new Uint8Array(16);
    const view = new DataView(body.buffer);
    view.setUint32(0, BYTE_ORDER_MAGIC, this.littleEndian);
    view.setUint16(4, 1, this.littleEndian);                 // major version
    view.setUint16(6, 0, this.littleEndian);                 // minor version
    view.setBigInt64(8, -1n, this.littleEndian);             // section length not given
    return encodeBlock(BLOCK_SECTION_HEADER, body, this.littleEndian);
  }

  // Describes the next interface, whose id is the number of interfaces before it.
  interfaceDescription(description: InterfaceDescription): Uint8Array {
    const tsresol = description.tsresol ?? MICROSECONDS;
    const limit = tsresol.base === 10 ? 19 : 63;
    if (!Number.isInteger(tsresol.exponent) || tsresol.exponent < 0 || tsresol.exponent > limit) {
      throw new RangeError(`invalid tsresol exponent ${tsresol.exponent} for base ${tsresol.base}: give a whole number from 0 to ${limit}`);
    }
    if (!Number.isInteger(description.linkType) || description.linkType < 0 || description.linkType > 0xffff) {
      throw new RangeError(`invalid link type ${description.linkType}: give a LINKTYPE_* value from 0 to 65535`);
    }
    this.resolutions.push(tsresol);
    const fixed = new Uint8Array(8);
    const view = new DataView(fixed.buffer);
    view.setUint16(0, description.linkType, this.littleEndian);
    view.setUint32(4, description.snapLength ?? 0, this.littleEndian);
    const resolutionByte = (tsresol.base === 2 ? 0x80 : 0) | tsresol.exponent;
    const options = encodeOptions([{ code: OPTION_IF_TSRESOL, value: Uint8Array.of(resolutionByte) }], this.littleEndian);
    return encodeBlock(BLOCK_INTERFACE_DESCRIPTION, concat(fixed, options), this.littleEndian);
  }

  enhancedPacket(packet: PacketToWrite): Uint8Array {
    const tsresol = this.resolutions[packet.interfaceId];
    if (tsresol === undefined) {
      throw new RangeError(`invalid interface id ${packet.interfaceId}: this section describes ${this.resolutions.length} interfaces; write its interface description first`);
    }
    if (!Number.isInteger(packet.tsNsec) || packet.tsNsec < 0 || packet.tsNsec >= 1_000_000_000) {
      throw new RangeError(`invalid tsNsec ${packet.tsNsec}: give nanoseconds from 0 to 999999999`);
    }
    if (!Number.isSafeInteger(packet.tsSec) || packet.tsSec < 0) {
      throw new RangeError(`invalid tsSec ${packet.tsSec}: give whole seconds since 1970, not negative`);
    }
    const unitsPerSecond = BigInt(tsresol.base) ** BigInt(tsresol.exponent);
    const units = BigInt(packet.tsSec) * unitsPerSecond + (BigInt(packet.tsNsec) * unitsPerSecond) / 1_000_000_000n;
    if (units >= 1n << 64n) {
      throw new RangeError(`invalid tsSec ${packet.tsSec} for interface ${packet.interfaceId}: the time does not fit in 64 bits of ${tsresol.base}^-${tsresol.exponent} s units`);
    }
    const fixed = new Uint8Array(20);
    const view = new DataView(fixed.buffer);
    view.setUint32(0, packet.interfaceId, this.littleEndian);
    view.setUint32(4, Number(units >> 32n), this.littleEndian);
    view.setUint32(8, Number(units & 0xffffffffn), this.littleEndian);
    view.setUint32(12, packet.data.length, this.littleEndian);
    view.setUint32(16, packet.wireLength ?? packet.data.length, this.littleEndian);
    const paddedData = new Uint8Array((packet.data.length + 3) & ~3);
    paddedData.set(packet.data);
    const options = packet.comment === undefined
      ? new Uint8Array(0)
      : encodeOptions([{ code: OPTION_COMMENT, value: textEncoder.encode(packet.comment) }], this.littleEndian);
    return encodeBlock(BLOCK_ENHANCED_PACKET, concat(fixed, paddedData, options), this.littleEndian);
  }
}

// Writes a pcapng file block by block, buffering up to `bufferBytes`.
export class PcapngFileWriter {
  readonly encoder: PcapngEncoder;
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;

  private constructor(private readonly handle: FileHandle, littleEndian: boolean, private readonly bufferBytes: number) {
    this.encoder = new PcapngEncoder(littleEndian);
  }

  // Creates (or truncates) `path` and writes the first section header.
  static async create(path: string, options: { littleEndian?: boolean; bufferBytes?: number } = {}): Promise<PcapngFileWriter> {
    const handle = await open(path, "w");
    const writer = new PcapngFileWriter(handle, options.littleEndian ?? true, options.bufferBytes ?? 1 << 20);
    await writer.append(writer.encoder.sectionHeader());
    return writer;
  }

  // Returns the interface id to give writePacket.
  async addInterface(description: InterfaceDescription): Promise<number> {
    await this.append(this.encoder.interfaceDescription(description));
    return this.encoder.interfaceCount - 1;
  }

  async writePacket(packet: PacketToWrite): Promise<void> {
    await this.append(this.encoder.enhancedPacket(packet));
  }

  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      await this.handle.close();
    }
  }

  private async append(block: Uint8Array): Promise<void> {
    this.pending.push(block);
    this.pendingBytes += block.length;
    if (this.pendingBytes >= this.bufferBytes) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.pendingBytes === 0) return;
    await this.handle.write(concat(...this.pending));
    this.pending = [];
    this.pendingBytes = 0;
  }
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
