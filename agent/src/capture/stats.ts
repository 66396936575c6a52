// Statistics a reader fills while it iterates over one capture file.

export interface CaptureStats {
  packets: number;
  // Captured bytes of all packets (the sum of caplen), without record headers.
  bytes: number;
  batches: number;
  // Records or blocks cut short by the end of the file. Reading stops at the first one.
  truncatedRecords: number;
  // File offset of the record or block that the end of the file cuts short.
  truncatedAt?: number;
  // pcapng blocks that carry no packet and were skipped, by block type name.
  skippedBlocks: Record<string, number>;
  // One entry per pcap file header or pcapng interface description block, in file order.
  interfaces: { linkType: number; tsresol: number /* units per second */ }[];
  // Records whose captured length exceeds their original (wire) length, which
  // no capture tool writes: counted as anomaly capture.caplen_above_wirelen.
  caplenAboveWirelen: number;
  // File offset of the first such record.
  caplenAboveWirelenAt?: number;
  // "unknown" until the magic bytes identify the file.
  format: "pcap" | "pcapng" | "unknown";
}

export function newCaptureStats(): CaptureStats {
  return { packets: 0, bytes: 0, batches: 0, truncatedRecords: 0, caplenAboveWirelen: 0, skippedBlocks: {}, interfaces: [], format: "unknown" };
}

// Name of the anomaly that counts CaptureStats.caplenAboveWirelen.
export const CAPLEN_ABOVE_WIRELEN = "capture.caplen_above_wirelen";

// Counts a record whose captured length exceeds its original length.
export function noteCaplenAboveWirelen(stats: CaptureStats, recordOffset: number): void {
  if (stats.caplenAboveWirelen === 0) stats.caplenAboveWirelenAt = recordOffset;
  stats.caplenAboveWirelen += 1;
}
