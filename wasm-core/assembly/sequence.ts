// Recent executable writes to administrative shares, for the
// `after_file_write` scorer. A model with that scorer watches remote
// execution (a service or task created). It fires only when the same source
// wrote a program or script to an admin share of the same host shortly
// before, and its alert names that file.
//
// Fed with every closed `file` record (evaluateModels) that was written to
// the server, has the content type pe or script, and lies on a share whose
// name ends in "$" other than IPC$ (ADMIN$, C$, D$, ...). The table keeps the
// MAX_FILE_WRITES latest such writes and replaces the oldest.
//
// Entry layout (FILE_WRITE_BYTES):
//   0 u8[16] source address | 16 u8[16] destination address | 32 u8 IP version |
//   33 u8 used | 34 u8 path length | 35 u8 type (1 pe, 2 script) | 36 u32 ts_sec |
//   40 path[PATH_BYTES] | 168 sha256 hex[64] (or 0 bytes when not known) | 232 u8 sha256 length

import { FIELD_HEADER_BYTES, findField, fieldText } from "./events";
import { FileField } from "../../protocols/file/fields";
import { RecordType } from "../../protocols/fields";

@inline export const MAX_FILE_WRITES: u32 = 64;
@inline const FILE_WRITE_BYTES: usize = 240;
@inline const PATH_BYTES: u32 = 128;
@inline const SHA_AT: usize = 168;

const writes = memory.data(<i32>(<usize>MAX_FILE_WRITES * FILE_WRITE_BYTES));

// Returns the value address of the text field `id` of `record` and sets
// `textLength`, or returns 0.
let textLength: u32 = 0;
function textField(record: usize, id: u16): usize {
  const f = findField(record, id);
  if (f == 0) return 0;
  textLength = <u32>load<u16>(f, 4);
  return f + FIELD_HEADER_BYTES;
}

function textIs(value: usize, length: u32, literal: string): bool {
  if (length != <u32>literal.length) return false;
  for (let i: u32 = 0; i < length; i++) {
    if (<u32>load<u8>(value + <usize>i) != <u32>literal.charCodeAt(i)) return false;
  }
  return true;
}

// True for a share "\\server\X$" other than IPC$, compared without case.
function isAdminShare(share: usize, length: u32): bool {
  if (length < 2 || load<u8>(share + <usize>length - 1) != 0x24) return false;
  if (length >= 5) {
    const tail = share + <usize>length - 5;
    if (load<u8>(tail) == 0x5c && (load<u32>(tail, 1) | 0x00202020) == 0x24637069) return false;
  }
  return true;
}

// Notes a `file` record if it is an executable written to an admin share.
export function noteFileRecord(record: usize): void {
  if (load<u16>(record, 4) != RecordType.FILE) return;
  const direction = textField(record, FileField.DIRECTION);
  if (direction == 0 || !textIs(direction, textLength, "to_server")) return;
  const type = textField(record, FileField.FILE_TYPE);
  if (type == 0) return;
  let kind: u8 = 0;
  if (textIs(type, textLength, "pe")) kind = 1;
  else if (textIs(type, textLength, "script")) kind = 2;
  if (kind == 0) return;
  const share = textField(record, FileField.SHARE);
  if (share == 0 || !isAdminShare(share, textLength)) return;

  const entry = oldestEntry();
  memory.fill(entry, 0, FILE_WRITE_BYTES);
  memory.copy(entry, record + 28, 32);
  store<u8>(entry, load<u8>(record, 20), 32);
  store<u8>(entry, 1, 33);
  store<u8>(entry, kind, 35);
  store<u32>(entry, load<u32>(record, 8), 36);
  const path = textField(record, FileField.PATH);
  if (path != 0) {
    const n = min<u32>(textLength, PATH_BYTES);
    memory.copy(entry + 40, path, n);
    store<u8>(entry, <u8>n, 34);
  }
  const sha = textField(record, FileField.SHA256);
  if (sha != 0 && textLength == 64) {
    memory.copy(entry + SHA_AT, sha, 64);
    store<u8>(entry, 64, 232);
  }
}

function oldestEntry(): usize {
  let oldest = writes;
  let oldestTs: u32 = 0xffffffff;
  for (let i: u32 = 0; i < MAX_FILE_WRITES; i++) {
    const entry = writes + <usize>i * FILE_WRITE_BYTES;
    if (load<u8>(entry, 33) == 0) return entry;
    const ts = load<u32>(entry, 36);
    if (ts < oldestTs) { oldestTs = ts; oldest = entry; }
  }
  return oldest;
}

// Returns the latest write from the record's source to its destination no
// more than `windowSec` seconds before `tsSec`, or 0.
export function findFileWrite(record: usize, tsSec: u32, windowSec: u32): usize {
  let found: usize = 0;
  let foundTs: u32 = 0;
  for (let i: u32 = 0; i < MAX_FILE_WRITES; i++) {
    const entry = writes + <usize>i * FILE_WRITE_BYTES;
    if (load<u8>(entry, 33) == 0 || load<u8>(entry, 32) != load<u8>(record, 20)) continue;
    if (memory.compare(entry, record + 28, 32) != 0) continue;
    const ts = load<u32>(entry, 36);
    if (ts > tsSec || tsSec - ts > windowSec) continue;
    if (found == 0 || ts >= foundTs) { found = entry; foundTs = ts; }
  }
  return found;
}

// Writes the file of `entry` into the open alert record.
export function writeFileWriteFields(entry: usize): void {
  const pathLength = <u32>load<u8>(entry, 34);
  if (pathLength > 0) fieldText(FileField.WRITTEN_FILE, entry + 40, pathLength);
  const shaLength = <u32>load<u8>(entry, 232);
  if (shaLength > 0) fieldText(FileField.WRITTEN_FILE_SHA256, entry + SHA_AT, shaLength);
}

export function resetFileWrites(): void {
  memory.fill(writes, 0, <usize>MAX_FILE_WRITES * FILE_WRITE_BYTES);
}
