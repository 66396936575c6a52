// EtherNet/IP and CIP field ids (800-899) and anomaly ids (800-899).
// The JSON names returned here appear in records and alerts; see protocols/fields.ts.
// An enip record also carries the common fields `pdu_type` ("request",
// "response" or "io" for class 0/1 I/O data) and `anomaly`.

export namespace EnipField {
  @inline export const COMMAND: u16 = 800;             // encapsulation command (0x63 ListIdentity, 0x6f SendRRData, ...)
  @inline export const COMMAND_NAME: u16 = 801;        // "list_identity", "send_rr_data", ...
  @inline export const LENGTH: u16 = 802;              // encapsulation length: data bytes after the 24-byte header
  @inline export const SESSION_HANDLE: u16 = 803;      // from RegisterSession on
  @inline export const STATUS: u16 = 804;              // encapsulation status, 0 success
  @inline export const SENDER_CONTEXT: u16 = 805;      // 8 bytes the target echoes back (hex)
  @inline export const OPTIONS: u16 = 806;             // encapsulation options
  @inline export const VENDOR_ID: u16 = 807;           // identity: vendor id (ODVA-assigned)
  @inline export const DEVICE_TYPE: u16 = 808;         // identity: device type (12 communications adapter, 14 PLC, ...)
  @inline export const PRODUCT_CODE: u16 = 809;        // identity: product code, as decimal text
  @inline export const REVISION: u16 = 810;            // identity: "major.minor"
  @inline export const DEVICE_STATUS: u16 = 811;       // identity: status word
  @inline export const SERIAL_NUMBER: u16 = 812;       // identity: serial number, as 8 hex digits
  @inline export const PRODUCT_NAME: u16 = 813;        // identity: product name
  @inline export const DEVICE_STATE: u16 = 814;        // ListIdentity: device state
  @inline export const SOCKET_ADDRESS: u16 = 815;      // ListIdentity: the device's own "address:port"
  @inline export const PROTOCOL_VERSION: u16 = 816;    // RegisterSession, ListIdentity, ListServices: encapsulation version
  @inline export const ITEM_TYPE: u16 = 817;           // common packet format item type ids, repeated per item
  @inline export const CONNECTION_ID: u16 = 818;       // connected or sequenced address item
  @inline export const SEQUENCE_NUMBER: u16 = 819;     // sequenced address item, or the connected data sequence count
  @inline export const SERVICE_CODE: u16 = 820;        // CIP service as on the wire, bit 0x80 set in a response
  @inline export const SERVICE: u16 = 821;             // CIP service name: "get_attribute_single", ...
  @inline export const CLASS_ID: u16 = 822;            // request path logical class
  @inline export const INSTANCE_ID: u16 = 823;         // request path logical instance
  @inline export const ATTRIBUTE_ID: u16 = 824;        // request path logical attribute
  @inline export const GENERAL_STATUS: u16 = 825;      // CIP response general status, 0 success
  @inline export const EXTENDED_STATUS: u16 = 826;     // CIP response additional status words, repeated
  @inline export const CONNECTED: u16 = 827;           // true for a CIP message in connected data
  @inline export const EMBEDDED: u16 = 828;           // "unconnected_send" or "multiple_service_packet": the outer service
  @inline export const SERVICE_COUNT: u16 = 829;       // Multiple Service Packet: embedded services
  @inline export const OT_CONNECTION_ID: u16 = 830;    // Forward Open: originator to target connection id
  @inline export const TO_CONNECTION_ID: u16 = 831;    // Forward Open: target to originator connection id
  @inline export const CONNECTION_SERIAL: u16 = 832;   // Forward Open/Close: connection serial number
  @inline export const ORIGINATOR_VENDOR_ID: u16 = 833; // Forward Open/Close
  @inline export const ORIGINATOR_SERIAL: u16 = 834;   // Forward Open/Close
  @inline export const OT_RPI_US: u16 = 835;           // Forward Open: requested packet interval, microseconds
  @inline export const TO_RPI_US: u16 = 836;           // Forward Open: requested packet interval, microseconds
  @inline export const CONNECTION_PATH: u16 = 837;     // Forward Open/Close: connection path (hex)
  @inline export const ROUTE_PATH: u16 = 838;          // Unconnected Send: route path (hex)
  @inline export const SYMBOL: u16 = 839;              // request path ANSI extended symbol segment (a tag name)
  @inline export const SERVICE_NAME: u16 = 840;        // ListServices: service name ("Communications")
  @inline export const CAPABILITY_FLAGS: u16 = 841;    // ListServices: capability flags
  @inline export const CONNECTION_POINT: u16 = 842;    // request path logical connection point
  @inline export const MEMBER_ID: u16 = 843;           // request path logical member
}

export function enipFieldName(id: u16): string {
  switch (id) {
    case EnipField.COMMAND: return "command";
    case EnipField.COMMAND_NAME: return "command_name";
    case EnipField.LENGTH: return "length";
    case EnipField.SESSION_HANDLE: return "session_handle";
    case EnipField.STATUS: return "status";
    case EnipField.SENDER_CONTEXT: return "sender_context";
    case EnipField.OPTIONS: return "options";
    case EnipField.VENDOR_ID: return "vendor_id";
    case EnipField.DEVICE_TYPE: return "device_type";
    case EnipField.PRODUCT_CODE: return "product_code";
    case EnipField.REVISION: return "revision";
    case EnipField.DEVICE_STATUS: return "device_status";
    case EnipField.SERIAL_NUMBER: return "serial_number";
    case EnipField.PRODUCT_NAME: return "product_name";
    case EnipField.DEVICE_STATE: return "device_state";
    case EnipField.SOCKET_ADDRESS: return "socket_address";
    case EnipField.PROTOCOL_VERSION: return "protocol_version";
    case EnipField.ITEM_TYPE: return "item_type";
    case EnipField.CONNECTION_ID: return "connection_id";
    case EnipField.SEQUENCE_NUMBER: return "sequence_number";
    case EnipField.SERVICE_CODE: return "service_code";
    case EnipField.SERVICE: return "service";
    case EnipField.CLASS_ID: return "class_id";
    case EnipField.INSTANCE_ID: return "instance_id";
    case EnipField.ATTRIBUTE_ID: return "attribute_id";
    case EnipField.GENERAL_STATUS: return "general_status";
    case EnipField.EXTENDED_STATUS: return "extended_status";
    case EnipField.CONNECTED: return "connected";
    case EnipField.EMBEDDED: return "embedded";
    case EnipField.SERVICE_COUNT: return "service_count";
    case EnipField.OT_CONNECTION_ID: return "ot_connection_id";
    case EnipField.TO_CONNECTION_ID: return "to_connection_id";
    case EnipField.CONNECTION_SERIAL: return "connection_serial";
    case EnipField.ORIGINATOR_VENDOR_ID: return "originator_vendor_id";
    case EnipField.ORIGINATOR_SERIAL: return "originator_serial";
    case EnipField.OT_RPI_US: return "ot_rpi_us";
    case EnipField.TO_RPI_US: return "to_rpi_us";
    case EnipField.CONNECTION_PATH: return "connection_path";
    case EnipField.ROUTE_PATH: return "route_path";
    case EnipField.SYMBOL: return "symbol";
    case EnipField.SERVICE_NAME: return "service_name";
    case EnipField.CAPABILITY_FLAGS: return "capability_flags";
    case EnipField.CONNECTION_POINT: return "connection_point";
    case EnipField.MEMBER_ID: return "member_id";
  }
  return "";
}

// Anomalies are named after what was observed, prefixed with the protocol.
export namespace EnipAnomaly {
  // An encapsulation command outside the ODVA-assigned set; the stream is rejected.
  @inline export const COMMAND_UNKNOWN: u16 = 800;
  // An encapsulation message longer than the dissector parses whole; its first bytes were decoded.
  @inline export const MESSAGE_PREFIX_ONLY: u16 = 801;
  // A common packet format item runs past its message.
  @inline export const ITEM_TRUNCATED: u16 = 802;
  // More common packet format items than MAX_ITEMS; the rest are not read.
  @inline export const ITEM_LIMIT: u16 = 803;
  // A CIP request path or message shorter than its size fields say.
  @inline export const CIP_TRUNCATED: u16 = 804;
  // A request path segment type that cannot be skipped; the rest of the path is not read.
  @inline export const PATH_SEGMENT_UNKNOWN: u16 = 805;
  // More Multiple Service Packet services than MAX_EMBEDDED_SERVICES; the rest are not read.
  @inline export const SERVICE_LIMIT: u16 = 806;
  // A Multiple Service Packet offset outside the packet.
  @inline export const SERVICE_OFFSET_INVALID: u16 = 807;
  // A UDP datagram on 44818 or 2222 too short for its header.
  @inline export const DATAGRAM_TRUNCATED: u16 = 808;
  // A CIP response whose service matches no pending request of the flow.
  @inline export const UNMATCHED_RESPONSE: u16 = 809;
  // Unconnected Send or Multiple Service Packet nested deeper than MAX_DEPTH.
  @inline export const NESTING_LIMIT: u16 = 810;
}

export function enipAnomalyName(id: u16): string {
  switch (id) {
    case EnipAnomaly.COMMAND_UNKNOWN: return "enip.command_unknown";
    case EnipAnomaly.MESSAGE_PREFIX_ONLY: return "enip.message_prefix_only";
    case EnipAnomaly.ITEM_TRUNCATED: return "enip.item_truncated";
    case EnipAnomaly.ITEM_LIMIT: return "enip.item_limit";
    case EnipAnomaly.CIP_TRUNCATED: return "enip.cip_truncated";
    case EnipAnomaly.PATH_SEGMENT_UNKNOWN: return "enip.path_segment_unknown";
    case EnipAnomaly.SERVICE_LIMIT: return "enip.service_limit";
    case EnipAnomaly.SERVICE_OFFSET_INVALID: return "enip.service_offset_invalid";
    case EnipAnomaly.DATAGRAM_TRUNCATED: return "enip.datagram_truncated";
    case EnipAnomaly.UNMATCHED_RESPONSE: return "enip.unmatched_response";
    case EnipAnomaly.NESTING_LIMIT: return "enip.nesting_limit";
  }
  return "";
}
