// Kerberos field ids (450-499) and anomaly ids (450-499).
// The JSON names returned here appear in records and alerts; see protocols/fields.ts.
// rtt_us, user, domain and account use the common fields.

export namespace KerberosField {
  @inline export const REQUEST_TYPE: u16 = 450;     // "AS" or "TGS"
  @inline export const CLIENT: u16 = 451;           // client principal name, components joined by "/"
  @inline export const REALM: u16 = 452;            // realm of the request body (the KDC's realm)
  @inline export const SERVICE: u16 = 453;          // service principal name requested, such as "cifs/dc01.corp.local"
  @inline export const SUCCESS: u16 = 454;          // true for AS-REP/TGS-REP, false for KRB-ERROR
  @inline export const ERROR_CODE: u16 = 455;       // KRB-ERROR error-code
  @inline export const ERROR: u16 = 456;            // its RFC 4120 name, such as KDC_ERR_PREAUTH_FAILED
  @inline export const ENCRYPTION_TYPE: u16 = 457;  // encryption types the client requested, in order
  @inline export const CIPHER: u16 = 458;           // encryption type of the ticket in the reply
  @inline export const PREAUTH: u16 = 459;          // the request carried PA-ENC-TIMESTAMP
  @inline export const REPLY: u16 = 460;            // "AS-REP", "TGS-REP" or "KRB-ERROR"; absent when unanswered
  @inline export const CLIENT_REALM: u16 = 461;     // realm of the client principal (crealm)
}

export function kerberosFieldName(id: u16): string {
  switch (id) {
    case KerberosField.REQUEST_TYPE: return "request_type";
    case KerberosField.CLIENT: return "client";
    case KerberosField.REALM: return "realm";
    case KerberosField.SERVICE: return "service";
    case KerberosField.SUCCESS: return "success";
    case KerberosField.ERROR_CODE: return "error_code";
    case KerberosField.ERROR: return "error";
    case KerberosField.ENCRYPTION_TYPE: return "encryption_type";
    case KerberosField.CIPHER: return "cipher";
    case KerberosField.PREAUTH: return "preauth";
    case KerberosField.REPLY: return "reply";
    case KerberosField.CLIENT_REALM: return "client_realm";
  }
  return "";
}

export namespace KerberosAnomaly {
  // A DER header or primitive that runs past its enclosing element, an
  // indefinite length, a length of more than 4 bytes, or a high tag number.
  @inline export const DER_INVALID: u16 = 450;
  // A TCP record marker with the reserved high bit set, or a zero length.
  @inline export const RECORD_MARKER_INVALID: u16 = 451;
  // A message whose outer tag is not AS-REQ, AS-REP, TGS-REQ, TGS-REP or KRB-ERROR.
  @inline export const MESSAGE_UNKNOWN: u16 = 452;
  // A reply or error with no request waiting on the flow.
  @inline export const RESPONSE_WITHOUT_REQUEST: u16 = 453;
  // More name components or encryption types than the record keeps.
  @inline export const LIST_TRUNCATED: u16 = 454;
  // A message longer than the bytes buffered for it: only its beginning was parsed.
  @inline export const MESSAGE_PREFIX_ONLY: u16 = 455;
  // A request replaced an earlier one still waiting for its reply.
  @inline export const REQUEST_UNANSWERED: u16 = 456;
}

export function kerberosAnomalyName(id: u16): string {
  switch (id) {
    case KerberosAnomaly.DER_INVALID: return "kerberos.der_invalid";
    case KerberosAnomaly.RECORD_MARKER_INVALID: return "kerberos.record_marker_invalid";
    case KerberosAnomaly.MESSAGE_UNKNOWN: return "kerberos.message_unknown";
    case KerberosAnomaly.RESPONSE_WITHOUT_REQUEST: return "kerberos.response_without_request";
    case KerberosAnomaly.LIST_TRUNCATED: return "kerberos.list_truncated";
    case KerberosAnomaly.MESSAGE_PREFIX_ONLY: return "kerberos.message_prefix_only";
    case KerberosAnomaly.REQUEST_UNANSWERED: return "kerberos.request_unanswered";
  }
  return "";
}
