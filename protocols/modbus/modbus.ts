// Modbus/TCP dissector: MBAP framing, one record per PDU, request/response
// matching by transaction id and unit id.
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
//
// A flow to or from port 502 is dissected from its first ADU. A flow on any
// other port was chosen by modbusContentProbe (probe.ts) and stays
// unconfirmed: its requests are kept in a hold area and no record is
// written until the first response carries the transaction id, unit id and
// function code of a held request. Then the held requests are dissected with
// their own timestamps, and the flow goes on as any other Modbus flow.

import { fits, readU16be, STREAM_NEED_MORE, STREAM_REJECT } from "../api";
import { Field, RecordType } from "../fields";
import { countAnomaly } from "../../wasm-core/assembly/counters";
import {
  beginRecord, contextDstAddress, contextDstPort, contextFlowId, contextIpVersion, contextSrcAddress,
  contextSrcPort, contextTsNsec, contextTsSec, endRecord, fieldLiteral, fieldU64, setRecordContext,
} from "../../wasm-core/assembly/events";
import { count, CoreCounter } from "../../wasm-core/assembly/stats";
import { ModbusAnomaly, ModbusField } from "./fields";
import {
  decodeException, decodeRequest, decodeResponse, lastRequestHasAddress, lastRequestQuantity,
  lastRequestStartAddress, lastRequestUmasFunction, noteAnomaly,
} from "./pdu";
import { HEADER_AND_FUNCTION_BYTES, MAX_ADU_BYTES, MBAP_PREFIX_BYTES, plausibleHeader, validLength } from "./probe";
import {
  addPending, AddPendingResult, addResyncSkipped, endResync, findPending, HOLD_AREA_BYTES, heldArea, holdArea, holdUsed,
  isClassified, isRejected, isResyncing, isUnconfirmed, markConfirmed, markRejected, markUnconfirmed,
  pendingCount, pendingFunctionCode, pendingHasAddress, pendingQuantity, pendingStartAddress, pendingTsNsec,
  pendingTsSec, pendingUmasFunction, releaseHoldArea, releasePending, releasePendingExtension, setHoldUsed,
  startResync,
} from "./state";
import { exceptionFunctionName, functionName, umasFunctionName } from "./tables";

export { modbusContentProbe, modbusProbe } from "./probe";

@inline const EXCEPTION_BIT: u8 = 0x80;
@inline const IP_PROTOCOL_TCP: u8 = 6;

// Modbus servers listen on the registered TCP port 502.
@inline const MODBUS_TCP_PORT: u16 = 502;

// Bytes a direction may skip while looking for the next MBAP header after a
// gap or an invalid header before the stream is rejected: eight
// maximum-size ADUs.
@inline const RESYNC_LIMIT_BYTES: u32 = 8 * MAX_ADU_BYTES;

// A held request: ts_sec (4), ts_nsec (4), then the ADU.
@inline const HELD_PREFIX_BYTES: u32 = 8;

export function modbusOnData(state: usize, toServer: bool, ptr: usize, length: u32): i32 {
  if (isRejected(state)) return STREAM_REJECT;
  if (!isClassified(state)) classify(state);
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

    if (protocolId != 0 || !validLength(mbapLength)) {
      // TCP §3.1.3: protocol id 0 is Modbus, and without a valid length the
      // ADU cannot be framed. Either way the bytes are not where an ADU
      // should start (a wrong length before them, or another protocol), so
      // look for the next header from the following byte on.
      if (isUnconfirmed(state)) return rejectUnconfirmed(state);
      countAnomaly(protocolId != 0 ? ModbusAnomaly.PROTOCOL_ID_NONZERO : ModbusAnomaly.LENGTH_INVALID);
      startResync(state, toServer);
      addResyncSkipped(state, toServer, 1);
      consumed += 1;
      continue;
    }

    const aduBytes = MBAP_PREFIX_BYTES + mbapLength;
    if (!fits(remaining, 0, aduBytes)) break;
    if (isUnconfirmed(state) && !confirmOrHold(state, toServer, p, aduBytes)) {
      if (isRejected(state)) return STREAM_REJECT;
      consumed += aduBytes;
      continue;
    }
    dissectAdu(state, toServer, p, mbapLength);
    consumed += aduBytes;
  }
  return consumed == 0 ? STREAM_NEED_MORE : <i32>consumed;
}

export function modbusOnGap(state: usize, toServer: bool): void {
  // An unconfirmed flow has too little evidence to survive lost bytes.
  if (isUnconfirmed(state)) {
    if (isRejected(state)) return;
    rejectUnconfirmed(state);
    return;
  }
  // The core discards the partial ADU it buffered, and the bytes after the
  // gap may start anywhere inside an ADU.
  startResync(state, toServer);
}

export function modbusOnClose(state: usize): void {
  if (isUnconfirmed(state)) {
    // rejectUnconfirmed counted the flow already.
    if (!isRejected(state)) countAnomaly(ModbusAnomaly.CONTENT_MATCH_UNCONFIRMED);
  } else {
    const unanswered = pendingCount(state);
    for (let i: u32 = 0; i < unanswered; i++) countAnomaly(ModbusAnomaly.UNANSWERED_REQUEST);
  }
  releasePendingExtension(state);
}

// Marks a new flow confirmed when a port names it Modbus, and unconfirmed
// when the content probe chose it. The context ports are the flow's
// originator and responder ports.
function classify(state: usize): void {
  if (contextSrcPort() == MODBUS_TCP_PORT || contextDstPort() == MODBUS_TCP_PORT) {
    markConfirmed(state);
  } else {
    markUnconfirmed(state);
  }
}

// Rejects an unconfirmed flow: it wrote no record, and its held requests
// are dropped.
function rejectUnconfirmed(state: usize): i32 {
  countAnomaly(ModbusAnomaly.CONTENT_MATCH_UNCONFIRMED);
  markRejected(state);
  releaseHoldArea(state);
  return STREAM_REJECT;
}

// Handles a whole ADU of an unconfirmed flow. A request is held (returns
// false, the caller skips it). The first response either confirms the flow,
// after which the held requests are dissected and the response is handed
// back to the caller (returns true), or rejects it (returns false with the
// flow marked rejected).
// NOTE: a client that sends more than HOLD_AREA_BYTES of requests (about 70
// reads) before the first response, or a flow that finds the extension pool
// empty, is rejected although it may be Modbus.
function confirmOrHold(state: usize, toServer: bool, p: usize, aduBytes: u32): bool {
  if (toServer) {
    const area = holdArea(state);
    const used = holdUsed(state);
    if (area == 0 || !fits(HOLD_AREA_BYTES, used, HELD_PREFIX_BYTES + aduBytes)) {
      rejectUnconfirmed(state);
      return false;
    }
    const entry = area + <usize>used;
    store<u32>(entry, contextTsSec());
    store<u32>(entry, contextTsNsec(), 4);
    memory.copy(entry + HELD_PREFIX_BYTES, p, aduBytes);
    setHoldUsed(state, used + HELD_PREFIX_BYTES + aduBytes);
    return false;
  }
  if (!matchesHeldRequest(state, p)) {
    rejectUnconfirmed(state);
    return false;
  }
  markConfirmed(state);
  count(CoreCounter.FLOWS_MODBUS);
  dissectHeldRequests(state);
  releaseHoldArea(state);
  return true;
}

// True when a held request has the response's transaction id, unit id and
// function code (bit 0x80 cleared).
function matchesHeldRequest(state: usize, response: usize): bool {
  const area = heldArea(state);
  const used = holdUsed(state);
  let offset: u32 = 0;
  // Each pass steps over one held request.
  while (area != 0 && fits(used, offset, HELD_PREFIX_BYTES + 8)) {
    const request = area + <usize>(offset + HELD_PREFIX_BYTES);
    if (
      load<u16>(request) == load<u16>(response) && load<u8>(request + 6) == load<u8>(response + 6) &&
      load<u8>(request + 7) == (load<u8>(response + 7) & ~EXCEPTION_BIT)
    ) return true;
    offset += HELD_PREFIX_BYTES + MBAP_PREFIX_BYTES + <u32>readU16be(request + 4);
  }
  return false;
}

// Dissects the held requests in order, each with the time it was seen.
function dissectHeldRequests(state: usize): void {
  const area = heldArea(state);
  const used = holdUsed(state);
  const tsSec = contextTsSec();
  const tsNsec = contextTsNsec();
  let offset: u32 = 0;
  // Each pass consumes one held request.
  while (fits(used, offset, HELD_PREFIX_BYTES + 8)) {
    const entry = area + <usize>offset;
    const mbapLength = <u32>readU16be(entry + HELD_PREFIX_BYTES + 4);
    setContextTime(load<u32>(entry), load<u32>(entry, 4));
    dissectAdu(state, true, entry + HELD_PREFIX_BYTES, mbapLength);
    offset += HELD_PREFIX_BYTES + MBAP_PREFIX_BYTES + mbapLength;
  }
  setContextTime(tsSec, tsNsec);
}

// Changes the time of the packet context and keeps the rest of it.
function setContextTime(tsSec: u32, tsNsec: u32): void {
  setRecordContext(
    tsSec, tsNsec, contextFlowId(), contextIpVersion(), IP_PROTOCOL_TCP,
    contextSrcAddress(), contextSrcPort(), contextDstAddress(), contextDstPort(),
  );
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
    const request = findPending(state, transactionId, unitId);
    if (!isException) decodeResponse(pdu, pduLength, request != 0 && pendingHasAddress(request) ? <i32>pendingQuantity(request) : -1);
    matchResponse(state, request, functionCode);
  }
  endRecord();
}

function rememberRequest(state: usize, transactionId: u16, functionCode: u8, unitId: u8, hasAddress: bool): void {
  const umasFunction = (functionCode & EXCEPTION_BIT) == 0 ? lastRequestUmasFunction() : -1;
  const result = addPending(
    state, transactionId, functionCode, unitId, hasAddress,
    lastRequestStartAddress(), lastRequestQuantity(), umasFunction, contextTsSec(), contextTsNsec(),
  );
  if (result == AddPendingResult.REPLACED_DUPLICATE) noteAnomaly(ModbusAnomaly.DUPLICATE_TRANSACTION_ID);
  else if (result == AddPendingResult.EVICTED_OLDEST) noteAnomaly(ModbusAnomaly.PENDING_OVERFLOW);
}

// Pairs a response with its pending request (0 when none has its
// transaction id and unit id): round-trip time, for reads and exceptions the
// address range the request named, and for UMAS the request's function.
function matchResponse(state: usize, request: usize, functionCode: u8): void {
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
  const umasFunction = pendingUmasFunction(request);
  if (umasFunction >= 0 && base == requestFunction) {
    fieldU64(ModbusField.UMAS_FUNCTION, umasFunction);
    fieldLiteral(ModbusField.UMAS_FUNCTION_NAME, umasFunctionName(<u8>umasFunction));
  }

  // Packet times only move forward within a flow, but a reordered capture
  // could break that, so a negative round trip is written as 0.
  const elapsedNs = (<i64>contextTsSec() - <i64>pendingTsSec(request)) * 1_000_000_000
    + (<i64>contextTsNsec() - <i64>pendingTsNsec(request));
  fieldU64(Field.RTT_US, elapsedNs > 0 ? <u64>(elapsedNs / 1000) : 0);
  releasePending(state, request);
}
