// Entry points: open a capture file, detect its format by magic and stream it
// as PacketBatches.
import type { PacketBatch } from "./batch.js";
import { DEFAULT_BATCH_BYTES } from "./batch-builder.js";
import { identifyMagic, magicText, MAGIC_BYTES } from "./detect.js";
import { CaptureError } from "./errors.js";
import { FileSource } from "./file-source.js";
import { readPcapRecords } from "./pcap.js";
import { readPcapngBlocks } from "./pcapng.js";
import { newCaptureStats, type CaptureStats } from "./stats.js";

export interface ReadCaptureOptions {
  // Upper bound of one batch in bytes, records with their 16-byte headers
  // included. A single larger packet still travels, alone in its own batch. Default
  // DEFAULT_BATCH_BYTES (256 KiB).
  batchBytes?: number;
  // When true, every batch is written into the same buffer, so a batch's
  // bytes are valid only until the generator is resumed: a consumer must
  // copy what it keeps. Saves a buffer allocation per batch. Default false.
  reuseBuffers?: boolean;
  // Statistics filled while iterating, complete once the generator has finished.
  stats?: CaptureStats;
}

// Bytes read to identify a file: the magic plus enough to recognise text.
const IDENTIFY_BYTES = 16;
const MIN_BATCH_BYTES = 64;

// Streams a pcap or pcapng file, detected by its magic, as PacketBatches.
// Throws CaptureError for files that are no captures or are corrupt. Batches
// yielded before the error stay valid.
export async function* readCapture(path: string, options: ReadCaptureOptions = {}): AsyncGenerator<PacketBatch> {
  yield* readDetected(path, options, undefined);
}

// Reads only classic pcap and rejects pcapng with code wrong_format.
export async function* readPcap(path: string, options: ReadCaptureOptions = {}): AsyncGenerator<PacketBatch> {
  yield* readDetected(path, options, "pcap");
}

// Reads only pcapng and rejects classic pcap with code wrong_format.
export async function* readPcapng(path: string, options: ReadCaptureOptions = {}): AsyncGenerator<PacketBatch> {
  yield* readDetected(path, options, "pcapng");
}

async function* readDetected(path: string, options: ReadCaptureOptions, expected: "pcap" | "pcapng" | undefined): AsyncGenerator<PacketBatch> {
  const batchBytes = options.batchBytes ?? DEFAULT_BATCH_BYTES;
  if (!Number.isSafeInteger(batchBytes) || batchBytes < MIN_BATCH_BYTES) {
    throw new RangeError(`invalid batchBytes ${String(options.batchBytes)} for reading ${path}: give a whole number of bytes, at least ${MIN_BATCH_BYTES}`);
  }
  const stats = options.stats ?? newCaptureStats();
  const source = await FileSource.open(path);
  try {
    const head = await source.head(IDENTIFY_BYTES);
    const identity = identifyMagic(head);
    if (identity.format === "other" && head.length < MAGIC_BYTES && source.stream) {
      throw new CaptureError("not_a_capture", path, 0,
        `invalid capture ${source.name}: the stream ended after ${head.length} bytes, before a capture file header; check that the writer (tcpdump -w -, dumpcap -w -) ran and wrote to it`);
    }
    if (identity.format === "other" && head.length < MAGIC_BYTES) {
      throw new CaptureError("not_a_capture", path, 0, `invalid capture file ${source.name}: ${source.name} is ${identity.description}; ${identity.advice}`);
    }
    if (identity.format === "other") {
      throw new CaptureError("not_a_capture", path, 0,
        `invalid capture file header at byte 0 of ${source.name}: magic ${magicText(head)} is ${identity.description}, not pcap or pcapng; ${identity.advice}`);
    }
    stats.format = identity.format;
    if (expected !== undefined && identity.format !== expected) {
      throw new CaptureError("wrong_format", path, 0,
        `invalid ${expected} header at byte 0 of ${source.name}: magic ${magicText(head)} is ${identity.format}, not ${expected}; read it with readCapture, which detects the format`);
    }
    if (identity.format === "pcap") {
      yield* readPcapRecords(source, stats, batchBytes, options.reuseBuffers ?? false);
    } else {
      yield* readPcapngBlocks(source, stats, batchBytes, options.reuseBuffers ?? false);
    }
  } finally {
    await source.close();
  }
}
