// RDP field ids (1000-1019) and anomaly ids (1000-1019).
// The JSON names returned here appear in records and alerts; see protocols/fields.ts.
// The cookie's user name is also written as the common field `user`.

export namespace RdpField {
  @inline export const SESSION_EVENT: u16 = 1000;       // "start" (negotiation seen) or "end" (flow closed)
  @inline export const COOKIE: u16 = 1001;              // mstshash value of the X.224 Connection Request
  @inline export const REQUESTED_PROTOCOLS: u16 = 1002; // RDP_NEG_REQ requestedProtocols bits
  @inline export const REQUESTED_PROTOCOL: u16 = 1003;  // name of each bit, repeated ("tls", "credssp", ...)
  @inline export const SELECTED_PROTOCOLS: u16 = 1004;  // RDP_NEG_RSP selectedProtocol value
  @inline export const SELECTED_PROTOCOL: u16 = 1005;   // its name
  @inline export const FAILURE_CODE: u16 = 1006;        // RDP_NEG_FAILURE failureCode
  @inline export const FAILURE: u16 = 1007;             // its name, such as "HYBRID_REQUIRED_BY_SERVER"
  @inline export const AUTH_SCHEME: u16 = 1008;         // the selected security protocol
  @inline export const LOGIN_RESULT: u16 = 1009;        // "unknown": the logon runs inside TLS or CredSSP
  @inline export const DURATION_MS: u16 = 1010;         // "end": first to last packet of the session
}

export function rdpFieldName(id: u16): string {
  switch (id) {
    case RdpField.SESSION_EVENT: return "session_event";
    case RdpField.COOKIE: return "cookie";
    case RdpField.REQUESTED_PROTOCOLS: return "requested_protocols";
    case RdpField.REQUESTED_PROTOCOL: return "requested_protocol";
    case RdpField.SELECTED_PROTOCOLS: return "selected_protocols";
    case RdpField.SELECTED_PROTOCOL: return "selected_protocol";
    case RdpField.FAILURE_CODE: return "failure_code";
    case RdpField.FAILURE: return "failure";
    case RdpField.AUTH_SCHEME: return "auth_scheme";
    case RdpField.LOGIN_RESULT: return "login_result";
    case RdpField.DURATION_MS: return "duration_ms";
  }
  return "";
}

export namespace RdpAnomaly {
  // A TPKT header with a version other than 3 or a length below 7.
  @inline export const TPKT_INVALID: u16 = 1000;
  // An X.224 Connection Request or Confirm shorter than its fixed part, or
  // an RDP negotiation structure whose length is not 8.
  @inline export const NEGOTIATION_MALFORMED: u16 = 1001;
  // A cookie line longer than the 64 bytes the record keeps.
  @inline export const COOKIE_TRUNCATED: u16 = 1002;
}

export function rdpAnomalyName(id: u16): string {
  switch (id) {
    case RdpAnomaly.TPKT_INVALID: return "rdp.tpkt_invalid";
    case RdpAnomaly.NEGOTIATION_MALFORMED: return "rdp.negotiation_malformed";
    case RdpAnomaly.COOKIE_TRUNCATED: return "rdp.cookie_truncated";
  }
  return "";
}
