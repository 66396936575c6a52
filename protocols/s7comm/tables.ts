// Names for S7comm codes. Siemens publishes no S7comm specification, so the
// codes are the community-documented ones. The ROSCTR values, the function
// codes 0x04, 0x05, 0x1d-0x1f, 0x28, 0x29 and 0xf0, the user-data groups 3, 4
// and 7 and their sub-functions, and the block type codes 0x08 and 0x0b are
// confirmed by the ICSNPP-S7comm logs of the test captures.
// NOTE: the other codes (download functions, the security group, the memory
// area and mode transition names) are not seen in the test captures.

// S7 header message type (ROSCTR).
export namespace Rosctr {
  @inline export const JOB: u8 = 1;
  @inline export const ACK: u8 = 2;
  @inline export const ACK_DATA: u8 = 3;
  @inline export const USER_DATA: u8 = 7;
}

export function rosctrName(rosctr: u8): string {
  switch (rosctr) {
    case Rosctr.JOB: return "job";
    case Rosctr.ACK: return "ack";
    case Rosctr.ACK_DATA: return "ack_data";
    case Rosctr.USER_DATA: return "user_data";
  }
  return "";
}

// Job and ack-data function codes (parameter byte 0).
export namespace S7Function {
  @inline export const CPU_SERVICES: u8 = 0x00;
  @inline export const READ_VAR: u8 = 0x04;
  @inline export const WRITE_VAR: u8 = 0x05;
  @inline export const REQUEST_DOWNLOAD: u8 = 0x1a;
  @inline export const DOWNLOAD_BLOCK: u8 = 0x1b;
  @inline export const DOWNLOAD_ENDED: u8 = 0x1c;
  @inline export const START_UPLOAD: u8 = 0x1d;
  @inline export const UPLOAD: u8 = 0x1e;
  @inline export const END_UPLOAD: u8 = 0x1f;
  @inline export const PLC_CONTROL: u8 = 0x28;
  @inline export const PLC_STOP: u8 = 0x29;
  @inline export const SETUP_COMMUNICATION: u8 = 0xf0;
}

export function functionName(code: u8): string {
  switch (code) {
    case S7Function.CPU_SERVICES: return "cpu_services";
    case S7Function.READ_VAR: return "read_var";
    case S7Function.WRITE_VAR: return "write_var";
    case S7Function.REQUEST_DOWNLOAD: return "request_download";
    case S7Function.DOWNLOAD_BLOCK: return "download_block";
    case S7Function.DOWNLOAD_ENDED: return "download_ended";
    case S7Function.START_UPLOAD: return "start_upload";
    case S7Function.UPLOAD: return "upload";
    case S7Function.END_UPLOAD: return "end_upload";
    case S7Function.PLC_CONTROL: return "plc_control";
    case S7Function.PLC_STOP: return "plc_stop";
    case S7Function.SETUP_COMMUNICATION: return "setup_communication";
  }
  return "";
}

// User-data function groups (low nibble of the type/group byte).
export namespace UserDataGroup {
  @inline export const MODE_TRANSITION: u8 = 0;
  @inline export const CYCLIC_DATA: u8 = 2;
  @inline export const BLOCK_FUNCTIONS: u8 = 3;
  @inline export const CPU_FUNCTIONS: u8 = 4;
  @inline export const SECURITY: u8 = 5;
  @inline export const PBC: u8 = 6;
  @inline export const TIME_FUNCTIONS: u8 = 7;
  @inline export const NC_PROGRAMMING: u8 = 0xf;
}

export function groupName(group: u8): string {
  switch (group) {
    case UserDataGroup.MODE_TRANSITION: return "mode_transition";
    case UserDataGroup.CYCLIC_DATA: return "cyclic_data";
    case UserDataGroup.BLOCK_FUNCTIONS: return "block_functions";
    case UserDataGroup.CPU_FUNCTIONS: return "cpu_functions";
    case UserDataGroup.SECURITY: return "security";
    case UserDataGroup.PBC: return "programmable_block_communication";
    case UserDataGroup.TIME_FUNCTIONS: return "time_functions";
    case UserDataGroup.NC_PROGRAMMING: return "nc_programming";
  }
  return "";
}

// Sub-function names of the groups that models and the inventory use.
export function subFunctionName(group: u8, subFunction: u8): string {
  if (group == UserDataGroup.CPU_FUNCTIONS) {
    switch (subFunction) {
      case 0x01: return "read_szl";
      case 0x02: return "message_service";
      case 0x03: return "diagnostic_message";
      case 0x05: return "alarm_8_indication";
      case 0x06: return "notify_indication";
      case 0x07: return "alarm_8_lock";
      case 0x08: return "alarm_8_unlock";
      case 0x0b: return "alarm_ack";
      case 0x0c: return "alarm_ack_indication";
      case 0x0d: return "alarm_lock_indication";
      case 0x0e: return "alarm_unlock_indication";
      case 0x11: return "alarm_sq_indication";
      case 0x12: return "alarm_s_indication";
      case 0x13: return "alarm_query";
      case 0x16: return "notify_8_indication";
    }
  } else if (group == UserDataGroup.BLOCK_FUNCTIONS) {
    switch (subFunction) {
      case 0x01: return "list_blocks";
      case 0x02: return "list_blocks_of_type";
      case 0x03: return "get_block_info";
    }
  } else if (group == UserDataGroup.SECURITY) {
    switch (subFunction) {
      case 0x01: return "set_password";
      case 0x02: return "clear_password";
    }
  } else if (group == UserDataGroup.TIME_FUNCTIONS) {
    switch (subFunction) {
      case 0x01: return "read_clock";
      case 0x02: return "set_clock";
      case 0x03: return "read_clock_following";
      case 0x04: return "set_clock_following";
    }
  } else if (group == UserDataGroup.MODE_TRANSITION) {
    switch (subFunction) {
      case 0x00: return "stop";
      case 0x01: return "warm_restart";
      case 0x02: return "run";
      case 0x03: return "hot_restart";
      case 0x04: return "hold";
      case 0x06: return "cold_restart";
      case 0x09: return "run_r";
      case 0x0b: return "link_up";
      case 0x0c: return "update";
    }
  }
  return "";
}

// Memory areas of a read/write var item (S7ANY address).
export function areaName(area: u8): string {
  switch (area) {
    case 0x03: return "SYS";
    case 0x05: return "SI";
    case 0x06: return "SI";
    case 0x80: return "P";
    case 0x81: return "I";
    case 0x82: return "Q";
    case 0x83: return "M";
    case 0x84: return "DB";
    case 0x85: return "DI";
    case 0x86: return "L";
    case 0x87: return "V";
    case 0x1c: return "C";
    case 0x1d: return "T";
    case 0x1e: return "IEC_C";
    case 0x1f: return "IEC_T";
  }
  return "";
}

// Block type of a block file name ("_0B00000A": type 0B, number 00000).
export function blockTypeName(code: u32): string {
  switch (code) {
    case 0x08: return "OB";
    case 0x0a: return "DB";
    case 0x0b: return "SDB";
    case 0x0c: return "FC";
    case 0x0d: return "SFC";
    case 0x0e: return "FB";
    case 0x0f: return "SFB";
  }
  return "";
}

// Block type in block functions requests: two ASCII characters "08", "0A", ...
export function userDataBlockTypeName(high: u8, low: u8): string {
  if (high != 0x30) return "";
  switch (low) {
    case 0x38: return "OB";
    case 0x41: return "DB";
    case 0x42: return "SDB";
    case 0x43: return "FC";
    case 0x44: return "SFC";
    case 0x45: return "FB";
    case 0x46: return "SFB";
  }
  return "";
}
