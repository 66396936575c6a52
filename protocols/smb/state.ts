// Per-flow SMB state inside the APP_STATE_BYTES area the core gives each flow
// (protocols/api.ts). Every table has a fixed number of entries. A full
// session, tree, file or pending table evicts its least recently used entry
// and counts the eviction. The pipe slots do not evict (see fileAttachPipe).
//
//   offset  bytes  contents
//   0       64     flow header (below)
//   64      1152   sessions: 8 x 144   (SessionId/UID -> account)
//   1216    2048   trees:    16 x 128  (TreeId/TID -> share, share type)
//   3264    4224   files:    24 x 176  (FileId/FID -> name, pipe state slot)
//   7488    6656   pending:  32 x 208  (MessageId/MID -> request facts)
//   14144   16384  pipes:    4 x 4096  (DCE-RPC pipe states, protocols/dcerpc/pipe.ts)
//   30528   1408   objects:  8 x 176   (file objects being read or written, protocols/file/objects.ts)
//   31936          end (<= APP_STATE_BYTES = 32768)
//
// Flow header:
//   0  u8  resync flags: bit 0 client-to-server, bit 1 server-to-client
//   1  u8  reserved
//   2  u16 SMB2 DialectRevision from the NEGOTIATE response (0 = not seen)
//   4  u32 use counter, stamped on entries for least-recently-used eviction
//   8  u8[4] pipe slot owners: 1 while a file uses the slot
//   16 file-data sink, client to server (24 bytes, below)
//   40 file-data sink, server to client
//
// A file-data sink follows the file data of a READ or WRITE message that is
// longer than the parse window (smb.ts), so those bytes are hashed too:
//   0 u32 message bytes still to come | 4 u32 of which file data |
//   8 u64 file offset of the next data byte | 16 u32 file object address |
//   20 u32 low half of the file object's id (checked before each use)

import { countAnomaly } from "../../wasm-core/assembly/counters";
import { DCERPC_PIPE_STATE_BYTES } from "../dcerpc/pipe";
import { SmbAnomaly } from "./fields";
import { FILE_OBJECT_BYTES } from "../file/objects";
import { transferFinish } from "./transfer";

@inline const HEADER_BYTES: usize = 64;
@inline export const MAX_SESSIONS: u32 = 8;
@inline const SESSION_BYTES: usize = 144;
@inline export const MAX_TREES: u32 = 16;
@inline const TREE_BYTES: usize = 128;
@inline export const MAX_FILES: u32 = 24;
@inline const FILE_BYTES: usize = 176;
@inline export const MAX_PENDING: u32 = 32;
@inline export const PENDING_BYTES: usize = 208;
@inline export const MAX_PIPES: u32 = 4;
// Files read or written at once in one flow; more are counted
// (file.object_table_full) and get no `file` record.
@inline export const MAX_FILE_OBJECTS: u32 = 8;

@inline const SESSIONS_AT: usize = HEADER_BYTES;
@inline const TREES_AT: usize = SESSIONS_AT + <usize>MAX_SESSIONS * SESSION_BYTES;
@inline const FILES_AT: usize = TREES_AT + <usize>MAX_TREES * TREE_BYTES;
@inline const PENDING_AT: usize = FILES_AT + <usize>MAX_FILES * FILE_BYTES;
@inline const PIPES_AT: usize = PENDING_AT + <usize>MAX_PENDING * PENDING_BYTES;
@inline const OBJECTS_AT: usize = PIPES_AT + <usize>MAX_PIPES * <usize>DCERPC_PIPE_STATE_BYTES;
// One past the last byte used; smb.ts checks it against APP_STATE_BYTES.
@inline export const SMB_STATE_END: usize = OBJECTS_AT + <usize>MAX_FILE_OBJECTS * FILE_OBJECT_BYTES;

// Text capacities in bytes of UTF-8.
@inline export const USER_BYTES: u32 = 64;
@inline export const DOMAIN_BYTES: u32 = 64;
@inline export const SHARE_BYTES: u32 = 104;
@inline export const NAME_BYTES: u32 = 128;

// Share types as in the SMB2 TREE_CONNECT response; SMB1 maps its service
// string ("A:", "IPC", "LPT1:") onto them.
@inline export const SHARE_TYPE_UNKNOWN: u8 = 0;
@inline export const SHARE_TYPE_DISK: u8 = 1;
@inline export const SHARE_TYPE_PIPE: u8 = 2;
@inline export const SHARE_TYPE_PRINT: u8 = 3;

// The flow being dissected; set by every entry point in smb.ts.
let flow: usize = 0;
export function setFlow(state: usize): void { flow = state; }
export function currentFlow(): usize { return flow; }

export function resyncFlags(): u8 { return load<u8>(flow); }
export function setResyncFlags(value: u8): void { store<u8>(flow, value); }
export function negotiatedDialect(): u16 { return load<u16>(flow, 2); }
export function setNegotiatedDialect(value: u16): void { store<u16>(flow, value, 2); }

function nextUse(): u32 {
  const use = load<u32>(flow, 4) + 1;
  store<u32>(flow, use, 4);
  return use;
}

// Returns a free entry of a table, else its least recently used entry after
// counting `anomaly`. `usedAt` and `useAt` are the offsets of the in-use byte
// and of the use stamp inside an entry.
function freeOrOldest(base: usize, count: u32, size: usize, usedAt: usize, useAt: usize, anomaly: u16): usize {
  let oldest: usize = 0;
  let oldestUse: u32 = 0xffffffff;
  for (let i: u32 = 0; i < count; i++) {
    const entry = base + <usize>i * size;
    if (load<u8>(entry + usedAt) == 0) return entry;
    const use = load<u32>(entry + useAt);
    if (use < oldestUse) { oldestUse = use; oldest = entry; }
  }
  countAnomaly(anomaly);
  return oldest;
}

// ---------------------------------------------------------------- sessions
//   0 u64 SessionId | 8 u8 used | 9 u8 user length | 10 u8 domain length |
//   12 u32 use | 16 user[64] | 80 domain[64]

export function sessionFind(sessionId: u64): usize {
  const base = flow + SESSIONS_AT;
  for (let i: u32 = 0; i < MAX_SESSIONS; i++) {
    const entry = base + <usize>i * SESSION_BYTES;
    if (load<u8>(entry, 8) != 0 && load<u64>(entry) == sessionId) {
      store<u32>(entry, nextUse(), 12);
      return entry;
    }
  }
  return 0;
}

// Returns the session entry, adding an empty one when it is not there yet.
export function sessionGet(sessionId: u64): usize {
  const found = sessionFind(sessionId);
  if (found != 0) return found;
  const entry = freeOrOldest(flow + SESSIONS_AT, MAX_SESSIONS, SESSION_BYTES, 8, 12, SmbAnomaly.SESSION_TABLE_FULL);
  memory.fill(entry, 0, SESSION_BYTES);
  store<u64>(entry, sessionId);
  store<u8>(entry, 1, 8);
  store<u32>(entry, nextUse(), 12);
  return entry;
}

export function sessionRemove(sessionId: u64): void {
  const entry = sessionFind(sessionId);
  if (entry != 0) store<u8>(entry, 0, 8);
}

export function sessionUser(entry: usize): usize { return entry + 16; }
export function sessionUserLength(entry: usize): u32 { return load<u8>(entry, 9); }
export function sessionDomain(entry: usize): usize { return entry + 80; }
export function sessionDomainLength(entry: usize): u32 { return load<u8>(entry, 10); }

// Stores the account of a session; both texts are UTF-8 and cut to capacity.
export function sessionSetAccount(entry: usize, user: usize, userLength: u32, domain: usize, domainLength: u32): void {
  const u = userLength < USER_BYTES ? userLength : USER_BYTES;
  const d = domainLength < DOMAIN_BYTES ? domainLength : DOMAIN_BYTES;
  memory.copy(entry + 16, user, u);
  memory.copy(entry + 80, domain, d);
  store<u8>(entry, <u8>u, 9);
  store<u8>(entry, <u8>d, 10);
}

// ------------------------------------------------------------------- trees
//   0 u64 SessionId | 8 u32 TreeId | 12 u8 used | 13 u8 share type |
//   14 u8 share length | 16 u32 use | 24 share[104]

export function treeFind(sessionId: u64, treeId: u32): usize {
  const base = flow + TREES_AT;
  for (let i: u32 = 0; i < MAX_TREES; i++) {
    const entry = base + <usize>i * TREE_BYTES;
    if (load<u8>(entry, 12) != 0 && load<u32>(entry, 8) == treeId && load<u64>(entry) == sessionId) {
      store<u32>(entry, nextUse(), 16);
      return entry;
    }
  }
  return 0;
}

export function treePut(sessionId: u64, treeId: u32, shareType: u8, share: usize, shareLength: u32): usize {
  let entry = treeFind(sessionId, treeId);
  if (entry == 0) entry = freeOrOldest(flow + TREES_AT, MAX_TREES, TREE_BYTES, 12, 16, SmbAnomaly.TREE_TABLE_FULL);
  const n = shareLength < SHARE_BYTES ? shareLength : SHARE_BYTES;
  memory.fill(entry, 0, TREE_BYTES);
  store<u64>(entry, sessionId);
  store<u32>(entry, treeId, 8);
  store<u8>(entry, 1, 12);
  store<u8>(entry, shareType, 13);
  store<u8>(entry, <u8>n, 14);
  store<u32>(entry, nextUse(), 16);
  memory.copy(entry + 24, share, n);
  return entry;
}

export function treeRemove(sessionId: u64, treeId: u32): void {
  const entry = treeFind(sessionId, treeId);
  if (entry != 0) store<u8>(entry, 0, 12);
}

export function treeShareType(entry: usize): u8 { return load<u8>(entry, 13); }
export function treeShare(entry: usize): usize { return entry + 24; }
export function treeShareLength(entry: usize): u32 { return load<u8>(entry, 14); }

// ------------------------------------------------------------------- files
//   0 FileId[16] (SMB1: FID in the first 2 bytes) | 16 u64 SessionId |
//   24 u32 TreeId | 28 u8 used | 29 u8 pipe slot + 1 (0 = none) |
//   30 u8 name length | 31 u8 flags | 32 u64 file size | 40 u32 use |
//   44 u8 file object slot + 1 (0 = none) | 48 name[128]

// The file is a named pipe.
@inline export const FILE_FLAG_PIPE: u8 = 1;
// The tree was not seen (a capture that starts midstream), so whether the
// file is a pipe is decided by the first bytes written to it.
@inline export const FILE_FLAG_TREE_UNKNOWN: u8 = 2;
// The first pipe bytes were checked for DCE-RPC (peers.ts feedPipeData).
@inline export const FILE_FLAG_FIRST_DATA_SEEN: u8 = 4;
// The file's data found every file-object slot taken (counted once).
@inline export const FILE_FLAG_NO_OBJECT: u8 = 8;

export function fileFind(fileId: usize): usize {
  const base = flow + FILES_AT;
  for (let i: u32 = 0; i < MAX_FILES; i++) {
    const entry = base + <usize>i * FILE_BYTES;
    if (load<u8>(entry, 28) != 0 && load<u64>(entry) == load<u64>(fileId) && load<u64>(entry, 8) == load<u64>(fileId, 8)) {
      store<u32>(entry, nextUse(), 40);
      return entry;
    }
  }
  return 0;
}

export function filePut(fileId: usize, sessionId: u64, treeId: u32, name: usize, nameLength: u32, flags: u8, fileSize: u64): usize {
  let entry = fileFind(fileId);
  if (entry != 0) {
    fileRemove(entry);
  } else {
    entry = freeOrOldest(flow + FILES_AT, MAX_FILES, FILE_BYTES, 28, 40, SmbAnomaly.FILE_TABLE_FULL);
    if (load<u8>(entry, 28) != 0) fileRemove(entry);
  }
  const n = nameLength < NAME_BYTES ? nameLength : NAME_BYTES;
  memory.fill(entry, 0, FILE_BYTES);
  memory.copy(entry, fileId, 16);
  store<u64>(entry, sessionId, 16);
  store<u32>(entry, treeId, 24);
  store<u8>(entry, 1, 28);
  store<u8>(entry, <u8>n, 30);
  store<u8>(entry, flags, 31);
  store<u64>(entry, fileSize, 32);
  store<u32>(entry, nextUse(), 40);
  memory.copy(entry + 48, name, n);
  if ((flags & FILE_FLAG_PIPE) != 0) fileAttachPipe(entry);
  return entry;
}

// Releases the entry and its pipe state slot.
// Returns the file entry at `index` (below MAX_FILES) when it is in use, else 0.
export function fileAt(index: u32): usize {
  const entry = flow + FILES_AT + <usize>index * FILE_BYTES;
  return load<u8>(entry, 28) != 0 ? entry : 0;
}

export function fileRemove(entry: usize): void {
  transferFinish(entry);
  fileDetachPipe(entry);
  store<u8>(entry, 0, 28);
}

// Gives the file's DCE-RPC pipe state slot back; the file stays a pipe.
export function fileDetachPipe(entry: usize): void {
  const slot = load<u8>(entry, 29);
  if (slot != 0) store<u8>(pipeOwnersAt() + <usize>(slot - 1), 0);
  store<u8>(entry, 0, 29);
}

export function fileSessionId(entry: usize): u64 { return load<u64>(entry, 16); }
export function fileTreeId(entry: usize): u32 { return load<u32>(entry, 24); }
export function fileFlags(entry: usize): u8 { return load<u8>(entry, 31); }
export function fileName(entry: usize): usize { return entry + 48; }
export function fileNameLength(entry: usize): u32 { return load<u8>(entry, 30); }
export function fileSize(entry: usize): u64 { return load<u64>(entry, 32); }
export function fileSetSize(entry: usize, size: u64): void { store<u64>(entry, size, 32); }

// Returns the file object of the file, or 0.
export function fileObjectOf(entry: usize): usize {
  const slot = load<u8>(entry, 44);
  return slot == 0 ? 0 : flow + OBJECTS_AT + <usize>(slot - 1) * FILE_OBJECT_BYTES;
}

// Takes a free file-object slot for the file. Returns its address, or 0 when
// every slot is in use.
export function fileObjectTake(entry: usize): usize {
  for (let i: u32 = 0; i < MAX_FILE_OBJECTS; i++) {
    const object = flow + OBJECTS_AT + <usize>i * FILE_OBJECT_BYTES;
    if (load<u8>(object) == 0) {
      store<u8>(entry, <u8>(i + 1), 44);
      return object;
    }
  }
  return 0;
}

export function fileObjectUnlink(entry: usize): void { store<u8>(entry, 0, 44); }

// Returns the file-data sink of one direction (layout in the header comment).
export function sinkOf(toServer: bool): usize { return flow + (toServer ? 16 : 40); }

// Marks the file as a named pipe (decided late for midstream captures).
export function fileMarkPipe(entry: usize): void {
  store<u8>(entry, (fileFlags(entry) | FILE_FLAG_PIPE) & ~FILE_FLAG_TREE_UNKNOWN, 31);
  fileAttachPipe(entry);
}

export function fileClearTreeUnknown(entry: usize): void {
  store<u8>(entry, fileFlags(entry) & ~FILE_FLAG_TREE_UNKNOWN, 31);
}

export function fileSetFlag(entry: usize, flag: u8): void {
  store<u8>(entry, fileFlags(entry) | flag, 31);
}

// Returns the DCE-RPC pipe state of the file, or 0 when it has none (not a
// pipe, or every pipe slot was taken when it was opened).
export function filePipeState(entry: usize): usize {
  const slot = load<u8>(entry, 29);
  if (slot == 0) return 0;
  return flow + PIPES_AT + <usize>(slot - 1) * <usize>DCERPC_PIPE_STATE_BYTES;
}

// ------------------------------------------------------------------- pipes
// A pipe opened while every slot is taken gets no DCE-RPC state, which is
// counted. The older pipes keep theirs, because taking a slot over would cut
// a DCE-RPC conversation in the middle.

@inline function pipeOwnersAt(): usize { return flow + 8; }

function fileAttachPipe(entry: usize): void {
  if (load<u8>(entry, 29) != 0) return;
  for (let i: u32 = 0; i < MAX_PIPES; i++) {
    const owner = pipeOwnersAt() + <usize>i;
    if (load<u8>(owner) == 0) {
      store<u8>(owner, 1);
      memory.fill(flow + PIPES_AT + <usize>i * <usize>DCERPC_PIPE_STATE_BYTES, 0, <usize>DCERPC_PIPE_STATE_BYTES);
      store<u8>(entry, <u8>(i + 1), 29);
      return;
    }
  }
  countAnomaly(SmbAnomaly.PIPE_TABLE_FULL);
}

// ----------------------------------------------------------------- pending
//   0 u64 MessageId/MID | 8 u64 SessionId/UID | 16 u32 TreeId/TID |
//   20 u16 command | 22 u8 used | 23 u8 SMB version (1 or 2) |
//   24 FileId[16] | 40 u32 ts_sec | 44 u32 ts_nsec | 48 u64 offset |
//   56 u32 length | 60 u32 aux0 | 64 u32 aux1 | 68 u32 aux2 |
//   72 u8 name length | 73 u8 flags | 74 u16 SMB 3.x ChannelSequence |
//   76 u32 use | 80 name[128]
//
// aux0..aux2 hold command facts: CREATE disposition, options and desired
// access; IOCTL control code; QUERY_INFO/SET_INFO info type and class;
// SMB1 transaction subcommand.

@inline export const PENDING_FLAG_FILE_ID: u8 = 1;   // FileId is set
@inline export const PENDING_FLAG_NAME: u8 = 2;      // the name was taken from the request

// Finds the pending request with this message id. SMB1 and SMB2 ids are kept
// apart because one connection may negotiate from SMB1 to SMB2.
export function pendingFind(messageId: u64, version: u8): usize {
  const base = flow + PENDING_AT;
  for (let i: u32 = 0; i < MAX_PENDING; i++) {
    const entry = base + <usize>i * PENDING_BYTES;
    if (load<u8>(entry, 22) != 0 && load<u64>(entry) == messageId && load<u8>(entry, 23) == version) return entry;
  }
  return 0;
}

// Finds the first pending request of a command, whatever its message id.
export function pendingFindCommand(version: u8, command: u16): usize {
  const base = flow + PENDING_AT;
  for (let i: u32 = 0; i < MAX_PENDING; i++) {
    const entry = base + <usize>i * PENDING_BYTES;
    if (load<u8>(entry, 22) != 0 && load<u8>(entry, 23) == version && load<u16>(entry, 20) == command) return entry;
  }
  return 0;
}

// Returns a free entry, or 0 when every entry is in use; the caller then
// reports the oldest one with pendingOldest() and reuses it.
export function pendingFree(): usize {
  const base = flow + PENDING_AT;
  for (let i: u32 = 0; i < MAX_PENDING; i++) {
    const entry = base + <usize>i * PENDING_BYTES;
    if (load<u8>(entry, 22) == 0) return entry;
  }
  return 0;
}

export function pendingOldest(): usize {
  const base = flow + PENDING_AT;
  let oldest: usize = 0;
  let oldestUse: u32 = 0xffffffff;
  for (let i: u32 = 0; i < MAX_PENDING; i++) {
    const entry = base + <usize>i * PENDING_BYTES;
    if (load<u8>(entry, 22) == 0) continue;
    const use = load<u32>(entry, 76);
    if (use < oldestUse) { oldestUse = use; oldest = entry; }
  }
  return oldest;
}

// Returns the entry at `index`, or 0 when it is not in use (for onClose).
export function pendingAt(index: u32): usize {
  const entry = flow + PENDING_AT + <usize>index * PENDING_BYTES;
  return load<u8>(entry, 22) != 0 ? entry : 0;
}

// Fills `entry` as a new pending request stamped with the packet time.
export function pendingInit(entry: usize, messageId: u64, version: u8, command: u16, sessionId: u64, treeId: u32, tsSec: u32, tsNsec: u32): void {
  memory.fill(entry, 0, PENDING_BYTES);
  store<u64>(entry, messageId);
  store<u64>(entry, sessionId, 8);
  store<u32>(entry, treeId, 16);
  store<u16>(entry, command, 20);
  store<u8>(entry, 1, 22);
  store<u8>(entry, version, 23);
  store<u32>(entry, tsSec, 40);
  store<u32>(entry, tsNsec, 44);
  store<u32>(entry, nextUse(), 76);
}

// Clears an entry used as a stand-in for a response without request.
export function pendingClear(entry: usize): void { memory.fill(entry, 0, PENDING_BYTES); }
export function pendingRelease(entry: usize): void { store<u8>(entry, 0, 22); }
export function pendingChannelSequence(entry: usize): u16 { return load<u16>(entry, 74); }
export function pendingSetChannelSequence(entry: usize, value: u16): void { store<u16>(entry, value, 74); }

export function pendingMessageId(entry: usize): u64 { return load<u64>(entry); }
export function pendingSessionId(entry: usize): u64 { return load<u64>(entry, 8); }
export function pendingTreeId(entry: usize): u32 { return load<u32>(entry, 16); }
export function pendingCommand(entry: usize): u16 { return load<u16>(entry, 20); }
export function pendingVersion(entry: usize): u8 { return load<u8>(entry, 23); }
export function pendingFileId(entry: usize): usize { return entry + 24; }
export function pendingTsSec(entry: usize): u32 { return load<u32>(entry, 40); }
export function pendingTsNsec(entry: usize): u32 { return load<u32>(entry, 44); }
export function pendingOffset(entry: usize): u64 { return load<u64>(entry, 48); }
export function pendingLength(entry: usize): u32 { return load<u32>(entry, 56); }
export function pendingAux(entry: usize, index: u32): u32 { return load<u32>(entry + 60 + (<usize>index << 2)); }
export function pendingFlags(entry: usize): u8 { return load<u8>(entry, 73); }
export function pendingName(entry: usize): usize { return entry + 80; }
export function pendingNameLength(entry: usize): u32 { return load<u8>(entry, 72); }

export function pendingSetFileId(entry: usize, fileId: usize): void {
  memory.copy(entry + 24, fileId, 16);
  store<u8>(entry, load<u8>(entry, 73) | PENDING_FLAG_FILE_ID, 73);
}
export function pendingSetOffset(entry: usize, offset: u64): void { store<u64>(entry, offset, 48); }
export function pendingSetLength(entry: usize, length: u32): void { store<u32>(entry, length, 56); }
export function pendingSetAux(entry: usize, index: u32, value: u32): void { store<u32>(entry + 60 + (<usize>index << 2), value); }
export function pendingSetSessionId(entry: usize, sessionId: u64): void { store<u64>(entry, sessionId, 8); }

// Copies UTF-8 text into the pending name, cut to NAME_BYTES.
export function pendingSetName(entry: usize, name: usize, length: u32): void {
  const n = length < NAME_BYTES ? length : NAME_BYTES;
  memory.copy(entry + 80, name, n);
  store<u8>(entry, <u8>n, 72);
  store<u8>(entry, load<u8>(entry, 73) | PENDING_FLAG_NAME, 73);
}
