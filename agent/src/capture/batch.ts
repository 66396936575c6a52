// The unit of work handed to the WebAssembly core: many packets in one buffer,
// laid out as classic pcap records with little-endian headers, so that a
// little-endian pcap file can be copied in by chunks without rewriting.
//
//   record: u32 ts_sec | u32 ts_frac | u32 caplen | u32 wirelen | caplen bytes
//
// All records of a batch share one link type and one timestamp unit; a reader
// starts a new batch when either changes (pcapng interfaces may differ).

export interface PacketBatch {
  // LINKTYPE_* value from the tcpdump.org link-layer header registry.
  linkType: number;
  // Units of ts_frac per second: 1_000_000 (microseconds) or 1_000_000_000.
  fracPerSecond: number;
  // Concatenated records; only the first `byteLength` bytes are meaningful.
  bytes: Uint8Array;
  byteLength: number;
  // Number of records in `bytes`.
  count: number;
  // Origin of the first record, for messages: file name and byte offset.
  source: string;
  firstRecordOffset: number;
}

export const RECORD_HEADER_BYTES = 16;
