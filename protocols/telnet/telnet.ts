// Telnet logins: the login and password prompts a device prints, the user
// name typed after the first, and the result guessed from what the device
// prints after the password. Telnet has no login message of its own, so the
// result is always a guess, stated in the record's `login_guess`. The typed
// password is never copied.
//
// Specifications: RFC 854 "Telnet Protocol Specification" (IAC commands,
// page 14) and RFC 855 "Telnet Option Specifications" (SB ... IAC SE):
//
//   IAC (255) WILL/WONT/DO/DONT (251-254) option        3 bytes, skipped
//   IAC SB option ... IAC SE (240)                       skipped
//   IAC IAC                                              data byte 255
//   IAC other command                                    2 bytes, skipped

import { PROBE_MATCH, PROBE_NEED_MORE } from "../api";
import { Field, RecordType } from "../fields";
import { endRecord, fieldLiteral, fieldText } from "../../wasm-core/assembly/events";
import { countAnomaly } from "../../wasm-core/assembly/counters";
import { endsWith, indexOfText } from "../lines";
import { beginSessionRecord, endSessionRecord, markSessionStart, setFlagBits, SKIP_REST } from "../session";
import { TelnetAnomaly, TelnetField } from "./fields";

@inline export const PORT_TELNET: u16 = 23;
@inline const USER_CAPACITY: u32 = 48;
@inline const LINE_CAPACITY: u32 = 56;

@inline const IAC: u8 = 255;
@inline const SB: u8 = 250;
@inline const SE: u8 = 240;
@inline const WILL: u8 = 251;

// Per-direction IAC parser states.
@inline const IAC_DATA: u8 = 0;
@inline const IAC_COMMAND: u8 = 1;     // after IAC
@inline const IAC_OPTION: u8 = 2;      // after IAC WILL/WONT/DO/DONT
@inline const IAC_SUBNEGOTIATION: u8 = 3;
@inline const IAC_SUBNEGOTIATION_IAC: u8 = 4;

// Login stages.
@inline const STAGE_IDLE: u8 = 0;
@inline const STAGE_USER_PROMPT: u8 = 1;      // a login prompt was printed: the client types the user name
@inline const STAGE_USER_SENT: u8 = 2;
@inline const STAGE_PASSWORD_PROMPT: u8 = 3;  // the client types the password (never kept)
@inline const STAGE_PASSWORD_SENT: u8 = 4;    // waiting for what the device prints next
@inline const STAGE_LOGGED_IN: u8 = 5;

// Flow state (small class, 128 bytes).
@inline const S_FLAGS: usize = 0;
@inline const S_STAGE: usize = 1;
@inline const S_IAC_CLIENT: usize = 2;
@inline const S_IAC_SERVER: usize = 3;
@inline const S_USER_LENGTH: usize = 4;
@inline const S_LINE_LENGTH: usize = 5;
@inline const S_START: usize = 8;  // SESSION_START_BYTES: start time (session.ts)
@inline const S_USER: usize = 16;
@inline const S_LINE: usize = 16 + USER_CAPACITY;
@inline export const TELNET_STATE_BYTES: u32 = <u32>S_LINE + LINE_CAPACITY;

@inline const F_STARTED: u8 = 1;
@inline const F_USER_CUT: u8 = 2;

// Any bytes on port 23 are Telnet: there is no fixed greeting to probe.
export function telnetProbe(ptr: usize, length: u32): i32 {
  return length == 0 ? PROBE_NEED_MORE : PROBE_MATCH;
}

export function telnetOnData(state: usize, toServer: bool, ptr: usize, length: u32): i32 {
  if ((load<u8>(state + S_FLAGS) & F_STARTED) == 0) {
    setFlagBits(state + S_FLAGS, F_STARTED);
    markSessionStart(state + S_START);
    if (beginSessionRecord(RecordType.TELNET, !toServer, TelnetField.SESSION_EVENT, "start")) endRecord();
  }
  if (load<u8>(state + S_STAGE) == STAGE_LOGGED_IN) return <i32>(length + SKIP_REST);
  const iacAt = state + (toServer ? S_IAC_CLIENT : S_IAC_SERVER);
  let iac = load<u8>(iacAt);
  for (let i: u32 = 0; i < length; i++) {
    const b = load<u8>(ptr + <usize>i);
    if (iac == IAC_DATA) {
      if (b == IAC) { iac = IAC_COMMAND; continue; }
    } else if (iac == IAC_COMMAND) {
      if (b == SB) { iac = IAC_SUBNEGOTIATION; continue; }
      if (b >= WILL) { iac = IAC_OPTION; continue; }
      iac = IAC_DATA;
      if (b != IAC) continue;
    } else if (iac == IAC_OPTION) {
      iac = IAC_DATA;
      continue;
    } else if (iac == IAC_SUBNEGOTIATION) {
      if (b == IAC) iac = IAC_SUBNEGOTIATION_IAC;
      continue;
    } else {
      iac = b == SE ? IAC_DATA : IAC_SUBNEGOTIATION;
      continue;
    }
    if (toServer) clientByte(state, b);
    else serverByte(state, b);
  }
  store<u8>(iacAt, iac);
  if (!toServer) serverChunkEnd(state);
  return <i32>length;
}

export function telnetOnGap(state: usize, toServer: bool): void {
  store<u8>(state + (toServer ? S_IAC_CLIENT : S_IAC_SERVER), IAC_DATA);
  store<u8>(state + S_LINE_LENGTH, 0);
}

export function telnetOnClose(state: usize): void {
  if ((load<u8>(state + S_FLAGS) & F_STARTED) == 0) return;
  if (load<u8>(state + S_STAGE) == STAGE_PASSWORD_SENT) {
    writeLogin(state, "unknown", "unknown: the session ended before the device answered the password");
  }
  if (!beginSessionRecord(RecordType.TELNET, false, TelnetField.SESSION_EVENT, "end")) return;
  writeUser(state);
  endSessionRecord(TelnetField.DURATION_MS, state + S_START);
}

function clientByte(state: usize, b: u8): void {
  const stage = load<u8>(state + S_STAGE);
  const endOfLine = b == 0x0d || b == 0x0a;
  if (stage == STAGE_USER_PROMPT) {
    const userLength = <u32>load<u8>(state + S_USER_LENGTH);
    if (endOfLine) {
      if (userLength > 0) store<u8>(state + S_STAGE, STAGE_USER_SENT);
    } else if (b == 0x08 || b == 0x7f) {
      if (userLength > 0) store<u8>(state + S_USER_LENGTH, <u8>(userLength - 1));
    } else if (b >= 0x20 && b < 0x7f) {
      if (userLength < USER_CAPACITY) {
        store<u8>(state + S_USER + <usize>userLength, b);
        store<u8>(state + S_USER_LENGTH, <u8>(userLength + 1));
      } else if ((load<u8>(state + S_FLAGS) & F_USER_CUT) == 0) {
        countAnomaly(TelnetAnomaly.USER_TRUNCATED);
        setFlagBits(state + S_FLAGS, F_USER_CUT);
      }
    }
  } else if (stage == STAGE_PASSWORD_PROMPT && endOfLine) {
    store<u8>(state + S_STAGE, STAGE_PASSWORD_SENT);
  }
}

// Keeps the current line of server text, lower-cased, in the state; a full
// line keeps its last LINE_CAPACITY bytes.
function serverByte(state: usize, b: u8): void {
  if (b == 0x0a || b == 0x0d) {
    if (load<u8>(state + S_LINE_LENGTH) > 0) serverLineEnd(state);
    store<u8>(state + S_LINE_LENGTH, 0);
    return;
  }
  if (b == 0) return;
  let lineLength = <u32>load<u8>(state + S_LINE_LENGTH);
  if (lineLength == LINE_CAPACITY) {
    memory.copy(state + S_LINE, state + S_LINE + 1, LINE_CAPACITY - 1);
    lineLength--;
  }
  const lower: u8 = b >= 0x41 && b <= 0x5a ? b + 0x20 : b;
  store<u8>(state + S_LINE + <usize>lineLength, lower);
  store<u8>(state + S_LINE_LENGTH, <u8>(lineLength + 1));
}

// A whole line of server text: after a password, words of a rejection.
function serverLineEnd(state: usize): void {
  if (load<u8>(state + S_STAGE) != STAGE_PASSWORD_SENT) return;
  const line = state + S_LINE;
  const length = <u32>load<u8>(state + S_LINE_LENGTH);
  // "Last failed login: ..." greets a successful login on some systems.
  if (indexOfText(line, length, "last ") >= 0) return;
  if (indexOfText(line, length, "incorrect") >= 0 || indexOfText(line, length, "denied") >= 0 ||
      indexOfText(line, length, "fail") >= 0 || indexOfText(line, length, "invalid") >= 0) {
    writeLogin(state, "failure", "failure guessed from the device's words after the password (incorrect, denied, failed or invalid)");
    store<u8>(state + S_STAGE, STAGE_IDLE);
  }
}

// The end of a server chunk: a prompt waits for input on the current line.
function serverChunkEnd(state: usize): void {
  const line = state + S_LINE;
  let length = <u32>load<u8>(state + S_LINE_LENGTH);
  while (length > 0 && load<u8>(line + <usize>(length - 1)) == 0x20) length--;
  if (length == 0) return;
  const stage = load<u8>(state + S_STAGE);
  if (endsWith(line, length, "login:") || endsWith(line, length, "username:") || endsWith(line, length, "user name:") ||
      endsWith(line, length, "user:")) {
    if (stage == STAGE_PASSWORD_SENT) {
      writeLogin(state, "failure", "failure guessed from a new login prompt after the password");
    }
    store<u8>(state + S_USER_LENGTH, 0);
    store<u8>(state + S_STAGE, STAGE_USER_PROMPT);
    return;
  }
  if (endsWith(line, length, "password:") || endsWith(line, length, "passcode:")) {
    store<u8>(state + S_STAGE, STAGE_PASSWORD_PROMPT);
    return;
  }
  if (stage != STAGE_PASSWORD_SENT) return;
  const last = load<u8>(line + <usize>(length - 1));
  if (last == 0x24 || last == 0x23 || last == 0x3e || last == 0x25) {
    writeLogin(state, "success", "success guessed from a command prompt ending in $, #, > or % after the password");
    store<u8>(state + S_STAGE, STAGE_LOGGED_IN);
  }
}

function writeUser(state: usize): void {
  const userLength = <u32>load<u8>(state + S_USER_LENGTH);
  if (userLength == 0) return;
  fieldText(Field.USER, state + S_USER, userLength);
  fieldText(Field.ACCOUNT, state + S_USER, userLength);
}

function writeLogin(state: usize, result: string, guess: string): void {
  if (!beginSessionRecord(RecordType.TELNET, true, TelnetField.SESSION_EVENT, "login")) return;
  writeUser(state);
  fieldLiteral(TelnetField.LOGIN_RESULT, result);
  fieldLiteral(TelnetField.LOGIN_GUESS, guess);
  fieldLiteral(TelnetField.AUTH_SCHEME, "password");
  endRecord();
}
