// SMB1 (CIFS) messages: the subset that carries sessions, trees, files and
// named pipe traffic for DCE-RPC.
//
// Specifications: [MS-CIFS] Common Internet File System (CIFS) Protocol and
// [MS-SMB] Server Message Block (SMB) Protocol (its extensions: extended
// security session setup, the NT_CREATE_ANDX extended response), Microsoft
// Open Specifications, online editions read in December 2026. Section numbers
// below refer to [MS-CIFS] unless [MS-SMB] is named.
//
// SMB1 header (2.2.3.1), little-endian:
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +---------------------------------------------------------------+
//   |                  Protocol (0xFF 'S' 'M' 'B')                  |  0
//   +---------------+-----------------------------------------------+
//   |    Command    |       Status (NT status, or DOS class/code)   |  4
//   +---------------+---------------+-------------------------------+
//   |  (Status)     |     Flags     |            Flags2             |  8
//   +---------------+---------------+-------------------------------+
//   |            PIDHigh            |  SecurityFeatures (8 bytes)   | 12
//   +-------------------------------+                               +
//   |                                                               | 16
//   +-------------------------------+-------------------------------+
//   |       (SecurityFeatures)      |           Reserved            | 20
//   +-------------------------------+-------------------------------+
//   |              TID              |            PIDLow             | 24
//   +-------------------------------+-------------------------------+
//   |              UID              |              MID              | 28
//   +---------------+---------------+-------------------------------+
//   |   WordCount   |  Words (2 x WordCount) ... ByteCount, Bytes     32
//   +---------------+
//
// Commands with an AndX block (2.2.3.4) start their words with AndXCommand,
// AndXReserved and AndXOffset, the offset from the header to the next
// command's WordCount.

import { fits } from "../api";
import { RecordType } from "../fields";
import { countAnomaly } from "../../wasm-core/assembly/counters";
import { beginRecord, contextTsNsec, contextTsSec, endRecord, fieldBytes, fieldLiteral, fieldText, fieldU64 } from "../../wasm-core/assembly/events";
import { latin1ToUtf8, textWasCut, utf16leToUtf8 } from "../text";
import { SmbAnomaly, SmbField } from "./fields";
import {
  createActionName, createDispositionName, ntStatusName, ntTransactFunctionName, shareTypeName, smb1CommandName, trans2SubcommandName,
  transSubcommandName,
} from "./tables";
import { fieldAccount, fieldNameOrHex, fieldRtt } from "./record";
import { closePipe, feedPipeData, inspectSecurityBlob } from "./peers";
import { pendingSlot } from "./pending";
import { transferFeed } from "./transfer";
import {
  fileFind, fileFlags, fileName, fileNameLength, filePipeState, filePut, fileRemove, FILE_FLAG_PIPE, NAME_BYTES, pendingAux,
  pendingClear, pendingFileId, pendingFind, pendingFlags, pendingInit, pendingLength, pendingName,
  pendingNameLength, pendingOffset, pendingRelease, pendingSetAux, pendingSetFileId, pendingSetLength, pendingSetName,
  pendingSessionId, pendingSetOffset, PENDING_BYTES, PENDING_FLAG_FILE_ID, sessionDomain, sessionDomainLength, sessionFind, sessionGet,
  sessionRemove, sessionSetAccount, sessionUser, sessionUserLength, SHARE_TYPE_DISK,
  SHARE_TYPE_PIPE, SHARE_TYPE_PRINT, SHARE_TYPE_UNKNOWN, treeFind, treePut, treeRemove, treeShare, treeShareLength,
  treeShareType, DOMAIN_BYTES, USER_BYTES,
} from "./state";

@inline const HEADER_BYTES: u32 = 32;

namespace Command {
  @inline export const CLOSE: u8 = 0x04;
  @inline export const TRANSACTION: u8 = 0x25;
  @inline export const TRANSACTION_SECONDARY: u8 = 0x26;
  @inline export const TRANSACTION2: u8 = 0x32;
  @inline export const TRANSACTION2_SECONDARY: u8 = 0x33;
  @inline export const NT_TRANSACT: u8 = 0xa0;
  @inline export const NT_TRANSACT_SECONDARY: u8 = 0xa1;
  @inline export const READ_ANDX: u8 = 0x2e;
  @inline export const WRITE_ANDX: u8 = 0x2f;
  @inline export const TREE_DISCONNECT: u8 = 0x71;
  @inline export const NEGOTIATE: u8 = 0x72;
  @inline export const SESSION_SETUP_ANDX: u8 = 0x73;
  @inline export const LOGOFF_ANDX: u8 = 0x74;
  @inline export const TREE_CONNECT_ANDX: u8 = 0x75;
  @inline export const NT_CREATE_ANDX: u8 = 0xa2;
  @inline export const NT_CANCEL: u8 = 0xa4;
}

// Flags (2.2.3.1): SMB_FLAGS_REPLY. Flags2: SMB_FLAGS2_NT_STATUS,
// SMB_FLAGS2_UNICODE.
@inline const FLAGS_REPLY: u8 = 0x80;
@inline const FLAGS2_NT_STATUS: u16 = 0x4000;
@inline const FLAGS2_UNICODE: u16 = 0x8000;
@inline const ANDX_NONE: u8 = 0xff;

// Most commands followed in one AndX chain; real chains have two or three.
@inline export const MAX_ANDX_COMMANDS: u32 = 8;

// TransactNmPipe subcommand of SMB_COM_TRANSACTION (2.2.5.6).
@inline const TRANS_TRANSACT_NMPIPE: u32 = 0x0026;
// TRANSACTION2 subcommands that name a file in their parameters (2.2.6),
// and NT_TRANSACT functions (2.2.7).
@inline const TRANS2_OPEN2: u32 = 0x0000;
@inline const TRANS2_FIND_FIRST2: u32 = 0x0001;
@inline const TRANS2_QUERY_PATH_INFORMATION: u32 = 0x0005;
@inline const TRANS2_SET_PATH_INFORMATION: u32 = 0x0006;
@inline const TRANS2_QUERY_FILE_INFORMATION: u32 = 0x0007;
@inline const TRANS2_SET_FILE_INFORMATION: u32 = 0x0008;
@inline const TRANS2_CREATE_DIRECTORY: u32 = 0x000d;
@inline const NT_TRANSACT_CREATE: u32 = 0x0001;
@inline const NT_TRANSACT_IOCTL: u32 = 0x0002;
// Secondary requests followed per transaction; Windows sends a few for
// large pipe writes. More are counted (smb.secondary_limit) and ignored.
@inline export const MAX_SECONDARY_REQUESTS: u32 = 32;

// A transaction's pending entry keeps the subcommand in aux0, the data
// bytes received so far in aux1 and the number of secondary requests in aux2.

// Parsed command context, set per command of a chain.
let unicode: bool = false;
let ntStatus: bool = false;
let status: u32 = 0;
let uid: u64 = 0;
let tid: u32 = 0;
let mid: u64 = 0;

// The last string read by readString: where it starts, its length in bytes
// without the terminator, and the offset after the terminator.
let stringAt: u32 = 0;
let stringLength: u32 = 0;
let stringNext: u32 = 0;

// Stand-in pending entry for a response whose request was not seen.
const orphan = memory.data(<i32>PENDING_BYTES);
const nameScratch = memory.data(<i32>NAME_BYTES);
const userScratch = memory.data(<i32>USER_BYTES);
const domainScratch = memory.data(<i32>DOMAIN_BYTES);
const fileIdScratch = memory.data(16);

// Parses one SMB1 message of `available` bytes at `message` (cut to the
// parse window for large READ_ANDX/WRITE_ANDX messages).
export function smb1ParseMessage(message: usize, available: u32): void {
  if (!fits(available, 0, HEADER_BYTES + 1)) {
    countAnomaly(SmbAnomaly.HEADER_INVALID);
    return;
  }
  let command = load<u8>(message, 4);
  status = load<u32>(message, 5);
  const isResponse = (load<u8>(message, 9) & FLAGS_REPLY) != 0;
  const flags2 = load<u16>(message, 10);
  unicode = (flags2 & FLAGS2_UNICODE) != 0;
  ntStatus = (flags2 & FLAGS2_NT_STATUS) != 0;
  tid = <u32>load<u16>(message, 24);
  uid = <u64>load<u16>(message, 28);
  // The PID keeps the MIDs of different client processes apart.
  mid = (<u64>load<u16>(message, 26) << 16) | <u64>load<u16>(message, 30);

  let block: u32 = HEADER_BYTES;
  for (let count: u32 = 0; ; count++) {
    if (count == MAX_ANDX_COMMANDS) {
      countAnomaly(SmbAnomaly.ANDX_LIMIT);
      return;
    }
    // WordCount, the words, then ByteCount (2.2.3.2, 2.2.3.3).
    if (!fits(available, block, 1)) { countAnomaly(SmbAnomaly.MESSAGE_CUT); return; }
    const wordCount = <u32>load<u8>(message + <usize>block);
    const words = block + 1;
    if (!fits(available, words, wordCount * 2 + 2)) {
      // An error response may end after WordCount 0 without ByteCount.
      if (!(isResponse && wordCount == 0)) countAnomaly(SmbAnomaly.BODY_TRUNCATED);
      if (isResponse) handleResponse(message, available, command, words, 0, words, 0);
      return;
    }
    const bytes = words + wordCount * 2 + 2;
    let byteCount = <u32>load<u16>(message + <usize>(words + wordCount * 2));
    if (!fits(available, bytes, byteCount)) byteCount = available - bytes;
    if (isResponse) {
      handleResponse(message, available, command, words, wordCount, bytes, byteCount);
    } else {
      handleRequest(message, available, command, words, wordCount, bytes, byteCount);
    }
    if (!hasAndX(command) || wordCount < 2) return;
    const next = load<u8>(message + <usize>words);
    if (next == ANDX_NONE) return;
    const nextOffset = <u32>load<u16>(message + <usize>words, 2);
    // 2.2.3.4: the next block lies after this one and inside the message.
    if (nextOffset <= block || !fits(available, nextOffset, 1)) {
      countAnomaly(SmbAnomaly.ANDX_OFFSET_INVALID);
      return;
    }
    block = nextOffset;
    command = next;
  }
}

function hasAndX(command: u8): bool {
  switch (command) {
    case 0x24: case 0x2d: case 0x2e: case 0x2f: case 0x73: case 0x74: case 0x75: case 0xa2: return true;
  }
  return false;
}

// Pending entries key on MID, PID and command, because commands of one AndX
// chain share their MID.
@inline function pendingKey(command: u8): u64 { return mid | (<u64>command << 32); }

// Reads an SMB_STRING (2.2.1.1) at `at`, ending at its terminator or at
// `end`: UTF-16LE aligned to 2 bytes from the header start when the message
// is Unicode, else bytes. Sets stringAt, stringLength and stringNext.
function readString(message: usize, at: u32, end: u32): void {
  if (unicode && (at & 1) != 0) at++;
  stringAt = at;
  stringLength = 0;
  stringNext = end;
  if (at >= end) { stringAt = end; return; }
  if (unicode) {
    let i = at;
    while (i + 2 <= end) {
      if (load<u16>(message + <usize>i) == 0) { stringNext = i + 2; break; }
      i += 2;
    }
    stringLength = i - at;
  } else {
    let i = at;
    while (i < end) {
      if (load<u8>(message + <usize>i) == 0) { stringNext = i + 1; break; }
      i++;
    }
    stringLength = i - at;
  }
}

// Converts the last string read into `dst` as UTF-8; returns its length.
function stringToUtf8(message: usize, dst: usize, capacity: u32): u32 {
  const p = message + <usize>stringAt;
  const n = unicode ? utf16leToUtf8(p, stringLength, dst, capacity) : latin1ToUtf8(p, stringLength, dst, capacity);
  if (textWasCut()) countAnomaly(SmbAnomaly.NAME_TRUNCATED);
  return n;
}

function fidToScratch(fid: u16): usize {
  memory.fill(fileIdScratch, 0, 16);
  store<u16>(fileIdScratch, fid);
  return fileIdScratch;
}

// ---------------------------------------------------------------- requests

function handleRequest(message: usize, available: u32, command: u8, words: u32, wordCount: u32, bytes: u32, byteCount: u32): void {
  if (command == Command.NT_CANCEL) {
    writeCancelRecord();
    return;
  }
  // Secondary requests have no response of their own (2.2.4.34, 2.2.4.47,
  // 2.2.4.63): they continue the primary request's pending entry.
  if (command == Command.TRANSACTION_SECONDARY || command == Command.TRANSACTION2_SECONDARY || command == Command.NT_TRANSACT_SECONDARY) {
    secondaryRequest(message, available, command, message + <usize>words, wordCount);
    return;
  }
  const pending = pendingSlot();
  pendingInit(pending, pendingKey(command), 1, <u16>command, uid, tid, contextTsSec(), contextTsNsec());
  const w = message + <usize>words;
  const bytesEnd = bytes + byteCount;
  switch (command) {
    case Command.SESSION_SETUP_ANDX:
      sessionSetupRequest(message, w, wordCount, bytes, bytesEnd);
      break;
    case Command.TREE_CONNECT_ANDX: {
      // 2.2.4.55.1: PasswordLength at word offset 6; Bytes: Password, Path.
      if (wordCount < 4) break;
      const passwordLength = <u32>load<u16>(w, 6);
      if (passwordLength > byteCount) break;
      readString(message, bytes + passwordLength, bytesEnd);
      pendingSetName(pending, nameScratch, stringToUtf8(message, nameScratch, NAME_BYTES));
      break;
    }
    case Command.NT_CREATE_ANDX: {
      // 2.2.4.64.1: DesiredAccess 15, CreateDisposition 35, CreateOptions 39;
      // Bytes: FileName.
      if (wordCount < 24) break;
      pendingSetAux(pending, 0, load<u32>(w, 35));
      pendingSetAux(pending, 1, load<u32>(w, 39));
      pendingSetAux(pending, 2, load<u32>(w, 15));
      readString(message, bytes, bytesEnd);
      pendingSetName(pending, nameScratch, stringToUtf8(message, nameScratch, NAME_BYTES));
      break;
    }
    case Command.CLOSE:
      // 2.2.4.5.1: FID at 0.
      if (wordCount >= 1) pendingSetFileId(pending, fidToScratch(load<u16>(w)));
      break;
    case Command.READ_ANDX: {
      // 2.2.4.42.1: FID 4, Offset 6, MaxCountOfBytesToReturn 10; OffsetHigh 20
      // when WordCount is 12.
      if (wordCount < 10) break;
      pendingSetFileId(pending, fidToScratch(load<u16>(w, 4)));
      let offset = <u64>load<u32>(w, 6);
      if (wordCount >= 12) offset |= <u64>load<u32>(w, 20) << 32;
      pendingSetOffset(pending, offset);
      pendingSetLength(pending, <u32>load<u16>(w, 10));
      break;
    }
    case Command.WRITE_ANDX:
      writeRequest(message, available, pending, w, wordCount);
      break;
    case Command.TRANSACTION:
      transactionRequest(message, available, pending, w, wordCount, bytes, bytesEnd);
      break;
    case Command.TRANSACTION2:
      transaction2Request(message, available, pending, w, wordCount);
      break;
    case Command.NT_TRANSACT:
      ntTransactRequest(message, available, pending, w, wordCount);
      break;
  }
}

// SMB_COM_NT_CANCEL has no response (2.2.4.65); it is recorded as sent.
function writeCancelRecord(): void {
  if (!beginRecord(RecordType.SMB, false)) return;
  fieldU64(SmbField.VERSION, 1);
  fieldNameOrHex(SmbField.COMMAND, smb1CommandName(Command.NT_CANCEL), Command.NT_CANCEL);
  fieldU64(SmbField.MESSAGE_ID, mid & 0xffff);
  if (uid != 0) fieldU64(SmbField.SESSION_ID, uid);
  if (tid != 0) fieldU64(SmbField.TREE_ID, tid);
  fieldAccount(uid);
  endRecord();
}

// 2.2.4.53.1 and [MS-SMB] 2.2.4.6.1. WordCount 12: extended security, the
// SecurityBlob goes to NTLMSSP. WordCount 13: NT LM 0.12 with plain
// AccountName and PrimaryDomain after the two passwords.
function sessionSetupRequest(message: usize, w: usize, wordCount: u32, bytes: u32, bytesEnd: u32): void {
  if (wordCount == 12) {
    const blobLength = <u32>load<u16>(w, 14);
    if (blobLength <= bytesEnd - bytes) {
      inspectSecurityBlob(message + <usize>bytes, blobLength, false, uid);
    } else {
      countAnomaly(SmbAnomaly.BODY_TRUNCATED);
    }
    return;
  }
  if (wordCount != 13) return;
  const passwordsLength = <u32>load<u16>(w, 14) + <u32>load<u16>(w, 16);
  if (passwordsLength > bytesEnd - bytes) {
    countAnomaly(SmbAnomaly.BODY_TRUNCATED);
    return;
  }
  readString(message, bytes + passwordsLength, bytesEnd);
  const userLength = stringToUtf8(message, userScratch, USER_BYTES);
  readString(message, stringNext, bytesEnd);
  const domainLength = stringToUtf8(message, domainScratch, DOMAIN_BYTES);
  if (userLength > 0) sessionSetAccount(sessionGet(uid), userScratch, userLength, domainScratch, domainLength);
}

// 2.2.4.43.1: FID 4, Offset 6, DataLengthHigh 18, DataLength 20, DataOffset
// 22, OffsetHigh 24 when WordCount is 14. Data written to a pipe goes to
// DCE-RPC.
function writeRequest(message: usize, available: u32, pending: usize, w: usize, wordCount: u32): void {
  if (wordCount < 12) return;
  const fid = load<u16>(w, 4);
  pendingSetFileId(pending, fidToScratch(fid));
  let offset = <u64>load<u32>(w, 6);
  if (wordCount >= 14) offset |= <u64>load<u32>(w, 24) << 32;
  pendingSetOffset(pending, offset);
  const length = (<u32>load<u16>(w, 18) << 16) | <u32>load<u16>(w, 20);
  pendingSetLength(pending, length);
  const file = fileFind(fileIdScratch);
  feedPipeRange(message, available, file, true, <u32>load<u16>(w, 22), length);
  transferFeed(file, true, offset, message, available, <u32>load<u16>(w, 22), length);
}

// 2.2.4.33.1: ParameterCount 18, DataCount 22, DataOffset 24, SetupCount
// 26, Setup 28; TotalDataCount 2. For named pipes Setup[0] is the
// subcommand and Setup[1] the FID (2.2.5). Bytes: Name ("\PIPE\").
function transactionRequest(message: usize, available: u32, pending: usize, w: usize, wordCount: u32, bytes: u32, bytesEnd: u32): void {
  if (wordCount < 14) return;
  const setupCount = <u32>load<u8>(w, 26);
  if (wordCount < 14 + setupCount) return;
  readString(message, bytes, bytesEnd);
  pendingSetName(pending, nameScratch, stringToUtf8(message, nameScratch, NAME_BYTES));
  if (setupCount < 2) return;
  const subcommand = <u32>load<u16>(w, 28);
  pendingSetAux(pending, 0, subcommand);
  const fid = load<u16>(w, 30);
  pendingSetFileId(pending, fidToScratch(fid));
  if (subcommand != TRANS_TRANSACT_NMPIPE) return;
  let file = fileFind(fileIdScratch);
  // A capture that starts after the NT_CREATE_ANDX: the transaction name
  // says the FID is a pipe, though not which one.
  if (file == 0 && isPipeTransactionName(pendingName(pending), pendingNameLength(pending))) {
    file = filePut(fileIdScratch, uid, tid, pendingName(pending), pendingNameLength(pending), FILE_FLAG_PIPE, 0);
  }
  const dataCount = <u32>load<u16>(w, 22);
  // The rest of the data follows in TRANSACTION_SECONDARY requests.
  if (dataCount < <u32>load<u16>(w, 2)) countAnomaly(SmbAnomaly.TRANSACTION_SECONDARY);
  pendingSetAux(pending, 1, dataCount);
  feedPipeRange(message, available, file, true, <u32>load<u16>(w, 24), dataCount);
}

// 2.2.4.46.1: ParameterCount 18, ParameterOffset 20, SetupCount 26, Setup
// 28; Setup[0] is the subcommand. The parameters of the subcommands that
// name a file (2.2.6.1.1, 2.2.6.2.1, 2.2.6.6.1, 2.2.6.7.1, 2.2.6.14.1)
// hold it at a fixed offset; QUERY/SET_FILE_INFORMATION start with a FID.
function transaction2Request(message: usize, available: u32, pending: usize, w: usize, wordCount: u32): void {
  if (wordCount < 15 || load<u8>(w, 26) == 0) return;
  const subcommand = <u32>load<u16>(w, 28);
  pendingSetAux(pending, 0, subcommand);
  const parameterCount = <u32>load<u16>(w, 18);
  const parameterOffset = <u32>load<u16>(w, 20);
  if (!fits(available, parameterOffset, parameterCount)) {
    countAnomaly(SmbAnomaly.BODY_TRUNCATED);
    return;
  }
  const parametersEnd = parameterOffset + parameterCount;
  let nameAt: u32 = 0xffffffff;
  switch (subcommand) {
    case TRANS2_OPEN2: nameAt = 28; break;
    case TRANS2_FIND_FIRST2: nameAt = 12; break;
    case TRANS2_QUERY_PATH_INFORMATION:
    case TRANS2_SET_PATH_INFORMATION: nameAt = 6; break;
    case TRANS2_CREATE_DIRECTORY: nameAt = 4; break;
    case TRANS2_QUERY_FILE_INFORMATION:
    case TRANS2_SET_FILE_INFORMATION:
      if (parameterCount >= 2) pendingSetFileId(pending, fidToScratch(load<u16>(message + <usize>parameterOffset)));
      return;
  }
  if (nameAt == 0xffffffff || parameterCount < nameAt) return;
  readString(message, parameterOffset + nameAt, parametersEnd);
  pendingSetName(pending, nameScratch, stringToUtf8(message, nameScratch, NAME_BYTES));
}

// 2.2.4.62.1: ParameterCount 19, ParameterOffset 23 (u32 each), SetupCount
// 35, Function 36, Setup 38. NT_TRANSACT_CREATE parameters (2.2.7.1.1) hold
// NameLength at 44 and Name at 53, aligned to 2 bytes from the header when
// Unicode; NT_TRANSACT_IOCTL setup words (2.2.7.2.1) hold the FID at 4.
function ntTransactRequest(message: usize, available: u32, pending: usize, w: usize, wordCount: u32): void {
  if (wordCount < 19) return;
  const fn = <u32>load<u16>(w, 36);
  pendingSetAux(pending, 0, fn);
  const setupCount = <u32>load<u8>(w, 35);
  if (fn == NT_TRANSACT_IOCTL && setupCount >= 4 && wordCount >= 19 + setupCount) {
    pendingSetFileId(pending, fidToScratch(load<u16>(w, 38 + 4)));
    return;
  }
  if (fn != NT_TRANSACT_CREATE) return;
  const parameterCount = load<u32>(w, 19);
  const parameterOffset = load<u32>(w, 23);
  if (!fits(available, parameterOffset, parameterCount) || parameterCount < 53) {
    countAnomaly(SmbAnomaly.BODY_TRUNCATED);
    return;
  }
  const parameters = message + <usize>parameterOffset;
  let nameAt = parameterOffset + 53;
  if (unicode && (nameAt & 1) != 0) nameAt++;
  const nameLength = load<u32>(parameters, 44);
  if (!fits(parameterOffset + parameterCount, nameAt, nameLength)) {
    countAnomaly(SmbAnomaly.BODY_TRUNCATED);
    return;
  }
  const p = message + <usize>nameAt;
  const n = unicode ? utf16leToUtf8(p, nameLength, nameScratch, NAME_BYTES) : latin1ToUtf8(p, nameLength, nameScratch, NAME_BYTES);
  if (textWasCut()) countAnomaly(SmbAnomaly.NAME_TRUNCATED);
  pendingSetName(pending, nameScratch, n);
}

// Continues the primary transaction of a secondary request: counts it and,
// for a named pipe transaction, passes its data on to DCE-RPC when its
// DataDisplacement continues the data received so far.
// TRANSACTION_SECONDARY (2.2.4.34.1) and TRANSACTION2_SECONDARY (2.2.4.47.1):
// DataCount 10, DataOffset 12, DataDisplacement 14 (u16 each).
function secondaryRequest(message: usize, available: u32, command: u8, w: usize, wordCount: u32): void {
  const pending = pendingFind(pendingKey(command - 1), 1);
  if (pending == 0) {
    countAnomaly(SmbAnomaly.SECONDARY_OUT_OF_ORDER);
    return;
  }
  const count = pendingAux(pending, 2) + 1;
  if (count > MAX_SECONDARY_REQUESTS) {
    countAnomaly(SmbAnomaly.SECONDARY_LIMIT);
    return;
  }
  pendingSetAux(pending, 2, count);
  if (command != Command.TRANSACTION_SECONDARY || wordCount < 8) return;
  if (pendingAux(pending, 0) != TRANS_TRANSACT_NMPIPE) return;
  const dataCount = <u32>load<u16>(w, 10);
  const displacement = <u32>load<u16>(w, 14);
  const received = pendingAux(pending, 1);
  if (displacement != received) {
    countAnomaly(SmbAnomaly.SECONDARY_OUT_OF_ORDER);
    return;
  }
  pendingSetAux(pending, 1, received + dataCount);
  const file = (pendingFlags(pending) & PENDING_FLAG_FILE_ID) != 0 ? fileFind(pendingFileId(pending)) : 0;
  feedPipeRange(message, available, file, true, <u32>load<u16>(w, 12), dataCount);
}

// True for the name "\PIPE\" of a named pipe transaction (2.2.4.33.1),
// compared without case.
function isPipeTransactionName(name: usize, length: u32): bool {
  if (length != 6) return false;
  return load<u8>(name) == 0x5c && (load<u32>(name, 1) | 0x20202020) == 0x65706970 && load<u8>(name, 5) == 0x5c;
}

function feedPipeRange(message: usize, available: u32, file: usize, toServer: bool, offset: u32, length: u32): void {
  if (file == 0 || length == 0) return;
  if (!fits(available, offset, length)) {
    if (filePipeState(file) != 0) countAnomaly(SmbAnomaly.PIPE_DATA_CUT);
    return;
  }
  feedPipeData(file, toServer, message + <usize>offset, length);
}

// --------------------------------------------------------------- responses

function handleResponse(message: usize, available: u32, command: u8, words: u32, wordCount: u32, bytes: u32, byteCount: u32): void {
  let pending = pendingFind(pendingKey(command), 1);
  const orphaned = pending == 0;
  if (orphaned) {
    countAnomaly(SmbAnomaly.RESPONSE_WITHOUT_REQUEST);
    pending = orphan;
    pendingClear(pending);
  }
  const w = message + <usize>words;
  const bytesEnd = bytes + byteCount;
  const success = status == 0;
  let file: usize = 0;
  if ((pendingFlags(pending) & PENDING_FLAG_FILE_ID) != 0) file = fileFind(pendingFileId(pending));
  let length = pendingLength(pending);
  let createAction: u32 = 0xffffffff;
  let fileSizeValue: u64 = 0;
  let hasFileSize = false;
  let shareType: u8 = SHARE_TYPE_UNKNOWN;

  // Facts read and hand-offs made before the record opens.
  switch (command) {
    case Command.SESSION_SETUP_ANDX:
      // The UID comes with the response, so an account read from a
      // non-extended request (sent with UID 0) moves to it.
      if (!orphaned && uid != 0 && pendingSessionId(pending) != uid) moveAccount(pendingSessionId(pending), uid);
      // [MS-SMB] 2.2.4.6.2: SecurityBlobLength at word offset 6.
      if (wordCount == 4) {
        const blobLength = <u32>load<u16>(w, 6);
        if (blobLength <= byteCount) inspectSecurityBlob(message + <usize>bytes, blobLength, true, uid);
      }
      break;
    case Command.TREE_CONNECT_ANDX:
      // 2.2.4.55.2: Bytes start with Service, an OEM string.
      if (success && wordCount >= 3) {
        shareType = serviceShareType(message, bytes, bytesEnd);
        treePut(uid, tid, shareType, pendingName(pending), pendingNameLength(pending));
      }
      break;
    case Command.NT_CREATE_ANDX:
      // 2.2.4.64.2: FID 5, CreateDisposition (the action taken) 7, EndOfFile
      // 55, ResourceType 63 (1, 2: byte or message mode pipe).
      if (success && wordCount >= 34) {
        const fid = load<u16>(w, 5);
        createAction = load<u32>(w, 7);
        fileSizeValue = load<u64>(w, 55);
        hasFileSize = true;
        const resourceType = load<u16>(w, 63);
        const tree = treeFind(uid, tid);
        const isPipe = resourceType == 1 || resourceType == 2 || (tree != 0 && treeShareType(tree) == SHARE_TYPE_PIPE);
        file = filePut(fidToScratch(fid), uid, tid, pendingName(pending), pendingNameLength(pending), isPipe ? FILE_FLAG_PIPE : 0, fileSizeValue);
        pendingSetFileId(pending, fileIdScratch);
      }
      break;
    case Command.READ_ANDX:
      // 2.2.4.42.2: DataLength 10, DataOffset 12, DataLengthHigh 14.
      if (wordCount >= 12) {
        length = (<u32>load<u16>(w, 14) << 16) | <u32>load<u16>(w, 10);
        feedPipeRange(message, available, file, false, <u32>load<u16>(w, 12), length);
        if (success && !orphaned) transferFeed(file, false, pendingOffset(pending), message, available, <u32>load<u16>(w, 12), length);
      }
      break;
    case Command.WRITE_ANDX:
      // 2.2.4.43.2: Count 4, CountHigh 8.
      if (wordCount >= 6) length = (<u32>load<u16>(w, 8) << 16) | <u32>load<u16>(w, 4);
      break;
    case Command.TRANSACTION:
      // 2.2.4.33.2: DataCount 12, DataOffset 14.
      if (wordCount >= 10 && pendingAux(pending, 0) == TRANS_TRANSACT_NMPIPE) {
        feedPipeRange(message, available, file, false, <u32>load<u16>(w, 14), <u32>load<u16>(w, 12));
      }
      break;
  }

  if (beginRecord(RecordType.SMB, true)) {
    fieldU64(SmbField.VERSION, 1);
    fieldNameOrHex(SmbField.COMMAND, smb1CommandName(command), command);
    // A DOS error (SMB_FLAGS2_NT_STATUS clear) is written as the four Status
    // bytes read as a little-endian u32, in hex.
    fieldNameOrHex(SmbField.STATUS, ntStatus ? ntStatusName(status) : (status == 0 ? "STATUS_SUCCESS" : ""), status);
    fieldU64(SmbField.MESSAGE_ID, mid & 0xffff);
    if (uid != 0) fieldU64(SmbField.SESSION_ID, uid);
    if (tid != 0) fieldU64(SmbField.TREE_ID, tid);
    if (command == Command.TREE_CONNECT_ANDX) {
      if (pendingNameLength(pending) > 0) fieldText(SmbField.SHARE, pendingName(pending), pendingNameLength(pending));
      if (shareType != SHARE_TYPE_UNKNOWN) fieldNameOrHex(SmbField.SHARE_TYPE, shareTypeName(shareType), shareType);
    } else {
      writeShareAndPath(command, pending, file);
    }
    if ((pendingFlags(pending) & PENDING_FLAG_FILE_ID) != 0) fieldBytes(SmbField.FILE_ID, pendingFileId(pending), 2);
    switch (command) {
      case Command.NT_CREATE_ANDX:
        if (!orphaned) {
          fieldNameOrHex(SmbField.CREATE_DISPOSITION, createDispositionName(pendingAux(pending, 0)), pendingAux(pending, 0));
          fieldU64(SmbField.CREATE_OPTIONS, pendingAux(pending, 1));
          fieldU64(SmbField.DESIRED_ACCESS, pendingAux(pending, 2));
        }
        if (createAction != 0xffffffff) fieldNameOrHex(SmbField.CREATE_ACTION, createActionName(createAction), createAction);
        break;
      case Command.READ_ANDX:
      case Command.WRITE_ANDX:
        if (!orphaned) fieldU64(SmbField.OFFSET, pendingOffset(pending));
        fieldU64(SmbField.LENGTH, length);
        break;
      case Command.TRANSACTION:
      case Command.TRANSACTION2:
      case Command.NT_TRANSACT:
        if (!orphaned) writeTransactionFields(command, pending);
        break;
    }
    if (hasFileSize) fieldU64(SmbField.FILE_SIZE, fileSizeValue);
    fieldAccount(uid);
    if (!orphaned) fieldRtt(pending);
    endRecord();
  }

  if (success) {
    if (command == Command.CLOSE && file != 0) {
      closePipe(file);
      fileRemove(file);
    }
    if (command == Command.TREE_DISCONNECT) treeRemove(uid, tid);
    if (command == Command.LOGOFF_ANDX) sessionRemove(uid);
  }
  if (!orphaned) pendingRelease(pending);
}

// subcommand, subcommand_name and secondary_requests of a transaction.
function writeTransactionFields(command: u8, pending: usize): void {
  const subcommand = pendingAux(pending, 0);
  fieldU64(SmbField.SUBCOMMAND, subcommand);
  let name = "";
  if (command == Command.TRANSACTION) name = transSubcommandName(subcommand);
  else if (command == Command.TRANSACTION2) name = trans2SubcommandName(subcommand);
  else name = ntTransactFunctionName(subcommand);
  if (name.length > 0) fieldLiteral(SmbField.SUBCOMMAND_NAME, name);
  const secondaries = pendingAux(pending, 2);
  if (secondaries > 0) fieldU64(SmbField.SECONDARY_REQUESTS, secondaries);
}

function moveAccount(fromSessionId: u64, toSessionId: u64): void {
  const from = sessionFind(fromSessionId);
  if (from == 0 || sessionUserLength(from) == 0) return;
  const to = sessionGet(toSessionId);
  sessionSetAccount(to, sessionUser(from), sessionUserLength(from), sessionDomain(from), sessionDomainLength(from));
  sessionRemove(fromSessionId);
}

// Writes share, path and named_pipe; the TRANSACTION name ("\PIPE\") is the
// path when the FID is not known.
function writeShareAndPath(command: u8, pending: usize, file: usize): void {
  const tree = tid != 0 ? treeFind(uid, tid) : 0;
  if (tree != 0) fieldText(SmbField.SHARE, treeShare(tree), treeShareLength(tree));
  let name: usize = 0;
  let nameLength: u32 = 0;
  if (file != 0 && fileNameLength(file) > 0) {
    name = fileName(file);
    nameLength = fileNameLength(file);
  } else if (pendingNameLength(pending) > 0) {
    name = pendingName(pending);
    nameLength = pendingNameLength(pending);
  }
  if (nameLength == 0) return;
  fieldText(SmbField.PATH, name, nameLength);
  if (file != 0 && (fileFlags(file) & FILE_FLAG_PIPE) != 0) fieldText(SmbField.NAMED_PIPE, name, nameLength);
}

// Maps the Service string of a TREE_CONNECT_ANDX response (2.2.4.55.2:
// "A:" disk, "LPT1:" printer, "IPC" named pipe, "COMM" device) to a share
// type.
function serviceShareType(message: usize, bytes: u32, bytesEnd: u32): u8 {
  if (!fits(bytesEnd, bytes, 2)) return SHARE_TYPE_UNKNOWN;
  const p = message + <usize>bytes;
  const first = load<u8>(p);
  const second = load<u8>(p, 1);
  if (first == 0x41 && second == 0x3a) return SHARE_TYPE_DISK;          // "A:"
  if (first == 0x49 && second == 0x50) return SHARE_TYPE_PIPE;          // "IP"C
  if (first == 0x4c && second == 0x50) return SHARE_TYPE_PRINT;         // "LP"T1:
  return SHARE_TYPE_UNKNOWN;
}
