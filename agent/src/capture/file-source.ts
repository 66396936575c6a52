// A forward-only window over a file read in chunks, so that a reader never
// holds more than one chunk plus the record or block it is looking at.
import { open, type FileHandle } from "node:fs/promises";
import { basename } from "node:path";
import { CaptureError, systemCaptureError } from "./errors.js";

export const DEFAULT_READ_CHUNK_BYTES = 1 << 20;

export class FileSource {
  // Bytes [start, end) of `buffer` hold the file from offset `offset` on.
  private buffer: Uint8Array;
  private start = 0;
  private end = 0;
  private fileOffset = 0;
  private readonly handle: FileHandle;
  readonly path: string;
  readonly name: string;
  readonly size: number;

  private constructor(handle: FileHandle, path: string, size: number, chunkBytes: number) {
    this.handle = handle;
    this.path = path;
    this.name = basename(path);
    this.size = size;
    this.buffer = new Uint8Array(chunkBytes);
  }

  static async open(path: string, chunkBytes = DEFAULT_READ_CHUNK_BYTES): Promise<FileSource> {
    let handle: FileHandle;
    try {
      handle = await open(path, "r");
    } catch (error) {
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
    return new FileSource(handle, path, stats.size, chunkBytes);
  }

  // File offset of the first byte not yet consumed.
  get offset(): number {
    return this.fileOffset;
  }

  // Bytes between the current offset and the end of the file.
  get remaining(): number {
    return this.size - this.fileOffset;
  }

  get available(): number {
    return this.end - this.start;
  }

  // Makes `length` bytes from the current offset readable through view() and
  // bytes(). Returns false when the file ends first.
  async ensure(length: number): Promise<boolean> {
    if (this.end - this.start >= length) return true;
    if (this.remaining < length) return false;
    if (this.buffer.length < length) {
      const grown = new Uint8Array(length);
      grown.set(this.buffer.subarray(this.start, this.end));
      this.buffer = grown;
    } else {
      this.buffer.copyWithin(0, this.start, this.end);
    }
    this.end -= this.start;
    this.start = 0;
    while (this.end < length) {
      const readAt = this.fileOffset + this.end;
      let bytesRead: number;
      try {
        ({ bytesRead } = await this.handle.read(this.buffer, this.end, this.buffer.length - this.end, readAt));
      } catch (error) {
        throw systemCaptureError(this.path, error);
      }
      if (bytesRead === 0) {
        throw new CaptureError("read_failed", this.path, readAt, `capture file ${this.name} ended at byte ${readAt} although its size was ${this.size}; was it modified while being read?`);
      }
      this.end += bytesRead;
    }
    return true;
  }

  // The next `length` bytes, valid until the next ensure() or skip().
  bytes(length: number): Uint8Array {
    return this.buffer.subarray(this.start, this.start + length);
  }

  view(length: number): DataView {
    return new DataView(this.buffer.buffer, this.buffer.byteOffset + this.start, length);
  }

  // Consumes `length` bytes. Those beyond the buffered window are never read.
  skip(length: number): void {
    const buffered = this.end - this.start;
    if (length <= buffered) {
      this.start += length;
    } else {
      this.start = 0;
      this.end = 0;
    }
    this.fileOffset += length;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}
