// Kerberos V5 messages exchanged with the KDC: AS-REQ, TGS-REQ (KDC-REQ),
// AS-REP, TGS-REP (KDC-REP) and KRB-ERROR, read into a fixed-size summary.
//
// Specification: RFC 4120 "The Kerberos Network Authentication Service (V5)"
// (2005), section 5 for the ASN.1 and 7.5 for the constants, with the
// encryption type numbers of RFC 3961, RFC 3962, RFC 4757 and RFC 8009.
//
//   KDC-REQ ::= SEQUENCE { pvno [1], msg-type [2], padata [3] SEQUENCE OF
//     PA-DATA OPTIONAL, req-body [4] KDC-REQ-BODY }                   (5.4.1)
//   KDC-REQ-BODY ::= SEQUENCE { kdc-options [0], cname [1] OPTIONAL,
//     realm [2], sname [3] OPTIONAL, from [4], till [5], rtime [6],
//     nonce [7], etype [8] SEQUENCE OF Int32, ... }
//   KDC-REP ::= SEQUENCE { pvno [0], msg-type [1], padata [2] OPTIONAL,
//     crealm [3], cname [4], ticket [5] Ticket, enc-part [6] }         (5.4.2)
//   Ticket ::= [APPLICATION 1] SEQUENCE { tkt-vno [0], realm [1],
//     sname [2], enc-part [3] EncryptedData }                         (5.3)
//   KRB-ERROR ::= [APPLICATION 30] SEQUENCE { pvno [0], msg-type [1],
//     ctime [2], cusec [3], stime [4], susec [5], error-code [6],
//     crealm [7], cname [8], realm [9], sname [10], e-text [11], e-data [12] } (5.9.1)
//   PrincipalName ::= SEQUENCE { name-type [0] Int32,
//     name-string [1] SEQUENCE OF KerberosString }                    (5.2.2)

import { countAnomaly } from "../../wasm-core/assembly/counters";
import { latin1ToUtf8 } from "../text";
import {
  applicationTag, contentEnd, contentStart, contextTag, elementCut, elementEnd, elementTag, integerValid, readElement,
  readInteger, TAG_GENERAL_STRING, TAG_SEQUENCE,
} from "./der";
import { KerberosAnomaly } from "./fields";

// Message types, the [APPLICATION n] number of each message (5.10).
export namespace MessageType {
  @inline export const AS_REQ: u8 = 10;
  @inline export const AS_REP: u8 = 11;
  @inline export const TGS_REQ: u8 = 12;
  @inline export const TGS_REP: u8 = 13;
  @inline export const KRB_ERROR: u8 = 30;
}

// PA-ENC-TIMESTAMP (7.5.2): the client proved knowledge of its key.
@inline const PA_ENC_TIMESTAMP: i64 = 2;

// Summary of one message, at offsets from its start:
//    0 u8  message type (0: none)   1 u8 PA-ENC-TIMESTAMP present
//    2 u8  encryption types kept    3 u8 has error code
//    4 i32 error code               8 i32 ticket encryption type
//   12 u8  has ticket encryption type
//   16 u16 client length   18 u16 realm length   20 u16 service length
//   22 u16 client realm length
//   24 i32 x ETYPES_MAX requested encryption types
//   88 client (NAME_MAX)  216 realm (REALM_MAX)  344 service (SERVICE_MAX)
//  600 client realm (REALM_MAX)  728 u32 ts_sec  732 u32 ts_nsec
@inline export const SUMMARY_BYTES: u32 = 736;
@inline export const S_TYPE: usize = 0;
@inline export const S_PREAUTH: usize = 1;
@inline export const S_ETYPE_COUNT: usize = 2;
@inline export const S_HAS_ERROR: usize = 3;
@inline export const S_ERROR: usize = 4;
@inline export const S_CIPHER: usize = 8;
@inline export const S_HAS_CIPHER: usize = 12;
@inline export const S_CLIENT_LENGTH: usize = 16;
@inline export const S_REALM_LENGTH: usize = 18;
@inline export const S_SERVICE_LENGTH: usize = 20;
@inline export const S_CLIENT_REALM_LENGTH: usize = 22;
@inline export const S_ETYPES: usize = 24;
@inline export const S_CLIENT: usize = 88;
@inline export const S_REALM: usize = 216;
@inline export const S_SERVICE: usize = 344;
@inline export const S_CLIENT_REALM: usize = 600;
@inline export const S_TS_SEC: usize = 728;
@inline export const S_TS_NSEC: usize = 732;

// Encryption types kept per request; Windows clients offer 5 to 7.
@inline export const ETYPES_MAX: u32 = 16;
// Bytes of UTF-8 kept per name; longer names are cut.
@inline const NAME_MAX: u32 = 128;
@inline const REALM_MAX: u32 = 128;
@inline const SERVICE_MAX: u32 = 256;
// Components of a principal name; SPNs have 2 or 3.
@inline const NAME_COMPONENTS_MAX: u32 = 8;
// Elements walked in one SEQUENCE or SEQUENCE OF before giving up.
@inline const SEQUENCE_ITEMS_MAX: u32 = 32;

// Message being parsed (one at a time).
let base: usize = 0;
let summary: usize = 0;
let malformed: bool = false;

// Parses the message at `ptr` (`length` bytes available, possibly a prefix
// of a longer message) into `out`. Returns the message type, or 0 when the
// bytes are not a KDC message (counted).
export function parseMessage(ptr: usize, length: u32, out: usize): u8 {
  base = ptr;
  summary = out;
  malformed = false;
  memory.fill(out, 0, 32);
  if (!readElement(base, length, 0, true)) {
    countAnomaly(KerberosAnomaly.DER_INVALID);
    return 0;
  }
  const tag = elementTag;
  const end = contentEnd;
  let type: u8 = 0;
  if (tag == applicationTag(MessageType.AS_REQ)) type = MessageType.AS_REQ;
  else if (tag == applicationTag(MessageType.TGS_REQ)) type = MessageType.TGS_REQ;
  else if (tag == applicationTag(MessageType.AS_REP)) type = MessageType.AS_REP;
  else if (tag == applicationTag(MessageType.TGS_REP)) type = MessageType.TGS_REP;
  else if (tag == applicationTag(MessageType.KRB_ERROR)) type = MessageType.KRB_ERROR;
  if (type == 0) {
    countAnomaly(KerberosAnomaly.MESSAGE_UNKNOWN);
    return 0;
  }
  store<u8>(out + S_TYPE, type);
  if (!readElement(base, end, contentStart, true) || elementTag != TAG_SEQUENCE) {
    countAnomaly(KerberosAnomaly.DER_INVALID);
    return 0;
  }
  if (type == MessageType.AS_REQ || type == MessageType.TGS_REQ) parseKdcRequest(contentStart, contentEnd);
  else if (type == MessageType.KRB_ERROR) parseError(contentStart, contentEnd);
  else parseKdcReply(contentStart, contentEnd);
  if (malformed) countAnomaly(KerberosAnomaly.DER_INVALID);
  return type;
}

// Walks the [n] fields of a SEQUENCE at [start, end) and calls `visit`
// with each field's number and content range. Stops at the first invalid
// element or at the end of the bytes available.
function walkFields(start: u32, end: u32, kind: u8): void {
  let at = start;
  for (let i: u32 = 0; i < SEQUENCE_ITEMS_MAX && at < end; i++) {
    if (!readElement(base, end, at, true)) {
      malformed = true;
      return;
    }
    const tag = elementTag;
    const next = elementEnd;
    if ((tag & 0xe0) == 0xa0) visitField(kind, tag & 0x1f, contentStart, contentEnd);
    if (next >= end) return;
    at = next;
  }
}

@inline const KIND_REQUEST: u8 = 1;
@inline const KIND_REQUEST_BODY: u8 = 2;
@inline const KIND_REPLY: u8 = 3;
@inline const KIND_TICKET: u8 = 4;
@inline const KIND_ERROR: u8 = 5;
@inline const KIND_ENCRYPTED_DATA: u8 = 6;

function parseKdcRequest(start: u32, end: u32): void { walkFields(start, end, KIND_REQUEST); }
function parseKdcReply(start: u32, end: u32): void { walkFields(start, end, KIND_REPLY); }
function parseError(start: u32, end: u32): void { walkFields(start, end, KIND_ERROR); }

// Handles field [n] of a structure of `kind`; [start, end) is the content
// of the context tag, which contains exactly one element.
function visitField(kind: u8, n: u8, start: u32, end: u32): void {
  if (kind == KIND_REQUEST) {
    if (n == 3) readPreauthTypes(start, end);
    else if (n == 4) enterSequence(start, end, KIND_REQUEST_BODY);
  } else if (kind == KIND_REQUEST_BODY) {
    if (n == 1) readPrincipal(start, end, S_CLIENT, S_CLIENT_LENGTH, NAME_MAX);
    else if (n == 2) readString(start, end, S_REALM, S_REALM_LENGTH, REALM_MAX);
    else if (n == 3) readPrincipal(start, end, S_SERVICE, S_SERVICE_LENGTH, SERVICE_MAX);
    else if (n == 8) readEncryptionTypes(start, end);
  } else if (kind == KIND_REPLY) {
    if (n == 3) readString(start, end, S_CLIENT_REALM, S_CLIENT_REALM_LENGTH, REALM_MAX);
    else if (n == 4) readPrincipal(start, end, S_CLIENT, S_CLIENT_LENGTH, NAME_MAX);
    else if (n == 5) readTicket(start, end);
  } else if (kind == KIND_TICKET) {
    if (n == 1) readString(start, end, S_REALM, S_REALM_LENGTH, REALM_MAX);
    else if (n == 2) readPrincipal(start, end, S_SERVICE, S_SERVICE_LENGTH, SERVICE_MAX);
    else if (n == 3) enterSequence(start, end, KIND_ENCRYPTED_DATA);
  } else if (kind == KIND_ENCRYPTED_DATA) {
    if (n == 0 && readIntegerAt(start, end)) {
      store<i32>(summary + S_CIPHER, <i32>lastInteger);
      store<u8>(summary + S_HAS_CIPHER, 1);
    }
  } else if (kind == KIND_ERROR) {
    if (n == 6 && readIntegerAt(start, end)) {
      store<i32>(summary + S_ERROR, <i32>lastInteger);
      store<u8>(summary + S_HAS_ERROR, 1);
    } else if (n == 7) readString(start, end, S_CLIENT_REALM, S_CLIENT_REALM_LENGTH, REALM_MAX);
    else if (n == 8) readPrincipal(start, end, S_CLIENT, S_CLIENT_LENGTH, NAME_MAX);
    else if (n == 9) readString(start, end, S_REALM, S_REALM_LENGTH, REALM_MAX);
    else if (n == 10) readPrincipal(start, end, S_SERVICE, S_SERVICE_LENGTH, SERVICE_MAX);
  }
}

// Reads the SEQUENCE inside a context tag and walks its fields.
function enterSequence(start: u32, end: u32, kind: u8): void {
  if (!readElement(base, end, start, true) || elementTag != TAG_SEQUENCE) {
    malformed = true;
    return;
  }
  walkFields(contentStart, contentEnd, kind);
}

// Ticket ::= [APPLICATION 1] SEQUENCE { ... }
function readTicket(start: u32, end: u32): void {
  if (!readElement(base, end, start, true) || elementTag != applicationTag(1)) {
    malformed = true;
    return;
  }
  enterSequence(contentStart, contentEnd, KIND_TICKET);
}

let lastInteger: i64 = 0;

function readIntegerAt(start: u32, end: u32): bool {
  if (!readElement(base, end, start, false)) {
    malformed = true;
    return false;
  }
  lastInteger = readInteger(base);
  if (!integerValid) malformed = true;
  return integerValid;
}

// padata: SEQUENCE OF PA-DATA { padata-type [1] Int32, padata-value [2] OCTET STRING }.
function readPreauthTypes(start: u32, end: u32): void {
  if (!readElement(base, end, start, true) || elementTag != TAG_SEQUENCE) {
    malformed = true;
    return;
  }
  let at = contentStart;
  const listEnd = contentEnd;
  for (let i: u32 = 0; i < SEQUENCE_ITEMS_MAX && at < listEnd; i++) {
    if (!readElement(base, listEnd, at, true) || elementTag != TAG_SEQUENCE) {
      malformed = true;
      return;
    }
    const next = elementEnd;
    const itemEnd = contentEnd;
    // padata-type is the first field of PA-DATA.
    if (readElement(base, itemEnd, contentStart, true) && elementTag == contextTag(1) && readIntegerAt(contentStart, contentEnd)) {
      if (lastInteger == PA_ENC_TIMESTAMP) store<u8>(summary + S_PREAUTH, 1);
    }
    if (next >= listEnd) return;
    at = next;
  }
}

// etype [8] SEQUENCE OF Int32, kept in order up to ETYPES_MAX.
function readEncryptionTypes(start: u32, end: u32): void {
  if (!readElement(base, end, start, true) || elementTag != TAG_SEQUENCE) {
    malformed = true;
    return;
  }
  let at = contentStart;
  const listEnd = contentEnd;
  let count: u32 = 0;
  for (let i: u32 = 0; i < SEQUENCE_ITEMS_MAX && at < listEnd; i++) {
    if (!readElement(base, listEnd, at, false)) {
      malformed = true;
      break;
    }
    const next = elementEnd;
    const value = readInteger(base);
    if (!integerValid) {
      malformed = true;
      break;
    }
    if (count < ETYPES_MAX) {
      store<i32>(summary + S_ETYPES + <usize>(count << 2), <i32>value);
      count++;
    } else {
      countAnomaly(KerberosAnomaly.LIST_TRUNCATED);
      break;
    }
    at = next;
  }
  store<u8>(summary + S_ETYPE_COUNT, <u8>count);
}

// A KerberosString (GeneralString, IA5 characters in practice) into the
// summary at `offset`, its length at `lengthOffset`.
function readString(start: u32, end: u32, offset: usize, lengthOffset: usize, capacity: u32): void {
  if (!readElement(base, end, start, false) || elementTag != TAG_GENERAL_STRING) {
    malformed = true;
    return;
  }
  // NOTE: bytes above 0x7f are read as Latin-1; RFC 4120 5.2.1 leaves their
  // encoding unspecified.
  const n = latin1ToUtf8(base + <usize>contentStart, contentEnd - contentStart, summary + offset, capacity);
  store<u16>(summary + lengthOffset, <u16>n);
}

// PrincipalName: the name-string components joined with "/" (the text form
// of RFC 1964 2.1.1, without the realm).
function readPrincipal(start: u32, end: u32, offset: usize, lengthOffset: usize, capacity: u32): void {
  if (!readElement(base, end, start, true) || elementTag != TAG_SEQUENCE) {
    malformed = true;
    return;
  }
  let at = contentStart;
  const sequenceEnd = contentEnd;
  // Find name-string [1]; name-type [0] comes first.
  for (let i: u32 = 0; i < 2 && at < sequenceEnd; i++) {
    if (!readElement(base, sequenceEnd, at, true)) {
      malformed = true;
      return;
    }
    if (elementTag == contextTag(1)) break;
    at = elementEnd;
  }
  if (elementTag != contextTag(1) || !readElement(base, contentEnd, contentStart, true) || elementTag != TAG_SEQUENCE) {
    malformed = true;
    return;
  }
  let used: u32 = 0;
  at = contentStart;
  const listEnd = contentEnd;
  for (let i: u32 = 0; at < listEnd; i++) {
    if (i == NAME_COMPONENTS_MAX) {
      countAnomaly(KerberosAnomaly.LIST_TRUNCATED);
      break;
    }
    if (!readElement(base, listEnd, at, false) || elementTag != TAG_GENERAL_STRING) {
      malformed = true;
      break;
    }
    const next = elementEnd;
    if (i > 0 && used < capacity) {
      store<u8>(summary + offset + <usize>used, 0x2f);
      used++;
    }
    used += latin1ToUtf8(base + <usize>contentStart, contentEnd - contentStart, summary + offset + <usize>used, capacity - used);
    at = next;
  }
  store<u16>(summary + lengthOffset, <u16>used);
}

// Name of an encryption type number (RFC 3961 8, RFC 3962, RFC 4757, RFC 8009),
// or "" when not named here.
export function encryptionTypeName(etype: i32): string {
  switch (etype) {
    case 1: return "des-cbc-crc";
    case 2: return "des-cbc-md4";
    case 3: return "des-cbc-md5";
    case 16: return "des3-cbc-sha1";
    case 17: return "aes128-cts-hmac-sha1-96";
    case 18: return "aes256-cts-hmac-sha1-96";
    case 19: return "aes128-cts-hmac-sha256-128";
    case 20: return "aes256-cts-hmac-sha384-192";
    case 23: return "rc4-hmac";
    case 24: return "rc4-hmac-exp";
  }
  return "";
}

// Name of a KRB-ERROR error-code (RFC 4120 7.5.9), or "".
export function errorName(code: i32): string {
  switch (code) {
    case 0: return "KDC_ERR_NONE";
    case 1: return "KDC_ERR_NAME_EXP";
    case 2: return "KDC_ERR_SERVICE_EXP";
    case 3: return "KDC_ERR_BAD_PVNO";
    case 4: return "KDC_ERR_C_OLD_MAST_KVNO";
    case 5: return "KDC_ERR_S_OLD_MAST_KVNO";
    case 6: return "KDC_ERR_C_PRINCIPAL_UNKNOWN";
    case 7: return "KDC_ERR_S_PRINCIPAL_UNKNOWN";
    case 8: return "KDC_ERR_PRINCIPAL_NOT_UNIQUE";
    case 9: return "KDC_ERR_NULL_KEY";
    case 10: return "KDC_ERR_CANNOT_POSTDATE";
    case 11: return "KDC_ERR_NEVER_VALID";
    case 12: return "KDC_ERR_POLICY";
    case 13: return "KDC_ERR_BADOPTION";
    case 14: return "KDC_ERR_ETYPE_NOSUPP";
    case 15: return "KDC_ERR_SUMTYPE_NOSUPP";
    case 16: return "KDC_ERR_PADATA_TYPE_NOSUPP";
    case 17: return "KDC_ERR_TRTYPE_NOSUPP";
    case 18: return "KDC_ERR_CLIENT_REVOKED";
    case 19: return "KDC_ERR_SERVICE_REVOKED";
    case 20: return "KDC_ERR_TGT_REVOKED";
    case 21: return "KDC_ERR_CLIENT_NOTYET";
    case 22: return "KDC_ERR_SERVICE_NOTYET";
    case 23: return "KDC_ERR_KEY_EXPIRED";
    case 24: return "KDC_ERR_PREAUTH_FAILED";
    case 25: return "KDC_ERR_PREAUTH_REQUIRED";
    case 26: return "KDC_ERR_SERVER_NOMATCH";
    case 27: return "KDC_ERR_MUST_USE_USER2USER";
    case 28: return "KDC_ERR_PATH_NOT_ACCEPTED";
    case 29: return "KDC_ERR_SVC_UNAVAILABLE";
    case 31: return "KRB_AP_ERR_BAD_INTEGRITY";
    case 32: return "KRB_AP_ERR_TKT_EXPIRED";
    case 33: return "KRB_AP_ERR_TKT_NYV";
    case 34: return "KRB_AP_ERR_REPEAT";
    case 35: return "KRB_AP_ERR_NOT_US";
    case 36: return "KRB_AP_ERR_BADMATCH";
    case 37: return "KRB_AP_ERR_SKEW";
    case 38: return "KRB_AP_ERR_BADADDR";
    case 39: return "KRB_AP_ERR_BADVERSION";
    case 40: return "KRB_AP_ERR_MSG_TYPE";
    case 41: return "KRB_AP_ERR_MODIFIED";
    case 42: return "KRB_AP_ERR_BADORDER";
    case 44: return "KRB_AP_ERR_BADKEYVER";
    case 45: return "KRB_AP_ERR_NOKEY";
    case 46: return "KRB_AP_ERR_MUT_FAIL";
    case 47: return "KRB_AP_ERR_BADDIRECTION";
    case 48: return "KRB_AP_ERR_METHOD";
    case 49: return "KRB_AP_ERR_BADSEQ";
    case 50: return "KRB_AP_ERR_INAPP_CKSUM";
    case 51: return "KRB_AP_PATH_NOT_ACCEPTED";
    case 52: return "KRB_ERR_RESPONSE_TOO_BIG";
    case 60: return "KRB_ERR_GENERIC";
    case 61: return "KRB_ERR_FIELD_TOOLONG";
  }
  return "";
}
