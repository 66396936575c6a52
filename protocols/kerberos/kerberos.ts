// Kerberos V5 between clients and the KDC on port 88, over TCP and UDP.
// One "kerberos" record is written per request and its reply (or error),
// naming the client principal, realm, requested service, offered encryption
// types and the result, so that accounts are attributed when NTLM is not used.
//
// Specification: RFC 4120 "The Kerberos Network Authentication Service (V5)",
// section 7.2.1 (UDP: one message per datagram) and 7.2.2 (TCP: each message
// preceded by its length):
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-------------------------------------------------------------+
//   |R|                 message length (big-endian)                 |
//   +-+-------------------------------------------------------------+
//   |                 message (DER, length bytes)                  ...
//   R: reserved, 0; set, it announces an extension this dissector does not parse.

import { fits, PROBE_MATCH, PROBE_NEED_MORE, PROBE_NO_MATCH, readU32be, STREAM_NEED_MORE, STREAM_REJECT } from "../api";
import { Field, RecordType } from "../fields";
import {
  beginRecord, contextTsNsec, contextTsSec, endRecord, fieldBool, fieldI64, fieldLiteral, fieldText, fieldU64, setRecordContext,
} from "../../wasm-core/assembly/events";
import { countAnomaly } from "../../wasm-core/assembly/counters";
import { packetAddresses, packetIpVersion, packetTsNsec, packetTsSec } from "../../wasm-core/assembly/packet";
import { KerberosAnomaly, KerberosField } from "./fields";
import {
  encryptionTypeName, errorName, MessageType, parseMessage, S_CIPHER, S_CLIENT, S_CLIENT_LENGTH, S_CLIENT_REALM,
  S_CLIENT_REALM_LENGTH, S_ERROR, S_ETYPE_COUNT, S_ETYPES, S_HAS_CIPHER, S_HAS_ERROR, S_PREAUTH, S_REALM, S_REALM_LENGTH,
  S_SERVICE, S_SERVICE_LENGTH, S_TS_NSEC, S_TS_SEC, S_TYPE, SUMMARY_BYTES,
} from "./messages";

@inline export const PORT_KERBEROS: u16 = 88;
// Dispatch id of the Kerberos dissector.
// NOTE: belongs in the Protocol namespace of protocols/api.ts, which this
// dissector may not edit; dispatch uses this constant until it moves there.
@inline export const PROTOCOL_KERBEROS: u8 = 4;

// A message up to this size is parsed whole. A longer one, such as a TGS-REQ
// whose ticket carries a large PAC, is parsed from its first bytes and the
// rest is skipped. 4096 bytes is the smallest stream buffer the core accepts.
@inline const TCP_PREFIX_BYTES: u32 = 4096;
@inline const RECORD_MARKER_BYTES: u32 = 4;
// RFC 4120 7.2.2: the high bit of the length is reserved.
@inline const RECORD_MARKER_RESERVED: u32 = 0x80000000;

// Flow state (TCP): u8 initialised, u8 request pending, u8 resync to server,
// u8 resync to client, then the pending request's summary at 8.
@inline const STATE_PENDING: usize = 1;
@inline const STATE_RESYNC: usize = 2;
@inline const STATE_REQUEST: usize = 8;

// Summary of the message being parsed.
const current = memory.data(<i32>SUMMARY_BYTES);
// Scratch for "REALM\user".
const scratch = memory.data(300);

// First tag byte of each KDC message: [APPLICATION n] constructed.
function isKdcTag(tag: u8): bool {
  return tag == 0x6a || tag == 0x6b || tag == 0x6c || tag == 0x6d || tag == 0x7e;
}

// Matches a record marker with the reserved bit clear and a plausible
// length, followed by a KDC message tag: a request to the server, or a reply
// or error from it.
export function kerberosProbe(ptr: usize, length: u32, toServer: bool): i32 {
  if (length < RECORD_MARKER_BYTES + 1) return PROBE_NEED_MORE;
  const messageLength = readU32be(ptr);
  if ((messageLength & RECORD_MARKER_RESERVED) != 0 || messageLength < 2) return PROBE_NO_MATCH;
  const tag = load<u8>(ptr, RECORD_MARKER_BYTES);
  if (toServer) return tag == 0x6a || tag == 0x6c ? PROBE_MATCH : PROBE_NO_MATCH;
  return isKdcTag(tag) ? PROBE_MATCH : PROBE_NO_MATCH;
}

// Parses the messages at `ptr`. Returns the bytes consumed (whole messages,
// or a message prefix plus the rest to skip), STREAM_NEED_MORE or
// STREAM_REJECT.
export function kerberosOnData(state: usize, toServer: bool, ptr: usize, length: u32): i32 {
  store<u8>(state, 1);
  const resyncBit: u8 = toServer ? 1 : 2;
  if ((load<u8>(state + STATE_RESYNC) & resyncBit) != 0) {
    // After a gap nothing marks the next message: wait for bytes that start one.
    if (length < RECORD_MARKER_BYTES + 1) return STREAM_NEED_MORE;
    if (kerberosProbe(ptr, length, toServer) != PROBE_MATCH) return <i32>length;
    store<u8>(state + STATE_RESYNC, load<u8>(state + STATE_RESYNC) & ~resyncBit);
  }
  let consumed: u32 = 0;
  while (fits(length, consumed, RECORD_MARKER_BYTES)) {
    const messageLength = readU32be(ptr + <usize>consumed);
    if ((messageLength & RECORD_MARKER_RESERVED) != 0 || messageLength == 0) {
      countAnomaly(KerberosAnomaly.RECORD_MARKER_INVALID);
      return consumed > 0 ? <i32>consumed : STREAM_REJECT;
    }
    const message = ptr + <usize>(consumed + RECORD_MARKER_BYTES);
    const available = length - consumed - RECORD_MARKER_BYTES;
    if (available >= messageLength) {
      handleMessage(state, message, messageLength);
      consumed += RECORD_MARKER_BYTES + messageLength;
      continue;
    }
    if (messageLength + RECORD_MARKER_BYTES <= TCP_PREFIX_BYTES || available + RECORD_MARKER_BYTES < TCP_PREFIX_BYTES) break;
    countAnomaly(KerberosAnomaly.MESSAGE_PREFIX_ONLY);
    handleMessage(state, message, available);
    const total = <u64>consumed + RECORD_MARKER_BYTES + <u64>messageLength;
    // A length beyond what the core can skip is not Kerberos.
    if (total > 0x7fffffff) return STREAM_REJECT;
    return <i32>total;
  }
  return consumed > 0 ? <i32>consumed : STREAM_NEED_MORE;
}

export function kerberosOnGap(state: usize, toServer: bool): void {
  store<u8>(state + STATE_RESYNC, load<u8>(state + STATE_RESYNC) | (toServer ? 1 : 2));
}

// Reports a request still waiting for its reply.
export function kerberosOnClose(state: usize): void {
  if (load<u8>(state + STATE_PENDING) == 0) return;
  store<u8>(state + STATE_PENDING, 0);
  writeRecord(state + STATE_REQUEST, 0);
}

// Pairs a request with the next reply or error of the flow.
function handleMessage(state: usize, message: usize, length: u32): void {
  const type = parseMessage(message, length, current);
  if (type == 0) return;
  const pending = state + STATE_REQUEST;
  if (type == MessageType.AS_REQ || type == MessageType.TGS_REQ) {
    if (load<u8>(state + STATE_PENDING) != 0) {
      countAnomaly(KerberosAnomaly.REQUEST_UNANSWERED);
      writeRecord(pending, 0);
    }
    memory.copy(pending, current, SUMMARY_BYTES);
    store<u32>(pending + S_TS_SEC, contextTsSec());
    store<u32>(pending + S_TS_NSEC, contextTsNsec());
    store<u8>(state + STATE_PENDING, 1);
    return;
  }
  if (load<u8>(state + STATE_PENDING) == 0) {
    countAnomaly(KerberosAnomaly.RESPONSE_WITHOUT_REQUEST);
    writeRecord(0, current);
    return;
  }
  store<u8>(state + STATE_PENDING, 0);
  writeRecord(pending, current);
}

// ---------------------------------------------------------------------------
// UDP (RFC 4120 7.2.1): one message per datagram, no flow state in the
// core, so requests wait in a small table keyed by the client's address and
// port and the KDC's address.

// Requests waiting for a reply over UDP; a client retries within seconds,
// so a small table suffices. The oldest entry is reported and reused.
@inline const UDP_PENDING_MAX: u32 = 32;
// Entry: client address (16) | KDC address (16) | client port u16 | used u8 |
// reserved u8 | sequence u32 | summary.
@inline const UDP_KEY_BYTES: u32 = 40;
@inline const UDP_ENTRY_BYTES: u32 = UDP_KEY_BYTES + SUMMARY_BYTES;
const udpPending = memory.data(<i32>(UDP_PENDING_MAX * UDP_ENTRY_BYTES));
let udpSequence: u32 = 0;
// Transport number of UDP in the record context (IANA protocol numbers).
@inline const IP_PROTOCOL_UDP: u8 = 17;

// Parses one UDP datagram to or from port 88 (dispatchUdp in
// wasm-core/assembly/udp.ts), with the packet context (time, addresses) of
// packet.ts. A request waits in a bounded table until its reply arrives.
export function kerberosOnUdp(srcPort: u16, dstPort: u16, payload: usize, length: u32): void {
  const toServer = dstPort == PORT_KERBEROS;
  const client = toServer ? packetAddresses : packetAddresses + 16;
  const server = toServer ? packetAddresses + 16 : packetAddresses;
  const clientPort = toServer ? srcPort : dstPort;
  setRecordContext(packetTsSec, packetTsNsec, 0, packetIpVersion, IP_PROTOCOL_UDP,
    client, clientPort, server, PORT_KERBEROS);

  const type = parseMessage(payload, length, current);
  if (type == 0) return;

  const entry = findUdpEntry(client, server, clientPort);
  if (type == MessageType.AS_REQ || type == MessageType.TGS_REQ) {
    // A retry replaces the earlier copy without reporting it.
    const slot = entry != 0 ? entry : takeUdpEntry();
    memory.copy(slot, client, 16);
    memory.copy(slot + 16, server, 16);
    store<u16>(slot, clientPort, 32);
    store<u8>(slot, 1, 34);
    store<u32>(slot, udpSequence++, 36);
    const summary = slot + UDP_KEY_BYTES;
    memory.copy(summary, current, SUMMARY_BYTES);
    store<u32>(summary + S_TS_SEC, packetTsSec);
    store<u32>(summary + S_TS_NSEC, packetTsNsec);
    return;
  }

  if (entry == 0) {
    countAnomaly(KerberosAnomaly.RESPONSE_WITHOUT_REQUEST);
    writeRecord(0, current);
    return;
  }
  store<u8>(entry, 0, 34);
  writeRecord(entry + UDP_KEY_BYTES, current);
}

function findUdpEntry(client: usize, server: usize, clientPort: u16): usize {
  for (let i: u32 = 0; i < UDP_PENDING_MAX; i++) {
    const entry = udpPending + <usize>(i * UDP_ENTRY_BYTES);
    if (load<u8>(entry, 34) == 0 || load<u16>(entry, 32) != clientPort) continue;
    if (memory.compare(entry, client, 16) == 0 && memory.compare(entry + 16, server, 16) == 0) return entry;
  }
  return 0;
}

// A free entry, or the oldest one after reporting its request unanswered.
function takeUdpEntry(): usize {
  let oldest: usize = 0;
  for (let i: u32 = 0; i < UDP_PENDING_MAX; i++) {
    const entry = udpPending + <usize>(i * UDP_ENTRY_BYTES);
    if (load<u8>(entry, 34) == 0) return entry;
    if (oldest == 0 || load<u32>(entry, 36) - load<u32>(oldest, 36) > 0x80000000) oldest = entry;
  }
  countAnomaly(KerberosAnomaly.REQUEST_UNANSWERED);
  writeRecord(oldest + UDP_KEY_BYTES, 0);
  store<u8>(oldest, 0, 34);
  return oldest;
}

// ---------------------------------------------------------------------------
// Records

// Writes one record from a request summary, a reply summary, or both (0 for
// a missing one). The client comes from the reply when it has one: a
// TGS-REQ names its client only inside the encrypted authenticator.
function writeRecord(request: usize, reply: usize): void {
  if (!beginRecord(RecordType.KERBEROS, reply != 0)) return;
  const first = request != 0 ? request : reply;
  const requestType = load<u8>(first + S_TYPE);
  const isAs = requestType == MessageType.AS_REQ || requestType == MessageType.AS_REP;
  fieldLiteral(KerberosField.REQUEST_TYPE, isAs ? "AS" : "TGS");

  let client = request;
  if (reply != 0 && load<u16>(reply + S_CLIENT_LENGTH) > 0) client = reply;
  const clientLength = client != 0 ? <u32>load<u16>(client + S_CLIENT_LENGTH) : 0;
  if (clientLength > 0) fieldText(KerberosField.CLIENT, client + S_CLIENT, clientLength);
  // For an AS-REQ the body realm is the client's realm (RFC 4120 5.4.1).
  let clientRealm: usize = 0;
  let clientRealmLength: u32 = 0;
  if (reply != 0 && load<u16>(reply + S_CLIENT_REALM_LENGTH) > 0) {
    clientRealm = reply + S_CLIENT_REALM;
    clientRealmLength = <u32>load<u16>(reply + S_CLIENT_REALM_LENGTH);
  } else if (request != 0 && isAs) {
    clientRealm = request + S_REALM;
    clientRealmLength = <u32>load<u16>(request + S_REALM_LENGTH);
  }
  if (clientRealmLength > 0) fieldText(KerberosField.CLIENT_REALM, clientRealm, clientRealmLength);

  const named = request != 0 ? request : reply;
  const realmLength = <u32>load<u16>(named + S_REALM_LENGTH);
  if (realmLength > 0) fieldText(KerberosField.REALM, named + S_REALM, realmLength);
  const serviceLength = <u32>load<u16>(named + S_SERVICE_LENGTH);
  if (serviceLength > 0) fieldText(KerberosField.SERVICE, named + S_SERVICE, serviceLength);

  if (request != 0) writeRequestFields(request);
  if (reply != 0) writeReplyFields(reply);
  if (request != 0 && reply != 0) fieldU64(Field.RTT_US, <u64>elapsedMicroseconds(load<u32>(request + S_TS_SEC), load<u32>(request + S_TS_NSEC)));

  if (clientLength > 0) {
    fieldText(Field.USER, client + S_CLIENT, clientLength);
    if (clientRealmLength > 0) {
      fieldText(Field.DOMAIN, clientRealm, clientRealmLength);
      fieldText(Field.ACCOUNT, scratch, writeAccount(clientRealm, clientRealmLength, client + S_CLIENT, clientLength));
    }
  }
  endRecord();
}

function writeRequestFields(request: usize): void {
  const count = <u32>load<u8>(request + S_ETYPE_COUNT);
  for (let i: u32 = 0; i < count; i++) {
    const etype = load<i32>(request + S_ETYPES + <usize>(i << 2));
    writeEncryptionType(KerberosField.ENCRYPTION_TYPE, etype);
  }
  fieldBool(KerberosField.PREAUTH, load<u8>(request + S_PREAUTH) != 0);
}

function writeReplyFields(reply: usize): void {
  const type = load<u8>(reply + S_TYPE);
  if (type == MessageType.KRB_ERROR) {
    fieldLiteral(KerberosField.REPLY, "KRB-ERROR");
    fieldBool(KerberosField.SUCCESS, false);
    if (load<u8>(reply + S_HAS_ERROR) != 0) {
      const code = load<i32>(reply + S_ERROR);
      fieldI64(KerberosField.ERROR_CODE, code);
      const name = errorName(code);
      if (name.length > 0) fieldLiteral(KerberosField.ERROR, name);
    }
    return;
  }
  fieldLiteral(KerberosField.REPLY, type == MessageType.AS_REP ? "AS-REP" : "TGS-REP");
  fieldBool(KerberosField.SUCCESS, true);
  if (load<u8>(reply + S_HAS_CIPHER) != 0) writeEncryptionType(KerberosField.CIPHER, load<i32>(reply + S_CIPHER));
}

function writeEncryptionType(id: u16, etype: i32): void {
  const name = encryptionTypeName(etype);
  if (name.length > 0) fieldLiteral(id, name);
  else fieldI64(id, etype);
}

// Writes "REALM\user" into the scratch buffer; returns its length.
function writeAccount(realm: usize, realmLength: u32, user: usize, userLength: u32): u32 {
  let n = realmLength < 150 ? realmLength : 150;
  memory.copy(scratch, realm, n);
  store<u8>(scratch + <usize>n, 0x5c);
  n++;
  const m = userLength < 149 ? userLength : 149;
  memory.copy(scratch + <usize>n, user, m);
  return n + m;
}

function elapsedMicroseconds(sec: u32, nsec: u32): i64 {
  const now = <i64>contextTsSec() * 1_000_000_000 + <i64>contextTsNsec();
  const then = <i64>sec * 1_000_000_000 + <i64>nsec;
  return now > then ? (now - then) / 1000 : 0;
}
