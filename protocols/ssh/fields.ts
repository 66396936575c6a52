// SSH field ids (1020-1039) and anomaly ids (1020-1039).
// The JSON names returned here appear in records and alerts; see protocols/fields.ts.

export namespace SshField {
  @inline export const SESSION_EVENT: u16 = 1020;            // "start" (both banners seen) or "end" (flow closed)
  @inline export const CLIENT_BANNER: u16 = 1021;            // client identification string without CR LF
  @inline export const SERVER_BANNER: u16 = 1022;
  @inline export const CLIENT_SOFTWARE: u16 = 1023;          // softwareversion part, such as "OpenSSH_9.2p1"
  @inline export const SERVER_SOFTWARE: u16 = 1024;
  @inline export const CLIENT_PROTOCOL_VERSION: u16 = 1025;  // protoversion part: "2.0", "1.99"
  @inline export const SERVER_PROTOCOL_VERSION: u16 = 1026;
  @inline export const ENCRYPTED: u16 = 1027;                // both sides sent SSH_MSG_NEWKEYS
  @inline export const DURATION_MS: u16 = 1028;              // "end": first to last packet of the session
  @inline export const LOGIN_RESULT: u16 = 1029;             // always "unknown": authentication is encrypted
}

export function sshFieldName(id: u16): string {
  switch (id) {
    case SshField.SESSION_EVENT: return "session_event";
    case SshField.CLIENT_BANNER: return "client_banner";
    case SshField.SERVER_BANNER: return "server_banner";
    case SshField.CLIENT_SOFTWARE: return "client_software";
    case SshField.SERVER_SOFTWARE: return "server_software";
    case SshField.CLIENT_PROTOCOL_VERSION: return "client_protocol_version";
    case SshField.SERVER_PROTOCOL_VERSION: return "server_protocol_version";
    case SshField.ENCRYPTED: return "encrypted";
    case SshField.DURATION_MS: return "duration_ms";
    case SshField.LOGIN_RESULT: return "login_result";
  }
  return "";
}

export namespace SshAnomaly {
  // A version line longer than 255 bytes (RFC 4253 section 4.2), or more
  // lines before it than the dissector reads.
  @inline export const BANNER_TOO_LONG: u16 = 1020;
  // A binary packet whose packet_length is below 5 or above 35000 bytes
  // (RFC 4253 section 6.1) before encryption started.
  @inline export const PACKET_LENGTH_INVALID: u16 = 1021;
}

export function sshAnomalyName(id: u16): string {
  switch (id) {
    case SshAnomaly.BANNER_TOO_LONG: return "ssh.banner_too_long";
    case SshAnomaly.PACKET_LENGTH_INVALID: return "ssh.packet_length_invalid";
  }
  return "";
}
