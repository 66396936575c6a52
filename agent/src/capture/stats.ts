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
  // "unknown" until the magic bytes identify the file.
  format: "pcap" | "pcapng" | "unknown";
}

export function newCaptureStats(): CaptureStats {
  return { packets: 0, bytes: 0, batches: 0, truncatedRecords: 0, skippedBlocks: {}, interfaces: [], format: "unknown" };
}
