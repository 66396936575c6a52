// Modbus/TCP field ids (100-199) and anomaly ids (100-199).
// The JSON names returned here appear in records and alerts; see protocols/fields.ts.
// A Modbus record also carries the common fields `pdu_type` ("request" or
// "response"), `rtt_us` (on a response matched to its request) and `anomaly`.

export namespace ModbusField {
  @inline export const TRANSACTION_ID: u16 = 100;      // MBAP transaction identifier
  @inline export const UNIT_ID: u16 = 101;             // MBAP unit identifier
  @inline export const FUNCTION_CODE: u16 = 102;       // as on the wire, bit 0x80 set on an exception response
  @inline export const FUNCTION: u16 = 103;            // Zeek's name: READ_COILS, READ_COILS_EXCEPTION, ...
  @inline export const EXCEPTION_CODE: u16 = 104;      // exception responses only
  @inline export const EXCEPTION: u16 = 105;           // Zeek's name: ILLEGAL_DATA_ADDRESS, ...
  @inline export const START_ADDRESS: u16 = 106;       // first (or only) coil or register address
  @inline export const QUANTITY: u16 = 107;            // number of coils or registers
  @inline export const BYTE_COUNT: u16 = 108;          // byte count field of the PDU
  @inline export const VALUE: u16 = 109;               // FC5/FC6 output value, FC7 status, FC8 data word
  @inline export const AND_MASK: u16 = 110;            // FC22
  @inline export const OR_MASK: u16 = 111;             // FC22
  @inline export const READ_START_ADDRESS: u16 = 112;  // FC23
  @inline export const READ_QUANTITY: u16 = 113;       // FC23
  @inline export const WRITE_START_ADDRESS: u16 = 114; // FC23
  @inline export const WRITE_QUANTITY: u16 = 115;      // FC23
  @inline export const SUB_FUNCTION: u16 = 116;        // FC8 sub-function code
  @inline export const SUB_FUNCTION_NAME: u16 = 117;   // FC8 sub-function name
  @inline export const MEI_TYPE: u16 = 118;            // FC43: 13 CANopen, 14 read device identification
  @inline export const READ_DEVICE_ID_CODE: u16 = 119; // FC43/14: 1 basic, 2 regular, 3 extended, 4 one object
  @inline export const OBJECT_ID: u16 = 120;           // FC43/14 request: first object requested
  @inline export const VENDOR_NAME: u16 = 121;         // FC43/14 response object 0x00
  @inline export const PRODUCT_CODE: u16 = 122;        // FC43/14 response object 0x01
  @inline export const REVISION: u16 = 123;            // FC43/14 response object 0x02 (MajorMinorRevision)
  // Register values (FC3, 4, 16, 23, 24 and the FC20/21 record data) or coil
  // and input states, 0 or 1 (FC1, 2, 15), in address order. The field
  // repeats once per value, so the host writes a JSON array for two or more
  // values and a plain number for one.
  @inline export const VALUES: u16 = 124;
  @inline export const VALUES_TRUNCATED: u16 = 125;    // true when more than MAX_RECORD_VALUES values were present
  @inline export const USER_DEFINED: u16 = 126;        // true for function codes 65-72 and 100-110
  @inline export const UMAS_FUNCTION: u16 = 127;       // FC90 UMAS function code (requests, and matched responses)
  @inline export const UMAS_FUNCTION_NAME: u16 = 128;  // READ_ID, START_PLC, ...
  @inline export const UMAS_SESSION: u16 = 129;        // FC90 byte after the function code: UMAS session key
  @inline export const UMAS_RETURN_CODE: u16 = 130;    // FC90 responses: 0xFE success, 0xFD error
  @inline export const SERVER_ID: u16 = 131;           // FC17 response: server id byte
  @inline export const RUN_INDICATOR: u16 = 132;       // FC17 response: run indicator status, true for 0xFF (ON)
  @inline export const DATA: u16 = 133;                // bytes no other field describes (FC8, 17, 43/13, 90, user-defined codes)
  @inline export const STATUS: u16 = 134;              // FC11/FC12 response status word
  @inline export const EVENT_COUNT: u16 = 135;         // FC11/FC12 response
  @inline export const MESSAGE_COUNT: u16 = 136;       // FC12 response
  @inline export const REFERENCE_TYPE: u16 = 137;      // FC20/21, once per sub-request (6 in every valid one)
  @inline export const FILE_NUMBER: u16 = 138;         // FC20/21, once per sub-request
  @inline export const RECORD_NUMBER: u16 = 139;       // FC20/21, once per sub-request
  @inline export const RECORD_LENGTH: u16 = 140;       // FC20/21, once per sub-request: registers
  @inline export const MEI_NAME: u16 = 141;            // FC43: CANOPEN_GENERAL_REFERENCE or READ_DEVICE_IDENTIFICATION
  @inline export const CONFORMITY_LEVEL: u16 = 142;    // FC43/14 response
  @inline export const MORE_FOLLOWS: u16 = 143;        // FC43/14 response: true for 0xFF
  @inline export const NEXT_OBJECT_ID: u16 = 144;      // FC43/14 response
  @inline export const OBJECT_COUNT: u16 = 145;        // FC43/14 response: number of objects
  @inline export const VENDOR_URL: u16 = 146;          // FC43/14 object 0x03
  @inline export const PRODUCT_NAME: u16 = 147;        // FC43/14 object 0x04
  @inline export const MODEL_NAME: u16 = 148;          // FC43/14 object 0x05
  @inline export const USER_APPLICATION_NAME: u16 = 149; // FC43/14 object 0x06
  @inline export const EXTENDED_OBJECT_ID: u16 = 150;  // FC43/14 objects 0x07-0xFF, once per object
  @inline export const EXTENDED_OBJECT_VALUE: u16 = 151; // their values as bytes, in the same order
  @inline export const FIFO_COUNT: u16 = 152;          // FC24 response
}

export function modbusFieldName(id: u16): string {
  switch (id) {
    case ModbusField.TRANSACTION_ID: return "transaction_id";
    case ModbusField.UNIT_ID: return "unit_id";
    case ModbusField.FUNCTION_CODE: return "function_code";
    case ModbusField.FUNCTION: return "function";
    case ModbusField.EXCEPTION_CODE: return "exception_code";
    case ModbusField.EXCEPTION: return "exception";
    case ModbusField.START_ADDRESS: return "start_address";
    case ModbusField.QUANTITY: return "quantity";
    case ModbusField.BYTE_COUNT: return "byte_count";
    case ModbusField.VALUE: return "value";
    case ModbusField.AND_MASK: return "and_mask";
    case ModbusField.OR_MASK: return "or_mask";
    case ModbusField.READ_START_ADDRESS: return "read_start_address";
    case ModbusField.READ_QUANTITY: return "read_quantity";
    case ModbusField.WRITE_START_ADDRESS: return "write_start_address";
    case ModbusField.WRITE_QUANTITY: return "write_quantity";
    case ModbusField.SUB_FUNCTION: return "sub_function";
    case ModbusField.SUB_FUNCTION_NAME: return "sub_function_name";
    case ModbusField.MEI_TYPE: return "mei_type";
    case ModbusField.READ_DEVICE_ID_CODE: return "read_device_id_code";
    case ModbusField.OBJECT_ID: return "object_id";
    case ModbusField.VENDOR_NAME: return "vendor_name";
    case ModbusField.PRODUCT_CODE: return "product_code";
    case ModbusField.REVISION: return "revision";
    case ModbusField.VALUES: return "values";
    case ModbusField.VALUES_TRUNCATED: return "values_truncated";
    case ModbusField.USER_DEFINED: return "user_defined";
    case ModbusField.UMAS_FUNCTION: return "umas_function";
    case ModbusField.UMAS_FUNCTION_NAME: return "umas_function_name";
    case ModbusField.UMAS_SESSION: return "umas_session";
    case ModbusField.UMAS_RETURN_CODE: return "umas_return_code";
    case ModbusField.SERVER_ID: return "server_id";
    case ModbusField.RUN_INDICATOR: return "run_indicator";
    case ModbusField.DATA: return "data";
    case ModbusField.STATUS: return "status";
    case ModbusField.EVENT_COUNT: return "event_count";
    case ModbusField.MESSAGE_COUNT: return "message_count";
    case ModbusField.REFERENCE_TYPE: return "reference_type";
    case ModbusField.FILE_NUMBER: return "file_number";
    case ModbusField.RECORD_NUMBER: return "record_number";
    case ModbusField.RECORD_LENGTH: return "record_length";
    case ModbusField.MEI_NAME: return "mei_name";
    case ModbusField.CONFORMITY_LEVEL: return "conformity_level";
    case ModbusField.MORE_FOLLOWS: return "more_follows";
    case ModbusField.NEXT_OBJECT_ID: return "next_object_id";
    case ModbusField.OBJECT_COUNT: return "object_count";
    case ModbusField.VENDOR_URL: return "vendor_url";
    case ModbusField.PRODUCT_NAME: return "product_name";
    case ModbusField.MODEL_NAME: return "model_name";
    case ModbusField.USER_APPLICATION_NAME: return "user_application_name";
    case ModbusField.EXTENDED_OBJECT_ID: return "extended_object_id";
    case ModbusField.EXTENDED_OBJECT_VALUE: return "extended_object_value";
    case ModbusField.FIFO_COUNT: return "fifo_count";
  }
  return "";
}

// Anomalies are named after what was observed, prefixed with the protocol:
// "modbus.length_mismatch", never a verdict.
export namespace ModbusAnomaly {
  // MBAP length outside 2..254, so the ADU cannot be framed.
  @inline export const LENGTH_INVALID: u16 = 100;
  // MBAP protocol identifier other than 0; the bytes are resynchronised.
  @inline export const PROTOCOL_ID_NONZERO: u16 = 101;
  // A byte count or quantity inside the PDU disagrees with the MBAP length.
  @inline export const LENGTH_MISMATCH: u16 = 102;
  // The PDU ends before the fixed fields of its function code.
  @inline export const PDU_TRUNCATED: u16 = 103;
  // A response whose transaction id matches no pending request.
  @inline export const UNMATCHED_RESPONSE: u16 = 104;
  // A response whose function code differs from its request's.
  @inline export const FUNCTION_MISMATCH: u16 = 105;
  // The pending-request table was full; the oldest request was dropped.
  @inline export const PENDING_OVERFLOW: u16 = 106;
  // A request still unanswered when the flow closed, counted once per request.
  @inline export const UNANSWERED_REQUEST: u16 = 107;
  // 108 is no longer raised: an invalid header now starts resynchronisation,
  // which RESYNC_LIMIT_REACHED bounds.
  // Bytes skipped to find the next MBAP header after a gap or an invalid length.
  @inline export const RESYNC_BYTES_SKIPPED: u16 = 109;
  // No plausible MBAP header within the resynchronisation limit; the stream is rejected.
  @inline export const RESYNC_LIMIT_REACHED: u16 = 110;
  // A request reused the transaction id of a request still pending.
  @inline export const DUPLICATE_TRANSACTION_ID: u16 = 111;
  // Counted only, never written into a record: a request with a user-defined
  // function code (65-72, 100-110), and an FC43 request with MEI type 13
  // (CANopen general reference).
  @inline export const USER_DEFINED_FUNCTION: u16 = 112;
  @inline export const MEI_CANOPEN: u16 = 113;
  // The first bytes of a flow to or from port 502 are not an MBAP header, so
  // the flow is not dissected as Modbus. Counted once per flow.
  @inline export const NON_MODBUS_ON_PORT_502: u16 = 114;
  // An FC20/21 sub-request whose reference type is not 6.
  @inline export const FILE_REFERENCE_TYPE_INVALID: u16 = 115;
  // A flow on other ports whose first request looked like Modbus but got no
  // response with its transaction id, unit id and function code. No record
  // was written for it.
  @inline export const CONTENT_MATCH_UNCONFIRMED: u16 = 116;
}

export function modbusAnomalyName(id: u16): string {
  switch (id) {
    case ModbusAnomaly.LENGTH_INVALID: return "modbus.length_invalid";
    case ModbusAnomaly.PROTOCOL_ID_NONZERO: return "modbus.protocol_id_nonzero";
    case ModbusAnomaly.LENGTH_MISMATCH: return "modbus.length_mismatch";
    case ModbusAnomaly.PDU_TRUNCATED: return "modbus.pdu_truncated";
    case ModbusAnomaly.UNMATCHED_RESPONSE: return "modbus.unmatched_response";
    case ModbusAnomaly.FUNCTION_MISMATCH: return "modbus.function_mismatch";
    case ModbusAnomaly.PENDING_OVERFLOW: return "modbus.pending_overflow";
    case ModbusAnomaly.UNANSWERED_REQUEST: return "modbus.unanswered_request";
    case ModbusAnomaly.RESYNC_BYTES_SKIPPED: return "modbus.resync_bytes_skipped";
    case ModbusAnomaly.RESYNC_LIMIT_REACHED: return "modbus.resync_limit_reached";
    case ModbusAnomaly.DUPLICATE_TRANSACTION_ID: return "modbus.duplicate_transaction_id";
    case ModbusAnomaly.USER_DEFINED_FUNCTION: return "modbus.user_defined_function";
    case ModbusAnomaly.MEI_CANOPEN: return "modbus.mei_canopen";
    case ModbusAnomaly.NON_MODBUS_ON_PORT_502: return "modbus.non_modbus_on_port_502";
    case ModbusAnomaly.FILE_REFERENCE_TYPE_INVALID: return "modbus.file_reference_type_invalid";
    case ModbusAnomaly.CONTENT_MATCH_UNCONFIRMED: return "modbus.content_match_unconfirmed";
  }
  return "";
}
