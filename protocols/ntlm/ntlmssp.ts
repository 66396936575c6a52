// NTLMSSP messages inside security blobs (SMB SESSION_SETUP, DCE-RPC auth
// verifiers), raw or wrapped in SPNEGO.
//
// Specifications: [MS-NLMP] NT LAN Manager (NTLM) Authentication Protocol,
// with RFC 4178 (SPNEGO) and RFC 2743 section 3.1 (the GSS-API initial
// context token) for the wrapper, encoded in DER (X.690).

import { fits } from "../api";
import { Field, RecordType } from "../fields";
import { beginRecord, endRecord, fieldLiteral, fieldText, fieldU64, fieldUtf16le } from "../../wasm-core/assembly/events";
import { countAnomaly } from "../../wasm-core/assembly/counters";
import { latin1ToUtf8, textWasCut, utf16leToUtf8 } from "../text";
import { NtlmAnomaly, NtlmField } from "./fields";

// Identity area filled from an AUTHENTICATE message (user, domain and
// workstation as UTF-8), owned by the caller (an SMB session, a DCE-RPC
// connection):
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-------------------------------+-------------------------------+
//   |      user length (bytes)      |     domain length (bytes)     |   0
//   +-------------------------------+-------------------------------+
//   |   workstation length (bytes)  |  flags (bit 0: identity set)  |   4
//   +-------------------------------+-------------------------------+
//   |                     user (168 bytes UTF-8)                    |   8
//   |                    domain (168 bytes UTF-8)                   | 176
//   |                 workstation (168 bytes UTF-8)                 | 344
//   +---------------------------------------------------------------+ 512
@inline export const NTLM_IDENTITY_BYTES: u32 = 512;
@inline const IDENTITY_NAME_BYTES: u32 = 168;
@inline const IDENTITY_USER: usize = 8;
@inline const IDENTITY_DOMAIN: usize = 176;
@inline const IDENTITY_WORKSTATION: usize = 344;
@inline const IDENTITY_FLAG_SET: u16 = 1;

export function identityUser(identity: usize): usize { return identity + IDENTITY_USER; }
export function identityUserLength(identity: usize): u32 { return <u32>load<u16>(identity); }
export function identityDomain(identity: usize): usize { return identity + IDENTITY_DOMAIN; }
export function identityDomainLength(identity: usize): u32 { return <u32>load<u16>(identity, 2); }
export function identityWorkstation(identity: usize): usize { return identity + IDENTITY_WORKSTATION; }
export function identityWorkstationLength(identity: usize): u32 { return <u32>load<u16>(identity, 4); }
// True once an AUTHENTICATE message filled the area (the user may still be
// empty: anonymous logon).
export function identityIsSet(identity: usize): bool { return (load<u16>(identity, 6) & IDENTITY_FLAG_SET) != 0; }

// Writes `account` ("DOMAIN\user", or "user" when the domain is empty) into
// `dst` of `capacity` bytes and returns its length; 0 when the user is empty.
export function writeAccount(user: usize, userLength: u32, domain: usize, domainLength: u32, dst: usize, capacity: u32): u32 {
  if (userLength == 0) return 0;
  let out: u32 = 0;
  if (domainLength > 0 && domainLength + 1 < capacity) {
    memory.copy(dst, domain, domainLength);
    store<u8>(dst + <usize>domainLength, 0x5c); // '\'
    out = domainLength + 1;
  }
  let n = userLength;
  if (n > capacity - out) n = capacity - out;
  memory.copy(dst + <usize>out, user, n);
  return out + n;
}

// Message types, [MS-NLMP] 2.2.1.
@inline const NEGOTIATE_MESSAGE: u32 = 1;
@inline const CHALLENGE_MESSAGE: u32 = 2;
@inline const AUTHENTICATE_MESSAGE: u32 = 3;

// NegotiateFlags bits, [MS-NLMP] 2.2.2.5.
@inline const NEGOTIATE_UNICODE: u32 = 0x00000001;
@inline const NEGOTIATE_OEM_DOMAIN_SUPPLIED: u32 = 0x00001000;
@inline const NEGOTIATE_OEM_WORKSTATION_SUPPLIED: u32 = 0x00002000;

// AV pair ids, [MS-NLMP] 2.2.2.1.
@inline const AV_EOL: u16 = 0;
@inline const AV_NB_COMPUTER_NAME: u16 = 1;
@inline const AV_NB_DOMAIN_NAME: u16 = 2;
@inline const AV_DNS_COMPUTER_NAME: u16 = 3;
@inline const AV_DNS_DOMAIN_NAME: u16 = 4;
@inline const AV_DNS_TREE_NAME: u16 = 5;

// Caps on the SPNEGO walk: nesting depth and TLVs visited per blob.
@inline const DER_MAX_DEPTH: u32 = 8;
@inline const DER_MAX_ELEMENTS: u32 = 64;
// AV pairs read per CHALLENGE; MS-NLMP defines 11 ids.
@inline const AV_PAIR_MAX: u32 = 32;

// Scratch for the "DOMAIN\user" text of one record, and an identity area for
// callers that pass none.
@inline const ACCOUNT_SCRATCH_BYTES: u32 = IDENTITY_NAME_BYTES * 2 + 1;
const accountScratch = memory.data(<i32>ACCOUNT_SCRATCH_BYTES);
const identityScratch = memory.data(<i32>NTLM_IDENTITY_BYTES);

// Offset and length of the NTLMSSP message found by findNtlmssp.
let foundOffset: u32 = 0;
let foundLength: u32 = 0;
let derElements: u32 = 0;

// Finds an NTLMSSP message in a security blob (raw "NTLMSSP\0", or wrapped in
// SPNEGO negTokenInit / negTokenResp), writes an "ntlm" record for it
// (AUTHENTICATE: user, domain, workstation; CHALLENGE: server names from the
// AV pairs) and, for AUTHENTICATE, fills `identity` (NTLM_IDENTITY_BYTES; 0 =
// none). Returns the message type (1, 2, 3) or 0 when no message was found.
// `transport` is a static string ("smb", "dcerpc").
export function ntlmInspectBlob(blob: usize, length: u32, serverToClient: bool, transport: string, identity: usize): i32 {
  if (!findNtlmssp(blob, length)) return 0;
  return inspectMessage(blob + <usize>foundOffset, foundLength, serverToClient, transport, identity);
}

function findNtlmssp(blob: usize, length: u32): bool {
  if (hasSignature(blob, length)) {
    foundOffset = 0;
    foundLength = length;
    return true;
  }
  if (length == 0) return false;
  const tag = load<u8>(blob);
  // 0x60: GSS-API InitialContextToken; 0xa0/0xa1: bare negTokenInit/negTokenResp.
  if (tag != 0x60 && tag != 0xa0 && tag != 0xa1) return false;
  derElements = 0;
  return walkDer(blob, 0, length, 0);
}

@inline function hasSignature(p: usize, length: u32): bool {
  // "NTLMSSP\0" read as a little-endian u64.
  return length >= 8 && load<u64>(p) == 0x005053534d4c544e;
}

// Visits the DER elements in [start, end) and descends into constructed ones,
// stopping at the first OCTET STRING that contains an NTLMSSP message (the
// mechToken [2] of negTokenInit or the responseToken [2] of negTokenResp).
function walkDer(base: usize, start: u32, end: u32, depth: u32): bool {
  if (depth >= DER_MAX_DEPTH) {
    countAnomaly(NtlmAnomaly.SPNEGO_LIMIT);
    return false;
  }
  let at = start;
  while (at < end) {
    if (++derElements > DER_MAX_ELEMENTS) {
      countAnomaly(NtlmAnomaly.SPNEGO_LIMIT);
      return false;
    }
    if (!fits(end, at, 2)) { countAnomaly(NtlmAnomaly.SPNEGO_MALFORMED); return false; }
    const tag = load<u8>(base + <usize>at);
    let lengthByte = <u32>load<u8>(base + <usize>at + 1);
    let headerSize: u32 = 2;
    let contentLength: u32 = lengthByte;
    if (lengthByte >= 0x80) {
      // Long form (X.690 8.1.3.5): 1 to 4 length octets.
      const octets = lengthByte & 0x7f;
      if (octets == 0 || octets > 4 || !fits(end, at + 2, octets)) {
        countAnomaly(NtlmAnomaly.SPNEGO_MALFORMED);
        return false;
      }
      contentLength = 0;
      for (let i: u32 = 0; i < octets; i++) {
        contentLength = (contentLength << 8) | <u32>load<u8>(base + <usize>(at + 2 + i));
      }
      headerSize = 2 + octets;
    }
    const contentStart = at + headerSize;
    if (!fits(end, contentStart, contentLength)) {
      countAnomaly(NtlmAnomaly.SPNEGO_MALFORMED);
      return false;
    }
    if (tag == 0x04 && hasSignature(base + <usize>contentStart, contentLength)) {
      foundOffset = contentStart;
      foundLength = contentLength;
      return true;
    }
    if ((tag & 0x20) != 0 && walkDer(base, contentStart, contentStart + contentLength, depth + 1)) return true;
    at = contentStart + contentLength;
  }
  return false;
}

function inspectMessage(msg: usize, length: u32, serverToClient: bool, transport: string, identity: usize): i32 {
  if (length < 12) {
    countAnomaly(NtlmAnomaly.MESSAGE_TRUNCATED);
    return 0;
  }
  const messageType = load<u32>(msg, 8);
  if (messageType == NEGOTIATE_MESSAGE) {
    inspectNegotiate(msg, length, serverToClient, transport);
  } else if (messageType == CHALLENGE_MESSAGE) {
    inspectChallenge(msg, length, serverToClient, transport);
  } else if (messageType == AUTHENTICATE_MESSAGE) {
    inspectAuthenticate(msg, length, serverToClient, transport, identity);
  } else {
    countAnomaly(NtlmAnomaly.UNKNOWN_MESSAGE_TYPE);
    return 0;
  }
  return <i32>messageType;
}

function beginNtlmRecord(messageType: u32, name: string, serverToClient: bool, transport: string): void {
  beginRecord(RecordType.NTLM, serverToClient);
  fieldU64(NtlmField.MESSAGE_TYPE, messageType);
  fieldLiteral(NtlmField.MESSAGE, name);
  fieldLiteral(NtlmField.TRANSPORT, transport);
}

// Payload field descriptor ([MS-NLMP] 2.2.1: Len u16, MaxLen u16,
// BufferOffset u32) at `at`; sets payloadOffset/payloadLength when the
// payload lies inside the message.
let payloadOffset: u32 = 0;
let payloadLength: u32 = 0;

function readPayload(msg: usize, length: u32, at: u32): bool {
  payloadOffset = 0;
  payloadLength = 0;
  if (!fits(length, at, 8)) return false;
  const fieldLength = <u32>load<u16>(msg + <usize>at);
  const fieldOffset = load<u32>(msg + <usize>at, 4);
  if (fieldLength == 0) return true;
  if (!fits(length, fieldOffset, fieldLength)) {
    countAnomaly(NtlmAnomaly.FIELD_OUT_OF_BOUNDS);
    return false;
  }
  payloadOffset = fieldOffset;
  payloadLength = fieldLength;
  return true;
}

// Like readPayload, but a payload that starts inside the message and runs
// past its end is cut at the end (and counted), so that the AV pairs before
// the end are still read.
function readPayloadClamped(msg: usize, length: u32, at: u32): bool {
  payloadOffset = 0;
  payloadLength = 0;
  if (!fits(length, at, 8)) return false;
  let fieldLength = <u32>load<u16>(msg + <usize>at);
  const fieldOffset = load<u32>(msg + <usize>at, 4);
  if (fieldLength == 0) return true;
  if (fieldOffset >= length) {
    countAnomaly(NtlmAnomaly.FIELD_OUT_OF_BOUNDS);
    return false;
  }
  if (fieldLength > length - fieldOffset) {
    countAnomaly(NtlmAnomaly.FIELD_OUT_OF_BOUNDS);
    fieldLength = length - fieldOffset;
  }
  payloadOffset = fieldOffset;
  payloadLength = fieldLength;
  return true;
}

//  NEGOTIATE_MESSAGE ([MS-NLMP] 2.2.1.1)
//   0 Signature "NTLMSSP\0"   8 MessageType = 1   12 NegotiateFlags
//  16 DomainNameFields (OEM) 24 WorkstationFields (OEM)   32 Version (optional)
function inspectNegotiate(msg: usize, length: u32, serverToClient: bool, transport: string): void {
  beginNtlmRecord(NEGOTIATE_MESSAGE, "NEGOTIATE", serverToClient, transport);
  if (fits(length, 12, 4)) {
    const flags = load<u32>(msg, 12);
    fieldU64(NtlmField.NEGOTIATE_FLAGS, flags);
    if ((flags & NEGOTIATE_OEM_DOMAIN_SUPPLIED) != 0 && readPayload(msg, length, 16) && payloadLength > 0) {
      writeOemField(Field.DOMAIN, msg + <usize>payloadOffset, payloadLength);
    }
    if ((flags & NEGOTIATE_OEM_WORKSTATION_SUPPLIED) != 0 && readPayload(msg, length, 24) && payloadLength > 0) {
      writeOemField(Field.WORKSTATION, msg + <usize>payloadOffset, payloadLength);
    }
  }
  endRecord();
}

//  CHALLENGE_MESSAGE ([MS-NLMP] 2.2.1.2)
//   0 Signature   8 MessageType = 2   12 TargetNameFields   20 NegotiateFlags
//  24 ServerChallenge (8)   32 Reserved (8)   40 TargetInfoFields   48 Version
function inspectChallenge(msg: usize, length: u32, serverToClient: bool, transport: string): void {
  beginNtlmRecord(CHALLENGE_MESSAGE, "CHALLENGE", serverToClient, transport);
  if (!fits(length, 0, 32)) {
    countAnomaly(NtlmAnomaly.MESSAGE_TRUNCATED);
    endRecord();
    return;
  }
  const flags = load<u32>(msg, 20);
  fieldU64(NtlmField.NEGOTIATE_FLAGS, flags);
  const unicode = (flags & NEGOTIATE_UNICODE) != 0;
  if (readPayload(msg, length, 12) && payloadLength > 0) {
    if (unicode) fieldUtf16le(NtlmField.TARGET_NAME, msg + <usize>payloadOffset, payloadLength);
    else writeOemField(NtlmField.TARGET_NAME, msg + <usize>payloadOffset, payloadLength);
  }
  if (readPayloadClamped(msg, length, 40) && payloadLength > 0) {
    writeAvPairs(msg + <usize>payloadOffset, payloadLength);
  }
  endRecord();
}

//  AV_PAIR ([MS-NLMP] 2.2.2.1): AvId u16 | AvLen u16 | Value (AvLen bytes),
//  UTF-16LE for the name pairs; the list ends with MsvAvEOL.
function writeAvPairs(list: usize, length: u32): void {
  let at: u32 = 0;
  for (let count: u32 = 0; count < AV_PAIR_MAX; count++) {
    if (!fits(length, at, 4)) {
      // Also reached when the list has fewer than 4 bytes left: no MsvAvEOL.
      countAnomaly(NtlmAnomaly.AV_PAIR_UNTERMINATED);
      return;
    }
    const avId = load<u16>(list + <usize>at);
    const avLength = <u32>load<u16>(list + <usize>at, 2);
    if (avId == AV_EOL) return;
    if (!fits(length, at + 4, avLength)) {
      countAnomaly(NtlmAnomaly.FIELD_OUT_OF_BOUNDS);
      return;
    }
    const value = list + <usize>(at + 4);
    switch (avId) {
      case AV_NB_COMPUTER_NAME: fieldUtf16le(NtlmField.SERVER_NB_NAME, value, avLength); break;
      case AV_NB_DOMAIN_NAME: fieldUtf16le(NtlmField.SERVER_NB_DOMAIN, value, avLength); break;
      case AV_DNS_COMPUTER_NAME: fieldUtf16le(NtlmField.SERVER_DNS_NAME, value, avLength); break;
      case AV_DNS_DOMAIN_NAME: fieldUtf16le(NtlmField.SERVER_DNS_DOMAIN, value, avLength); break;
      case AV_DNS_TREE_NAME: fieldUtf16le(NtlmField.SERVER_TREE_NAME, value, avLength); break;
      default: break;
    }
    at += 4 + avLength;
  }
  // More pairs than MS-NLMP defines, so the list is treated as unterminated.
  countAnomaly(NtlmAnomaly.AV_PAIR_UNTERMINATED);
}

//  AUTHENTICATE_MESSAGE ([MS-NLMP] 2.2.1.3)
//   0 Signature   8 MessageType = 3   12 LmChallengeResponseFields
//  20 NtChallengeResponseFields   28 DomainNameFields   36 UserNameFields
//  44 WorkstationFields   52 EncryptedRandomSessionKeyFields
//  60 NegotiateFlags   64 Version (8, optional)   72 MIC (16, optional)
function inspectAuthenticate(msg: usize, length: u32, serverToClient: bool, transport: string, identity: usize): void {
  beginNtlmRecord(AUTHENTICATE_MESSAGE, "AUTHENTICATE", serverToClient, transport);
  if (!fits(length, 0, 64)) {
    countAnomaly(NtlmAnomaly.MESSAGE_TRUNCATED);
    endRecord();
    return;
  }
  const flags = load<u32>(msg, 60);
  fieldU64(NtlmField.NEGOTIATE_FLAGS, flags);
  const unicode = (flags & NEGOTIATE_UNICODE) != 0;
  if (readPayload(msg, length, 20)) {
    // [MS-NLMP] 3.3.1/3.3.2: an NTLMv1 NtChallengeResponse is 24 bytes, an
    // NTLMv2 one is longer (it carries the client blob).
    if (payloadLength == 24) fieldU64(NtlmField.NTLM_VERSION, 1);
    else if (payloadLength > 24) fieldU64(NtlmField.NTLM_VERSION, 2);
  }

  // Without a caller area the names still go into the record, through scratch.
  const area = identity != 0 ? identity : identityScratch;
  const domainLength = decodeName(msg, length, 28, unicode, area + IDENTITY_DOMAIN);
  const userLength = decodeName(msg, length, 36, unicode, area + IDENTITY_USER);
  const workstationLength = decodeName(msg, length, 44, unicode, area + IDENTITY_WORKSTATION);
  store<u16>(area, <u16>userLength);
  store<u16>(area, <u16>domainLength, 2);
  store<u16>(area, <u16>workstationLength, 4);
  store<u16>(area, IDENTITY_FLAG_SET, 6);

  if (userLength > 0) fieldText(Field.USER, area + IDENTITY_USER, userLength);
  if (domainLength > 0) fieldText(Field.DOMAIN, area + IDENTITY_DOMAIN, domainLength);
  if (workstationLength > 0) fieldText(Field.WORKSTATION, area + IDENTITY_WORKSTATION, workstationLength);
  const accountLength = writeAccount(area + IDENTITY_USER, userLength, area + IDENTITY_DOMAIN, domainLength, accountScratch, ACCOUNT_SCRATCH_BYTES);
  if (accountLength > 0) fieldText(Field.ACCOUNT, accountScratch, accountLength);
  endRecord();
}

// Decodes the name at payload descriptor `at` into `dst` (IDENTITY_NAME_BYTES)
// and returns its UTF-8 length.
function decodeName(msg: usize, length: u32, at: u32, unicode: bool, dst: usize): u32 {
  if (!readPayload(msg, length, at) || payloadLength == 0) return 0;
  const src = msg + <usize>payloadOffset;
  const n = unicode
    ? utf16leToUtf8(src, payloadLength, dst, IDENTITY_NAME_BYTES)
    : latin1ToUtf8(src, payloadLength, dst, IDENTITY_NAME_BYTES);
  if (textWasCut()) countAnomaly(NtlmAnomaly.IDENTITY_TRUNCATED);
  return n;
}

function writeOemField(id: u16, src: usize, length: u32): void {
  const n = latin1ToUtf8(src, length, accountScratch, ACCOUNT_SCRATCH_BYTES);
  fieldText(id, accountScratch, n);
}
