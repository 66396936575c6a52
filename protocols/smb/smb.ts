// SMB dissector entry points (protocols/api.ts): NBSS framing, then SMB1 or
// SMB2/SMB3 messages. Message parsing lives in smb1.ts and smb2.ts, per-flow
// tables in state.ts.

import { APP_STATE_BYTES, fits, PROBE_MATCH, PROBE_NEED_MORE, PROBE_NO_MATCH, STREAM_NEED_MORE } from "../api";
import { countAnomaly } from "../../wasm-core/assembly/counters";
import { SmbAnomaly } from "./fields";
import {
  controlPacketLength, COMPRESSION_PROTOCOL_ID, findMessageStart, isControlType, isSmbProtocolId,
  NBSS_HEADER_BYTES, NBSS_KEEP_ALIVE, NBSS_MAX_CONTROL_LENGTH, NBSS_SESSION_MESSAGE, sessionMessageLength,
  SMB1_PROTOCOL_ID, SMB2_PROTOCOL_ID, TRANSFORM_PROTOCOL_ID,
} from "./nbss";
import { smb1ParseMessage } from "./smb1";
import { smb2ParseMessage } from "./smb2";
import { writeUnanswered } from "./pending";
import { closeAllPipes, gapAllPipes } from "./peers";
import { PATH_SCRATCH_BYTES, transferArmSink, transferClearRequest, transferFinishAll, transferSinkGap, transferSinkRemaining, transferSinkRequested, transferSinkTake } from "./transfer";
import { MAX_PENDING, NAME_BYTES, pendingAt, resyncFlags, setFlow, setResyncFlags, SHARE_BYTES, SMB_STATE_END } from "./state";

// Bytes of one SMB message that are parsed. A longer message (a large READ
// response or WRITE request) is parsed from its first bytes, which hold every
// header the records need, and the core skips the rest without buffering it.
// NOTE: the core's streamBufferBytes must be at least this plus 4, or such
// messages wait for bytes that never fit in the buffer.
@inline export const SMB_PARSE_WINDOW_BYTES: u32 = 16384;

// The per-flow tables must fit the state area the core provides; checked
// when the core is compiled.
if (SMB_STATE_END > <usize>APP_STATE_BYTES) ERROR("protocols/smb/state.ts: the SMB tables need more than APP_STATE_BYTES");
if (SHARE_BYTES + 1 + NAME_BYTES > PATH_SCRATCH_BYTES) ERROR("protocols/smb/transfer.ts: PATH_SCRATCH_BYTES is smaller than a share, a backslash and a name");

export function smbProbe(ptr: usize, length: u32, toServer: bool): i32 {
  let at: u32 = 0;
  // A keep-alive alone does not identify SMB, so the probe looks past it.
  while (fits(length, at, NBSS_HEADER_BYTES)) {
    const p = ptr + <usize>at;
    const type = load<u8>(p);
    if (type == NBSS_SESSION_MESSAGE) {
      if (!fits(length, at, 8)) return PROBE_NEED_MORE;
      return isSmbProtocolId(load<u32>(p, 4)) ? PROBE_MATCH : PROBE_NO_MATCH;
    }
    if (!isControlType(type) || controlPacketLength(p) > NBSS_MAX_CONTROL_LENGTH) return PROBE_NO_MATCH;
    if (type != NBSS_KEEP_ALIVE) return PROBE_MATCH;
    if (controlPacketLength(p) != 0) return PROBE_NO_MATCH;
    at += NBSS_HEADER_BYTES;
  }
  return PROBE_NEED_MORE;
}

export function smbOnData(state: usize, toServer: bool, ptr: usize, length: u32): i32 {
  setFlow(state);
  const resyncBit: u8 = toServer ? 1 : 2;
  let consumed: u32 = 0;
  while (consumed < length) {
    const p = ptr + <usize>consumed;
    const rest = length - consumed;
    // The rest of a long READ or WRITE whose file data is being hashed.
    const sinkRemaining = transferSinkRemaining(toServer);
    if (sinkRemaining > 0) {
      const take = rest < sinkRemaining ? rest : sinkRemaining;
      transferSinkTake(toServer, p, take);
      consumed += take;
      continue;
    }
    if ((resyncFlags() & resyncBit) != 0) {
      const start = findMessageStart(p, rest);
      if (start < 0) {
        // Keep the last 7 bytes: a header may start in them.
        if (rest > 7) {
          countAnomaly(SmbAnomaly.RESYNC_SKIPPED_BYTES);
          consumed += rest - 7;
        }
        break;
      }
      if (start > 0) countAnomaly(SmbAnomaly.RESYNC_SKIPPED_BYTES);
      consumed += <u32>start;
      setResyncFlags(resyncFlags() & ~resyncBit);
      continue;
    }
    if (rest < NBSS_HEADER_BYTES) break;
    const type = load<u8>(p);
    let total: u32 = 0;
    if (type == NBSS_SESSION_MESSAGE) {
      const messageLength = sessionMessageLength(p);
      const window = messageLength < SMB_PARSE_WINDOW_BYTES ? messageLength : SMB_PARSE_WINDOW_BYTES;
      if (rest - NBSS_HEADER_BYTES < window) break;
      transferClearRequest();
      parseMessage(p + NBSS_HEADER_BYTES, window, messageLength);
      total = NBSS_HEADER_BYTES + messageLength;
      if (window < messageLength && transferSinkRequested()) {
        // File data continues past the window: follow the rest of the
        // message instead of letting the core drop it.
        transferArmSink(toServer, messageLength - window);
        consumed += NBSS_HEADER_BYTES + window;
        continue;
      }
    } else if (isControlType(type) && controlPacketLength(p) <= NBSS_MAX_CONTROL_LENGTH) {
      total = NBSS_HEADER_BYTES + controlPacketLength(p);
    } else {
      countAnomaly(isControlType(type) ? SmbAnomaly.NBSS_LENGTH_INVALID : SmbAnomaly.NBSS_UNKNOWN_TYPE);
      setResyncFlags(resyncFlags() | resyncBit);
      continue;
    }
    // A message longer than the bytes at hand: the core drops the rest.
    if (total > rest) return <i32>(consumed + total);
    consumed += total;
  }
  return consumed > 0 ? <i32>consumed : STREAM_NEED_MORE;
}

// Parses one SMB message of `messageLength` bytes, of which `available` are
// at `message`.
function parseMessage(message: usize, available: u32, messageLength: u32): void {
  if (available < 4) {
    countAnomaly(SmbAnomaly.HEADER_INVALID);
    return;
  }
  const protocolId = load<u32>(message);
  if (protocolId == SMB2_PROTOCOL_ID) {
    smb2ParseMessage(message, available, messageLength);
  } else if (protocolId == SMB1_PROTOCOL_ID) {
    smb1ParseMessage(message, available);
  } else if (protocolId == TRANSFORM_PROTOCOL_ID) {
    // SMB3 encryption: the content is not readable, only counted.
    countAnomaly(SmbAnomaly.ENCRYPTED_MESSAGE);
  } else if (protocolId == COMPRESSION_PROTOCOL_ID) {
    countAnomaly(SmbAnomaly.COMPRESSED_MESSAGE);
  } else {
    countAnomaly(SmbAnomaly.HEADER_INVALID);
  }
}

export function smbOnGap(state: usize, toServer: bool): void {
  setFlow(state);
  setResyncFlags(resyncFlags() | (toServer ? 1 : 2));
  transferSinkGap(toServer);
  gapAllPipes();
}

// Reports every request still waiting for its response.
export function smbOnClose(state: usize): void {
  setFlow(state);
  for (let i: u32 = 0; i < MAX_PENDING; i++) {
    const pending = pendingAt(i);
    if (pending != 0) writeUnanswered(pending);
  }
  closeAllPipes();
  transferFinishAll();
}
