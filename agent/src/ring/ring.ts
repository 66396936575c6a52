// The packet ring: the raw packets the agent has seen, kept on disk within a
// byte limit and an age limit, with a per-flow index, so that the packets
// behind an alert can be cut out later and opened in Wireshark.
//
// The ring is a folder of segment files written one after the other. The
// newest segment takes new packets; when it reaches `segmentBytes` it is
// sealed: its index is written next to it as JSON and a new segment starts.
// The oldest segments are deleted when the ring exceeds `maxBytes` or when
// their newest packet is more than `maxAgeSeconds` older than the newest
// packet of the ring (packet time, so that a replay behaves as live capture
// does). Everything deleted is counted.
//
// Segment file NNNNNNNN.seg, little-endian:
//   header, 16 bytes: "FSRG" | u16 version | u16 reserved | u64 created (ms)
//   packets, each: u32 ts_sec | u32 ts_nsec | u32 stored length |
//                  u32 wire length | u16 link type | u16 flags | data
// flags bit 0: the payload was cut to the headers by a truncate rule.
//
// Segment index NNNNNNNN.idx (JSON), and in memory for the newest segment:
// first and last packet time, packet count, and for each flow key
// (flow-key.ts) the offsets of its first and last packet and its count. A
// slice reads only the segments, and the byte range within each, where its
// flows occur. A segment found without an index (the agent stopped before
// sealing it) is scanned once to rebuild it; a torn last packet is cut off.
//
// Alerts noted in the ring (alerts.jsonl) map an alert id to its flow and
// time, so that a request can name the alert alone.
//
// A failed write (a full disk, above all) never stops the capture. The ring
// cuts the newest segment back to its last whole packet and seals it, and on
// a full disk drops its oldest segment and keeps below the size it had
// reached. It then stores nothing for WRITE_RETRY_MS, counting the packets it
// did not store, and tries again. It logs when it stops and when it writes again.
import {
  closeSync, existsSync, fstatSync, ftruncateSync, openSync, readdirSync, readFileSync, readSync, statSync,
  renameSync, rmSync, writeFileSync, writeSync,
} from "node:fs";
import { join } from "node:path";
import { createFolders, FolderError } from "../config/folders.js";
import type { PacketBatch } from "../capture/batch.js";
import { RECORD_HEADER_BYTES } from "../capture/batch.js";
import type { Alert } from "../publish/alert.js";
import type { Logger } from "../log.js";
import { flowKey, packetFlow, type Endpoint, type PacketFlow } from "./flow-key.js";
import { compileTruncateRules, type TruncateRule } from "./truncate.js";

export interface RingLimits {
  // Bytes of all segment files together.
  maxBytes: number;
  // Packet-time age of the oldest packet kept, relative to the newest.
  maxAgeSeconds: number;
  // Size at which the newest segment is sealed; at most maxBytes / 4.
  segmentBytes: number;
  // Flows whose payload is cut to the headers (a historian's bulk traffic).
  truncate?: TruncateRule[];
}

// A 1 GB gateway with a small flash disk: 256 MiB of packets, one day, in
// 8 MiB segments, so that dropping the oldest segment loses about 3 % of the ring.
export const DEFAULT_RING_LIMITS: RingLimits = { maxBytes: 256 * 1024 * 1024, maxAgeSeconds: 86_400, segmentBytes: 8 * 1024 * 1024 };

export const MIN_SEGMENT_BYTES = 64 * 1024;
// Alerts remembered in alerts.jsonl; older ones are dropped first.
export const MAX_NOTED_ALERTS = 100_000;

const MAGIC = 0x47525346; // "FSRG" read as a little-endian u32
const VERSION = 1;
const SEGMENT_HEADER_BYTES = 16;
const PACKET_HEADER_BYTES = 20;
const FLAG_TRUNCATED = 1;
const INDEX_VERSION = 1;
// Time the ring stores nothing after a failed write before it tries again.
export const WRITE_RETRY_MS = 10_000;
// Error codes of a write that failed for lack of space (a full disk, a quota).
const DISK_FULL_CODES = new Set(["ENOSPC", "EDQUOT"]);

export interface RingStats {
  packetsStored: number;
  bytesStored: number;
  segments: number;
  oldestSec?: number;
  newestSec?: number;
  // Lost to the limits since this process opened the ring.
  packetsDropped: number;
  bytesDropped: number;
  segmentsDropped: number;
  packetsTruncated: number;
  // Packets that are not IP (ARP, LLDP): stored, found by time only.
  packetsUnindexed: number;
  // Packets lost because a write failed, and the writes that failed.
  packetsNotStored: number;
  writeFailures: number;
  // False from a failed write until a write succeeds again.
  writing: boolean;
  // The error of the last failed write, kept after writing resumes.
  writeError?: string;
  // maxBytes, or less after the disk was full: the bytes the ring keeps to.
  effectiveMaxBytes: number;
}

// [first packet offset, last packet offset, packets]
type FlowSpan = [number, number, number];

interface SegmentIndex {
  version: number;
  id: number;
  firstSec: number;
  lastSec: number;
  packets: number;
  bytes: number;
  flows: Record<string, FlowSpan>;
}

export interface StoredPacket {
  tsSec: number;
  tsNsec: number;
  linkType: number;
  data: Uint8Array;
  wireLength: number;
  truncated: boolean;
}

export interface NotedAlert {
  id: string;
  // Packet time of the alert, seconds.
  ts: number;
  transport: string;
  src: Endpoint;
  dst: Endpoint;
  model: string;
}

export interface SliceQuery {
  // Flow keys (flow-key.ts) to keep; all flows when absent.
  flows?: string[];
  // Keep packets to or from this address.
  host?: string;
  // Packet-time bounds in seconds, inclusive.
  from?: number;
  to?: number;
}

export class RingError extends Error {
  constructor(message: string, readonly code: "ring.limits_invalid" | "ring.not_a_ring" | "ring.missing" | "ring.folder_invalid") {
    super(message);
    this.name = "RingError";
  }
}

// Checks the limits; messages use the configuration's key names (ring.max_bytes, ...).
export function checkRingLimits(limits: RingLimits, where: string): void {
  const fail = (message: string): never => { throw new RangeError(`invalid ${where}: ${message}`); };
  const keys = { maxBytes: "max_bytes", maxAgeSeconds: "max_age_s", segmentBytes: "segment_bytes" } as const;
  for (const name of ["maxBytes", "maxAgeSeconds", "segmentBytes"] as const) {
    if (!Number.isSafeInteger(limits[name]) || limits[name] < 1) fail(`${keys[name]} ${limits[name]} is not a positive whole number`);
  }
  if (limits.segmentBytes < MIN_SEGMENT_BYTES) fail(`segment_bytes ${limits.segmentBytes} is below ${MIN_SEGMENT_BYTES}; segments that small make the index larger than the packets`);
  if (limits.segmentBytes * 4 > limits.maxBytes) fail(`segment_bytes ${limits.segmentBytes} is above a quarter of max_bytes ${limits.maxBytes}; raise max_bytes or lower segment_bytes, because the ring drops whole segments`);
}

const segmentName = (id: number) => `${String(id).padStart(8, "0")}.seg`;
const indexName = (id: number) => `${String(id).padStart(8, "0")}.idx`;

function emptyIndex(id: number): SegmentIndex {
  return { version: INDEX_VERSION, id, firstSec: Infinity, lastSec: -Infinity, packets: 0, bytes: SEGMENT_HEADER_BYTES, flows: {} };
}

export interface RingOptions {
  readOnly?: boolean;
  // Logs when the ring stops writing and when it writes again.
  logger?: Logger;
  // Replaces fs.writeSync for the packet segments, so that a test can fail a write.
  write?: (fd: number, bytes: Uint8Array) => number;
}

export class PacketRing {
  private readonly sealed: SegmentIndex[] = [];
  private active: SegmentIndex | undefined;
  private fd: number | undefined;
  private readonly alerts = new Map<string, NotedAlert>();
  private alertsFd: number | undefined;
  private readonly truncateFlow: (a: Endpoint, b: Endpoint) => boolean;
  private readonly counters = {
    packetsDropped: 0, bytesDropped: 0, segmentsDropped: 0, packetsTruncated: 0, packetsUnindexed: 0,
    packetsNotStored: 0, writeFailures: 0,
  };
  // Set while the ring stores nothing after a failed write.
  private failure: { atMs: number } | undefined;
  private lastWriteError: string | undefined;
  // Set after alerts.jsonl could not be written, until it can again.
  private alertsWriteFailed = false;
  private maxBytes: number;
  private readonly logger: Logger | undefined;
  private readonly write: (fd: number, bytes: Uint8Array) => number;
  private newestSec = -Infinity;
  // Bytes of the sealed segments, kept as they come and go.
  private sealedBytes = 0;
  // Packet headers and data appended but not yet written (flush).
  private pending: Uint8Array[] = [];

  private constructor(readonly dir: string, readonly limits: RingLimits, private readonly readOnly: boolean, options: RingOptions) {
    this.truncateFlow = compileTruncateRules(limits.truncate ?? [], `ring.truncate of ${dir}`);
    this.maxBytes = limits.maxBytes;
    this.logger = options.logger;
    this.write = options.write ?? ((fd, bytes) => writeSync(fd, bytes));
  }

  // Opens (creating it unless readOnly) the ring in `dir` and reads the
  // indexes of the segments already there.
  static open(dir: string, limits: RingLimits = DEFAULT_RING_LIMITS, options: RingOptions = {}): PacketRing {
    checkRingLimits(limits, `packet ring limits for ${dir}`);
    const readOnly = options.readOnly ?? false;
    if (!existsSync(dir)) {
      if (readOnly) throw new RingError(`no packet ring at ${dir}: the folder does not exist; give the agent's ring folder (ring.dir in its configuration, or DATA_DIR/ring)`, "ring.missing");
      try {
        createFolders(dir, 0o700);
      } catch (error) {
        if (!(error instanceof FolderError)) throw error;
        throw new RingError(`cannot create packet ring folder ${dir}: ${error.reason}; give a folder path on a writable disk (--ring or ring.dir)`, "ring.folder_invalid");
      }
    } else if (!statSync(dir).isDirectory()) {
      throw new RingError(`invalid packet ring folder ${dir}: it is a file, not a folder; give a folder path (--ring or ring.dir)`, "ring.folder_invalid");
    }
    const ring = new PacketRing(dir, limits, readOnly, options);
    ring.load();
    return ring;
  }

  private load(): void {
    const ids = readdirSync(this.dir)
      .filter((name) => /^\d{8}\.seg$/.test(name))
      .map((name) => Number(name.slice(0, 8)))
      .sort((a, b) => a - b);
    for (const id of ids) {
      const index = this.readIndex(id) ?? this.rebuildIndex(id);
      if (index.packets > 0) this.newestSec = Math.max(this.newestSec, index.lastSec);
      this.sealed.push(index);
      this.sealedBytes += index.bytes;
    }
    const alertsPath = join(this.dir, "alerts.jsonl");
    if (existsSync(alertsPath)) {
      for (const line of readFileSync(alertsPath, "utf8").split("\n")) {
        if (line.trim() === "") continue;
        try {
          const alert = JSON.parse(line) as NotedAlert;
          if (typeof alert.id === "string") this.alerts.set(alert.id, alert);
        } catch {
          // A torn last line after a crash; the alerts before it stay.
        }
      }
    }
  }

  private readIndex(id: number): SegmentIndex | undefined {
    const path = join(this.dir, indexName(id));
    if (!existsSync(path)) return undefined;
    try {
      const index = JSON.parse(readFileSync(path, "utf8")) as SegmentIndex;
      if (index.version !== INDEX_VERSION || index.id !== id) return undefined;
      return index;
    } catch {
      return undefined;
    }
  }

  // Scans a segment to rebuild its index; cuts a torn last packet off unless
  // the ring is open read-only.
  private rebuildIndex(id: number): SegmentIndex {
    const path = join(this.dir, segmentName(id));
    const bytes = readFileSync(path);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (bytes.length < SEGMENT_HEADER_BYTES || view.getUint32(0, true) !== MAGIC || view.getUint16(4, true) !== VERSION) {
      throw new RingError(`invalid packet ring segment ${path}: header is not a Fieldsense ring segment of version ${VERSION}; move the file out of the ring folder`, "ring.not_a_ring");
    }
    const index = emptyIndex(id);
    let at = SEGMENT_HEADER_BYTES;
    while (at + PACKET_HEADER_BYTES <= bytes.length) {
      const stored = view.getUint32(at + 8, true);
      if (at + PACKET_HEADER_BYTES + stored > bytes.length) break;
      const data = bytes.subarray(at + PACKET_HEADER_BYTES, at + PACKET_HEADER_BYTES + stored);
      this.indexPacket(index, at, view.getUint32(at, true), packetFlow(view.getUint16(at + 16, true), data));
      at += PACKET_HEADER_BYTES + stored;
    }
    index.bytes = at;
    if (at < bytes.length && !this.readOnly) {
      const fd = openSync(path, "r+");
      try { ftruncateSync(fd, at); } finally { closeSync(fd); }
    }
    return index;
  }

  // Adds the packet at `offset` of a segment, whose conversation is `flow`
  // (undefined for a packet that is not IP), to the segment's index.
  private indexPacket(index: SegmentIndex, offset: number, tsSec: number, flow: PacketFlow | undefined): void {
    index.packets++;
    if (tsSec < index.firstSec) index.firstSec = tsSec;
    if (tsSec > index.lastSec) index.lastSec = tsSec;
    if (!flow) {
      this.counters.packetsUnindexed++;
      return;
    }
    const key = flowKey(flow.transport, flow.a, flow.b);
    const span = index.flows[key];
    if (span) {
      span[1] = offset;
      span[2]++;
    } else {
      index.flows[key] = [offset, offset, 1];
    }
  }

  // Stores every packet of `batch`. A failed write is counted and logged,
  // not thrown (see the top of this file).
  append(batch: PacketBatch): void {
    if (this.readOnly) throw new Error(`packet ring ${this.dir} is open read-only`);
    if (this.failure && Date.now() - this.failure.atMs < WRITE_RETRY_MS) {
      this.counters.packetsNotStored += batch.count;
      return;
    }
    const src = batch.bytes;
    const view = new DataView(src.buffer, src.byteOffset, batch.byteLength);
    const nsecPerFrac = 1_000_000_000 / batch.fracPerSecond;
    let at = 0;
    let appended = 0;
    try {
      for (; appended < batch.count && at + RECORD_HEADER_BYTES <= batch.byteLength; appended++) {
        const tsSec = view.getUint32(at, true);
        const tsNsec = Math.min(999_999_999, Math.floor(view.getUint32(at + 4, true) * nsecPerFrac));
        const caplen = view.getUint32(at + 8, true);
        const wireLength = view.getUint32(at + 12, true);
        const data = src.subarray(at + RECORD_HEADER_BYTES, at + RECORD_HEADER_BYTES + caplen);
        at += RECORD_HEADER_BYTES + caplen;
        this.appendPacket(tsSec, tsNsec, batch.linkType, data, wireLength);
      }
      this.flush();
    } catch (error) {
      this.stopWriting(error as NodeJS.ErrnoException, batch.count - appended);
      return;
    }
    if (this.failure) {
      this.logger?.info({ dir: this.dir, packetsNotStored: this.counters.packetsNotStored }, "packet ring writes again");
      this.failure = undefined;
    }
  }

  // After a failed write: keeps the packets already on disk, counts the rest
  // and, on a full disk, makes room by dropping the oldest segment.
  // `unreached` is the number of packets of the batch not yet appended.
  private stopWriting(error: NodeJS.ErrnoException, unreached: number): void {
    const lost = this.cutActive() + unreached;
    this.counters.packetsNotStored += lost;
    this.counters.writeFailures++;
    let segmentsDropped = 0;
    if (error.code !== undefined && DISK_FULL_CODES.has(error.code)) {
      // The newest sealed segment stays, so that the latest packets can still be cut out.
      if (this.sealed.length > 1) {
        this.dropOldest();
        segmentsDropped++;
        this.forgetOldAlerts();
      }
      this.maxBytes = Math.min(this.maxBytes, this.sealedBytes);
    }
    if (!this.failure) {
      this.logger?.warn({
        dir: this.dir, err: error.message, code: error.code, packetsNotStored: lost, segmentsDropped,
        maxBytes: this.maxBytes, retryInMs: WRITE_RETRY_MS,
      }, "packet ring write failed; the ring stores no packets until a retry succeeds, and detection goes on");
    }
    this.failure = { atMs: Date.now() };
    this.lastWriteError = error.message;
  }

  // Closes the newest segment after a failed write, cut back to its last
  // whole packet on disk, and seals it. Returns the packets that were appended
  // to it but are not on disk.
  private cutActive(): number {
    const active = this.active;
    this.pending = [];
    if (!active) return 0;
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.active = undefined;
    // The rebuild counts the unindexed packets again.
    const unindexed = this.counters.packetsUnindexed;
    const kept = this.rebuildIndex(active.id);
    this.counters.packetsUnindexed = unindexed;
    if (kept.packets === 0) {
      rmSync(join(this.dir, segmentName(active.id)), { force: true });
    } else {
      this.writeIndexFile(kept);
      this.sealed.push(kept);
      this.sealedBytes += kept.bytes;
    }
    return active.packets - kept.packets;
  }

  private appendPacket(tsSec: number, tsNsec: number, linkType: number, data: Uint8Array, wireLength: number): void {
    let stored = data;
    let flags = 0;
    const flow = packetFlow(linkType, data);
    if (this.limits.truncate && this.limits.truncate.length > 0) {
      if (flow && flow.headerBytes < data.length && this.truncateFlow(flow.a, flow.b)) {
        stored = data.subarray(0, flow.headerBytes);
        flags |= FLAG_TRUNCATED;
        this.counters.packetsTruncated++;
      }
    }
    const size = PACKET_HEADER_BYTES + stored.length;
    if (this.active && this.active.bytes + size > this.limits.segmentBytes && this.active.packets > 0) this.seal();
    if (!this.active) this.startSegment();
    const active = this.active!;
    const header = Buffer.allocUnsafe(PACKET_HEADER_BYTES);
    header.writeUInt32LE(tsSec, 0);
    header.writeUInt32LE(tsNsec, 4);
    header.writeUInt32LE(stored.length, 8);
    header.writeUInt32LE(wireLength, 12);
    header.writeUInt16LE(linkType, 16);
    header.writeUInt16LE(flags, 18);
    this.pending.push(header, stored);
    this.indexPacket(active, active.bytes, tsSec, flow);
    active.bytes += size;
    if (tsSec > this.newestSec) this.newestSec = tsSec;
    this.enforceLimits();
  }

  private startSegment(): void {
    const last = this.sealed.at(-1);
    const id = last ? last.id + 1 : 1;
    const header = Buffer.alloc(SEGMENT_HEADER_BYTES);
    header.writeUInt32LE(MAGIC, 0);
    header.writeUInt16LE(VERSION, 4);
    header.writeBigUInt64LE(BigInt(Date.now()), 8);
    const path = join(this.dir, segmentName(id));
    const fd = openSync(path, "w", 0o600);
    try {
      this.writeAll(fd, header);
    } catch (error) {
      closeSync(fd);
      rmSync(path, { force: true });
      throw error;
    }
    this.fd = fd;
    this.active = emptyIndex(id);
  }

  // Writes the newest segment's index (temporary file, then rename) and
  // closes it; the next packet starts a new segment.
  private seal(): void {
    if (!this.active || this.fd === undefined) return;
    this.flush();
    closeSync(this.fd);
    this.fd = undefined;
    this.writeIndexFile(this.active);
    this.sealed.push(this.active);
    this.sealedBytes += this.active.bytes;
    this.active = undefined;
  }

  // Writes a sealed segment's index (temporary file, then rename). A
  // segment left without its index is scanned when the ring is opened
  // again, so a failure here loses nothing and is not raised.
  private writeIndexFile(index: SegmentIndex): void {
    const temporary = join(this.dir, `${indexName(index.id)}.tmp`);
    try {
      writeFileSync(temporary, JSON.stringify(index), { mode: 0o600 });
      renameSync(temporary, join(this.dir, indexName(index.id)));
    } catch (error) {
      rmSync(temporary, { force: true });
      this.logger?.warn({ dir: this.dir, segment: index.id, err: (error as Error).message }, "packet ring segment index not written; the segment is scanned when the ring is opened again");
    }
  }

  // Writes the packets appended since the last flush to the newest segment in
  // one call: a batch costs one write, not two per packet.
  private flush(): void {
    if (this.pending.length === 0 || this.fd === undefined) return;
    this.writeAll(this.fd, Buffer.concat(this.pending));
    this.pending = [];
  }

  // Writes all of `bytes`: a short write (the disk filled up in the middle)
  // is followed by another, which raises the error.
  private writeAll(fd: number, bytes: Uint8Array): void {
    let written = 0;
    while (written < bytes.length) written += this.write(fd, bytes.subarray(written));
  }

  private enforceLimits(): void {
    let dropped = false;
    while (this.sealed.length > 0) {
      const oldest = this.sealed[0];
      const tooOld = oldest.packets > 0 && this.newestSec - oldest.lastSec > this.limits.maxAgeSeconds;
      if (!tooOld && this.sealedBytes + (this.active?.bytes ?? 0) <= this.maxBytes) break;
      this.dropOldest();
      dropped = true;
    }
    if (dropped) this.forgetOldAlerts();
  }

  private dropOldest(): void {
    const oldest = this.sealed.shift();
    if (!oldest) return;
    this.sealedBytes -= oldest.bytes;
    rmSync(join(this.dir, segmentName(oldest.id)), { force: true });
    rmSync(join(this.dir, indexName(oldest.id)), { force: true });
    this.counters.segmentsDropped++;
    this.counters.packetsDropped += oldest.packets;
    this.counters.bytesDropped += oldest.bytes;
  }

  // Notes an alert so that a later request can name it by id alone.
  noteAlert(alert: Alert): void {
    if (this.readOnly) return;
    const noted: NotedAlert = {
      id: alert.id, ts: Date.parse(alert.ts) / 1000, transport: alert.transport,
      src: alert.src, dst: alert.dst, model: alert.model,
    };
    this.alerts.set(noted.id, noted);
    try {
      this.alertsFd ??= openSync(join(this.dir, "alerts.jsonl"), "a", 0o600);
      writeSync(this.alertsFd, `${JSON.stringify(noted)}\n`);
      this.alertsWritten();
    } catch (error) {
      this.alertsNotWritten(error as Error);
    }
    if (this.alerts.size > MAX_NOTED_ALERTS) this.forgetOldAlerts();
  }

  // alerts.jsonl is rewritten whole by forgetOldAlerts, so an alert missing
  // from it after a failed write is back in it after the next rewrite.
  private alertsNotWritten(error: Error): void {
    if (!this.alertsWriteFailed) {
      this.logger?.warn({ dir: this.dir, err: error.message }, "packet ring alerts.jsonl not written; the noted alerts stay in memory");
    }
    this.alertsWriteFailed = true;
  }

  private alertsWritten(): void {
    if (this.alertsWriteFailed) this.logger?.info({ dir: this.dir }, "packet ring alerts.jsonl written again");
    this.alertsWriteFailed = false;
  }

  // Keeps the alerts whose packets may still be in the ring, at most
  // MAX_NOTED_ALERTS of the newest, and rewrites alerts.jsonl with them.
  private forgetOldAlerts(): void {
    const oldest = this.oldestSec();
    for (const [id, alert] of this.alerts) {
      if (this.alerts.size <= MAX_NOTED_ALERTS && (oldest === undefined || alert.ts >= oldest)) continue;
      this.alerts.delete(id);
    }
    if (this.alertsFd !== undefined) closeSync(this.alertsFd);
    this.alertsFd = undefined;
    const lines = [...this.alerts.values()].map((a) => `${JSON.stringify(a)}\n`).join("");
    const temporary = join(this.dir, "alerts.jsonl.tmp");
    try {
      writeFileSync(temporary, lines, { mode: 0o600 });
      renameSync(temporary, join(this.dir, "alerts.jsonl"));
      this.alertsWritten();
    } catch (error) {
      rmSync(temporary, { force: true });
      this.alertsNotWritten(error as Error);
    }
  }

  alert(id: string): NotedAlert | undefined {
    return this.alerts.get(id);
  }

  private segments(): SegmentIndex[] {
    return this.active ? [...this.sealed, this.active] : [...this.sealed];
  }

  private oldestSec(): number | undefined {
    const first = this.segments().find((s) => s.packets > 0);
    return first?.firstSec;
  }

  stats(): RingStats {
    const segments = this.segments();
    const withPackets = segments.filter((s) => s.packets > 0);
    return {
      packetsStored: segments.reduce((n, s) => n + s.packets, 0),
      bytesStored: segments.reduce((n, s) => n + s.bytes, 0),
      segments: segments.length,
      oldestSec: withPackets.length > 0 ? Math.min(...withPackets.map((s) => s.firstSec)) : undefined,
      newestSec: withPackets.length > 0 ? Math.max(...withPackets.map((s) => s.lastSec)) : undefined,
      ...this.counters,
      writing: this.failure === undefined,
      writeError: this.lastWriteError,
      effectiveMaxBytes: this.maxBytes,
    };
  }

  // The packets that match `query`, oldest segment first and in capture order
  // within a segment. Reads only the byte ranges where the wanted flows are.
  *slice(query: SliceQuery): Generator<StoredPacket> {
    const wanted = query.flows ? new Set(query.flows) : undefined;
    for (const segment of this.segments()) {
      if (segment.packets === 0) continue;
      if (query.from !== undefined && segment.lastSec < query.from) continue;
      if (query.to !== undefined && segment.firstSec > query.to) continue;
      let start = SEGMENT_HEADER_BYTES;
      let end = segment.bytes;
      if (wanted || query.host !== undefined) {
        const spans = Object.entries(segment.flows)
          .filter(([key]) => (!wanted || wanted.has(key)) && (query.host === undefined || keyHasHost(key, query.host)))
          .map(([, span]) => span);
        if (spans.length === 0) continue;
        start = Math.min(...spans.map((s) => s[0]));
        end = Math.max(...spans.map((s) => s[1]));
        end = end + PACKET_HEADER_BYTES + this.storedLengthAt(segment.id, end);
      }
      yield* this.readRange(segment.id, start, end, (packet) => {
        if (query.from !== undefined && packet.tsSec < query.from) return false;
        if (query.to !== undefined && packet.tsSec > query.to) return false;
        if (!wanted && query.host === undefined) return true;
        const flow = packetFlow(packet.linkType, packet.data);
        if (!flow) return false;
        if (wanted && !wanted.has(flowKey(flow.transport, flow.a, flow.b))) return false;
        return query.host === undefined || flow.a.ip === query.host || flow.b.ip === query.host;
      });
    }
  }

  private storedLengthAt(id: number, offset: number): number {
    const fd = openSync(join(this.dir, segmentName(id)), "r");
    try {
      const header = Buffer.alloc(PACKET_HEADER_BYTES);
      readSync(fd, header, 0, PACKET_HEADER_BYTES, offset);
      return header.readUInt32LE(8);
    } finally {
      closeSync(fd);
    }
  }

  // Reads packets from [start, end) of a segment in 1 MiB chunks.
  private *readRange(id: number, start: number, end: number, keep: (packet: StoredPacket) => boolean): Generator<StoredPacket> {
    const fd = openSync(join(this.dir, segmentName(id)), "r");
    try {
      const size = Math.min(end, fstatSync(fd).size);
      let chunk = Buffer.alloc(0);
      let chunkStart = start;
      let at = start;
      while (at + PACKET_HEADER_BYTES <= size) {
        const need = (length: number) => {
          if (at + length <= chunkStart + chunk.length) return;
          chunkStart = at;
          chunk = Buffer.alloc(Math.min(size - at, Math.max(length, 1 << 20)));
          readSync(fd, chunk, 0, chunk.length, at);
        };
        need(PACKET_HEADER_BYTES);
        const h = at - chunkStart;
        const stored = chunk.readUInt32LE(h + 8);
        if (at + PACKET_HEADER_BYTES + stored > size) break;
        need(PACKET_HEADER_BYTES + stored);
        const o = at - chunkStart;
        const packet: StoredPacket = {
          tsSec: chunk.readUInt32LE(o), tsNsec: chunk.readUInt32LE(o + 4),
          wireLength: chunk.readUInt32LE(o + 12), linkType: chunk.readUInt16LE(o + 16),
          truncated: (chunk.readUInt16LE(o + 18) & FLAG_TRUNCATED) !== 0,
          data: new Uint8Array(chunk.subarray(o + PACKET_HEADER_BYTES, o + PACKET_HEADER_BYTES + stored)),
        };
        at += PACKET_HEADER_BYTES + stored;
        if (keep(packet)) yield packet;
      }
    } finally {
      closeSync(fd);
    }
  }

  // Seals the newest segment and closes the files. The ring can be opened again.
  close(): void {
    if (!this.readOnly) {
      try {
        this.seal();
      } catch (error) {
        this.stopWriting(error as NodeJS.ErrnoException, 0);
      }
    }
    if (this.alertsFd !== undefined) closeSync(this.alertsFd);
    this.alertsFd = undefined;
  }
}

function keyHasHost(key: string, host: string): boolean {
  const parts = key.split(" ");
  const address = (endpoint: string) => endpoint.startsWith("[") ? endpoint.slice(1, endpoint.indexOf("]")) : endpoint.slice(0, endpoint.lastIndexOf(":"));
  return address(parts[1]) === host || address(parts[2]) === host;
}
