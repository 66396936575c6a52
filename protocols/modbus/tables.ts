// Names of Modbus function codes, exception codes and FC8 sub-functions.
//
// Function and exception names are the ones Zeek's base/protocols/modbus
// scripts log (consts.zeek, Zeek 7), so that analysts read the same words in
// both tools. Codes Zeek does not name follow the categories of MODBUS
// Application Protocol Specification V1.1b3 §5: user-defined codes 65-72 and
// 100-110, 90 used by Schneider Electric for UMAS, and everything else unknown.

// Returns the name of a request function code (bit 0x80 clear).
export function functionName(functionCode: u8): string {
  switch (functionCode) {
    case 1: return "READ_COILS";
    case 2: return "READ_DISCRETE_INPUTS";
    case 3: return "READ_HOLDING_REGISTERS";
    case 4: return "READ_INPUT_REGISTERS";
    case 5: return "WRITE_SINGLE_COIL";
    case 6: return "WRITE_SINGLE_REGISTER";
    case 7: return "READ_EXCEPTION_STATUS";
    case 8: return "DIAGNOSTICS";
    case 11: return "GET_COMM_EVENT_COUNTER";
    case 12: return "GET_COMM_EVENT_LOG";
    case 15: return "WRITE_MULTIPLE_COILS";
    case 16: return "WRITE_MULTIPLE_REGISTERS";
    case 17: return "REPORT_SLAVE_ID";
    case 20: return "READ_FILE_RECORD";
    case 21: return "WRITE_FILE_RECORD";
    case 22: return "MASK_WRITE_REGISTER";
    case 23: return "READ_WRITE_MULTIPLE_REGISTERS";
    case 24: return "READ_FIFO_QUEUE";
    case 43: return "ENCAP_INTERFACE_TRANSPORT";
    case 90: return "UMAS";
  }
  if (isUserDefined(functionCode)) return "USER_DEFINED";
  return "UNKNOWN";
}

// Returns the name of an exception response function code (bit 0x80 set):
// the request's name with the suffix "_EXCEPTION", as Zeek logs it.
export function exceptionFunctionName(functionCode: u8): string {
  switch (functionCode & 0x7f) {
    case 1: return "READ_COILS_EXCEPTION";
    case 2: return "READ_DISCRETE_INPUTS_EXCEPTION";
    case 3: return "READ_HOLDING_REGISTERS_EXCEPTION";
    case 4: return "READ_INPUT_REGISTERS_EXCEPTION";
    case 5: return "WRITE_SINGLE_COIL_EXCEPTION";
    case 6: return "WRITE_SINGLE_REGISTER_EXCEPTION";
    case 7: return "READ_EXCEPTION_STATUS_EXCEPTION";
    case 8: return "DIAGNOSTICS_EXCEPTION";
    case 11: return "GET_COMM_EVENT_COUNTER_EXCEPTION";
    case 12: return "GET_COMM_EVENT_LOG_EXCEPTION";
    case 15: return "WRITE_MULTIPLE_COILS_EXCEPTION";
    case 16: return "WRITE_MULTIPLE_REGISTERS_EXCEPTION";
    case 17: return "REPORT_SLAVE_ID_EXCEPTION";
    case 20: return "READ_FILE_RECORD_EXCEPTION";
    case 21: return "WRITE_FILE_RECORD_EXCEPTION";
    case 22: return "MASK_WRITE_REGISTER_EXCEPTION";
    case 23: return "READ_WRITE_MULTIPLE_REGISTERS_EXCEPTION";
    case 24: return "READ_FIFO_QUEUE_EXCEPTION";
    case 43: return "ENCAP_INTERFACE_TRANSPORT_EXCEPTION";
    case 90: return "UMAS_EXCEPTION";
  }
  if (isUserDefined(functionCode & 0x7f)) return "USER_DEFINED_EXCEPTION";
  return "UNKNOWN_EXCEPTION";
}

// User-defined function codes, V1.1b3 §5.
export function isUserDefined(functionCode: u8): bool {
  return (functionCode >= 65 && functionCode <= 72) || (functionCode >= 100 && functionCode <= 110);
}

// Returns the name of an exception code, V1.1b3 §7.
export function exceptionName(exceptionCode: u8): string {
  switch (exceptionCode) {
    case 1: return "ILLEGAL_FUNCTION";
    case 2: return "ILLEGAL_DATA_ADDRESS";
    case 3: return "ILLEGAL_DATA_VALUE";
    case 4: return "SLAVE_DEVICE_FAILURE";
    case 5: return "ACKNOWLEDGE";
    case 6: return "SLAVE_DEVICE_BUSY";
    case 8: return "MEMORY_PARITY_ERROR";
    case 10: return "GATEWAY_PATH_UNAVAILABLE";
    case 11: return "GATEWAY_TARGET_DEVICE_FAILED_TO_RESPOND";
  }
  return "UNKNOWN";
}

// Returns the name of an FC8 diagnostics sub-function, V1.1b3 §6.8.1. The
// specification's "Server" is used where older documents write "Slave".
export function subFunctionName(subFunction: u16): string {
  switch (subFunction) {
    case 0: return "RETURN_QUERY_DATA";
    case 1: return "RESTART_COMMUNICATIONS_OPTION";
    case 2: return "RETURN_DIAGNOSTIC_REGISTER";
    case 3: return "CHANGE_ASCII_INPUT_DELIMITER";
    case 4: return "FORCE_LISTEN_ONLY_MODE";
    case 10: return "CLEAR_COUNTERS_AND_DIAGNOSTIC_REGISTER";
    case 11: return "RETURN_BUS_MESSAGE_COUNT";
    case 12: return "RETURN_BUS_COMMUNICATION_ERROR_COUNT";
    case 13: return "RETURN_BUS_EXCEPTION_ERROR_COUNT";
    case 14: return "RETURN_SERVER_MESSAGE_COUNT";
    case 15: return "RETURN_SERVER_NO_RESPONSE_COUNT";
    case 16: return "RETURN_SERVER_NAK_COUNT";
    case 17: return "RETURN_SERVER_BUSY_COUNT";
    case 18: return "RETURN_BUS_CHARACTER_OVERRUN_COUNT";
    case 20: return "CLEAR_OVERRUN_COUNTER_AND_FLAG";
  }
  return "RESERVED";
}

// Returns the name of an FC43 MEI type, V1.1b3 §6.19-6.21: 13 carries CANopen
// general reference requests and responses, 14 reads the device
// identification.
export function meiName(meiType: u8): string {
  switch (meiType) {
    case 13: return "CANOPEN_GENERAL_REFERENCE";
    case 14: return "READ_DEVICE_IDENTIFICATION";
  }
  return "UNKNOWN";
}

// Returns the name of a UMAS function code, the byte after the session key
// in an FC90 request. Schneider Electric publishes no UMAS specification.
// Codes and names are the ones listed, with a description of each, in
// TonyPhipps/tech-notes Products/protocol-modbus-umas.md, which draws on
// J. Liras, "The Unity (UMAS) protocol", parts I-IV (2017). That list names
// 0x33 INITIALIZE_UPLOAD as well as 0x30, but describes 0x33 as the start of
// a download, so 0x33 is INITIALIZE_DOWNLOAD here.
//
// In these sources "upload" copies the program from the engineering station
// to the PLC (0x30-0x32) and "download" copies it from the PLC to the
// station (0x33-0x35): the reverse of the usual PLC vocabulary, in which
// ATT&CK for ICS T0843 "Program Download" writes to the PLC. A model that
// looks for program writes must therefore match 0x30-0x32.
export function umasFunctionName(code: u8): string {
  switch (code) {
    case 0x01: return "INIT_COMM";
    case 0x02: return "READ_ID";
    case 0x03: return "READ_PROJECT_INFO";
    case 0x04: return "READ_PLC_INFO";
    case 0x06: return "READ_CARD_INFO";
    case 0x0a: return "REPEAT";
    case 0x10: return "TAKE_PLC_RESERVATION";
    case 0x11: return "RELEASE_PLC_RESERVATION";
    case 0x12: return "KEEP_ALIVE";
    case 0x20: return "READ_MEMORY_BLOCK";
    case 0x22: return "READ_VARIABLES";
    case 0x23: return "WRITE_VARIABLES";
    case 0x24: return "READ_COILS_REGISTERS";
    case 0x25: return "WRITE_COILS_REGISTERS";
    case 0x30: return "INITIALIZE_UPLOAD";
    case 0x31: return "UPLOAD_BLOCK";
    case 0x32: return "END_STRATEGY_UPLOAD";
    case 0x33: return "INITIALIZE_DOWNLOAD";
    case 0x34: return "DOWNLOAD_BLOCK";
    case 0x35: return "END_STRATEGY_DOWNLOAD";
    case 0x39: return "READ_ETH_MASTER_DATA";
    case 0x40: return "START_PLC";
    case 0x41: return "STOP_PLC";
    case 0x50: return "MONITOR_PLC";
    case 0x58: return "CHECK_PLC";
    case 0x70: return "READ_IO_OBJECT";
    case 0x71: return "WRITE_IO_OBJECT";
    case 0x73: return "GET_STATUS_MODULE";
  }
  return "UNKNOWN";
}
