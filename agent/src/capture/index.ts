// Capture file readers: pcap and pcapng files to PacketBatches for the core.
export type { PacketBatch } from "./batch.js";
export { RECORD_HEADER_BYTES } from "./batch.js";
export { DEFAULT_BATCH_BYTES } from "./batch-builder.js";
export { CaptureError, type CaptureErrorCode } from "./errors.js";
export { describeLinkType, SUPPORTED_LINK_TYPES } from "./link-types.js";
export { readCapture, readPcap, readPcapng, type ReadCaptureOptions } from "./read.js";
export { newCaptureStats, type CaptureStats } from "./stats.js";
