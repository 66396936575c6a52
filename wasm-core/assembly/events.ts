// Event writer: dissectors and models append fixed-layout records to the event
// buffer, which the host drains after each call to `processBatch`.
//
// Record layout (all integers little-endian):
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +---------------------------------------------------------------+
//   |                      length (whole record)                    |  0
//   +-------------------------------+-------------------------------+
//   |          record type          |          field count          |  4
//   +-------------------------------+-------------------------------+
//   |                   ts_sec (packet time, UTC)                   |  8
//   +---------------------------------------------------------------+
//   |                 ts_nsec (nanoseconds, < 1e9)                  | 12
//   +---------------------------------------------------------------+
//   |                 flow id (per core instance)                   | 16
//   +---------------+---------------+---------------+---------------+
//   |  ip version   |   transport   |     flags     |   reserved    | 20
//   +---------------+---------------+-------------------------------+
//   |      src port (originator)    |     dst port (responder)      | 24
//   +-------------------------------+-------------------------------+
//   |                src ip (16 bytes; IPv4 in the first 4)         | 28
//   |                dst ip (16 bytes; IPv4 in the first 4)         | 44
//   +---------------------------------------------------------------+
//   |  fields ...                                                   | 60
//
//   field: u16 field id | u8 value type | u8 reserved | u16 value length |
//          value bytes (length bytes, no padding)
//
// `src` and `dst` are always the flow's originator (client) and responder
// (server); flag bit 0 says whether the PDU itself travelled server to client.
// A record that ran out of buffer space keeps the fields written so far and
// carries flag bit 1.

import { RecordType, ValueType } from "../../protocols/fields";
import { countAnomaly, CoreAnomaly } from "./counters";
import { evaluateModels } from "./models";
import { utf16leToUtf8, textWasCut } from "../../protocols/text";
import { copyAddress } from "./packet";
import { beginIndexing, stopIndexing, indexWrittenField, forgetIndexedRecord } from "./record-index";

@inline export const RECORD_HEADER_BYTES: u32 = 60;
@inline export const FIELD_HEADER_BYTES: u32 = 6;
@inline export const FLAG_SERVER_TO_CLIENT: u8 = 1;
@inline export const FLAG_TRUNCATED: u8 = 2;

// Longest value stored for a text or bytes field; longer values are cut and
// counted as `event.field_truncated`.
@inline export const MAX_FIELD_VALUE_BYTES: u32 = 1024;

// Free space the core keeps before it dissects another packet. One packet can
// produce several records (an SMB2 compound chain), so this is far above one
// record's usual size.
@inline export const EVENT_RESERVE_BYTES: u32 = 65536;

let bufferBase: usize = 0;
let bufferCapacity: u32 = 0;
let bufferUsed: u32 = 0;

// Start of the record being written, or 0 when none is open, and its field
// count so far, stored into the header when the record closes.
let openRecord: usize = 0;
let openFieldCount: u32 = 0;
let openTruncated: bool = false;

// Packet context, set by the core before it hands bytes to a dissector.
let ctxTsSec: u32 = 0;
let ctxTsNsec: u32 = 0;
let ctxFlowId: u32 = 0;
let ctxIpVersion: u8 = 0;
let ctxTransport: u8 = 0;
let ctxSrcPort: u16 = 0;
let ctxDstPort: u16 = 0;
// 32 bytes: originator address then responder address.
let ctxAddresses: usize = 0;

// Allocates the event buffer. Called once from `configure`.
export function initEvents(capacity: u32): void {
  bufferBase = heap.alloc(<usize>capacity);
  bufferCapacity = capacity;
  bufferUsed = 0;
  if (ctxAddresses == 0) ctxAddresses = heap.alloc(32);
}

export function eventBufferBase(): usize { return bufferBase; }
export function eventBufferUsed(): u32 { return bufferUsed; }
// Bytes of closed records: all used bytes but a record still open.
export function eventBufferClosed(): u32 { return openRecord != 0 ? <u32>(openRecord - bufferBase) : bufferUsed; }
export function eventBufferFree(): u32 { return bufferCapacity - bufferUsed; }
export function resetEvents(): void { bufferUsed = 0; openRecord = 0; }

// Sets the flow and packet that records written next belong to. `src` and
// `dst` point to 16-byte addresses of the originator and the responder.
export function setRecordContext(
  tsSec: u32, tsNsec: u32, flowId: u32, ipVersion: u8, transport: u8,
  src: usize, srcPort: u16, dst: usize, dstPort: u16,
): void {
  ctxTsSec = tsSec;
  ctxTsNsec = tsNsec;
  ctxFlowId = flowId;
  ctxIpVersion = ipVersion;
  ctxTransport = transport;
  ctxSrcPort = srcPort;
  ctxDstPort = dstPort;
  copyAddress(ctxAddresses, src);
  copyAddress(ctxAddresses + 16, dst);
}

export function contextTsSec(): u32 { return ctxTsSec; }
export function contextTsNsec(): u32 { return ctxTsNsec; }
export function contextFlowId(): u32 { return ctxFlowId; }
export function contextSrcAddress(): usize { return ctxAddresses; }
export function contextDstAddress(): usize { return ctxAddresses + 16; }
export function contextIpVersion(): u8 { return ctxIpVersion; }
export function contextSrcPort(): u16 { return ctxSrcPort; }
export function contextDstPort(): u16 { return ctxDstPort; }

// Opens a record in the current packet context. Returns false, and counts
// `event.buffer_full`, when not even the header fits; the caller then skips
// its fields (every field call is a no-op while no record is open).
export function beginRecord(type: u16, serverToClient: bool): bool {
  if (openRecord != 0) endRecord();
  if (bufferCapacity - bufferUsed < RECORD_HEADER_BYTES) {
    countAnomaly(CoreAnomaly.EVENT_BUFFER_FULL);
    return false;
  }
  const p = bufferBase + <usize>bufferUsed;
  // endRecord writes the final length and field count.
  store<u32>(p, RECORD_HEADER_BYTES);
  store<u32>(p, <u32>type, 4);
  store<u32>(p, ctxTsSec, 8);
  store<u32>(p, ctxTsNsec, 12);
  store<u32>(p, ctxFlowId, 16);
  const flags: u32 = serverToClient ? FLAG_SERVER_TO_CLIENT : 0;
  store<u32>(p, <u32>ctxIpVersion | <u32>ctxTransport << 8 | flags << 16, 20);
  store<u32>(p, <u32>ctxSrcPort | <u32>ctxDstPort << 16, 24);
  copyAddress(p + 28, ctxAddresses);
  copyAddress(p + 44, ctxAddresses + 16);
  openRecord = p;
  openFieldCount = 0;
  openTruncated = false;
  bufferUsed += RECORD_HEADER_BYTES;
  // Alerts are written while the model engine reads the index of the record
  // that fired them, and are never scored themselves.
  if (type != RecordType.ALERT) beginIndexing(p);
  else stopIndexing();
  return true;
}

// Reserves a field header plus `valueLength` bytes and returns where the value
// goes, or 0 when no record is open or the buffer is full. Inlined into the
// field writers, which the dissectors call for every field.
@inline function reserveField(id: u16, valueType: u8, valueLength: u32): usize {
  if (openRecord == 0) return 0;
  const needed = FIELD_HEADER_BYTES + valueLength;
  if (bufferCapacity - bufferUsed < needed) {
    if (!openTruncated) countAnomaly(CoreAnomaly.EVENT_BUFFER_FULL);
    openTruncated = true;
    return 0;
  }
  const p = bufferBase + <usize>bufferUsed;
  store<u32>(p, <u32>id | <u32>valueType << 16);
  store<u16>(p, <u16>valueLength, 4);
  bufferUsed += needed;
  openFieldCount++;
  indexWrittenField(p, id);
  return p + FIELD_HEADER_BYTES;
}

// Inlined like reserveField: integer fields are the most common.
@inline export function fieldU64(id: u16, value: u64): void {
  const p = reserveField(id, ValueType.U64, 8);
  if (p != 0) store<u64>(p, value);
}

export function fieldI64(id: u16, value: i64): void {
  const p = reserveField(id, ValueType.I64, 8);
  if (p != 0) store<i64>(p, value);
}

export function fieldBool(id: u16, value: bool): void {
  const p = reserveField(id, ValueType.BOOL, 1);
  if (p != 0) store<u8>(p, value ? 1 : 0);
}

function cappedLength(length: u32): u32 {
  if (length > MAX_FIELD_VALUE_BYTES) {
    countAnomaly(CoreAnomaly.EVENT_FIELD_TRUNCATED);
    return MAX_FIELD_VALUE_BYTES;
  }
  return length;
}

// Copies text that is already UTF-8 or ASCII (the caller checked the bounds).
export function fieldText(id: u16, ptr: usize, length: u32): void {
  const n = cappedLength(length);
  const p = reserveField(id, ValueType.STR, n);
  if (p != 0) memory.copy(p, ptr, n);
}

export function fieldBytes(id: u16, ptr: usize, length: u32): void {
  const n = cappedLength(length);
  const p = reserveField(id, ValueType.BYTES, n);
  if (p != 0) memory.copy(p, ptr, n);
}

// Writes a static AssemblyScript string (a name from a table) as UTF-8. Table
// names are ASCII; any other code unit is written as '?'.
export function fieldLiteral(id: u16, s: string): void {
  const units = <u32>s.length;
  const n = cappedLength(units);
  const p = reserveField(id, ValueType.STR, n);
  if (p == 0) return;
  const src = changetype<usize>(s);
  let i: u32 = 0;
  // Four code units at a time while they are all ASCII: the low byte of
  // each is its UTF-8 byte, and the high bytes are zero, so two shifts
  // pack the four low bytes into the low half of the word.
  while (n - i >= 4) {
    const units4 = load<u64>(src + (<usize>i << 1));
    if ((units4 & 0xff80ff80ff80ff80) != 0) break;
    const pairs = (units4 | (units4 >> 8)) & 0x0000ffff0000ffff;
    store<u32>(p + <usize>i, <u32>(pairs | (pairs >> 16)));
    i += 4;
  }
  for (; i < n; i++) {
    const unit = load<u16>(src + (<usize>i << 1));
    store<u8>(p + <usize>i, unit < 0x80 ? <u8>unit : 0x3f);
  }
}

// Converts UTF-16LE text from the packet (SMB and NTLMSSP names) to UTF-8
// with the dissectors' shared conversion (protocols/text.ts). `byteLength` is
// the length in bytes; an odd trailing byte is ignored and an unpaired
// surrogate becomes U+FFFD. The output is capped like other values.
export function fieldUtf16le(id: u16, ptr: usize, byteLength: u32): void {
  // Worst case three UTF-8 bytes per UTF-16 code unit.
  let worst = (byteLength >> 1) * 3;
  if (worst > MAX_FIELD_VALUE_BYTES) worst = MAX_FIELD_VALUE_BYTES;
  const p = reserveField(id, ValueType.STR, worst);
  if (p == 0) return;
  const out = utf16leToUtf8(ptr, byteLength, p, worst);
  if (textWasCut()) countAnomaly(CoreAnomaly.EVENT_FIELD_TRUNCATED);
  // Give back the bytes reserved for the worst case but not used.
  store<u16>(p - 2, <u16>out);
  bufferUsed -= worst - out;
}

// Closes the open record, then lets the models score it. Returns the record's
// address in the event buffer, or 0 when no record was open.
export function endRecord(): usize {
  const p = openRecord;
  if (p == 0) return 0;
  store<u32>(p, <u32>(bufferBase + <usize>bufferUsed - p));
  store<u16>(p, <u16>openFieldCount, 6);
  if (openTruncated) store<u8>(p, load<u8>(p, 22) | FLAG_TRUNCATED, 22);
  openRecord = 0;
  stopIndexing();
  evaluateModels(p);
  return p;
}

// Discards the open record, for a dissector that found the PDU malformed after
// it began writing.
export function abandonRecord(): void {
  if (openRecord == 0) return;
  bufferUsed = <u32>(openRecord - bufferBase);
  openRecord = 0;
  stopIndexing();
  forgetIndexedRecord();
}

// Removes the closed records from byte `offset` of the event buffer to its
// end, so that the host never sees them (connection starts nobody alerted on).
export function dropRecordsFrom(offset: u32): void {
  if (openRecord != 0 || offset > bufferUsed) return;
  bufferUsed = offset;
}

// Finds the first value of field `id` in a closed record. Returns the address
// of the field header, or 0. Used by models to read the record they score.
export function findField(record: usize, id: u16): usize {
  const end = record + <usize>load<u32>(record);
  let p = record + RECORD_HEADER_BYTES;
  while (p + FIELD_HEADER_BYTES <= end) {
    if (load<u16>(p) == id) return p;
    p += <usize>FIELD_HEADER_BYTES + <usize>load<u16>(p, 4);
  }
  return 0;
}
