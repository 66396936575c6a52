// VNC: the RFB handshake up to the security result, then the end of the
// session. The framebuffer messages after the handshake are skipped.
//
// Specification: RFC 6143 "The Remote Framebuffer Protocol", section 7.1
// (handshake messages) and section 7.2 (security types). Version 3.3 differs
// in section 7.1.2, where the server picks the type, and 7.1.3: no reason
// string before 3.8.
//
//   server: ProtocolVersion   "RFB 003.008\n" (12 bytes)
//   client: ProtocolVersion
//   server: 3.7+  | u8 number-of-security-types | u8 x n types |
//                 (n = 0: | u32 reason-length | reason |)
//           3.3   | u32 security-type |  (0: | u32 reason-length | reason |)
//   client: 3.7+  | u8 security-type |
//   VNC Authentication (type 2): server 16-byte challenge, client 16-byte response
//   server: SecurityResult | u32 0 OK, 1 failed | (3.8, failed: | u32 reason-length | reason |)

import { PROBE_MATCH, PROBE_NEED_MORE, PROBE_NO_MATCH, readU32be, STREAM_NEED_MORE } from "../api";
import { RecordType } from "../fields";
import { endRecord, fieldLiteral, fieldText, fieldU64 } from "../../wasm-core/assembly/events";
import { countAnomaly } from "../../wasm-core/assembly/counters";
import { u32ToDecimal } from "../text";
import { copyPrintable, prefixMatches, startsWith } from "../lines";
import { beginSessionRecord, endSessionRecord, markSessionStartOnce, setFlagBits, SKIP_REST } from "../session";
import { VncAnomaly, VncField } from "./fields";

@inline export const PORT_VNC_FIRST: u16 = 5900;
@inline export const PORT_VNC_LAST: u16 = 5910;
@inline const VERSION_BYTES: u32 = 12;
@inline const CHALLENGE_BYTES: u32 = 16;
@inline const MAX_OFFERED: u32 = 16;
@inline const REASON_CAPACITY: u32 = 56;
// A reason-length above this is not a reason string: the bytes are not RFB.
@inline const MAX_REASON_BYTES: u32 = 4096;
// readReason's result for such a reason-length.
@inline const REASON_TOO_LONG: i32 = -1;

// RFC 6143 7.2 security types.
@inline const SECURITY_INVALID: u8 = 0;
@inline const SECURITY_NONE: u8 = 1;
@inline const SECURITY_VNC_AUTH: u8 = 2;

// Flow state (small class, 128 bytes).
@inline const S_FLAGS: usize = 0;
@inline const S_SERVER_STAGE: usize = 1;
@inline const S_CLIENT_STAGE: usize = 2;
@inline const S_CHOSEN: usize = 3;
@inline const S_RESULT: usize = 4;
@inline const S_START: usize = 8;  // SESSION_START_BYTES: start time (session.ts)
@inline const S_OFFERED_COUNT: usize = 16;
@inline const S_REASON_LENGTH: usize = 17;
@inline const S_CLIENT_MINOR: usize = 18;
@inline const S_SERVER_MINOR: usize = 19;
@inline const S_CLIENT_VERSION: usize = 20;  // 7 bytes "003.008"
@inline const S_SERVER_VERSION: usize = 28;
@inline const S_OFFERED: usize = 40;
@inline const S_REASON: usize = 56;
@inline export const VNC_STATE_BYTES: u32 = 56 + REASON_CAPACITY;

@inline const F_TIME_SET: u8 = 1;
@inline const F_CHOSEN: u8 = 2;
@inline const F_RESULT: u8 = 4;
@inline const F_STARTED: u8 = 8;
@inline const F_CLIENT_VERSION: u8 = 16;
@inline const F_SERVER_VERSION: u8 = 32;

// Server stages.
@inline const SERVER_VERSION: u8 = 0;
@inline const SERVER_SECURITY: u8 = 1;
@inline const SERVER_CHALLENGE: u8 = 2;
@inline const SERVER_RESULT: u8 = 3;
@inline const SERVER_DONE: u8 = 4;
// Client stages.
@inline const CLIENT_VERSION: u8 = 0;
@inline const CLIENT_CHOICE: u8 = 1;
@inline const CLIENT_RESPONSE: u8 = 2;
@inline const CLIENT_DONE: u8 = 3;

export function vncProbe(ptr: usize, length: u32): i32 {
  if (length < 8) return prefixMatches(ptr, length, "RFB 003.") ? PROBE_NEED_MORE : PROBE_NO_MATCH;
  return startsWith(ptr, length, "RFB 003.") ? PROBE_MATCH : PROBE_NO_MATCH;
}

export function vncOnData(state: usize, toServer: bool, ptr: usize, length: u32): i32 {
  markSessionStartOnce(state + S_FLAGS, F_TIME_SET, state + S_START);
  return toServer ? clientData(state, ptr, length) : serverData(state, ptr, length);
}

export function vncOnGap(state: usize, toServer: bool): void {
  store<u8>(state + (toServer ? S_CLIENT_STAGE : S_SERVER_STAGE), toServer ? CLIENT_DONE : SERVER_DONE);
}

export function vncOnClose(state: usize): void {
  const flags = load<u8>(state + S_FLAGS);
  if ((flags & (F_CLIENT_VERSION | F_SERVER_VERSION)) == 0) return;
  if ((flags & F_STARTED) == 0) writeStart(state);
  if (!beginSessionRecord(RecordType.VNC, false, VncField.SESSION_EVENT, "end")) return;
  writeVersions(state);
  endSessionRecord(VncField.DURATION_MS, state + S_START);
}

function setFlag(state: usize, flag: u8): void {
  setFlagBits(state + S_FLAGS, flag);
}

// Reads the ProtocolVersion "RFB xxx.yyy\n" of one side into the state and
// returns its minor version, or -1 when it is invalid.
function readVersion(state: usize, toServer: bool, ptr: usize): i32 {
  if (!startsWith(ptr, VERSION_BYTES, "RFB ") || load<u8>(ptr, 11) != 0x0a) {
    countAnomaly(VncAnomaly.VERSION_INVALID);
    return -1;
  }
  copyPrintable(ptr + 4, 7, state + (toServer ? S_CLIENT_VERSION : S_SERVER_VERSION), 7);
  let minor: i32 = 0;
  for (let i: u32 = 8; i < 11; i++) {
    const c = <i32>load<u8>(ptr + <usize>i);
    if (c < 0x30 || c > 0x39) { countAnomaly(VncAnomaly.VERSION_INVALID); return -1; }
    minor = minor * 10 + c - 0x30;
  }
  store<u8>(state + (toServer ? S_CLIENT_MINOR : S_SERVER_MINOR), <u8>minor);
  setFlag(state, toServer ? F_CLIENT_VERSION : F_SERVER_VERSION);
  return minor;
}

function clientData(state: usize, ptr: usize, length: u32): i32 {
  const stage = load<u8>(state + S_CLIENT_STAGE);
  if (stage == CLIENT_VERSION) {
    if (length < VERSION_BYTES) return STREAM_NEED_MORE;
    const minor = readVersion(state, true, ptr);
    if (minor < 0) return finishClient(state, length);
    // RFC 6143 7.1.2: with 3.3 the server picks the type, the client sends nothing.
    store<u8>(state + S_CLIENT_STAGE, minor >= 7 ? CLIENT_CHOICE : CLIENT_RESPONSE);
    return <i32>VERSION_BYTES;
  }
  if (stage == CLIENT_CHOICE) {
    if (length < 1) return STREAM_NEED_MORE;
    const chosen = load<u8>(ptr);
    store<u8>(state + S_CHOSEN, chosen);
    setFlag(state, F_CHOSEN);
    store<u8>(state + S_CLIENT_STAGE, chosen == SECURITY_VNC_AUTH ? CLIENT_RESPONSE : CLIENT_DONE);
    if (chosen != SECURITY_VNC_AUTH && chosen != SECURITY_NONE) {
      // Other types (TLS, VeNCrypt, Tight, ...) carry their own exchanges,
      // which this dissector does not follow.
      store<u8>(state + S_SERVER_STAGE, SERVER_DONE);
      writeStart(state);
    } else if (chosen == SECURITY_NONE && load<u8>(state + S_CLIENT_MINOR) < 8) {
      // Before 3.8 the None type has no SecurityResult.
      store<u8>(state + S_SERVER_STAGE, SERVER_DONE);
      writeStart(state);
    } else {
      store<u8>(state + S_SERVER_STAGE, chosen == SECURITY_VNC_AUTH ? SERVER_CHALLENGE : SERVER_RESULT);
    }
    return 1;
  }
  if (stage == CLIENT_RESPONSE) {
    // A 3.3 client sends its 16-byte response only for VNC Authentication.
    if ((load<u8>(state + S_FLAGS) & F_CHOSEN) != 0 && load<u8>(state + S_CHOSEN) != SECURITY_VNC_AUTH) return finishClient(state, length);
    if (length < CHALLENGE_BYTES) return STREAM_NEED_MORE;
    store<u8>(state + S_CLIENT_STAGE, CLIENT_DONE);
    return <i32>CHALLENGE_BYTES;
  }
  return <i32>(length + SKIP_REST);
}

function finishClient(state: usize, length: u32): i32 {
  store<u8>(state + S_CLIENT_STAGE, CLIENT_DONE);
  return <i32>(length + SKIP_REST);
}

function finishServer(state: usize, length: u32): i32 {
  store<u8>(state + S_SERVER_STAGE, SERVER_DONE);
  if ((load<u8>(state + S_FLAGS) & F_STARTED) == 0) writeStart(state);
  return <i32>(length + SKIP_REST);
}

function serverData(state: usize, ptr: usize, length: u32): i32 {
  const stage = load<u8>(state + S_SERVER_STAGE);
  if (stage == SERVER_VERSION) {
    if (length < VERSION_BYTES) return STREAM_NEED_MORE;
    const minor = readVersion(state, false, ptr);
    if (minor < 0) return finishServer(state, length);
    store<u8>(state + S_SERVER_STAGE, SERVER_SECURITY);
    return <i32>VERSION_BYTES;
  }
  if (stage == SERVER_SECURITY) return serverSecurity(state, ptr, length);
  if (stage == SERVER_CHALLENGE) {
    if (length < CHALLENGE_BYTES) return STREAM_NEED_MORE;
    store<u8>(state + S_SERVER_STAGE, SERVER_RESULT);
    return <i32>CHALLENGE_BYTES;
  }
  if (stage == SERVER_RESULT) return serverResult(state, ptr, length);
  return <i32>(length + SKIP_REST);
}

// The version the session runs: the client's reply, or the server's offer
// when the client's was not seen.
function sessionMinor(state: usize): u32 {
  if ((load<u8>(state + S_FLAGS) & F_CLIENT_VERSION) != 0) return <u32>load<u8>(state + S_CLIENT_MINOR);
  return <u32>load<u8>(state + S_SERVER_MINOR);
}

function serverSecurity(state: usize, ptr: usize, length: u32): i32 {
  if (sessionMinor(state) < 7) {
    if (length < 4) return STREAM_NEED_MORE;
    const type = readU32be(ptr);
    if (type == SECURITY_INVALID) return readFailureReason(state, ptr, length, 4);
    store<u8>(state + S_CHOSEN, <u8>type);
    setFlag(state, F_CHOSEN);
    if (type == SECURITY_VNC_AUTH) {
      store<u8>(state + S_SERVER_STAGE, SERVER_CHALLENGE);
      return 4;
    }
    return finishServer(state, length - 4) + 4;
  }
  if (length < 1) return STREAM_NEED_MORE;
  const count = <u32>load<u8>(ptr);
  if (count == 0) return readFailureReason(state, ptr, length, 1);
  if (length < 1 + count) return STREAM_NEED_MORE;
  let kept = count;
  if (kept > MAX_OFFERED) {
    countAnomaly(VncAnomaly.LIST_TRUNCATED);
    kept = MAX_OFFERED;
  }
  memory.copy(state + S_OFFERED, ptr + 1, kept);
  store<u8>(state + S_OFFERED_COUNT, <u8>kept);
  // The client's choice sets the next stage (clientData); until it arrives
  // the usual VNC Authentication challenge is expected.
  store<u8>(state + S_SERVER_STAGE, SERVER_CHALLENGE);
  return <i32>(1 + count);
}

// A failure before any type was chosen: | u32 reason-length | reason |
// after `headerBytes` bytes of count or type.
function readFailureReason(state: usize, ptr: usize, length: u32, headerBytes: u32): i32 {
  const reasonBytes = readReason(state, ptr, length, headerBytes);
  if (reasonBytes == STREAM_NEED_MORE) return STREAM_NEED_MORE;
  if (reasonBytes == REASON_TOO_LONG) return finishServer(state, length);
  store<u32>(state + S_RESULT, 1);
  setFlag(state, F_RESULT);
  const used = headerBytes + <u32>reasonBytes;
  return finishServer(state, length - used) + <i32>used;
}

function serverResult(state: usize, ptr: usize, length: u32): i32 {
  if (length < 4) return STREAM_NEED_MORE;
  const result = readU32be(ptr);
  let used: u32 = 4;
  if (result != 0 && sessionMinor(state) >= 8) {
    const reasonBytes = readReason(state, ptr, length, 4);
    if (reasonBytes == STREAM_NEED_MORE) return STREAM_NEED_MORE;
    // A reason-length above MAX_REASON_BYTES is skipped, but the result is kept.
    if (reasonBytes != REASON_TOO_LONG) used = 4 + <u32>reasonBytes;
  }
  store<u32>(state + S_RESULT, result);
  setFlag(state, F_RESULT);
  return finishServer(state, length - used) + <i32>used;
}

// Reads | u32 reason-length | reason | at `at` and keeps the reason. Returns
// the bytes both take, STREAM_NEED_MORE until they are all in, or
// REASON_TOO_LONG for a reason-length above MAX_REASON_BYTES.
function readReason(state: usize, ptr: usize, length: u32, at: u32): i32 {
  if (length < at + 4) return STREAM_NEED_MORE;
  const reasonLength = readU32be(ptr + <usize>at);
  if (reasonLength > MAX_REASON_BYTES) return REASON_TOO_LONG;
  if (length < at + 4 + reasonLength) return STREAM_NEED_MORE;
  keepReason(state, ptr + <usize>(at + 4), reasonLength);
  return <i32>(4 + reasonLength);
}

function keepReason(state: usize, reason: usize, length: u32): void {
  let kept = length;
  if (kept > REASON_CAPACITY) {
    countAnomaly(VncAnomaly.LIST_TRUNCATED);
    kept = REASON_CAPACITY;
  }
  store<u8>(state + S_REASON_LENGTH, <u8>copyPrintable(reason, kept, state + S_REASON, REASON_CAPACITY));
}

// RFC 6143 section 8.1.2 registry of security types.
function securityTypeName(type: u32): string {
  switch (type) {
    case 0: return "invalid";
    case 1: return "none";
    case 2: return "vnc_authentication";
    case 5: return "ra2";
    case 6: return "ra2ne";
    case 16: return "tight";
    case 17: return "ultra";
    case 18: return "tls";
    case 19: return "vencrypt";
    case 20: return "sasl";
    case 21: return "md5";
    case 22: return "xvp";
  }
  return "";
}

const numberScratch = memory.data(12);

function writeSecurityType(id: u16, type: u32): void {
  const name = securityTypeName(type);
  if (name.length > 0) fieldLiteral(id, name);
  else fieldText(id, numberScratch, u32ToDecimal(type, numberScratch));
}

function writeVersions(state: usize): void {
  const flags = load<u8>(state + S_FLAGS);
  if ((flags & F_CLIENT_VERSION) != 0) fieldText(VncField.CLIENT_VERSION, state + S_CLIENT_VERSION, 7);
  if ((flags & F_SERVER_VERSION) != 0) fieldText(VncField.SERVER_VERSION, state + S_SERVER_VERSION, 7);
}

function writeStart(state: usize): void {
  const flags = load<u8>(state + S_FLAGS);
  store<u8>(state + S_FLAGS, flags | F_STARTED);
  if (!beginSessionRecord(RecordType.VNC, (flags & F_RESULT) != 0, VncField.SESSION_EVENT, "start")) return;
  writeVersions(state);
  const offered = <u32>load<u8>(state + S_OFFERED_COUNT);
  for (let i: u32 = 0; i < offered; i++) writeSecurityType(VncField.SECURITY_TYPES, <u32>load<u8>(state + S_OFFERED + <usize>i));
  const chosen = <u32>load<u8>(state + S_CHOSEN);
  if ((flags & F_CHOSEN) != 0) {
    writeSecurityType(VncField.SECURITY_TYPE, chosen);
    writeSecurityType(VncField.AUTH_SCHEME, chosen);
  }
  const reasonLength = <u32>load<u8>(state + S_REASON_LENGTH);
  if ((flags & F_RESULT) != 0) {
    const result = load<u32>(state + S_RESULT);
    fieldU64(VncField.SECURITY_RESULT, result);
    if (reasonLength > 0) fieldText(VncField.REASON, state + S_REASON, reasonLength);
    fieldLiteral(VncField.LOGIN_RESULT, result == 0 ? "success" : "failure");
  } else if ((flags & F_CHOSEN) != 0 && chosen == SECURITY_NONE) {
    // RFC 6143 7.1.3: before 3.8 the None type goes straight to ClientInit.
    fieldLiteral(VncField.LOGIN_RESULT, "success");
  } else {
    fieldLiteral(VncField.LOGIN_RESULT, "unknown");
  }
  endRecord();
}
