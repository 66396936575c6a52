// EtherNet/IP encapsulation on TCP and UDP port 44818, and class 0/1 I/O
// data on UDP port 2222. One record per encapsulation message, or, when the
// message carries CIP, one per CIP message (cip.ts) with the encapsulation
// fields repeated in it.
//
// Specification: ODVA "The CIP Networks Library, Volume 2: EtherNet/IP
// Adaptation of CIP" (encapsulation protocol and common packet format). The
// ListIdentity and SendUnitData layouts are checked against the test
// captures. Encapsulation header, all integers little-endian:
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-------------------------------+-------------------------------+
//   |            command            |   length (data after header)  |
//   +-------------------------------+-------------------------------+
//   |                        session handle                         |
//   +---------------------------------------------------------------+
//   |                            status                             |
//   +---------------------------------------------------------------+
//   |                    sender context (8 bytes)                   |
//   |                                                               |
//   +---------------------------------------------------------------+
//   |                            options                            |
//   +---------------------------------------------------------------+
//   | command-specific data (length bytes) ...
//
// SendRRData and SendUnitData data: interface handle (4), timeout (2), then
// the common packet format: item count (2), items of type id (2), length
// (2) and data.

import { fits, PROBE_MATCH, PROBE_NEED_MORE, PROBE_NO_MATCH, readU16be, STREAM_NEED_MORE, STREAM_REJECT } from "../api";
import { Field, RecordType } from "../fields";
import { countAnomaly } from "../../wasm-core/assembly/counters";
import {
  beginRecord, endRecord, fieldBytes, fieldLiteral, fieldText, fieldU64, setRecordContext,
} from "../../wasm-core/assembly/events";
import { packetAddresses, packetIpVersion, packetTsNsec, packetTsSec } from "../../wasm-core/assembly/packet";
import { writeDecimal } from "../s7comm/szl";
import { EnipAnomaly, EnipField } from "./fields";
import { dissectCip, identityAttributes } from "./cip";

@inline export const PORT_ENIP: u16 = 44818;
@inline export const PORT_ENIP_IO: u16 = 2222;
@inline const IP_PROTOCOL_UDP: u8 = 17;

@inline const HEADER_BYTES: u32 = 24;
// A message up to this size is parsed whole, and a longer one from its
// first bytes. 4096 bytes is the smallest stream buffer the core accepts.
@inline const MESSAGE_PARSE_MAX: u32 = 4096;
// Common packet format items read per message; messages carry 2 to 4.
@inline const MAX_ITEMS: u32 = 8;

// Encapsulation commands.
export namespace Command {
  @inline export const NOP: u16 = 0x0000;
  @inline export const LIST_SERVICES: u16 = 0x0004;
  @inline export const LIST_IDENTITY: u16 = 0x0063;
  @inline export const LIST_INTERFACES: u16 = 0x0064;
  @inline export const REGISTER_SESSION: u16 = 0x0065;
  @inline export const UNREGISTER_SESSION: u16 = 0x0066;
  @inline export const SEND_RR_DATA: u16 = 0x006f;
  @inline export const SEND_UNIT_DATA: u16 = 0x0070;
  @inline export const INDICATE_STATUS: u16 = 0x0072;
  @inline export const CANCEL: u16 = 0x0073;
}

function commandName(command: u16): string {
  switch (command) {
    case Command.NOP: return "nop";
    case Command.LIST_SERVICES: return "list_services";
    case Command.LIST_IDENTITY: return "list_identity";
    case Command.LIST_INTERFACES: return "list_interfaces";
    case Command.REGISTER_SESSION: return "register_session";
    case Command.UNREGISTER_SESSION: return "unregister_session";
    case Command.SEND_RR_DATA: return "send_rr_data";
    case Command.SEND_UNIT_DATA: return "send_unit_data";
    case Command.INDICATE_STATUS: return "indicate_status";
    case Command.CANCEL: return "cancel";
  }
  return "";
}

// Common packet format item types.
@inline const ITEM_NULL_ADDRESS: u16 = 0x0000;
@inline const ITEM_LIST_IDENTITY: u16 = 0x000c;
@inline const ITEM_CONNECTED_ADDRESS: u16 = 0x00a1;
@inline const ITEM_CONNECTED_DATA: u16 = 0x00b1;
@inline const ITEM_UNCONNECTED_DATA: u16 = 0x00b2;
@inline const ITEM_LIST_SERVICES: u16 = 0x0100;
@inline const ITEM_SEQUENCED_ADDRESS: u16 = 0x8002;

@inline function readU16le(p: usize): u16 { return load<u16>(p); }
@inline function readU32le(p: usize): u32 { return load<u32>(p); }

// Flow state in a zeroed area of the small class (APP_STATE_SMALL_BYTES):
// flags at 0 (bit 0 rejected), resynchronising per direction at 1 and 2,
// and the CIP pending-request table of cip.ts from PENDING_AREA on.
@inline const FLAGS: usize = 0;
@inline const RESYNCING: usize = 1;
@inline const PENDING_AREA: usize = 8;
@inline export const ENIP_STATE_BYTES: u32 = <u32>PENDING_AREA + 112;

// The header of the message being dissected, for the records cip.ts writes.
let currentHeader: usize = 0;

@inline function knownCommand(command: u16): bool {
  return commandName(command) != "";
}

// Matches a header whose command is assigned and whose options are 0.
export function enipProbe(ptr: usize, length: u32, toServer: bool): i32 {
  if (length >= 2 && !knownCommand(readU16le(ptr))) return PROBE_NO_MATCH;
  if (length < HEADER_BYTES) return PROBE_NEED_MORE;
  return readU32le(ptr + 20) == 0 ? PROBE_MATCH : PROBE_NO_MATCH;
}

export function enipOnData(state: usize, toServer: bool, ptr: usize, length: u32): i32 {
  if ((load<u8>(state + FLAGS) & 1) != 0) return STREAM_REJECT;
  let consumed: u32 = 0;
  // Every pass consumes at least one byte or leaves the loop.
  while (fits(length, consumed, HEADER_BYTES)) {
    const p = ptr + <usize>consumed;
    const command = readU16le(p);
    const resyncSlot = state + RESYNCING + (toServer ? 0 : 1);
    if (!knownCommand(command) || readU32le(p + 20) != 0) {
      if (load<u8>(resyncSlot) != 0) {
        // After a gap, look for the next plausible header byte by byte.
        consumed++;
        continue;
      }
      countAnomaly(EnipAnomaly.COMMAND_UNKNOWN);
      store<u8>(state + FLAGS, 1);
      return consumed > 0 ? <i32>consumed : STREAM_REJECT;
    }
    store<u8>(resyncSlot, 0);
    const total = HEADER_BYTES + <u32>readU16le(p + 2);
    const remaining = length - consumed;
    if (fits(remaining, 0, total)) {
      dissectMessage(state + PENDING_AREA, toServer, p, total);
      consumed += total;
      continue;
    }
    if (total <= MESSAGE_PARSE_MAX || remaining < MESSAGE_PARSE_MAX) break;
    countAnomaly(EnipAnomaly.MESSAGE_PREFIX_ONLY);
    dissectMessage(state + PENDING_AREA, toServer, p, MESSAGE_PARSE_MAX);
    return <i32>(consumed + total);
  }
  return consumed == 0 ? STREAM_NEED_MORE : <i32>consumed;
}

export function enipOnGap(state: usize, toServer: bool): void {
  store<u8>(state + RESYNCING + (toServer ? 0 : 1), 1);
}

export function enipOnClose(state: usize): void {}

// Parses one UDP datagram to or from port 44818 (one encapsulation message)
// or 2222 (class 0/1 I/O data: a common packet format without encapsulation
// header), with the packet context of packet.ts.
export function enipOnUdp(srcPort: u16, dstPort: u16, payload: usize, length: u32): void {
  const servicePort = dstPort == PORT_ENIP || dstPort == PORT_ENIP_IO ? dstPort : srcPort;
  const toServer = dstPort == servicePort;
  const client = toServer ? packetAddresses : packetAddresses + 16;
  const server = toServer ? packetAddresses + 16 : packetAddresses;
  setRecordContext(packetTsSec, packetTsNsec, 0, packetIpVersion, IP_PROTOCOL_UDP,
    client, toServer ? srcPort : dstPort, server, servicePort);

  if (servicePort == PORT_ENIP_IO) {
    ioRecord(toServer, payload, length);
    return;
  }
  if (length < HEADER_BYTES || !knownCommand(readU16le(payload))) {
    countAnomaly(EnipAnomaly.DATAGRAM_TRUNCATED);
    return;
  }
  let total = HEADER_BYTES + <u32>readU16le(payload + 2);
  if (total > length) {
    countAnomaly(EnipAnomaly.DATAGRAM_TRUNCATED);
    total = length;
  }
  dissectMessage(0, toServer, payload, total);
}

// Writes the encapsulation header fields of the message being dissected
// into the open record.
export function writeEncapsulation(): void {
  const p = currentHeader;
  if (p == 0) return;
  const command = readU16le(p);
  fieldU64(EnipField.COMMAND, command);
  fieldLiteral(EnipField.COMMAND_NAME, commandName(command));
  fieldU64(EnipField.LENGTH, readU16le(p + 2));
  fieldU64(EnipField.SESSION_HANDLE, readU32le(p + 4));
  fieldU64(EnipField.STATUS, readU32le(p + 8));
  fieldBytes(EnipField.SENDER_CONTEXT, p + 12, 8);
  fieldU64(EnipField.OPTIONS, readU32le(p + 20));
}

// Dissects one message of `length` bytes (header included, checked >= 24).
// `pending` is the flow's CIP pending area, or 0 for a datagram.
function dissectMessage(pending: usize, toServer: bool, p: usize, length: u32): void {
  currentHeader = p;
  const command = readU16le(p);
  const data = p + HEADER_BYTES;
  const dataLength = length - HEADER_BYTES;
  if ((command == Command.SEND_RR_DATA || command == Command.SEND_UNIT_DATA) && dataLength >= 8) {
    sendData(pending, toServer, data + 6, dataLength - 6);
    currentHeader = 0;
    return;
  }

  beginRecord(RecordType.ENIP, !toServer);
  fieldLiteral(Field.PDU_TYPE, toServer ? "request" : "response");
  writeEncapsulation();
  if (command == Command.REGISTER_SESSION && dataLength >= 4) {
    fieldU64(EnipField.PROTOCOL_VERSION, readU16le(data));
  } else if (command == Command.LIST_IDENTITY || command == Command.LIST_SERVICES || command == Command.LIST_INTERFACES) {
    if (dataLength >= 2) listItems(data, dataLength);
  }
  endRecord();
  currentHeader = 0;
}

// Set by readItem: the type id and data length of the item it read.
let itemType: u16 = 0;
let itemSize: u32 = 0;

// Reads the common packet format item header at `offset`, writes its type id
// and sets itemType and itemSize. Returns false, and writes nothing, when the
// header or the item's data runs past `length`. Data past it also counts
// enip.item_truncated.
function readItem(p: usize, length: u32, offset: u32): bool {
  if (!fits(length, offset, 4)) return false;
  const type = readU16le(p + <usize>offset);
  const size = <u32>readU16le(p + <usize>offset + 2);
  if (!fits(length, offset + 4, size)) {
    countAnomaly(EnipAnomaly.ITEM_TRUNCATED);
    return false;
  }
  fieldU64(EnipField.ITEM_TYPE, type);
  itemType = type;
  itemSize = size;
  return true;
}

// Reads the items of a ListIdentity, ListServices or ListInterfaces reply.
function listItems(p: usize, length: u32): void {
  const count = <u32>readU16le(p);
  let offset: u32 = 2;
  // Each item consumes 4 + its length bytes, and at most MAX_ITEMS are read.
  for (let i: u32 = 0; i < count && i < MAX_ITEMS; i++) {
    if (!readItem(p, length, offset)) break;
    const item = p + <usize>offset + 4;
    if (itemType == ITEM_LIST_IDENTITY) identityItem(item, itemSize);
    else if (itemType == ITEM_LIST_SERVICES && itemSize >= 4) {
      fieldU64(EnipField.PROTOCOL_VERSION, readU16le(item));
      fieldU64(EnipField.CAPABILITY_FLAGS, readU16le(item + 2));
      textUpToNul(EnipField.SERVICE_NAME, item + 4, itemSize - 4);
    }
    offset += 4 + itemSize;
  }
}

// "255.255.255.255:65535" at most.
const socketText = memory.data(24);

// ListIdentity item: encapsulation version (2), socket
// address (16: sin_family, sin_port, sin_addr big-endian, 8 zero bytes),
// then the identity object's vendor id, device type, product code,
// revision, status, serial number and product name, and the state (1).
function identityItem(p: usize, length: u32): void {
  if (length < 18) {
    countAnomaly(EnipAnomaly.ITEM_TRUNCATED);
    return;
  }
  fieldU64(EnipField.PROTOCOL_VERSION, readU16le(p));
  let n: u32 = 0;
  for (let i: u32 = 0; i < 4; i++) {
    if (i > 0) {
      store<u8>(socketText + <usize>n, 0x2e);
      n++;
    }
    n = writeDecimal(socketText, n, load<u8>(p + 6 + <usize>i));
  }
  store<u8>(socketText + <usize>n, 0x3a);
  n = writeDecimal(socketText, n + 1, readU16be(p + 4));
  fieldText(EnipField.SOCKET_ADDRESS, socketText, n);
  const consumed = identityAttributes(p + 18, length - 18);
  if (consumed > 0 && fits(length - 18, consumed, 1)) fieldU64(EnipField.DEVICE_STATE, load<u8>(p + 18 + <usize>consumed));
}

function textUpToNul(id: u16, p: usize, length: u32): void {
  let end: u32 = 0;
  while (end < length && load<u8>(p + <usize>end) != 0) end++;
  if (end > 0) fieldText(id, p, end);
}

// SendRRData or SendUnitData: the common packet format items at `p`.
function sendData(pending: usize, toServer: bool, p: usize, length: u32): void {
  if (length < 2) return;
  const count = <u32>readU16le(p);
  if (count > MAX_ITEMS) countAnomaly(EnipAnomaly.ITEM_LIMIT);
  let connectionId: u32 = 0;
  let hasConnection = false;
  let offset: u32 = 2;
  let wrote = false;
  // Each item consumes 4 + its length bytes, and at most MAX_ITEMS are read.
  for (let i: u32 = 0; i < count && i < MAX_ITEMS; i++) {
    if (!fits(length, offset, 4)) break;
    const type = readU16le(p + <usize>offset);
    let size = <u32>readU16le(p + <usize>offset + 2);
    const item = p + <usize>offset + 4;
    const cut = !fits(length, offset + 4, size);
    if (cut) {
      // A data item cut by the capture or by the message prefix is still
      // decoded from the bytes present; the CIP decoder checks its bounds.
      countAnomaly(EnipAnomaly.ITEM_TRUNCATED);
      size = length - offset - 4;
      if ((type != ITEM_UNCONNECTED_DATA && type != ITEM_CONNECTED_DATA) || size < 3) break;
    }
    if ((type == ITEM_CONNECTED_ADDRESS || type == ITEM_SEQUENCED_ADDRESS) && size >= 4) {
      connectionId = readU32le(item);
      hasConnection = true;
    } else if (type == ITEM_UNCONNECTED_DATA && size >= 1) {
      dissectCip(pending, toServer, item, size, false, 0, 0, false, 0);
      wrote = true;
    } else if (type == ITEM_CONNECTED_DATA && size >= 3) {
      // Class 3 connected data starts with a 16-bit sequence count.
      dissectCip(pending, toServer, item + 2, size - 2, true, connectionId, readU16le(item), hasConnection, 0);
      wrote = true;
    }
    if (cut) break;
    offset += 4 + size;
  }
  if (!wrote) {
    beginRecord(RecordType.ENIP, !toServer);
    writeEncapsulation();
    if (hasConnection) fieldU64(EnipField.CONNECTION_ID, connectionId);
    endRecord();
  }
}

// Class 0/1 I/O datagram: a common packet format whose sequenced address item with the
// address item carries the connection id and sequence number, then the
// connected data item.
function ioRecord(toServer: bool, p: usize, length: u32): void {
  if (length < 2) {
    countAnomaly(EnipAnomaly.DATAGRAM_TRUNCATED);
    return;
  }
  beginRecord(RecordType.ENIP, !toServer);
  fieldLiteral(Field.PDU_TYPE, "io");
  const count = <u32>readU16le(p);
  let offset: u32 = 2;
  // Each item consumes 4 + its length bytes, and at most MAX_ITEMS are read.
  for (let i: u32 = 0; i < count && i < MAX_ITEMS; i++) {
    if (!readItem(p, length, offset)) break;
    const item = p + <usize>offset + 4;
    if (itemType == ITEM_SEQUENCED_ADDRESS && itemSize >= 8) {
      fieldU64(EnipField.CONNECTION_ID, readU32le(item));
      fieldU64(EnipField.SEQUENCE_NUMBER, readU32le(item + 4));
    } else if (itemType == ITEM_CONNECTED_ADDRESS && itemSize >= 4) {
      fieldU64(EnipField.CONNECTION_ID, readU32le(item));
    }
    offset += 4 + itemSize;
  }
  endRecord();
}
