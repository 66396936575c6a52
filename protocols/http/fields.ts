// HTTP field ids (900-949) and anomaly ids (900-949).
// The JSON names returned here appear in records and alerts; see protocols/fields.ts.
// The account from Basic, Digest, NTLM or a login form is written as the
// common fields `user`, `domain` (NTLM) and `account`.

export namespace HttpField {
  @inline export const METHOD: u16 = 900;           // request method, such as "POST"
  @inline export const HOST: u16 = 901;             // Host header
  @inline export const URI: u16 = 902;              // request target, cut at 256 bytes
  @inline export const STATUS_CODE: u16 = 903;      // final status code; absent when unanswered
  @inline export const USER_AGENT: u16 = 904;
  @inline export const AUTH_SCHEME: u16 = 905;      // "basic", "digest", "ntlm", "negotiate", "bearer", "form", "other"
  @inline export const LOGIN_RESULT: u16 = 906;     // "success", "failure" or "unknown" when credentials were sent
  @inline export const LOGIN_GUESS: u16 = 907;      // form logins: what the result was guessed from, in words
  @inline export const LOCATION: u16 = 908;         // Location header of a redirect
  @inline export const SERVER: u16 = 909;           // Server header
  @inline export const REQUEST_BODY_LENGTH: u16 = 910; // Content-Length of the request
  @inline export const FILE_NAME: u16 = 911;        // uploaded file: last path segment of a PUT, or a multipart filename
  @inline export const CHALLENGE: u16 = 912;        // scheme the server asked for in WWW-Authenticate
  @inline export const VERSION: u16 = 913;          // "1.0" or "1.1", from the request line
}

export function httpFieldName(id: u16): string {
  switch (id) {
    case HttpField.METHOD: return "method";
    case HttpField.HOST: return "host";
    case HttpField.URI: return "uri";
    case HttpField.STATUS_CODE: return "status_code";
    case HttpField.USER_AGENT: return "user_agent";
    case HttpField.AUTH_SCHEME: return "auth_scheme";
    case HttpField.LOGIN_RESULT: return "login_result";
    case HttpField.LOGIN_GUESS: return "login_guess";
    case HttpField.LOCATION: return "location";
    case HttpField.SERVER: return "server";
    case HttpField.REQUEST_BODY_LENGTH: return "request_body_length";
    case HttpField.FILE_NAME: return "file_name";
    case HttpField.CHALLENGE: return "challenge";
    case HttpField.VERSION: return "version";
  }
  return "";
}

export namespace HttpAnomaly {
  // A request line, status line or header longer than MAX_LINE_BYTES.
  @inline export const LINE_TOO_LONG: u16 = 900;
  // A request line or status line that does not parse.
  @inline export const START_LINE_MALFORMED: u16 = 901;
  // More pipelined requests than the queue holds: the oldest was reported unanswered.
  @inline export const PIPELINE_LIMIT: u16 = 902;
  // A response with no request waiting on the flow.
  @inline export const RESPONSE_WITHOUT_REQUEST: u16 = 903;
  // A chunk-size line that is not hexadecimal.
  @inline export const CHUNK_SIZE_INVALID: u16 = 904;
  // An Authorization header whose base64 credentials do not decode.
  @inline export const CREDENTIALS_MALFORMED: u16 = 905;
}

export function httpAnomalyName(id: u16): string {
  switch (id) {
    case HttpAnomaly.LINE_TOO_LONG: return "http.line_too_long";
    case HttpAnomaly.START_LINE_MALFORMED: return "http.start_line_malformed";
    case HttpAnomaly.PIPELINE_LIMIT: return "http.pipeline_limit";
    case HttpAnomaly.RESPONSE_WITHOUT_REQUEST: return "http.response_without_request";
    case HttpAnomaly.CHUNK_SIZE_INVALID: return "http.chunk_size_invalid";
    case HttpAnomaly.CREDENTIALS_MALFORMED: return "http.credentials_malformed";
  }
  return "";
}
