// DNP3 field ids (700-799) and anomaly ids (700-799).
// The JSON names returned here appear in records and alerts (protocols/fields.ts).
// A DNP3 record (one per application fragment) also carries the common
// fields `pdu_type` ("request" or "response"), `rtt_us` (on a response
// matched to its request), `truncated` and `anomaly`.
//
// Object headers repeat: the n-th value of object_group, object_variation,
// object_qualifier, object_range_start, object_range_stop and object_count
// belong to the n-th header. Range start and stop are 0 for a qualifier
// without a start-stop range (counts, "all objects").
// The control fields (point_index, control_code, ...) repeat the same way,
// one value per control point.

export namespace Dnp3Field {
  @inline export const SOURCE_ADDRESS: u16 = 700;          // link layer source address
  @inline export const DESTINATION_ADDRESS: u16 = 701;     // link layer destination address
  @inline export const LINK_CONTROL: u16 = 702;            // control octet of the frame that ended the fragment
  @inline export const LINK_FUNCTION: u16 = 703;           // its function name (UNCONFIRMED_USER_DATA, ...)
  @inline export const LINK_DIR: u16 = 704;                // DIR bit: set on frames from a master
  @inline export const APPLICATION_CONTROL: u16 = 705;     // application control octet
  @inline export const FIR: u16 = 706;
  @inline export const FIN: u16 = 707;
  @inline export const CON: u16 = 708;
  @inline export const UNS: u16 = 709;
  @inline export const SEQUENCE: u16 = 710;                // application sequence number, 0-15
  @inline export const FUNCTION_CODE: u16 = 711;           // application function code as on the wire
  @inline export const FUNCTION: u16 = 712;                // READ, SELECT, RESPONSE, ... (Zeek's fc_request/fc_reply spelling)
  @inline export const REQUEST_FUNCTION_CODE: u16 = 713;   // response: function code of the matched request
  @inline export const REQUEST_FUNCTION: u16 = 714;        // response: its name (Zeek's fc_request)
  @inline export const IIN: u16 = 715;                     // internal indications, IIN1 << 8 | IIN2 (Zeek's iin)
  @inline export const IIN_FLAG: u16 = 716;                // names of the IIN bits set
  @inline export const OBJECT_GROUP: u16 = 717;
  @inline export const OBJECT_VARIATION: u16 = 718;
  @inline export const OBJECT_QUALIFIER: u16 = 719;
  @inline export const OBJECT_RANGE_START: u16 = 720;
  @inline export const OBJECT_RANGE_STOP: u16 = 721;
  @inline export const OBJECT_COUNT: u16 = 722;            // objects the header announces
  @inline export const OBJECTS_NOT_WALKED: u16 = 723;      // why the object walk stopped early
  @inline export const FRAGMENT_BYTES: u16 = 724;          // application fragment length
  @inline export const TRANSPORT_SEGMENTS: u16 = 725;      // transport segments the fragment came in
  @inline export const DROPPED_FRAMES: u16 = 726;          // frames of this direction dropped (CRC) since the last record
  @inline export const POINT_INDEX: u16 = 727;             // control point index (CROB or analog output)
  @inline export const CONTROL_CODE: u16 = 728;            // CROB control code octet
  @inline export const OPERATION_TYPE: u16 = 729;          // CROB: NUL, PULSE_ON, PULSE_OFF, LATCH_ON, LATCH_OFF
  @inline export const TRIP_CLOSE_CODE: u16 = 730;         // CROB: NUL, CLOSE, TRIP
  @inline export const EXECUTE_COUNT: u16 = 731;           // CROB count
  @inline export const ON_TIME: u16 = 732;                 // CROB on-time, milliseconds
  @inline export const OFF_TIME: u16 = 733;                // CROB off-time, milliseconds
  @inline export const CONTROL_STATUS: u16 = 734;          // status octet of a CROB or analog output block
  @inline export const ANALOG_VALUE: u16 = 735;            // analog output block, integer variations
  // Device attributes (group 0, visible strings) for the asset inventory.
  @inline export const VENDOR_NAME: u16 = 736;             // g0v252 device manufacturer's name
  @inline export const PRODUCT_NAME: u16 = 737;            // g0v250 manufacturer's product name and model
  @inline export const SERIAL_NUMBER: u16 = 738;           // g0v248 device serial number
  @inline export const REVISION: u16 = 739;                // g0v242 manufacturer's software version
  @inline export const DEVICE_NAME: u16 = 740;             // g0v247 user-assigned device name
  // File command object (g70v3) of OPEN_FILE and DELETE_FILE.
  @inline export const FILE_NAME: u16 = 741;
  @inline export const FILE_MODE: u16 = 742;               // NULL, READ, WRITE or APPEND
  @inline export const FILE_SIZE: u16 = 743;               // bytes, as the command states
}

export function dnp3FieldName(id: u16): string {
  switch (id) {
    case Dnp3Field.SOURCE_ADDRESS: return "source_address";
    case Dnp3Field.DESTINATION_ADDRESS: return "destination_address";
    case Dnp3Field.LINK_CONTROL: return "link_control";
    case Dnp3Field.LINK_FUNCTION: return "link_function";
    case Dnp3Field.LINK_DIR: return "link_dir";
    case Dnp3Field.APPLICATION_CONTROL: return "application_control";
    case Dnp3Field.FIR: return "fir";
    case Dnp3Field.FIN: return "fin";
    case Dnp3Field.CON: return "con";
    case Dnp3Field.UNS: return "uns";
    case Dnp3Field.SEQUENCE: return "sequence";
    case Dnp3Field.FUNCTION_CODE: return "function_code";
    case Dnp3Field.FUNCTION: return "function";
    case Dnp3Field.REQUEST_FUNCTION_CODE: return "request_function_code";
    case Dnp3Field.REQUEST_FUNCTION: return "request_function";
    case Dnp3Field.IIN: return "iin";
    case Dnp3Field.IIN_FLAG: return "iin_flag";
    case Dnp3Field.OBJECT_GROUP: return "object_group";
    case Dnp3Field.OBJECT_VARIATION: return "object_variation";
    case Dnp3Field.OBJECT_QUALIFIER: return "object_qualifier";
    case Dnp3Field.OBJECT_RANGE_START: return "object_range_start";
    case Dnp3Field.OBJECT_RANGE_STOP: return "object_range_stop";
    case Dnp3Field.OBJECT_COUNT: return "object_count";
    case Dnp3Field.OBJECTS_NOT_WALKED: return "objects_not_walked";
    case Dnp3Field.FRAGMENT_BYTES: return "fragment_bytes";
    case Dnp3Field.TRANSPORT_SEGMENTS: return "transport_segments";
    case Dnp3Field.DROPPED_FRAMES: return "dropped_frames";
    case Dnp3Field.POINT_INDEX: return "point_index";
    case Dnp3Field.CONTROL_CODE: return "control_code";
    case Dnp3Field.OPERATION_TYPE: return "operation_type";
    case Dnp3Field.TRIP_CLOSE_CODE: return "trip_close_code";
    case Dnp3Field.EXECUTE_COUNT: return "execute_count";
    case Dnp3Field.ON_TIME: return "on_time";
    case Dnp3Field.OFF_TIME: return "off_time";
    case Dnp3Field.CONTROL_STATUS: return "control_status";
    case Dnp3Field.ANALOG_VALUE: return "analog_value";
    case Dnp3Field.VENDOR_NAME: return "vendor_name";
    case Dnp3Field.PRODUCT_NAME: return "product_name";
    case Dnp3Field.SERIAL_NUMBER: return "serial_number";
    case Dnp3Field.REVISION: return "revision";
    case Dnp3Field.DEVICE_NAME: return "device_name";
    case Dnp3Field.FILE_NAME: return "file_name";
    case Dnp3Field.FILE_MODE: return "file_mode";
    case Dnp3Field.FILE_SIZE: return "file_size";
  }
  return "";
}

// Anomalies are named after what was observed, prefixed with the protocol.
export namespace Dnp3Anomaly {
  // Link header CRC does not match, so the frame is dropped.
  @inline export const LINK_HEADER_CRC_MISMATCH: u16 = 700;
  // A user data block CRC does not match, so the frame is dropped.
  @inline export const LINK_DATA_CRC_MISMATCH: u16 = 701;
  // Link LENGTH below 5 (it counts control, destination and source).
  @inline export const LINK_LENGTH_INVALID: u16 = 702;
  // Bytes skipped to find the next 0x05 0x64 start after a bad frame or a gap.
  @inline export const RESYNC_BYTES_SKIPPED: u16 = 703;
  // No valid frame within the resynchronisation limit, so the stream is rejected.
  @inline export const RESYNC_LIMIT_REACHED: u16 = 704;
  // A transport segment whose sequence does not follow the previous one.
  @inline export const TRANSPORT_SEQUENCE_ERROR: u16 = 705;
  // A transport segment without FIR and no fragment under way.
  @inline export const TRANSPORT_NO_FIRST_SEGMENT: u16 = 706;
  // A fragment under way was abandoned (a new FIR, or a gap in the stream).
  @inline export const TRANSPORT_FRAGMENT_ABANDONED: u16 = 707;
  // An application fragment above FRAGMENT_MAX_BYTES, whose bytes past it are dropped.
  @inline export const FRAGMENT_TOO_LARGE: u16 = 708;
  // Every reassembly slot of the flow was busy, so the oldest gave way.
  @inline export const REASSEMBLY_SLOTS_FULL: u16 = 709;
  // An application fragment shorter than its header.
  @inline export const APPLICATION_TRUNCATED: u16 = 710;
  // More object headers than MAX_OBJECT_HEADERS in one fragment.
  @inline export const OBJECT_HEADER_LIMIT: u16 = 711;
  // An object group/variation whose size is not known, so the walk stops.
  @inline export const UNKNOWN_OBJECT_SIZE: u16 = 712;
  // A start-stop range whose stop is below its start.
  @inline export const OBJECT_RANGE_INVALID: u16 = 713;
  // Object headers or data run past the end of the fragment.
  @inline export const OBJECTS_TRUNCATED: u16 = 714;
  // A response whose sequence and addresses match no pending request.
  @inline export const UNMATCHED_RESPONSE: u16 = 715;
  // The pending-request table was full, so the oldest request was dropped.
  @inline export const PENDING_OVERFLOW: u16 = 716;
  // A request still unanswered when the flow closed.
  @inline export const UNANSWERED_REQUEST: u16 = 717;
  // The UDP conversation table was full, so the oldest conversation gave way.
  @inline export const UDP_CONVERSATION_EVICTED: u16 = 718;
  // A qualifier with a reserved range code or prefix code, so the walk stops.
  @inline export const QUALIFIER_RESERVED: u16 = 719;
  // A UDP datagram that ends inside a link frame, whose partial bytes are dropped.
  @inline export const UDP_FRAME_TRUNCATED: u16 = 720;
}

export function dnp3AnomalyName(id: u16): string {
  switch (id) {
    case Dnp3Anomaly.LINK_HEADER_CRC_MISMATCH: return "dnp3.link_header_crc_mismatch";
    case Dnp3Anomaly.LINK_DATA_CRC_MISMATCH: return "dnp3.link_data_crc_mismatch";
    case Dnp3Anomaly.LINK_LENGTH_INVALID: return "dnp3.link_length_invalid";
    case Dnp3Anomaly.RESYNC_BYTES_SKIPPED: return "dnp3.resync_bytes_skipped";
    case Dnp3Anomaly.RESYNC_LIMIT_REACHED: return "dnp3.resync_limit_reached";
    case Dnp3Anomaly.TRANSPORT_SEQUENCE_ERROR: return "dnp3.transport_sequence_error";
    case Dnp3Anomaly.TRANSPORT_NO_FIRST_SEGMENT: return "dnp3.transport_no_first_segment";
    case Dnp3Anomaly.TRANSPORT_FRAGMENT_ABANDONED: return "dnp3.transport_fragment_abandoned";
    case Dnp3Anomaly.FRAGMENT_TOO_LARGE: return "dnp3.fragment_too_large";
    case Dnp3Anomaly.REASSEMBLY_SLOTS_FULL: return "dnp3.reassembly_slots_full";
    case Dnp3Anomaly.APPLICATION_TRUNCATED: return "dnp3.application_truncated";
    case Dnp3Anomaly.OBJECT_HEADER_LIMIT: return "dnp3.object_header_limit";
    case Dnp3Anomaly.UNKNOWN_OBJECT_SIZE: return "dnp3.unknown_object_size";
    case Dnp3Anomaly.OBJECT_RANGE_INVALID: return "dnp3.object_range_invalid";
    case Dnp3Anomaly.OBJECTS_TRUNCATED: return "dnp3.objects_truncated";
    case Dnp3Anomaly.UNMATCHED_RESPONSE: return "dnp3.unmatched_response";
    case Dnp3Anomaly.PENDING_OVERFLOW: return "dnp3.pending_overflow";
    case Dnp3Anomaly.UNANSWERED_REQUEST: return "dnp3.unanswered_request";
    case Dnp3Anomaly.UDP_CONVERSATION_EVICTED: return "dnp3.udp_conversation_evicted";
    case Dnp3Anomaly.QUALIFIER_RESERVED: return "dnp3.qualifier_reserved";
    case Dnp3Anomaly.UDP_FRAME_TRUNCATED: return "dnp3.udp_frame_truncated";
  }
  return "";
}
