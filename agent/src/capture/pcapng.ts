// pcapng reader. Format: "PCAP Next Generation (pcapng) Capture File Format",
// draft-ietf-opsawg-pcapng, editor's copy of 24 November 2024 (M. Tuexen et al.).
// Sections are cited by title below.
//
// Every block has the same frame, in the byte order of its section:
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +---------------------------------------------------------------+
//  0|                          Block Type                           |
//   +---------------------------------------------------------------+
//  4|                      Block Total Length                       |
//   +---------------------------------------------------------------+
//  8/                          Block Body                           /
//   /           (variable length, padded to 32 bits)                /
//   +---------------------------------------------------------------+
//   |                      Block Total Length                       |
//   +---------------------------------------------------------------+
//
// Bodies read here (offsets from the block start):
//   Section Header Block:        8 Byte-Order Magic, 12 Major, 14 Minor, 16 Section Length (i64), 24 options
//   Interface Description Block: 8 LinkType (u16), 10 Reserved, 12 SnapLen, 16 options
//   Enhanced Packet Block:       8 Interface ID, 12 Timestamp (Upper), 16 Timestamp (Lower),
//                                20 Captured Packet Length, 24 Original Packet Length, 28 Packet Data, options
//   Simple Packet Block:         8 Original Packet Length, 12 Packet Data
//   Packet Block (obsolete):     8 Interface ID (u16), 10 Drops Count (u16), 12 Timestamp (Upper),
//                                16 Timestamp (Lower), 20 Captured Length, 24 Packet Length, 28 Packet Data, options
import type { PacketBatch } from "./batch.js";
import { BatchBuilder } from "./batch-builder.js";
import { CaptureError, hex32 } from "./errors.js";
import type { FileSource } from "./file-source.js";
import { MAX_RECORD_BYTES } from "./pcap.js";
import { noteCaplenAboveWirelen, type CaptureStats } from "./stats.js";

export const BLOCK_SECTION_HEADER = 0x0a0d0d0a;
export const BLOCK_INTERFACE_DESCRIPTION = 0x00000001;
export const BLOCK_PACKET_OBSOLETE = 0x00000002;
export const BLOCK_SIMPLE_PACKET = 0x00000003;
export const BLOCK_ENHANCED_PACKET = 0x00000006;
export const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
export const OPTION_END_OF_OPTIONS = 0;
export const OPTION_COMMENT = 1;
export const OPTION_IF_TSRESOL = 9;
export const OPTION_IF_TSOFFSET = 14;

const SUPPORTED_MAJOR_VERSION = 1;
const BLOCK_FRAME_BYTES = 12; // type, leading length, trailing length
// Smallest valid total length per block type (the frame plus the fixed body).
const MIN_BLOCK_BYTES: ReadonlyMap<number, number> = new Map([
  [BLOCK_SECTION_HEADER, 28],
  [BLOCK_INTERFACE_DESCRIPTION, 20],
  [BLOCK_PACKET_OBSOLETE, 32],
  [BLOCK_SIMPLE_PACKET, 16],
  [BLOCK_ENHANCED_PACKET, 32],
]);
// A block larger than this is taken as a corrupt length, as in the pcap reader.
const MAX_BLOCK_BYTES = MAX_RECORD_BYTES + 4096;
const PACKET_DATA_OFFSET = 28; // in enhanced and obsolete packet blocks
const SIMPLE_PACKET_DATA_OFFSET = 12;
const NANOSECONDS_PER_SECOND = 1_000_000_000;

// Names of the block types this reader skips, for CaptureStats.skippedBlocks.
const SKIPPED_BLOCK_NAMES: ReadonlyMap<number, string> = new Map([
  [0x00000004, "name_resolution"],
  [0x00000005, "interface_statistics"],
  [0x00000009, "systemd_journal_export"],
  [0x0000000a, "decryption_secrets"],
  [0x00000bad, "custom"],
  [0x40000bad, "custom_do_not_copy"],
]);

interface PcapngInterface {
  linkType: number;
  snapLength: number;         // 0 means no limit
  unitsPerSecond: bigint;     // from if_tsresol; 10^6 when absent
  offsetSeconds: bigint;      // from if_tsoffset; 0 when absent
}

interface Section {
  littleEndian: boolean;
  interfaces: PcapngInterface[];
}

// The time of a packet as the core's records carry it: ts_sec and nanoseconds.
interface PacketTime { tsSec: number; tsNsec: number }

export async function* readPcapngBlocks(source: FileSource, stats: CaptureStats, batchBytes: number, reuseBuffers = false): AsyncGenerator<PacketBatch> {
  stats.format = "pcapng";
  // A file must open with a whole section header block; one cut inside it is
  // an error like a pcap file cut inside its 24-byte file header.
  const minSectionHeaderBytes = MIN_BLOCK_BYTES.get(BLOCK_SECTION_HEADER)!;
  if (!(await source.ensure(minSectionHeaderBytes))) {
    throw new CaptureError("truncated_header", source.path, 0,
      `invalid pcapng section header at byte 0 of ${source.name}: the file has ${source.size} bytes, fewer than the ` +
      `${minSectionHeaderBytes}-byte section header block; the capture was cut short`);
  }
  const builder = new BatchBuilder(batchBytes, source.path, stats, reuseBuffers);
  let section: Section | undefined;
  // A simple packet block has no timestamp and takes the previous packet's.
  let lastTime: PacketTime = { tsSec: 0, tsNsec: 0 };

  while (!(await source.atEnd())) {
    const blockOffset = source.offset;
    if (!(await source.ensure(BLOCK_FRAME_BYTES))) {
      stats.truncatedRecords += 1;
      stats.truncatedAt = blockOffset;
      break;
    }
    const frame = source.view(BLOCK_FRAME_BYTES);
    // The section header block type is a palindrome that reads the same in
    // both byte orders. Its byte-order magic then sets how the section is read.
    const isSectionHeader = frame.getUint32(0, true) === BLOCK_SECTION_HEADER;
    if (isSectionHeader) {
      const magic = frame.getUint32(8, true);
      if (magic !== BYTE_ORDER_MAGIC && magic !== 0x4d3c2b1a) {
        if (builder.pending) yield builder.take();
        throw new CaptureError("invalid_byte_order", source.path, blockOffset + 8,
          `invalid pcapng section header at byte ${blockOffset} of ${source.name}: byte-order magic ${hex32(magic)} ` +
          `is neither 0x1a2b3c4d nor its byte swap, so the file is corrupt from here on`);
      }
      section = { littleEndian: magic === BYTE_ORDER_MAGIC, interfaces: [] };
    } else if (section === undefined) {
      throw new CaptureError("not_a_capture", source.path, blockOffset,
        `invalid pcapng file ${source.name}: block type ${hex32(frame.getUint32(0, true))} at byte ${blockOffset} comes before any section header block`);
    }
    const little = section.littleEndian;
    const blockType = frame.getUint32(0, little);
    const blockLength = frame.getUint32(4, little);

    const lengthProblem = checkBlockLength(blockType, blockLength);
    if (lengthProblem !== undefined) {
      if (builder.pending) yield builder.take();
      throw new CaptureError("invalid_block_length", source.path, blockOffset + 4,
        `invalid pcapng block at byte ${blockOffset} of ${source.name}: block type ${hex32(blockType)} has total length ${blockLength}, ` +
        `${lengthProblem}; the file is corrupt from here on and the packets before this block were read`);
    }
    if (source.stream ? !(await source.ensure(blockLength)) : source.remaining < blockLength) {
      stats.truncatedRecords += 1;
      stats.truncatedAt = blockOffset;
      break;
    }

    if (!isPacketOrHeaderBlock(blockType)) {
      const name = SKIPPED_BLOCK_NAMES.get(blockType) ?? hex32(blockType);
      stats.skippedBlocks[name] = (stats.skippedBlocks[name] ?? 0) + 1;
      source.skip(blockLength);
      continue;
    }

    await source.ensure(blockLength);
    const block = source.view(blockLength);
    const trailingLength = block.getUint32(blockLength - 4, little);
    if (trailingLength !== blockLength) {
      if (builder.pending) yield builder.take();
      throw new CaptureError("invalid_block_length", source.path, blockOffset + blockLength - 4,
        `invalid pcapng block at byte ${blockOffset} of ${source.name}: block type ${hex32(blockType)} starts with total length ${blockLength} ` +
        `but ends with ${trailingLength}; the file is corrupt from here on`);
    }

    try {
      if (blockType === BLOCK_SECTION_HEADER) {
        readSectionHeader(block, little, source, blockOffset);
      } else if (blockType === BLOCK_INTERFACE_DESCRIPTION) {
        const described = readInterfaceDescription(block, little, source, blockOffset);
        section.interfaces.push(described);
        stats.interfaces.push({ linkType: described.linkType, tsresol: Number(described.unitsPerSecond) });
      } else {
        const packet = readPacket(blockType, block, section, lastTime, source, blockOffset);
        lastTime = packet.time;
        if (packet.captureLength > packet.wireLength) noteCaplenAboveWirelen(stats, blockOffset);
        if (builder.mustFlushBefore(packet.linkType, NANOSECONDS_PER_SECOND, packet.captureLength)) yield builder.take();
        const dataOffset = builder.beginRecord(packet.linkType, NANOSECONDS_PER_SECOND, packet.time.tsSec, packet.time.tsNsec,
          packet.captureLength, packet.wireLength, blockOffset, source.remaining);
        builder.buffer.set(source.bytes(blockLength).subarray(packet.dataOffset, packet.dataOffset + packet.captureLength), dataOffset);
      }
    } catch (error) {
      if (error instanceof CaptureError && builder.pending) yield builder.take();
      throw error;
    }
    source.skip(blockLength);
  }
  if (builder.pending) yield builder.take();
}

function isPacketOrHeaderBlock(blockType: number): boolean {
  return blockType === BLOCK_SECTION_HEADER || blockType === BLOCK_INTERFACE_DESCRIPTION ||
    blockType === BLOCK_ENHANCED_PACKET || blockType === BLOCK_SIMPLE_PACKET || blockType === BLOCK_PACKET_OBSOLETE;
}

// Returns why a block total length is impossible, or undefined when it is valid
// (section "General Block Structure": a multiple of 4, at least the frame).
function checkBlockLength(blockType: number, blockLength: number): string | undefined {
  const minimum = MIN_BLOCK_BYTES.get(blockType) ?? BLOCK_FRAME_BYTES;
  if (blockLength % 4 !== 0) return "which is not a multiple of 4";
  if (blockLength < minimum) return `smaller than the ${minimum}-byte minimum for this block type`;
  if (blockLength > MAX_BLOCK_BYTES) return `larger than the ${MAX_BLOCK_BYTES}-byte limit of this reader`;
  return undefined;
}

function readSectionHeader(block: DataView, little: boolean, source: FileSource, blockOffset: number): void {
  const majorVersion = block.getUint16(12, little);
  const minorVersion = block.getUint16(14, little);
  // Section "Section Header Block": a reader must not read a section whose
  // major version it does not know, because the block layouts may differ.
  if (majorVersion !== SUPPORTED_MAJOR_VERSION) {
    throw new CaptureError("unsupported_version", source.path, blockOffset + 12,
      `unsupported pcapng version ${majorVersion}.${minorVersion} in the section header at byte ${blockOffset} of ${source.name}: ` +
      `this reader reads version 1.x; rewrite the file with \`editcap -F pcapng\``);
  }
}

function readInterfaceDescription(block: DataView, little: boolean, source: FileSource, blockOffset: number): PcapngInterface {
  const described: PcapngInterface = {
    linkType: block.getUint16(8, little),
    snapLength: block.getUint32(12, little),
    unitsPerSecond: 1_000_000n,
    offsetSeconds: 0n,
  };
  for (const option of readOptions(block, 16, little, source, blockOffset)) {
    if (option.code === OPTION_IF_TSRESOL && option.length >= 1) {
      const resolution = block.getUint8(option.valueOffset);
      // The top bit selects the base: clear means 10^-n seconds, set means 2^-n.
      const exponent = BigInt(resolution & 0x7f);
      described.unitsPerSecond = (resolution & 0x80) === 0 ? 10n ** exponent : 2n ** exponent;
    } else if (option.code === OPTION_IF_TSOFFSET && option.length >= 8) {
      described.offsetSeconds = block.getBigInt64(option.valueOffset, little);
    }
  }
  return described;
}

interface PcapngOption { code: number; length: number; valueOffset: number }

// Lists the options between `start` and the trailing block length. Each value
// is padded to 32 bits (section "Options").
function readOptions(block: DataView, start: number, little: boolean, source: FileSource, blockOffset: number): PcapngOption[] {
  const options: PcapngOption[] = [];
  const end = block.byteLength - 4;
  let at = start;
  while (at + 4 <= end) {
    const code = block.getUint16(at, little);
    const length = block.getUint16(at + 2, little);
    if (code === OPTION_END_OF_OPTIONS) break;
    if (at + 4 + length > end) {
      throw new CaptureError("invalid_block_length", source.path, blockOffset + at,
        `invalid pcapng option at byte ${blockOffset + at} of ${source.name}: option ${code} has length ${length}, ` +
        `which runs past the end of its block; the file is corrupt`);
    }
    options.push({ code, length, valueOffset: at + 4 });
    at += 4 + ((length + 3) & ~3);
  }
  return options;
}

interface PcapngPacket {
  linkType: number;
  time: PacketTime;
  captureLength: number;
  wireLength: number;
  dataOffset: number;
}

function readPacket(blockType: number, block: DataView, section: Section, lastTime: PacketTime, source: FileSource, blockOffset: number): PcapngPacket {
  const little = section.littleEndian;
  const bodyEnd = block.byteLength - 4;

  if (blockType === BLOCK_SIMPLE_PACKET) {
    const described = findInterface(section, 0, source, blockOffset);
    const wireLength = block.getUint32(8, little);
    // Section "Simple Packet Block": the captured length is the original length
    // cut to the interface snap length, and the block length bounds it too.
    let captureLength = Math.min(wireLength, bodyEnd - SIMPLE_PACKET_DATA_OFFSET);
    if (described.snapLength !== 0) captureLength = Math.min(captureLength, described.snapLength);
    return { linkType: described.linkType, time: lastTime, captureLength, wireLength, dataOffset: SIMPLE_PACKET_DATA_OFFSET };
  }

  const interfaceId = blockType === BLOCK_ENHANCED_PACKET ? block.getUint32(8, little) : block.getUint16(8, little);
  const described = findInterface(section, interfaceId, source, blockOffset);
  const captureLength = block.getUint32(20, little);
  const wireLength = block.getUint32(24, little);
  if (PACKET_DATA_OFFSET + captureLength > bodyEnd) {
    throw new CaptureError("invalid_block_length", source.path, blockOffset + 20,
      `invalid pcapng packet at byte ${blockOffset} of ${source.name}: captured length ${captureLength} does not fit ` +
      `in a block of total length ${block.byteLength}; the file is corrupt`);
  }
  const time = convertTimestamp(block.getUint32(12, little), block.getUint32(16, little), described);
  return { linkType: described.linkType, time, captureLength, wireLength, dataOffset: PACKET_DATA_OFFSET };
}

function findInterface(section: Section, interfaceId: number, source: FileSource, blockOffset: number): PcapngInterface {
  const described = section.interfaces[interfaceId];
  if (described === undefined) {
    throw new CaptureError("unknown_interface", source.path, blockOffset,
      `invalid pcapng packet at byte ${blockOffset} of ${source.name}: interface ${interfaceId} has no interface description block ` +
      `in its section (${section.interfaces.length} described); the file is corrupt or was cut from a larger one`);
  }
  return described;
}

// Turns a 64-bit count of if_tsresol units into seconds and nanoseconds.
// NOTE: seconds are stored modulo 2^32 as in pcap records, so times before
// 1970 (a negative if_tsoffset) or after 2106 wrap around.
function convertTimestamp(upper: number, lower: number, described: PcapngInterface): PacketTime {
  const units = (BigInt(upper) << 32n) | BigInt(lower);
  const seconds = units / described.unitsPerSecond + described.offsetSeconds;
  const fraction = units % described.unitsPerSecond;
  const nanoseconds = (fraction * 1_000_000_000n) / described.unitsPerSecond;
  return { tsSec: Number(BigInt.asUintN(32, seconds)), tsNsec: Number(nanoseconds) };
}
