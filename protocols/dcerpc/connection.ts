// Connection-oriented DCE-RPC: per-connection state and PDU handling shared by
// DCE-RPC over TCP (dcerpc.ts) and over SMB named pipes (pipe.ts). Both hand
// whole PDUs here, or the beginning of a PDU that was too long to buffer.
//
// Specifications: DCE 1.1: Remote Procedure Call (The Open Group C706, 1997)
// chapter 12 "RPC PDU Encodings", and [MS-RPCE] Remote Procedure Call Protocol
// Extensions, for the Windows additions (auth types, secondary addresses,
// NDR64). Section numbers below are C706's unless marked.
//
// Common header of every connection-oriented PDU (12.6.3.1):
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +---------------+---------------+---------------+---------------+
//   |   rpc_vers    | rpc_vers_minor|     PTYPE     |   pfc_flags   |  0
//   +---------------+---------------+---------------+---------------+
//   |                 packed_drep (data representation)             |  4
//   +-------------------------------+-------------------------------+
//   |          frag_length          |          auth_length          |  8
//   +-------------------------------+-------------------------------+
//   |                            call_id                            | 12
//   +---------------------------------------------------------------+
//
// frag_length, auth_length and call_id use the integer representation named
// by the high nibble of packed_drep[0] (0 big-endian, 1 little-endian, 14.2.5),
// and so does the NDR stub.

import { fits } from "../api";
import { Field, RecordType } from "../fields";
import {
  beginRecord, contextDstAddress, contextDstPort, contextTsNsec, contextTsSec, endRecord,
  fieldBool, fieldLiteral, fieldText, fieldU64,
} from "../../wasm-core/assembly/events";
import { countAnomaly } from "../../wasm-core/assembly/counters";
import { u32ToDecimal, writeHex } from "../text";
import {
  identityDomain, identityDomainLength, identityIsSet, identityUser, identityUserLength,
  ntlmInspectBlob, writeAccount,
} from "../ntlm/ntlmssp";
import { DcerpcAnomaly, DcerpcField } from "./fields";
import { findInterface, Interface, interfaceName, operationName, UNKNOWN_INTERFACE } from "./interfaces";
import { EVIDENCE_U64, extractEvidence } from "./stub";
import { lookupEndpoint, readEptMapResponse } from "./endpoints";

// PTYPE values (12.6.4).
export namespace PduType {
  @inline export const REQUEST: u8 = 0;
  @inline export const RESPONSE: u8 = 2;
  @inline export const FAULT: u8 = 3;
  @inline export const BIND: u8 = 11;
  @inline export const BIND_ACK: u8 = 12;
  @inline export const BIND_NAK: u8 = 13;
  @inline export const ALTER_CONTEXT: u8 = 14;
  @inline export const ALTER_CONTEXT_RESP: u8 = 15;
  @inline export const AUTH3: u8 = 16;
  @inline export const SHUTDOWN: u8 = 17;
  @inline export const CO_CANCEL: u8 = 18;
  @inline export const ORPHANED: u8 = 19;
}

// pfc_flags bits (12.6.3.1).
@inline const PFC_FIRST_FRAG: u8 = 0x01;
@inline const PFC_LAST_FRAG: u8 = 0x02;
@inline const PFC_OBJECT_UUID: u8 = 0x80;

// auth_type values ([MS-RPCE] security providers). SPNEGO and NTLMSSP carry NTLM messages.
@inline const AUTH_TYPE_SPNEGO: u8 = 9;
@inline const AUTH_TYPE_NTLMSSP: u8 = 10;
// auth_level RPC_C_AUTHN_LEVEL_PKT_PRIVACY (13.1.2.1): the stub is encrypted.
@inline const AUTH_LEVEL_PKT_PRIVACY: u8 = 6;

// Protection of a request's stub, read from its sec_trailer (connection byte 34).
@inline const STUB_CLEAR: u8 = 0;
@inline const STUB_SEALED: u8 = 1;
// An auth verifier is present but was not captured with the PDU prefix.
@inline const STUB_LEVEL_UNKNOWN: u8 = 2;

// p_result_t result values (12.6.3.1): anything but acceptance leaves the
// context unusable. That includes negotiate_ack (3), the reply to a bind time
// feature negotiation, which offers no syntax.
@inline const RESULT_ACCEPTANCE: u32 = 0;

@inline export const COMMON_HEADER_BYTES: u32 = 16;
// sec_trailer before the auth value (13.2.6.1): auth_type, auth_level,
// auth_pad_length, auth_reserved, auth_context_id.
@inline const SEC_TRAILER_BYTES: u32 = 8;

// Connection state layout, with offsets from the start of the area. The
// transport chooses the stub buffer's capacity, because the pipe state is
// smaller than the TCP one.
//
//     0 u8  flags (bit 0 initialised, bits 1-2 resynchronising per direction)
//     1 u8  context count           2 u8 pending count     3 u8 fragment active
//     4 u32 stub capacity
//     8 u32 call_id of the request being reassembled
//    12 u16 its context id         14 u16 its opnum
//    16 u32 its ts_sec             20 u32 its ts_nsec
//    24 u32 stub bytes kept        28 u32 stub bytes cut
//    32 u8  stub is big-endian     33 u8 reserved
//    34 u8  stub protection of the request being reassembled (STUB_*)
//    36 u32 call_id owning the evidence area
//    40 u32 evidence bytes used (0: none)
//    44 u32 pending sequence counter
//    48 u16 secondary address length, 50..95 secondary address (46 bytes)
//    96 identity (NTLM_IDENTITY_BYTES)
//   608 contexts: CONTEXT_MAX x 24
//   992 pending calls: PENDING_MAX x 24
//  1184 evidence area: EVIDENCE_BYTES
//  1696 stub buffer: stub capacity
@inline const CONN_FLAGS: usize = 0;
@inline const CONN_CONTEXT_COUNT: usize = 1;
@inline const CONN_PENDING_COUNT: usize = 2;
@inline const CONN_FRAGMENT_ACTIVE: usize = 3;
@inline const CONN_STUB_CAPACITY: usize = 4;
@inline const CONN_FRAGMENT_CALL_ID: usize = 8;
@inline const CONN_FRAGMENT_CONTEXT_ID: usize = 12;
@inline const CONN_FRAGMENT_OPNUM: usize = 14;
@inline const CONN_FRAGMENT_TS_SEC: usize = 16;
@inline const CONN_FRAGMENT_TS_NSEC: usize = 20;
@inline const CONN_STUB_LENGTH: usize = 24;
@inline const CONN_STUB_CUT: usize = 28;
@inline const CONN_STUB_BIG_ENDIAN: usize = 32;
@inline const CONN_STUB_PROTECTION: usize = 34;
@inline const CONN_EVIDENCE_CALL_ID: usize = 36;
@inline const CONN_EVIDENCE_LENGTH: usize = 40;
@inline const CONN_SEQUENCE: usize = 44;
@inline const CONN_SECONDARY_ADDRESS_LENGTH: usize = 48;
@inline const CONN_SECONDARY_ADDRESS: usize = 50;
@inline const SECONDARY_ADDRESS_MAX: u32 = 46;
@inline const CONN_IDENTITY: usize = 96;
@inline const CONN_CONTEXTS: usize = 608;
@inline const CONN_PENDING: usize = 992;
@inline const CONN_EVIDENCE: usize = 1184;
@inline const CONN_STUB: usize = 1696;

@inline const FLAG_INITIALISED: u8 = 1;
// Set by a gap in one direction until a PDU header is found again.
@inline const FLAG_RESYNC_TO_SERVER: u8 = 2;
@inline const FLAG_RESYNC_TO_CLIENT: u8 = 4;

// Presentation contexts per connection. Windows clients offer one to three
// per bind and rarely bind more than a handful of interfaces per connection.
@inline export const CONTEXT_MAX: u32 = 16;
// Context entry: u16 context id, i16 interface index, u16 version major,
// u16 flags (CONTEXT_*), 16 bytes UUID (little-endian fields, as in a GUID).
@inline const CONTEXT_ENTRY_BYTES: u32 = 24;
// Context flags. The high byte contains the element's position in the last bind
// or alter_context, which is how a bind_ack result (listed in the same order,
// 12.6.4.4) finds its context.
@inline const CONTEXT_NDR64: u16 = 1;
@inline const CONTEXT_REJECTED: u16 = 2;
@inline const CONTEXT_AWAITING_RESULT: u16 = 4;
// Learnt from the endpoint mapper for a connection whose bind was not seen.
@inline const CONTEXT_FROM_ENDPOINT_MAP: u16 = 8;

// Outstanding calls per connection; Windows clients wait for each response on
// a named pipe and rarely pipeline more than a few calls over TCP.
@inline export const PENDING_MAX: u32 = 8;
// Pending entry: u32 call id, u16 context id, u16 opnum, u32 ts_sec, u32 ts_nsec,
// u32 sequence, u8 used, u8 stub truncated, u8 big-endian, u8 stub sealed.
@inline const PENDING_ENTRY_BYTES: u32 = 24;

// Evidence fields of one call, stored as u16 field id | u16 length | value,
// the value UTF-8 text or a u64 (EVIDENCE_U64 in stub.ts).
@inline export const EVIDENCE_BYTES: u32 = 512;

// Size of the fixed part; a connection area is this plus its stub capacity.
// CONN_IDENTITY + NTLM_IDENTITY_BYTES (96 + 512) ends where the contexts start.
@inline export const CONNECTION_FIXED_BYTES: u32 = 1696;

// Named pipe and SMB account set by dcerpcSetPipeContext, used by records of
// pipe connections (the pipe name and account belong to the SMB layer).
@inline export const PIPE_NAME_MAX: u32 = 256;
@inline export const PIPE_NAME_PART_MAX: u32 = 168;
const pipeName = memory.data(<i32>PIPE_NAME_MAX);
const pipeUser = memory.data(<i32>PIPE_NAME_PART_MAX);
const pipeDomain = memory.data(<i32>PIPE_NAME_PART_MAX);
let pipeNameLength: u32 = 0;
let pipeUserLength: u32 = 0;
let pipeDomainLength: u32 = 0;

// Copies the pipe context; longer values are cut to their buffers.
export function storePipeContext(name: usize, nameLength: u32, user: usize, userLength: u32, domain: usize, domainLength: u32): void {
  pipeNameLength = copyCapped(pipeName, name, nameLength, PIPE_NAME_MAX);
  pipeUserLength = copyCapped(pipeUser, user, userLength, PIPE_NAME_PART_MAX);
  pipeDomainLength = copyCapped(pipeDomain, domain, domainLength, PIPE_NAME_PART_MAX);
}

function copyCapped(dst: usize, src: usize, length: u32, capacity: u32): u32 {
  const n = length < capacity ? length : capacity;
  if (n > 0) memory.copy(dst, src, n);
  return n;
}
// True while the PDU being handled came from a named pipe.
let onPipe: bool = false;

// Scratch for text built per record: a UUID, a port, "DOMAIN\user", "0x%08x".
const scratch = memory.data(400);

// Initialises a zeroed connection area once.
export function initConnection(conn: usize, stubCapacity: u32): void {
  if ((load<u8>(conn + CONN_FLAGS) & FLAG_INITIALISED) != 0) return;
  store<u8>(conn + CONN_FLAGS, FLAG_INITIALISED);
  store<u32>(conn + CONN_STUB_CAPACITY, stubCapacity);
}

// Integer reads in the PDU's data representation.
@inline export function read16(p: usize, bigEndian: bool): u32 {
  const v = load<u16>(p);
  return <u32>(bigEndian ? bswap<u16>(v) : v);
}

@inline export function read32(p: usize, bigEndian: bool): u32 {
  const v = load<u32>(p);
  return bigEndian ? bswap<u32>(v) : v;
}

// Checks the common header of the PDU at `pdu` (at least 16 bytes available)
// and returns its frag_length, or 0 when the header is invalid (12.6.3.1).
export function checkHeader(pdu: usize): u32 {
  const version = load<u8>(pdu);
  const minor = load<u8>(pdu, 1);
  const drep0 = load<u8>(pdu, 4);
  // packed_drep[0]: integer representation in the high nibble (0 or 1),
  // character representation in the low nibble (0 ASCII, 1 EBCDIC) (14.1).
  if (version != 5 || minor > 1 || (drep0 >> 4) > 1 || (drep0 & 0x0f) > 1) return 0;
  const fragLength = read16(pdu + 8, (drep0 >> 4) == 0);
  if (fragLength < COMMON_HEADER_BYTES) return 0;
  return fragLength;
}

// Handles one PDU whose header passed checkHeader. `available` bytes are
// present at `pdu` (>= 16); when it is less than frag_length only the
// beginning of the PDU is parsed. The PDU type, not the direction, decides the
// handling: a request is a request whichever side sends it.
export function handlePdu(conn: usize, fromPipe: bool, pdu: usize, available: u32): void {
  onPipe = fromPipe;
  const bigEndian = (load<u8>(pdu, 4) >> 4) == 0;
  const fragLength = read16(pdu + 8, bigEndian);
  const ptype = load<u8>(pdu, 2);
  // A response's header is all this dissector reads from it, so only other
  // PDUs count as parsed in part.
  if (available >= fragLength) available = fragLength;
  else if (ptype != PduType.RESPONSE) countAnomaly(DcerpcAnomaly.PDU_PREFIX_ONLY);

  switch (ptype) {
    case PduType.REQUEST: handleRequest(conn, pdu, available, fragLength, bigEndian); break;
    case PduType.RESPONSE: handleResponse(conn, pdu, available, bigEndian, false); break;
    case PduType.FAULT: handleResponse(conn, pdu, available, bigEndian, true); break;
    case PduType.BIND:
    case PduType.ALTER_CONTEXT:
      handleBind(conn, pdu, available, bigEndian, ptype);
      inspectAuth(conn, pdu, available, fragLength, bigEndian, false);
      break;
    case PduType.BIND_ACK:
    case PduType.ALTER_CONTEXT_RESP:
      handleBindAck(conn, pdu, available, bigEndian);
      inspectAuth(conn, pdu, available, fragLength, bigEndian, true);
      break;
    case PduType.AUTH3:
      inspectAuth(conn, pdu, available, fragLength, bigEndian, false);
      break;
    case PduType.BIND_NAK:
      settleAwaitingContexts(conn);
      break;
    case PduType.SHUTDOWN:
    case PduType.CO_CANCEL:
    case PduType.ORPHANED:
      break;
    default:
      countAnomaly(DcerpcAnomaly.UNKNOWN_PTYPE);
  }
}

// ---------------------------------------------------------------------------
// Auth verifier (13.2.6.1, [MS-RPCE] sec_trailer)

// Passes the auth value of bind, alter_context, their acks and auth3 to the
// NTLMSSP parser; an AUTHENTICATE fills the connection's identity.
function inspectAuth(conn: usize, pdu: usize, available: u32, fragLength: u32, bigEndian: bool, serverToClient: bool): void {
  const authLength = read16(pdu + 10, bigEndian);
  if (authLength == 0) return;
  if (fragLength < COMMON_HEADER_BYTES + SEC_TRAILER_BYTES + authLength) {
    countAnomaly(DcerpcAnomaly.LENGTH_MISMATCH);
    return;
  }
  const trailer = fragLength - authLength - SEC_TRAILER_BYTES;
  if (!fits(available, trailer, SEC_TRAILER_BYTES + authLength)) return;
  const authType = load<u8>(pdu + <usize>trailer);
  if (authType != AUTH_TYPE_NTLMSSP && authType != AUTH_TYPE_SPNEGO) return;
  ntlmInspectBlob(pdu + <usize>(trailer + SEC_TRAILER_BYTES), authLength, serverToClient, "dcerpc", conn + CONN_IDENTITY);
}

// Returns the number of stub bytes before the auth verifier, given the stub
// starts at `stubStart` of a PDU of `fragLength`.
function stubEnd(pdu: usize, available: u32, fragLength: u32, bigEndian: bool): u32 {
  const authLength = read16(pdu + 10, bigEndian);
  if (authLength == 0) return fragLength;
  if (fragLength < COMMON_HEADER_BYTES + SEC_TRAILER_BYTES + authLength) {
    countAnomaly(DcerpcAnomaly.LENGTH_MISMATCH);
    return fragLength;
  }
  const trailer = fragLength - authLength - SEC_TRAILER_BYTES;
  let padLength: u32 = 0;
  if (fits(available, trailer, SEC_TRAILER_BYTES)) padLength = <u32>load<u8>(pdu + <usize>trailer, 2);
  return padLength <= trailer ? trailer - padLength : trailer;
}

// ---------------------------------------------------------------------------
// bind / alter_context (12.6.4.3, 12.6.4.1)
//
//   16 max_xmit_frag u16 | 18 max_recv_frag u16 | 20 assoc_group_id u32
//   24 p_context_elem: n_context_elem u8, reserved u8, reserved2 u16, then
//      per element: p_cont_id u16 | n_transfer_syn u8 | reserved u8 |
//      abstract_syntax (if_uuid 16, if_version u32) | transfer_syntaxes (20 each)

function handleBind(conn: usize, pdu: usize, available: u32, bigEndian: bool, ptype: u8): void {
  if (!fits(available, 24, 4)) {
    countAnomaly(DcerpcAnomaly.LENGTH_MISMATCH);
    return;
  }
  const count = <u32>load<u8>(pdu, 24);
  // A new bind or alter_context supersedes results still awaited.
  settleAwaitingContexts(conn);
  beginRecord(RecordType.DCERPC, false);
  fieldLiteral(Field.PDU_TYPE, ptype == PduType.BIND ? "bind" : "alter_context");
  fieldU64(DcerpcField.CALL_ID, read32(pdu + 12, bigEndian));
  let at: u32 = 28;
  for (let i: u32 = 0; i < count; i++) {
    if (!fits(available, at, 24)) {
      countAnomaly(DcerpcAnomaly.LENGTH_MISMATCH);
      break;
    }
    const element = pdu + <usize>at;
    const contextId = read16(element, bigEndian);
    const transferCount = <u32>load<u8>(element, 2);
    const uuid = element + 4;
    const versionMajor = read16(element + 20, bigEndian);
    const ndr64 = transferCount > 0 && fits(available, at + 24, 20) && isNdr64(element + 24, bigEndian);
    // `count` is a u8, so the position fits in the high byte of the flags.
    const flags = (ndr64 ? CONTEXT_NDR64 : 0) | CONTEXT_AWAITING_RESULT | <u16>(i << 8);
    const index = addContext(conn, contextId, uuid, bigEndian, versionMajor, flags);
    fieldU64(DcerpcField.CONTEXT_ID, contextId);
    writeUuidField(DcerpcField.INTERFACE_UUID, uuid, bigEndian);
    if (index != UNKNOWN_INTERFACE) fieldLiteral(DcerpcField.INTERFACE, interfaceName(index));
    fieldU64(DcerpcField.INTERFACE_VERSION, versionMajor);
    at += 24 + transferCount * 20;
  }
  writeConnectionFields(conn);
  endRecord();
}

// True when the transfer syntax at `uuid` is NDR64 ([MS-RPCE],
// 71710533-beba-4937-8319-b5dbef9ccc36).
function isNdr64(uuid: usize, bigEndian: bool): bool {
  return read32(uuid, bigEndian) == 0x71710533 && read16(uuid + 4, bigEndian) == 0xbeba &&
    read16(uuid + 6, bigEndian) == 0x4937 && load<u64>(uuid, 8) == 0x36cc9cefdbb51983;
}

// Stores (or replaces) the interface of a context id; returns the interface
// index. `flags` contains CONTEXT_* bits, CONTEXT_NDR64 for the first transfer syntax.
// NOTE: a context offering several transfer syntaxes is assumed to use the
// first; the transfer syntax chosen in bind_ack is not read. Windows offers
// one per context.
function addContext(conn: usize, contextId: u32, uuid: usize, bigEndian: bool, versionMajor: u32, flags: u16): i32 {
  const index = findInterface(read32(uuid, bigEndian), read16(uuid + 4, bigEndian), read16(uuid + 6, bigEndian), uuid + 8);
  let entry = findContext(conn, contextId);
  if (entry == 0) {
    const count = <u32>load<u8>(conn + CONN_CONTEXT_COUNT);
    if (count >= CONTEXT_MAX) {
      countAnomaly(DcerpcAnomaly.CONTEXT_TABLE_FULL);
      return index;
    }
    entry = conn + CONN_CONTEXTS + <usize>(count * CONTEXT_ENTRY_BYTES);
    store<u8>(conn + CONN_CONTEXT_COUNT, <u8>(count + 1));
  }
  store<u16>(entry, <u16>contextId);
  store<i16>(entry, <i16>index, 2);
  store<u16>(entry, <u16>versionMajor, 4);
  store<u16>(entry, flags, 6);
  // Keep the UUID with little-endian fields whatever the PDU's representation.
  store<u32>(entry, read32(uuid, bigEndian), 8);
  store<u16>(entry, <u16>read16(uuid + 4, bigEndian), 12);
  store<u16>(entry, <u16>read16(uuid + 6, bigEndian), 14);
  memory.copy(entry + 16, uuid + 8, 8);
  return index;
}

// A bind_nak, or a new bind before the result came: contexts still waiting
// for a result are rejected ones (12.6.4.5).
function settleAwaitingContexts(conn: usize): void {
  const count = <u32>load<u8>(conn + CONN_CONTEXT_COUNT);
  for (let i: u32 = 0; i < count; i++) {
    const entry = conn + CONN_CONTEXTS + <usize>(i * CONTEXT_ENTRY_BYTES);
    const flags = load<u16>(entry, 6);
    if ((flags & CONTEXT_AWAITING_RESULT) != 0) store<u16>(entry, (flags & 0x00ff & ~CONTEXT_AWAITING_RESULT) | CONTEXT_REJECTED, 6);
  }
}

// Applies the result at `position` of a bind_ack or alter_context_resp.
function settleContext(conn: usize, position: u32, result: u32): void {
  const count = <u32>load<u8>(conn + CONN_CONTEXT_COUNT);
  for (let i: u32 = 0; i < count; i++) {
    const entry = conn + CONN_CONTEXTS + <usize>(i * CONTEXT_ENTRY_BYTES);
    const flags = load<u16>(entry, 6);
    if ((flags & CONTEXT_AWAITING_RESULT) == 0 || <u32>(flags >> 8) != position) continue;
    let settled = flags & 0x00ff & ~(CONTEXT_AWAITING_RESULT | CONTEXT_REJECTED);
    if (result != RESULT_ACCEPTANCE) settled |= CONTEXT_REJECTED;
    store<u16>(entry, settled, 6);
    return;
  }
}

function findContext(conn: usize, contextId: u32): usize {
  const count = <u32>load<u8>(conn + CONN_CONTEXT_COUNT);
  for (let i: u32 = 0; i < count; i++) {
    const entry = conn + CONN_CONTEXTS + <usize>(i * CONTEXT_ENTRY_BYTES);
    if (<u32>load<u16>(entry) == contextId) return entry;
  }
  return 0;
}

// ---------------------------------------------------------------------------
// bind_ack / alter_context_resp (12.6.4.4, 12.6.4.2)
//
//   16 max_xmit_frag u16 | 18 max_recv_frag u16 | 20 assoc_group_id u32
//   24 sec_addr: length u16, port_spec (length bytes, NUL included)
//      padding to a 4-byte boundary
//      p_result_list: n_results u8, reserved u8, reserved2 u16, then per
//      result: result u16 | reason u16 | transfer_syntax (20)

function handleBindAck(conn: usize, pdu: usize, available: u32, bigEndian: bool): void {
  if (!fits(available, 24, 2)) {
    countAnomaly(DcerpcAnomaly.LENGTH_MISMATCH);
    return;
  }
  const addressLength = read16(pdu + 24, bigEndian);
  if (!fits(available, 26, addressLength)) {
    countAnomaly(DcerpcAnomaly.LENGTH_MISMATCH);
    return;
  }
  // Drop the terminating NUL; an empty address leaves the stored one alone
  // (alter_context_resp sends none).
  let textLength = addressLength;
  while (textLength > 0 && load<u8>(pdu + 26 + <usize>(textLength - 1)) == 0) textLength--;
  if (textLength > 0) {
    if (textLength > SECONDARY_ADDRESS_MAX) textLength = SECONDARY_ADDRESS_MAX;
    memory.copy(conn + CONN_SECONDARY_ADDRESS, pdu + 26, textLength);
    store<u16>(conn + CONN_SECONDARY_ADDRESS_LENGTH, <u16>textLength);
  }

  // p_result_list starts at the next 4-byte boundary after sec_addr.
  const results = (26 + addressLength + 3) & ~3;
  if (!fits(available, results, 4)) {
    countAnomaly(DcerpcAnomaly.LENGTH_MISMATCH);
    return;
  }
  const count = <u32>load<u8>(pdu + <usize>results);
  for (let i: u32 = 0; i < count; i++) {
    const at = results + 4 + i * 24;
    if (!fits(available, at, 24)) {
      countAnomaly(DcerpcAnomaly.LENGTH_MISMATCH);
      break;
    }
    settleContext(conn, i, read16(pdu + <usize>at, bigEndian));
  }
  // Contexts the server sent no result for cannot be used.
  settleAwaitingContexts(conn);
}

// ---------------------------------------------------------------------------
// request (12.6.4.9)
//
//   16 alloc_hint u32 | 20 p_cont_id u16 | 22 opnum u16
//   24 object UUID (16, only with PFC_OBJECT_UUID) | stub data | auth verifier

function handleRequest(conn: usize, pdu: usize, available: u32, fragLength: u32, bigEndian: bool): void {
  const flags = load<u8>(pdu, 3);
  let stubStart: u32 = 24;
  if ((flags & PFC_OBJECT_UUID) != 0) stubStart += 16;
  if (fragLength < stubStart || !fits(available, 0, 24)) {
    countAnomaly(DcerpcAnomaly.LENGTH_MISMATCH);
    return;
  }
  const callId = read32(pdu + 12, bigEndian);
  let end = stubEnd(pdu, available, fragLength, bigEndian);
  if (end < stubStart) end = stubStart;
  // Stub bytes present here, and those that the buffer could not hold.
  let present: u32 = 0;
  if (available > stubStart) present = (end < available ? end : available) - stubStart;
  const missing = end - stubStart - present;

  if ((flags & PFC_FIRST_FRAG) != 0) {
    if (load<u8>(conn + CONN_FRAGMENT_ACTIVE) != 0) {
      countAnomaly(DcerpcAnomaly.FRAGMENT_INCOMPLETE);
      finishRequest(conn);
    }
    store<u8>(conn + CONN_FRAGMENT_ACTIVE, 1);
    store<u32>(conn + CONN_FRAGMENT_CALL_ID, callId);
    store<u16>(conn + CONN_FRAGMENT_CONTEXT_ID, <u16>read16(pdu + 20, bigEndian));
    store<u16>(conn + CONN_FRAGMENT_OPNUM, <u16>read16(pdu + 22, bigEndian));
    store<u32>(conn + CONN_FRAGMENT_TS_SEC, contextTsSec());
    store<u32>(conn + CONN_FRAGMENT_TS_NSEC, contextTsNsec());
    store<u32>(conn + CONN_STUB_LENGTH, 0);
    store<u32>(conn + CONN_STUB_CUT, 0);
    store<u8>(conn + CONN_STUB_BIG_ENDIAN, bigEndian ? 1 : 0);
    store<u8>(conn + CONN_STUB_PROTECTION, stubProtection(pdu, available, fragLength, bigEndian));
    if ((flags & PFC_LAST_FRAG) != 0) {
      // Single-fragment request: parse the stub in place, no copy.
      store<u32>(conn + CONN_STUB_CUT, missing);
      finishRequestWithStub(conn, pdu + <usize>stubStart, present);
      return;
    }
  } else if (load<u8>(conn + CONN_FRAGMENT_ACTIVE) == 0 || load<u32>(conn + CONN_FRAGMENT_CALL_ID) != callId) {
    countAnomaly(DcerpcAnomaly.FRAGMENT_UNEXPECTED);
    return;
  }

  appendStub(conn, pdu + <usize>stubStart, present, missing);
  if ((flags & PFC_LAST_FRAG) != 0) finishRequest(conn);
}

// Reads auth_level from the sec_trailer of a request (13.2.6.1): a sealed
// stub is encrypted, so NDR evidence cannot be read from it.
function stubProtection(pdu: usize, available: u32, fragLength: u32, bigEndian: bool): u8 {
  const authLength = read16(pdu + 10, bigEndian);
  if (authLength == 0) return STUB_CLEAR;
  if (fragLength < COMMON_HEADER_BYTES + SEC_TRAILER_BYTES + authLength) return STUB_LEVEL_UNKNOWN;
  const trailer = fragLength - authLength - SEC_TRAILER_BYTES;
  if (!fits(available, trailer, SEC_TRAILER_BYTES)) return STUB_LEVEL_UNKNOWN;
  return load<u8>(pdu + <usize>trailer, 1) == AUTH_LEVEL_PKT_PRIVACY ? STUB_SEALED : STUB_CLEAR;
}

// Appends stub bytes of a fragment, up to the stub capacity. Once bytes were
// cut, later bytes are not appended: after a hole the NDR offsets are lost.
function appendStub(conn: usize, src: usize, length: u32, missing: u32): void {
  const capacity = load<u32>(conn + CONN_STUB_CAPACITY);
  const kept = load<u32>(conn + CONN_STUB_LENGTH);
  let n = length;
  if (load<u32>(conn + CONN_STUB_CUT) != 0) n = 0;
  if (n > capacity - kept) n = capacity - kept;
  memory.copy(conn + CONN_STUB + <usize>kept, src, n);
  store<u32>(conn + CONN_STUB_LENGTH, kept + n);
  store<u32>(conn + CONN_STUB_CUT, load<u32>(conn + CONN_STUB_CUT) + (length - n) + missing);
}

// Completes the request being reassembled from its buffered stub.
function finishRequest(conn: usize): void {
  finishRequestWithStub(conn, conn + CONN_STUB, load<u32>(conn + CONN_STUB_LENGTH));
}

// Extracts the operation's evidence from the stub and queues the call until
// its response arrives.
function finishRequestWithStub(conn: usize, stub: usize, stubLength: u32): void {
  store<u8>(conn + CONN_FRAGMENT_ACTIVE, 0);
  const callId = load<u32>(conn + CONN_FRAGMENT_CALL_ID);
  const contextId = <u32>load<u16>(conn + CONN_FRAGMENT_CONTEXT_ID);
  const opnum = <u32>load<u16>(conn + CONN_FRAGMENT_OPNUM);
  const cut = load<u32>(conn + CONN_STUB_CUT) != 0;
  if (cut) countAnomaly(DcerpcAnomaly.STUB_TRUNCATED);

  let context = findContext(conn, contextId);
  if (context == 0 && !onPipe) context = contextFromEndpointMap(conn, contextId);
  if (context == 0) {
    countAnomaly(DcerpcAnomaly.CONTEXT_UNKNOWN);
    // A TCP connection picked up at a request, with no bind seen and no
    // endpoint mapping: nothing names the interface, so no call record.
    if (!onPipe && load<u8>(conn + CONN_CONTEXT_COUNT) == 0) return;
  } else if ((load<u16>(context, 6) & CONTEXT_REJECTED) != 0) {
    countAnomaly(DcerpcAnomaly.CONTEXT_REJECTED);
  }
  const index = context != 0 ? <i32>load<i16>(context, 2) : UNKNOWN_INTERFACE;

  const protection = load<u8>(conn + CONN_STUB_PROTECTION);
  const entry = addPending(conn, callId, contextId, opnum, cut);
  // Encrypted bytes are never NDR-decoded: they would yield garbage evidence.
  if (protection == STUB_SEALED) {
    countAnomaly(DcerpcAnomaly.STUB_SEALED);
    if (entry != 0) store<u8>(entry, 1, 23);
    return;
  }
  if (index == UNKNOWN_INTERFACE || entry == 0) return;
  if (protection == STUB_LEVEL_UNKNOWN) {
    countAnomaly(DcerpcAnomaly.AUTH_LEVEL_UNKNOWN);
    return;
  }

  // The evidence area has room for one call, so its previous owner is
  // reported first if it still waits for a response.
  const evidence = conn + CONN_EVIDENCE;
  const bigEndian = load<u8>(conn + CONN_STUB_BIG_ENDIAN) != 0;
  const ndr64 = (load<u16>(context, 6) & CONTEXT_NDR64) != 0;
  const probe = extractEvidence(index, opnum, stub, stubLength, bigEndian, ndr64, scratchEvidence, EVIDENCE_BYTES);
  if (probe == 0) return;
  if (load<u32>(conn + CONN_EVIDENCE_LENGTH) != 0) {
    const owner = findPending(conn, load<u32>(conn + CONN_EVIDENCE_CALL_ID));
    if (owner != 0 && owner != entry) {
      countAnomaly(DcerpcAnomaly.EVIDENCE_SLOT_BUSY);
      writeCallRecord(conn, owner, false, false, 0, false);
    }
  }
  memory.copy(evidence, scratchEvidence, probe);
  store<u32>(conn + CONN_EVIDENCE_CALL_ID, callId);
  store<u32>(conn + CONN_EVIDENCE_LENGTH, probe);
}

const scratchEvidence = memory.data(<i32>EVIDENCE_BYTES);

// A request over TCP names a context that no captured bind offered: when the
// endpoint mapper named the interface that listens on this server port, adopt
// it for the context id. Returns the new context entry, or 0.
function contextFromEndpointMap(conn: usize, contextId: u32): usize {
  const uuid = lookupEndpoint(contextDstAddress(), contextDstPort());
  if (uuid == 0) return 0;
  addContext(conn, contextId, uuid, false, 0, CONTEXT_FROM_ENDPOINT_MAP);
  return findContext(conn, contextId);
}

function addPending(conn: usize, callId: u32, contextId: u32, opnum: u32, stubCut: bool): usize {
  let free: usize = 0;
  let oldest: usize = 0;
  for (let i: u32 = 0; i < PENDING_MAX; i++) {
    const entry = conn + CONN_PENDING + <usize>(i * PENDING_ENTRY_BYTES);
    if (load<u8>(entry, 20) == 0) {
      if (free == 0) free = entry;
    } else if (oldest == 0 || load<u32>(entry, 16) - load<u32>(oldest, 16) > 0x80000000) {
      oldest = entry;
    }
  }
  if (free == 0) {
    countAnomaly(DcerpcAnomaly.PENDING_CALLS_FULL);
    writeCallRecord(conn, oldest, false, false, 0, false);
    free = oldest;
  }
  const sequence = load<u32>(conn + CONN_SEQUENCE);
  store<u32>(conn + CONN_SEQUENCE, sequence + 1);
  store<u32>(free, callId);
  store<u16>(free, <u16>contextId, 4);
  store<u16>(free, <u16>opnum, 6);
  store<u32>(free, load<u32>(conn + CONN_FRAGMENT_TS_SEC), 8);
  store<u32>(free, load<u32>(conn + CONN_FRAGMENT_TS_NSEC), 12);
  store<u32>(free, sequence, 16);
  store<u8>(free, 1, 20);
  store<u8>(free, stubCut ? 1 : 0, 21);
  store<u8>(free, load<u8>(conn + CONN_STUB_BIG_ENDIAN), 22);
  store<u8>(free, 0, 23);
  store<u8>(conn + CONN_PENDING_COUNT, load<u8>(conn + CONN_PENDING_COUNT) + 1);
  return free;
}

function findPending(conn: usize, callId: u32): usize {
  for (let i: u32 = 0; i < PENDING_MAX; i++) {
    const entry = conn + CONN_PENDING + <usize>(i * PENDING_ENTRY_BYTES);
    if (load<u8>(entry, 20) != 0 && load<u32>(entry) == callId) return entry;
  }
  return 0;
}

// ---------------------------------------------------------------------------
// response (12.6.4.10) and fault (12.6.4.7)
//
//   16 alloc_hint u32 | 20 p_cont_id u16 | 22 cancel_count u8 | 23 reserved
//   fault only: 24 status u32

function handleResponse(conn: usize, pdu: usize, available: u32, bigEndian: bool, fault: bool): void {
  const flags = load<u8>(pdu, 3);
  const callId = read32(pdu + 12, bigEndian);
  const entry = findPending(conn, callId);
  if (entry == 0) {
    // Later fragments of a response that was already matched end up here too.
    if ((flags & PFC_FIRST_FRAG) != 0) countAnomaly(DcerpcAnomaly.RESPONSE_WITHOUT_REQUEST);
    return;
  }
  if (!fault && (flags & PFC_FIRST_FRAG) != 0 && !bigEndian) readMappedEndpoints(conn, entry, pdu, available);
  let status: u32 = 0;
  let hasStatus = false;
  if (fault && fits(available, 24, 4)) {
    status = read32(pdu + 24, bigEndian);
    hasStatus = true;
  }
  writeCallRecord(conn, entry, true, fault, status, hasStatus);
}

// Reads the towers of an ept_map response (epmapper opnum 3) into the
// endpoint table. Only the first fragment is read: one tower fits in it.
function readMappedEndpoints(conn: usize, entry: usize, pdu: usize, available: u32): void {
  if (onPipe || <u32>load<u16>(entry, 6) != 3) return;
  const context = findContext(conn, <u32>load<u16>(entry, 4));
  if (context == 0 || <i32>load<i16>(context, 2) != Interface.EPMAPPER) return;
  if (available <= 24) return;
  readEptMapResponse(pdu + 24, available - 24, contextDstAddress());
}

// ---------------------------------------------------------------------------
// Records

// Writes the record of a pending call and frees its entry. `answered` is
// false when the call is reported without a response (flow end, table full).
function writeCallRecord(conn: usize, entry: usize, answered: bool, fault: bool, status: u32, hasStatus: bool): void {
  const callId = load<u32>(entry);
  const contextId = <u32>load<u16>(entry, 4);
  const opnum = <u32>load<u16>(entry, 6);

  beginRecord(RecordType.DCERPC, answered);
  fieldLiteral(Field.PDU_TYPE, "request");
  fieldU64(DcerpcField.CALL_ID, callId);
  fieldU64(DcerpcField.CONTEXT_ID, contextId);
  fieldU64(DcerpcField.OPNUM, opnum);
  const context = findContext(conn, contextId);
  if (context != 0) {
    const contextFlags = load<u16>(context, 6);
    if ((contextFlags & CONTEXT_FROM_ENDPOINT_MAP) != 0) fieldBool(DcerpcField.ENDPOINT_MAPPED, true);
    if ((contextFlags & CONTEXT_REJECTED) != 0) fieldBool(DcerpcField.CONTEXT_REJECTED, true);
    writeUuidField(DcerpcField.INTERFACE_UUID, context + 8, false);
    const index = <i32>load<i16>(context, 2);
    if (index != UNKNOWN_INTERFACE) {
      fieldLiteral(DcerpcField.INTERFACE, interfaceName(index));
      const operation = operationName(index, opnum);
      if (operation.length > 0) fieldLiteral(DcerpcField.OPERATION, operation);
    }
  }
  if (answered) fieldU64(Field.RTT_US, elapsedMicroseconds(load<u32>(entry, 8), load<u32>(entry, 12)));
  if (fault) {
    if (hasStatus) {
      store<u8>(scratch, 0x30);
      store<u8>(scratch, 0x78, 1);
      writeHex(status, 8, scratch + 2);
      fieldText(DcerpcField.STATUS, scratch, 10);
      const name = faultName(status);
      if (name.length > 0) fieldLiteral(DcerpcField.FAULT, name);
    } else {
      fieldLiteral(DcerpcField.FAULT, "fault");
    }
  }
  if (load<u8>(entry, 21) != 0) fieldBool(DcerpcField.STUB_TRUNCATED, true);
  if (load<u8>(entry, 22) != 0) fieldBool(DcerpcField.BIG_ENDIAN, true);
  if (load<u8>(entry, 23) != 0) fieldBool(DcerpcField.STUB_SEALED, true);
  if (load<u32>(conn + CONN_EVIDENCE_LENGTH) != 0 && load<u32>(conn + CONN_EVIDENCE_CALL_ID) == callId) {
    replayEvidence(conn + CONN_EVIDENCE, load<u32>(conn + CONN_EVIDENCE_LENGTH));
    store<u32>(conn + CONN_EVIDENCE_LENGTH, 0);
  }
  writeConnectionFields(conn);
  endRecord();

  store<u8>(entry, 0, 20);
  store<u8>(conn + CONN_PENDING_COUNT, load<u8>(conn + CONN_PENDING_COUNT) - 1);
}

function replayEvidence(area: usize, length: u32): void {
  let at: u32 = 0;
  while (fits(length, at, 4)) {
    const id = load<u16>(area + <usize>at);
    const n = <u32>load<u16>(area + <usize>at, 2);
    if (!fits(length, at + 4, n)) break;
    if ((id & EVIDENCE_U64) != 0 && n == 8) fieldU64(id & ~EVIDENCE_U64, load<u64>(area + <usize>(at + 4)));
    else fieldText(id, area + <usize>(at + 4), n);
    at += 4 + n;
  }
}

// named_pipe and the caller's account, shared by call and bind records.
function writeConnectionFields(conn: usize): void {
  const addressLength = <u32>load<u16>(conn + CONN_SECONDARY_ADDRESS_LENGTH);
  if (onPipe) {
    if (pipeNameLength > 0) fieldText(DcerpcField.NAMED_PIPE, pipeName, pipeNameLength);
  } else if (addressLength > 0) {
    // Over TCP Zeek names the pipe after the bind_ack secondary address.
    fieldText(DcerpcField.NAMED_PIPE, conn + CONN_SECONDARY_ADDRESS, addressLength);
  } else {
    fieldText(DcerpcField.NAMED_PIPE, scratch, u32ToDecimal(contextDstPort(), scratch));
  }
  if (addressLength > 0) fieldText(DcerpcField.SECONDARY_ADDRESS, conn + CONN_SECONDARY_ADDRESS, addressLength);

  const identity = conn + CONN_IDENTITY;
  let user = pipeUser;
  let userLength = onPipe ? pipeUserLength : 0;
  let domain = pipeDomain;
  let domainLength = onPipe ? pipeDomainLength : 0;
  if (identityIsSet(identity) && identityUserLength(identity) > 0) {
    user = identityUser(identity);
    userLength = identityUserLength(identity);
    domain = identityDomain(identity);
    domainLength = identityDomainLength(identity);
  }
  if (userLength == 0) return;
  fieldText(Field.USER, user, userLength);
  if (domainLength > 0) fieldText(Field.DOMAIN, domain, domainLength);
  fieldText(Field.ACCOUNT, scratch, writeAccount(user, userLength, domain, domainLength, scratch, 400));
}

// Writes a UUID (wire layout: u32, u16, u16, 8 bytes) as canonical lowercase text.
function writeUuidField(id: u16, uuid: usize, bigEndian: bool): void {
  writeHex(read32(uuid, bigEndian), 8, scratch);
  store<u8>(scratch, 0x2d, 8);
  writeHex(read16(uuid + 4, bigEndian), 4, scratch + 9);
  store<u8>(scratch, 0x2d, 13);
  writeHex(read16(uuid + 6, bigEndian), 4, scratch + 14);
  store<u8>(scratch, 0x2d, 18);
  writeHex(<u32>load<u8>(uuid, 8), 2, scratch + 19);
  writeHex(<u32>load<u8>(uuid, 9), 2, scratch + 21);
  store<u8>(scratch, 0x2d, 23);
  for (let i: u32 = 0; i < 6; i++) writeHex(<u32>load<u8>(uuid + 10 + <usize>i), 2, scratch + 24 + <usize>(i * 2));
  fieldText(id, scratch, 36);
}

function elapsedMicroseconds(sec: u32, nsec: u32): u64 {
  const now = <i64>contextTsSec() * 1_000_000_000 + <i64>contextTsNsec();
  const then = <i64>sec * 1_000_000_000 + <i64>nsec;
  return now > then ? <u64>((now - then) / 1000) : 0;
}

// Names of fault status values: nca_s_* reject codes from C706 appendix E,
// and the Win32 errors that Windows servers also return in faults.
function faultName(status: u32): string {
  switch (status) {
    case 0x00000005: return "rpc_s_access_denied";
    case 0x000006f7: return "rpc_x_bad_stub_data";
    case 0x1c010002: return "nca_s_op_rng_error";
    case 0x1c010003: return "nca_s_unk_if";
    case 0x1c01000b: return "nca_s_proto_error";
    case 0x1c000001: return "nca_s_fault_int_div_by_zero";
    case 0x1c00000d: return "nca_s_fault_unspec";
  }
  return "";
}

// ---------------------------------------------------------------------------
// Flow events

// Reports every call still waiting for a response, and a request whose last
// fragment never came.
export function closeConnection(conn: usize, fromPipe: bool): void {
  onPipe = fromPipe;
  if ((load<u8>(conn + CONN_FLAGS) & FLAG_INITIALISED) == 0) return;
  if (load<u8>(conn + CONN_FRAGMENT_ACTIVE) != 0) {
    countAnomaly(DcerpcAnomaly.FRAGMENT_INCOMPLETE);
    finishRequest(conn);
  }
  // Oldest first, so records keep the order of the requests.
  for (let n = load<u8>(conn + CONN_PENDING_COUNT); n > 0; n--) {
    let oldest: usize = 0;
    for (let i: u32 = 0; i < PENDING_MAX; i++) {
      const entry = conn + CONN_PENDING + <usize>(i * PENDING_ENTRY_BYTES);
      if (load<u8>(entry, 20) == 0) continue;
      if (oldest == 0 || load<u32>(entry, 16) - load<u32>(oldest, 16) > 0x80000000) oldest = entry;
    }
    if (oldest == 0) break;
    writeCallRecord(conn, oldest, false, false, 0, false);
  }
}

// Bytes of a direction were lost: a request being reassembled cannot be
// completed, so it is queued with what was kept.
export function gapConnection(conn: usize, fromPipe: bool): void {
  onPipe = fromPipe;
  if ((load<u8>(conn + CONN_FLAGS) & FLAG_INITIALISED) == 0) return;
  if (load<u8>(conn + CONN_FRAGMENT_ACTIVE) != 0) {
    countAnomaly(DcerpcAnomaly.FRAGMENT_INCOMPLETE);
    store<u32>(conn + CONN_STUB_CUT, load<u32>(conn + CONN_STUB_CUT) + 1);
    finishRequest(conn);
  }
}

// Marks or clears resynchronisation of one direction after a gap.
export function setResync(conn: usize, toServer: bool, on: bool): void {
  const bit = toServer ? FLAG_RESYNC_TO_SERVER : FLAG_RESYNC_TO_CLIENT;
  const flags = load<u8>(conn + CONN_FLAGS);
  store<u8>(conn + CONN_FLAGS, on ? flags | bit : flags & ~bit);
}

export function resyncPending(conn: usize, toServer: bool): bool {
  return (load<u8>(conn + CONN_FLAGS) & (toServer ? FLAG_RESYNC_TO_SERVER : FLAG_RESYNC_TO_CLIENT)) != 0;
}

// True when the 16 bytes at `pdu` look like a PDU header worth resynchronising
// on: a valid common header and a connection-oriented PTYPE (0, 2, 3 or 11 to
// 19; the others belong to connectionless RPC, C706 12.6.4).
export function plausibleHeader(pdu: usize): bool {
  if (checkHeader(pdu) == 0) return false;
  const ptype = load<u8>(pdu, 2);
  return ptype == PduType.REQUEST || ptype == PduType.RESPONSE || ptype == PduType.FAULT ||
    (ptype >= PduType.BIND && ptype <= PduType.ORPHANED);
}
