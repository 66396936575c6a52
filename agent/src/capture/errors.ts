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

// Plain words for the system errors of opening or reading a capture file,
// each with what to do about it. Other codes keep Node's own message.
const SYSTEM_ERROR_WORDS: Record<string, { words: string; advice: string }> = {
  ENOENT: { words: "not found", advice: "check the path" },
  EACCES: { words: "permission denied", advice: "give the user running fieldsense read permission, or run it as a user that has it" },
  EPERM: { words: "permission denied", advice: "give the user running fieldsense read permission, or run it as a user that has it" },
  EISDIR: { words: "is a directory, not a capture file", advice: "give the pcap or pcapng files inside it" },
  ENAMETOOLONG: { words: "has a name too long for the file system", advice: "check the path" },
  ENOTDIR: { words: "not found, because a part of its path is not a directory", advice: "check the path" },
  ELOOP: { words: "has too many symbolic links in its path", advice: "check the links" },
  EMFILE: { words: "cannot be opened because too many files are open", advice: "raise the open-file limit (ulimit -n)" },
};

// Builds the open_failed error for a system error raised by open, stat or
// read, in words, with the errno code for searching.
export function systemCaptureError(path: string, error: unknown): CaptureError {
  const code = (error as NodeJS.ErrnoException).code;
  const known = code !== undefined ? SYSTEM_ERROR_WORDS[code] : undefined;
  const message = known
    ? `capture file ${path} ${known.words} (${code}); ${known.advice}`
    : `capture file ${path} cannot be read: ${(error as Error).message ?? String(error)}; check the path and its read permission`;
  return new CaptureError("open_failed", path, 0, message);
}

export function hex32(value: number): string {
  return "0x" + (value >>> 0).toString(16).padStart(8, "0");
}
