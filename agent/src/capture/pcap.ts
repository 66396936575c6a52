// Classic pcap reader. Format: "PCAP Capture File Format",
// draft-ietf-opsawg-pcap-02 (G. Harris, M. Richardson), the format libpcap writes.
//
// File header, 24 bytes, in the byte order of the host that wrote the file:
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +---------------------------------------------------------------+
//  0|                         Magic Number                          |
//   +-------------------------------+-------------------------------+
//  4|         Major Version         |         Minor Version         |
//   +-------------------------------+-------------------------------+
//  8|                           Reserved1                           |
//   +---------------------------------------------------------------+
// 12|                           Reserved2                           |
//   +---------------------------------------------------------------+
// 16|                            SnapLen                            |
//   +-------------------------------+-------------------------------+
// 20| FCS length and flags          |           LinkType            |
//   +-------------------------------+-------------------------------+
//
// Packet record: a 16-byte header (Timestamp seconds, Timestamp microseconds
// or nanoseconds, Captured Packet Length, Original Packet Length), then the
// captured bytes. This is the PacketBatch record layout, so little-endian
// records go into a batch unchanged and big-endian headers are rewritten.
import { RECORD_HEADER_BYTES, type PacketBatch } from "./batch.js";
import { BatchBuilder } from "./batch-builder.js";
import { identifyMagic, magicText, MAGIC_BYTES } from "./detect.js";
import { CaptureError } from "./errors.js";
import type { FileSource } from "./file-source.js";
import { noteCaplenAboveWirelen, type CaptureStats } from "./stats.js";

const FILE_HEADER_BYTES = 24;
const SUPPORTED_MAJOR_VERSION = 2;
// The largest record this reader accepts, even under a larger snap length.
export const MAX_RECORD_BYTES = 256 * 1024 * 1024;
// libpcap's MAXIMUM_SNAPLEN and tcpdump's default snap length are 262144 bytes,
// and some writers set a snap length below the packets they store. A captured
// length above both this and the snap length is taken as a corrupt file.
const DEFAULT_MAX_SNAP_LENGTH = 262_144;

export async function* readPcapRecords(source: FileSource, stats: CaptureStats, batchBytes: number, reuseBuffers = false): AsyncGenerator<PacketBatch> {
  if (!(await source.ensure(FILE_HEADER_BYTES))) {
    throw new CaptureError("truncated_header", source.path, 0,
      `invalid pcap header at byte 0 of ${source.name}: the file has ${source.size} bytes, fewer than the 24-byte file header; the capture was cut short`);
  }
  const head = source.bytes(FILE_HEADER_BYTES);
  const identity = identifyMagic(head.subarray(0, MAGIC_BYTES));
  if (identity.format !== "pcap") {
    const explanation = identity.format === "pcapng" ? "pcapng, not pcap; read it with readCapture or readPcapng" : `${identity.description}; ${identity.advice}`;
    throw new CaptureError(identity.format === "pcapng" ? "wrong_format" : "not_a_capture", source.path, 0,
      `invalid pcap header at byte 0 of ${source.name}: magic ${magicText(head)} is ${explanation}`);
  }

  const little = identity.littleEndian;
  const header = source.view(FILE_HEADER_BYTES);
  const majorVersion = header.getUint16(4, little);
  const minorVersion = header.getUint16(6, little);
  if (majorVersion !== SUPPORTED_MAJOR_VERSION) {
    throw new CaptureError("unsupported_version", source.path, 4,
      `unsupported pcap version ${majorVersion}.${minorVersion} at byte 4 of ${source.name}: this reader reads version 2.x; rewrite the file with \`editcap -F pcap\``);
  }
  const snapLength = header.getUint32(16, little);
  // The upper 16 bits carry the FCS length and flags, not the link type.
  const linkType = header.getUint32(20, little) & 0xffff;
  const fracPerSecond = identity.nanoseconds ? 1_000_000_000 : 1_000_000;
  stats.format = "pcap";
  stats.interfaces.push({ linkType, tsresol: fracPerSecond });
  source.skip(FILE_HEADER_BYTES);

  const maxCaptureLength = Math.min(MAX_RECORD_BYTES, Math.max(snapLength, DEFAULT_MAX_SNAP_LENGTH));
  const builder = new BatchBuilder(batchBytes, source.path, stats, reuseBuffers);
  for (;;) {
    // Records that lie whole in the buffered window are copied without an
    // await each. The code below handles the record that crosses the
    // window's end, a corrupt length and the end of the file.
    if (copyBufferedRecords(source, builder, little, linkType, fracPerSecond, maxCaptureLength, stats)) {
      yield builder.take();
      continue;
    }
    if (await source.atEnd()) break;
    const recordOffset = source.offset;
    if (!(await source.ensure(RECORD_HEADER_BYTES))) {
      stats.truncatedRecords += 1;
      stats.truncatedAt = recordOffset;
      break;
    }
    const record = source.view(RECORD_HEADER_BYTES);
    const tsSec = record.getUint32(0, little);
    const tsFrac = record.getUint32(4, little);
    const captureLength = record.getUint32(8, little);
    const wireLength = record.getUint32(12, little);
    if (captureLength > maxCaptureLength) {
      if (builder.pending) yield builder.take();
      throw new CaptureError("invalid_record_length", source.path, recordOffset,
        `invalid pcap record at byte ${recordOffset} of ${source.name}: captured length ${captureLength} exceeds ` +
        `the snap length ${snapLength} and the ${maxCaptureLength}-byte limit, so the file is corrupt from here on; ` +
        `the packets before this record were read, and \`editcap\` can cut the file before this offset`);
    }
    if (captureLength > wireLength) noteCaplenAboveWirelen(stats, recordOffset);
    if (!(await source.ensure(RECORD_HEADER_BYTES + captureLength))) {
      stats.truncatedRecords += 1;
      stats.truncatedAt = recordOffset;
      break;
    }
    if (builder.mustFlushBefore(linkType, fracPerSecond, captureLength)) yield builder.take();
    const dataOffset = builder.beginRecord(linkType, fracPerSecond, tsSec, tsFrac, captureLength, wireLength, recordOffset, source.remaining);
    builder.buffer.set(source.bytes(RECORD_HEADER_BYTES + captureLength).subarray(RECORD_HEADER_BYTES), dataOffset);
    source.skip(RECORD_HEADER_BYTES + captureLength);
  }
  if (builder.pending) yield builder.take();
}

// Adds the records that lie whole in the source's buffered window to the
// batch and consumes them. Stops at a record that the window's end cuts or
// whose captured length is above `maxCaptureLength`, which the caller reads
// or rejects. Returns true when the next record does not fit in the batch,
// so the caller must take the batch first.
function copyBufferedRecords(
  source: FileSource, builder: BatchBuilder, little: boolean, linkType: number, fracPerSecond: number,
  maxCaptureLength: number, stats: CaptureStats,
): boolean {
  const window = source.buffered();
  const view = new DataView(window.buffer, window.byteOffset, window.byteLength);
  const firstOffset = source.offset;
  const remaining = source.remaining;
  let at = 0;
  let full = false;
  // A little-endian file's records have the batch's layout, so the run of
  // records reserved here is copied with one call at the end: a copy per
  // packet cost more than the copying itself.
  let runTarget = -1;
  while (window.length - at >= RECORD_HEADER_BYTES) {
    const captureLength = view.getUint32(at + 8, little);
    if (captureLength > maxCaptureLength || window.length - at - RECORD_HEADER_BYTES < captureLength) break;
    if (builder.mustFlushBefore(linkType, fracPerSecond, captureLength)) {
      full = true;
      break;
    }
    const wireLength = view.getUint32(at + 12, little);
    if (captureLength > wireLength) noteCaplenAboveWirelen(stats, firstOffset + at);
    // `remaining` is Number.MAX_SAFE_INTEGER for a stream that has not ended.
    const remainingHere = remaining === Number.MAX_SAFE_INTEGER ? remaining : remaining - at;
    const dataStart = at + RECORD_HEADER_BYTES;
    if (little) {
      const target = builder.reserveRecord(linkType, fracPerSecond, captureLength, firstOffset + at, remainingHere);
      if (runTarget < 0) runTarget = target;
    } else {
      const dataOffset = builder.beginRecord(linkType, fracPerSecond, view.getUint32(at, little), view.getUint32(at + 4, little),
        captureLength, wireLength, firstOffset + at, remainingHere);
      builder.buffer.set(window.subarray(dataStart, dataStart + captureLength), dataOffset);
    }
    at = dataStart + captureLength;
  }
  if (runTarget >= 0) builder.buffer.set(window.subarray(0, at), runTarget);
  source.skip(at);
  return full;
}
