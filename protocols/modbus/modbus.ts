// Modbus/TCP dissector: MBAP framing, one record per PDU, request/response
// matching by transaction id.
//
// Specifications: MODBUS Application Protocol Specification V1.1b3 (2012),
// cited as "AP §n", and MODBUS Messaging on TCP/IP Implementation Guide
// V1.0b (2006), cited as "TCP §n".
//
// Application data unit (TCP §3.1.3), all fields big-endian:
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-------------------------------+-------------------------------+
//   |        transaction id         |   protocol id (0 = Modbus)    |
//   +-------------------------------+---------------+---------------+
//   |  length (unit id + PDU bytes) |    unit id    | function code |
//   +-------------------------------+---------------+---------------+
//   |  data (length - 2 bytes) ...
//
// The 7 bytes up to the unit id are the MBAP header. The PDU (function code
// and data) is at most 253 bytes (AP §4.1), so length lies in 2..254.

import {
  fits, readU16be, PROBE_MATCH, PROBE_NEED_MORE, PROBE_NO_MATCH, STREAM_NEED_MORE, STREAM_REJECT,
} from "../api";
import { Field, RecordType } from "../fields";
import { countAnomaly } from "../../wasm-core/assembly/counters";
import {
  beginRecord, contextDstPort, contextSrcPort, contextTsNsec, contextTsSec, endRecord,
  fieldLiteral, fieldU64,
} from "../../wasm-core/assembly/events";
import { ModbusAnomaly, ModbusField } from "./fields";
import {
  decodeException, decodeRequest, decodeResponse, lastRequestHasAddress, lastRequestQuantity,
  lastRequestStartAddress, noteAnomaly,
} from "./pdu";
import {
  addInvalidHeader, addPending, AddPendingResult, addResyncSkipped, clearInvalidHeaders, endResync,
  findPending, isRejected, isResyncing, markRejected, pendingCount, pendingFunctionCode,
  pendingHasAddress, pendingQuantity, pendingStartAddress, pendingTsNsec, pendingTsSec,
  releasePending, releasePendingExtension, startResync,
} from "./state";
import { exceptionFunctionName, functionName } from "./tables";

// Transaction id, protocol id and length: the bytes before the length's scope.
@inline const MBAP_PREFIX_BYTES: u32 = 6;
// MBAP header (TCP §3.1.3) plus the function code: the least a probe reads.
@inline const HEADER_AND_FUNCTION_BYTES: u32 = 8;
@inline const MIN_MBAP_LENGTH: u32 = 2;
@inline const MAX_MBAP_LENGTH: u32 = 254;
@inline const MAX_ADU_BYTES: u32 = MBAP_PREFIX_BYTES + MAX_MBAP_LENGTH;
@inline const EXCEPTION_BIT: u8 = 0x80;

// Modbus servers listen on the registered TCP port 502.
@inline const MODBUS_TCP_PORT: u16 = 502;

// Invalid MBAP headers in a row (protocol id not 0, or length out of range)
// after which a direction is taken to carry something other than Modbus.
@inline const MAX_CONSECUTIVE_INVALID_HEADERS: u32 = 2;

// Bytes a direction may skip while looking for the next MBAP header after a
// gap before the stream is rejected: eight maximum-size ADUs.
@inline const RESYNC_LIMIT_BYTES: u32 = 8 * MAX_ADU_BYTES;

@inline function validLength(mbapLength: u32): bool {
  return mbapLength >= MIN_MBAP_LENGTH && mbapLength <= MAX_MBAP_LENGTH;
}

// Checks the first 8 bytes at `p` (the caller checked they exist): protocol
// id 0, a length in range and a function code other than 0 or 0x80.
function plausibleHeader(p: usize): bool {
  if (readU16be(p + 2) != 0) return false;
  if (!validLength(<u32>readU16be(p + 4))) return false;
  return (load<u8>(p + 7) & 0x7f) != 0;
}

export function modbusProbe(ptr: usize, length: u32, toServer: bool): i32 {
  // Reject as soon as the bytes present rule Modbus out.
  if (length >= 4 && readU16be(ptr + 2) != 0) return PROBE_NO_MATCH;
  if (length >= 6 && !validLength(<u32>readU16be(ptr + 4))) return PROBE_NO_MATCH;
  if (length < HEADER_AND_FUNCTION_BYTES) return PROBE_NEED_MORE;
  return plausibleHeader(ptr) ? PROBE_MATCH : PROBE_NO_MATCH;
}

export function modbusOnData(state: usize, toServer: bool, ptr: usize, length: u32): i32 {
  if (isRejected(state)) return STREAM_REJECT;
  let consumed: u32 = 0;
  // Every pass consumes at least one byte or leaves the loop.
  while (consumed < length) {
    const p = ptr + <usize>consumed;
    const remaining = length - consumed;

    if (isResyncing(state, toServer)) {
      const skipped = resync(state, toServer, p, remaining);
      if (skipped < 0) return STREAM_REJECT;
      consumed += <u32>skipped;
      if (isResyncing(state, toServer)) break;
      continue;
    }

    if (!fits(remaining, 0, HEADER_AND_FUNCTION_BYTES)) break;
    const protocolId = readU16be(p + 2);
    const mbapLength = <u32>readU16be(p + 4);

    if (!validLength(mbapLength)) {
      // TCP §3.1.3: without a valid length the ADU cannot be framed, so look
      // for the next header from the following byte on.
      countAnomaly(ModbusAnomaly.LENGTH_INVALID);
      if (tooManyInvalidHeaders(state, toServer)) return STREAM_REJECT;
      startResync(state, toServer);
      addResyncSkipped(state, toServer, 1);
      consumed += 1;
      continue;
    }

    const aduBytes = MBAP_PREFIX_BYTES + mbapLength;
    if (protocolId != 0) {
      // TCP §3.1.3: protocol id 0 is Modbus. Skip the ADU by its length,
      // possibly past the bytes present (the core drops the rest).
      countAnomaly(ModbusAnomaly.PROTOCOL_ID_NONZERO);
      if (tooManyInvalidHeaders(state, toServer)) return STREAM_REJECT;
      consumed += aduBytes;
      continue;
    }

    if (!fits(remaining, 0, aduBytes)) break;
    clearInvalidHeaders(state, toServer);
    dissectAdu(state, toServer, p, mbapLength);
    consumed += aduBytes;
  }
  return consumed == 0 ? STREAM_NEED_MORE : <i32>consumed;
}

export function modbusOnGap(state: usize, toServer: bool): void {
  // The core discards the partial ADU it buffered, and the bytes after the
  // gap may start anywhere inside an ADU.
  startResync(state, toServer);
}

export function modbusOnClose(state: usize): void {
  const unanswered = pendingCount(state);
  for (let i: u32 = 0; i < unanswered; i++) countAnomaly(ModbusAnomaly.UNANSWERED_REQUEST);
  releasePendingExtension(state);
}

// Counts an invalid header in a row; rejects the stream when there were too many.
function tooManyInvalidHeaders(state: usize, toServer: bool): bool {
  if (addInvalidHeader(state, toServer) < MAX_CONSECUTIVE_INVALID_HEADERS) return false;
  countAnomaly(ModbusAnomaly.CONSECUTIVE_INVALID_HEADERS);
  markRejected(state);
  return true;
}

// Looks for the next plausible MBAP header. Returns the bytes to skip before
// it (resynchronisation then ends), the bytes that cannot start a header
// (still resynchronising, the last 7 bytes are kept for the next call), or
// STREAM_REJECT once RESYNC_LIMIT_BYTES were skipped.
function resync(state: usize, toServer: bool, p: usize, length: u32): i32 {
  let offset: u32 = 0;
  while (fits(length, offset, HEADER_AND_FUNCTION_BYTES)) {
    if (confirmedHeader(p + <usize>offset, length - offset)) {
      const skipped = addResyncSkipped(state, toServer, offset);
      if (skipped > 0) countAnomaly(ModbusAnomaly.RESYNC_BYTES_SKIPPED);
      endResync(state, toServer);
      return <i32>offset;
    }
    offset++;
  }
  if (addResyncSkipped(state, toServer, offset) > RESYNC_LIMIT_BYTES) {
    countAnomaly(ModbusAnomaly.RESYNC_LIMIT_REACHED);
    markRejected(state);
    return STREAM_REJECT;
  }
  return <i32>offset;
}

// Accepts a plausible header. When a whole header fits after its ADU, that
// next header must be plausible too, because register values are often small
// numbers whose zero bytes can pass for a lone header.
function confirmedHeader(p: usize, length: u32): bool {
  if (!plausibleHeader(p)) return false;
  const aduBytes = MBAP_PREFIX_BYTES + <u32>readU16be(p + 4);
  if (!fits(length, aduBytes, HEADER_AND_FUNCTION_BYTES)) return true;
  return plausibleHeader(p + <usize>aduBytes);
}

// The TCP originator is normally the Modbus client. When only the
// originator uses port 502 (a capture that starts mid-connection, or a
// server that opened the connection), it is the Modbus server instead.
function serverIsOriginator(): bool {
  return contextSrcPort() == MODBUS_TCP_PORT && contextDstPort() != MODBUS_TCP_PORT;
}

// Writes one record for a complete ADU and updates request matching.
// `p` points at the MBAP header; the caller checked 6 + mbapLength bytes.
function dissectAdu(state: usize, toServer: bool, p: usize, mbapLength: u32): void {
  const transactionId = readU16be(p);
  const unitId = load<u8>(p + 6);
  const pdu = p + 7;
  const pduLength = mbapLength - 1;
  const functionCode = load<u8>(pdu);
  const isException = (functionCode & EXCEPTION_BIT) != 0;
  const isRequest = toServer != serverIsOriginator();

  // When the event buffer is full no record opens and the field writes do
  // nothing, but request matching still has to go on.
  beginRecord(RecordType.MODBUS, !toServer);
  fieldLiteral(Field.PDU_TYPE, isRequest ? "request" : "response");
  fieldU64(ModbusField.TRANSACTION_ID, transactionId);
  fieldU64(ModbusField.UNIT_ID, unitId);
  fieldU64(ModbusField.FUNCTION_CODE, functionCode);
  fieldLiteral(ModbusField.FUNCTION, isException ? exceptionFunctionName(functionCode) : functionName(functionCode));

  if (isException) decodeException(pdu, pduLength);
  if (isRequest) {
    if (!isException) decodeRequest(pdu, pduLength);
    rememberRequest(state, transactionId, functionCode, unitId, !isException && lastRequestHasAddress());
  } else {
    if (!isException) decodeResponse(pdu, pduLength);
    matchResponse(state, transactionId, functionCode);
  }
  endRecord();
}

function rememberRequest(state: usize, transactionId: u16, functionCode: u8, unitId: u8, hasAddress: bool): void {
  const result = addPending(
    state, transactionId, functionCode, unitId, hasAddress,
    lastRequestStartAddress(), lastRequestQuantity(), contextTsSec(), contextTsNsec(),
  );
  if (result == AddPendingResult.REPLACED_DUPLICATE) noteAnomaly(ModbusAnomaly.DUPLICATE_TRANSACTION_ID);
  else if (result == AddPendingResult.EVICTED_OLDEST) noteAnomaly(ModbusAnomaly.PENDING_OVERFLOW);
}

// Pairs a response with its pending request: round-trip time, and for reads
// and exceptions the address range the request named.
function matchResponse(state: usize, transactionId: u16, functionCode: u8): void {
  const request = findPending(state, transactionId);
  if (request == 0) {
    noteAnomaly(ModbusAnomaly.UNMATCHED_RESPONSE);
    return;
  }
  const requestFunction = pendingFunctionCode(request);
  if ((functionCode & ~EXCEPTION_BIT) != requestFunction) noteAnomaly(ModbusAnomaly.FUNCTION_MISMATCH);

  const base = functionCode & ~EXCEPTION_BIT;
  const carriesAddress = (functionCode & EXCEPTION_BIT) != 0 || (base >= 1 && base <= 4) || base == 23 || base == 24;
  if (carriesAddress && pendingHasAddress(request)) {
    fieldU64(ModbusField.START_ADDRESS, pendingStartAddress(request));
    fieldU64(ModbusField.QUANTITY, pendingQuantity(request));
  }

  // Packet times only move forward within a flow, but a reordered capture
  // could break that, so a negative round trip is written as 0.
  const elapsedNs = (<i64>contextTsSec() - <i64>pendingTsSec(request)) * 1_000_000_000
    + (<i64>contextTsNsec() - <i64>pendingTsNsec(request));
  fieldU64(Field.RTT_US, elapsedNs > 0 ? <u64>(elapsedNs / 1000) : 0);
  releasePending(state, request);
}
