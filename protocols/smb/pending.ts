// Pending requests shared by SMB1 and SMB2: taking a table slot, and the
// record of a request whose response never came.

import { RecordType } from "../fields";
import { countAnomaly } from "../../wasm-core/assembly/counters";
import { beginRecord, endRecord, fieldText, fieldU64 } from "../../wasm-core/assembly/events";
import { SmbAnomaly, SmbField } from "./fields";
import { smb1CommandName, smb2CommandName } from "./tables";
import { fieldAccount, fieldNameOrHex } from "./record";
import {
  fileFind, fileName, fileNameLength, negotiatedDialect, pendingCommand, pendingFileId, pendingFlags, pendingFree,
  pendingLength, pendingMessageId, pendingName, pendingNameLength, pendingOffset, pendingOldest, pendingRelease,
  pendingSessionId, pendingTreeId, pendingVersion, PENDING_FLAG_FILE_ID, treeFind, treeShare, treeShareLength,
} from "./state";

// Commands whose unanswered record carries the share from the request, or
// the offset and length: SMB2 (MS-SMB2 2.2.1.2) and SMB1 (MS-CIFS 2.2.2.1).
@inline const SMB2_TREE_CONNECT: u16 = 0x03;
@inline const SMB2_READ: u16 = 0x08;
@inline const SMB2_WRITE: u16 = 0x09;
@inline const SMB1_COM_READ_ANDX: u16 = 0x2e;
@inline const SMB1_COM_WRITE_ANDX: u16 = 0x2f;
@inline const SMB1_COM_TREE_CONNECT_ANDX: u16 = 0x75;

// Returns a free pending entry; when the table is full, the oldest request
// is reported without its response and its entry reused.
export function pendingSlot(): usize {
  const free = pendingFree();
  if (free != 0) return free;
  countAnomaly(SmbAnomaly.PENDING_TABLE_FULL);
  const oldest = pendingOldest();
  writeUnanswered(oldest);
  return oldest;
}

// Reports a request whose response never came (flow end, or the pending
// table overflowed) and frees its entry. The record has no status.
export function writeUnanswered(pending: usize): void {
  const smb1 = pendingVersion(pending) == 1;
  const command = pendingCommand(pending);
  const sessionId = pendingSessionId(pending);
  const treeId = pendingTreeId(pending);
  const file = (pendingFlags(pending) & PENDING_FLAG_FILE_ID) != 0 ? fileFind(pendingFileId(pending)) : 0;
  if (beginRecord(RecordType.SMB, false)) {
    if (smb1) {
      fieldU64(SmbField.VERSION, 1);
      fieldNameOrHex(SmbField.COMMAND, smb1CommandName(<u8>command), command);
    } else {
      fieldU64(SmbField.VERSION, smb2Version());
      fieldNameOrHex(SmbField.COMMAND, smb2CommandName(command), command);
    }
    fieldU64(SmbField.MESSAGE_ID, pendingMessageId(pending));
    if (sessionId != 0) fieldU64(SmbField.SESSION_ID, sessionId);
    if (treeId != 0) fieldU64(SmbField.TREE_ID, treeId);
    const tree = treeId != 0 ? treeFind(sessionId, treeId) : 0;
    const nameLength = pendingNameLength(pending);
    const treeConnect = smb1 ? command == SMB1_COM_TREE_CONNECT_ANDX : command == SMB2_TREE_CONNECT;
    if (treeConnect) {
      if (nameLength > 0) fieldText(SmbField.SHARE, pendingName(pending), nameLength);
    } else {
      if (tree != 0) fieldText(SmbField.SHARE, treeShare(tree), treeShareLength(tree));
      if (nameLength > 0) fieldText(SmbField.PATH, pendingName(pending), nameLength);
      else if (file != 0 && fileNameLength(file) > 0) fieldText(SmbField.PATH, fileName(file), fileNameLength(file));
    }
    const readOrWrite = smb1
      ? command == SMB1_COM_READ_ANDX || command == SMB1_COM_WRITE_ANDX
      : command == SMB2_READ || command == SMB2_WRITE;
    if (readOrWrite) {
      fieldU64(SmbField.OFFSET, pendingOffset(pending));
      fieldU64(SmbField.LENGTH, pendingLength(pending));
    }
    fieldAccount(sessionId);
    endRecord();
  }
  pendingRelease(pending);
}

// 3 for the SMB 3.x dialects, else 2 (also when no NEGOTIATE was seen).
export function smb2Version(): u64 {
  const dialect = negotiatedDialect();
  return dialect >= 0x0300 && dialect != 0x02ff ? 3 : 2;
}
