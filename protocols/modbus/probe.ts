// Content probes for Modbus/TCP. On port 502 the first bytes only have to
// look like an MBAP header. On any other port Modbus is one guess among many
// protocols, so the probe requires a whole request whose every field is in
// range, and the dissector writes no record until a response with the same
// transaction id, unit id and function code confirms the flow (modbus.ts).
//
// Section numbers refer to MODBUS Application Protocol Specification V1.1b3
// ("AP §n") and MODBUS Messaging on TCP/IP Implementation Guide V1.0b
// ("TCP §n").

import { fits, readU16be, PROBE_MATCH, PROBE_NEED_MORE, PROBE_NO_MATCH } from "../api";
import { subFunctionName } from "./tables";

// Transaction id, protocol id and length: the bytes before the length's scope.
@inline export const MBAP_PREFIX_BYTES: u32 = 6;
// MBAP header (TCP §3.1.3) plus the function code: the least a probe reads.
@inline export const HEADER_AND_FUNCTION_BYTES: u32 = 8;
@inline const MIN_MBAP_LENGTH: u32 = 2;
// The PDU is at most 253 bytes (AP §4.1), plus the unit id.
@inline const MAX_MBAP_LENGTH: u32 = 254;
@inline export const MAX_ADU_BYTES: u32 = MBAP_PREFIX_BYTES + MAX_MBAP_LENGTH;

// Quantity limits of requests, AP §6.1-6.4, 6.11, 6.12, 6.17.
@inline const MAX_READ_BITS: u32 = 2000;
@inline const MAX_READ_REGISTERS: u32 = 125;
@inline const MAX_WRITE_COILS: u32 = 1968;
@inline const MAX_WRITE_REGISTERS: u32 = 123;
@inline const MAX_READ_WRITE_WRITE_REGISTERS: u32 = 121;
// FC20 byte count range, AP §6.14.
@inline const MIN_FILE_READ_BYTES: u32 = 0x07;
@inline const MAX_FILE_READ_BYTES: u32 = 0xf5;

export function validLength(mbapLength: u32): bool {
  return mbapLength >= MIN_MBAP_LENGTH && mbapLength <= MAX_MBAP_LENGTH;
}

// Checks the first 8 bytes at `p` (the caller checked they exist): protocol
// id 0, a length in range and a function code other than 0 or 0x80.
export function plausibleHeader(p: usize): bool {
  if (readU16be(p + 2) != 0) return false;
  if (!validLength(<u32>readU16be(p + 4))) return false;
  return (load<u8>(p + 7) & 0x7f) != 0;
}

// Probe for a flow to or from port 502: an MBAP header, in either direction.
export function modbusProbe(ptr: usize, length: u32, toServer: bool): i32 {
  // Reject as soon as the bytes present rule Modbus out.
  if (length >= 4 && readU16be(ptr + 2) != 0) return PROBE_NO_MATCH;
  if (length >= 6 && !validLength(<u32>readU16be(ptr + 4))) return PROBE_NO_MATCH;
  if (length < HEADER_AND_FUNCTION_BYTES) return PROBE_NEED_MORE;
  return plausibleHeader(ptr) ? PROBE_MATCH : PROBE_NO_MATCH;
}

// Probe for a flow on any other port. It matches only the client's first
// bytes, because a Modbus server never speaks first (TCP §4.2), and only
// when they hold a whole public-function request that is well formed field
// by field, followed by nothing or by another plausible header. The whole
// ADU is at most MAX_ADU_BYTES, so waiting for it is bounded.
export function modbusContentProbe(ptr: usize, length: u32, toServer: bool): i32 {
  if (!toServer) return PROBE_NO_MATCH;
  if (length >= 4 && readU16be(ptr + 2) != 0) return PROBE_NO_MATCH;
  if (length >= 6 && !validLength(<u32>readU16be(ptr + 4))) return PROBE_NO_MATCH;
  if (length < HEADER_AND_FUNCTION_BYTES) return PROBE_NEED_MORE;
  const aduBytes = MBAP_PREFIX_BYTES + <u32>readU16be(ptr + 4);
  if (length < aduBytes) return PROBE_NEED_MORE;
  if (!wellFormedRequest(ptr + 7, aduBytes - 7)) return PROBE_NO_MATCH;
  if (fits(length, aduBytes, HEADER_AND_FUNCTION_BYTES) && !plausibleHeader(ptr + <usize>aduBytes)) return PROBE_NO_MATCH;
  return PROBE_MATCH;
}

@inline function inRange(value: u32, low: u32, high: u32): bool {
  return value >= low && value <= high;
}

// True when a request PDU of a public function code has exactly the length
// its fields imply and every quantity within the specification's limits.
// `pdu` points at the function code; pduLength counts it.
export function wellFormedRequest(pdu: usize, pduLength: u32): bool {
  const functionCode = load<u8>(pdu);
  switch (functionCode) {
    case 1: case 2:
      return pduLength == 5 && inRange(<u32>readU16be(pdu + 3), 1, MAX_READ_BITS);
    case 3: case 4:
      return pduLength == 5 && inRange(<u32>readU16be(pdu + 3), 1, MAX_READ_REGISTERS);
    case 5: {
      // AP §6.5: 0xFF00 turns the coil on, 0x0000 off; nothing else is valid.
      if (pduLength != 5) return false;
      const value = readU16be(pdu + 3);
      return value == 0xff00 || value == 0;
    }
    case 6: case 22: case 24:
      return pduLength == (functionCode == 22 ? 7 : functionCode == 24 ? 3 : 5);
    case 7: case 11: case 12: case 17:
      return pduLength == 1;
    case 8:
      return pduLength == 5 && subFunctionName(readU16be(pdu + 1)) != "RESERVED";
    case 15: {
      if (pduLength < 6) return false;
      const quantity = <u32>readU16be(pdu + 3);
      const byteCount = <u32>load<u8>(pdu + 5);
      return inRange(quantity, 1, MAX_WRITE_COILS) && byteCount == (quantity + 7) >> 3 && pduLength == 6 + byteCount;
    }
    case 16: {
      if (pduLength < 6) return false;
      const quantity = <u32>readU16be(pdu + 3);
      const byteCount = <u32>load<u8>(pdu + 5);
      return inRange(quantity, 1, MAX_WRITE_REGISTERS) && byteCount == quantity * 2 && pduLength == 6 + byteCount;
    }
    case 20: {
      if (pduLength < 2) return false;
      const byteCount = <u32>load<u8>(pdu + 1);
      return inRange(byteCount, MIN_FILE_READ_BYTES, MAX_FILE_READ_BYTES) && byteCount % 7 == 0 && pduLength == 2 + byteCount;
    }
    case 21: {
      if (pduLength < 2) return false;
      const byteCount = <u32>load<u8>(pdu + 1);
      return byteCount >= 9 && pduLength == 2 + byteCount;
    }
    case 23: {
      if (pduLength < 10) return false;
      const readQuantity = <u32>readU16be(pdu + 3);
      const writeQuantity = <u32>readU16be(pdu + 7);
      const byteCount = <u32>load<u8>(pdu + 9);
      return inRange(readQuantity, 1, MAX_READ_REGISTERS) && inRange(writeQuantity, 1, MAX_READ_WRITE_WRITE_REGISTERS) &&
        byteCount == writeQuantity * 2 && pduLength == 10 + byteCount;
    }
    case 43: {
      // AP §6.21: MEI 14 with read device id code 1-4. MEI 13 carries
      // CANopen requests of their own layout.
      if (pduLength < 2) return false;
      const mei = load<u8>(pdu + 1);
      if (mei == 13) return true;
      return mei == 14 && pduLength == 4 && inRange(<u32>load<u8>(pdu + 2), 1, 4);
    }
  }
  return false;
}
