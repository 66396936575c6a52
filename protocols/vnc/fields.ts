// VNC (RFB) field ids (990-999) and anomaly ids (990-999).
// The JSON names returned here appear in records and alerts; see protocols/fields.ts.

export namespace VncField {
  @inline export const SESSION_EVENT: u16 = 990;   // "start" (security handshake ended) or "end" (flow closed)
  @inline export const CLIENT_VERSION: u16 = 991;  // ProtocolVersion of the client, such as "003.008"
  @inline export const SERVER_VERSION: u16 = 992;
  @inline export const SECURITY_TYPES: u16 = 993;  // types the server offered, repeated
  @inline export const SECURITY_TYPE: u16 = 994;   // the type in use (chosen by the client, or set by a 3.3 server)
  @inline export const SECURITY_RESULT: u16 = 995; // SecurityResult: 0 OK, 1 failed
  @inline export const REASON: u16 = 996;          // reason string of a failure, when the server sent one
  @inline export const LOGIN_RESULT: u16 = 997;    // "success", "failure" or "unknown"
  @inline export const AUTH_SCHEME: u16 = 998;     // the security type's name
  @inline export const DURATION_MS: u16 = 999;     // "end": first to last packet of the session
}

export function vncFieldName(id: u16): string {
  switch (id) {
    case VncField.SESSION_EVENT: return "session_event";
    case VncField.CLIENT_VERSION: return "client_version";
    case VncField.SERVER_VERSION: return "server_version";
    case VncField.SECURITY_TYPES: return "security_types";
    case VncField.SECURITY_TYPE: return "security_type";
    case VncField.SECURITY_RESULT: return "security_result";
    case VncField.REASON: return "reason";
    case VncField.LOGIN_RESULT: return "login_result";
    case VncField.AUTH_SCHEME: return "auth_scheme";
    case VncField.DURATION_MS: return "duration_ms";
  }
  return "";
}

export namespace VncAnomaly {
  // A ProtocolVersion message that is not "RFB xxx.yyy\n".
  @inline export const VERSION_INVALID: u16 = 990;
  // A security type list or reason longer than the record keeps.
  @inline export const LIST_TRUNCATED: u16 = 991;
}

export function vncAnomalyName(id: u16): string {
  switch (id) {
    case VncAnomaly.VERSION_INVALID: return "vnc.version_invalid";
    case VncAnomaly.LIST_TRUNCATED: return "vnc.list_truncated";
  }
  return "";
}
