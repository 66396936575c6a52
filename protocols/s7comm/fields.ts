// S7comm field ids (600-699) and anomaly ids (600-699), for TPKT/COTP on TCP
// port 102 and the S7comm and S7comm-plus PDUs carried in it.
// The JSON names returned here appear in records and alerts; see protocols/fields.ts.
// An S7comm record also carries the common fields `pdu_type` ("request" or
// "response"), `rtt_us` (on a response matched by PDU reference) and `anomaly`.

export namespace S7Field {
  @inline export const PROTOCOL_VARIANT: u16 = 600;    // "s7comm", "s7comm-plus" or "cotp" (connection TPDUs)
  @inline export const COTP_PDU_CODE: u16 = 601;       // COTP TPDU code, high nibble of byte 1 (0xe0 CR, 0xd0 CC, 0xf0 DT, ...)
  @inline export const COTP_PDU: u16 = 602;            // TPDU name: CR, CC, DR, DC, DT, ED, AK, EA, RJ, ER
  @inline export const SRC_TSAP: u16 = 603;            // calling TSAP (parameter 0xc1) of a CR or CC
  @inline export const DST_TSAP: u16 = 604;            // called TSAP (parameter 0xc2) of a CR or CC
  @inline export const RACK: u16 = 605;                // from a two-byte called TSAP: second byte >> 5
  @inline export const SLOT: u16 = 606;                // from a two-byte called TSAP: second byte & 0x1f
  @inline export const ROSCTR: u16 = 607;              // S7 header message type: 1 job, 2 ack, 3 ack-data, 7 user-data
  @inline export const ROSCTR_NAME: u16 = 608;         // "job", "ack", "ack_data", "user_data"
  @inline export const PDU_REFERENCE: u16 = 609;       // S7 header PDU reference, copied into the response
  @inline export const ERROR_CLASS: u16 = 610;         // ack and ack-data header error class
  @inline export const ERROR_CODE: u16 = 611;          // ack and ack-data header error code
  @inline export const FUNCTION_CODE: u16 = 612;       // job/ack-data parameter byte 0; user-data: type << 4 | group
  @inline export const FUNCTION: u16 = 613;            // name of the function or user-data sub-function
  @inline export const MAX_AMQ_CALLING: u16 = 614;     // setup communication
  @inline export const MAX_AMQ_CALLED: u16 = 615;      // setup communication
  @inline export const PDU_LENGTH: u16 = 616;          // setup communication: negotiated PDU size
  @inline export const ITEM_COUNT: u16 = 617;          // read/write var: items in the PDU
  @inline export const AREA: u16 = 618;                // read/write var item: memory area code, repeated per item
  @inline export const AREA_NAME: u16 = 619;           // "DB", "I", "Q", "M", "T", "C", ... repeated per item
  @inline export const DB_NUMBER: u16 = 620;           // read/write var item, repeated per item
  @inline export const START_BYTE: u16 = 621;          // read/write var item: byte address (bit address >> 3)
  @inline export const START_BIT: u16 = 622;           // read/write var item: bit within the byte
  @inline export const TRANSPORT_SIZE: u16 = 623;      // read/write var item transport size code
  @inline export const ITEM_LENGTH: u16 = 624;         // read/write var item: element count
  @inline export const RETURN_CODE: u16 = 625;         // per item in ack-data (0xff success), or of user-data data
  @inline export const PI_SERVICE: u16 = 626;          // PLC control and PLC stop: PI service name (_INSE, P_PROGRAM, ...)
  @inline export const FILENAME: u16 = 627;            // block file name of a download or upload (_0B00000A)
  @inline export const BLOCK_TYPE: u16 = 628;          // "OB", "DB", "SDB", "FC", "SFC", "FB", "SFB" or the hex code
  @inline export const BLOCK_NUMBER: u16 = 629;        // from the file name
  @inline export const DESTINATION_FILESYSTEM: u16 = 630; // last file name letter: A (active), P (passive), B
  @inline export const UPLOAD_ID: u16 = 631;           // upload session id of start upload, upload and end upload
  @inline export const BLOCK_LENGTH: u16 = 632;        // start upload ack-data: block length in bytes
  @inline export const FUNCTION_STATUS: u16 = 633;     // download and upload: function status byte
  @inline export const FUNCTION_GROUP: u16 = 634;      // user-data function group (low nibble)
  @inline export const FUNCTION_GROUP_NAME: u16 = 635; // "cpu_functions", "block_functions", "security", ...
  @inline export const SUB_FUNCTION: u16 = 636;        // user-data sub-function
  @inline export const SEQUENCE_NUMBER: u16 = 637;     // user-data sequence number
  @inline export const SZL_ID: u16 = 638;              // read SZL: system status list id
  @inline export const SZL_INDEX: u16 = 639;           // read SZL: index
  @inline export const VENDOR_NAME: u16 = 640;         // "Siemens" when SZL 0x001c says it is an original Siemens module
  @inline export const PRODUCT_CODE: u16 = 641;        // SZL 0x0011: order number (MLFB)
  @inline export const PRODUCT_NAME: u16 = 642;        // SZL 0x001c index 7: module type name
  @inline export const SERIAL_NUMBER: u16 = 643;       // SZL 0x001c index 5
  @inline export const REVISION: u16 = 644;            // SZL 0x0011 index 7: firmware version "major.minor.patch"
  @inline export const DEVICE_NAME: u16 = 645;         // SZL 0x001c index 2: module name
  @inline export const PLUS_VERSION: u16 = 646;        // S7comm-plus header protocol version
  @inline export const PLUS_OPCODE: u16 = 647;         // S7comm-plus opcode: 0x31 request, 0x32 response, 0x33 notification
  @inline export const PLUS_FUNCTION: u16 = 648;       // S7comm-plus function code (0x04ca create object, ...)
  @inline export const PLUS_SEQUENCE: u16 = 649;       // S7comm-plus sequence number
  @inline export const BLOCK_TYPE_REQUESTED: u16 = 650; // user-data block functions: requested block type
  @inline export const DATA_UNIT_REFERENCE: u16 = 651; // user-data: data unit reference of a multi-part exchange
  @inline export const LAST_DATA_UNIT: u16 = 652;      // user-data: false while more parts follow
}

export function s7FieldName(id: u16): string {
  switch (id) {
    case S7Field.PROTOCOL_VARIANT: return "protocol_variant";
    case S7Field.COTP_PDU_CODE: return "cotp_pdu_code";
    case S7Field.COTP_PDU: return "cotp_pdu";
    case S7Field.SRC_TSAP: return "src_tsap";
    case S7Field.DST_TSAP: return "dst_tsap";
    case S7Field.RACK: return "rack";
    case S7Field.SLOT: return "slot";
    case S7Field.ROSCTR: return "rosctr";
    case S7Field.ROSCTR_NAME: return "rosctr_name";
    case S7Field.PDU_REFERENCE: return "pdu_reference";
    case S7Field.ERROR_CLASS: return "error_class";
    case S7Field.ERROR_CODE: return "error_code";
    case S7Field.FUNCTION_CODE: return "function_code";
    case S7Field.FUNCTION: return "function";
    case S7Field.MAX_AMQ_CALLING: return "max_amq_calling";
    case S7Field.MAX_AMQ_CALLED: return "max_amq_called";
    case S7Field.PDU_LENGTH: return "pdu_length";
    case S7Field.ITEM_COUNT: return "item_count";
    case S7Field.AREA: return "area";
    case S7Field.AREA_NAME: return "area_name";
    case S7Field.DB_NUMBER: return "db_number";
    case S7Field.START_BYTE: return "start_byte";
    case S7Field.START_BIT: return "start_bit";
    case S7Field.TRANSPORT_SIZE: return "transport_size";
    case S7Field.ITEM_LENGTH: return "item_length";
    case S7Field.RETURN_CODE: return "return_code";
    case S7Field.PI_SERVICE: return "pi_service";
    case S7Field.FILENAME: return "filename";
    case S7Field.BLOCK_TYPE: return "block_type";
    case S7Field.BLOCK_NUMBER: return "block_number";
    case S7Field.DESTINATION_FILESYSTEM: return "destination_filesystem";
    case S7Field.UPLOAD_ID: return "upload_id";
    case S7Field.BLOCK_LENGTH: return "block_length";
    case S7Field.FUNCTION_STATUS: return "function_status";
    case S7Field.FUNCTION_GROUP: return "function_group";
    case S7Field.FUNCTION_GROUP_NAME: return "function_group_name";
    case S7Field.SUB_FUNCTION: return "sub_function";
    case S7Field.SEQUENCE_NUMBER: return "sequence_number";
    case S7Field.SZL_ID: return "szl_id";
    case S7Field.SZL_INDEX: return "szl_index";
    case S7Field.VENDOR_NAME: return "vendor_name";
    case S7Field.PRODUCT_CODE: return "product_code";
    case S7Field.PRODUCT_NAME: return "product_name";
    case S7Field.SERIAL_NUMBER: return "serial_number";
    case S7Field.REVISION: return "revision";
    case S7Field.DEVICE_NAME: return "device_name";
    case S7Field.PLUS_VERSION: return "plus_version";
    case S7Field.PLUS_OPCODE: return "plus_opcode";
    case S7Field.PLUS_FUNCTION: return "plus_function";
    case S7Field.PLUS_SEQUENCE: return "plus_sequence";
    case S7Field.BLOCK_TYPE_REQUESTED: return "block_type_requested";
    case S7Field.DATA_UNIT_REFERENCE: return "data_unit_reference";
    case S7Field.LAST_DATA_UNIT: return "last_data_unit";
  }
  return "";
}

// Anomalies are named after what was observed, prefixed with the protocol.
export namespace S7Anomaly {
  // TPKT version other than 3 or a length below 7; the stream is rejected.
  @inline export const TPKT_INVALID: u16 = 600;
  // A COTP length indicator that runs past its TPKT.
  @inline export const COTP_LENGTH_INVALID: u16 = 601;
  // COTP segments without EOT grew past the reassembly limit; they were dropped.
  @inline export const COTP_REASSEMBLY_LIMIT: u16 = 602;
  // A DT data unit whose first byte is neither 0x32 (S7comm) nor 0x72 (S7comm-plus).
  @inline export const UNKNOWN_PROTOCOL_ID: u16 = 603;
  // An S7 PDU shorter than its header or its parameter and data lengths.
  @inline export const PDU_TRUNCATED: u16 = 604;
  // A ROSCTR value outside 1, 2, 3 and 7.
  @inline export const ROSCTR_UNKNOWN: u16 = 605;
  // Read/write var item count above MAX_ITEMS; the items past it are not decoded.
  @inline export const ITEM_LIMIT: u16 = 606;
  // A response whose PDU reference matches no pending request.
  @inline export const UNMATCHED_RESPONSE: u16 = 607;
  // The pending-request table was full; the oldest request was dropped.
  @inline export const PENDING_OVERFLOW: u16 = 608;
  // A TPKT longer than the dissector parses whole; its first bytes were decoded.
  @inline export const TPKT_PREFIX_ONLY: u16 = 609;
  // An item or parameter inside the PDU runs past its section.
  @inline export const PARAMETER_TRUNCATED: u16 = 610;
}

export function s7AnomalyName(id: u16): string {
  switch (id) {
    case S7Anomaly.TPKT_INVALID: return "s7comm.tpkt_invalid";
    case S7Anomaly.COTP_LENGTH_INVALID: return "s7comm.cotp_length_invalid";
    case S7Anomaly.COTP_REASSEMBLY_LIMIT: return "s7comm.cotp_reassembly_limit";
    case S7Anomaly.UNKNOWN_PROTOCOL_ID: return "s7comm.unknown_protocol_id";
    case S7Anomaly.PDU_TRUNCATED: return "s7comm.pdu_truncated";
    case S7Anomaly.ROSCTR_UNKNOWN: return "s7comm.rosctr_unknown";
    case S7Anomaly.ITEM_LIMIT: return "s7comm.item_limit";
    case S7Anomaly.UNMATCHED_RESPONSE: return "s7comm.unmatched_response";
    case S7Anomaly.PENDING_OVERFLOW: return "s7comm.pending_overflow";
    case S7Anomaly.TPKT_PREFIX_ONLY: return "s7comm.tpkt_prefix_only";
    case S7Anomaly.PARAMETER_TRUNCATED: return "s7comm.parameter_truncated";
  }
  return "";
}
