// NTLMSSP field ids (400-449) and anomaly ids (400-449).
// The JSON names returned here appear in records and alerts; see protocols/fields.ts.
// User, domain, workstation and account use the common fields of protocols/fields.ts.

export namespace NtlmField {
  @inline export const MESSAGE_TYPE: u16 = 400;       // 1, 2 or 3 (MS-NLMP 2.2.1)
  @inline export const MESSAGE: u16 = 401;            // "NEGOTIATE", "CHALLENGE", "AUTHENTICATE"
  @inline export const TRANSPORT: u16 = 402;          // carrier of the blob: "smb" or "dcerpc"
  @inline export const NEGOTIATE_FLAGS: u16 = 403;
  @inline export const TARGET_NAME: u16 = 404;        // CHALLENGE TargetName
  @inline export const SERVER_NB_NAME: u16 = 405;     // AV pair MsvAvNbComputerName
  @inline export const SERVER_NB_DOMAIN: u16 = 406;   // AV pair MsvAvNbDomainName
  @inline export const SERVER_DNS_NAME: u16 = 407;    // AV pair MsvAvDnsComputerName
  @inline export const SERVER_DNS_DOMAIN: u16 = 408;  // AV pair MsvAvDnsDomainName
  @inline export const SERVER_TREE_NAME: u16 = 409;   // AV pair MsvAvDnsTreeName
  @inline export const NTLM_VERSION: u16 = 410;       // 1 (NTLMv1 24-byte response) or 2
}

export function ntlmFieldName(id: u16): string {
  switch (id) {
    case NtlmField.MESSAGE_TYPE: return "message_type";
    case NtlmField.MESSAGE: return "message";
    case NtlmField.TRANSPORT: return "transport";
    case NtlmField.NEGOTIATE_FLAGS: return "negotiate_flags";
    case NtlmField.TARGET_NAME: return "target_name";
    case NtlmField.SERVER_NB_NAME: return "server_nb_name";
    case NtlmField.SERVER_NB_DOMAIN: return "server_nb_domain";
    case NtlmField.SERVER_DNS_NAME: return "server_dns_name";
    case NtlmField.SERVER_DNS_DOMAIN: return "server_dns_domain";
    case NtlmField.SERVER_TREE_NAME: return "server_tree_name";
    case NtlmField.NTLM_VERSION: return "ntlm_version";
  }
  return "";
}

// Anomalies are named after what was observed, prefixed with the protocol:
// "ntlm.length_mismatch", never a verdict.
export namespace NtlmAnomaly {
  // An AV pair list ran to the end of its buffer without MsvAvEOL.
  @inline export const AV_PAIR_UNTERMINATED: u16 = 400;
  // A length/offset field points outside the message.
  @inline export const FIELD_OUT_OF_BOUNDS: u16 = 401;
  // The message is shorter than its fixed header.
  @inline export const MESSAGE_TRUNCATED: u16 = 402;
  @inline export const UNKNOWN_MESSAGE_TYPE: u16 = 403;
  // A DER length in the SPNEGO wrapper runs past its parent or is not decodable.
  @inline export const SPNEGO_MALFORMED: u16 = 404;
  // A name was longer than its slot in the identity area and was cut.
  @inline export const IDENTITY_TRUNCATED: u16 = 405;
  // The SPNEGO token nests deeper or contains more elements than the walker visits.
  @inline export const SPNEGO_LIMIT: u16 = 406;
}

export function ntlmAnomalyName(id: u16): string {
  switch (id) {
    case NtlmAnomaly.AV_PAIR_UNTERMINATED: return "ntlm.av_pair_unterminated";
    case NtlmAnomaly.FIELD_OUT_OF_BOUNDS: return "ntlm.field_out_of_bounds";
    case NtlmAnomaly.MESSAGE_TRUNCATED: return "ntlm.message_truncated";
    case NtlmAnomaly.UNKNOWN_MESSAGE_TYPE: return "ntlm.unknown_message_type";
    case NtlmAnomaly.SPNEGO_MALFORMED: return "ntlm.spnego_malformed";
    case NtlmAnomaly.IDENTITY_TRUNCATED: return "ntlm.identity_truncated";
    case NtlmAnomaly.SPNEGO_LIMIT: return "ntlm.spnego_limit";
  }
  return "";
}
