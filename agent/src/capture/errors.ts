// Errors raised by the capture file readers. Each carries a stable `code` that
// callers can switch on, the file and the byte offset where reading stopped.

export type CaptureErrorCode =
  | "open_failed"            // the file could not be opened
  | "read_failed"            // the file became shorter while it was read
  | "not_a_capture"          // the first bytes are no pcap or pcapng magic
  | "wrong_format"           // pcapng given to the pcap reader, or the reverse
  | "unsupported_format"     // a known but unsupported variant (modified pcap)
  | "unsupported_version"    // a major version this reader does not know
  | "truncated_header"       // the file ends inside its file header
  | "invalid_record_length"  // a pcap record length that cannot be right
  | "invalid_block_length"   // a pcapng block length that cannot be right
  | "invalid_byte_order"     // a pcapng section header without a valid byte-order magic
  | "unknown_interface";     // a pcapng packet refers to an interface never described

export class CaptureError extends Error {
  readonly code: CaptureErrorCode;
  readonly file: string;
  readonly offset: number;

  constructor(code: CaptureErrorCode, file: string, offset: number, message: string) {
    super(message);
    this.name = "CaptureError";
    this.code = code;
    this.file = file;
    this.offset = offset;
  }
}

export function hex32(value: number): string {
  return "0x" + (value >>> 0).toString(16).padStart(8, "0");
}
