// File transfers over SMB: READ and WRITE data of files that are not named
// pipes goes to a file object (protocols/file/objects.ts), and a `file`
// record is written when the file is closed, its entry is evicted, or the
// flow ends.
//
// Data past the parse window of a long message (smb.ts) reaches the file
// object through the direction's file-data sink (state.ts), so a 1 MiB
// WRITE is hashed whole while only its first bytes are parsed.

import { RecordType } from "../fields";
import { countAnomaly } from "../../wasm-core/assembly/counters";
import { beginRecord, endRecord, fieldText, fieldU64 } from "../../wasm-core/assembly/events";
import { FileAnomaly, FileField } from "../file/fields";
import {
  DIRECTION_FROM_SERVER, DIRECTION_TO_SERVER, fileObjectCut, fileObjectData, fileObjectDirection, fileObjectId,
  fileObjectCount, fileObjectHasGap, fileObjectRelease, fileObjectStart, fileObjectUsed, fileObjectWriteFields,
} from "../file/objects";
import { fieldAccount } from "./record";
import {
  fileAt, fileFlags, fileName, fileNameLength, fileObjectOf, fileObjectTake, fileObjectUnlink, fileSessionId,
  fileSetFlag, fileSize, fileTreeId, sinkOf, treeFind, treeShare, treeShareLength,
  FILE_FLAG_NO_OBJECT, FILE_FLAG_PIPE, FILE_FLAG_TREE_UNKNOWN, MAX_FILES,
} from "./state";

// Set by transferFeed when the data runs past the bytes the parser had; read
// by smb.ts right after the message, which then arms the sink.
let sinkRequested: bool = false;
let sinkObject: usize = 0;
let sinkFileOffset: u64 = 0;
let sinkDataBeyond: u32 = 0;

// share + "\" + name; smb.ts checks that SHARE_BYTES + 1 + NAME_BYTES fit.
@inline export const PATH_SCRATCH_BYTES: u32 = 256;
const pathScratch = memory.data(<i32>PATH_SCRATCH_BYTES);

export function transferClearRequest(): void { sinkRequested = false; }
export function transferSinkRequested(): bool { return sinkRequested; }

// Feeds READ or WRITE data of `file` at [offset, offset + length) of the
// command at `base`, of which `available` bytes are at hand, to the file's
// object. `fileOffset` is the file offset of the first data byte. Named
// pipes, and files on a tree not seen, carry no file object.
export function transferFeed(file: usize, toServer: bool, fileOffset: u64, base: usize, available: u32, offset: u32, length: u32): void {
  sinkRequested = false;
  // A zero-length WRITE still starts an object: it is how an empty file is
  // written.
  if (file == 0 || (length == 0 && !toServer)) return;
  if ((fileFlags(file) & (FILE_FLAG_PIPE | FILE_FLAG_TREE_UNKNOWN)) != 0) return;
  const object = objectFor(file, toServer);
  if (object == 0) return;
  if (offset > available) {
    fileObjectCut(object);
    return;
  }
  const inWindow = min<u32>(length, available - offset);
  fileObjectData(object, fileOffset, base + <usize>offset, inWindow);
  if (inWindow < length && fileObjectHasGap(object)) {
    // Nothing more can be hashed: count the rest and let the core skip it.
    fileObjectCount(object, fileOffset + <u64>inWindow, length - inWindow);
  } else if (inWindow < length) {
    sinkRequested = true;
    sinkObject = object;
    sinkFileOffset = fileOffset + <u64>inWindow;
    sinkDataBeyond = length - inWindow;
  }
}

// Returns the file object of `file` for data in this direction, starting
// one when the file has none.
function objectFor(file: usize, toServer: bool): usize {
  const direction = toServer ? DIRECTION_TO_SERVER : DIRECTION_FROM_SERVER;
  let object = fileObjectOf(file);
  if (object != 0) {
    if (fileObjectDirection(object) == direction) return object;
    countAnomaly(FileAnomaly.MIXED_DIRECTION);
    return 0;
  }
  object = fileObjectTake(file);
  if (object == 0) {
    if ((fileFlags(file) & FILE_FLAG_NO_OBJECT) == 0) countAnomaly(FileAnomaly.OBJECT_TABLE_FULL);
    fileSetFlag(file, FILE_FLAG_NO_OBJECT);
    return 0;
  }
  fileObjectStart(object, direction, fileName(file), fileNameLength(file));
  return object;
}

// Arms the direction's sink for the requested data: `messageRest` bytes of
// the message follow the parse window, the first of them file data.
export function transferArmSink(toServer: bool, messageRest: u32): void {
  const sink = sinkOf(toServer);
  store<u32>(sink, messageRest);
  store<u32>(sink, min<u32>(sinkDataBeyond, messageRest), 4);
  store<u64>(sink, sinkFileOffset, 8);
  store<u32>(sink, <u32>sinkObject, 16);
  store<u32>(sink, <u32>fileObjectId(sinkObject), 20);
  sinkRequested = false;
}

// Message bytes the sink of this direction still expects.
export function transferSinkRemaining(toServer: bool): u32 { return load<u32>(sinkOf(toServer)); }

// Takes `length` bytes of the message being followed; the file-data part
// goes to the object unless the object was finished meanwhile.
export function transferSinkTake(toServer: bool, data: usize, length: u32): void {
  const sink = sinkOf(toServer);
  store<u32>(sink, load<u32>(sink) - length);
  const dataLeft = load<u32>(sink, 4);
  const n = min<u32>(dataLeft, length);
  if (n == 0) return;
  store<u32>(sink, dataLeft - n, 4);
  const object = <usize>load<u32>(sink, 16);
  if (!fileObjectUsed(object) || <u32>fileObjectId(object) != load<u32>(sink, 20)) return;
  const fileOffset = load<u64>(sink, 8);
  fileObjectData(object, fileOffset, data, n);
  store<u64>(sink, fileOffset + <u64>n, 8);
}

// Drops the sink after lost bytes; its object misses the rest.
export function transferSinkGap(toServer: bool): void {
  const sink = sinkOf(toServer);
  if (load<u32>(sink, 4) != 0) {
    const object = <usize>load<u32>(sink, 16);
    if (fileObjectUsed(object) && <u32>fileObjectId(object) == load<u32>(sink, 20)) fileObjectCut(object);
  }
  memory.fill(sink, 0, 24);
}

// Writes the `file` record of the file's object, if it has one, and frees
// the object.
export function transferFinish(file: usize): void {
  const object = fileObjectOf(file);
  if (object == 0) return;
  fileObjectUnlink(file);
  if (!fileObjectUsed(object)) return;
  if (beginRecord(RecordType.FILE, fileObjectDirection(object) == DIRECTION_FROM_SERVER)) {
    const name = fileName(file);
    const nameLength = fileNameLength(file);
    const sessionId = fileSessionId(file);
    const tree = treeFind(sessionId, fileTreeId(file));
    let pathLength: u32 = 0;
    if (tree != 0) {
      pathLength = treeShareLength(tree);
      memory.copy(pathScratch, treeShare(tree), pathLength);
      fieldText(FileField.SHARE, pathScratch, pathLength);
      if (nameLength > 0 && load<u8>(name) != 0x5c) {
        store<u8>(pathScratch + <usize>pathLength, 0x5c);
        pathLength++;
      }
    }
    memory.copy(pathScratch + <usize>pathLength, name, nameLength);
    pathLength += nameLength;
    if (pathLength > 0) fieldText(FileField.PATH, pathScratch, pathLength);
    if (nameLength > 0) fieldText(FileField.NAME, name, nameLength);
    fieldU64(FileField.SMB_SESSION_ID, sessionId);
    fieldAccount(sessionId);
    fileObjectWriteFields(object, name, nameLength, fileSize(file));
    endRecord();
  }
  fileObjectRelease(object);
}

// Writes the records of every file still open, at the end of the flow.
export function transferFinishAll(): void {
  for (let i: u32 = 0; i < MAX_FILES; i++) {
    const file = fileAt(i);
    if (file != 0) transferFinish(file);
  }
}
