// Snapshots of the core's learned baselines (wasm-core/assembly/baseline-snapshot.ts
// documents the bytes), and the file that keeps them across restarts.
//
// Snapshot file, little-endian:
//   0 u32 magic 0x46534e53 (bytes "SNSF")
//   4 u16 file version (SNAPSHOT_FILE_VERSION)
//   6 u16 reserved, 0
//   8 u32 length of the core snapshot
//  12 u32 CRC-32 (IEEE) of the core snapshot
//  16 version 1: the core snapshot; version 2: the core snapshot compressed
//     with raw DEFLATE (RFC 1951) to the end of the file
//
// The core snapshot has a fixed size from the limits (about 9 MiB at the
// defaults), most of it tables not yet filled, so version 2 files are
// written: on a gateway's flash a write every few minutes adds up. Version 1
// files are still read.
//
// The file is written to a temporary name, flushed to disk, then renamed over
// the old one, so a crash leaves either the old or the new snapshot.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync, existsSync } from "node:fs";
import { dirname } from "node:path";
import { crc32 as zlibCrc32, deflateRawSync, inflateRawSync } from "node:zlib";

export const SNAPSHOT_FILE_MAGIC = 0x46534e53;
export const SNAPSHOT_FILE_VERSION = 2;
const UNCOMPRESSED_FILE_VERSION = 1;
// The fastest zlib level: the zero runs of unfilled tables shrink at any level.
const DEFLATE_LEVEL = 1;
const FILE_HEADER_BYTES = 16;
// Version of the core's snapshot bytes this agent writes (SNAPSHOT_VERSION in
// baseline-snapshot.ts). The core also restores version 1, which has no
// frequency windows: they then start empty.
export const CORE_SNAPSHOT_VERSION = 2;
const CORE_SNAPSHOT_VERSIONS_READ = [1, 2];
const CORE_SNAPSHOT_MAGIC = 0x53425346;

// Core functions that the snapshot functions call (agent/src/core/core.ts).
export interface SnapshotHost {
  callWithScratch(name: string, bytes: Uint8Array, options?: { replayOnRestart?: boolean }): number;
  exportFunction?(name: string): (...args: number[]) => number;
  readMemory?(ptr: number, length: number): Uint8Array;
  setSnapshotProvider?(provider: () => Uint8Array | undefined): void;
  setSnapshotRestorer?(restorer: (bytes: Uint8Array) => void): void;
}

export class SnapshotError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = "SnapshotError";
  }
}

const RESTORE_ERRORS: Record<number, string> = {
  [-1]: "the core's baselines are not configured; install the models before restoring",
  [-2]: "the bytes are not a baseline snapshot (wrong magic)",
  [-3]: `the snapshot has a core snapshot version other than ${CORE_SNAPSHOT_VERSIONS_READ.join(" or ")}`,
  [-4]: "the snapshot's table layout (bytes per history entry, master or frequency table size) belongs to another core version; delete the snapshot file to start learning again",
  [-5]: "the snapshot ended early",
  [-6]: "a snapshot chunk runs past the snapshot's length",
};

// Last snapshot taken from or restored into each core, for trap recovery.
const lastSnapshots = new WeakMap<SnapshotHost, Uint8Array>();

function requireMemoryAccess(core: SnapshotHost): { call: (name: string) => (...args: number[]) => number; read: (ptr: number, length: number) => Uint8Array } {
  if (typeof core.exportFunction !== "function" || typeof core.readMemory !== "function") {
    throw new SnapshotError("snapshot.core_unsupported", "this Core offers no exportFunction/readMemory, which reading a snapshot out of the core needs; update agent/src/core/core.ts");
  }
  return { call: core.exportFunction.bind(core), read: core.readMemory.bind(core) };
}

// Copies the core's baselines out. Returns an empty array when the core has
// no baselines configured yet (no models installed).
export function takeSnapshot(core: SnapshotHost): Uint8Array {
  const { call, read } = requireMemoryAccess(core);
  const total = call("baselineSnapshotPrepare")();
  if (total === 0) return new Uint8Array(0);
  const scratch = call("scratchPtr")();
  const chunk = call("scratchCapacity")();
  const out = new Uint8Array(total);
  let offset = 0;
  while (offset < total) {
    const n = call("baselineSnapshotRead")(offset, chunk);
    if (n <= 0) throw new SnapshotError("snapshot.read_failed", `the core stopped the snapshot at byte ${offset} of ${total}`);
    out.set(read(scratch, n), offset);
    offset += n;
  }
  lastSnapshots.set(core, out);
  return out;
}

// Baselines that a restore could not keep.
export interface RestoreResult {
  // History entries dropped because the snapshot was taken with more
  // historyEntries than the core has: in each full set, those seen on the
  // fewest days, then least recently (also counted as model.baseline_evicted).
  droppedEntries: number;
  // Frequency windows dropped because no installed model has the same id
  // and frequency settings as the one that counted them.
  droppedWindows: number;
}

// Replaces the core's baselines with a snapshot taken by takeSnapshot, also
// one taken with another historyEntries (its entries are re-inserted). On any
// error the core's baselines are left empty and a SnapshotError states why.
export function restoreSnapshot(core: SnapshotHost, bytes: Uint8Array): RestoreResult {
  if (bytes.length === 0) return { droppedEntries: 0, droppedWindows: 0 };
  const fail = (result: number, step: string) => {
    throw new SnapshotError("snapshot.restore_rejected", `the core rejected the snapshot at ${step}: ${RESTORE_ERRORS[result] ?? `unknown result ${result}`}`);
  };
  const headerBytes = Math.min(bytes.length, 32);
  let result = core.callWithScratch("baselineRestoreBegin", bytes.subarray(0, headerBytes));
  if (result !== 0) fail(result, "the header");
  // The core's scratch region has at least 262,160 bytes (one pcap record
  // of the largest caplen), so chunks of 256 KiB always fit.
  const chunk = 1 << 18;
  for (let offset = 0; offset < bytes.length; offset += chunk) {
    result = core.callWithScratch("baselineRestoreWrite", bytes.subarray(offset, Math.min(bytes.length, offset + chunk)));
    if (result !== 0) fail(result, `byte ${offset}`);
  }
  result = core.callWithScratch("baselineRestoreEnd", new Uint8Array(0));
  if (result !== 0) fail(result, "the end");
  lastSnapshots.set(core, bytes);
  const dropped = (name: string) => (typeof core.exportFunction === "function" ? core.exportFunction(name)() : 0);
  return { droppedEntries: dropped("baselineRestoreDroppedEntries"), droppedWindows: dropped("baselineRestoreDroppedWindows") };
}

// Registers the snapshots with the Core's trap recovery. A trapped instance
// cannot be read any more, so the Core restores the last snapshot that
// takeSnapshot took or restoreSnapshot loaded (on the agent's timer, or from
// the file at start) into the instance that replaces it.
export function registerSnapshotRecovery(core: SnapshotHost): void {
  core.setSnapshotProvider?.(() => lastSnapshots.get(core));
  core.setSnapshotRestorer?.((bytes) => restoreSnapshot(core, bytes));
}

// CRC-32 (IEEE), computed by zlib.
export function crc32(bytes: Uint8Array): number {
  return zlibCrc32(bytes) >>> 0;
}

// Writes `snapshot` to `path`: a temporary file beside it, fsync, rename,
// then fsync of the folder so the rename itself survives a power cut.
export function writeSnapshotFile(path: string, snapshot: Uint8Array): void {
  const header = new Uint8Array(FILE_HEADER_BYTES);
  const view = new DataView(header.buffer);
  view.setUint32(0, SNAPSHOT_FILE_MAGIC, true);
  view.setUint16(4, SNAPSHOT_FILE_VERSION, true);
  view.setUint32(8, snapshot.length, true);
  view.setUint32(12, crc32(snapshot), true);
  const body = deflateRawSync(snapshot, { level: DEFLATE_LEVEL });
  const temporary = `${path}.tmp-${process.pid}`;
  const fd = openSync(temporary, "w", 0o600);
  try {
    try {
      writeSync(fd, header);
      let written = 0;
      while (written < body.length) written += writeSync(fd, body, written, body.length - written);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
  } catch (error) {
    // A full disk must not keep a partial file that takes the space again.
    rmSync(temporary, { force: true });
    throw error;
  }
  const folder = openSync(dirname(path), "r");
  try {
    fsyncSync(folder);
  } finally {
    closeSync(folder);
  }
}

// Reads a snapshot file written by writeSnapshotFile and returns the core
// snapshot in it, or undefined when the file does not exist. A file of
// another version, a damaged file or a core snapshot of another version is
// rejected with a SnapshotError naming the file and what to do.
export function readSnapshotFile(path: string): Uint8Array | undefined {
  if (!existsSync(path)) return undefined;
  const bytes = new Uint8Array(readFileSync(path));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const reject = (what: string) => {
    throw new SnapshotError("snapshot.file_invalid", `invalid baseline snapshot ${path}: ${what}; delete the file to start learning again, or restore it with the agent version that wrote it`);
  };
  if (bytes.length < FILE_HEADER_BYTES || view.getUint32(0, true) !== SNAPSHOT_FILE_MAGIC) {
    reject("it does not start with the snapshot file magic");
  }
  const version = view.getUint16(4, true);
  if (version !== SNAPSHOT_FILE_VERSION && version !== UNCOMPRESSED_FILE_VERSION) {
    reject(`file version ${version}, but this agent reads versions ${UNCOMPRESSED_FILE_VERSION} and ${SNAPSHOT_FILE_VERSION}`);
  }
  const length = view.getUint32(8, true);
  let snapshot = bytes.subarray(FILE_HEADER_BYTES);
  if (version === UNCOMPRESSED_FILE_VERSION) {
    if (snapshot.length !== length) reject(`the header announces ${length} bytes of baselines, but the file holds ${snapshot.length}`);
  } else {
    try {
      // The bound keeps a damaged length from inflating without end.
      snapshot = new Uint8Array(inflateRawSync(snapshot, { maxOutputLength: Math.max(1, length) }));
    } catch (error) {
      reject(`its compressed baselines cannot be read (${(error as Error).message}; the file is damaged)`);
    }
    if (snapshot.length !== length) reject(`the header announces ${length} bytes of baselines, but they inflate to ${snapshot.length} (the file is damaged)`);
  }
  if (crc32(snapshot) !== view.getUint32(12, true)) reject("its CRC-32 does not match (the file is damaged)");
  if (length >= 8) {
    const inner = new DataView(snapshot.buffer, snapshot.byteOffset, snapshot.byteLength);
    if (inner.getUint32(0, true) !== CORE_SNAPSHOT_MAGIC) reject("the baselines in it do not start with the core snapshot magic");
    const coreVersion = inner.getUint16(4, true);
    if (!CORE_SNAPSHOT_VERSIONS_READ.includes(coreVersion)) reject(`core snapshot version ${coreVersion}, but this core reads versions ${CORE_SNAPSHOT_VERSIONS_READ.join(" and ")}`);
  }
  return snapshot;
}
