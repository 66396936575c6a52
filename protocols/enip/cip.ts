// CIP messages carried in EtherNet/IP unconnected and connected data: one
// record per message router request or response, and one more per request
// embedded in an Unconnected Send or a Multiple Service Packet.
//
// Specification: ODVA "The CIP Networks Library, Volume 1: Common
// Industrial Protocol" (message router requests and responses, request path
// segments, connection manager services, identity object). The Set_Attribute
// _Single request is checked against the ICSNPP-ENIP test capture.
//
// Message router request:  service (1) | path size in words (1) | path | data
// Message router response: service | 0x80 (1) | reserved (1) | general status (1) |
//                          additional status size in words (1) | additional status | data

import { fits } from "../api";
import { Field, RecordType } from "../fields";
import { countAnomaly } from "../../wasm-core/assembly/counters";
import { beginRecord, endRecord, fieldBool, fieldBytes, fieldLiteral, fieldText, fieldU64 } from "../../wasm-core/assembly/events";
import { writeDecimal } from "../s7comm/szl";
import { EnipAnomaly, EnipField } from "./fields";
import { writeEncapsulation } from "./enip";
import { freeOrOldest } from "../slot-table";

@inline const RESPONSE_BIT: u8 = 0x80;
// Services embedded in one Multiple Service Packet that get records.
@inline const MAX_EMBEDDED_SERVICES: u32 = 32;
// Unconnected Send and Multiple Service Packet levels followed inside one
// message; each level also consumes bytes, so the records stay bounded.
@inline const MAX_DEPTH: u32 = 2;
// Levels entered by the message being dissected.
let nestingDepth: u32 = 0;
// Path segments read per request path.
@inline const MAX_SEGMENTS: u32 = 16;

// Common services and connection manager services (class 6).
export namespace Service {
  @inline export const GET_ATTRIBUTES_ALL: u8 = 0x01;
  @inline export const SET_ATTRIBUTES_ALL: u8 = 0x02;
  @inline export const RESET: u8 = 0x05;
  @inline export const MULTIPLE_SERVICE_PACKET: u8 = 0x0a;
  @inline export const GET_ATTRIBUTE_SINGLE: u8 = 0x0e;
  @inline export const SET_ATTRIBUTE_SINGLE: u8 = 0x10;
  @inline export const FORWARD_CLOSE: u8 = 0x4e;
  @inline export const UNCONNECTED_SEND: u8 = 0x52;
  @inline export const FORWARD_OPEN: u8 = 0x54;
  @inline export const LARGE_FORWARD_OPEN: u8 = 0x5b;
}

@inline const CLASS_IDENTITY: u32 = 0x01;
@inline const CLASS_CONNECTION_MANAGER: u32 = 0x06;

function commonServiceName(service: u8): string {
  switch (service) {
    case 0x01: return "get_attributes_all";
    case 0x02: return "set_attributes_all";
    case 0x03: return "get_attribute_list";
    case 0x04: return "set_attribute_list";
    case 0x05: return "reset";
    case 0x06: return "start";
    case 0x07: return "stop";
    case 0x08: return "create";
    case 0x09: return "delete";
    case 0x0a: return "multiple_service_packet";
    case 0x0d: return "apply_attributes";
    case 0x0e: return "get_attribute_single";
    case 0x10: return "set_attribute_single";
    case 0x11: return "find_next_object_instance";
    case 0x14: return "error_response";
    case 0x15: return "restore";
    case 0x16: return "save";
    case 0x17: return "nop";
    case 0x18: return "get_member";
    case 0x19: return "set_member";
    case 0x1a: return "insert_member";
    case 0x1b: return "remove_member";
    case 0x1c: return "group_sync";
  }
  return "";
}

function connectionManagerServiceName(service: u8): string {
  switch (service) {
    case 0x4e: return "forward_close";
    case 0x52: return "unconnected_send";
    case 0x54: return "forward_open";
    case 0x56: return "get_connection_data";
    case 0x57: return "search_connection_data";
    case 0x5a: return "get_connection_owner";
    case 0x5b: return "large_forward_open";
  }
  return "";
}

// Service codes 0x4b-0x63 are object specific, so they get a name only
// when the class is known to be the connection manager.
function serviceName(service: u8, classId: u32, classKnown: bool): string {
  if (service < 0x4b) return commonServiceName(service);
  if (classKnown && classId == CLASS_CONNECTION_MANAGER) return connectionManagerServiceName(service);
  return "";
}

// Request path of the message being dissected, as parsePath found it.
let pathClass: u32 = 0;
let pathInstance: u32 = 0;
let pathAttribute: u32 = 0;
let pathHasClass = false;
let pathHasInstance = false;
let pathHasAttribute = false;

// Pending requests of a TCP flow, for naming responses: PENDING_MAX entries
// of 16 bytes in the area enip.ts hands over. An entry has the insertion
// sequence (u32 at 0, 0 when free), the service (u8 at 4), flags (u8 at 5:
// bit 0 class, 1 instance, 2 attribute), the attribute (u16 at 6), the class
// (u32 at 8) and the instance (u32 at 12). Responses on one session come in
// request order, so the oldest entry with the same service is the request.
// NOTE: responses inside a Multiple Service Packet are not matched, so they
// carry no class or instance.
@inline const PENDING_MAX: u32 = 6;
@inline const PENDING_ENTRY_BYTES: u32 = 16;
let pendingSequence: u32 = 0;

// Dissects the CIP message of `length` bytes at `p` and writes its records.
// `pending` is the flow's pending area or 0, and `embeddedIn` the service
// code of the Unconnected Send or Multiple Service Packet around it (0 at
// the top).
export function dissectCip(
  pending: usize, toServer: bool, p: usize, length: u32, connected: bool,
  connectionId: u32, sequence: u16, hasConnection: bool, embeddedIn: u8,
): void {
  if (length < 2) {
    countAnomaly(EnipAnomaly.CIP_TRUNCATED);
    return;
  }
  const serviceCode = load<u8>(p);
  const isResponse = (serviceCode & RESPONSE_BIT) != 0;
  const service = serviceCode & ~RESPONSE_BIT;

  beginRecord(RecordType.ENIP, !toServer);
  fieldLiteral(Field.PDU_TYPE, isResponse ? "response" : "request");
  writeEncapsulation();
  if (connected) {
    fieldBool(EnipField.CONNECTED, true);
    if (hasConnection) fieldU64(EnipField.CONNECTION_ID, connectionId);
    fieldU64(EnipField.SEQUENCE_NUMBER, sequence);
  }
  if (embeddedIn != 0) {
    fieldLiteral(EnipField.EMBEDDED, embeddedIn == Service.MULTIPLE_SERVICE_PACKET ? "multiple_service_packet" : "unconnected_send");
  }
  fieldU64(EnipField.SERVICE_CODE, serviceCode);

  if (isResponse) response(pending, toServer, p, length, service, embeddedIn);
  else request(pending, toServer, p, length, service, connected, embeddedIn);
}

// Closes the open record as truncated and counts enip.cip_truncated.
function endTruncated(): void {
  countAnomaly(EnipAnomaly.CIP_TRUNCATED);
  fieldBool(Field.TRUNCATED, true);
  endRecord();
}

function request(pending: usize, toServer: bool, p: usize, length: u32, service: u8, connected: bool, embeddedIn: u8): void {
  const pathBytes = <u32>load<u8>(p, 1) << 1;
  if (!fits(length, 2, pathBytes)) {
    endTruncated();
    return;
  }
  parsePath(p + 2, pathBytes, true);
  const name = serviceName(service, pathClass, pathHasClass);
  if (name != "") fieldLiteral(EnipField.SERVICE, name);
  const data = p + 2 + <usize>pathBytes;
  const dataLength = length - 2 - pathBytes;
  const isConnectionManager = pathHasClass && pathClass == CLASS_CONNECTION_MANAGER;

  // The outer request is remembered, except Unconnected Send: its reply is
  // the embedded request's reply.
  const classId = pathClass;
  const instanceId = pathInstance;
  let flags: u8 = (pathHasClass ? 1 : 0) | (pathHasInstance ? 2 : 0) | (pathHasAttribute ? 4 : 0);
  const attribute = pathAttribute;

  if (isConnectionManager && (service == Service.FORWARD_OPEN || service == Service.LARGE_FORWARD_OPEN)) {
    forwardOpen(data, dataLength, service == Service.LARGE_FORWARD_OPEN);
  } else if (isConnectionManager && service == Service.FORWARD_CLOSE) {
    forwardClose(data, dataLength);
  } else if (isConnectionManager && service == Service.UNCONNECTED_SEND) {
    unconnectedSend(pending, toServer, data, dataLength, embeddedIn);
    return;
  } else if (service == Service.MULTIPLE_SERVICE_PACKET) {
    if (dataLength >= 2) fieldU64(EnipField.SERVICE_COUNT, load<u16>(data));
    endRecord();
    remember(pending, service, flags, classId, instanceId, attribute);
    multipleServices(pending, toServer, data, dataLength, connected);
    return;
  }
  endRecord();
  if (embeddedIn != Service.MULTIPLE_SERVICE_PACKET) remember(pending, service, flags, classId, instanceId, attribute);
}

function response(pending: usize, toServer: bool, p: usize, length: u32, service: u8, embeddedIn: u8): void {
  if (length < 4) {
    endTruncated();
    return;
  }
  fieldU64(EnipField.GENERAL_STATUS, load<u8>(p, 2));
  const extendedBytes = <u32>load<u8>(p, 3) << 1;
  if (!fits(length, 4, extendedBytes)) {
    endTruncated();
    return;
  }
  for (let i: u32 = 0; i < extendedBytes; i += 2) fieldU64(EnipField.EXTENDED_STATUS, load<u16>(p + 4 + <usize>i));
  const data = p + 4 + <usize>extendedBytes;
  const dataLength = length - 4 - extendedBytes;

  let classId: u32 = 0;
  let classKnown = false;
  let instanceId: u32 = 0;
  if (embeddedIn != Service.MULTIPLE_SERVICE_PACKET) {
    const entry = findPending(pending, service);
    if (entry != 0) {
      const flags = load<u8>(entry, 5);
      classId = load<u32>(entry, 8);
      instanceId = load<u32>(entry, 12);
      classKnown = (flags & 1) != 0;
      if (classKnown) fieldU64(EnipField.CLASS_ID, classId);
      if ((flags & 2) != 0) fieldU64(EnipField.INSTANCE_ID, instanceId);
      if ((flags & 4) != 0) fieldU64(EnipField.ATTRIBUTE_ID, load<u16>(entry, 6));
      store<u32>(entry, 0);
    } else if (pending != 0) {
      countAnomaly(EnipAnomaly.UNMATCHED_RESPONSE);
    }
  }
  const name = serviceName(service, classId, classKnown);
  if (name != "") fieldLiteral(EnipField.SERVICE, name);

  const success = load<u8>(p, 2) == 0;
  if (success && classKnown && classId == CLASS_IDENTITY && service == Service.GET_ATTRIBUTES_ALL) {
    identityAttributes(data, dataLength);
  } else if (success && classKnown && classId == CLASS_CONNECTION_MANAGER
    && (service == Service.FORWARD_OPEN || service == Service.LARGE_FORWARD_OPEN) && dataLength >= 16) {
    fieldU64(EnipField.OT_CONNECTION_ID, load<u32>(data));
    fieldU64(EnipField.TO_CONNECTION_ID, load<u32>(data, 4));
    fieldU64(EnipField.CONNECTION_SERIAL, load<u16>(data, 8));
    fieldU64(EnipField.ORIGINATOR_VENDOR_ID, load<u16>(data, 10));
    fieldU64(EnipField.ORIGINATOR_SERIAL, load<u32>(data, 12));
  } else if (service == Service.MULTIPLE_SERVICE_PACKET) {
    if (dataLength >= 2) fieldU64(EnipField.SERVICE_COUNT, load<u16>(data));
    endRecord();
    multipleServices(pending, toServer, data, dataLength, false);
    return;
  }
  endRecord();
}

// Reads the request path: class, instance, attribute, member and
// connection point of the logical segments, the symbol of an ANSI extended
// symbol segment, and skips port, network and electronic key segments by
// their length. `write` writes the fields into the open record.
function parsePath(p: usize, length: u32, write: bool): void {
  pathHasClass = false;
  pathHasInstance = false;
  pathHasAttribute = false;
  let offset: u32 = 0;
  let segments: u32 = 0;
  // Each segment consumes at least two bytes, or the loop ends.
  while (offset < length && segments < MAX_SEGMENTS) {
    segments++;
    const s = p + <usize>offset;
    const left = length - offset;
    const type = load<u8>(s);
    const size = segmentSize(s, left);
    if (size == 0 || size > left) {
      countAnomaly(size == 0 ? EnipAnomaly.PATH_SEGMENT_UNKNOWN : EnipAnomaly.CIP_TRUNCATED);
      return;
    }
    if ((type & 0xe0) == 0x20 && (type & 0x1c) != 0x14) {
      // Logical segment: type in bits 4-2, format in bits 1-0.
      const format = type & 3;
      const value: u32 = format == 0 ? <u32>load<u8>(s, 1) : format == 1 ? <u32>load<u16>(s, 2) : load<u32>(s, 2);
      const logicalType = (type >> 2) & 7;
      if (logicalType == 0) {
        pathClass = value;
        pathHasClass = true;
        if (write) fieldU64(EnipField.CLASS_ID, value);
      } else if (logicalType == 1) {
        pathInstance = value;
        pathHasInstance = true;
        if (write) fieldU64(EnipField.INSTANCE_ID, value);
      } else if (logicalType == 2) {
        if (write) fieldU64(EnipField.MEMBER_ID, value);
      } else if (logicalType == 3) {
        if (write) fieldU64(EnipField.CONNECTION_POINT, value);
      } else if (logicalType == 4) {
        pathAttribute = value;
        pathHasAttribute = true;
        if (write) fieldU64(EnipField.ATTRIBUTE_ID, value);
      }
    } else if (type == 0x91 && write) {
      fieldText(EnipField.SYMBOL, s + 2, <u32>load<u8>(s, 1));
    }
    offset += size;
  }
}

// Returns the bytes of the segment at `s` (`left` bytes available, >= 1),
// or 0 for a segment type this parser cannot size.
function segmentSize(s: usize, left: u32): u32 {
  const type = load<u8>(s);
  const kind = type & 0xe0;
  if (kind == 0x00) {
    // Port segment: port id in bits 3-0 (15: a 16-bit port id follows),
    // bit 4 set for a link address with its own size byte.
    if (left < 2) return left + 1;
    const extendedPort = (type & 0x0f) == 0x0f;
    if ((type & 0x10) != 0) {
      const linkBytes = <u32>load<u8>(s, 1);
      let size = 2 + (extendedPort ? 2 : 0) + linkBytes;
      return size + (size & 1);
    }
    return extendedPort ? 4 : 2;
  }
  if (kind == 0x20) {
    if ((type & 0x1c) == 0x14) {
      // Logical special: electronic key format 4 is 10 bytes.
      if (left < 2) return left + 1;
      return load<u8>(s, 1) == 4 ? 10 : 0;
    }
    const format = type & 3;
    if (format == 0) return 2;
    if (format == 1) return 4;
    if (format == 2) return 6;
    return 0;
  }
  if (kind == 0x40) {
    // Network segment: 0x50-0x5f carry a word count.
    if ((type & 0xf0) == 0x50) return left < 2 ? left + 1 : 2 + (<u32>load<u8>(s, 1) << 1);
    return 2;
  }
  if (kind == 0x60) {
    const size = 1 + <u32>(type & 0x1f);
    return size + (size & 1);
  }
  if (type == 0x80) return left < 2 ? left + 1 : 2 + (<u32>load<u8>(s, 1) << 1);
  if (type == 0x91) {
    if (left < 2) return left + 1;
    const size = 2 + <u32>load<u8>(s, 1);
    return size + (size & 1);
  }
  return 0;
}

// Forward Open request: priority/time tick (1), timeout
// ticks (1), O->T connection id (4), T->O connection id (4), connection
// serial (2), originator vendor id (2), originator serial (4), timeout
// multiplier (1), reserved (3), O->T RPI (4), O->T parameters (2, or 4 in
// a Large Forward Open), T->O RPI (4), T->O parameters (2 or 4), transport
// type/trigger (1), connection path size in words (1), connection path.
function forwardOpen(p: usize, length: u32, large: bool): void {
  const parameterBytes: u32 = large ? 4 : 2;
  // OT parameters at 26, T->O RPI, T->O parameters, transport type at 30 + 2 * parameterBytes.
  const pathSizeAt: u32 = 31 + 2 * parameterBytes;
  if (length < pathSizeAt + 1) {
    countAnomaly(EnipAnomaly.CIP_TRUNCATED);
    return;
  }
  fieldU64(EnipField.OT_CONNECTION_ID, load<u32>(p, 2));
  fieldU64(EnipField.TO_CONNECTION_ID, load<u32>(p, 6));
  fieldU64(EnipField.CONNECTION_SERIAL, load<u16>(p, 10));
  fieldU64(EnipField.ORIGINATOR_VENDOR_ID, load<u16>(p, 12));
  fieldU64(EnipField.ORIGINATOR_SERIAL, load<u32>(p, 14));
  fieldU64(EnipField.OT_RPI_US, load<u32>(p, 22));
  fieldU64(EnipField.TO_RPI_US, load<u32>(p + 26 + <usize>parameterBytes));
  const pathBytes = <u32>load<u8>(p + <usize>pathSizeAt) << 1;
  const path = pathSizeAt + 1;
  fieldBytes(EnipField.CONNECTION_PATH, p + <usize>path, fits(length, path, pathBytes) ? pathBytes : length - path);
}

// Forward Close request: priority/time tick (1), timeout
// ticks (1), connection serial (2), originator vendor id (2), originator
// serial (4), connection path size in words (1), reserved (1), path.
function forwardClose(p: usize, length: u32): void {
  if (length < 12) {
    countAnomaly(EnipAnomaly.CIP_TRUNCATED);
    return;
  }
  fieldU64(EnipField.CONNECTION_SERIAL, load<u16>(p, 2));
  fieldU64(EnipField.ORIGINATOR_VENDOR_ID, load<u16>(p, 4));
  fieldU64(EnipField.ORIGINATOR_SERIAL, load<u32>(p, 6));
  const pathBytes = <u32>load<u8>(p, 10) << 1;
  fieldBytes(EnipField.CONNECTION_PATH, p + 12, fits(length, 12, pathBytes) ? pathBytes : length - 12);
}

// Unconnected Send request: priority/time tick (1), timeout
// ticks (1), embedded message size (2), embedded message, a pad byte when
// the size is odd, route path size in words (1), reserved (1), route path.
// Closes the outer record, then dissects the embedded request.
function unconnectedSend(pending: usize, toServer: bool, p: usize, length: u32, embeddedIn: u8): void {
  if (length < 4) {
    countAnomaly(EnipAnomaly.CIP_TRUNCATED);
    endRecord();
    return;
  }
  const messageBytes = <u32>load<u16>(p, 2);
  if (!fits(length, 4, messageBytes)) {
    countAnomaly(EnipAnomaly.CIP_TRUNCATED);
    endRecord();
    return;
  }
  const routeAt = 4 + messageBytes + (messageBytes & 1);
  if (fits(length, routeAt, 2)) {
    const routeBytes = <u32>load<u8>(p + <usize>routeAt) << 1;
    const route = routeAt + 2;
    fieldBytes(EnipField.ROUTE_PATH, p + <usize>route, fits(length, route, routeBytes) ? routeBytes : length - route);
  }
  endRecord();
  if (nestingDepth >= MAX_DEPTH) {
    countAnomaly(EnipAnomaly.NESTING_LIMIT);
    return;
  }
  nestingDepth++;
  dissectCip(pending, toServer, p + 4, messageBytes, false, 0, 0, false, Service.UNCONNECTED_SEND);
  nestingDepth--;
}

// Multiple Service Packet: service count (2), one offset (2)
// per service from the start of the count, then the services. The outer
// record is already closed; each embedded service gets its own record.
function multipleServices(pending: usize, toServer: bool, p: usize, length: u32, connected: bool): void {
  if (nestingDepth >= MAX_DEPTH) {
    countAnomaly(EnipAnomaly.NESTING_LIMIT);
    return;
  }
  if (length < 2) {
    countAnomaly(EnipAnomaly.CIP_TRUNCATED);
    return;
  }
  const count = <u32>load<u16>(p);
  if (count > MAX_EMBEDDED_SERVICES) countAnomaly(EnipAnomaly.SERVICE_LIMIT);
  // Each service is read once, and at most MAX_EMBEDDED_SERVICES are read.
  for (let i: u32 = 0; i < count && i < MAX_EMBEDDED_SERVICES; i++) {
    if (!fits(length, 2 + i * 2, 2)) {
      countAnomaly(EnipAnomaly.CIP_TRUNCATED);
      return;
    }
    const start = <u32>load<u16>(p + 2 + <usize>(i * 2));
    let end = length;
    if (i + 1 < count && fits(length, 2 + (i + 1) * 2, 2)) end = <u32>load<u16>(p + 2 + <usize>((i + 1) * 2));
    if (start >= end || end > length || start < 2 + count * 2) {
      countAnomaly(EnipAnomaly.SERVICE_OFFSET_INVALID);
      continue;
    }
    nestingDepth++;
    dissectCip(pending, toServer, p + <usize>start, end - start, connected, 0, 0, false, Service.MULTIPLE_SERVICE_PACKET);
    nestingDepth--;
  }
}

function remember(pending: usize, service: u8, flags: u8, classId: u32, instanceId: u32, attribute: u32): void {
  if (pending == 0) return;
  // A full table drops its oldest request, whose response then goes unnamed.
  const target = freeOrOldest(pending, PENDING_MAX, PENDING_ENTRY_BYTES, 0);
  pendingSequence++;
  if (pendingSequence == 0) pendingSequence = 1;
  store<u32>(target, pendingSequence);
  store<u8>(target, service, 4);
  store<u8>(target, flags, 5);
  store<u16>(target, <u16>attribute, 6);
  store<u32>(target, classId, 8);
  store<u32>(target, instanceId, 12);
}

// Returns the oldest pending request with this service, or 0.
function findPending(pending: usize, service: u8): usize {
  if (pending == 0) return 0;
  let found: usize = 0;
  for (let i: u32 = 0; i < PENDING_MAX; i++) {
    const entry = pending + <usize>(i * PENDING_ENTRY_BYTES);
    const sequence = load<u32>(entry);
    if (sequence == 0 || load<u8>(entry, 4) != service) continue;
    if (found == 0 || sequence - load<u32>(found) > 0x80000000) found = entry;
  }
  return found;
}

// "65535.255" at most, and 8 hex digits.
const scratchText = memory.data(16);

// Identity object attributes 1-7, as in Get_Attributes_All
// and the ListIdentity item: vendor id (2), device type (2), product code
// (2), revision major (1) and minor (1), status (2), serial number (4),
// product name (SHORT_STRING). Returns the bytes read, or 0 when short.
export function identityAttributes(p: usize, length: u32): u32 {
  if (length < 15) {
    countAnomaly(EnipAnomaly.ITEM_TRUNCATED);
    return 0;
  }
  fieldU64(EnipField.VENDOR_ID, load<u16>(p));
  fieldU64(EnipField.DEVICE_TYPE, load<u16>(p, 2));
  let n = writeDecimal(scratchText, 0, load<u16>(p, 4));
  fieldText(EnipField.PRODUCT_CODE, scratchText, n);
  n = writeDecimal(scratchText, 0, load<u8>(p, 6));
  store<u8>(scratchText + <usize>n, 0x2e);
  n = writeDecimal(scratchText, n + 1, load<u8>(p, 7));
  fieldText(EnipField.REVISION, scratchText, n);
  fieldU64(EnipField.DEVICE_STATUS, load<u16>(p, 8));
  const serial = load<u32>(p, 10);
  for (let i: u32 = 0; i < 8; i++) {
    const digit = <u8>((serial >> (28 - i * 4)) & 0xf);
    store<u8>(scratchText + <usize>i, digit < 10 ? 0x30 + digit : 0x61 + digit - 10);
  }
  fieldText(EnipField.SERIAL_NUMBER, scratchText, 8);
  const nameLength = <u32>load<u8>(p, 14);
  if (!fits(length, 15, nameLength)) {
    countAnomaly(EnipAnomaly.ITEM_TRUNCATED);
    return 0;
  }
  if (nameLength > 0) fieldText(EnipField.PRODUCT_NAME, p + 15, nameLength);
  return 15 + nameLength;
}
