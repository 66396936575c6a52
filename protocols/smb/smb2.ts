// SMB2 and SMB3 messages: header, compound chains, and the commands that
// matter for lateral movement (sessions, trees, files, pipes).
//
// Specification: [MS-SMB2] Server Message Block (SMB) Protocol Versions 2 and
// 3, Microsoft Open Specifications (online edition read in December 2026);
// section numbers below refer to it.
//
// SMB2 header, sync form (2.2.1.2); the async form (2.2.1.1) puts an 8-byte
// AsyncId where Reserved and TreeId are. All integers little-endian.
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +---------------------------------------------------------------+
//   |                 ProtocolId (0xFE 'S' 'M' 'B')                 |  0
//   +-------------------------------+-------------------------------+
//   |      StructureSize (64)       |         CreditCharge          |  4
//   +-------------------------------+-------------------------------+
//   |       Status (responses) / ChannelSequence, Reserved          |  8
//   +-------------------------------+-------------------------------+
//   |            Command            |  CreditRequest/CreditResponse | 12
//   +-------------------------------+-------------------------------+
//   |                             Flags                             | 16
//   +---------------------------------------------------------------+
//   |                          NextCommand                          | 20
//   +---------------------------------------------------------------+
//   |                       MessageId (8 bytes)                     | 24
//   +---------------------------------------------------------------+
//   |          Reserved (sync) / AsyncId low half (async)           | 32
//   +---------------------------------------------------------------+
//   |            TreeId (sync) / AsyncId high half (async)          | 36
//   +---------------------------------------------------------------+
//   |                       SessionId (8 bytes)                     | 40
//   +---------------------------------------------------------------+
//   |                       Signature (16 bytes)                    | 48
//   +---------------------------------------------------------------+

import { fits } from "../api";
import { RecordType } from "../fields";
import { countAnomaly } from "../../wasm-core/assembly/counters";
import { beginRecord, contextTsNsec, contextTsSec, endRecord, fieldBytes, fieldText, fieldU64 } from "../../wasm-core/assembly/events";
import { textWasCut, utf16leToUtf8 } from "../text";
import { SmbAnomaly, SmbField } from "./fields";
import { createActionName, createDispositionName, ctlCodeName, shareTypeName, smb2CommandName, smb2DialectName } from "./tables";
import { fieldAccount, fieldNameOrHex, fieldRtt, fieldStatus } from "./record";
import { closePipe, feedPipeData, inspectSecurityBlob } from "./peers";
import { pendingSlot, smb2Version } from "./pending";
import { transferFeed } from "./transfer";
import {
  fileFind, fileFlags, fileName, fileNameLength, filePipeState, filePut, fileRemove,
  FILE_FLAG_PIPE, FILE_FLAG_TREE_UNKNOWN, NAME_BYTES, pendingAux, pendingClear, pendingCommand, pendingFileId,
  pendingFind, pendingFindCommand, pendingFlags, pendingInit, pendingLength, pendingName, pendingNameLength,
  pendingOffset, pendingRelease, pendingSessionId, pendingSetAux, pendingSetFileId, pendingSetLength, pendingSetName,
  pendingSetOffset, pendingTreeId, pendingVersion, PENDING_BYTES, fileSetSize, pendingChannelSequence, pendingSetChannelSequence, PENDING_FLAG_FILE_ID, PENDING_FLAG_NAME, sessionRemove,
  setNegotiatedDialect, SHARE_TYPE_PIPE, treeFind, treePut, treeRemove, treeShare, treeShareLength, treeShareType,
} from "./state";

@inline export const SMB2_HEADER_BYTES: u32 = 64;
@inline export const SMB2_PROTOCOL_ID: u32 = 0x424d53fe;

// Commands (2.2.1.2).
namespace Command {
  @inline export const NEGOTIATE: u16 = 0x00;
  @inline export const SESSION_SETUP: u16 = 0x01;
  @inline export const LOGOFF: u16 = 0x02;
  @inline export const TREE_CONNECT: u16 = 0x03;
  @inline export const TREE_DISCONNECT: u16 = 0x04;
  @inline export const CREATE: u16 = 0x05;
  @inline export const CLOSE: u16 = 0x06;
  @inline export const FLUSH: u16 = 0x07;
  @inline export const READ: u16 = 0x08;
  @inline export const WRITE: u16 = 0x09;
  @inline export const LOCK: u16 = 0x0a;
  @inline export const IOCTL: u16 = 0x0b;
  @inline export const CANCEL: u16 = 0x0c;
  @inline export const QUERY_DIRECTORY: u16 = 0x0e;
  @inline export const CHANGE_NOTIFY: u16 = 0x0f;
  @inline export const QUERY_INFO: u16 = 0x10;
  @inline export const SET_INFO: u16 = 0x11;
  @inline export const OPLOCK_BREAK: u16 = 0x12;
}

// Header flags (2.2.1.2).
@inline const FLAGS_SERVER_TO_REDIR: u32 = 0x00000001;
@inline const FLAGS_ASYNC_COMMAND: u32 = 0x00000002;
@inline const FLAGS_RELATED_OPERATIONS: u32 = 0x00000004;

@inline const STATUS_PENDING: u32 = 0x00000103;
// Severity bits of an error status. An error response carries the 9-byte
// SMB2 ERROR body (2.2.2) in place of the command's own. Warnings such as
// STATUS_BUFFER_OVERFLOW on a pipe READ keep the command body.
@inline const STATUS_SEVERITY_ERROR: u32 = 0xc0000000;

// CLOSE Flags: SMB2_CLOSE_FLAG_POSTQUERY_ATTRIB (2.2.15).
@inline const CLOSE_FLAG_POSTQUERY_ATTRIB: u16 = 0x0001;
@inline const FSCTL_PIPE_TRANSCEIVE: u32 = 0x0011c017;
// SMB_COM_NEGOTIATE ([MS-CIFS] 2.2.2.1).
@inline const SMB1_COM_NEGOTIATE: u16 = 0x72;

// Most commands followed in one compound chain. MS-SMB2 sets no limit, and
// the chains in the test captures have three commands.
@inline export const MAX_COMPOUND_COMMANDS: u32 = 32;

// FileId of a related operation that refers to the previous command's file
// (3.2.4.1.4): all 16 bytes 0xFF.
const chainFileId = memory.data(16);
let chainHasFileId: bool = false;
const chainName = memory.data(<i32>NAME_BYTES);
let chainNameLength: u32 = 0;
let chainStarted: bool = false;
let chainSessionId: u64 = 0;
let chainTreeId: u32 = 0;

// Stand-in pending entry for a response whose request was not seen.
const orphan = memory.data(<i32>PENDING_BYTES);
// UTF-8 conversion area for names from requests.
const nameScratch = memory.data(<i32>NAME_BYTES);

// Parses one SMB2 message: `available` bytes at `message`, of `messageLength`
// bytes on the wire (larger when the caller kept only the first part of a
// big READ or WRITE).
export function smb2ParseMessage(message: usize, available: u32, messageLength: u32): void {
  chainHasFileId = false;
  chainNameLength = 0;
  chainStarted = false;
  chainSessionId = 0;
  chainTreeId = 0;
  let at: u32 = 0;
  for (let count: u32 = 0; ; count++) {
    if (count == MAX_COMPOUND_COMMANDS) {
      countAnomaly(SmbAnomaly.COMPOUND_LIMIT);
      return;
    }
    if (!fits(available, at, SMB2_HEADER_BYTES)) {
      countAnomaly(at == 0 ? SmbAnomaly.HEADER_INVALID : SmbAnomaly.MESSAGE_CUT);
      return;
    }
    const header = message + <usize>at;
    if (load<u32>(header) != SMB2_PROTOCOL_ID || load<u16>(header, 4) != <u16>SMB2_HEADER_BYTES) {
      countAnomaly(SmbAnomaly.HEADER_INVALID);
      return;
    }
    const nextCommand = load<u32>(header, 20);
    // 2.2.1.2: NextCommand is the offset from this header to the next one,
    // 8-byte aligned; it must leave room for a header inside the message.
    const nextValid = nextCommand != 0 && (nextCommand & 7) == 0 && nextCommand >= SMB2_HEADER_BYTES &&
      fits(messageLength - at, nextCommand, SMB2_HEADER_BYTES);
    if (nextCommand != 0 && !nextValid) countAnomaly(SmbAnomaly.COMPOUND_OFFSET_INVALID);
    // The command's bytes end at the next command, else at the message end.
    let end = available - at;
    if (nextValid && nextCommand < end) end = nextCommand;
    if ((load<u32>(header, 16) & FLAGS_SERVER_TO_REDIR) != 0) {
      parseResponse(header, end);
    } else {
      parseRequest(header, end);
    }
    if (!nextValid) return;
    at += nextCommand;
  }
}

// ---------------------------------------------------------------- requests

function parseRequest(header: usize, end: u32): void {
  const command = load<u16>(header, 12);
  const flags = load<u32>(header, 16);
  const messageId = load<u64>(header, 24);
  let sessionId = load<u64>(header, 40);
  let treeId = (flags & FLAGS_ASYNC_COMMAND) != 0 ? 0 : load<u32>(header, 36);
  const related = (flags & FLAGS_RELATED_OPERATIONS) != 0;
  // 3.3.5.2.7.2: a related operation uses the SessionId and TreeId of the
  // previous operation in the chain, whatever values its own header carries.
  if (related && chainStarted) {
    sessionId = chainSessionId;
    treeId = chainTreeId;
  }
  chainStarted = true;
  chainSessionId = sessionId;
  chainTreeId = treeId;

  if (command == Command.CANCEL) {
    // CANCEL has no response (3.2.4.24); record it as sent.
    writeRequestOnlyRecord(header, command, sessionId, treeId);
    return;
  }
  if (smb2CommandName(command).length == 0) countAnomaly(SmbAnomaly.UNKNOWN_COMMAND);

  const pending = pendingSlot();
  pendingInit(pending, messageId, 2, command, sessionId, treeId, contextTsSec(), contextTsNsec());
  // 2.2.1.2: in the 3.x dialects a request's Status field contains
  // ChannelSequence (2 bytes) and Reserved.
  pendingSetChannelSequence(pending, load<u16>(header, 8));
  const body = SMB2_HEADER_BYTES;
  const fixed = header + body;

  switch (command) {
    case Command.SESSION_SETUP: {
      // 2.2.5: SecurityBufferOffset at 12, SecurityBufferLength at 14.
      if (!fits(end, body, 16)) break;
      const blobOffset = <u32>load<u16>(fixed, 12);
      const blobLength = <u32>load<u16>(fixed, 14);
      if (fits(end, blobOffset, blobLength)) {
        inspectSecurityBlob(header + blobOffset, blobLength, false, sessionId);
      } else {
        countAnomaly(SmbAnomaly.BODY_TRUNCATED);
      }
      break;
    }
    case Command.TREE_CONNECT: {
      // 2.2.9: PathOffset at 4, PathLength at 6, UTF-16LE.
      if (!fits(end, body, 8)) break;
      copyRequestName(pending, header, end, <u32>load<u16>(fixed, 4), <u32>load<u16>(fixed, 6));
      break;
    }
    case Command.CREATE: {
      // 2.2.13: DesiredAccess 24, CreateDisposition 36, CreateOptions 40,
      // NameOffset 44, NameLength 46.
      if (!fits(end, body, 56)) { countAnomaly(SmbAnomaly.BODY_TRUNCATED); break; }
      pendingSetAux(pending, 0, load<u32>(fixed, 36));
      pendingSetAux(pending, 1, load<u32>(fixed, 40));
      pendingSetAux(pending, 2, load<u32>(fixed, 24));
      copyRequestName(pending, header, end, <u32>load<u16>(fixed, 44), <u32>load<u16>(fixed, 46));
      chainHasFileId = false;
      chainNameLength = pendingNameLength(pending);
      memory.copy(chainName, pendingName(pending), chainNameLength);
      break;
    }
    case Command.CLOSE:
    case Command.FLUSH:
    case Command.CHANGE_NOTIFY:
    case Command.OPLOCK_BREAK:
      // FileId at 8 (2.2.15, 2.2.17, 2.2.35, 2.2.24).
      requestFileId(pending, header, end, 8, related);
      break;
    case Command.LOCK:
      // 2.2.26: FileId at 8.
      requestFileId(pending, header, end, 8, related);
      break;
    case Command.QUERY_DIRECTORY: {
      // 2.2.33: FileInformationClass at 2, FileId at 8.
      if (fits(end, body, 4)) pendingSetAux(pending, 1, load<u8>(fixed, 2));
      requestFileId(pending, header, end, 8, related);
      break;
    }
    case Command.QUERY_INFO: {
      // 2.2.37: InfoType at 2, FileInfoClass at 3, FileId at 24.
      if (fits(end, body, 4)) {
        pendingSetAux(pending, 0, load<u8>(fixed, 2));
        pendingSetAux(pending, 1, load<u8>(fixed, 3));
      }
      requestFileId(pending, header, end, 24, related);
      break;
    }
    case Command.SET_INFO: {
      // 2.2.39: InfoType at 2, FileInfoClass at 3, FileId at 16.
      if (fits(end, body, 4)) {
        pendingSetAux(pending, 0, load<u8>(fixed, 2));
        pendingSetAux(pending, 1, load<u8>(fixed, 3));
      }
      requestFileId(pending, header, end, 16, related);
      break;
    }
    case Command.READ: {
      // 2.2.19: Length at 4, Offset at 8, FileId at 16.
      if (!fits(end, body, 32)) { countAnomaly(SmbAnomaly.BODY_TRUNCATED); break; }
      pendingSetLength(pending, load<u32>(fixed, 4));
      pendingSetOffset(pending, load<u64>(fixed, 8));
      requestFileId(pending, header, end, 16, related);
      break;
    }
    case Command.WRITE:
      parseWriteRequest(pending, header, end, related);
      break;
    case Command.IOCTL:
      parseIoctlRequest(pending, header, end, related);
      break;
  }
}

// Converts a UTF-16LE name of the request into the pending entry.
function copyRequestName(pending: usize, header: usize, end: u32, offset: u32, length: u32): void {
  if (length == 0) return;
  if (!fits(end, offset, length)) {
    countAnomaly(SmbAnomaly.BODY_TRUNCATED);
    return;
  }
  const n = utf16leToUtf8(header + offset, length, nameScratch, NAME_BYTES);
  if (textWasCut()) countAnomaly(SmbAnomaly.NAME_TRUNCATED);
  pendingSetName(pending, nameScratch, n);
}

// Reads the FileId at `at` of the body into the pending entry. A related
// operation's all-ones FileId refers to the previous command's file: its id
// when known, else (after a CREATE in the same chain) its name.
function requestFileId(pending: usize, header: usize, end: u32, at: u32, related: bool): usize {
  if (!fits(end, SMB2_HEADER_BYTES + at, 16)) {
    countAnomaly(SmbAnomaly.BODY_TRUNCATED);
    return 0;
  }
  const fileId = header + SMB2_HEADER_BYTES + at;
  if (related && load<u64>(fileId) == 0xffffffffffffffff && load<u64>(fileId, 8) == 0xffffffffffffffff) {
    if (chainHasFileId) {
      pendingSetFileId(pending, chainFileId);
    } else if (chainNameLength > 0) {
      pendingSetName(pending, chainName, chainNameLength);
    }
  } else {
    pendingSetFileId(pending, fileId);
    memory.copy(chainFileId, fileId, 16);
    chainHasFileId = true;
  }
  if ((pendingFlags(pending) & PENDING_FLAG_FILE_ID) == 0) return 0;
  return fileFind(pendingFileId(pending));
}

// 2.2.21: DataOffset at 2, Length at 4, Offset at 8, FileId at 16. Data
// written to a pipe goes to DCE-RPC.
function parseWriteRequest(pending: usize, header: usize, end: u32, related: bool): void {
  if (!fits(end, SMB2_HEADER_BYTES, 32)) { countAnomaly(SmbAnomaly.BODY_TRUNCATED); return; }
  const fixed = header + SMB2_HEADER_BYTES;
  const dataOffset = <u32>load<u16>(fixed, 2);
  const length = load<u32>(fixed, 4);
  pendingSetLength(pending, length);
  pendingSetOffset(pending, load<u64>(fixed, 8));
  const file = requestFileId(pending, header, end, 16, related);
  if (file == 0) return;
  feedPipeRange(file, true, header, end, dataOffset, length);
  transferFeed(file, true, load<u64>(fixed, 8), header, end, dataOffset, length);
}

// 2.2.31: CtlCode at 4, FileId at 8, InputOffset at 24, InputCount at 28.
function parseIoctlRequest(pending: usize, header: usize, end: u32, related: bool): void {
  if (!fits(end, SMB2_HEADER_BYTES, 32)) { countAnomaly(SmbAnomaly.BODY_TRUNCATED); return; }
  const fixed = header + SMB2_HEADER_BYTES;
  const ctlCode = load<u32>(fixed, 4);
  pendingSetAux(pending, 0, ctlCode);
  const file = requestFileId(pending, header, end, 8, related);
  if (file == 0 || ctlCode != FSCTL_PIPE_TRANSCEIVE) return;
  feedPipeRange(file, true, header, end, load<u32>(fixed, 24), load<u32>(fixed, 28));
}

// Passes pipe data at [offset, offset + length) of the command to DCE-RPC
// (peers.ts feedPipeData decides whether the file carries it).
function feedPipeRange(file: usize, toServer: bool, header: usize, end: u32, offset: u32, length: u32): void {
  if (length == 0) return;
  if (!fits(end, offset, length)) {
    if (filePipeState(file) != 0) countAnomaly(SmbAnomaly.PIPE_DATA_CUT);
    return;
  }
  feedPipeData(file, toServer, header + offset, length);
}

// --------------------------------------------------------------- responses

// Facts of the response being parsed, gathered before its record opens
// because NTLMSSP and DCE-RPC write records of their own.
let responseFile: usize = 0;
let responseLength: u32 = 0;
let responseFileSize: u64 = 0;
let responseHasFileSize: bool = false;
let responseCreateAction: u32 = 0;
let responseHasCreateAction: bool = false;
let responseShareType: u8 = 0;
let responseDialect: u16 = 0;

function parseResponse(header: usize, end: u32): void {
  const command = load<u16>(header, 12);
  const status = load<u32>(header, 8);
  const flags = load<u32>(header, 16);
  const messageId = load<u64>(header, 24);
  // 3.3.4.2: an interim response; the final one follows with the same id.
  if (status == STATUS_PENDING && (flags & FLAGS_ASYNC_COMMAND) != 0) return;

  let pending = pendingFind(messageId, 2);
  // A client may offer SMB2 in an SMB1 NEGOTIATE, and the server then
  // responds with an SMB2 NEGOTIATE response (multi-protocol negotiate, 4.1).
  if (pending == 0 && command == Command.NEGOTIATE) pending = pendingFindCommand(1, SMB1_COM_NEGOTIATE);
  const orphaned = pending == 0 || (pendingCommand(pending) != command && pendingVersion(pending) == 2);
  if (orphaned) {
    // A capture that starts midstream, or an OPLOCK_BREAK notification
    // (MessageId all ones, 2.2.23.1), which has no request.
    if (!(command == Command.OPLOCK_BREAK && messageId == 0xffffffffffffffff)) countAnomaly(SmbAnomaly.RESPONSE_WITHOUT_REQUEST);
    pending = orphan;
    pendingClear(pending);
  }
  const sessionId = orphaned || pendingSessionId(pending) == 0 ? load<u64>(header, 40) : pendingSessionId(pending);
  const headerTreeId = (flags & FLAGS_ASYNC_COMMAND) != 0 ? 0 : load<u32>(header, 36);
  const treeId = headerTreeId != 0 ? headerTreeId : pendingTreeId(pending);

  responseFile = 0;
  if ((pendingFlags(pending) & PENDING_FLAG_FILE_ID) != 0) responseFile = fileFind(pendingFileId(pending));
  else if (chainHasFileId && (flags & FLAGS_RELATED_OPERATIONS) != 0) responseFile = fileFind(chainFileId);
  readResponseFacts(header, end, command, status, sessionId, treeId, pending, orphaned);

  if (beginRecord(RecordType.SMB, true)) {
    writeCommonFields(command, status, messageId, sessionId, treeId, pending, responseFile);
    fieldU64(SmbField.CREDIT_CHARGE, load<u16>(header, 6));
    if (!orphaned && smb2Version() == 3) fieldU64(SmbField.CHANNEL_SEQUENCE, pendingChannelSequence(pending));
    writeCommandFields(command, pending, orphaned);
    if (!orphaned) fieldRtt(pending);
    endRecord();
  }

  // State changes that the record above still needed the old state for.
  if (status == 0) {
    if (command == Command.CLOSE && responseFile != 0) {
      if (responseHasFileSize) fileSetSize(responseFile, responseFileSize);
      closePipe(responseFile);
      fileRemove(responseFile);
    }
    if (command == Command.TREE_DISCONNECT) treeRemove(sessionId, treeId);
    if (command == Command.LOGOFF) sessionRemove(sessionId);
  }
  if (!orphaned) pendingRelease(pending);
}

// Reads the command body of a response into the response facts, updates
// sessions, trees and files, and hands security blobs and pipe data on.
function readResponseFacts(header: usize, end: u32, command: u16, status: u32, sessionId: u64, treeId: u32, pending: usize, orphaned: bool): void {
  responseLength = pendingLength(pending);
  responseHasFileSize = false;
  responseHasCreateAction = false;
  responseShareType = 0;
  responseDialect = 0;
  // Errors carry the ERROR body instead of the command's; SESSION_SETUP's
  // STATUS_MORE_PROCESSING_REQUIRED still has its own.
  const hasBody = (status & STATUS_SEVERITY_ERROR) != STATUS_SEVERITY_ERROR || command == Command.SESSION_SETUP;
  if (!hasBody) return;
  const fixed = header + SMB2_HEADER_BYTES;
  const body = SMB2_HEADER_BYTES;

  switch (command) {
    case Command.NEGOTIATE:
      // 2.2.4: DialectRevision at 4.
      if (fits(end, body, 8)) {
        responseDialect = load<u16>(fixed, 4);
        setNegotiatedDialect(responseDialect);
      }
      break;
    case Command.SESSION_SETUP: {
      // 2.2.6: StructureSize 9, SecurityBufferOffset at 4, SecurityBufferLength at 6.
      if (!fits(end, body, 8) || load<u16>(fixed) != 9) break;
      const blobOffset = <u32>load<u16>(fixed, 4);
      const blobLength = <u32>load<u16>(fixed, 6);
      if (fits(end, blobOffset, blobLength)) inspectSecurityBlob(header + blobOffset, blobLength, true, sessionId);
      break;
    }
    case Command.TREE_CONNECT:
      // 2.2.10: ShareType at 2, and the TreeId is in the header.
      if (fits(end, body, 4)) {
        responseShareType = load<u8>(fixed, 2);
        treePut(sessionId, load<u32>(header, 36), responseShareType, pendingName(pending), pendingNameLength(pending));
      }
      break;
    case Command.CREATE:
      // 2.2.14: CreateAction 4, EndofFile 48, FileId 64.
      if (fits(end, body, 88)) {
        responseCreateAction = load<u32>(fixed, 4);
        responseHasCreateAction = true;
        responseFileSize = load<u64>(fixed, 48);
        responseHasFileSize = true;
        responseFile = learnFile(fixed + 64, sessionId, treeId, pending, responseFileSize);
        pendingSetFileId(pending, fixed + 64);
        memory.copy(chainFileId, fixed + 64, 16);
        chainHasFileId = true;
      }
      break;
    case Command.CLOSE:
      // 2.2.16: Flags at 2, EndofFile at 48 when POSTQUERY_ATTRIB is set.
      if (fits(end, body, 56) && (load<u16>(fixed, 2) & CLOSE_FLAG_POSTQUERY_ATTRIB) != 0) {
        responseFileSize = load<u64>(fixed, 48);
        responseHasFileSize = true;
      }
      break;
    case Command.READ:
      // 2.2.20: DataOffset (1 byte) at 2, DataLength at 4.
      if (fits(end, body, 8)) {
        responseLength = load<u32>(fixed, 4);
        if (responseFile != 0) feedPipeRange(responseFile, false, header, end, <u32>load<u8>(fixed, 2), responseLength);
        if (responseFile != 0 && !orphaned) transferFeed(responseFile, false, pendingOffset(pending), header, end, <u32>load<u8>(fixed, 2), responseLength);
      }
      break;
    case Command.WRITE:
      // 2.2.22: Count at 4.
      if (fits(end, body, 8)) responseLength = load<u32>(fixed, 4);
      break;
    case Command.IOCTL:
      // 2.2.32: CtlCode 4, FileId 8, OutputOffset 32, OutputCount 36.
      if (!fits(end, body, 40)) break;
      if (orphaned) {
        pendingSetAux(pending, 0, load<u32>(fixed, 4));
        responseFile = fileFind(fixed + 8);
      }
      if (responseFile != 0 && load<u32>(fixed, 4) == FSCTL_PIPE_TRANSCEIVE) {
        feedPipeRange(responseFile, false, header, end, load<u32>(fixed, 32), load<u32>(fixed, 36));
      }
      break;
  }
}

// Adds the file of a successful CREATE response. Whether it is a pipe
// follows from its tree (IPC$, share type PIPE). On a tree that was not seen
// the first bytes written decide.
function learnFile(fileId: usize, sessionId: u64, treeId: u32, pending: usize, size: u64): usize {
  const tree = treeFind(sessionId, treeId);
  let flags: u8 = 0;
  if (tree == 0) flags = FILE_FLAG_TREE_UNKNOWN;
  else if (treeShareType(tree) == SHARE_TYPE_PIPE) flags = FILE_FLAG_PIPE;
  return filePut(fileId, sessionId, treeId, pendingName(pending), pendingNameLength(pending), flags, size);
}

// Writes version, command, status, the ids, share, path and named_pipe,
// file_id and the account.
function writeCommonFields(command: u16, status: u32, messageId: u64, sessionId: u64, treeId: u32, pending: usize, file: usize): void {
  fieldU64(SmbField.VERSION, smb2Version());
  fieldNameOrHex(SmbField.COMMAND, smb2CommandName(command), command);
  fieldStatus(status);
  fieldU64(SmbField.MESSAGE_ID, messageId);
  if (sessionId != 0) fieldU64(SmbField.SESSION_ID, sessionId);
  if (treeId != 0) fieldU64(SmbField.TREE_ID, treeId);

  // TREE_CONNECT names its share from the request path in writeCommandFields.
  if (command != Command.TREE_CONNECT) {
    const tree = treeId != 0 ? treeFind(sessionId, treeId) : 0;
    if (tree != 0) fieldText(SmbField.SHARE, treeShare(tree), treeShareLength(tree));
    let name: usize = 0;
    let nameLength: u32 = 0;
    if ((pendingFlags(pending) & PENDING_FLAG_NAME) != 0 && pendingNameLength(pending) > 0) {
      name = pendingName(pending);
      nameLength = pendingNameLength(pending);
    } else if (file != 0) {
      name = fileName(file);
      nameLength = fileNameLength(file);
    }
    if (nameLength > 0) {
      fieldText(SmbField.PATH, name, nameLength);
      if (file != 0 && (fileFlags(file) & FILE_FLAG_PIPE) != 0) fieldText(SmbField.NAMED_PIPE, name, nameLength);
    }
  }

  if ((pendingFlags(pending) & PENDING_FLAG_FILE_ID) != 0) fieldBytes(SmbField.FILE_ID, pendingFileId(pending), 16);
  else if (file != 0) fieldBytes(SmbField.FILE_ID, file, 16);
  fieldAccount(sessionId);
}

// Writes the fields of one command from the request (pending) and the
// response facts.
function writeCommandFields(command: u16, pending: usize, orphaned: bool): void {
  switch (command) {
    case Command.NEGOTIATE:
      if (responseDialect != 0) fieldNameOrHex(SmbField.DIALECT, smb2DialectName(responseDialect), responseDialect);
      break;
    case Command.TREE_CONNECT:
      if (pendingNameLength(pending) > 0) fieldText(SmbField.SHARE, pendingName(pending), pendingNameLength(pending));
      if (responseShareType != 0) fieldNameOrHex(SmbField.SHARE_TYPE, shareTypeName(responseShareType), responseShareType);
      break;
    case Command.CREATE:
      if (!orphaned) {
        fieldNameOrHex(SmbField.CREATE_DISPOSITION, createDispositionName(pendingAux(pending, 0)), pendingAux(pending, 0));
        fieldU64(SmbField.CREATE_OPTIONS, pendingAux(pending, 1));
        fieldU64(SmbField.DESIRED_ACCESS, pendingAux(pending, 2));
      }
      if (responseHasCreateAction) fieldNameOrHex(SmbField.CREATE_ACTION, createActionName(responseCreateAction), responseCreateAction);
      break;
    case Command.READ:
    case Command.WRITE:
      if (!orphaned) fieldU64(SmbField.OFFSET, pendingOffset(pending));
      fieldU64(SmbField.LENGTH, responseLength);
      break;
    case Command.IOCTL:
      fieldNameOrHex(SmbField.CTL_CODE, ctlCodeName(pendingAux(pending, 0)), pendingAux(pending, 0));
      break;
    case Command.QUERY_INFO:
    case Command.SET_INFO:
      if (!orphaned) {
        fieldU64(SmbField.INFO_TYPE, pendingAux(pending, 0));
        fieldU64(SmbField.INFO_CLASS, pendingAux(pending, 1));
      }
      break;
    case Command.QUERY_DIRECTORY:
      if (!orphaned) fieldU64(SmbField.INFO_CLASS, pendingAux(pending, 1));
      break;
  }
  if (responseHasFileSize) fieldU64(SmbField.FILE_SIZE, responseFileSize);
}

function writeRequestOnlyRecord(header: usize, command: u16, sessionId: u64, treeId: u32): void {
  if (!beginRecord(RecordType.SMB, false)) return;
  fieldU64(SmbField.VERSION, smb2Version());
  fieldNameOrHex(SmbField.COMMAND, smb2CommandName(command), command);
  fieldU64(SmbField.MESSAGE_ID, load<u64>(header, 24));
  if (sessionId != 0) fieldU64(SmbField.SESSION_ID, sessionId);
  if (treeId != 0) fieldU64(SmbField.TREE_ID, treeId);
  fieldAccount(sessionId);
  endRecord();
}
