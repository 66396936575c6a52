// DNP3 tables: function code names, link function names, internal
// indication bits, object sizes and the CRC-16/DNP of the link layer.
// Clause numbers refer to IEEE 1815-2012.

import { Dnp3Field } from "./fields";

// Application function codes (clause 4). The names use the spelling of
// Zeek's dnp3.log (SELECT, OPERATE and RESPONSE in its select/operate test
// baseline) and the standard's mnemonics for the others.
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
    case 0x21: return "AUTHENTICATE_REQ_NO_ACK";
    case 0x81: return "RESPONSE";
    case 0x82: return "UNSOLICITED_RESPONSE";
    case 0x83: return "AUTHENTICATE_RESP";
  }
  return "UNKNOWN";
}

// Function codes from 0x81 up are responses and carry internal indications
//.
@inline export const FIRST_RESPONSE_CODE: u8 = 0x81;
@inline export const UNSOLICITED_RESPONSE: u8 = 0x82;
@inline export const CONFIRM: u8 = 0x00;

// False for requests that get no response (CONFIRM, the _NR
// variants and AUTHENTICATE_REQ_NO_ACK), so no pending entry is kept for them.
export function expectsResponse(code: u8): bool {
  if (code >= 0x80) return false;
  return code != CONFIRM && code != 0x06 && code != 0x08 && code != 0x0a && code != 0x0c && code != 0x21;
}

// True for requests whose object headers carry no object data (READ, the
// immediate freezes and clears, unsolicited enable and disable, assign class).
export function headersOnly(code: u8): bool {
  return code == 0x01 || (code >= 0x07 && code <= 0x0a) || code == 0x14 || code == 0x15 || code == 0x16;
}

// Link function codes: primary frames (PRM set) then secondary.
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

// Internal indication bits. Bit n of IIN1 << 8 | IIN2.
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

// Field of a device attribute variation (group 0) that names the device, or 0.
export function attributeField(variation: u8): u16 {
  switch (variation) {
    case 252: return Dnp3Field.VENDOR_NAME;
    case 250: return Dnp3Field.PRODUCT_NAME;
    case 248: return Dnp3Field.SERIAL_NUMBER;
    case 242: return Dnp3Field.REVISION;
    case 247: return Dnp3Field.DEVICE_NAME;
  }
  return 0;
}

// Operational mode of a file command (g70v3).
export function fileModeName(mode: u16): string {
  switch (mode) {
    case 0: return "NULL";
    case 1: return "READ";
    case 2: return "WRITE";
    case 3: return "APPEND";
  }
  return "UNKNOWN";
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
      if (v == 1) return SIZE_ONE_BIT;
      if (v == 2) return 1;
      break;
    case 3: // double-bit binary input
      if (v == 1) return SIZE_TWO_BITS;
      if (v == 2) return 1;
      break;
    case 2: case 4: // binary and double-bit input events
      if (v == 1) return 1;
      if (v == 2) return 7;
      if (v == 3) return 3;
      break;
    case 11: case 13: // binary output events, binary output command events
      if (v == 1) return 1;
      if (v == 2) return 7;
      break;
    case 12: // CROB (1), pattern control block (2), pattern mask (3)
      if (v == 1 || v == 2) return 11;
      if (v == 3) return SIZE_ONE_BIT;
      break;
    case 20: // counters: 32 and 16 bit with flag, delta, then without flag
      if (v == 1 || v == 3) return 5;
      if (v == 2 || v == 4) return 3;
      if (v == 5 || v == 7) return 4;
      if (v == 6 || v == 8) return 2;
      break;
    case 21: // frozen counters
      if (v == 1 || v == 3) return 5;
      if (v == 2 || v == 4) return 3;
      if (v == 5 || v == 7) return 11;
      if (v == 6 || v == 8) return 9;
      if (v == 9 || v == 11) return 4;
      if (v == 10 || v == 12) return 2;
      break;
    case 22: case 23: // counter events, frozen counter events
      if (v == 1 || v == 3) return 5;
      if (v == 2 || v == 4) return 3;
      if (v == 5 || v == 7) return 11;
      if (v == 6 || v == 8) return 9;
      break;
    case 30: // analog inputs
      if (v == 1 || v == 5) return 5;
      if (v == 2) return 3;
      if (v == 3) return 4;
      if (v == 4) return 2;
      if (v == 6) return 9;
      break;
    case 31: // frozen analog inputs
      if (v == 1 || v == 7) return 5;
      if (v == 2) return 3;
      if (v == 3) return 11;
      if (v == 4 || v == 8) return 9;
      if (v == 5) return 4;
      if (v == 6) return 2;
      break;
    case 32: case 33: case 42: case 43: // analog input and output events, frozen and command events
      if (v == 1 || v == 5) return 5;
      if (v == 2) return 3;
      if (v == 3 || v == 7) return 11;
      if (v == 4 || v == 6) return 9;
      if (v == 8) return 15;
      break;
    case 34: // analog input deadbands
      if (v == 1) return 2;
      if (v == 2 || v == 3) return 4;
      break;
    case 40: case 41: // analog output status, analog output block
      if (v == 1 || v == 3) return 5;
      if (v == 2) return 3;
      if (v == 4) return 9;
      break;
    case 50: // time and date
      if (v == 1 || v == 3) return 6;
      if (v == 2) return 10;
      if (v == 4) return 11;
      break;
    case 51: case 52: // common time of occurrence, time delay
      if (v == 1 || v == 2) return group == 51 ? 6 : 2;
      break;
    case 60: // class data: headers only
      if (v >= 1 && v <= 4) return 0;
      break;
    case 80: // internal indications
      if (v == 1) return SIZE_ONE_BIT;
      break;
    case 110: case 111: // octet strings: the variation is the length
      if (v >= 1) return v;
      break;
  }
  return SIZE_UNKNOWN;
}

// CRC-16/DNP: polynomial 0x3D65, bits processed
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
