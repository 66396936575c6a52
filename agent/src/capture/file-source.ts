// A forward-only window over a capture read in chunks, so that a reader never
// holds more than one chunk plus the record or block it is looking at.
//
// A regular file is read by offset and its size is known up front. A pipe, a
// FIFO, a character device or standard input ("-") is read as a stream: its
// length is known only once it ends, and skipped bytes are read and dropped.
import { read as readFd } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { basename } from "node:path";
import { isatty } from "node:tty";
import { promisify } from "node:util";
import { CaptureError, systemCaptureError } from "./errors.js";

export const DEFAULT_READ_CHUNK_BYTES = 1 << 20;

// The path that stands for standard input, as in tcpdump's `-r -`.
export const STDIN_PATH = "-";
// Names of standard input that Linux cannot open when it is a socket, as it is
// under a Node child_process pipe: open() fails with ENXIO.
const STDIN_ALIASES = new Set(["/dev/stdin", "/dev/fd/0", "/proc/self/fd/0"]);
const STDIN_FD = 0;
// Reads from standard input left non-blocking by another program fail with
// EAGAIN while the writer is slow, so the stream waits and reads again.
const EAGAIN_RETRY_MS = 5;

const readFromFd = promisify(readFd);

// Reads up to `length` bytes into buffer[offset...]; 0 means the input ended.
type ReadAt = (buffer: Uint8Array, offset: number, length: number, position: number | null) => Promise<number>;

export class FileSource {
  // Bytes [start, end) of `buffer` contain the input from offset `fileOffset` on.
  private buffer: Uint8Array;
  private start = 0;
  private end = 0;
  private fileOffset = 0;
  // Stream mode only: bytes consumed by skip() that are not read yet.
  private pendingSkip = 0;
  // Stream mode only: bytes read from the stream so far, and whether it ended.
  private streamBytes = 0;
  private streamEnded = false;
  private readonly readAt: ReadAt;
  private readonly closeInput: () => Promise<void>;
  private readonly fileSize: number | undefined;
  readonly path: string;
  readonly name: string;
  // True when the input is read as a stream, not by offset.
  readonly stream: boolean;

  private constructor(path: string, name: string, fileSize: number | undefined, readAt: ReadAt, closeInput: () => Promise<void>, chunkBytes: number) {
    this.path = path;
    this.name = name;
    this.fileSize = fileSize;
    this.stream = fileSize === undefined;
    this.readAt = readAt;
    this.closeInput = closeInput;
    this.buffer = new Uint8Array(chunkBytes);
  }

  static async open(path: string, chunkBytes = DEFAULT_READ_CHUNK_BYTES): Promise<FileSource> {
    if (path === STDIN_PATH) return FileSource.openStdin(chunkBytes);
    let handle: FileHandle;
    try {
      handle = await open(path, "r");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENXIO" && STDIN_ALIASES.has(path)) return FileSource.openStdin(chunkBytes, path);
      throw systemCaptureError(path, error);
    }
    let stats;
    try {
      stats = await handle.stat();
    } catch (error) {
      await handle.close();
      throw systemCaptureError(path, error);
    }
    // Opening a directory read-only succeeds on Linux; only the first read fails.
    if (stats.isDirectory()) {
      await handle.close();
      throw systemCaptureError(path, Object.assign(new Error("is a directory"), { code: "EISDIR" }));
    }
    const readAt: ReadAt = async (buffer, offset, length, position) => (await handle.read(buffer, offset, length, position)).bytesRead;
    const size = stats.isFile() ? stats.size : undefined;
    // Messages name a regular file by its base name and anything else by the
    // path as given, because /dev/stdin or a FIFO's base name says little.
    return new FileSource(path, size === undefined ? path : basename(path), size, readAt, () => handle.close(), chunkBytes);
  }

  private static openStdin(chunkBytes: number, path = STDIN_PATH): FileSource {
    // isatty, not process.stdin, which would open a stream on the descriptor.
    if (isatty(STDIN_FD)) {
      throw new CaptureError("open_failed", STDIN_PATH, 0,
        "capture file - means standard input, but standard input is a terminal; pipe a capture into it (`tcpdump -w - | fieldsense replay -`) or give a file path");
    }
    const readAt: ReadAt = async (buffer, offset, length) => {
      for (;;) {
        try {
          return (await readFromFd(STDIN_FD, buffer, offset, length, null)).bytesRead;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "EAGAIN") throw error;
          await new Promise((resolve) => setTimeout(resolve, EAGAIN_RETRY_MS));
        }
      }
    };
    // Standard input belongs to the process, so closing the source leaves it open.
    return new FileSource(path, path === STDIN_PATH ? "standard input" : path, undefined, readAt, async () => {}, chunkBytes);
  }

  // Offset of the first byte not yet consumed.
  get offset(): number {
    return this.fileOffset;
  }

  // Size of a regular file. For a stream, the bytes read so far, which is its
  // whole length once ensure() or atEnd() has found its end.
  get size(): number {
    return this.fileSize ?? this.streamBytes;
  }

  // Bytes between the current offset and the end of a regular file. For a
  // stream that has not ended, Number.MAX_SAFE_INTEGER, because its length is
  // unknown.
  get remaining(): number {
    if (this.fileSize !== undefined) return this.fileSize - this.fileOffset;
    return this.streamEnded ? this.end - this.start : Number.MAX_SAFE_INTEGER;
  }

  get available(): number {
    return this.end - this.start;
  }

  // True when no byte follows the current offset. A stream is read to find out.
  async atEnd(): Promise<boolean> {
    if (this.fileSize !== undefined) return this.remaining <= 0;
    return !(await this.ensure(1));
  }

  // Makes up to `length` bytes from the current offset readable and returns
  // them; fewer only when the input ends first.
  async head(length: number): Promise<Uint8Array> {
    if (!(await this.ensure(length))) {
      if (this.fileSize !== undefined) await this.ensure(Math.max(0, this.remaining));
      return this.bytes(this.available);
    }
    return this.bytes(length);
  }

  // Makes `length` bytes from the current offset readable through view() and
  // bytes(). Returns false when the input ends first. A stream then keeps
  // what it read readable, so head() and the messages can show it.
  async ensure(length: number): Promise<boolean> {
    if (this.pendingSkip === 0 && this.end - this.start >= length) return true;
    if (this.fileSize !== undefined && this.remaining < length) return false;
    if (this.stream && !(await this.dropSkipped())) return false;
    if (this.end - this.start >= length) return true;
    if (this.streamEnded) return false;
    this.makeRoom(length);
    while (this.end < length) {
      const readAt = this.fileOffset + this.end;
      let bytesRead: number;
      try {
        bytesRead = await this.readAt(this.buffer, this.end, this.buffer.length - this.end, this.stream ? null : readAt);
      } catch (error) {
        throw systemCaptureError(this.path, error);
      }
      if (bytesRead === 0) {
        if (this.stream) {
          this.streamEnded = true;
          return false;
        }
        throw new CaptureError("read_failed", this.path, readAt, `capture file ${this.name} ended at byte ${readAt} although its size was ${this.size}; was it modified while being read?`);
      }
      this.end += bytesRead;
      this.streamBytes += bytesRead;
    }
    return true;
  }

  // Moves the unread bytes to the front of a buffer that can hold `length`.
  private makeRoom(length: number): void {
    if (this.buffer.length < length) {
      const grown = new Uint8Array(length);
      grown.set(this.buffer.subarray(this.start, this.end));
      this.buffer = grown;
    } else {
      this.buffer.copyWithin(0, this.start, this.end);
    }
    this.end -= this.start;
    this.start = 0;
  }

  // Reads and drops the bytes a stream skipped past its buffered window.
  // Returns false when the stream ends first.
  private async dropSkipped(): Promise<boolean> {
    while (this.pendingSkip > 0) {
      this.start = 0;
      this.end = 0;
      if (this.streamEnded) return false;
      let bytesRead: number;
      try {
        bytesRead = await this.readAt(this.buffer, 0, this.buffer.length, null);
      } catch (error) {
        throw systemCaptureError(this.path, error);
      }
      if (bytesRead === 0) {
        this.streamEnded = true;
        return false;
      }
      this.streamBytes += bytesRead;
      const dropped = Math.min(bytesRead, this.pendingSkip);
      this.pendingSkip -= dropped;
      this.start = dropped;
      this.end = bytesRead;
    }
    return true;
  }

  // The next `length` bytes, valid until the next ensure() or skip().
  bytes(length: number): Uint8Array {
    return this.buffer.subarray(this.start, this.start + length);
  }

  // Every buffered byte from the current offset on, valid until the next
  // ensure() or skip().
  buffered(): Uint8Array {
    return this.buffer.subarray(this.start, this.end);
  }

  view(length: number): DataView {
    return new DataView(this.buffer.buffer, this.buffer.byteOffset + this.start, length);
  }

  // Consumes `length` bytes. A regular file never reads those beyond the
  // buffered window; a stream reads and drops them at the next ensure().
  skip(length: number): void {
    const buffered = this.end - this.start;
    if (length <= buffered) {
      this.start += length;
    } else {
      this.start = 0;
      this.end = 0;
      if (this.stream) this.pendingSkip += length - buffered;
    }
    this.fileOffset += length;
  }

  async close(): Promise<void> {
    await this.closeInput();
  }
}
