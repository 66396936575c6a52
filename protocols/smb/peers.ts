// Hand-offs from SMB to the NTLMSSP and DCE-RPC dissectors: security blobs of
// session setups, and the bytes written to and read from named pipes.

import { dcerpcOnPipeClose, dcerpcOnPipeData, dcerpcOnPipeGap, dcerpcSetPipeContext } from "../dcerpc/pipe";
import {
  identityDomain, identityDomainLength, identityUser, identityUserLength, ntlmInspectBlob, NTLM_IDENTITY_BYTES,
} from "../ntlm/ntlmssp";
import {
  fileAt, fileClearTreeUnknown, fileDetachPipe, fileFlags, fileMarkPipe, fileName, fileNameLength, filePipeState,
  fileSessionId, fileSetFlag, FILE_FLAG_FIRST_DATA_SEEN, MAX_FILES, FILE_FLAG_PIPE, FILE_FLAG_TREE_UNKNOWN, sessionDomain,
  sessionDomainLength, sessionFind, sessionGet, sessionSetAccount, sessionUser, sessionUserLength,
} from "./state";

// Filled by ntlmInspectBlob and copied into the session at once, so one area
// serves every flow.
const identity = memory.data(<i32>NTLM_IDENTITY_BYTES);

// NTLMSSP AUTHENTICATE (MS-NLMP 2.2.1.3).
@inline const NTLM_AUTHENTICATE: i32 = 3;

// Passes a SESSION_SETUP security blob to the NTLMSSP dissector (which writes
// the "ntlm" record) and stores the account of an AUTHENTICATE message in the
// session. Must not be called while an SMB record is open.
export function inspectSecurityBlob(blob: usize, length: u32, serverToClient: bool, sessionId: u64): void {
  if (length == 0) return;
  memory.fill(identity, 0, <usize>NTLM_IDENTITY_BYTES);
  const messageType = ntlmInspectBlob(blob, length, serverToClient, "smb", identity);
  if (messageType != NTLM_AUTHENTICATE) return;
  const session = sessionGet(sessionId);
  sessionSetAccount(session, identityUser(identity), identityUserLength(identity), identityDomain(identity), identityDomainLength(identity));
}

// Passes bytes written to (`toServer`) or read from a file to the DCE-RPC
// dissector when the file is a named pipe that carries DCE-RPC. The first
// bytes seen in either direction decide. A pipe whose first bytes are not a
// DCE-RPC PDU (such as PsExec's own pipes) gives its DCE-RPC state back, and
// a file on a tree that was not seen becomes a pipe when they are one. Must
// not be called while an SMB record is open.
export function feedPipeData(file: usize, toServer: bool, data: usize, length: u32): void {
  const flags = fileFlags(file);
  if ((flags & (FILE_FLAG_PIPE | FILE_FLAG_TREE_UNKNOWN)) == 0 || length == 0) return;
  if ((flags & FILE_FLAG_FIRST_DATA_SEEN) == 0) {
    fileSetFlag(file, FILE_FLAG_FIRST_DATA_SEEN);
    const dcerpc = looksLikeDcerpc(data, length, toServer);
    if ((flags & FILE_FLAG_TREE_UNKNOWN) != 0) {
      if (dcerpc) fileMarkPipe(file); else fileClearTreeUnknown(file);
    } else if (!dcerpc) {
      fileDetachPipe(file);
    }
  }
  const pipeState = filePipeState(file);
  if (pipeState == 0) return;
  setPipeContext(file);
  dcerpcOnPipeData(pipeState, toServer, data, length);
}

// Names the pipe and the session's account for the DCE-RPC records written
// next.
function setPipeContext(file: usize): void {
  const session = sessionFind(fileSessionId(file));
  if (session != 0) {
    dcerpcSetPipeContext(fileName(file), fileNameLength(file), sessionUser(session), sessionUserLength(session), sessionDomain(session), sessionDomainLength(session));
  } else {
    dcerpcSetPipeContext(fileName(file), fileNameLength(file), 0, 0, 0, 0);
  }
}

// Ends the DCE-RPC conversation of a pipe that is being closed, so calls still
// waiting for their response are reported. Call it before the file entry is
// released, and not while an SMB record is open.
export function closePipe(file: usize): void {
  const pipeState = filePipeState(file);
  if (pipeState == 0) return;
  setPipeContext(file);
  dcerpcOnPipeClose(pipeState);
}

// Ends the DCE-RPC conversation of every pipe of the flow (flow end).
export function closeAllPipes(): void {
  for (let i: u32 = 0; i < MAX_FILES; i++) {
    const file = fileAt(i);
    if (file != 0) closePipe(file);
  }
}

// Tells the DCE-RPC state of every pipe of the flow that SMB bytes were lost,
// because pipe data may have been among them.
export function gapAllPipes(): void {
  for (let i: u32 = 0; i < MAX_FILES; i++) {
    const file = fileAt(i);
    if (file == 0) continue;
    const pipeState = filePipeState(file);
    if (pipeState != 0) dcerpcOnPipeGap(pipeState);
  }
}

// True when the bytes start like a connection-oriented DCE-RPC PDU (C706
// 12.6.1 common header: rpc_vers 5, rpc_vers_minor 0 or 1) that a client sends (request,
// bind, alter_context, auth3) or a server sends (response, fault, bind_ack,
// bind_nak, alter_context_resp).
function looksLikeDcerpc(data: usize, length: u32, toServer: bool): bool {
  if (length < 16) return false;
  if (load<u8>(data) != 5 || load<u8>(data, 1) > 1) return false;
  const ptype = load<u8>(data, 2);
  if (toServer) return ptype == 0 || ptype == 11 || ptype == 14 || ptype == 16;
  return ptype == 2 || ptype == 3 || ptype == 12 || ptype == 13 || ptype == 15;
}
