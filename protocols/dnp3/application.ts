// DNP3 application layer: one record per application fragment, with the
// application header, internal indications, object headers and control
// points, and request/response matching by application sequence number.
//
// Specification: IEEE 1815-2012, clause 4 (application layer) and Annex A
// (object library).
//
// Request header:                  Response header:
//   +-----------+-----------+         +-----------+-----------+-----------+-----------+
//   | app ctrl  | func code |         | app ctrl  | func code |   IIN1    |   IIN2    |
//   +-----------+-----------+         +-----------+-----------+-----------+-----------+
//
// Application control:
//   +-----+-----+-----+-----+-----------------------+
//   | FIR | FIN | CON | UNS |        SEQ (4)        |
//   +-----+-----+-----+-----+-----------------------+
//
// Object header, then the range field and the objects:
//   +-----------+-----------+-----------------------------------+
//   |   group   | variation | qualifier: 0 | prefix (3) | range (4) |
//   +-----------+-----------+-----------------------------------+

import { fits } from "../api";
import { Field, RecordType } from "../fields";
import { countAnomaly } from "../../wasm-core/assembly/counters";
import {
  beginRecord, contextTsNsec, contextTsSec, endRecord, fieldBool, fieldI64, fieldLiteral, fieldText, fieldU64,
} from "../../wasm-core/assembly/events";
import { dnp3AnomalyName, Dnp3Anomaly, Dnp3Field } from "./fields";
import {
  addPending, findPending, pendingFunctionCode, pendingTsNsec, pendingTsSec, releasePending, takeDroppedFrames,
} from "./state";
import {
  attributeField, expectsResponse, fileModeName, FIRST_RESPONSE_CODE, functionName, headersOnly, iinFlagName, linkFunctionName, objectSize,
  operationTypeName, SIZE_ONE_BIT, SIZE_TWO_BITS, SIZE_UNKNOWN, tripCloseName,
} from "./tables";

// Object headers written per fragment. NOTE: 32 is an estimate (a class READ
// names four), and past it the walk stops with dnp3.object_header_limit.
@inline export const MAX_OBJECT_HEADERS: u32 = 32;
// Control points (CROB, analog output block) written per fragment.
@inline export const MAX_CONTROL_POINTS: u32 = 16;

@inline const REQUEST_HEADER_BYTES: u32 = 2;
@inline const RESPONSE_HEADER_BYTES: u32 = 4;

// The link frame that completed the fragment.
@unmanaged export class LinkContext {
  source: u16 = 0;
  destination: u16 = 0;
  control: u8 = 0;
  segments: u32 = 0;
  overflowed: bool = false;
}

let controlPoints: u32 = 0;

function noteAnomaly(id: u16): void {
  countAnomaly(id);
  fieldLiteral(Field.ANOMALY, dnp3AnomalyName(id));
}

// Writes the record of one complete application fragment at `p`.
export function dissectFragment(state: usize, toServer: bool, p: usize, length: u32, link: LinkContext): void {
  if (length < REQUEST_HEADER_BYTES) {
    countAnomaly(Dnp3Anomaly.APPLICATION_TRUNCATED);
    return;
  }
  const control = load<u8>(p);
  const functionCode = load<u8>(p, 1);
  const isResponse = functionCode >= FIRST_RESPONSE_CODE;
  const sequence = control & 0x0f;

  beginRecord(RecordType.DNP3, !toServer);
  fieldLiteral(Field.PDU_TYPE, isResponse ? "response" : "request");
  fieldU64(Dnp3Field.SOURCE_ADDRESS, link.source);
  fieldU64(Dnp3Field.DESTINATION_ADDRESS, link.destination);
  fieldU64(Dnp3Field.LINK_CONTROL, link.control);
  fieldLiteral(Dnp3Field.LINK_FUNCTION, linkFunctionName(link.control));
  fieldBool(Dnp3Field.LINK_DIR, (link.control & 0x80) != 0);
  fieldU64(Dnp3Field.APPLICATION_CONTROL, control);
  fieldBool(Dnp3Field.FIR, (control & 0x80) != 0);
  fieldBool(Dnp3Field.FIN, (control & 0x40) != 0);
  fieldBool(Dnp3Field.CON, (control & 0x20) != 0);
  fieldBool(Dnp3Field.UNS, (control & 0x10) != 0);
  fieldU64(Dnp3Field.SEQUENCE, sequence);
  fieldU64(Dnp3Field.FUNCTION_CODE, functionCode);
  fieldLiteral(Dnp3Field.FUNCTION, functionName(functionCode));
  fieldU64(Dnp3Field.FRAGMENT_BYTES, length);
  fieldU64(Dnp3Field.TRANSPORT_SEGMENTS, link.segments);
  const dropped = takeDroppedFrames(state, toServer);
  if (dropped > 0) fieldU64(Dnp3Field.DROPPED_FRAMES, dropped);
  if (link.overflowed) {
    fieldBool(Field.TRUNCATED, true);
    noteAnomaly(Dnp3Anomaly.FRAGMENT_TOO_LARGE);
  }

  let headerBytes = REQUEST_HEADER_BYTES;
  if (isResponse) {
    if (length < RESPONSE_HEADER_BYTES) {
      fieldBool(Field.TRUNCATED, true);
      noteAnomaly(Dnp3Anomaly.APPLICATION_TRUNCATED);
      endRecord();
      return;
    }
    writeIin((<u32>load<u8>(p, 2) << 8) | <u32>load<u8>(p, 3));
    headerBytes = RESPONSE_HEADER_BYTES;
    // An unsolicited response matches no request, and a fragment
    // without FIR continues a response already matched.
    if (functionCode != 0x82 && (control & 0x80) != 0) matchResponse(state, sequence, link);
  } else if (expectsResponse(functionCode)) {
    if (addPending(state, sequence, functionCode, link.source, link.destination, contextTsSec(), contextTsNsec())) {
      noteAnomaly(Dnp3Anomaly.PENDING_OVERFLOW);
    }
  }

  controlPoints = 0;
  walkObjects(p + <usize>headerBytes, length - headerBytes, functionCode, isResponse);
  endRecord();
}

function writeIin(iin: u32): void {
  fieldU64(Dnp3Field.IIN, iin);
  for (let bit: u32 = 15; bit < 16; bit--) {
    if ((iin & (1 << bit)) != 0) fieldLiteral(Dnp3Field.IIN_FLAG, iinFlagName(bit));
  }
}

// A response travels from the outstation (its source) to the master.
function matchResponse(state: usize, sequence: u8, link: LinkContext): void {
  const request = findPending(state, sequence, link.destination, link.source);
  if (request == 0) {
    noteAnomaly(Dnp3Anomaly.UNMATCHED_RESPONSE);
    return;
  }
  const code = pendingFunctionCode(request);
  fieldU64(Dnp3Field.REQUEST_FUNCTION_CODE, code);
  fieldLiteral(Dnp3Field.REQUEST_FUNCTION, functionName(code));
  // A reordered capture could put the response first, so a negative time is written as 0.
  const elapsedNs = (<i64>contextTsSec() - <i64>pendingTsSec(request)) * 1_000_000_000
    + (<i64>contextTsNsec() - <i64>pendingTsNsec(request));
  fieldU64(Field.RTT_US, elapsedNs > 0 ? <u64>(elapsedNs / 1000) : 0);
  releasePending(request);
}

// Bytes of an index or size prefix, or -1 for the reserved code 7.
function prefixBytes(prefixCode: u32): i32 {
  switch (prefixCode) {
    case 0: return 0;
    case 1: case 4: return 1;
    case 2: case 5: return 2;
    case 3: case 6: return 4;
  }
  return -1;
}

// Bytes of one start, stop or count value for range codes 0-5 and 7-9 and
// 0x0B: 1-octet codes 0, 3, 7 and 0x0B, 2-octet 1, 4 and 8.
function rangeFieldBytes(rangeCode: u32): u32 {
  switch (rangeCode) {
    case 0: case 3: case 7: case 0x0b: return 1;
    case 1: case 4: case 8: return 2;
  }
  return 4;
}

// Reads a little-endian unsigned value of 1, 2 or 4 bytes.
function readLe(p: usize, width: u32): u32 {
  if (width == 1) return <u32>load<u8>(p);
  if (width == 2) return <u32>load<u16>(p);
  return load<u32>(p);
}

function stopWalk(reason: string, anomaly: u16): void {
  fieldLiteral(Dnp3Field.OBJECTS_NOT_WALKED, reason);
  noteAnomaly(anomaly);
}

// Walks the object headers after the application header. Every pass
// consumes at least the 3-byte header or leaves the loop.
function walkObjects(p: usize, length: u32, functionCode: u8, isResponse: bool): void {
  let offset: u32 = 0;
  let headers: u32 = 0;
  while (offset < length) {
    if (headers == MAX_OBJECT_HEADERS) { stopWalk("header_limit", Dnp3Anomaly.OBJECT_HEADER_LIMIT); return; }
    if (!fits(length, offset, 3)) { stopWalk("truncated", Dnp3Anomaly.OBJECTS_TRUNCATED); return; }
    const group = load<u8>(p + <usize>offset);
    const variation = load<u8>(p + <usize>offset, 1);
    const qualifier = load<u8>(p + <usize>offset, 2);
    offset += 3;
    const prefixCode = (<u32>qualifier >> 4) & 7;
    const rangeCode = <u32>qualifier & 0x0f;

    // Range field.
    let start: u32 = 0;
    let stop: u32 = 0;
    let count: u64 = 0;
    let hasRange = false;
    if (rangeCode <= 5) {
      const width = rangeFieldBytes(rangeCode);
      if (!fits(length, offset, width * 2)) { stopWalk("truncated", Dnp3Anomaly.OBJECTS_TRUNCATED); return; }
      start = readLe(p + <usize>offset, width);
      stop = readLe(p + <usize>(offset + width), width);
      offset += width * 2;
      hasRange = true;
      if (stop < start) {
        writeHeader(group, variation, qualifier, start, stop, 0);
        stopWalk("range_invalid", Dnp3Anomaly.OBJECT_RANGE_INVALID);
        return;
      }
      count = <u64>(stop - start) + 1;
    } else if (rangeCode >= 7 && rangeCode <= 9 || rangeCode == 0x0b) {
      const width = rangeFieldBytes(rangeCode);
      if (!fits(length, offset, width)) { stopWalk("truncated", Dnp3Anomaly.OBJECTS_TRUNCATED); return; }
      count = <u64>readLe(p + <usize>offset, width);
      offset += width;
    } else if (rangeCode != 6) {
      writeHeader(group, variation, qualifier, 0, 0, 0);
      stopWalk("qualifier_reserved", Dnp3Anomaly.QUALIFIER_RESERVED);
      return;
    }
    writeHeader(group, variation, qualifier, start, stop, count);
    headers++;
    if (rangeCode == 6) continue; // all objects: nothing follows

    const prefix = prefixBytes(prefixCode);
    if (prefix < 0) { stopWalk("qualifier_reserved", Dnp3Anomaly.QUALIFIER_RESERVED); return; }

    if (group == 0 && prefixCode == 0 && !(!isResponse && headersOnly(functionCode))) {
      // Device attributes carry their own data type and length.
      const walked = walkDeviceAttributes(p, length, offset, count, variation);
      if (walked < 0) { stopWalk("truncated", Dnp3Anomaly.OBJECTS_TRUNCATED); return; }
      offset = <u32>walked;
      continue;
    }

    if (prefixCode >= 4) {
      // Each object carries its own size: file and authentication objects,
      // free-format octet strings.
      const walked = walkSizedObjects(p, length, offset, <u32>prefix, count, group, variation);
      if (walked < 0) { stopWalk("truncated", Dnp3Anomaly.OBJECTS_TRUNCATED); return; }
      offset = <u32>walked;
      continue;
    }

    let size = objectSize(group, variation);
    // Requests such as READ name objects without their values.
    if (!isResponse && headersOnly(functionCode)) size = 0;
    let bytes: u64;
    if (size == SIZE_UNKNOWN) {
      stopWalk("unknown_object_size", Dnp3Anomaly.UNKNOWN_OBJECT_SIZE);
      return;
    } else if (size == SIZE_ONE_BIT || size == SIZE_TWO_BITS) {
      if (prefix != 0) { stopWalk("unknown_object_size", Dnp3Anomaly.UNKNOWN_OBJECT_SIZE); return; }
      const bits = size == SIZE_ONE_BIT ? count : count * 2;
      bytes = (bits + 7) >> 3;
    } else {
      bytes = count * <u64>(<u32>prefix + <u32>size);
    }
    if (<u64>offset + bytes > <u64>length) { stopWalk("truncated", Dnp3Anomaly.OBJECTS_TRUNCATED); return; }
    if (size > 0 && (group == 12 && variation == 1 || group == 41)) {
      writeControls(p + <usize>offset, <u32>count, <u32>prefix, <u32>size, hasRange ? start : 0, group, variation);
    }
    offset += <u32>bytes;
  }
}

// Walks `count` objects that each start with a size prefix of `width`
// bytes, and writes the file command objects among them. Returns the offset
// after them, or -1 when they run past `length`.
function walkSizedObjects(p: usize, length: u32, offset: u32, width: u32, count: u64, group: u8, variation: u8): i64 {
  let at = offset;
  for (let i: u64 = 0; i < count; i++) {
    if (!fits(length, at, width)) return -1;
    const size = readLe(p + <usize>at, width);
    at += width;
    if (!fits(length, at, size)) return -1;
    if (group == 70 && variation == 3) writeFileCommand(p + <usize>at, size);
    at += size;
  }
  return <i64>at;
}

// File command object (g70v3), little-endian:
//   name offset u16 | name size u16 | creation time (6) | permissions u16 |
//   authentication key u32 | file size u32 | operational mode u16 |
//   maximum block size u16 | request id u16 | file name (name size octets)
// The name offset counts from the start of the object.
@inline const FILE_COMMAND_FIXED_BYTES: u32 = 26;

function writeFileCommand(object: usize, size: u32): void {
  if (size < FILE_COMMAND_FIXED_BYTES) return;
  const nameOffset = <u32>load<u16>(object);
  const nameSize = <u32>load<u16>(object, 2);
  if (nameSize > 0 && fits(size, nameOffset, nameSize)) fieldText(Dnp3Field.FILE_NAME, object + <usize>nameOffset, nameSize);
  fieldU64(Dnp3Field.FILE_SIZE, load<u32>(object, 16));
  fieldLiteral(Dnp3Field.FILE_MODE, fileModeName(load<u16>(object, 20)));
}

// Device attribute objects (group 0): data type code u8 | length u8 | value.
// Visible strings (data type 1) of the identity variations become the
// inventory's identity fields. Returns the offset after the objects, or -1.
@inline const ATTRIBUTE_VISIBLE_STRING: u8 = 1;

function walkDeviceAttributes(p: usize, length: u32, offset: u32, count: u64, variation: u8): i64 {
  let at = offset;
  for (let i: u64 = 0; i < count; i++) {
    if (!fits(length, at, 2)) return -1;
    const dataType = load<u8>(p + <usize>at);
    const valueBytes = <u32>load<u8>(p + <usize>at, 1);
    at += 2;
    if (!fits(length, at, valueBytes)) return -1;
    const field = attributeField(variation);
    if (field != 0 && dataType == ATTRIBUTE_VISIBLE_STRING && valueBytes > 0) fieldText(field, p + <usize>at, valueBytes);
    at += valueBytes;
  }
  return <i64>at;
}

// Writes control relay output blocks (g12v1) and analog output blocks (g41),
// laid out as in Annex A:
//   g12v1: control code | count | on-time (u32 ms) | off-time (u32 ms) | status
//   g41v1: value (i32) | status,  v2: value (i16) | status,  v3 and v4: float | status
// The point index is the prefix when there is one, else start + position.
function writeControls(p: usize, count: u32, prefix: u32, size: u32, start: u32, group: u8, variation: u8): void {
  const stride = prefix + size;
  for (let i: u32 = 0; i < count; i++) {
    if (controlPoints >= MAX_CONTROL_POINTS) return;
    controlPoints++;
    const object = p + <usize>(i * stride);
    fieldU64(Dnp3Field.POINT_INDEX, prefix > 0 ? readLe(object, prefix) : start + i);
    const value = object + <usize>prefix;
    if (group == 12) {
      const code = load<u8>(value);
      fieldU64(Dnp3Field.CONTROL_CODE, code);
      fieldLiteral(Dnp3Field.OPERATION_TYPE, operationTypeName(code));
      fieldLiteral(Dnp3Field.TRIP_CLOSE_CODE, tripCloseName(code));
      fieldU64(Dnp3Field.EXECUTE_COUNT, load<u8>(value, 1));
      fieldU64(Dnp3Field.ON_TIME, load<u32>(value, 2));
      fieldU64(Dnp3Field.OFF_TIME, load<u32>(value, 6));
      fieldU64(Dnp3Field.CONTROL_STATUS, load<u8>(value, 10) & 0x7f);
      continue;
    }
    // NOTE: the floating-point variations (3 and 4) report their status
    // only; the core has no allocation-free float formatting yet.
    if (variation == 1) fieldI64(Dnp3Field.ANALOG_VALUE, <i64>load<i32>(value));
    else if (variation == 2) fieldI64(Dnp3Field.ANALOG_VALUE, <i64>load<i16>(value));
    fieldU64(Dnp3Field.CONTROL_STATUS, load<u8>(value + <usize>(size - 1)) & 0x7f);
  }
}

function writeHeader(group: u8, variation: u8, qualifier: u8, start: u32, stop: u32, count: u64): void {
  fieldU64(Dnp3Field.OBJECT_GROUP, group);
  fieldU64(Dnp3Field.OBJECT_VARIATION, variation);
  fieldU64(Dnp3Field.OBJECT_QUALIFIER, qualifier);
  fieldU64(Dnp3Field.OBJECT_RANGE_START, start);
  fieldU64(Dnp3Field.OBJECT_RANGE_STOP, stop);
  fieldU64(Dnp3Field.OBJECT_COUNT, count);
}
