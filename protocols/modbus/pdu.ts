// Field decoders for Modbus PDUs: each writes what one function code carries
// into the record the caller opened. Section numbers refer to MODBUS
// Application Protocol Specification V1.1b3.
//
// `pdu` points at the function code and `pduLength` counts it too, so the
// first data byte is at offset 1. The caller guarantees pduLength >= 1.

import { fits, readU16be } from "../api";
import { Field } from "../fields";
import { countAnomaly } from "../../wasm-core/assembly/counters";
import { fieldBool, fieldBytes, fieldLiteral, fieldText, fieldU64 } from "../../wasm-core/assembly/events";
import { ModbusAnomaly, ModbusField, modbusAnomalyName } from "./fields";
import { exceptionName, isUserDefined, meiName, subFunctionName, umasFunctionName } from "./tables";

// FC43 MEI types, §6.19-6.21.
@inline const MEI_CANOPEN_GENERAL_REFERENCE: u8 = 13;
@inline const MEI_READ_DEVICE_IDENTIFICATION: u8 = 14;

// FC43/14 object ids, §6.21 table "Device identification objects". 0x00-0x02
// form the basic identification, 0x03-0x06 the regular one, and 0x80-0xFF are
// private (extended) objects. 0x07-0x7F are reserved.
@inline const OBJECT_VENDOR_NAME: u8 = 0x00;
@inline const OBJECT_PRODUCT_CODE: u8 = 0x01;
@inline const OBJECT_MAJOR_MINOR_REVISION: u8 = 0x02;
@inline const OBJECT_VENDOR_URL: u8 = 0x03;
@inline const OBJECT_PRODUCT_NAME: u8 = 0x04;
@inline const OBJECT_MODEL_NAME: u8 = 0x05;
@inline const OBJECT_USER_APPLICATION_NAME: u8 = 0x06;

// FC20/21 sub-requests name reference type 6, §6.14-6.15.
@inline const FILE_REFERENCE_TYPE: u8 = 6;
// Bytes of an FC20 sub-request, and of the head of an FC21 sub-request.
@inline const FILE_SUB_REQUEST_BYTES: u32 = 7;

// FC17 run indicator status, §6.13.
@inline const RUN_INDICATOR_ON: u8 = 0xff;
@inline const RUN_INDICATOR_OFF: u8 = 0x00;

// Values one record carries at most: the largest register count of a read
// (FC3, §6.3). A coil read may name 2,000 coils; the states past this cap are
// left out and `values_truncated` is set, so that one record stays small.
@inline export const MAX_RECORD_VALUES: u32 = 125;

// Address and quantity of the last decoded request, kept in the pending
// table so that the response record can carry them.
let requestHasAddress: bool = false;
let requestStartAddress: u16 = 0;
let requestQuantity: u16 = 0;
// UMAS function code of the last FC90 request, or -1.
let requestUmasFunction: i32 = -1;

export function lastRequestHasAddress(): bool { return requestHasAddress; }
export function lastRequestStartAddress(): u16 { return requestStartAddress; }
export function lastRequestQuantity(): u16 { return requestQuantity; }
export function lastRequestUmasFunction(): i32 { return requestUmasFunction; }

// What the matched request of the response being decoded named: its
// quantity (-1 when unknown), used to drop the padding bits of a coil read
// and to check the byte count of a read.
let matchedQuantity: i32 = -1;

// Values written into the open record so far, against MAX_RECORD_VALUES.
let valuesWritten: u32 = 0;

// Counts an anomaly and names it in the open record.
export function noteAnomaly(id: u16): void {
  countAnomaly(id);
  fieldLiteral(Field.ANOMALY, modbusAnomalyName(id));
}

// Returns false, noting `modbus.pdu_truncated`, when the PDU is shorter than
// the fixed fields of its function code.
function hasBytes(pduLength: u32, needed: u32): bool {
  if (pduLength >= needed) return true;
  noteAnomaly(ModbusAnomaly.PDU_TRUNCATED);
  return false;
}

// Notes `modbus.length_mismatch` when the PDU length implied by the MBAP
// header differs from the length its own fields imply.
function expectLength(pduLength: u32, expected: u32): void {
  if (pduLength != expected) noteAnomaly(ModbusAnomaly.LENGTH_MISMATCH);
}

function rememberAddress(startAddress: u16, quantity: u16): void {
  requestHasAddress = true;
  requestStartAddress = startAddress;
  requestQuantity = quantity;
}

// Writes the start address and quantity of a read request (FC1-4, §6.1-6.4)
// or of a write-multiple response (FC15/16, §6.11-6.12).
function addressAndQuantity(pdu: usize, pduLength: u32, remember: bool): void {
  if (!hasBytes(pduLength, 5)) return;
  const startAddress = readU16be(pdu + 1);
  const quantity = readU16be(pdu + 3);
  fieldU64(ModbusField.START_ADDRESS, startAddress);
  fieldU64(ModbusField.QUANTITY, quantity);
  if (remember) rememberAddress(startAddress, quantity);
  expectLength(pduLength, 5);
}

// FC5/FC6 request and response are the same: address and value, §6.5-6.6.
function addressAndValue(pdu: usize, pduLength: u32, remember: bool): void {
  if (!hasBytes(pduLength, 5)) return;
  const address = readU16be(pdu + 1);
  fieldU64(ModbusField.START_ADDRESS, address);
  fieldU64(ModbusField.VALUE, readU16be(pdu + 3));
  if (remember) rememberAddress(address, 1);
  expectLength(pduLength, 5);
}

// A one-byte byte count followed by that many bytes. Returns the byte
// count, or -1 when the PDU has no byte count.
function byteCountAndData(pdu: usize, pduLength: u32): i32 {
  if (!hasBytes(pduLength, 2)) return -1;
  const byteCount = <u32>load<u8>(pdu + 1);
  fieldU64(ModbusField.BYTE_COUNT, byteCount);
  expectLength(pduLength, 2 + byteCount);
  return <i32>byteCount;
}

// Writes one value, up to MAX_RECORD_VALUES per record; the first value past
// the cap sets `values_truncated`.
function writeValue(value: u64): void {
  if (valuesWritten < MAX_RECORD_VALUES) {
    fieldU64(ModbusField.VALUES, value);
  } else if (valuesWritten == MAX_RECORD_VALUES) {
    fieldBool(ModbusField.VALUES_TRUNCATED, true);
  }
  valuesWritten++;
}

// Writes `count` big-endian registers from `p`. The caller checked the bytes.
function registerValues(p: usize, count: u32): void {
  for (let i: u32 = 0; i < count; i++) writeValue(readU16be(p + <usize>(i << 1)));
}

// Writes `count` coil or input states packed eight to a byte, the lowest
// address in bit 0 of the first byte (§6.1). The caller checked the bytes.
function bitValues(p: usize, count: u32): void {
  for (let i: u32 = 0; i < count; i++) writeValue((load<u8>(p + <usize>(i >> 3)) >> <u8>(i & 7)) & 1);
}

// Bytes present after `offset`, as many as `wanted` at most.
@inline function available(pduLength: u32, offset: u32, wanted: u32): u32 {
  if (offset >= pduLength) return 0;
  const left = pduLength - offset;
  return wanted < left ? wanted : left;
}

// FC1/FC2 response, §6.1-6.2: byte count, then the states. With the matched
// request's quantity the padding bits of the last byte are left out.
function readBitsResponse(pdu: usize, pduLength: u32): void {
  const byteCount = byteCountAndData(pdu, pduLength);
  if (byteCount < 0) return;
  const present = available(pduLength, 2, <u32>byteCount);
  let count = present << 3;
  if (matchedQuantity >= 0) {
    const expected = (<u32>matchedQuantity + 7) >> 3;
    if (<u32>byteCount != expected && pduLength == 2 + <u32>byteCount) noteAnomaly(ModbusAnomaly.LENGTH_MISMATCH);
    if (<u32>matchedQuantity < count) count = <u32>matchedQuantity;
  }
  bitValues(pdu + 2, count);
}

// FC3/FC4 and FC23 responses, §6.3, 6.4, 6.17: byte count, then registers.
function readRegistersResponse(pdu: usize, pduLength: u32): void {
  const byteCount = byteCountAndData(pdu, pduLength);
  if (byteCount < 0) return;
  const mismatch = (byteCount & 1) != 0 || (matchedQuantity >= 0 && byteCount != matchedQuantity * 2);
  if (mismatch && pduLength == 2 + <u32>byteCount) noteAnomaly(ModbusAnomaly.LENGTH_MISMATCH);
  registerValues(pdu + 2, available(pduLength, 2, <u32>byteCount) >> 1);
}

// FC8 diagnostics, request and response, §6.8: sub-function and its data,
// the one data word most sub-functions carry as `value`, anything else as
// `data`.
function diagnostics(pdu: usize, pduLength: u32): void {
  if (!hasBytes(pduLength, 3)) return;
  const subFunction = readU16be(pdu + 1);
  fieldU64(ModbusField.SUB_FUNCTION, subFunction);
  fieldLiteral(ModbusField.SUB_FUNCTION_NAME, subFunctionName(subFunction));
  if (pduLength == 5) fieldU64(ModbusField.VALUE, readU16be(pdu + 3));
  else if (pduLength > 3) fieldBytes(ModbusField.DATA, pdu + 3, pduLength - 3);
}

// FC15/16 requests, §6.11-6.12: address, quantity, byte count, values. The
// byte count must match both the quantity and the bytes that follow.
function writeMultiple(pdu: usize, pduLength: u32, bitsPerItem: u32): void {
  if (!hasBytes(pduLength, 6)) return;
  const startAddress = readU16be(pdu + 1);
  const quantity = readU16be(pdu + 3);
  const byteCount = <u32>load<u8>(pdu + 5);
  fieldU64(ModbusField.START_ADDRESS, startAddress);
  fieldU64(ModbusField.QUANTITY, quantity);
  fieldU64(ModbusField.BYTE_COUNT, byteCount);
  rememberAddress(startAddress, quantity);
  const expectedBytes = (<u32>quantity * bitsPerItem + 7) >> 3;
  if (byteCount != expectedBytes || pduLength != 6 + byteCount) {
    noteAnomaly(ModbusAnomaly.LENGTH_MISMATCH);
  }
  // Only the values whose bytes are present, however many the quantity names.
  const present = available(pduLength, 6, byteCount);
  if (bitsPerItem == 1) {
    bitValues(pdu + 6, <u32>quantity < present << 3 ? <u32>quantity : present << 3);
  } else {
    registerValues(pdu + 6, <u32>quantity < present >> 1 ? <u32>quantity : present >> 1);
  }
}

// FC22 mask write register, request and response, §6.16.
function maskWrite(pdu: usize, pduLength: u32, remember: bool): void {
  if (!hasBytes(pduLength, 7)) return;
  const address = readU16be(pdu + 1);
  fieldU64(ModbusField.START_ADDRESS, address);
  fieldU64(ModbusField.AND_MASK, readU16be(pdu + 3));
  fieldU64(ModbusField.OR_MASK, readU16be(pdu + 5));
  if (remember) rememberAddress(address, 1);
  expectLength(pduLength, 7);
}

// FC23 read/write multiple registers request, §6.17. The matched response
// carries the read address and quantity.
function readWriteMultiple(pdu: usize, pduLength: u32): void {
  if (!hasBytes(pduLength, 10)) return;
  const readStart = readU16be(pdu + 1);
  const readQuantity = readU16be(pdu + 3);
  const writeQuantity = readU16be(pdu + 7);
  const byteCount = <u32>load<u8>(pdu + 9);
  fieldU64(ModbusField.READ_START_ADDRESS, readStart);
  fieldU64(ModbusField.READ_QUANTITY, readQuantity);
  fieldU64(ModbusField.WRITE_START_ADDRESS, readU16be(pdu + 5));
  fieldU64(ModbusField.WRITE_QUANTITY, writeQuantity);
  fieldU64(ModbusField.BYTE_COUNT, byteCount);
  rememberAddress(readStart, readQuantity);
  if (byteCount != <u32>writeQuantity * 2 || pduLength != 10 + byteCount) {
    noteAnomaly(ModbusAnomaly.LENGTH_MISMATCH);
  }
  const present = available(pduLength, 10, byteCount) >> 1;
  registerValues(pdu + 10, <u32>writeQuantity < present ? <u32>writeQuantity : present);
}

// FC11 response, §6.9: status word and event count.
function commEventCounter(pdu: usize, pduLength: u32): void {
  if (!hasBytes(pduLength, 5)) return;
  fieldU64(ModbusField.STATUS, readU16be(pdu + 1));
  fieldU64(ModbusField.EVENT_COUNT, readU16be(pdu + 3));
  expectLength(pduLength, 5);
}

// FC12 response, §6.10: byte count, status, event count, message count and
// up to 64 event bytes, newest first.
function commEventLog(pdu: usize, pduLength: u32): void {
  const byteCount = byteCountAndData(pdu, pduLength);
  if (byteCount < 0 || !hasBytes(pduLength, 8)) return;
  fieldU64(ModbusField.STATUS, readU16be(pdu + 2));
  fieldU64(ModbusField.EVENT_COUNT, readU16be(pdu + 4));
  fieldU64(ModbusField.MESSAGE_COUNT, readU16be(pdu + 6));
  if (pduLength > 8) fieldBytes(ModbusField.DATA, pdu + 8, pduLength - 8);
}

// FC17 response, §6.13: byte count, server id, run indicator status (0x00
// OFF, 0xFF ON), then device-specific additional data. The specification
// leaves the length of the server id to the device, so the layout is taken
// from where a run indicator byte is: second, after a one-byte id with
// the rest as `data` (the Wingpath server in the Suricata capture), else
// last, after an id of all the bytes before it (the pymodbus-style server in
// the ICSNPP capture). With neither, every byte is the server id.
// NOTE: a one-byte id followed by data that ends in 0x00 or 0xFF is read
// right, but a longer id whose second byte is 0x00 or 0xFF is cut after its
// first byte.
function reportServerId(pdu: usize, pduLength: u32): void {
  const byteCount = byteCountAndData(pdu, pduLength);
  if (byteCount < 1) return;
  const present = available(pduLength, 2, <u32>byteCount);
  if (present == 0) return;
  const id = pdu + 2;
  if (present >= 2 && isRunIndicator(load<u8>(id + 1))) {
    fieldBytes(ModbusField.SERVER_ID, id, 1);
    fieldBool(ModbusField.RUN_INDICATOR, load<u8>(id + 1) == RUN_INDICATOR_ON);
    if (present > 2) fieldBytes(ModbusField.DATA, id + 2, present - 2);
  } else if (present >= 2 && isRunIndicator(load<u8>(id + <usize>(present - 1)))) {
    fieldBytes(ModbusField.SERVER_ID, id, present - 1);
    fieldBool(ModbusField.RUN_INDICATOR, load<u8>(id + <usize>(present - 1)) == RUN_INDICATOR_ON);
  } else {
    fieldBytes(ModbusField.SERVER_ID, id, present);
  }
}

@inline function isRunIndicator(value: u8): bool {
  return value == RUN_INDICATOR_ON || value == RUN_INDICATOR_OFF;
}

// Writes the reference type, file number, record number and record length
// of the FC20/21 sub-request at `p` (7 bytes, checked by the caller).
function fileSubRequest(p: usize): u32 {
  const referenceType = load<u8>(p);
  fieldU64(ModbusField.REFERENCE_TYPE, referenceType);
  fieldU64(ModbusField.FILE_NUMBER, readU16be(p + 1));
  fieldU64(ModbusField.RECORD_NUMBER, readU16be(p + 3));
  const recordLength = <u32>readU16be(p + 5);
  fieldU64(ModbusField.RECORD_LENGTH, recordLength);
  if (referenceType != FILE_REFERENCE_TYPE) noteAnomaly(ModbusAnomaly.FILE_REFERENCE_TYPE_INVALID);
  return recordLength;
}

// FC20 request, §6.14: byte count, then 7-byte sub-requests.
function readFileRequest(pdu: usize, pduLength: u32): void {
  const byteCount = byteCountAndData(pdu, pduLength);
  if (byteCount < 0) return;
  if (<u32>byteCount % FILE_SUB_REQUEST_BYTES != 0) noteAnomaly(ModbusAnomaly.LENGTH_MISMATCH);
  const end = 2 + available(pduLength, 2, <u32>byteCount);
  let offset: u32 = 2;
  // Each pass consumes one sub-request.
  while (fits(end, offset, FILE_SUB_REQUEST_BYTES)) {
    fileSubRequest(pdu + offset);
    offset += FILE_SUB_REQUEST_BYTES;
  }
}

// FC21 request and its echo response, §6.15: byte count, then sub-requests
// of 7 bytes each followed by record length registers.
function writeFile(pdu: usize, pduLength: u32): void {
  const byteCount = byteCountAndData(pdu, pduLength);
  if (byteCount < 0) return;
  const end = 2 + available(pduLength, 2, <u32>byteCount);
  let offset: u32 = 2;
  // Each pass consumes a sub-request head and its record data, or stops.
  while (fits(end, offset, FILE_SUB_REQUEST_BYTES)) {
    const recordBytes = fileSubRequest(pdu + offset) << 1;
    offset += FILE_SUB_REQUEST_BYTES;
    if (!fits(end, offset, recordBytes)) {
      noteAnomaly(ModbusAnomaly.LENGTH_MISMATCH);
      registerValues(pdu + offset, (end - offset) >> 1);
      return;
    }
    registerValues(pdu + offset, recordBytes >> 1);
    offset += recordBytes;
  }
  if (offset != end) noteAnomaly(ModbusAnomaly.LENGTH_MISMATCH);
}

// FC20 response, §6.14: response data length, then per sub-request its file
// response length, reference type and record data.
function readFileResponse(pdu: usize, pduLength: u32): void {
  const byteCount = byteCountAndData(pdu, pduLength);
  if (byteCount < 0) return;
  const end = 2 + available(pduLength, 2, <u32>byteCount);
  let offset: u32 = 2;
  // Each pass consumes one sub-response, at least its two head bytes.
  while (fits(end, offset, 2)) {
    const responseLength = <u32>load<u8>(pdu + offset);
    const referenceType = load<u8>(pdu + offset + 1);
    fieldU64(ModbusField.REFERENCE_TYPE, referenceType);
    if (referenceType != FILE_REFERENCE_TYPE) noteAnomaly(ModbusAnomaly.FILE_REFERENCE_TYPE_INVALID);
    // The file response length counts the reference type and the data.
    const dataBytes = responseLength > 0 ? responseLength - 1 : 0;
    fieldU64(ModbusField.RECORD_LENGTH, dataBytes >> 1);
    offset += 2;
    if (responseLength == 0 || !fits(end, offset, dataBytes)) {
      noteAnomaly(ModbusAnomaly.LENGTH_MISMATCH);
      return;
    }
    registerValues(pdu + offset, dataBytes >> 1);
    offset += dataBytes;
  }
  if (offset != end) noteAnomaly(ModbusAnomaly.LENGTH_MISMATCH);
}

// FC24 response, §6.18: byte count (two bytes), FIFO count, then the queued
// registers.
function readFifoResponse(pdu: usize, pduLength: u32): void {
  if (!hasBytes(pduLength, 3)) return;
  const byteCount = <u32>readU16be(pdu + 1);
  fieldU64(ModbusField.BYTE_COUNT, byteCount);
  expectLength(pduLength, 3 + byteCount);
  if (!hasBytes(pduLength, 5)) return;
  const fifoCount = <u32>readU16be(pdu + 3);
  fieldU64(ModbusField.FIFO_COUNT, fifoCount);
  if (byteCount != 2 + 2 * fifoCount && pduLength == 3 + byteCount) noteAnomaly(ModbusAnomaly.LENGTH_MISMATCH);
  const present = available(pduLength, 5, fifoCount << 1) >> 1;
  registerValues(pdu + 5, present);
}

// FC43 MEI type and its name, common to requests and responses. Returns the
// MEI type, or -1 when the PDU ends before it.
function meiType(pdu: usize, pduLength: u32): i32 {
  if (!hasBytes(pduLength, 2)) return -1;
  const mei = load<u8>(pdu + 1);
  fieldU64(ModbusField.MEI_TYPE, mei);
  fieldLiteral(ModbusField.MEI_NAME, meiName(mei));
  return <i32>mei;
}

// FC43 encapsulated interface transport request, §6.19-6.21.
function encapsulatedRequest(pdu: usize, pduLength: u32): void {
  const mei = meiType(pdu, pduLength);
  if (mei == MEI_CANOPEN_GENERAL_REFERENCE) {
    // §6.20: the CANopen request follows in the bytes after the MEI type.
    countAnomaly(ModbusAnomaly.MEI_CANOPEN);
    if (pduLength > 2) fieldBytes(ModbusField.DATA, pdu + 2, pduLength - 2);
    return;
  }
  if (mei != MEI_READ_DEVICE_IDENTIFICATION) return;
  if (!hasBytes(pduLength, 4)) return;
  fieldU64(ModbusField.READ_DEVICE_ID_CODE, load<u8>(pdu + 2));
  fieldU64(ModbusField.OBJECT_ID, load<u8>(pdu + 3));
  expectLength(pduLength, 4);
}

// Writes one FC43/14 object: a named field for ids 0x00-0x06, otherwise the
// id and the value as bytes.
function deviceIdentificationObject(objectId: u8, value: usize, length: u32): void {
  switch (objectId) {
    case OBJECT_VENDOR_NAME: fieldText(ModbusField.VENDOR_NAME, value, length); return;
    case OBJECT_PRODUCT_CODE: fieldText(ModbusField.PRODUCT_CODE, value, length); return;
    case OBJECT_MAJOR_MINOR_REVISION: fieldText(ModbusField.REVISION, value, length); return;
    case OBJECT_VENDOR_URL: fieldText(ModbusField.VENDOR_URL, value, length); return;
    case OBJECT_PRODUCT_NAME: fieldText(ModbusField.PRODUCT_NAME, value, length); return;
    case OBJECT_MODEL_NAME: fieldText(ModbusField.MODEL_NAME, value, length); return;
    case OBJECT_USER_APPLICATION_NAME: fieldText(ModbusField.USER_APPLICATION_NAME, value, length); return;
  }
  fieldU64(ModbusField.EXTENDED_OBJECT_ID, objectId);
  fieldBytes(ModbusField.EXTENDED_OBJECT_VALUE, value, length);
}

// FC43 response. For MEI 14 (§6.21) the objects follow a 7-byte head:
//
//   +----------+----------+-----------------+------------+-------------+----------------+-------------------+
//   | function | MEI type | read dev id code| conformity | more follows| next object id | number of objects |
//   +----------+----------+-----------------+------------+-------------+----------------+-------------------+
//   then per object: object id (1) | object length (1) | object value (length bytes)
//
// The object values are ASCII strings for ids 0x00-0x06 (§6.21) and
// device-dependent for the private ids from 0x80.
function encapsulatedResponse(pdu: usize, pduLength: u32): void {
  const mei = meiType(pdu, pduLength);
  if (mei == MEI_CANOPEN_GENERAL_REFERENCE) {
    if (pduLength > 2) fieldBytes(ModbusField.DATA, pdu + 2, pduLength - 2);
    return;
  }
  if (mei != MEI_READ_DEVICE_IDENTIFICATION) return;
  if (!hasBytes(pduLength, 7)) return;
  fieldU64(ModbusField.READ_DEVICE_ID_CODE, load<u8>(pdu + 2));
  fieldU64(ModbusField.CONFORMITY_LEVEL, load<u8>(pdu + 3));
  fieldBool(ModbusField.MORE_FOLLOWS, load<u8>(pdu + 4) == 0xff);
  fieldU64(ModbusField.NEXT_OBJECT_ID, load<u8>(pdu + 5));
  const objectCount = <u32>load<u8>(pdu + 6);
  fieldU64(ModbusField.OBJECT_COUNT, objectCount);
  let offset: u32 = 7;
  // Each pass consumes one object, at most 255 of them.
  for (let i: u32 = 0; i < objectCount; i++) {
    if (!fits(pduLength, offset, 2)) {
      noteAnomaly(ModbusAnomaly.PDU_TRUNCATED);
      return;
    }
    const objectId = load<u8>(pdu + offset);
    const objectLength = <u32>load<u8>(pdu + offset + 1);
    if (!fits(pduLength, offset + 2, objectLength)) {
      noteAnomaly(ModbusAnomaly.PDU_TRUNCATED);
      return;
    }
    deviceIdentificationObject(objectId, pdu + offset + 2, objectLength);
    offset += 2 + objectLength;
  }
  expectLength(pduLength, offset);
}

// FC90 request (Schneider Electric UMAS): session key, UMAS function code,
// then that function's data. See umasFunctionName in tables.ts for sources.
function umasRequest(pdu: usize, pduLength: u32): void {
  if (!hasBytes(pduLength, 3)) return;
  fieldU64(ModbusField.UMAS_SESSION, load<u8>(pdu + 1));
  const code = load<u8>(pdu + 2);
  fieldU64(ModbusField.UMAS_FUNCTION, code);
  fieldLiteral(ModbusField.UMAS_FUNCTION_NAME, umasFunctionName(code));
  requestUmasFunction = <i32>code;
  if (pduLength > 3) fieldBytes(ModbusField.DATA, pdu + 3, pduLength - 3);
}

// FC90 response: session key, return code (0xFE success, 0xFD error), data.
// The function code is not repeated; the matched request supplies it.
function umasResponse(pdu: usize, pduLength: u32): void {
  if (!hasBytes(pduLength, 3)) return;
  fieldU64(ModbusField.UMAS_SESSION, load<u8>(pdu + 1));
  fieldU64(ModbusField.UMAS_RETURN_CODE, load<u8>(pdu + 2));
  if (pduLength > 3) fieldBytes(ModbusField.DATA, pdu + 3, pduLength - 3);
}

// User-defined function codes (§5): no layout is known, so the bytes after
// the function code go into `data`.
function userDefined(pdu: usize, pduLength: u32): void {
  fieldBool(ModbusField.USER_DEFINED, true);
  if (pduLength > 1) fieldBytes(ModbusField.DATA, pdu + 1, pduLength - 1);
}

// Writes the fields of a request PDU. Afterwards lastRequestHasAddress() and
// its companions describe the address range the request names, if any.
export function decodeRequest(pdu: usize, pduLength: u32): void {
  requestHasAddress = false;
  requestStartAddress = 0;
  requestQuantity = 0;
  requestUmasFunction = -1;
  valuesWritten = 0;
  const functionCode = load<u8>(pdu);
  if (isUserDefined(functionCode)) {
    countAnomaly(ModbusAnomaly.USER_DEFINED_FUNCTION);
    userDefined(pdu, pduLength);
    return;
  }
  switch (functionCode) {
    case 1: case 2: case 3: case 4:
      addressAndQuantity(pdu, pduLength, true);
      break;
    case 5: case 6:
      addressAndValue(pdu, pduLength, true);
      break;
    case 7: case 11: case 12: case 17:
      // §6.7, §6.9, §6.10, §6.13: the request is the function code alone.
      expectLength(pduLength, 1);
      break;
    case 8:
      diagnostics(pdu, pduLength);
      break;
    case 15:
      writeMultiple(pdu, pduLength, 1);
      break;
    case 16:
      writeMultiple(pdu, pduLength, 16);
      break;
    case 20:
      readFileRequest(pdu, pduLength);
      break;
    case 21:
      writeFile(pdu, pduLength);
      break;
    case 22:
      maskWrite(pdu, pduLength, true);
      break;
    case 23:
      readWriteMultiple(pdu, pduLength);
      break;
    case 24:
      // §6.18: the FIFO pointer address.
      if (!hasBytes(pduLength, 3)) break;
      fieldU64(ModbusField.START_ADDRESS, readU16be(pdu + 1));
      rememberAddress(readU16be(pdu + 1), 0);
      expectLength(pduLength, 3);
      break;
    case 43:
      encapsulatedRequest(pdu, pduLength);
      break;
    case 90:
      umasRequest(pdu, pduLength);
      break;
  }
}

// Writes the fields of a normal (non-exception) response PDU.
// `requestQuantity` is the quantity of the matched request, or -1.
export function decodeResponse(pdu: usize, pduLength: u32, requestQuantity: i32): void {
  matchedQuantity = requestQuantity;
  valuesWritten = 0;
  const functionCode = load<u8>(pdu);
  if (isUserDefined(functionCode)) {
    userDefined(pdu, pduLength);
    return;
  }
  switch (functionCode) {
    case 1: case 2:
      readBitsResponse(pdu, pduLength);
      break;
    case 3: case 4: case 23:
      readRegistersResponse(pdu, pduLength);
      break;
    case 5: case 6:
      addressAndValue(pdu, pduLength, false);
      break;
    case 7:
      // §6.7: one byte of exception status.
      if (!hasBytes(pduLength, 2)) break;
      fieldU64(ModbusField.VALUE, load<u8>(pdu + 1));
      expectLength(pduLength, 2);
      break;
    case 8:
      diagnostics(pdu, pduLength);
      break;
    case 11:
      commEventCounter(pdu, pduLength);
      break;
    case 12:
      commEventLog(pdu, pduLength);
      break;
    case 15: case 16:
      addressAndQuantity(pdu, pduLength, false);
      break;
    case 17:
      reportServerId(pdu, pduLength);
      break;
    case 20:
      readFileResponse(pdu, pduLength);
      break;
    case 21:
      writeFile(pdu, pduLength);
      break;
    case 22:
      maskWrite(pdu, pduLength, false);
      break;
    case 24:
      readFifoResponse(pdu, pduLength);
      break;
    case 43:
      encapsulatedResponse(pdu, pduLength);
      break;
    case 90:
      umasResponse(pdu, pduLength);
      break;
  }
}

// Writes an exception response, §7: the function code with bit 0x80 set and
// one exception code byte.
export function decodeException(pdu: usize, pduLength: u32): void {
  if (isUserDefined(load<u8>(pdu) & 0x7f)) fieldBool(ModbusField.USER_DEFINED, true);
  if (!hasBytes(pduLength, 2)) return;
  const exceptionCode = load<u8>(pdu + 1);
  fieldU64(ModbusField.EXCEPTION_CODE, exceptionCode);
  fieldLiteral(ModbusField.EXCEPTION, exceptionName(exceptionCode));
  expectLength(pduLength, 2);
}
