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
  }
  return "";
}

// Anomalies are named after what was observed, prefixed with the protocol:
// "modbus.length_mismatch", never a verdict.
export namespace ModbusAnomaly {
  // MBAP length outside 2..254, so the ADU cannot be framed.
  @inline export const LENGTH_INVALID: u16 = 100;
  // MBAP protocol identifier other than 0; the ADU is skipped.
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
  // Several invalid MBAP headers in a row; the stream is rejected.
  @inline export const CONSECUTIVE_INVALID_HEADERS: u16 = 108;
  // Bytes skipped to find the next MBAP header after a gap or an invalid length.
  @inline export const RESYNC_BYTES_SKIPPED: u16 = 109;
  // No plausible MBAP header within the resynchronisation limit; the stream is rejected.
  @inline export const RESYNC_LIMIT_REACHED: u16 = 110;
  // A request reused the transaction id of a request still pending.
  @inline export const DUPLICATE_TRANSACTION_ID: u16 = 111;
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
    case ModbusAnomaly.CONSECUTIVE_INVALID_HEADERS: return "modbus.consecutive_invalid_headers";
    case ModbusAnomaly.RESYNC_BYTES_SKIPPED: return "modbus.resync_bytes_skipped";
    case ModbusAnomaly.RESYNC_LIMIT_REACHED: return "modbus.resync_limit_reached";
    case ModbusAnomaly.DUPLICATE_TRANSACTION_ID: return "modbus.duplicate_transaction_id";
  }
  return "";
}
