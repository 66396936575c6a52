// Packs packet records into PacketBatches of a bounded byte size.
import { RECORD_HEADER_BYTES, type PacketBatch } from "./batch.js";
import type { CaptureStats } from "./stats.js";

// 256 KiB: a batch's records stay alive until the batch is drained, and
// with 1 MiB batches more of them outlived V8's young generation and were
// promoted. A replay of many-flows-100000 or plant-mix-300000 peaked about
// 2 MiB lower than with 1 MiB batches, for the same CPU time, and 64 KiB
// saved no more (docs/gateway.md).
export const DEFAULT_BATCH_BYTES = 1 << 18;

export class BatchBuilder {
  private bytes: Uint8Array = new Uint8Array(0);
  private view: DataView = new DataView(this.bytes.buffer);
  private used = 0;
  private count = 0;
  private linkType = -1;
  private fracPerSecond = 0;
  private firstRecordOffset = 0;
  // The buffer of the batch take() handed out last, written again by the
  // next batch when `reuseBuffer` is set.
  private spare: Uint8Array | undefined;

  // A batch never exceeds `batchBytes` unless one record alone is larger:
  // such a record travels alone in a batch of its own size. With
  // `reuseBuffer`, every batch that fits in `batchBytes` is written into the
  // same buffer, so a batch is valid only until the next beginRecord().
  constructor(
    private readonly batchBytes: number,
    private readonly source: string,
    private readonly stats: CaptureStats,
    private readonly reuseBuffer = false,
  ) {}

  // True when a record of `captureLength` bytes cannot join the pending batch,
  // so the caller must take() it first.
  mustFlushBefore(linkType: number, fracPerSecond: number, captureLength: number): boolean {
    if (this.count === 0) return false;
    if (linkType !== this.linkType || fracPerSecond !== this.fracPerSecond) return true;
    return this.used + RECORD_HEADER_BYTES + captureLength > this.bytes.length;
  }

  // Reserves room for one record and writes its header. The caller copies the
  // captured bytes into `buffer` at the returned offset. `remainingFileBytes`
  // keeps batches of small files small.
  beginRecord(
    linkType: number, fracPerSecond: number,
    tsSec: number, tsFrac: number, captureLength: number, wireLength: number,
    fileOffset: number, remainingFileBytes: number,
  ): number {
    const at = this.reserveRecord(linkType, fracPerSecond, captureLength, fileOffset, remainingFileBytes);
    this.view.setUint32(at, tsSec >>> 0, true);
    this.view.setUint32(at + 4, tsFrac >>> 0, true);
    this.view.setUint32(at + 8, captureLength, true);
    this.view.setUint32(at + 12, wireLength >>> 0, true);
    return at + RECORD_HEADER_BYTES;
  }

  // Reserves room for one record, header included, and returns the offset
  // of its header, which the caller writes. Records reserved one after the
  // other lie back to back, so a little-endian pcap file's records can be
  // copied in one piece.
  reserveRecord(linkType: number, fracPerSecond: number, captureLength: number, fileOffset: number, remainingFileBytes: number): number {
    const recordBytes = RECORD_HEADER_BYTES + captureLength;
    if (this.count === 0) {
      const capacity = Math.max(recordBytes, Math.min(this.batchBytes, remainingFileBytes + RECORD_HEADER_BYTES));
      if (this.spare !== undefined && this.spare.length >= capacity) {
        this.bytes = this.spare;
      } else {
        this.bytes = new Uint8Array(capacity);
      }
      this.view = new DataView(this.bytes.buffer);
      this.linkType = linkType;
      this.fracPerSecond = fracPerSecond;
      this.firstRecordOffset = fileOffset;
    }
    const at = this.used;
    this.used += recordBytes;
    this.count += 1;
    this.stats.packets += 1;
    this.stats.bytes += captureLength;
    return at;
  }

  // The pending batch's bytes, which beginRecord() sizes for its records.
  get buffer(): Uint8Array {
    return this.bytes;
  }

  get pending(): boolean {
    return this.count > 0;
  }

  // Hands out the pending batch. Without `reuseBuffer` its buffer is never
  // written again, so a consumer may keep it.
  take(): PacketBatch {
    const batch: PacketBatch = {
      linkType: this.linkType,
      fracPerSecond: this.fracPerSecond,
      bytes: this.bytes,
      byteLength: this.used,
      count: this.count,
      source: this.source,
      firstRecordOffset: this.firstRecordOffset,
    };
    // A buffer that an oversized record grew past batchBytes is not kept,
    // so later batches stay within batchBytes.
    if (this.reuseBuffer && this.bytes.length <= this.batchBytes) this.spare = this.bytes;
    this.bytes = new Uint8Array(0);
    this.view = new DataView(this.bytes.buffer);
    this.used = 0;
    this.count = 0;
    this.stats.batches += 1;
    return batch;
  }
}
