// File-transfer objects: the bytes of one file read or written over SMB,
// followed as they cross the wire. A file object keeps no content. It keeps
// a streamed SHA-256 state and the first bytes, for the content type.
// Scheduled-task files also get a bounded head buffer from a pool that
// initFileObjects allocates once, so that .JOB files and task XML can be
// parsed when the file closes.
//
// The carrying protocol owns the table of objects inside its per-flow state
// area (protocols/smb/state.ts). It writes the `file` record itself, so that
// it can add the account and share, and this module fills in the file facts.
//
// Object layout (FILE_OBJECT_BYTES):
//   0   u8   used
//   1   u8   direction: DIRECTION_TO_SERVER or DIRECTION_FROM_SERVER
//   2   u8   flags (FLAG_*)
//   3   u8   count of first bytes held (0..FIRST_BYTES)
//   4   u16  head slot + 1 (0 = no head buffer)
//   6   u16  reserved
//   8   u64  contiguous end: every byte before it was hashed, in order
//   16  u64  data bytes seen (overlaps counted again)
//   24  u64  largest offset + length seen
//   32  u64  object id, unique in this core
//   40  u64  reserved
//   48  SHA-256 state (SHA256_STATE_BYTES = 112)
//   160 u8[16] first bytes of the file

import { RecordType } from "../fields";
import { countAnomaly } from "../../wasm-core/assembly/counters";
import { beginRecord, endRecord, fieldBool, fieldBytes, fieldLiteral, fieldText, fieldU64 } from "../../wasm-core/assembly/events";
import { sha256Final, sha256Init, sha256Update, SHA256_DIGEST_BYTES, SHA256_STATE_BYTES } from "./sha256";
import { FileAnomaly, FileField } from "./fields";
import { fileTypeOf, FileType, fileTypeName, isTaskPath } from "./types";
import { writeTaskFields, FILE_HEAD_BYTES } from "./task";

@inline export const FILE_OBJECT_BYTES: usize = 176;
@inline export const DIRECTION_TO_SERVER: u8 = 1;
@inline export const DIRECTION_FROM_SERVER: u8 = 2;

// A byte arrived past the contiguous end, so no hash can be computed.
@inline const FLAG_GAP: u8 = 1;
@inline const FIRST_BYTES: u32 = 16;
@inline const SHA_AT: usize = 48;
@inline const FIRST_AT: usize = 160;

// Head buffers for scheduled-task files held at once in the core.
@inline export const FILE_HEAD_SLOTS: u32 = 16;
// Content carried by one file_data record.
@inline const CHUNK_BYTES: u32 = 1024;

let heads: usize = 0;
// One byte per head slot: 1 while an object uses it.
let headOwners: usize = 0;
let nextObjectId: u64 = 1;
// When set, every hashed byte is also written out in file_data records for
// `fieldsense extract`.
let dataRecords: bool = false;

// Allocates the head-buffer pool. Called once from `configure`.
export function initFileObjects(): void {
  if (heads != 0) return;
  heads = heap.alloc(<usize>FILE_HEAD_SLOTS * <usize>FILE_HEAD_BYTES);
  headOwners = heap.alloc(<usize>FILE_HEAD_SLOTS);
  memory.fill(headOwners, 0, <usize>FILE_HEAD_SLOTS);
}

export function setFileDataRecords(enabled: bool): void { dataRecords = enabled; }

export function fileObjectUsed(object: usize): bool { return load<u8>(object) != 0; }
export function fileObjectId(object: usize): u64 { return load<u64>(object, 32); }
export function fileObjectDirection(object: usize): u8 { return load<u8>(object, 1); }

// Starts an object in the free entry `object` for a file named `name`
// (UTF-8, relative to its share). Task files get a head buffer when one is
// free.
export function fileObjectStart(object: usize, direction: u8, name: usize, nameLength: u32): void {
  memory.fill(object, 0, FILE_OBJECT_BYTES);
  store<u8>(object, 1);
  store<u8>(object, direction, 1);
  store<u64>(object, nextObjectId, 32);
  nextObjectId++;
  sha256Init(object + SHA_AT);
  if (!isTaskPath(name, nameLength) || heads == 0) return;
  for (let i: u32 = 0; i < FILE_HEAD_SLOTS; i++) {
    if (load<u8>(headOwners + <usize>i) == 0) {
      store<u8>(headOwners + <usize>i, 1);
      store<u16>(object, <u16>(i + 1), 4);
      return;
    }
  }
  countAnomaly(FileAnomaly.HEAD_POOL_FULL);
}

function headOf(object: usize): usize {
  const slot = <u32>load<u16>(object, 4);
  return slot == 0 ? 0 : heads + <usize>(slot - 1) * <usize>FILE_HEAD_BYTES;
}

// Adds `length` bytes at file offset `offset`. Bytes that continue the
// contiguous run are hashed. A jump forward leaves a hole, so the file gets
// no hash. Bytes before the contiguous end (a rewrite, or a read returned
// out of order) are counted but not hashed again.
export function fileObjectData(object: usize, offset: u64, data: usize, length: u32): void {
  if (length == 0) return;
  fileObjectCount(object, offset, length);
  const end = offset + <u64>length;
  keepFirstBytes(object, offset, data, length);

  const contiguous = load<u64>(object, 8);
  if (offset > contiguous) {
    if ((load<u8>(object, 2) & FLAG_GAP) == 0) countAnomaly(FileAnomaly.DATA_GAP);
    store<u8>(object, load<u8>(object, 2) | FLAG_GAP, 2);
    return;
  }
  if (end <= contiguous) {
    countAnomaly(FileAnomaly.DATA_OVERLAP);
    return;
  }
  // Only the part past the contiguous end is new.
  const skip = <u32>(contiguous - offset);
  const fresh = length - skip;
  if ((load<u8>(object, 2) & FLAG_GAP) == 0) {
    sha256Update(object + SHA_AT, data + <usize>skip, fresh);
    keepHead(object, contiguous, data + <usize>skip, fresh);
    if (dataRecords) writeDataRecords(object, contiguous, data + <usize>skip, fresh);
  }
  store<u64>(object, end, 8);
}

// Counts `length` bytes at file offset `offset` that were carried on the
// wire but not read, because the object already has a hole.
export function fileObjectCount(object: usize, offset: u64, length: u32): void {
  store<u64>(object, load<u64>(object, 16) + <u64>length, 16);
  const end = offset + <u64>length;
  if (end > load<u64>(object, 24)) store<u64>(object, end, 24);
}

// True once a hole rules the hash out; the rest of the data need not be read.
export function fileObjectHasGap(object: usize): bool { return (load<u8>(object, 2) & FLAG_GAP) != 0; }

// Marks the object as missing bytes that the capture lost.
export function fileObjectCut(object: usize): void {
  countAnomaly(FileAnomaly.DATA_CUT);
  store<u8>(object, load<u8>(object, 2) | FLAG_GAP, 2);
}

function keepFirstBytes(object: usize, offset: u64, data: usize, length: u32): void {
  const firstCount = <u32>load<u8>(object, 3);
  if (offset != <u64>firstCount || firstCount >= FIRST_BYTES) return;
  const take = min<u32>(FIRST_BYTES - firstCount, length);
  memory.copy(object + FIRST_AT + <usize>firstCount, data, take);
  store<u8>(object, <u8>(firstCount + take), 3);
}

function keepHead(object: usize, offset: u64, data: usize, length: u32): void {
  const head = headOf(object);
  if (head == 0 || offset >= <u64>FILE_HEAD_BYTES) return;
  const take = min<u32>(FILE_HEAD_BYTES - <u32>offset, length);
  memory.copy(head + <usize>offset, data, take);
}

// file_data records: chunk, object_id, offset and up to CHUNK_BYTES of data.
// A record that does not fit the event buffer is lost and counted there
// (event.buffer_full); the host then finds the extracted file short.
function writeDataRecords(object: usize, offset: u64, data: usize, length: u32): void {
  let at: u32 = 0;
  while (at < length) {
    const n = min<u32>(CHUNK_BYTES, length - at);
    if (beginRecord(RecordType.FILE, load<u8>(object, 1) == DIRECTION_FROM_SERVER)) {
      fieldBool(FileField.CHUNK, true);
      fieldU64(FileField.OBJECT_ID, load<u64>(object, 32));
      fieldU64(FileField.OFFSET, offset + <u64>at);
      fieldBytes(FileField.DATA, data + <usize>at, n);
      endRecord();
    }
    at += n;
  }
}

const digest = memory.data(<i32>SHA256_DIGEST_BYTES);
const digestHex = memory.data(<i32>SHA256_DIGEST_BYTES * 2);

// Writes the file facts into the open record: direction, size, bytes seen
// and missing, SHA-256 when every byte up to the end of file was hashed,
// the content type and the parsed task. `knownSize` is the end of file the
// carrying protocol reported (CREATE or CLOSE), or 0.
export function fileObjectWriteFields(object: usize, name: usize, nameLength: u32, knownSize: u64): void {
  const direction = load<u8>(object, 1);
  fieldLiteral(FileField.DIRECTION, direction == DIRECTION_TO_SERVER ? "to_server" : "from_server");
  const maxEnd = load<u64>(object, 24);
  const size = knownSize > maxEnd ? knownSize : maxEnd;
  const contiguous = load<u64>(object, 8);
  fieldU64(FileField.SIZE, size);
  fieldU64(FileField.BYTES_SEEN, load<u64>(object, 16));
  fieldU64(FileField.BYTES_MISSING, size > contiguous ? size - contiguous : 0);
  fieldU64(FileField.OBJECT_ID, load<u64>(object, 32));
  const complete = (load<u8>(object, 2) & FLAG_GAP) == 0 && contiguous == size;
  if (complete) {
    sha256Final(object + SHA_AT, digest);
    for (let i: u32 = 0; i < SHA256_DIGEST_BYTES; i++) {
      const b = <u32>load<u8>(digest + <usize>i);
      store<u8>(digestHex + <usize>(i << 1), hexDigit(b >> 4));
      store<u8>(digestHex + <usize>(i << 1) + 1, hexDigit(b & 15));
    }
    fieldText(FileField.SHA256, digestHex, SHA256_DIGEST_BYTES * 2);
  }
  const type = fileTypeOf(object + FIRST_AT, <u32>load<u8>(object, 3), name, nameLength);
  if (type != FileType.UNKNOWN) fieldLiteral(FileField.FILE_TYPE, fileTypeName(type));
  const head = headOf(object);
  if (head != 0) {
    const headLength = contiguous < <u64>FILE_HEAD_BYTES ? <u32>contiguous : FILE_HEAD_BYTES;
    writeTaskFields(type, head, headLength);
  }
}

@inline function hexDigit(v: u32): u8 { return <u8>(v < 10 ? 0x30 + v : 0x57 + v); }

// Frees the object and its head buffer.
export function fileObjectRelease(object: usize): void {
  const slot = <u32>load<u16>(object, 4);
  if (slot != 0) store<u8>(headOwners + <usize>(slot - 1), 0);
  store<u8>(object, 0);
}
