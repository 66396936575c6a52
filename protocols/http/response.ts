// HTTP responses: the status line, the header fields that matter for logins
// (Location, WWW-Authenticate, Server) and the search of a login page's body
// for a password field.
//
// Specifications: RFC 9112 section 4 (status line) and 6 (message body
// length); RFC 9110 section 11.6.1 (WWW-Authenticate) and 10.2.2 (Location).

import {
  copyPrintable, decimalOk, decimalValue, fieldNameLength, fieldValue, fieldValueLength, indexOfByte, indexOfText, matchesAt, parseDecimal,
  skipSpaces, splitHeaderField, startsWith,
} from "../lines";
import { ntlmToken } from "./request";
import {
  AuthScheme, LOCATION_CAPACITY, R_CHUNKED, R_HAS_LENGTH, R_PASSWORD_FIELD, S_CHALLENGE, S_LOCATION, S_LOCATION_LENGTH,
  S_RESPONSE_FLAGS, S_SCANNED, S_SERVER, S_SERVER_LENGTH, S_SERVER_REMAINING, S_STATUS, SERVER_CAPACITY,
} from "./state";

// Parses "HTTP/1.x SP status-code SP reason" and resets the response fields.
// Returns false when the line is not a status line.
export function parseStatusLine(state: usize, line: usize, length: u32): bool {
  if (!startsWith(line, length, "HTTP/1.") || length < 12) return false;
  parseDecimal(line, length, 9, 3);
  if (!decimalOk || decimalValue < 100 || decimalValue > 999) return false;
  store<u16>(state + S_STATUS, <u16>decimalValue);
  store<u8>(state + S_RESPONSE_FLAGS, load<u8>(state + S_RESPONSE_FLAGS) & ~(R_CHUNKED | R_HAS_LENGTH | R_PASSWORD_FIELD));
  store<u64>(state + S_SERVER_REMAINING, 0);
  store<u16>(state + S_LOCATION_LENGTH, 0);
  store<u8>(state + S_SERVER_LENGTH, 0);
  store<u8>(state + S_CHALLENGE, 0);
  store<u32>(state + S_SCANNED, 0);
  return true;
}

// Reads one header field line of a response. `entry` is its request (0:
// none), for NTLM challenges.
export function responseField(state: usize, entry: usize, line: usize, length: u32): void {
  if (!splitHeaderField(line, length)) return;
  const value = fieldValue;
  const valueLength = fieldValueLength;
  const nameLength = fieldNameLength;
  if (isName(line, nameLength, "location")) {
    store<u16>(state + S_LOCATION_LENGTH, <u16>copyPrintable(value, valueLength, state + S_LOCATION, LOCATION_CAPACITY));
  } else if (isName(line, nameLength, "server")) {
    store<u8>(state + S_SERVER_LENGTH, <u8>copyPrintable(value, valueLength, state + S_SERVER, SERVER_CAPACITY));
  } else if (isName(line, nameLength, "content-length")) {
    parseDecimal(value, valueLength, 0, 18);
    if (decimalOk) {
      store<u64>(state + S_SERVER_REMAINING, decimalValue);
      store<u8>(state + S_RESPONSE_FLAGS, load<u8>(state + S_RESPONSE_FLAGS) | R_HAS_LENGTH);
    }
  } else if (isName(line, nameLength, "transfer-encoding")) {
    if (indexOfText(value, valueLength, "chunked") >= 0) {
      store<u8>(state + S_RESPONSE_FLAGS, load<u8>(state + S_RESPONSE_FLAGS) | R_CHUNKED);
    }
  } else if (isName(line, nameLength, "www-authenticate")) {
    challenge(state, value, valueLength);
  }
}

function challenge(state: usize, value: usize, length: u32): void {
  const space = indexOfByte(value, length, 0x20);
  const schemeLength = space < 0 ? length : <u32>space;
  let scheme = AuthScheme.OTHER;
  if (isName(value, schemeLength, "basic")) scheme = AuthScheme.BASIC;
  else if (isName(value, schemeLength, "digest")) scheme = AuthScheme.DIGEST;
  else if (isName(value, schemeLength, "ntlm")) scheme = AuthScheme.NTLM;
  else if (isName(value, schemeLength, "negotiate")) scheme = AuthScheme.NEGOTIATE;
  else if (isName(value, schemeLength, "bearer")) scheme = AuthScheme.BEARER;
  // The first challenge names the scheme; a server often offers several.
  if (load<u8>(state + S_CHALLENGE) == 0) store<u8>(state + S_CHALLENGE, scheme);
  if ((scheme == AuthScheme.NTLM || scheme == AuthScheme.NEGOTIATE) && space >= 0) {
    const tokenStart = skipSpaces(value, length, schemeLength);
    // A CHALLENGE message names the server; the NTLM dissector records it.
    if (tokenStart < length) ntlmToken(0, value + <usize>tokenStart, length - tokenStart, true);
  }
}

function isName(line: usize, length: u32, name: string): bool {
  return length == <u32>name.length && matchesAt(line, length, 0, name);
}

// Response body bytes searched for a password input, per response.
@inline export const MAX_SCAN_BYTES: u32 = 65536;

// Searches body bytes of a login page for an HTML password input
// (type="password", type='password' or type=password).
// NOTE: a marker split across two deliveries of body bytes is missed.
export function scanForPasswordField(state: usize, body: usize, length: u32): void {
  const scanned = load<u32>(state + S_SCANNED);
  if (scanned >= MAX_SCAN_BYTES || (load<u8>(state + S_RESPONSE_FLAGS) & R_PASSWORD_FIELD) != 0) return;
  const n = length < MAX_SCAN_BYTES - scanned ? length : MAX_SCAN_BYTES - scanned;
  store<u32>(state + S_SCANNED, scanned + n);
  if (indexOfText(body, n, "type=\"password\"") >= 0 || indexOfText(body, n, "type='password'") >= 0 ||
      indexOfText(body, n, "type=password") >= 0) {
    store<u8>(state + S_RESPONSE_FLAGS, load<u8>(state + S_RESPONSE_FLAGS) | R_PASSWORD_FIELD);
  }
}
