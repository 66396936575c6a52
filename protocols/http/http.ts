// HTTP/1.x: one "http" record per request and its response, with the
// method, host, target, status, user agent and the credentials' scheme and
// account (Basic and Digest user names, NTLM through protocols/ntlm, form
// logins guessed from the exchange). Message bodies are skipped, except the
// start of upload and login-form bodies and the body of a login page.
//
// Specification: RFC 9112 "HTTP/1.1", section 2.1 (message format), 6.3
// (message body length) and 7.1 (chunked transfer coding):
//
//   start-line CRLF *( field-line CRLF ) CRLF [ message-body ]
//   chunked body: *( chunk-size [ ext ] CRLF chunk-data CRLF ) "0" CRLF *trailer CRLF

import { PROBE_MATCH, PROBE_NEED_MORE, PROBE_NO_MATCH, STREAM_NEED_MORE } from "../api";
import { countAnomaly } from "../../wasm-core/assembly/counters";
import { decimalOk, decimalValue, indexOfByte, LINE_TOO_LONG, lineLength, parseHex, prefixMatches, startsWith, trimmedLength } from "../lines";
import { HttpAnomaly } from "./fields";
import { bodyBytesWanted, inspectBody, isMethodAt, parseRequestLine, requestField, wantsBody } from "./request";
import { parseStatusLine, responseField, scanForPasswordField } from "./response";
import { writeExchange } from "./record";
import {
  dropHead, E_CONTENT_LENGTH, E_FLAGS, EF_CHUNKED, EF_CONNECT, EF_HEAD, EF_LOGIN_PATH, ENTRY_BYTES, F_CLIENT_BODY_READ,
  F_CLIENT_DISCARD, F_CLIENT_IN_MESSAGE, F_SERVER_DISCARD, F_SERVER_IN_MESSAGE, headEntry, MODE_BODY, MODE_CHUNK_DATA,
  MODE_CHUNK_SIZE, MODE_HEADERS, MODE_TRAILERS, MODE_UNTIL_CLOSE, QUEUE_CAPACITY, R_CHUNKED, R_HAS_LENGTH, R_HAS_REQUEST,
  S_CLIENT_MODE, S_CLIENT_REMAINING, S_FLAGS, S_QUEUE_COUNT, S_RESPONSE_FLAGS, S_SERVER_MODE, S_SERVER_REMAINING, S_STATUS,
  tailEntry,
} from "./state";

export { HTTP_STATE_BYTES } from "./state";

@inline export const PORT_HTTP: u16 = 80;
@inline export const PORT_HTTP_ALT: u16 = 8080;
@inline export const PORT_HTTP_8000: u16 = 8000;
@inline export const PORT_HTTP_8081: u16 = 8081;
// Maximum length of a start line or field line. RFC 9112 section 3
// recommends support for request lines of at least 8000 octets. Longer lines
// count http.line_too_long.
@inline const MAX_LINE_BYTES: u32 = 8192;
// Largest skip asked of the core at once (its cap is 2^30).
@inline const MAX_SKIP: u64 = 1 << 29;

// A response with no request waiting gets this zeroed entry.
const orphanEntry = memory.data(<i32>ENTRY_BYTES);

export function isHttpPort(port: u16): bool {
  return port == PORT_HTTP || port == PORT_HTTP_ALT || port == PORT_HTTP_8000 || port == PORT_HTTP_8081;
}

// On an HTTP port: a request line to the server or a status line from it.
// On any other port (`onPort` false): only a request line whose target
// starts like one ("/", "*" or an absolute URI).
export function httpProbe(ptr: usize, length: u32, toServer: bool, onPort: bool): i32 {
  if (!toServer) {
    if (!onPort) return PROBE_NO_MATCH;
    if (length < 7) return prefixMatches(ptr, length, "HTTP/1.") ? PROBE_NEED_MORE : PROBE_NO_MATCH;
    return startsWith(ptr, length, "HTTP/1.") ? PROBE_MATCH : PROBE_NO_MATCH;
  }
  const space = indexOfByte(ptr, length < 9 ? length : 9, 0x20);
  if (space < 0) return length < 9 && isMethodPrefix(ptr, length) ? PROBE_NEED_MORE : PROBE_NO_MATCH;
  if (!isMethodAt(ptr, length)) return PROBE_NO_MATCH;
  if (onPort) return PROBE_MATCH;
  if (<u32>space + 1 >= length) return PROBE_NEED_MORE;
  const c = load<u8>(ptr + <usize>space + 1);
  return c == 0x2f || c == 0x2a || c == 0x68 ? PROBE_MATCH : PROBE_NO_MATCH;
}

function isMethodPrefix(ptr: usize, length: u32): bool {
  return prefixMatches(ptr, length, "GET ") || prefixMatches(ptr, length, "POST ") || prefixMatches(ptr, length, "PUT ") ||
    prefixMatches(ptr, length, "HEAD ") || prefixMatches(ptr, length, "DELETE ") || prefixMatches(ptr, length, "OPTIONS ") ||
    prefixMatches(ptr, length, "PATCH ") || prefixMatches(ptr, length, "CONNECT ") || prefixMatches(ptr, length, "TRACE ");
}

export function httpOnData(state: usize, toServer: bool, ptr: usize, length: u32): i32 {
  const modeAt = state + (toServer ? S_CLIENT_MODE : S_SERVER_MODE);
  const remainingAt = state + (toServer ? S_CLIENT_REMAINING : S_SERVER_REMAINING);
  const discard = toServer ? F_CLIENT_DISCARD : F_SERVER_DISCARD;
  let consumed: u32 = 0;
  while (consumed < length) {
    const at = ptr + <usize>consumed;
    const available = length - consumed;
    const mode = load<u8>(modeAt);
    if (mode == MODE_UNTIL_CLOSE) return <i32>(length + <u32>MAX_SKIP);

    if (mode == MODE_BODY || mode == MODE_CHUNK_DATA) {
      const remaining = load<u64>(remainingAt);
      if (toServer && mode == MODE_BODY && (load<u8>(state + S_FLAGS) & F_CLIENT_BODY_READ) == 0) {
        store<u8>(state + S_FLAGS, load<u8>(state + S_FLAGS) | F_CLIENT_BODY_READ);
        const entry = tailEntry(state);
        if (wantsBody(entry)) {
          const wanted = bodyBytesWanted(entry);
          if (available < wanted) {
            store<u8>(state + S_FLAGS, load<u8>(state + S_FLAGS) & ~F_CLIENT_BODY_READ);
            return consumed > 0 ? <i32>consumed : STREAM_NEED_MORE;
          }
          inspectBody(entry, at, wanted);
        }
      }
      const readBody = !toServer && wantsResponseBody(state);
      if (readBody) scanForPasswordField(state, at, <u32>(remaining < <u64>available ? remaining : <u64>available));
      if (remaining <= <u64>available) {
        consumed += <u32>remaining;
        store<u64>(remainingAt, 0);
        bodyPartEnd(state, toServer, mode);
        continue;
      }
      if (readBody) {
        // A login page's body is read, not skipped, to search it.
        store<u64>(remainingAt, remaining - <u64>available);
        return <i32>length;
      }
      // Skip past the bytes at hand and up to MAX_SKIP more of the body.
      let skip = remaining - <u64>available;
      if (skip > MAX_SKIP) skip = MAX_SKIP;
      store<u64>(remainingAt, remaining - <u64>available - skip);
      if (load<u64>(remainingAt) == 0) bodyPartEnd(state, toServer, mode);
      return <i32>(<u64>length + skip);
    }

    const flags = load<u8>(state + S_FLAGS);
    if ((flags & discard) != 0) {
      const newline = indexOfByte(at, available, 0x0a);
      if (newline < 0) return <i32>length;
      store<u8>(state + S_FLAGS, flags & ~discard);
      consumed += <u32>newline + 1;
      continue;
    }
    const n = lineLength(at, available, MAX_LINE_BYTES);
    if (n == 0) break;
    if (n == LINE_TOO_LONG) {
      countAnomaly(HttpAnomaly.LINE_TOO_LONG);
      store<u8>(state + S_FLAGS, flags | discard);
      continue;
    }
    const text = trimmedLength(at, <u32>n);
    if (mode == MODE_HEADERS) {
      if (toServer) requestLine(state, at, text);
      else responseLine(state, at, text);
    } else if (mode == MODE_CHUNK_SIZE) {
      chunkSize(state, toServer, at, text);
    } else if (text == 0) {
      // The empty line after the trailer fields ends the message.
      messageEnd(state, toServer);
    }
    consumed += <u32>n;
  }
  return consumed > 0 ? <i32>consumed : STREAM_NEED_MORE;
}

export function httpOnGap(state: usize, toServer: bool): void {
  // The framing is lost: wait for the next start line.
  const flags = load<u8>(state + S_FLAGS);
  store<u8>(state + (toServer ? S_CLIENT_MODE : S_SERVER_MODE), MODE_HEADERS);
  store<u8>(state + S_FLAGS, (flags | (toServer ? F_CLIENT_DISCARD : F_SERVER_DISCARD)) &
    ~(toServer ? F_CLIENT_IN_MESSAGE : F_SERVER_IN_MESSAGE));
}

// Reports requests still waiting, with the response in progress if any.
export function httpOnClose(state: usize): void {
  if ((load<u8>(state + S_FLAGS) & F_SERVER_IN_MESSAGE) != 0 || (load<u8>(state + S_RESPONSE_FLAGS) & R_HAS_REQUEST) != 0) {
    if (load<u16>(state + S_STATUS) != 0) responseEnd(state);
  }
  let count = <u32>load<u8>(state + S_QUEUE_COUNT);
  while (count > 0) {
    writeExchange(state, headEntry(state), 0);
    dropHead(state);
    count--;
  }
}

function wantsResponseBody(state: usize): bool {
  if ((load<u8>(state + S_RESPONSE_FLAGS) & R_HAS_REQUEST) == 0) return false;
  return load<u16>(state + S_STATUS) == 200 && (load<u8>(headEntry(state) + E_FLAGS) & EF_LOGIN_PATH) != 0;
}

function requestLine(state: usize, line: usize, length: u32): void {
  const flags = load<u8>(state + S_FLAGS);
  if ((flags & F_CLIENT_IN_MESSAGE) == 0) {
    if (length == 0) return; // RFC 9112 2.2: empty lines before a request line are ignored
    const count = <u32>load<u8>(state + S_QUEUE_COUNT);
    if (count == QUEUE_CAPACITY) {
      countAnomaly(HttpAnomaly.PIPELINE_LIMIT);
      if ((load<u8>(state + S_RESPONSE_FLAGS) & R_HAS_REQUEST) != 0) store<u8>(state + S_RESPONSE_FLAGS, load<u8>(state + S_RESPONSE_FLAGS) & ~R_HAS_REQUEST);
      writeExchange(state, headEntry(state), 0);
      dropHead(state);
    }
    store<u8>(state + S_QUEUE_COUNT, load<u8>(state + S_QUEUE_COUNT) + 1);
    if (!parseRequestLine(tailEntry(state), line, length)) {
      countAnomaly(HttpAnomaly.START_LINE_MALFORMED);
      store<u8>(state + S_QUEUE_COUNT, load<u8>(state + S_QUEUE_COUNT) - 1);
      return;
    }
    store<u8>(state + S_FLAGS, flags | F_CLIENT_IN_MESSAGE);
    return;
  }
  const entry = tailEntry(state);
  if (length > 0) {
    requestField(entry, line, length);
    return;
  }
  // End of the header section: RFC 9112 6.3 decides the body length.
  store<u8>(state + S_FLAGS, (flags & ~F_CLIENT_IN_MESSAGE) & ~F_CLIENT_BODY_READ);
  const entryFlags = load<u8>(entry + E_FLAGS);
  if ((entryFlags & EF_CHUNKED) != 0) {
    store<u8>(state + S_CLIENT_MODE, MODE_CHUNK_SIZE);
  } else if (load<u64>(entry + E_CONTENT_LENGTH) > 0) {
    store<u64>(state + S_CLIENT_REMAINING, load<u64>(entry + E_CONTENT_LENGTH));
    store<u8>(state + S_CLIENT_MODE, MODE_BODY);
  }
}

function responseLine(state: usize, line: usize, length: u32): void {
  const flags = load<u8>(state + S_FLAGS);
  if ((flags & F_SERVER_IN_MESSAGE) == 0) {
    if (length == 0) return;
    if (!parseStatusLine(state, line, length)) {
      countAnomaly(HttpAnomaly.START_LINE_MALFORMED);
      return;
    }
    const hasRequest = load<u8>(state + S_QUEUE_COUNT) > 0;
    if (!hasRequest) countAnomaly(HttpAnomaly.RESPONSE_WITHOUT_REQUEST);
    const responseFlags = load<u8>(state + S_RESPONSE_FLAGS);
    store<u8>(state + S_RESPONSE_FLAGS, hasRequest ? responseFlags | R_HAS_REQUEST : responseFlags & ~R_HAS_REQUEST);
    store<u8>(state + S_FLAGS, flags | F_SERVER_IN_MESSAGE);
    return;
  }
  const hasRequest = (load<u8>(state + S_RESPONSE_FLAGS) & R_HAS_REQUEST) != 0;
  const entry = hasRequest ? headEntry(state) : 0;
  if (length > 0) {
    responseField(state, entry, line, length);
    return;
  }

  store<u8>(state + S_FLAGS, flags & ~F_SERVER_IN_MESSAGE);
  const status = load<u16>(state + S_STATUS);
  // RFC 9110 15.2: 1xx responses are interim; the final one follows.
  // 101 Switching Protocols hands the connection to another protocol.
  if (status < 200 && status != 101) return;

  const entryFlags = entry != 0 ? load<u8>(entry + E_FLAGS) : 0;
  if (status == 101 || ((entryFlags & EF_CONNECT) != 0 && status < 300)) {
    responseEnd(state);
    store<u8>(state + S_SERVER_MODE, MODE_UNTIL_CLOSE);
    store<u8>(state + S_CLIENT_MODE, MODE_UNTIL_CLOSE);
    return;
  }
  // RFC 9112 6.3: no body after HEAD, 204 and 304.
  if ((entryFlags & EF_HEAD) != 0 || status == 204 || status == 304) {
    responseEnd(state);
    return;
  }

  const responseFlags = load<u8>(state + S_RESPONSE_FLAGS);
  if ((responseFlags & R_CHUNKED) != 0) {
    store<u8>(state + S_SERVER_MODE, MODE_CHUNK_SIZE);
  } else if ((responseFlags & R_HAS_LENGTH) != 0) {
    if (load<u64>(state + S_SERVER_REMAINING) == 0) responseEnd(state);
    else store<u8>(state + S_SERVER_MODE, MODE_BODY);
  } else {
    // Delimited by the end of the connection: report it now.
    responseEnd(state);
    store<u8>(state + S_SERVER_MODE, MODE_UNTIL_CLOSE);
  }
}

function chunkSize(state: usize, toServer: bool, line: usize, length: u32): void {
  if (length == 0) return; // tolerate a stray CR LF between chunks
  parseHex(line, length, 0);
  const remainingAt = state + (toServer ? S_CLIENT_REMAINING : S_SERVER_REMAINING);
  const modeAt = state + (toServer ? S_CLIENT_MODE : S_SERVER_MODE);
  if (!decimalOk) {
    countAnomaly(HttpAnomaly.CHUNK_SIZE_INVALID);
    messageEnd(state, toServer);
    return;
  }
  if (decimalValue == 0) {
    store<u8>(modeAt, MODE_TRAILERS);
    return;
  }
  // The chunk data and the CR LF after it.
  store<u64>(remainingAt, decimalValue + 2);
  store<u8>(modeAt, MODE_CHUNK_DATA);
}

// A Content-Length body or one chunk's data ended.
function bodyPartEnd(state: usize, toServer: bool, mode: u8): void {
  if (mode == MODE_CHUNK_DATA) {
    store<u8>(state + (toServer ? S_CLIENT_MODE : S_SERVER_MODE), MODE_CHUNK_SIZE);
    return;
  }
  messageEnd(state, toServer);
}

function messageEnd(state: usize, toServer: bool): void {
  store<u8>(state + (toServer ? S_CLIENT_MODE : S_SERVER_MODE), MODE_HEADERS);
  if (!toServer) responseEnd(state);
}

// Writes the record of the response in the state and of its request.
function responseEnd(state: usize): void {
  const status = load<u16>(state + S_STATUS);
  if (status == 0) return;
  const responseFlags = load<u8>(state + S_RESPONSE_FLAGS);
  if ((responseFlags & R_HAS_REQUEST) != 0) {
    writeExchange(state, headEntry(state), status);
    dropHead(state);
  } else {
    memory.fill(orphanEntry, 0, ENTRY_BYTES);
    writeExchange(state, orphanEntry, status);
  }
  store<u16>(state + S_STATUS, 0);
  store<u8>(state + S_RESPONSE_FLAGS, responseFlags & ~R_HAS_REQUEST);
}
