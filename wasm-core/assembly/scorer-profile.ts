// Firmware-profile checks: the facts of firmware-profiles/*.yaml that a
// scorer needs, per Modbus device, in a table the host compiles
// (agent/src/profiles/table.ts) and installs with the `loadProfiles` export.
// The host decides which device a profile applies to (by configured address,
// or by the identity the device reported), so the core only looks up
// addresses.
//
// Profile table, all integers little-endian, no padding:
//
//   header, 16 bytes
//      0 u32 magic 0x54505346 (bytes "FSPT")
//      4 u16 version (PROFILE_TABLE_VERSION)
//      6 u16 device count
//      8 u32 table length in bytes, header included
//     12 u32 reserved, 0
//   then `device count` devices, each:
//      0 u32 device length in bytes, masters and ranges included
//      4 u8  IP version of the address (4 or 6)
//      5 u8  unit id the entry covers (ignored with FLAG_ANY_UNIT)
//      6 u8  flags (FLAG_*)
//      7 u8  number of expected masters
//      8 u16 number of writable ranges
//     10 u16 reserved, 0
//     12 16 bytes device address (IPv4 in the first 4 bytes, as in records)
//     28 32 bytes allowed function codes, a bitmap: bit (fc & 7) of byte fc >> 3
//     60 16 bytes per expected master address
//      then 8 bytes per writable range: u8 space (SPACE_*) | u8 reserved |
//           u16 first address | u16 last address | u16 reserved
//
// A write is inside the profile when one range of its space contains every
// address it writes. The host merges adjacent and overlapping ranges before
// it writes the table, so a write across two listed ranges stays inside.

import { findField, FIELD_HEADER_BYTES } from "./events";
import { ValueType } from "../../protocols/fields";
import { ModbusField } from "../../protocols/modbus/fields";

@inline export const PROFILE_TABLE_MAGIC: u32 = 0x54505346;
@inline export const PROFILE_TABLE_VERSION: u16 = 1;
@inline const PROFILE_HEADER_BYTES: u32 = 16;
@inline const DEVICE_HEADER_BYTES: u32 = 60;
@inline const MASTER_BYTES: u32 = 16;
@inline const RANGE_BYTES: u32 = 8;

// The table region is allocated once at this size, so a reinstall allocates
// nothing. A device with 4 masters and 8 ranges takes 188 bytes, so 64 KiB
// has room for about 340 of them.
@inline export const PROFILE_TABLE_MAX_BYTES: u32 = 65536;
@inline export const MAX_PROFILE_DEVICES: u32 = 1024;

@inline export const FLAG_ANY_UNIT: u8 = 1;       // the entry covers every unit id
@inline export const FLAG_MASTERS: u8 = 2;        // the profile lists expected masters
@inline export const FLAG_WRITABLE: u8 = 4;       // the profile states writable ranges
@inline export const FLAG_FUNCTIONS: u8 = 8;      // the profile lists allowed function codes

@inline export const SPACE_COILS: u8 = 1;
@inline export const SPACE_HOLDING_REGISTERS: u8 = 2;

// Results of installProfileTable.
@inline export const PROFILE_LOAD_TOO_LARGE: i32 = -1;
@inline export const PROFILE_LOAD_BAD_MAGIC: i32 = -2;
@inline export const PROFILE_LOAD_BAD_VERSION: i32 = -3;
@inline export const PROFILE_LOAD_LENGTH_MISMATCH: i32 = -4;
@inline export const PROFILE_LOAD_TOO_MANY_DEVICES: i32 = -5;
@inline export const PROFILE_LOAD_BAD_DEVICE: i32 = -6;

let profileBase: usize = 0;
let profileDevices: u32 = 0;

export function installedProfileDevices(): u32 { return profileDevices; }

function checkDevice(p: usize, available: u32): i32 {
  if (available < DEVICE_HEADER_BYTES) return PROFILE_LOAD_BAD_DEVICE;
  const length = load<u32>(p);
  const version = load<u8>(p, 4);
  const masters = <u32>load<u8>(p, 7);
  const ranges = <u32>load<u16>(p, 8);
  if (version != 4 && version != 6) return PROFILE_LOAD_BAD_DEVICE;
  if (length != DEVICE_HEADER_BYTES + masters * MASTER_BYTES + ranges * RANGE_BYTES) return PROFILE_LOAD_BAD_DEVICE;
  if (length > available) return PROFILE_LOAD_BAD_DEVICE;
  const rangeBase = p + <usize>(DEVICE_HEADER_BYTES + masters * MASTER_BYTES);
  for (let i: u32 = 0; i < ranges; i++) {
    const range = rangeBase + <usize>(i * RANGE_BYTES);
    const space = load<u8>(range);
    if (space != SPACE_COILS && space != SPACE_HOLDING_REGISTERS) return PROFILE_LOAD_BAD_DEVICE;
    if (load<u16>(range, 2) > load<u16>(range, 4)) return PROFILE_LOAD_BAD_DEVICE;
  }
  return <i32>length;
}

// Checks the profile table at `ptr` and, when it is valid, installs a copy of
// it in place of the current one. Returns the number of devices, or a
// PROFILE_LOAD_* error (the installed table is then unchanged).
export function installProfileTable(ptr: usize, length: u32): i32 {
  if (length > PROFILE_TABLE_MAX_BYTES) return PROFILE_LOAD_TOO_LARGE;
  if (length < PROFILE_HEADER_BYTES || load<u32>(ptr) != PROFILE_TABLE_MAGIC) return PROFILE_LOAD_BAD_MAGIC;
  if (load<u16>(ptr, 4) != PROFILE_TABLE_VERSION) return PROFILE_LOAD_BAD_VERSION;
  if (load<u32>(ptr, 8) != length) return PROFILE_LOAD_LENGTH_MISMATCH;
  const count = <u32>load<u16>(ptr, 6);
  if (count > MAX_PROFILE_DEVICES) return PROFILE_LOAD_TOO_MANY_DEVICES;
  let at: u32 = PROFILE_HEADER_BYTES;
  for (let i: u32 = 0; i < count; i++) {
    const result = checkDevice(ptr + <usize>at, length - at);
    if (result < 0) return result;
    at += <u32>result;
  }
  if (at != length) return PROFILE_LOAD_LENGTH_MISMATCH;

  if (profileBase == 0) profileBase = heap.alloc(<usize>PROFILE_TABLE_MAX_BYTES);
  memory.copy(profileBase, ptr, <usize>length);
  profileDevices = count;
  return <i32>count;
}

@inline function sameAddress(a: usize, b: usize): bool {
  return load<u64>(a) == load<u64>(b) && load<u64>(a, 8) == load<u64>(b, 8);
}

// Returns the profile entry of the device at `address` (16 bytes, as in
// records) and `unitId` (UNIT_ID_ABSENT matches only FLAG_ANY_UNIT entries),
// or 0. An entry for the exact unit id wins over an any-unit entry.
export function profileFind(address: usize, unitId: u32): usize {
  let anyUnit: usize = 0;
  let p = profileBase + PROFILE_HEADER_BYTES;
  for (let i: u32 = 0; i < profileDevices; i++) {
    if (sameAddress(p + 12, address)) {
      if ((load<u8>(p, 6) & FLAG_ANY_UNIT) != 0) {
        if (anyUnit == 0) anyUnit = p;
      } else if (<u32>load<u8>(p, 5) == unitId) {
        return p;
      }
    }
    p += <usize>load<u32>(p);
  }
  return anyUnit;
}

// True when the profile lists expected masters and `client` is not one.
export function profileMasterViolated(entry: usize, client: usize): bool {
  if (entry == 0 || (load<u8>(entry, 6) & FLAG_MASTERS) == 0) return false;
  const masters = <u32>load<u8>(entry, 7);
  for (let i: u32 = 0; i < masters; i++) {
    if (sameAddress(entry + DEVICE_HEADER_BYTES + <usize>(i * MASTER_BYTES), client)) return false;
  }
  return true;
}

// True when the profile lists allowed function codes and `functionCode`
// (without the exception bit) is not one of them.
export function profileFunctionViolated(entry: usize, functionCode: u32): bool {
  if (entry == 0 || (load<u8>(entry, 6) & FLAG_FUNCTIONS) == 0) return false;
  const code = functionCode & 0x7f;
  return (load<u8>(entry + 28 + <usize>(code >> 3)) & (1 << (code & 7))) == 0;
}

// Set by writeExtent: the address space and the first and last address a
// Modbus write request touches.
let writeSpace: u8 = 0;
let writeFirst: u32 = 0;
let writeLast: u32 = 0;

function readU32Field(record: usize, id: u16, absent: u32): u32 {
  const f = findField(record, id);
  if (f == 0 || load<u8>(f, 2) != ValueType.U64 || load<u16>(f, 4) != 8) return absent;
  const value = load<u64>(f + FIELD_HEADER_BYTES);
  return value > 0xffff ? 0xffff : <u32>value;
}

// Finds what a write request touches, from Modbus Application Protocol
// V1.1b3 sections 6.5, 6.6, 6.11, 6.12, 6.16 and 6.17. Returns false for a
// record that writes nothing, or whose address fields are missing.
function writeExtent(record: usize, functionCode: u32): bool {
  let start: u32 = 0xffffffff;
  let quantity: u32 = 1;
  if (functionCode == 5 || functionCode == 15) writeSpace = SPACE_COILS;
  else if (functionCode == 6 || functionCode == 16 || functionCode == 22 || functionCode == 23) writeSpace = SPACE_HOLDING_REGISTERS;
  else return false;
  if (functionCode == 23) {
    start = readU32Field(record, ModbusField.WRITE_START_ADDRESS, 0xffffffff);
    quantity = readU32Field(record, ModbusField.WRITE_QUANTITY, 1);
  } else {
    start = readU32Field(record, ModbusField.START_ADDRESS, 0xffffffff);
    if (functionCode == 15 || functionCode == 16) quantity = readU32Field(record, ModbusField.QUANTITY, 1);
  }
  if (start == 0xffffffff) return false;
  if (quantity == 0) quantity = 1;
  writeFirst = start;
  writeLast = start + quantity - 1;
  return true;
}

// True when the profile states writable ranges and the write request
// `record` (function code `functionCode`) touches an address outside them.
export function profileWriteViolated(entry: usize, record: usize, functionCode: u32): bool {
  if (entry == 0 || (load<u8>(entry, 6) & FLAG_WRITABLE) == 0) return false;
  if (!writeExtent(record, functionCode & 0x7f)) return false;
  const masters = <u32>load<u8>(entry, 7);
  const ranges = <u32>load<u16>(entry, 8);
  const base = entry + <usize>(DEVICE_HEADER_BYTES + masters * MASTER_BYTES);
  for (let i: u32 = 0; i < ranges; i++) {
    const range = base + <usize>(i * RANGE_BYTES);
    if (load<u8>(range) != writeSpace) continue;
    if (writeFirst >= <u32>load<u16>(range, 2) && writeLast <= <u32>load<u16>(range, 4)) return false;
  }
  return true;
}
