// HTTP requests: the request line, the header fields that name the client
// and its credentials, and the bodies of login forms and uploads. Passwords
// are read only to know that one was sent, and never copied.
//
// Specifications: RFC 9112 section 3 (request line) and 5 (field lines);
// RFC 9110 section 11.6.2 (Authorization); RFC 7617 (Basic: base64 of
// "user-id:password"); RFC 7616 section 3.4 (Digest username parameter);
// RFC 4559 section 4 (Negotiate and NTLM tokens in base64).

import { countAnomaly } from "../../wasm-core/assembly/counters";
import { contextTsNsec, contextTsSec } from "../../wasm-core/assembly/events";
import { ntlmInspectBlob, NTLM_IDENTITY_BYTES, identityIsSet, identityUser, identityUserLength, identityDomain, identityDomainLength } from "../ntlm/ntlmssp";
import {
  base64Decode, copyPrintable, decimalOk, decimalValue, fieldNameLength, fieldValue, fieldValueLength, indexOfByte, indexOfText, matchesAt,
  parseDecimal, skipSpaces, splitHeaderField, startsWith,
} from "../lines";
import { HttpAnomaly } from "./fields";
import {
  AGENT_CAPACITY, AuthScheme, DOMAIN_CAPACITY, E_AGENT, E_AGENT_LENGTH, E_AUTH, E_CONTENT_LENGTH, E_DOMAIN, E_DOMAIN_LENGTH,
  E_FILE, E_FILE_LENGTH, E_FLAGS, E_HOST, E_HOST_LENGTH, E_METHOD, E_METHOD_LENGTH, E_NTLM_TYPE, E_TS_NSEC, E_TS_SEC, E_URI,
  E_URI_LENGTH, E_USER, E_USER_LENGTH, E_VERSION, EF_CHUNKED, EF_CONNECT, EF_FORM_PASSWORD, EF_HEAD, EF_LOGIN_PATH,
  EF_MULTIPART, EF_URLENCODED, ENTRY_BYTES, FILE_CAPACITY, HOST_CAPACITY, METHOD_CAPACITY, URI_CAPACITY, USER_CAPACITY,
} from "./state";

// Decoded credentials and NTLM tokens; cleared after each use so that no
// password stays in memory longer than one header.
@inline const CREDENTIAL_CAPACITY: u32 = 6144;
const credentials = memory.data(<i32>CREDENTIAL_CAPACITY);
const identity = memory.data(<i32>NTLM_IDENTITY_BYTES);

// RFC 9110 section 9: the methods a content probe accepts.
export function isMethodAt(ptr: usize, length: u32): bool {
  return startsWith(ptr, length, "GET ") || startsWith(ptr, length, "POST ") || startsWith(ptr, length, "PUT ") ||
    startsWith(ptr, length, "HEAD ") || startsWith(ptr, length, "DELETE ") || startsWith(ptr, length, "OPTIONS ") ||
    startsWith(ptr, length, "PATCH ") || startsWith(ptr, length, "CONNECT ") || startsWith(ptr, length, "TRACE ");
}

// Parses "METHOD SP request-target SP HTTP/1.x" into a zeroed entry.
// Returns false when the line is not a request line.
export function parseRequestLine(entry: usize, line: usize, length: u32): bool {
  memory.fill(entry, 0, ENTRY_BYTES);
  const firstSpace = indexOfByte(line, length, 0x20);
  if (firstSpace <= 0 || <u32>firstSpace > METHOD_CAPACITY) return false;
  const targetStart = <u32>firstSpace + 1;
  const rest = length - targetStart;
  const secondSpace = indexOfByte(line + <usize>targetStart, rest, 0x20);
  if (secondSpace <= 0) return false;
  const targetLength = <u32>secondSpace;
  const versionAt = targetStart + targetLength + 1;
  if (!matchesAt(line, length, versionAt, "HTTP/1.") || versionAt + 8 > length) return false;
  store<u8>(entry + E_VERSION, load<u8>(line + <usize>(versionAt + 7)) == 0x30 ? 0 : 1);

  memory.copy(entry + E_METHOD, line, <usize>firstSpace);
  store<u8>(entry + E_METHOD_LENGTH, <u8>firstSpace);
  const uri = line + <usize>targetStart;
  store<u16>(entry + E_URI_LENGTH, <u16>copyPrintable(uri, targetLength, entry + E_URI, URI_CAPACITY));
  store<u32>(entry + E_TS_SEC, contextTsSec());
  store<u32>(entry + E_TS_NSEC, contextTsNsec());

  let flags: u8 = 0;
  if (matchesAt(line, length, 0, "HEAD ")) flags |= EF_HEAD;
  if (matchesAt(line, length, 0, "CONNECT ")) flags |= EF_CONNECT;
  const pathLength = pathPart(uri, targetLength);
  if (matchesAt(line, length, 0, "POST ") && isLoginPath(uri, pathLength)) flags |= EF_LOGIN_PATH;
  if (matchesAt(line, length, 0, "PUT ")) keepLastSegment(entry, uri, pathLength);
  store<u8>(entry + E_FLAGS, flags);
  return true;
}

// Length of the path: the request target up to "?" or "#".
function pathPart(uri: usize, length: u32): u32 {
  for (let i: u32 = 0; i < length; i++) {
    const c = load<u8>(uri + <usize>i);
    if (c == 0x3f || c == 0x23) return i;
  }
  return length;
}

// Common words of login paths: /login, /signin, /sign-in, /logon, /auth,
// /j_security_check (Java EE form login).
export function isLoginPath(path: usize, length: u32): bool {
  return indexOfText(path, length, "login") >= 0 || indexOfText(path, length, "signin") >= 0 ||
    indexOfText(path, length, "sign-in") >= 0 || indexOfText(path, length, "logon") >= 0 ||
    indexOfText(path, length, "auth") >= 0 || indexOfText(path, length, "security_check") >= 0;
}

function keepLastSegment(entry: usize, path: usize, length: u32): void {
  let start: u32 = 0;
  for (let i: u32 = 0; i < length; i++) {
    if (load<u8>(path + <usize>i) == 0x2f) start = i + 1;
  }
  if (start >= length) return;
  store<u8>(entry + E_FILE_LENGTH, <u8>copyPrintable(path + <usize>start, length - start, entry + E_FILE, FILE_CAPACITY));
}

// Reads one header field line of a request into the entry.
export function requestField(entry: usize, line: usize, length: u32): void {
  if (!splitHeaderField(line, length)) return;
  const value = fieldValue;
  const valueLength = fieldValueLength;
  const nameLength = fieldNameLength;
  if (isName(line, nameLength, "host")) {
    store<u8>(entry + E_HOST_LENGTH, <u8>copyPrintable(value, valueLength, entry + E_HOST, HOST_CAPACITY));
  } else if (isName(line, nameLength, "user-agent")) {
    store<u8>(entry + E_AGENT_LENGTH, <u8>copyPrintable(value, valueLength, entry + E_AGENT, AGENT_CAPACITY));
  } else if (isName(line, nameLength, "authorization")) {
    authorization(entry, value, valueLength);
  } else if (isName(line, nameLength, "content-length")) {
    parseDecimal(value, valueLength, 0, 18);
    if (decimalOk) store<u64>(entry + E_CONTENT_LENGTH, decimalValue);
  } else if (isName(line, nameLength, "transfer-encoding")) {
    if (indexOfText(value, valueLength, "chunked") >= 0) setFlag(entry, EF_CHUNKED);
  } else if (isName(line, nameLength, "content-type")) {
    if (startsWith(value, valueLength, "application/x-www-form-urlencoded")) setFlag(entry, EF_URLENCODED);
    else if (startsWith(value, valueLength, "multipart/form-data")) setFlag(entry, EF_MULTIPART);
  }
}

function setFlag(entry: usize, flag: u8): void {
  store<u8>(entry + E_FLAGS, load<u8>(entry + E_FLAGS) | flag);
}

function isName(line: usize, length: u32, name: string): bool {
  return length == <u32>name.length && matchesAt(line, length, 0, name);
}

function authorization(entry: usize, value: usize, length: u32): void {
  const space = indexOfByte(value, length, 0x20);
  const schemeLength = space < 0 ? length : <u32>space;
  const tokenStart = space < 0 ? length : skipSpaces(value, length, schemeLength);
  const token = value + <usize>tokenStart;
  const tokenLength = length - tokenStart;
  if (isName(value, schemeLength, "basic")) {
    store<u8>(entry + E_AUTH, AuthScheme.BASIC);
    basicUser(entry, token, tokenLength);
  } else if (isName(value, schemeLength, "digest")) {
    store<u8>(entry + E_AUTH, AuthScheme.DIGEST);
    digestUser(entry, token, tokenLength);
  } else if (isName(value, schemeLength, "ntlm") || isName(value, schemeLength, "negotiate")) {
    store<u8>(entry + E_AUTH, isName(value, schemeLength, "ntlm") ? AuthScheme.NTLM : AuthScheme.NEGOTIATE);
    ntlmToken(entry, token, tokenLength, false);
  } else if (isName(value, schemeLength, "bearer")) {
    store<u8>(entry + E_AUTH, AuthScheme.BEARER);
  } else {
    store<u8>(entry + E_AUTH, AuthScheme.OTHER);
  }
}

// RFC 7617 2: the user-id is the decoded text before the first ':'.
function basicUser(entry: usize, token: usize, length: u32): void {
  const decoded = base64Decode(token, trimEnd(token, length), credentials, CREDENTIAL_CAPACITY);
  if (decoded < 0) {
    countAnomaly(HttpAnomaly.CREDENTIALS_MALFORMED);
    return;
  }
  const colon = indexOfByte(credentials, <u32>decoded, 0x3a);
  const userLength = colon < 0 ? <u32>decoded : <u32>colon;
  store<u8>(entry + E_USER_LENGTH, <u8>copyPrintable(credentials, userLength, entry + E_USER, USER_CAPACITY));
  memory.fill(credentials, 0, <usize>decoded);
}

// RFC 7616 3.4: username="..." (or username*= for extended notation, kept as sent).
function digestUser(entry: usize, params: usize, length: u32): void {
  let at = indexOfText(params, length, "username");
  while (at >= 0) {
    // Skip "username" inside another parameter's quoted value or name.
    const before = at == 0 ? 0x20 : <u32>load<u8>(params + <usize>(at - 1));
    let p = skipSpaces(params, length, <u32>at + 8);
    if ((before == 0x20 || before == 0x2c || before == 0x09) && p < length && load<u8>(params + <usize>p) == 0x3d) {
      p = skipSpaces(params, length, p + 1);
      let end = p;
      if (p < length && load<u8>(params + <usize>p) == 0x22) {
        p++;
        end = p;
        while (end < length && load<u8>(params + <usize>end) != 0x22) end++;
      } else {
        while (end < length && load<u8>(params + <usize>end) != 0x2c) end++;
      }
      store<u8>(entry + E_USER_LENGTH, <u8>copyPrintable(params + <usize>p, end - p, entry + E_USER, USER_CAPACITY));
      return;
    }
    const next = indexOfText(params + <usize>(at + 8), length - <u32>at - 8, "username");
    at = next < 0 ? -1 : at + 8 + next;
  }
}

// Hands a base64 NTLMSSP (or SPNEGO-wrapped) token to the NTLM dissector,
// which writes its "ntlm" record; an AUTHENTICATE message names the account.
// Returns the message type, or 0.
export function ntlmToken(entry: usize, token: usize, length: u32, serverToClient: bool): i32 {
  const decoded = base64Decode(token, trimEnd(token, length), credentials, CREDENTIAL_CAPACITY);
  if (decoded < 0) {
    countAnomaly(HttpAnomaly.CREDENTIALS_MALFORMED);
    return 0;
  }
  memory.fill(identity, 0, NTLM_IDENTITY_BYTES);
  const type = ntlmInspectBlob(credentials, <u32>decoded, serverToClient, "http", identity);
  memory.fill(credentials, 0, <usize>decoded);
  if (entry == 0 || type <= 0) return type;
  store<u8>(entry + E_NTLM_TYPE, <u8>type);
  if (type == 3 && identityIsSet(identity)) {
    const userLength = identityUserLength(identity) < USER_CAPACITY ? identityUserLength(identity) : USER_CAPACITY;
    memory.copy(entry + E_USER, identityUser(identity), userLength);
    store<u8>(entry + E_USER_LENGTH, <u8>userLength);
    const domainLength = identityDomainLength(identity) < DOMAIN_CAPACITY ? identityDomainLength(identity) : DOMAIN_CAPACITY;
    memory.copy(entry + E_DOMAIN, identityDomain(identity), domainLength);
    store<u8>(entry + E_DOMAIN_LENGTH, <u8>domainLength);
  }
  return type;
}

function trimEnd(ptr: usize, length: u32): u32 {
  let n = length;
  while (n > 0) {
    const c = load<u8>(ptr + <usize>(n - 1));
    if (c != 0x20 && c != 0x09 && c != 0x0d) break;
    n--;
  }
  return n;
}

// Bytes of a form body the dissector waits for before reading it whole.
@inline export const MAX_FORM_BYTES: u32 = 4096;
// Bytes at the start of a multipart body searched for the first filename.
@inline export const MULTIPART_PREFIX_BYTES: u32 = 2048;

// True when the request body should be read before it is skipped: a login
// form of up to MAX_FORM_BYTES, or the first part of a multipart upload.
export function wantsBody(entry: usize): bool {
  const flags = load<u8>(entry + E_FLAGS);
  if ((flags & EF_CHUNKED) != 0) return false;
  const length = load<u64>(entry + E_CONTENT_LENGTH);
  if (length == 0) return false;
  if ((flags & EF_MULTIPART) != 0) return true;
  return (flags & EF_LOGIN_PATH) != 0 && (flags & EF_URLENCODED) != 0 && length <= MAX_FORM_BYTES;
}

// Bytes of the body wantsBody needs at once.
export function bodyBytesWanted(entry: usize): u32 {
  const length = load<u64>(entry + E_CONTENT_LENGTH);
  const cap: u64 = (load<u8>(entry + E_FLAGS) & EF_MULTIPART) != 0 ? MULTIPART_PREFIX_BYTES : MAX_FORM_BYTES;
  return <u32>(length < cap ? length : cap);
}

// Reads the body prefix that bodyBytesWanted asked for.
export function inspectBody(entry: usize, body: usize, length: u32): void {
  const flags = load<u8>(entry + E_FLAGS);
  if ((flags & EF_MULTIPART) != 0) {
    multipartFileName(entry, body, length);
    if ((flags & EF_LOGIN_PATH) == 0) return;
  }
  if ((flags & EF_LOGIN_PATH) != 0) formFields(entry, body, length);
}

// RFC 7578 4.2: Content-Disposition: form-data; name="..."; filename="..."
function multipartFileName(entry: usize, body: usize, length: u32): void {
  const at = indexOfText(body, length, "filename=\"");
  if (at < 0) return;
  const start = <u32>at + 10;
  const close = indexOfByte(body + <usize>start, length - start, 0x22);
  if (close <= 0) return;
  store<u8>(entry + E_FILE_LENGTH, <u8>copyPrintable(body + <usize>start, <u32>close, entry + E_FILE, FILE_CAPACITY));
}

// Walks name=value pairs of an application/x-www-form-urlencoded body: a
// field named like a password marks a form login, and the first field named
// like a user gives the account. Password values are never read.
function formFields(entry: usize, body: usize, length: u32): void {
  let at: u32 = 0;
  let userFound = false;
  while (at < length) {
    const ampersand = indexOfByte(body + <usize>at, length - at, 0x26);
    const pairEnd = ampersand < 0 ? length : at + <u32>ampersand;
    const pair = body + <usize>at;
    const pairLength = pairEnd - at;
    const equals = indexOfByte(pair, pairLength, 0x3d);
    const nameLength = equals < 0 ? pairLength : <u32>equals;
    if (indexOfText(pair, nameLength, "pass") >= 0 || indexOfText(pair, nameLength, "pwd") >= 0) {
      setFlag(entry, EF_FORM_PASSWORD);
    } else if (!userFound && equals >= 0 && isUserFieldName(pair, nameLength)) {
      userFound = true;
      urlDecodeUser(entry, pair + <usize>(nameLength + 1), pairLength - nameLength - 1);
    }
    at = pairEnd + 1;
  }
}

function isUserFieldName(name: usize, length: u32): bool {
  return indexOfText(name, length, "user") >= 0 || indexOfText(name, length, "login") >= 0 ||
    indexOfText(name, length, "email") >= 0 || indexOfText(name, length, "uname") >= 0 ||
    indexOfText(name, length, "account") >= 0 || isName(name, length, "usr") || isName(name, length, "name");
}

// Percent-decoding (RFC 3986 2.1) with '+' as space (HTML form encoding),
// keeping printable ASCII; other bytes become '?'.
function urlDecodeUser(entry: usize, value: usize, length: u32): void {
  let out: u32 = 0;
  let i: u32 = 0;
  while (i < length && out < USER_CAPACITY) {
    let c = <u32>load<u8>(value + <usize>i);
    i++;
    if (c == 0x2b) c = 0x20;
    else if (c == 0x25 && i + 2 <= length) {
      const high = hexValue(load<u8>(value + <usize>i));
      const low = hexValue(load<u8>(value + <usize>(i + 1)));
      if (high >= 0 && low >= 0) {
        c = <u32>(high * 16 + low);
        i += 2;
      }
    }
    store<u8>(entry + E_USER + <usize>out, c >= 0x20 && c < 0x7f ? <u8>c : 0x3f);
    out++;
  }
  store<u8>(entry + E_USER_LENGTH, <u8>out);
}

function hexValue(c: u8): i32 {
  if (c >= 0x30 && c <= 0x39) return <i32>c - 0x30;
  if (c >= 0x41 && c <= 0x46) return <i32>c - 0x37;
  if (c >= 0x61 && c <= 0x66) return <i32>c - 0x57;
  return -1;
}
