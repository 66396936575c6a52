// S7comm and S7comm-plus PDUs, as carried in the COTP data of one TSDU.
//
// Siemens publishes no S7comm specification. The layouts below are the
// community-documented ones, checked against the test captures where those
// contain the PDU (all but the download functions and the security group).
//
// S7comm header (all integers big-endian):
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +---------------+---------------+-------------------------------+
//   | protocol 0x32 |    ROSCTR     |   redundancy identification   |
//   +---------------+---------------+-------------------------------+
//   |         PDU reference         |       parameter length        |
//   +-------------------------------+---------------+---------------+
//   |          data length          | error class   | error code    |
//   +-------------------------------+---------------+---------------+
//   | parameter ... | data ...         (error bytes: ack and ack-data only)
//
// S7comm-plus header: protocol 0x72, version, data length (2). With version
// 1 the data starts with opcode (1), reserved (2), function (2), reserved
// (2) and sequence number (2). Later versions put an integrity part first.

import { fits, readU16be, readU32be } from "../api";
import { Field, RecordType } from "../fields";
import { countAnomaly } from "../../wasm-core/assembly/counters";
import {
  beginRecord, contextTsNsec, contextTsSec, endRecord, fieldBool, fieldLiteral, fieldText, fieldU64,
} from "../../wasm-core/assembly/events";
import { S7Anomaly, S7Field } from "./fields";
import {
  areaName, blockTypeName, rosctrName, functionName, groupName, Rosctr, S7Function, subFunctionName, UserDataGroup,
  userDataBlockTypeName,
} from "./tables";
import { identityFromSzl } from "./szl";

@inline export const S7_PROTOCOL_ID: u8 = 0x32;
@inline export const S7_PLUS_PROTOCOL_ID: u8 = 0x72;
@inline const HEADER_BYTES: u32 = 10;
@inline const ACK_HEADER_BYTES: u32 = 12;
// Read/write var items decoded per PDU. A 960-byte PDU has room for at most
// 79 S7ANY items of 12 bytes, and the test captures send up to 5.
@inline const MAX_ITEMS: u32 = 32;
// S7ANY variable specification: 0x12, length 10, syntax id 0x10.
@inline const SYNTAX_S7ANY: u8 = 0x10;

// Pending requests for matching by PDU reference, in the area s7comm.ts
// hands over: u32 insertion counter at 0, then PENDING_MAX entries of
// PENDING_ENTRY_BYTES from offset 16: sequence u32 (0 when free), ts_sec u32,
// ts_nsec u32, PDU reference u16, ROSCTR u8.
@inline const PENDING_MAX: u32 = 16;
@inline const PENDING_ENTRY_BYTES: u32 = 16;
@inline const PENDING_TABLE: usize = 16;
// After the table: a multi-part user-data response is open (u8), and its
// data unit reference (u8).
@inline const MULTI_PART_OPEN: usize = PENDING_TABLE + <usize>(PENDING_MAX * PENDING_ENTRY_BYTES);
@inline const MULTI_PART_REFERENCE: usize = MULTI_PART_OPEN + 1;

@inline function validRosctr(rosctr: u8): bool {
  return rosctr == Rosctr.JOB || rosctr == Rosctr.ACK || rosctr == Rosctr.ACK_DATA || rosctr == Rosctr.USER_DATA;
}

// Checks the first 10 bytes at `p` (the caller checked they exist).
export function plausibleS7Header(p: usize): bool {
  return load<u8>(p) == S7_PROTOCOL_ID && validRosctr(load<u8>(p, 1));
}

// Writes one record for the PDU of `length` bytes at `p`.
export function dissectS7Pdu(pending: usize, toServer: bool, p: usize, length: u32): void {
  const id = load<u8>(p);
  if (id == S7_PLUS_PROTOCOL_ID) {
    plusRecord(toServer, p, length);
    return;
  }
  if (id != S7_PROTOCOL_ID) {
    countAnomaly(S7Anomaly.UNKNOWN_PROTOCOL_ID);
    return;
  }
  if (length < HEADER_BYTES) {
    countAnomaly(S7Anomaly.PDU_TRUNCATED);
    return;
  }
  const rosctr = load<u8>(p, 1);
  const reference = readU16be(p + 4);
  const parameterLength = <u32>readU16be(p + 6);
  const dataLength = <u32>readU16be(p + 8);
  const hasError = rosctr == Rosctr.ACK || rosctr == Rosctr.ACK_DATA;
  const headerBytes = hasError ? ACK_HEADER_BYTES : HEADER_BYTES;

  beginRecord(RecordType.S7COMM, !toServer);
  fieldLiteral(S7Field.PROTOCOL_VARIANT, "s7comm");
  fieldU64(S7Field.ROSCTR, rosctr);
  const rosctrText = rosctrName(rosctr);
  fieldLiteral(S7Field.ROSCTR_NAME, rosctrText != "" ? rosctrText : "unknown");
  fieldU64(S7Field.PDU_REFERENCE, reference);
  if (!validRosctr(rosctr)) {
    countAnomaly(S7Anomaly.ROSCTR_UNKNOWN);
    endRecord();
    return;
  }
  if (!fits(length, 0, headerBytes) || !fits(length - headerBytes, 0, parameterLength)) {
    countAnomaly(S7Anomaly.PDU_TRUNCATED);
    fieldBool(Field.TRUNCATED, true);
    endRecord();
    return;
  }
  if (hasError) {
    fieldU64(S7Field.ERROR_CLASS, load<u8>(p, 10));
    fieldU64(S7Field.ERROR_CODE, load<u8>(p, 11));
  }
  const parameter = p + <usize>headerBytes;
  let available = length - headerBytes - parameterLength;
  if (dataLength > available) {
    countAnomaly(S7Anomaly.PDU_TRUNCATED);
    fieldBool(Field.TRUNCATED, true);
  } else {
    available = dataLength;
  }
  const data = parameter + <usize>parameterLength;

  let isRequest = rosctr == Rosctr.JOB;
  if (rosctr == Rosctr.USER_DATA) {
    const type = parameterLength >= 8 ? load<u8>(parameter, 5) >> 4 : 0;
    isRequest = type == 4;
    if (type == 4 || type == 8) fieldLiteral(Field.PDU_TYPE, isRequest ? "request" : "response");
    userData(pending, parameter, parameterLength, data, available, isRequest);
  } else {
    fieldLiteral(Field.PDU_TYPE, isRequest ? "request" : "response");
    if (parameterLength >= 1) jobOrAckData(rosctr, parameter, parameterLength, data, available);
  }

  const isResponse = hasError || (rosctr == Rosctr.USER_DATA && !isRequest && parameterLength >= 8
    && (load<u8>(parameter, 5) >> 4) == 8);
  if (isRequest) rememberRequest(pending, reference, rosctr);
  else if (isResponse) matchResponse(pending, reference);
  endRecord();
}


// Job and ack-data: the function code is parameter byte 0 in both.
function jobOrAckData(rosctr: u8, parameter: usize, parameterLength: u32, data: usize, dataLength: u32): void {
  const code = load<u8>(parameter);
  fieldU64(S7Field.FUNCTION_CODE, code);
  const name = functionName(code);
  if (name != "") fieldLiteral(S7Field.FUNCTION, name);
  const isJob = rosctr == Rosctr.JOB;

  switch (code) {
    case S7Function.SETUP_COMMUNICATION:
      if (parameterLength >= 8) {
        fieldU64(S7Field.MAX_AMQ_CALLING, readU16be(parameter + 2));
        fieldU64(S7Field.MAX_AMQ_CALLED, readU16be(parameter + 4));
        fieldU64(S7Field.PDU_LENGTH, readU16be(parameter + 6));
      }
      break;
    case S7Function.READ_VAR:
    case S7Function.WRITE_VAR:
      if (parameterLength < 2) break;
      fieldU64(S7Field.ITEM_COUNT, load<u8>(parameter, 1));
      if (isJob) variableItems(parameter, parameterLength);
      else returnCodes(code, load<u8>(parameter, 1), data, dataLength);
      break;
    case S7Function.REQUEST_DOWNLOAD:
    case S7Function.DOWNLOAD_BLOCK:
    case S7Function.DOWNLOAD_ENDED:
    case S7Function.START_UPLOAD:
    case S7Function.UPLOAD:
    case S7Function.END_UPLOAD:
      blockTransfer(code, isJob, parameter, parameterLength);
      break;
    case S7Function.PLC_CONTROL:
      // fc, 7 reserved bytes, parameter block length (2), parameter block,
      // PI service name length (1), PI service name.
      if (isJob && parameterLength >= 10) {
        const blockLength = <u32>readU16be(parameter + 8);
        piService(parameter, parameterLength, 10 + blockLength);
      }
      break;
    case S7Function.PLC_STOP:
      // fc, 5 reserved bytes, PI service name length (1), PI service name.
      if (isJob) piService(parameter, parameterLength, 6);
      break;
  }
}

// Writes the PI service name whose length byte is at `offset`.
function piService(parameter: usize, parameterLength: u32, offset: u32): void {
  if (!fits(parameterLength, offset, 1)) {
    countAnomaly(S7Anomaly.PARAMETER_TRUNCATED);
    return;
  }
  const size = <u32>load<u8>(parameter + <usize>offset);
  if (!fits(parameterLength, offset + 1, size)) {
    countAnomaly(S7Anomaly.PARAMETER_TRUNCATED);
    return;
  }
  fieldText(S7Field.PI_SERVICE, parameter + <usize>(offset + 1), size);
}

// Read/write var request items: address of each S7ANY item.
function variableItems(parameter: usize, parameterLength: u32): void {
  const count = <u32>load<u8>(parameter, 1);
  if (count > MAX_ITEMS) countAnomaly(S7Anomaly.ITEM_LIMIT);
  let offset: u32 = 2;
  // Each item consumes 2 + its length bytes, and at most MAX_ITEMS are read.
  for (let i: u32 = 0; i < count && i < MAX_ITEMS; i++) {
    if (!fits(parameterLength, offset, 2)) {
      countAnomaly(S7Anomaly.PARAMETER_TRUNCATED);
      return;
    }
    const itemLength = <u32>load<u8>(parameter + <usize>offset, 1);
    if (!fits(parameterLength, offset + 2, itemLength)) {
      countAnomaly(S7Anomaly.PARAMETER_TRUNCATED);
      return;
    }
    const item = parameter + <usize>offset;
    if (itemLength >= 10 && load<u8>(item, 2) == SYNTAX_S7ANY) {
      const area = load<u8>(item, 8);
      const address = (<u32>load<u8>(item, 9) << 16) | (<u32>load<u8>(item, 10) << 8) | <u32>load<u8>(item, 11);
      fieldU64(S7Field.TRANSPORT_SIZE, load<u8>(item, 3));
      fieldU64(S7Field.ITEM_LENGTH, readU16be(item + 4));
      fieldU64(S7Field.DB_NUMBER, readU16be(item + 6));
      fieldU64(S7Field.AREA, area);
      const name = areaName(area);
      fieldLiteral(S7Field.AREA_NAME, name != "" ? name : "unknown");
      fieldU64(S7Field.START_BYTE, address >> 3);
      fieldU64(S7Field.START_BIT, address & 7);
    }
    offset += 2 + itemLength;
  }
}

// Ack-data of read/write var: one return code per item. Read var items carry
// return code, transport size, length and the value, padded to an even length.
function returnCodes(code: u8, count: u8, data: usize, dataLength: u32): void {
  let offset: u32 = 0;
  // Each item consumes at least one byte, and at most MAX_ITEMS are read.
  for (let i: u32 = 0; i < <u32>count && i < MAX_ITEMS; i++) {
    if (!fits(dataLength, offset, 1)) return;
    fieldU64(S7Field.RETURN_CODE, load<u8>(data + <usize>offset));
    if (code == S7Function.WRITE_VAR) {
      offset += 1;
      continue;
    }
    if (!fits(dataLength, offset, 4)) return;
    const transportSize = load<u8>(data + <usize>offset, 1);
    let valueBytes = <u32>readU16be(data + <usize>offset + 2);
    // Transport sizes 3 (bit), 4 (byte/word/dword) and 5 (integer) count bits.
    if (transportSize == 3 || transportSize == 4 || transportSize == 5) valueBytes = (valueBytes + 7) >> 3;
    offset += 4 + valueBytes;
    if ((valueBytes & 1) != 0) offset += 1;
  }
}

// Download and upload functions. Bytes after the function code: function
// status (1), reserved or error code (2), upload id or reserved (4), then
// for request download, download block, download ended and a start upload
// job the file name length (1) and name; a start upload ack-data has the
// block length as ASCII digits there instead.
function blockTransfer(code: u8, isJob: bool, parameter: usize, parameterLength: u32): void {
  if (parameterLength < 2) return;
  fieldU64(S7Field.FUNCTION_STATUS, load<u8>(parameter, 1));
  if (parameterLength < 8) return;
  const hasUploadId = code == S7Function.START_UPLOAD || code == S7Function.UPLOAD || code == S7Function.END_UPLOAD;
  if (hasUploadId) fieldU64(S7Field.UPLOAD_ID, readU32be(parameter + 4));
  if (!fits(parameterLength, 8, 1)) return;
  const size = <u32>load<u8>(parameter, 8);
  if (!fits(parameterLength, 9, size)) {
    countAnomaly(S7Anomaly.PARAMETER_TRUNCATED);
    return;
  }
  const text = parameter + 9;
  if (code == S7Function.START_UPLOAD && !isJob) {
    fieldU64(S7Field.BLOCK_LENGTH, decimal(text, size));
    return;
  }
  if (!isJob || code == S7Function.UPLOAD || code == S7Function.END_UPLOAD) return;
  fieldText(S7Field.FILENAME, text, size);
  // "_" block type (2 hex digits), block number (5 digits), file system (1).
  if (size < 9 || load<u8>(text) != 0x5f) return;
  const typeCode = (hexDigit(load<u8>(text, 1)) << 4) | hexDigit(load<u8>(text, 2));
  const typeName = blockTypeName(typeCode);
  if (typeName != "") fieldLiteral(S7Field.BLOCK_TYPE, typeName);
  else fieldText(S7Field.BLOCK_TYPE, text + 1, 2);
  fieldU64(S7Field.BLOCK_NUMBER, decimal(text + 3, 5));
  fieldText(S7Field.DESTINATION_FILESYSTEM, text + 8, 1);
}

// Value of a hex digit, or 0xff for another byte.
function hexDigit(c: u8): u32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  return 0xff;
}

// Value of ASCII decimal digits; other bytes are skipped.
function decimal(p: usize, length: u32): u64 {
  let value: u64 = 0;
  for (let i: u32 = 0; i < length && i < 12; i++) {
    const c = load<u8>(p + <usize>i);
    if (c >= 0x30 && c <= 0x39) value = value * 10 + <u64>(c - 0x30);
  }
  return value;
}

// User-data parameter: head 00 01 12 (3), parameter length (1), method (1),
// type << 4 | function group (1), sub-function (1), sequence number (1), and
// with parameter length 8: data unit reference (1), last data unit (1),
// error code (2). Data: return code (1), transport size (1), length (2), ...
function userData(pending: usize, parameter: usize, parameterLength: u32, data: usize, dataLength: u32, isRequest: bool): void {
  if (parameterLength < 8) return;
  const typeGroup = load<u8>(parameter, 5);
  const group = typeGroup & 0x0f;
  const subFunction = load<u8>(parameter, 6);
  fieldU64(S7Field.FUNCTION_CODE, typeGroup);
  fieldU64(S7Field.FUNCTION_GROUP, group);
  const groupText = groupName(group);
  if (groupText != "") fieldLiteral(S7Field.FUNCTION_GROUP_NAME, groupText);
  fieldU64(S7Field.SUB_FUNCTION, subFunction);
  const name = subFunctionName(group, subFunction);
  if (name != "") fieldLiteral(S7Field.FUNCTION, name);
  fieldU64(S7Field.SEQUENCE_NUMBER, load<u8>(parameter, 7));
  // A response in several parts: the first starts with the SZL header, the
  // following ones (same data unit reference) continue its records.
  let continuation = false;
  if (parameterLength >= 12) {
    const unitReference = load<u8>(parameter, 8);
    const last = load<u8>(parameter, 9) == 0;
    fieldU64(S7Field.DATA_UNIT_REFERENCE, unitReference);
    fieldBool(S7Field.LAST_DATA_UNIT, last);
    fieldU64(S7Field.ERROR_CODE, readU16be(parameter + 10));
    if (!isRequest) {
      continuation = load<u8>(pending + MULTI_PART_OPEN) != 0 && load<u8>(pending + MULTI_PART_REFERENCE) == unitReference;
      store<u8>(pending + MULTI_PART_OPEN, last ? 0 : 1);
      store<u8>(pending + MULTI_PART_REFERENCE, unitReference);
    }
  }
  if (continuation) return;

  if (dataLength < 4) return;
  fieldU64(S7Field.RETURN_CODE, load<u8>(data));
  const body = data + 4;
  let bodyLength = <u32>readU16be(data + 2);
  if (bodyLength > dataLength - 4) bodyLength = dataLength - 4;

  if (group == UserDataGroup.CPU_FUNCTIONS && subFunction == 0x01 && bodyLength >= 4) {
    fieldU64(S7Field.SZL_ID, readU16be(body));
    fieldU64(S7Field.SZL_INDEX, readU16be(body + 2));
    // NOTE: identity records in the later parts of a multi-part response
    // are not read; the parts are not joined.
    if (!isRequest) identityFromSzl(body, bodyLength);
  } else if (group == UserDataGroup.BLOCK_FUNCTIONS && isRequest && bodyLength >= 2
    && (subFunction == 0x02 || subFunction == 0x03)) {
    const typeName = userDataBlockTypeName(load<u8>(body), load<u8>(body, 1));
    if (typeName != "") fieldLiteral(S7Field.BLOCK_TYPE_REQUESTED, typeName);
    // Get block info: block type (2), block number (5 ASCII digits), file system (1).
    if (subFunction == 0x03 && bodyLength >= 7) fieldU64(S7Field.BLOCK_NUMBER, decimal(body + 2, 5));
  }
}

// S7comm-plus: the version and, where the header is in the clear, opcode,
// function and sequence number. Encrypted or integrity-protected payload is
// not decoded.
function plusRecord(toServer: bool, p: usize, length: u32): void {
  beginRecord(RecordType.S7COMM, !toServer);
  fieldLiteral(S7Field.PROTOCOL_VARIANT, "s7comm-plus");
  if (length < 4) {
    countAnomaly(S7Anomaly.PDU_TRUNCATED);
    fieldBool(Field.TRUNCATED, true);
    endRecord();
    return;
  }
  const version = load<u8>(p, 1);
  fieldU64(S7Field.PLUS_VERSION, version);
  let offset: u32 = 4;
  // NOTE: from version 3 on, an integrity part (digest length 0x20 and a
  // 32-byte digest) precedes the data. Only that shape is skipped; other
  // versions leave opcode and function out of the record.
  if (version >= 3 && fits(length, 4, 1) && load<u8>(p, 4) == 0x20) offset = 4 + 1 + 32;
  if ((version == 1 || offset > 4) && fits(length, offset, 9)) {
    const opcode = load<u8>(p + <usize>offset);
    if (opcode == 0x31 || opcode == 0x32 || opcode == 0x33) {
      fieldU64(S7Field.PLUS_OPCODE, opcode);
      fieldLiteral(Field.PDU_TYPE, opcode == 0x31 ? "request" : opcode == 0x32 ? "response" : "notification");
      fieldU64(S7Field.PLUS_FUNCTION, readU16be(p + <usize>offset + 3));
      fieldU64(S7Field.PLUS_SEQUENCE, readU16be(p + <usize>offset + 7));
    }
  }
  endRecord();
}

function rememberRequest(pending: usize, reference: u16, rosctr: u8): void {
  let target: usize = 0;
  let oldest: usize = 0;
  for (let i: u32 = 0; i < PENDING_MAX; i++) {
    const entry = pending + PENDING_TABLE + <usize>(i * PENDING_ENTRY_BYTES);
    const sequence = load<u32>(entry);
    if (sequence == 0) {
      if (target == 0) target = entry;
      continue;
    }
    if (load<u16>(entry, 12) == reference) {
      target = entry;
      break;
    }
    if (oldest == 0 || sequence < load<u32>(oldest)) oldest = entry;
  }
  if (target == 0) {
    countAnomaly(S7Anomaly.PENDING_OVERFLOW);
    target = oldest;
  }
  let next = load<u32>(pending) + 1;
  if (next == 0) next = 1;
  store<u32>(pending, next);
  store<u32>(target, next);
  store<u32>(target, contextTsSec(), 4);
  store<u32>(target, contextTsNsec(), 8);
  store<u16>(target, reference, 12);
  store<u8>(target, rosctr, 14);
}

// Writes the round-trip time of the request with this PDU reference.
function matchResponse(pending: usize, reference: u16): void {
  for (let i: u32 = 0; i < PENDING_MAX; i++) {
    const entry = pending + PENDING_TABLE + <usize>(i * PENDING_ENTRY_BYTES);
    if (load<u32>(entry) == 0 || load<u16>(entry, 12) != reference) continue;
    const elapsedNs = (<i64>contextTsSec() - <i64>load<u32>(entry, 4)) * 1_000_000_000
      + (<i64>contextTsNsec() - <i64>load<u32>(entry, 8));
    fieldU64(Field.RTT_US, elapsedNs > 0 ? <u64>(elapsedNs / 1000) : 0);
    store<u32>(entry, 0);
    return;
  }
  countAnomaly(S7Anomaly.UNMATCHED_RESPONSE);
}
