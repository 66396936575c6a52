// FTP control connections: logins (USER, PASS and their replies) and the
// commands that name files (STOR, RETR, DELE, RNFR, RNTO, SITE, ...), one
// "ftp" record per command with its final reply. The password is never
// copied. After AUTH TLS is accepted the connection is encrypted and skipped.
// NOTE: data connections (the file contents, directory listings) are not
// followed: they use ports negotiated by PORT/PASV on other flows.
//
// Specifications: RFC 959 "File Transfer Protocol", section 4.1 (commands)
// and 4.2 (replies: three digits, then SP for the last line or "-" for the
// first of several lines); RFC 4217 section 4 (AUTH TLS, reply 234).
//
//   command:  VERB [SP argument] CR LF
//   reply:    ddd SP text CR LF
//             ddd "-" text CR LF ... ddd SP text CR LF

import { PROBE_MATCH, PROBE_NEED_MORE, PROBE_NO_MATCH, STREAM_NEED_MORE } from "../api";
import { Field, RecordType } from "../fields";
import { beginRecord, endRecord, fieldLiteral, fieldText, fieldU64 } from "../../wasm-core/assembly/events";
import { countAnomaly } from "../../wasm-core/assembly/counters";
import { copyPrintable, indexOfByte, LINE_TOO_LONG, lineLength, matchesAt, skipSpaces, trimmedLength } from "../lines";
import { setFlagBits, SKIP_REST } from "../session";
import { FtpAnomaly, FtpField } from "./fields";

@inline export const PORT_FTP: u16 = 21;
// Maximum length of a command or reply line. RFC 959 sets no limit, and
// longer paths are rare on device file systems.
@inline const MAX_LINE_BYTES: u32 = 1024;
@inline const VERB_CAPACITY: u32 = 8;
@inline const ARGUMENT_CAPACITY: u32 = 512;
@inline const USER_CAPACITY: u32 = 128;
@inline const REPLY_TEXT_CAPACITY: u32 = 160;

// Flow state (large class).
@inline const S_FLAGS: usize = 0;
@inline const S_VERB_LENGTH: usize = 1;
@inline const S_USER_LENGTH: usize = 2;
@inline const S_REPLY_CODE: usize = 4;       // u16: code of a multi-line reply in progress
@inline const S_ARGUMENT_LENGTH: usize = 6;  // u16
@inline const S_REPLY_TEXT_LENGTH: usize = 8; // u16
@inline const S_VERB: usize = 16;
@inline const S_USER: usize = 32;
@inline const S_ARGUMENT: usize = 32 + USER_CAPACITY;
@inline const S_REPLY_TEXT: usize = S_ARGUMENT + ARGUMENT_CAPACITY;
@inline export const FTP_STATE_BYTES: u32 = <u32>S_REPLY_TEXT + REPLY_TEXT_CAPACITY;

@inline const F_PENDING: u8 = 1;           // a command waits for its final reply
@inline const F_DISCARD_CLIENT: u8 = 2;    // skipping the rest of an over-long line
@inline const F_DISCARD_SERVER: u8 = 4;
@inline const F_TLS: u8 = 8;               // AUTH TLS accepted: the rest is encrypted
@inline const F_ANONYMOUS: u8 = 16;
@inline const F_MULTILINE: u8 = 32;        // inside a multi-line reply

// Matches a server greeting ("220 " or "220-") or, for a flow picked up
// midway, a command line of letters followed by SP or CR LF.
export function ftpProbe(ptr: usize, length: u32, toServer: bool): i32 {
  if (length < 4) return PROBE_NEED_MORE;
  if (!toServer) {
    for (let i: u32 = 0; i < 3; i++) {
      const c = load<u8>(ptr + <usize>i);
      if (c < 0x30 || c > 0x39) return PROBE_NO_MATCH;
    }
    const separator = load<u8>(ptr, 3);
    return separator == 0x20 || separator == 0x2d ? PROBE_MATCH : PROBE_NO_MATCH;
  }
  let i: u32 = 0;
  while (i < length && i < 5 && isLetter(load<u8>(ptr + <usize>i))) i++;
  if (i < 3 || i == length) return i == length ? PROBE_NEED_MORE : PROBE_NO_MATCH;
  const next = load<u8>(ptr + <usize>i);
  return next == 0x20 || next == 0x0d || next == 0x0a ? PROBE_MATCH : PROBE_NO_MATCH;
}

@inline function isLetter(c: u8): bool {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

export function ftpOnData(state: usize, toServer: bool, ptr: usize, length: u32): i32 {
  let flags = load<u8>(state + S_FLAGS);
  if ((flags & F_TLS) != 0) return <i32>(length + SKIP_REST);
  const discard = toServer ? F_DISCARD_CLIENT : F_DISCARD_SERVER;
  let consumed: u32 = 0;
  while (consumed < length) {
    const line = ptr + <usize>consumed;
    const available = length - consumed;
    flags = load<u8>(state + S_FLAGS);
    if ((flags & F_TLS) != 0) return <i32>(length + SKIP_REST);
    if ((flags & discard) != 0) {
      const newline = indexOfByte(line, available, 0x0a);
      if (newline < 0) return <i32>length;
      store<u8>(state + S_FLAGS, flags & ~discard);
      consumed += <u32>newline + 1;
      continue;
    }
    const n = lineLength(line, available, MAX_LINE_BYTES);
    if (n == 0) break;
    if (n == LINE_TOO_LONG) {
      countAnomaly(FtpAnomaly.LINE_TOO_LONG);
      store<u8>(state + S_FLAGS, flags | discard);
      continue;
    }
    if (toServer) commandLine(state, line, <u32>n);
    else replyLine(state, line, <u32>n);
    consumed += <u32>n;
  }
  return consumed > 0 ? <i32>consumed : STREAM_NEED_MORE;
}

export function ftpOnGap(state: usize, toServer: bool): void {
  // Resynchronise on the next line end.
  const flags = load<u8>(state + S_FLAGS);
  store<u8>(state + S_FLAGS, flags | (toServer ? F_DISCARD_CLIENT : F_DISCARD_SERVER));
}

export function ftpOnClose(state: usize): void {
  if ((load<u8>(state + S_FLAGS) & F_PENDING) == 0) return;
  writeCommand(state, 0);
}

function commandLine(state: usize, line: usize, length: u32): void {
  const text = trimmedLength(line, length);
  let verbLength: u32 = 0;
  while (verbLength < text && verbLength < VERB_CAPACITY && isLetter(load<u8>(line + <usize>verbLength))) verbLength++;
  if (verbLength == 0) return;
  if ((load<u8>(state + S_FLAGS) & F_PENDING) != 0) {
    countAnomaly(FtpAnomaly.COMMAND_UNANSWERED);
    writeCommand(state, 0);
  }
  for (let i: u32 = 0; i < verbLength; i++) {
    let c = load<u8>(line + <usize>i);
    if (c >= 0x61) c -= 0x20;
    store<u8>(state + S_VERB + <usize>i, c);
  }
  store<u8>(state + S_VERB_LENGTH, <u8>verbLength);
  const argumentStart = skipSpaces(line, text, verbLength);
  let argumentLength = text - argumentStart;
  // RFC 959 4.1.1: PASS and ACCT carry secrets; never keep them.
  if (isVerb(state, "PASS") || isVerb(state, "ACCT")) argumentLength = 0;
  const kept = copyPrintable(line + <usize>argumentStart, argumentLength, state + S_ARGUMENT, ARGUMENT_CAPACITY);
  store<u16>(state + S_ARGUMENT_LENGTH, <u16>kept);
  if (isVerb(state, "USER")) {
    const userLength = kept < USER_CAPACITY ? kept : USER_CAPACITY;
    memory.copy(state + S_USER, state + S_ARGUMENT, userLength);
    store<u8>(state + S_USER_LENGTH, <u8>userLength);
    const anonymous = isText(state + S_USER, userLength, "anonymous") || isText(state + S_USER, userLength, "ftp");
    const flags = load<u8>(state + S_FLAGS);
    store<u8>(state + S_FLAGS, anonymous ? flags | F_ANONYMOUS : flags & ~F_ANONYMOUS);
  }
  setFlagBits(state + S_FLAGS, F_PENDING);
}

function replyLine(state: usize, line: usize, length: u32): void {
  const flags = load<u8>(state + S_FLAGS);
  const text = trimmedLength(line, length);
  const numbered = text >= 3 && isDigit(load<u8>(line)) && isDigit(load<u8>(line, 1)) && isDigit(load<u8>(line, 2));
  const code: u16 = numbered ? <u16>((load<u8>(line) - 0x30) * 100 + (load<u8>(line, 1) - 0x30) * 10 + (load<u8>(line, 2) - 0x30)) : 0;
  const separator: u8 = text > 3 ? load<u8>(line, 3) : 0x20;
  if ((flags & F_MULTILINE) != 0) {
    // RFC 959 4.2: the reply ends with a line of the same code and SP.
    if (!numbered || code != load<u16>(state + S_REPLY_CODE) || separator != 0x20) return;
    store<u8>(state + S_FLAGS, flags & ~F_MULTILINE);
    finalReply(state, code);
    return;
  }
  if (!numbered) {
    countAnomaly(FtpAnomaly.REPLY_MALFORMED);
    return;
  }
  const textStart: u32 = text > 4 ? 4 : text;
  const kept = copyPrintable(line + <usize>textStart, text - textStart, state + S_REPLY_TEXT, REPLY_TEXT_CAPACITY);
  store<u16>(state + S_REPLY_TEXT_LENGTH, <u16>kept);
  if (separator == 0x2d) {
    store<u16>(state + S_REPLY_CODE, code);
    store<u8>(state + S_FLAGS, flags | F_MULTILINE);
    return;
  }
  finalReply(state, code);
}

function finalReply(state: usize, code: u16): void {
  // 1xx replies are preliminary: the command waits for its final reply.
  if (code < 200) return;
  const flags = load<u8>(state + S_FLAGS);
  if ((flags & F_PENDING) == 0) return;
  writeCommand(state, code);
  // RFC 4217 4: 234 accepts AUTH TLS; the TLS handshake follows.
  if (code == 234 && isVerb(state, "AUTH")) setFlagBits(state + S_FLAGS, F_TLS);
}

@inline function isDigit(c: u8): bool { return c >= 0x30 && c <= 0x39; }

function isText(ptr: usize, length: u32, literal: string): bool {
  return length == <u32>literal.length && matchesAt(ptr, length, 0, literal);
}

function isVerb(state: usize, verb: string): bool {
  return isText(state + S_VERB, <u32>load<u8>(state + S_VERB_LENGTH), verb);
}

// Commands whose argument is a path on the server.
function isFileCommand(state: usize): bool {
  return isVerb(state, "STOR") || isVerb(state, "STOU") || isVerb(state, "APPE") || isVerb(state, "RETR") ||
    isVerb(state, "DELE") || isVerb(state, "RNFR") || isVerb(state, "RNTO") || isVerb(state, "MKD") ||
    isVerb(state, "RMD") || isVerb(state, "SIZE") || isVerb(state, "MDTM");
}

function isRecordedCommand(state: usize): bool {
  return isVerb(state, "USER") || isVerb(state, "PASS") || isVerb(state, "AUTH") || isVerb(state, "SITE") ||
    isFileCommand(state);
}

// Writes the pending command with its final reply `code` (0: unanswered).
function writeCommand(state: usize, code: u16): void {
  store<u8>(state + S_FLAGS, load<u8>(state + S_FLAGS) & ~F_PENDING);
  if (!isRecordedCommand(state)) return;
  if (!beginRecord(RecordType.FTP, code != 0)) return;
  fieldText(FtpField.COMMAND, state + S_VERB, <u32>load<u8>(state + S_VERB_LENGTH));

  const argumentLength = <u32>load<u16>(state + S_ARGUMENT_LENGTH);
  if (argumentLength > 0) {
    fieldText(FtpField.ARGUMENT, state + S_ARGUMENT, argumentLength);
    if (isFileCommand(state)) fieldText(FtpField.FILE_NAME, state + S_ARGUMENT, argumentLength);
  }
  if (code != 0) {
    fieldU64(FtpField.REPLY_CODE, code);
    const textLength = <u32>load<u16>(state + S_REPLY_TEXT_LENGTH);
    if (textLength > 0) fieldText(FtpField.REPLY_TEXT, state + S_REPLY_TEXT, textLength);
  }

  const isLogin = isVerb(state, "USER") || isVerb(state, "PASS");
  if (isLogin) {
    // RFC 959 4.2.2: 230 user logged in, 530 not logged in; 331 and 332 ask
    // for more and are no result yet.
    if (code == 230) fieldLiteral(FtpField.LOGIN_RESULT, "success");
    else if (code == 530) fieldLiteral(FtpField.LOGIN_RESULT, "failure");
    else if (code == 0) fieldLiteral(FtpField.LOGIN_RESULT, "unknown");
    fieldLiteral(FtpField.AUTH_SCHEME, (load<u8>(state + S_FLAGS) & F_ANONYMOUS) != 0 ? "anonymous" : "password");
  } else if (isVerb(state, "AUTH")) {
    fieldLiteral(FtpField.AUTH_SCHEME, "tls");
  }
  const userLength = <u32>load<u8>(state + S_USER_LENGTH);
  if (userLength > 0) {
    fieldText(Field.USER, state + S_USER, userLength);
    fieldText(Field.ACCOUNT, state + S_USER, userLength);
  }
  endRecord();
}
