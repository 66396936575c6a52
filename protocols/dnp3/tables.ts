// DNP3 tables: function code names, link function names, internal
// indication bits, object sizes and the CRC-16/DNP of the link layer.
// Section numbers refer to IEEE 1815-2012.

// Application function codes (§4.2.2.5, Table 4-2 onwards). The names are
// Zeek's (base/protocols/dnp3/consts.zeek), so that records compare with
// dnp3.log's fc_request and fc_reply directly.
export function functionName(code: u8): string {
  switch (code) {
    case 0x00: return "CONFIRM";
    case 0x01: return "READ";
    case 0x02: return "WRITE";
    case 0x03: return "SELECT";
    case 0x04: return "OPERATE";
    case 0x05: return "DIRECT_OPERATE";
    case 0x06: return "DIRECT_OPERATE_NR";
    case 0x07: return "IMMED_FREEZE";
    case 0x08: return "IMMED_FREEZE_NR";
    case 0x09: return "FREEZE_CLEAR";
    case 0x0a: return "FREEZE_CLEAR_NR";
    case 0x0b: return "FREEZE_AT_TIME";
    case 0x0c: return "FREEZE_AT_TIME_NR";
    case 0x0d: return "COLD_RESTART";
    case 0x0e: return "WARM_RESTART";
    case 0x0f: return "INITIALIZE_DATA";
    case 0x10: return "INITIALIZE_APPL";
    case 0x11: return "START_APPL";
    case 0x12: return "STOP_APPL";
    case 0x13: return "SAVE_CONFIG";
    case 0x14: return "ENABLE_UNSOLICITED";
    case 0x15: return "DISABLE_UNSOLICITED";
    case 0x16: return "ASSIGN_CLASS";
    case 0x17: return "DELAY_MEASURE";
    case 0x18: return "RECORD_CURRENT_TIME";
    case 0x19: return "OPEN_FILE";
    case 0x1a: return "CLOSE_FILE";
    case 0x1b: return "DELETE_FILE";
    case 0x1c: return "GET_FILE_INFO";
    case 0x1d: return "AUTHENTICATE_FILE";
    case 0x1e: return "ABORT_FILE";
    case 0x1f: return "ACTIVATE_CONFIG";
    case 0x20: return "AUTHENTICATE_REQ";
    case 0x21: return "AUTHENTICATE_ERR";
    case 0x81: return "RESPONSE";
    case 0x82: return "UNSOLICITED_RESPONSE";
    case 0x83: return "AUTHENTICATE_RESP";
  }
  return "UNKNOWN";
}

// Function codes from 0x81 up are responses and carry internal indications
// (§4.2.2.6).
@inline export const FIRST_RESPONSE_CODE: u8 = 0x81;
@inline export const UNSOLICITED_RESPONSE: u8 = 0x82;
@inline export const CONFIRM: u8 = 0x00;

// Requests that the outstation answers with no response (§4.2.2.5: the _NR
// variants), so no pending entry is kept for them. CONFIRM is never answered.
export function expectsResponse(code: u8): bool {
  return code != CONFIRM && code != 0x06 && code != 0x08 && code != 0x0a && code != 0x0c && code < 0x80;
}

// Requests whose object headers carry no object data (§4.4: READ, the
// freezes, unsolicited enable and disable, assign class): only headers follow.
export function headersOnly(code: u8): bool {
  return code == 0x01 || (code >= 0x07 && code <= 0x0a) || code == 0x14 || code == 0x15 || code == 0x16;
}

// Link function codes (§9.2.4.1.3): primary frames (PRM set) then secondary.
export function linkFunctionName(control: u8): string {
  const code = control & 0x0f;
  if ((control & 0x40) != 0) {
    switch (code) {
      case 0: return "RESET_LINK_STATES";
      case 2: return "TEST_LINK_STATES";
      case 3: return "CONFIRMED_USER_DATA";
      case 4: return "UNCONFIRMED_USER_DATA";
      case 9: return "REQUEST_LINK_STATUS";
    }
    return "UNKNOWN";
  }
  switch (code) {
    case 0: return "ACK";
    case 1: return "NACK";
    case 11: return "LINK_STATUS";
    case 15: return "NOT_SUPPORTED";
  }
  return "UNKNOWN";
}

// Internal indication bits (§5.2.2.1.3). Bit n of IIN1 << 8 | IIN2.
export function iinFlagName(bit: u32): string {
  switch (bit) {
    case 8: return "BROADCAST";
    case 9: return "CLASS_1_EVENTS";
    case 10: return "CLASS_2_EVENTS";
    case 11: return "CLASS_3_EVENTS";
    case 12: return "NEED_TIME";
    case 13: return "LOCAL_CONTROL";
    case 14: return "DEVICE_TROUBLE";
    case 15: return "DEVICE_RESTART";
    case 0: return "NO_FUNC_CODE_SUPPORT";
    case 1: return "OBJECT_UNKNOWN";
    case 2: return "PARAMETER_ERROR";
    case 3: return "EVENT_BUFFER_OVERFLOW";
    case 4: return "ALREADY_EXECUTING";
    case 5: return "CONFIG_CORRUPT";
    case 6: return "RESERVED_2";
    case 7: return "RESERVED_1";
  }
  return "";
}

// CROB operation type, control code bits 0-3 (Annex A, group 12 variation 1).
export function operationTypeName(controlCode: u8): string {
  switch (controlCode & 0x0f) {
    case 0: return "NUL";
    case 1: return "PULSE_ON";
    case 2: return "PULSE_OFF";
    case 3: return "LATCH_ON";
    case 4: return "LATCH_OFF";
  }
  return "UNDEFINED";
}

// CROB trip-close code, control code bits 6-7.
export function tripCloseName(controlCode: u8): string {
  switch (controlCode >> 6) {
    case 0: return "NUL";
    case 1: return "CLOSE";
    case 2: return "TRIP";
  }
  return "RESERVED";
}

// Size marker: objects packed one or two bits per point, sized by count.
@inline export const SIZE_ONE_BIT: i32 = -1;
@inline export const SIZE_TWO_BITS: i32 = -2;
// Size not known to this table: the object walk stops.
@inline export const SIZE_UNKNOWN: i32 = -3;

// Bytes per object of the fixed-size groups in the object library (IEEE
// 1815-2012 Annex A). SIZE_ONE_BIT and SIZE_TWO_BITS mark packed formats.
// Group 110 and 111 (octet strings) take their length from the variation.
// Everything else, including the variation-0 "any" forms, is SIZE_UNKNOWN.
export function objectSize(group: u8, variation: u8): i32 {
  const v = <i32>variation;
  switch (group) {
    case 1: case 10: // binary input, binary output status
      return v == 1 ? SIZE_ONE_BIT : v == 2 ? 1 : SIZE_UNKNOWN;
    case 3: // double-bit binary input
      return v == 1 ? SIZE_TWO_BITS : v == 2 ? 1 : SIZE_UNKNOWN;
    case 2: case 4: // binary and double-bit input events
      return v == 1 ? 1 : v == 2 ? 7 : v == 3 ? 3 : SIZE_UNKNOWN;
    case 11: case 13: // binary output events, binary output command events
      return v == 1 ? 1 : v == 2 ? 7 : SIZE_UNKNOWN;
    case 12: // CROB (1), pattern control block (2), pattern mask (3)
      return v == 1 || v == 2 ? 11 : v == 3 ? SIZE_ONE_BIT : SIZE_UNKNOWN;
    case 20: // counters: 32/16 bit with flag, delta, then without flag
      return v == 1 || v == 3 ? 5 : v == 2 || v == 4 ? 3 : v == 5 || v == 7 ? 4 : v == 6 || v == 8 ? 2 : SIZE_UNKNOWN;
    case 21: // frozen counters
      if (v == 1 || v == 3) return 5;
      if (v == 2 || v == 4) return 3;
      if (v == 5 || v == 7) return 11;
      if (v == 6 || v == 8) return 9;
      if (v == 9 || v == 11) return 4;
      if (v == 10 || v == 12) return 2;
      return SIZE_UNKNOWN;
    case 22: case 23: // counter events, frozen counter events
      if (v == 1 || v == 3) return 5;
      if (v == 2 || v == 4) return 3;
      if (v == 5 || v == 7) return 11;
      if (v == 6 || v == 8) return 9;
      return SIZE_UNKNOWN;
    case 30: // analog inputs
      if (v == 1 || v == 5) return 5;
      if (v == 2) return 3;
      if (v == 3) return 4;
      if (v == 4) return 2;
      if (v == 6) return 9;
      return SIZE_UNKNOWN;
    case 31: // frozen analog inputs
      if (v == 1 || v == 7) return 5;
      if (v == 2) return 3;
      if (v == 3) return 11;
      if (v == 4) return 9;
      if (v == 5) return 4;
      if (v == 6) return 2;
      if (v == 8) return 9;
      return SIZE_UNKNOWN;
    case 32: case 33: case 42: case 43: // analog (output) events, frozen and command events
      if (v == 1 || v == 5) return 5;
      if (v == 2) return 3;
      if (v == 3 || v == 7) return 11;
      if (v == 4 || v == 6) return 9;
      if (v == 8) return 15;
      return SIZE_UNKNOWN;
    case 34: // analog input deadbands
      return v == 1 ? 2 : v == 2 || v == 3 ? 4 : SIZE_UNKNOWN;
    case 40: case 41: // analog output status, analog output block
      return v == 1 || v == 3 ? 5 : v == 2 ? 3 : v == 4 ? 9 : SIZE_UNKNOWN;
    case 50: // time and date
      return v == 1 || v == 3 ? 6 : v == 2 ? 10 : v == 4 ? 11 : SIZE_UNKNOWN;
    case 51: // common time of occurrence
      return v == 1 || v == 2 ? 6 : SIZE_UNKNOWN;
    case 52: // time delay
      return v == 1 || v == 2 ? 2 : SIZE_UNKNOWN;
    case 60: // class data: headers only
      return v >= 1 && v <= 4 ? 0 : SIZE_UNKNOWN;
    case 80: // internal indications
      return v == 1 ? SIZE_ONE_BIT : SIZE_UNKNOWN;
    case 110: case 111: // octet strings: the variation is the length
      return v >= 1 ? v : SIZE_UNKNOWN;
  }
  return SIZE_UNKNOWN;
}

// CRC-16/DNP (§9.2.4.1.2 and Annex E): polynomial 0x3D65, bits processed
// least significant first (reflected polynomial 0xA6BC), initial value 0,
// result complemented and sent low octet first.
const crcTable = memory.data(512);
let crcTableReady = false;

function buildCrcTable(): void {
  for (let i: u32 = 0; i < 256; i++) {
    let crc = i;
    for (let bit = 0; bit < 8; bit++) {
      crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xa6bc : crc >> 1;
    }
    store<u16>(crcTable + (<usize>i << 1), <u16>crc);
  }
  crcTableReady = true;
}

// CRC of `length` bytes at `p` (the caller checked the bounds).
export function dnpCrc(p: usize, length: u32): u16 {
  if (!crcTableReady) buildCrcTable();
  let crc: u32 = 0;
  for (let i: u32 = 0; i < length; i++) {
    const index = (crc ^ <u32>load<u8>(p + <usize>i)) & 0xff;
    crc = (crc >> 8) ^ <u32>load<u16>(crcTable + (<usize>index << 1));
  }
  return <u16>(~crc & 0xffff);
}
