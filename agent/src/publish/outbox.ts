// The durable outbox: an append-only journal of messages waiting for a PUBACK.
//
// A message is appended before it is handed to MQTT and marked done after its
// PUBACK, so a restarted agent replays exactly what was never acknowledged.
// Delivery is at least once: a message acknowledged by the broker whose
// "done" mark was not yet written is sent again after a restart, and the
// correlator drops the copy by alert id.
//
// Journal file (outbox.journal), a sequence of frames:
//
//   +----------------+----------------+------+--------------------------+
//   | length (u32le) | crc32 (u32le)  | kind | body (length - 1 bytes)  |
//   +----------------+----------------+------+--------------------------+
//   length counts kind + body; crc32 (zlib) covers kind + body.
//
//   kind 'E' (entry): sequence u64le, score u8, journaled-at ms u64le,
//                     topic length u16le, topic (UTF-8), payload
//   kind 'A' (acknowledged) and 'D' (dropped): sequence u64le
//
// A frame cut short by a crash, or one whose CRC does not match, ends the
// journal: it and everything after it are discarded at open and counted.
//
// A frame that cannot be written whole (a full disk) is cut off again, so
// the frames written after it are not lost behind a torn one. A delivered or
// dropped mark that cannot be written leaves the entry to be sent once more
// after a restart. A failed compaction keeps the old journal.
//
// Durability: a frame is written with writeSync, so once append() returns the
// kernel has it and a SIGKILL of the agent loses nothing. What a power loss
// or kernel crash loses depends on the fsync policy:
//   "always"   fsync after every entry: nothing appended is lost.
//   "interval" fsync at most every fsyncIntervalMs: up to that much is lost.
//   "never"    the kernel writes back on its own schedule (about 30 s on Linux
//              by default, vm.dirty_expire_centisecs).
import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import type { Logger } from "../log.js";
import { silentLogger } from "../log.js";

export type FsyncPolicy = "always" | "interval" | "never";

export const JOURNAL_FILE = "outbox.journal";
export const DEFAULT_OUTBOX_MAX_BYTES = 32 * 1024 * 1024;
export const DEFAULT_FSYNC_POLICY: FsyncPolicy = "interval";
export const DEFAULT_FSYNC_INTERVAL_MS = 1000;
// The journal is rewritten with only the waiting entries once it is larger
// than COMPACT_FACTOR times their size plus COMPACT_SLACK_BYTES, so
// compaction costs O(waiting bytes) and runs rarely.
const COMPACT_FACTOR = 2;
const COMPACT_SLACK_BYTES = 4 * 1024 * 1024;
// An empty journal is truncated in place once it is this large, or after any
// failed write (a full disk), because truncating needs no free space.
const TRUNCATE_MIN_BYTES = 64 * 1024;
// Scores are 0..100; an alert above that is clamped into the top bucket.
const MAX_SCORE = 100;
const FRAME_HEADER_BYTES = 9;
const MAX_TOPIC_BYTES = 65535;

const KIND_ENTRY = 0x45; // 'E'
const KIND_ACKNOWLEDGED = 0x41; // 'A'
const KIND_DROPPED = 0x44; // 'D'

export interface OutboxEntry {
  sequence: number;
  topic: string;
  score: number;
  journaledAtMs: number;
  payload: Buffer;
}

export interface OutboxOptions {
  // Folder of the journal; created when missing.
  dir: string;
  maxBytes?: number;
  fsync?: FsyncPolicy;
  fsyncIntervalMs?: number;
  logger?: Logger;
}

export interface OutboxStats {
  // Entries appended since open, replayed ones excluded.
  appended: number;
  acknowledged: number;
  // Entries dropped to stay under maxBytes, lowest score first.
  droppedFull: number;
  // Entries dropped because the broker rejected them for good.
  droppedRejected: number;
  // Entries found in the journal at open.
  replayed: number;
  // Bytes discarded at open because a frame was torn or corrupt.
  discardedBytes: number;
  compactions: number;
  // Delivered or dropped marks, fsyncs and compactions that failed (a full
  // or failing disk). Such an entry may be sent again after a restart.
  writeFailures: number;
}

export class OutboxError extends Error {
  readonly code = "FIELDSENSE_OUTBOX";
}

// Entries waiting for a PUBACK, on disk and in memory, bounded by maxBytes of
// payload and topic.
export class Outbox {
  readonly stats: OutboxStats = {
    appended: 0, acknowledged: 0, droppedFull: 0, droppedRejected: 0, replayed: 0, discardedBytes: 0, compactions: 0, writeFailures: 0,
  };
  readonly maxBytes: number;
  private readonly path: string;
  private readonly policy: FsyncPolicy;
  private readonly fsyncIntervalMs: number;
  private readonly logger: Logger;
  // -1 until the journal is first opened.
  private fd = -1;
  private fileBytes = 0;
  private waitingBytes = 0;
  private nextSequence = 1;
  private lastFsyncMs = 0;
  private fsyncTimer: NodeJS.Timeout | undefined;
  private dirty = false;
  private closed = false;
  // Set after a failed write and cleared by the next successful one, so a full disk logs once.
  private failing = false;
  // Set by a failed write; an empty journal is then truncated whatever its size.
  private failedSinceEmpty = false;
  // All waiting entries in journal order.
  private readonly entries = new Map<number, OutboxEntry>();
  // The same entries per score, each bucket in journal order, so the lowest
  // and oldest entry is found without a scan.
  private readonly byScore: Array<Map<number, OutboxEntry>> = Array.from({ length: MAX_SCORE + 1 }, () => new Map());

  constructor(options: OutboxOptions) {
    this.maxBytes = options.maxBytes ?? DEFAULT_OUTBOX_MAX_BYTES;
    if (!Number.isInteger(this.maxBytes) || this.maxBytes < 1024) {
      throw new RangeError(`invalid outbox maxBytes ${options.maxBytes}: use an integer of at least 1024`);
    }
    this.policy = options.fsync ?? DEFAULT_FSYNC_POLICY;
    if (!["always", "interval", "never"].includes(this.policy)) {
      throw new RangeError(`invalid outbox fsync policy "${options.fsync}": use always, interval or never`);
    }
    this.fsyncIntervalMs = options.fsyncIntervalMs ?? DEFAULT_FSYNC_INTERVAL_MS;
    if (!Number.isInteger(this.fsyncIntervalMs) || this.fsyncIntervalMs < 1) {
      throw new RangeError(`invalid outbox fsyncIntervalMs ${options.fsyncIntervalMs}: use a positive integer of milliseconds`);
    }
    this.logger = options.logger ?? silentLogger;
    mkdirSync(options.dir, { recursive: true });
    this.path = join(options.dir, JOURNAL_FILE);
    const wholeBytes = this.load();
    // Rewriting at open drops acknowledged entries and any torn tail. It needs
    // room for a second copy of the waiting entries. On a disk too full for
    // that, the journal is kept as it is, cut back to its last whole frame.
    try {
      this.fd = this.rewrite();
    } catch (error) {
      this.reopenAfterFailedRewrite(wholeBytes);
      this.writeFailed(error, "outbox journal not compacted at open; appending to it as it is");
    }
    if (this.entries.size > 0 || this.stats.discardedBytes > 0) {
      this.logger.info({ journal: this.path, waiting: this.entries.size, waitingBytes: this.waitingBytes, discardedBytes: this.stats.discardedBytes }, "outbox journal replayed");
    }
  }

  get depth(): number {
    return this.entries.size;
  }

  get bytes(): number {
    return this.waitingBytes;
  }

  get journalBytes(): number {
    return this.fileBytes;
  }

  // Waiting entries in journal order.
  waiting(): IterableIterator<OutboxEntry> {
    return this.entries.values();
  }

  get(sequence: number): OutboxEntry | undefined {
    return this.entries.get(sequence);
  }

  // Journals one message. When the outbox would exceed maxBytes, the entries
  // with the lowest score go first, the oldest of equal score first. The new
  // entry itself is dropped when its score is lower than every waiting one.
  // Returns the new entry, or undefined when it was dropped. Throws
  // OutboxError when the journal cannot be written.
  append(topic: string, payload: Buffer, score: number): OutboxEntry | undefined {
    this.assertOpen();
    const clampedScore = Math.max(0, Math.min(MAX_SCORE, Math.round(Number.isFinite(score) ? score : 0)));
    const size = entrySize(topic, payload);
    if (Buffer.byteLength(topic) > MAX_TOPIC_BYTES) {
      throw new OutboxError(`topic of ${Buffer.byteLength(topic)} bytes is too long for the outbox (max ${MAX_TOPIC_BYTES}): shorten the site or gateway name`);
    }
    if (size > this.maxBytes) {
      this.stats.droppedFull++;
      this.logger.error({ topic, bytes: size, maxBytes: this.maxBytes }, "message larger than the whole outbox; dropped");
      return undefined;
    }
    while (this.waitingBytes + size > this.maxBytes) {
      const victim = this.lowest();
      if (!victim || victim.score > clampedScore) {
        this.stats.droppedFull++;
        this.logger.warn({ topic, score: clampedScore, waiting: this.entries.size }, "outbox full; new message has the lowest score and is dropped");
        return undefined;
      }
      this.remove(victim.sequence, KIND_DROPPED);
      this.stats.droppedFull++;
      this.logger.warn({ topic: victim.topic, score: victim.score, sequence: victim.sequence }, "outbox full; lowest-scored message dropped");
    }
    const entry: OutboxEntry = { sequence: this.nextSequence++, topic, score: clampedScore, journaledAtMs: Date.now(), payload };
    this.writeFrame(KIND_ENTRY, encodeEntry(entry));
    this.add(entry);
    this.stats.appended++;
    this.syncAfterEntry();
    return entry;
  }

  // Marks an entry delivered. Unknown sequences (already dropped) are ignored.
  // Never throws: it runs in the MQTT client's PUBACK callback.
  acknowledge(sequence: number): void {
    if (this.closed || !this.entries.has(sequence)) return;
    this.markDone(sequence, KIND_ACKNOWLEDGED);
    this.stats.acknowledged++;
  }

  // Removes an entry the broker rejected for good (MQTT 5 reason code such as
  // 0x87 not authorized), so it is not sent again.
  reject(sequence: number): void {
    if (this.closed || !this.entries.has(sequence)) return;
    this.markDone(sequence, KIND_DROPPED);
    this.stats.droppedRejected++;
  }

  // Removes a delivered or rejected entry. When its mark cannot be written,
  // the entry still leaves memory and is counted. The journal then replays
  // it after a restart, and the correlator drops the copy by alert id.
  private markDone(sequence: number, kind: number): void {
    try {
      this.remove(sequence, kind);
    } catch (error) {
      this.writeFailed(error, "outbox journal mark not written; the message may be sent again after a restart", sequence);
    }
    try {
      if (this.entries.size === 0) this.truncateEmpty();
      else this.compactIfLarge();
    } catch (error) {
      this.writeFailed(error, "outbox journal not made smaller; it is tried again at the next delivered message");
    }
  }

  // Counts a failed write and logs it at most once until a write succeeds again.
  private writeFailed(error: unknown, message: string, sequence?: number): void {
    this.stats.writeFailures++;
    this.failedSinceEmpty = true;
    if (this.failing) return;
    this.failing = true;
    this.logger.warn({ journal: this.path, sequence, err: (error as Error).message }, `${message} (logged once until writing works again; see write_failures)`);
  }

  // Writes pending data to disk (whatever the policy) and closes the journal.
  close(): void {
    if (this.closed) return;
    if (this.fsyncTimer) clearTimeout(this.fsyncTimer);
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.closed = true;
  }

  private assertOpen(): void {
    if (this.closed) throw new OutboxError(`outbox ${this.path} is closed`);
  }

  private lowest(): OutboxEntry | undefined {
    for (const bucket of this.byScore) {
      const first = bucket.values().next();
      if (!first.done) return first.value;
    }
    return undefined;
  }

  private add(entry: OutboxEntry): void {
    this.entries.set(entry.sequence, entry);
    this.byScore[entry.score].set(entry.sequence, entry);
    this.waitingBytes += entrySize(entry.topic, entry.payload);
  }

  private remove(sequence: number, kind: number): void {
    const entry = this.entries.get(sequence);
    if (!entry) return;
    this.entries.delete(sequence);
    this.byScore[entry.score].delete(sequence);
    this.waitingBytes -= entrySize(entry.topic, entry.payload);
    const body = Buffer.alloc(8);
    body.writeBigUInt64LE(BigInt(sequence));
    this.writeFrame(kind, body);
  }

  private writeFrame(kind: number, body: Buffer): void {
    const frame = Buffer.alloc(FRAME_HEADER_BYTES + body.length);
    frame.writeUInt32LE(1 + body.length, 0);
    frame[8] = kind;
    body.copy(frame, FRAME_HEADER_BYTES);
    frame.writeUInt32LE(crc32(frame.subarray(8)), 4);
    try {
      // A full disk can take part of a frame before it fails.
      for (let written = 0; written < frame.length;) written += writeSync(this.fd, frame, written);
    } catch (error) {
      this.failedSinceEmpty = true;
      this.cutTornFrame();
      throw new OutboxError(`writing the outbox journal ${this.path} failed: ${(error as Error).message}; check free space and permissions of the data directory`);
    }
    this.fileBytes += frame.length;
    this.dirty = true;
    this.failing = false;
  }

  // Empties the journal in place once nothing waits. Unlike a compaction it
  // needs no free space, so a journal that filled the disk frees it again,
  // even when the mark that ended the last entry could not be written.
  private truncateEmpty(): void {
    if (this.fileBytes === 0) return;
    if (this.fileBytes < TRUNCATE_MIN_BYTES && !this.failedSinceEmpty) return;
    ftruncateSync(this.fd, 0);
    this.fileBytes = 0;
    this.dirty = true;
    this.failedSinceEmpty = false;
    this.stats.compactions++;
  }

  // Cuts the journal back to its last whole frame after a failed write.
  private cutTornFrame(): void {
    try {
      ftruncateSync(this.fd, this.fileBytes);
    } catch (error) {
      this.logger.error({ journal: this.path, err: (error as Error).message }, "outbox journal could not be cut back after a failed write; frames after it are lost at the next start");
    }
  }

  private syncAfterEntry(): void {
    if (this.policy === "always") {
      this.sync();
    } else if (this.policy === "interval" && !this.fsyncTimer) {
      const wait = Math.max(0, this.lastFsyncMs + this.fsyncIntervalMs - Date.now());
      this.fsyncTimer = setTimeout(() => {
        this.fsyncTimer = undefined;
        if (this.closed) return;
        try {
          this.sync();
        } catch (error) {
          this.writeFailed(error, "outbox journal fsync failed; what it wrote since the last fsync may not survive a power loss");
        }
      }, wait);
      this.fsyncTimer.unref();
    }
  }

  private sync(): void {
    if (!this.dirty) return;
    fsyncSync(this.fd);
    this.dirty = false;
    this.lastFsyncMs = Date.now();
  }

  private compactIfLarge(): void {
    if (this.fileBytes <= COMPACT_FACTOR * this.waitingBytes + COMPACT_SLACK_BYTES) return;
    const before = this.fileBytes;
    if (this.fsyncTimer) {
      clearTimeout(this.fsyncTimer);
      this.fsyncTimer = undefined;
    }
    closeSync(this.fd);
    try {
      this.fd = this.rewrite();
    } catch (error) {
      this.reopenAfterFailedRewrite();
      this.writeFailed(error, "outbox journal compaction failed; the old journal is kept");
      return;
    }
    this.stats.compactions++;
    this.logger.debug({ journal: this.path, before, after: this.fileBytes }, "outbox journal compacted");
  }

  // Writes the waiting entries to a new file, fsyncs it and renames it over
  // the journal, so a crash at any point leaves either the old or the new
  // journal whole. Returns the descriptor of the new journal, open for append.
  private rewrite(): number {
    const temporary = `${this.path}.tmp`;
    const fd = openSync(temporary, "w");
    this.fd = fd;
    this.fileBytes = 0;
    for (const entry of this.entries.values()) this.writeFrame(KIND_ENTRY, encodeEntry(entry));
    fsyncSync(fd);
    closeSync(fd);
    renameSync(temporary, this.path);
    syncDirectory(join(this.path, ".."));
    const appendFd = openSync(this.path, "a");
    this.fd = appendFd;
    this.dirty = false;
    this.lastFsyncMs = Date.now();
    return appendFd;
  }

  // Goes back to the journal a failed rewrite left in place, open for
  // append. `wholeBytes`, when given, is where its last whole frame ends:
  // a torn tail after it is cut off.
  private reopenAfterFailedRewrite(wholeBytes?: number): void {
    if (this.fd !== -1) {
      try {
        closeSync(this.fd);
      } catch {
        // The descriptor of the temporary file may already be closed.
      }
    }
    rmSync(`${this.path}.tmp`, { force: true });
    this.fd = openSync(this.path, "a");
    if (wholeBytes !== undefined && fstatSync(this.fd).size > wholeBytes) ftruncateSync(this.fd, wholeBytes);
    this.fileBytes = fstatSync(this.fd).size;
  }

  // Reads the journal into memory and returns where its last whole frame ends.
  private load(): number {
    rmSync(`${this.path}.tmp`, { force: true });
    if (!existsSync(this.path)) return 0;
    const data = readFileSync(this.path);
    let offset = 0;
    while (offset < data.length) {
      const frame = readFrame(data, offset);
      if (!frame) break;
      if (frame.kind === KIND_ENTRY) {
        const entry = decodeEntry(frame.body);
        if (!entry) break;
        this.add(entry);
        this.nextSequence = Math.max(this.nextSequence, entry.sequence + 1);
      } else if ((frame.kind === KIND_ACKNOWLEDGED || frame.kind === KIND_DROPPED) && frame.body.length === 8) {
        const sequence = Number(frame.body.readBigUInt64LE(0));
        const entry = this.entries.get(sequence);
        if (entry) {
          this.entries.delete(sequence);
          this.byScore[entry.score].delete(sequence);
          this.waitingBytes -= entrySize(entry.topic, entry.payload);
        }
      } else {
        break;
      }
      offset = frame.next;
    }
    if (offset < data.length) {
      this.stats.discardedBytes = data.length - offset;
      this.logger.warn({ journal: this.path, offset, discardedBytes: this.stats.discardedBytes }, "outbox journal ends in a torn or corrupt frame; the rest is discarded");
    }
    this.stats.replayed = this.entries.size;
    return offset;
  }
}

function entrySize(topic: string, payload: Buffer): number {
  return Buffer.byteLength(topic) + payload.length;
}

function encodeEntry(entry: OutboxEntry): Buffer {
  const topic = Buffer.from(entry.topic);
  const body = Buffer.alloc(8 + 1 + 8 + 2 + topic.length + entry.payload.length);
  body.writeBigUInt64LE(BigInt(entry.sequence), 0);
  body[8] = entry.score;
  body.writeBigUInt64LE(BigInt(entry.journaledAtMs), 9);
  body.writeUInt16LE(topic.length, 17);
  topic.copy(body, 19);
  entry.payload.copy(body, 19 + topic.length);
  return body;
}

function decodeEntry(body: Buffer): OutboxEntry | undefined {
  if (body.length < 19) return undefined;
  const topicLength = body.readUInt16LE(17);
  if (19 + topicLength > body.length || body[8] > MAX_SCORE) return undefined;
  return {
    sequence: Number(body.readBigUInt64LE(0)),
    score: body[8],
    journaledAtMs: Number(body.readBigUInt64LE(9)),
    topic: body.toString("utf8", 19, 19 + topicLength),
    // A copy, so the journal's read buffer can be released.
    payload: Buffer.from(body.subarray(19 + topicLength)),
  };
}

// Reads the frame at `offset`; undefined when it is cut short or its CRC fails.
function readFrame(data: Buffer, offset: number): { kind: number; body: Buffer; next: number } | undefined {
  if (offset + FRAME_HEADER_BYTES > data.length) return undefined;
  const length = data.readUInt32LE(offset);
  if (length < 1 || offset + 8 + length > data.length) return undefined;
  const content = data.subarray(offset + 8, offset + 8 + length);
  if (crc32(content) !== data.readUInt32LE(offset + 4)) return undefined;
  return { kind: content[0], body: content.subarray(1), next: offset + 8 + length };
}

// Makes a rename durable: on Linux the new directory entry survives a crash
// only after the directory itself is fsynced.
function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on a directory; the rename is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

// The journal file inside an outbox folder, for tests and diagnostics.
export function journalPath(dir: string): string {
  return join(dir, JOURNAL_FILE);
}
