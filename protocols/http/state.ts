// Per-flow state of the HTTP dissector (large class): the framing mode of
// each direction, the response being read, and a queue of requests waiting
// for their responses (pipelining, RFC 9112 section 9.3.2).
//
//   0     flow header (S_*)
//   64    response in progress: Location (256), Server (96)
//   512   request queue, QUEUE_CAPACITY entries of ENTRY_BYTES

// Framing modes of a direction.
@inline export const MODE_HEADERS: u8 = 0;      // start line and header fields
@inline export const MODE_BODY: u8 = 1;         // Content-Length bytes left in S_*_REMAINING
@inline export const MODE_CHUNK_SIZE: u8 = 2;   // chunk-size line
@inline export const MODE_CHUNK_DATA: u8 = 3;   // chunk data plus its CR LF
@inline export const MODE_TRAILERS: u8 = 4;     // trailer fields after the last chunk
@inline export const MODE_UNTIL_CLOSE: u8 = 5;  // body delimited by the end of the connection, or a tunnel

@inline export const S_FLAGS: usize = 0;
@inline export const S_CLIENT_MODE: usize = 1;
@inline export const S_SERVER_MODE: usize = 2;
@inline export const S_QUEUE_COUNT: usize = 3;
@inline export const S_QUEUE_HEAD: usize = 4;
@inline export const S_RESPONSE_FLAGS: usize = 5;
@inline export const S_STATUS: usize = 6;            // u16
@inline export const S_CLIENT_REMAINING: usize = 8;  // u64
@inline export const S_SERVER_REMAINING: usize = 16; // u64
@inline export const S_SCANNED: usize = 24;          // u32 response body bytes searched for a password field
@inline export const S_CHALLENGE: usize = 28;        // u8 AuthScheme of WWW-Authenticate
@inline export const S_SERVER_LENGTH: usize = 29;    // u8
@inline export const S_LOCATION_LENGTH: usize = 30;  // u16
@inline export const S_LOCATION: usize = 64;
@inline export const LOCATION_CAPACITY: u32 = 256;
@inline export const S_SERVER: usize = 320;
@inline export const SERVER_CAPACITY: u32 = 96;
@inline export const S_QUEUE: usize = 512;

// S_FLAGS bits.
@inline export const F_CLIENT_IN_MESSAGE: u8 = 1;   // request line read, header fields follow
@inline export const F_SERVER_IN_MESSAGE: u8 = 2;
@inline export const F_CLIENT_DISCARD: u8 = 4;      // skipping the rest of an over-long line
@inline export const F_SERVER_DISCARD: u8 = 8;
@inline export const F_CLIENT_BODY_READ: u8 = 16;   // the request body was already inspected

// S_RESPONSE_FLAGS bits.
@inline export const R_CHUNKED: u8 = 1;
@inline export const R_HAS_LENGTH: u8 = 2;
@inline export const R_PASSWORD_FIELD: u8 = 4;      // the body shows a password input
@inline export const R_HAS_REQUEST: u8 = 8;         // the response belongs to the queue head

// Request queue entry.
@inline export const QUEUE_CAPACITY: u32 = 8;
@inline export const ENTRY_BYTES: u32 = 1024;
@inline export const E_FLAGS: usize = 0;
@inline export const E_AUTH: usize = 1;            // AuthScheme
@inline export const E_NTLM_TYPE: usize = 2;       // NTLMSSP message type in Authorization
@inline export const E_METHOD_LENGTH: usize = 3;
@inline export const E_URI_LENGTH: usize = 4;      // u16
@inline export const E_HOST_LENGTH: usize = 6;
@inline export const E_AGENT_LENGTH: usize = 7;
@inline export const E_USER_LENGTH: usize = 8;
@inline export const E_DOMAIN_LENGTH: usize = 9;
@inline export const E_FILE_LENGTH: usize = 10;
@inline export const E_VERSION: usize = 11;        // minor version: 0 or 1
@inline export const E_TS_SEC: usize = 12;
@inline export const E_TS_NSEC: usize = 16;
@inline export const E_CONTENT_LENGTH: usize = 24; // u64
@inline export const E_METHOD: usize = 32;
@inline export const METHOD_CAPACITY: u32 = 16;
@inline export const E_URI: usize = 48;
@inline export const URI_CAPACITY: u32 = 256;
@inline export const E_HOST: usize = 304;
@inline export const HOST_CAPACITY: u32 = 128;
@inline export const E_AGENT: usize = 432;
@inline export const AGENT_CAPACITY: u32 = 160;
@inline export const E_USER: usize = 592;
@inline export const USER_CAPACITY: u32 = 128;
@inline export const E_DOMAIN: usize = 720;
@inline export const DOMAIN_CAPACITY: u32 = 64;
@inline export const E_FILE: usize = 784;
@inline export const FILE_CAPACITY: u32 = 128;

@inline export const HTTP_STATE_BYTES: u32 = <u32>S_QUEUE + QUEUE_CAPACITY * ENTRY_BYTES;

// E_FLAGS bits.
@inline export const EF_LOGIN_PATH: u8 = 1;      // POST to a path naming login, signin, logon or auth
@inline export const EF_FORM_PASSWORD: u8 = 2;   // the form body had a password field
@inline export const EF_HEAD: u8 = 4;            // HEAD: the response has no body
@inline export const EF_URLENCODED: u8 = 8;      // Content-Type application/x-www-form-urlencoded
@inline export const EF_MULTIPART: u8 = 16;      // Content-Type multipart/form-data
@inline export const EF_CHUNKED: u8 = 32;        // Transfer-Encoding: chunked
@inline export const EF_CONNECT: u8 = 64;

// Authentication schemes (RFC 9110 section 11; RFC 7617 Basic, RFC 7616
// Digest, RFC 4559 Negotiate and NTLM, RFC 6750 Bearer).
export namespace AuthScheme {
  @inline export const NONE: u8 = 0;
  @inline export const BASIC: u8 = 1;
  @inline export const DIGEST: u8 = 2;
  @inline export const NTLM: u8 = 3;
  @inline export const NEGOTIATE: u8 = 4;
  @inline export const BEARER: u8 = 5;
  @inline export const OTHER: u8 = 6;
  @inline export const FORM: u8 = 7;
}

export function authSchemeName(scheme: u8): string {
  switch (scheme) {
    case AuthScheme.BASIC: return "basic";
    case AuthScheme.DIGEST: return "digest";
    case AuthScheme.NTLM: return "ntlm";
    case AuthScheme.NEGOTIATE: return "negotiate";
    case AuthScheme.BEARER: return "bearer";
    case AuthScheme.OTHER: return "other";
    case AuthScheme.FORM: return "form";
  }
  return "";
}

@inline export function queueEntry(state: usize, index: u32): usize {
  return state + S_QUEUE + <usize>((index % QUEUE_CAPACITY) * ENTRY_BYTES);
}

// The newest request (the one whose header fields are being read).
export function tailEntry(state: usize): usize {
  const count = <u32>load<u8>(state + S_QUEUE_COUNT);
  return queueEntry(state, <u32>load<u8>(state + S_QUEUE_HEAD) + count - 1);
}

export function headEntry(state: usize): usize {
  return queueEntry(state, <u32>load<u8>(state + S_QUEUE_HEAD));
}

export function dropHead(state: usize): void {
  const count = load<u8>(state + S_QUEUE_COUNT);
  if (count == 0) return;
  store<u8>(state + S_QUEUE_HEAD, <u8>((<u32>load<u8>(state + S_QUEUE_HEAD) + 1) % QUEUE_CAPACITY));
  store<u8>(state + S_QUEUE_COUNT, count - 1);
}
