// RDP connection setup: the X.224 Connection Request with its cookie and
// RDP_NEG_REQ, the Connection Confirm with RDP_NEG_RSP or RDP_NEG_FAILURE,
// and the end of the session. What follows the Confirm is TLS, CredSSP or
// MCS and is skipped.
//
// Specification: [MS-RDPBCGR] Remote Desktop Protocol: Basic Connectivity and
// Graphics Remoting, sections 2.2.1.1 (Client X.224 Connection Request PDU)
// and 2.2.1.2 (Server X.224 Connection Confirm PDU); TPKT from RFC 1006
// section 6, the X.224 class 0 header from ITU-T X.224 section 13.
//
//   TPKT       | version 3 | reserved 0 | length (u16 big-endian, header included) |
//   X.224      | LI | CR 0xE0 or CC 0xD0 | DST-REF u16 | SRC-REF u16 | class 0 |
//   CR data    | "Cookie: mstshash=USER" CR LF (optional) | RDP_NEG_REQ (optional) |
//   RDP_NEG_*  | type u8 | flags u8 | length u16 LE = 8 | u32 LE value |
//                type 1 request (requestedProtocols), 2 response
//                (selectedProtocol), 3 failure (failureCode)

import { PROBE_MATCH, PROBE_NEED_MORE, PROBE_NO_MATCH, readU16be, STREAM_NEED_MORE } from "../api";
import { Field, RecordType } from "../fields";
import { endRecord, fieldLiteral, fieldText, fieldU64 } from "../../wasm-core/assembly/events";
import { countAnomaly } from "../../wasm-core/assembly/counters";
import { indexOfByte, startsWith, trimmedLength } from "../lines";
import { beginSessionRecord, endSessionRecord, markSessionStartOnce, setFlagBits, SKIP_REST } from "../session";
import { RdpAnomaly, RdpField } from "./fields";

@inline export const PORT_RDP: u16 = 3389;
@inline const TPKT_HEADER_BYTES: u32 = 4;
@inline const X224_FIXED_BYTES: u32 = 7;
@inline const X224_CONNECTION_REQUEST: u8 = 0xe0;
@inline const X224_CONNECTION_CONFIRM: u8 = 0xd0;
@inline const TYPE_RDP_NEG_REQ: u8 = 1;
@inline const TYPE_RDP_NEG_RSP: u8 = 2;
@inline const TYPE_RDP_NEG_FAILURE: u8 = 3;
@inline const NEG_BYTES: u32 = 8;
@inline const COOKIE_CAPACITY: u32 = 64;

// Flow state (small class, 128 bytes).
@inline const S_FLAGS: usize = 0;
@inline const S_COOKIE_LENGTH: usize = 1;
@inline const S_REQUESTED: usize = 4;
@inline const S_START: usize = 8;  // SESSION_START_BYTES: start time (session.ts)
@inline const S_SELECTED: usize = 16;
@inline const S_FAILURE: usize = 20;
@inline const S_COOKIE: usize = 32;
@inline export const RDP_STATE_BYTES: u32 = 32 + COOKIE_CAPACITY;

@inline const F_REQUEST: u8 = 1;        // Connection Request parsed
@inline const F_NEG_REQ: u8 = 2;        // it carried RDP_NEG_REQ
@inline const F_CONFIRM: u8 = 4;        // Connection Confirm parsed
@inline const F_NEG_RSP: u8 = 8;
@inline const F_NEG_FAILURE: u8 = 16;
@inline const F_STARTED: u8 = 32;       // "start" record written
@inline const F_TIME_SET: u8 = 64;

// Matches a TPKT header followed by an X.224 Connection Request (to the
// server) or Connection Confirm (from it).
export function rdpProbe(ptr: usize, length: u32, toServer: bool): i32 {
  if (length < 6) return PROBE_NEED_MORE;
  if (load<u8>(ptr) != 3 || load<u8>(ptr, 1) != 0) return PROBE_NO_MATCH;
  const code = load<u8>(ptr, 5) & 0xf0;
  return code == (toServer ? X224_CONNECTION_REQUEST : X224_CONNECTION_CONFIRM) ? PROBE_MATCH : PROBE_NO_MATCH;
}

export function rdpOnData(state: usize, toServer: bool, ptr: usize, length: u32): i32 {
  markSessionStartOnce(state + S_FLAGS, F_TIME_SET, state + S_START);
  const done = toServer ? F_REQUEST : F_CONFIRM;
  if ((load<u8>(state + S_FLAGS) & done) != 0) return <i32>(length + SKIP_REST);
  if (length < TPKT_HEADER_BYTES) return STREAM_NEED_MORE;
  const tpktLength = <u32>readU16be(ptr + 2);
  if (load<u8>(ptr) != 3 || tpktLength < TPKT_HEADER_BYTES + X224_FIXED_BYTES) {
    countAnomaly(RdpAnomaly.TPKT_INVALID);
    markDone(state, done);
    return <i32>(length + SKIP_REST);
  }
  if (tpktLength > length) return STREAM_NEED_MORE;
  const tpdu = ptr + TPKT_HEADER_BYTES;
  const tpduLength = tpktLength - TPKT_HEADER_BYTES;
  if (toServer) parseRequest(state, tpdu, tpduLength);
  else parseConfirm(state, tpdu, tpduLength);
  markDone(state, done);
  if (!toServer && (load<u8>(state + S_FLAGS) & F_STARTED) == 0) writeStart(state);
  return <i32>tpktLength;
}

export function rdpOnGap(state: usize, toServer: bool): void {
  markDone(state, toServer ? F_REQUEST : F_CONFIRM);
}

export function rdpOnClose(state: usize): void {
  const flags = load<u8>(state + S_FLAGS);
  if ((flags & (F_REQUEST | F_CONFIRM)) == 0) return;
  if ((flags & F_STARTED) == 0) writeStart(state);
  if (!beginSessionRecord(RecordType.RDP, false, RdpField.SESSION_EVENT, "end")) return;
  writeCookie(state);
  endSessionRecord(RdpField.DURATION_MS, state + S_START);
}

function markDone(state: usize, flag: u8): void {
  setFlagBits(state + S_FLAGS, flag);
}

// [MS-RDPBCGR] 2.2.1.1: the cookie line ends with CR LF; RDP_NEG_REQ fills
// the last 8 bytes of the TPDU when present.
function parseRequest(state: usize, tpdu: usize, length: u32): void {
  if ((load<u8>(tpdu, 1) & 0xf0) != X224_CONNECTION_REQUEST) {
    countAnomaly(RdpAnomaly.NEGOTIATION_MALFORMED);
    return;
  }
  let at = X224_FIXED_BYTES;
  const variable = tpdu + <usize>at;
  const variableLength = length - at;
  if (startsWith(variable, variableLength, "Cookie: ")) {
    const newline = indexOfByte(variable, variableLength, 0x0a);
    const lineEnd = newline < 0 ? variableLength : <u32>newline + 1;
    // A routing token ("Cookie: msts=...") names a load-balanced target, not
    // a user, so only the mstshash form is kept.
    if (startsWith(variable, variableLength, "Cookie: mstshash=")) keepCookie(state, variable, lineEnd);
    at += lineEnd;
  }
  markDone(state, F_REQUEST);
  if (length - at >= NEG_BYTES && load<u8>(tpdu + <usize>at) == TYPE_RDP_NEG_REQ) {
    if (load<u16>(tpdu + <usize>at, 2) != <u16>NEG_BYTES) {
      countAnomaly(RdpAnomaly.NEGOTIATION_MALFORMED);
      return;
    }
    store<u32>(state + S_REQUESTED, load<u32>(tpdu + <usize>at, 4));
    markDone(state, F_NEG_REQ);
  }
}

// Keeps the user name of a "Cookie: mstshash=USER" line of `lineEnd` bytes.
function keepCookie(state: usize, line: usize, lineEnd: u32): void {
  const valueStart: u32 = 17;
  let cookieLength = trimmedLength(line, lineEnd) - valueStart;
  if (cookieLength > COOKIE_CAPACITY) {
    countAnomaly(RdpAnomaly.COOKIE_TRUNCATED);
    cookieLength = COOKIE_CAPACITY;
  }
  memory.copy(state + S_COOKIE, line + valueStart, cookieLength);
  store<u8>(state + S_COOKIE_LENGTH, <u8>cookieLength);
}

// [MS-RDPBCGR] 2.2.1.2: RDP_NEG_RSP or RDP_NEG_FAILURE follows the fixed part.
function parseConfirm(state: usize, tpdu: usize, length: u32): void {
  if ((load<u8>(tpdu, 1) & 0xf0) != X224_CONNECTION_CONFIRM) {
    countAnomaly(RdpAnomaly.NEGOTIATION_MALFORMED);
    return;
  }
  const at = X224_FIXED_BYTES;
  if (length - at < NEG_BYTES) return;
  const type = load<u8>(tpdu + <usize>at);
  if (load<u16>(tpdu + <usize>at, 2) != <u16>NEG_BYTES) {
    countAnomaly(RdpAnomaly.NEGOTIATION_MALFORMED);
    return;
  }
  const value = load<u32>(tpdu + <usize>at, 4);
  if (type == TYPE_RDP_NEG_RSP) {
    store<u32>(state + S_SELECTED, value);
    markDone(state, F_NEG_RSP);
  } else if (type == TYPE_RDP_NEG_FAILURE) {
    store<u32>(state + S_FAILURE, value);
    markDone(state, F_NEG_FAILURE);
  } else {
    countAnomaly(RdpAnomaly.NEGOTIATION_MALFORMED);
  }
}

function writeCookie(state: usize): void {
  const cookieLength = <u32>load<u8>(state + S_COOKIE_LENGTH);
  if (cookieLength == 0) return;
  fieldText(RdpField.COOKIE, state + S_COOKIE, cookieLength);
  fieldText(Field.USER, state + S_COOKIE, cookieLength);
  fieldText(Field.ACCOUNT, state + S_COOKIE, cookieLength);
}

function writeStart(state: usize): void {
  const flags = load<u8>(state + S_FLAGS);
  store<u8>(state + S_FLAGS, flags | F_STARTED);
  if (!beginSessionRecord(RecordType.RDP, (flags & F_CONFIRM) != 0, RdpField.SESSION_EVENT, "start")) return;
  writeCookie(state);
  if ((flags & F_NEG_REQ) != 0) {
    const requested = load<u32>(state + S_REQUESTED);
    fieldU64(RdpField.REQUESTED_PROTOCOLS, requested);
    if (requested == 0) fieldLiteral(RdpField.REQUESTED_PROTOCOL, "rdp");
    for (let bit: u32 = 1; bit <= 0x10; bit <<= 1) {
      if ((requested & bit) != 0) fieldLiteral(RdpField.REQUESTED_PROTOCOL, protocolName(bit));
    }
  }

  if ((flags & F_NEG_RSP) != 0) {
    const selected = load<u32>(state + S_SELECTED);
    fieldU64(RdpField.SELECTED_PROTOCOLS, selected);
    fieldLiteral(RdpField.SELECTED_PROTOCOL, protocolName(selected));
    fieldLiteral(RdpField.AUTH_SCHEME, protocolName(selected));
  } else if ((flags & F_CONFIRM) != 0 && (flags & F_NEG_FAILURE) == 0) {
    // A Confirm without RDP_NEG_RSP: standard RDP security.
    fieldLiteral(RdpField.SELECTED_PROTOCOL, "rdp");
    fieldLiteral(RdpField.AUTH_SCHEME, "rdp");
  }

  if ((flags & F_NEG_FAILURE) != 0) {
    const code = load<u32>(state + S_FAILURE);
    fieldU64(RdpField.FAILURE_CODE, code);
    const name = failureName(code);
    if (name.length > 0) fieldLiteral(RdpField.FAILURE, name);
  }
  // A negotiation failure is a security-protocol mismatch, not a rejected
  // password, so it does not count as a failed login either.
  fieldLiteral(RdpField.LOGIN_RESULT, "unknown");
  endRecord();
}

// [MS-RDPBCGR] 2.2.1.1.1 requestedProtocols flags.
function protocolName(value: u32): string {
  switch (value) {
    case 0: return "rdp";
    case 1: return "tls";                     // PROTOCOL_SSL
    case 2: return "credssp";                 // PROTOCOL_HYBRID
    case 4: return "rdstls";                  // PROTOCOL_RDSTLS
    case 8: return "credssp_early_user_auth"; // PROTOCOL_HYBRID_EX
    case 0x10: return "rdsaad";               // PROTOCOL_RDSAAD
  }
  return "other";
}

// [MS-RDPBCGR] 2.2.1.2.2 failureCode values.
function failureName(code: u32): string {
  switch (code) {
    case 1: return "SSL_REQUIRED_BY_SERVER";
    case 2: return "SSL_NOT_ALLOWED_BY_SERVER";
    case 3: return "SSL_CERT_NOT_ON_SERVER";
    case 4: return "INCONSISTENT_FLAGS";
    case 5: return "HYBRID_REQUIRED_BY_SERVER";
    case 6: return "SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER";
  }
  return "";
}
