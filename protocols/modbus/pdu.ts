// Field decoders for Modbus PDUs: each writes what one function code carries
// into the record the caller opened. Section numbers refer to MODBUS
// Application Protocol Specification V1.1b3.
//
// `pdu` points at the function code and `pduLength` counts it too, so the
// first data byte is at offset 1. The caller guarantees pduLength >= 1.

import { fits, readU16be } from "../api";
import { Field } from "../fields";
import { countAnomaly } from "../../wasm-core/assembly/counters";
import { fieldLiteral, fieldText, fieldU64 } from "../../wasm-core/assembly/events";
import { ModbusAnomaly, ModbusField, modbusAnomalyName } from "./fields";
import { exceptionName, subFunctionName } from "./tables";

// FC43 MEI type of read device identification, §6.19. Other MEI types (13,
// CANopen general reference) are recorded by number only.
@inline const MEI_READ_DEVICE_IDENTIFICATION: u8 = 14;

// FC43/14 object ids of the basic device identification, §6.21.
@inline const OBJECT_VENDOR_NAME: u8 = 0x00;
@inline const OBJECT_PRODUCT_CODE: u8 = 0x01;
@inline const OBJECT_MAJOR_MINOR_REVISION: u8 = 0x02;

// Address and quantity of the last decoded request, kept in the pending
// table so that the response record can carry them.
let requestHasAddress: bool = false;
let requestStartAddress: u16 = 0;
let requestQuantity: u16 = 0;

export function lastRequestHasAddress(): bool { return requestHasAddress; }
export function lastRequestStartAddress(): u16 { return requestStartAddress; }
export function lastRequestQuantity(): u16 { return requestQuantity; }

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

// A one-byte byte count followed by that many bytes (FC1-4, 12, 17, 20, 21
// and 23 responses, FC20/21 requests).
function byteCountAndData(pdu: usize, pduLength: u32): void {
  if (!hasBytes(pduLength, 2)) return;
  const byteCount = <u32>load<u8>(pdu + 1);
  fieldU64(ModbusField.BYTE_COUNT, byteCount);
  expectLength(pduLength, 2 + byteCount);
}

// FC8 diagnostics, request and response, §6.8: sub-function and, when the
// data is one word, that word.
function diagnostics(pdu: usize, pduLength: u32): void {
  if (!hasBytes(pduLength, 3)) return;
  const subFunction = readU16be(pdu + 1);
  fieldU64(ModbusField.SUB_FUNCTION, subFunction);
  fieldLiteral(ModbusField.SUB_FUNCTION_NAME, subFunctionName(subFunction));
  if (pduLength == 5) fieldU64(ModbusField.VALUE, readU16be(pdu + 3));
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
}

// FC43 encapsulated interface transport request, §6.19-6.21.
function encapsulatedRequest(pdu: usize, pduLength: u32): void {
  if (!hasBytes(pduLength, 2)) return;
  const meiType = load<u8>(pdu + 1);
  fieldU64(ModbusField.MEI_TYPE, meiType);
  if (meiType != MEI_READ_DEVICE_IDENTIFICATION) return;
  if (!hasBytes(pduLength, 4)) return;
  fieldU64(ModbusField.READ_DEVICE_ID_CODE, load<u8>(pdu + 2));
  fieldU64(ModbusField.OBJECT_ID, load<u8>(pdu + 3));
  expectLength(pduLength, 4);
}

// FC43 response. For MEI 14 (§6.21) the objects follow a 7-byte head:
//
//   +----------+----------+-----------------+------------+-------------+----------------+-------------------+
//   | function | MEI type | read dev id code| conformity | more follows| next object id | number of objects |
//   +----------+----------+-----------------+------------+-------------+----------------+-------------------+
//   then per object: object id (1) | object length (1) | object value (length bytes)
function encapsulatedResponse(pdu: usize, pduLength: u32): void {
  if (!hasBytes(pduLength, 2)) return;
  const meiType = load<u8>(pdu + 1);
  fieldU64(ModbusField.MEI_TYPE, meiType);
  if (meiType != MEI_READ_DEVICE_IDENTIFICATION) return;
  if (!hasBytes(pduLength, 7)) return;
  fieldU64(ModbusField.READ_DEVICE_ID_CODE, load<u8>(pdu + 2));
  const objectCount = <u32>load<u8>(pdu + 6);
  let offset: u32 = 7;
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
    const value = pdu + offset + 2;
    if (objectId == OBJECT_VENDOR_NAME) fieldText(ModbusField.VENDOR_NAME, value, objectLength);
    else if (objectId == OBJECT_PRODUCT_CODE) fieldText(ModbusField.PRODUCT_CODE, value, objectLength);
    else if (objectId == OBJECT_MAJOR_MINOR_REVISION) fieldText(ModbusField.REVISION, value, objectLength);
    offset += 2 + objectLength;
  }
  expectLength(pduLength, offset);
}

// Writes the fields of a request PDU. Afterwards lastRequestHasAddress() and
// its companions describe the address range the request names, if any.
export function decodeRequest(pdu: usize, pduLength: u32): void {
  requestHasAddress = false;
  requestStartAddress = 0;
  requestQuantity = 0;
  const functionCode = load<u8>(pdu);
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
    case 20: case 21:
      byteCountAndData(pdu, pduLength);
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
  }
}

// Writes the fields of a normal (non-exception) response PDU.
export function decodeResponse(pdu: usize, pduLength: u32): void {
  const functionCode = load<u8>(pdu);
  switch (functionCode) {
    case 1: case 2: case 3: case 4: case 12: case 17: case 20: case 21: case 23:
      byteCountAndData(pdu, pduLength);
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
      // §6.9: status word and event count.
      expectLength(pduLength, 5);
      break;
    case 15: case 16:
      addressAndQuantity(pdu, pduLength, false);
      break;
    case 22:
      maskWrite(pdu, pduLength, false);
      break;
    case 24: {
      // §6.18: a two-byte byte count, then the FIFO count and the registers.
      if (!hasBytes(pduLength, 3)) break;
      const byteCount = <u32>readU16be(pdu + 1);
      fieldU64(ModbusField.BYTE_COUNT, byteCount);
      expectLength(pduLength, 3 + byteCount);
      break;
    }
    case 43:
      encapsulatedResponse(pdu, pduLength);
      break;
  }
}

// Writes an exception response, §7: the function code with bit 0x80 set and
// one exception code byte.
export function decodeException(pdu: usize, pduLength: u32): void {
  if (!hasBytes(pduLength, 2)) return;
  const exceptionCode = load<u8>(pdu + 1);
  fieldU64(ModbusField.EXCEPTION_CODE, exceptionCode);
  fieldLiteral(ModbusField.EXCEPTION, exceptionName(exceptionCode));
  expectLength(pduLength, 2);
}
