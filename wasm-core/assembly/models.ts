// Model engine: scores each record as it is closed.
//
// The host compiles the YAML models (models/*.yaml) into the binary model
// table below (agent/src/core/models.ts writes it) and installs it with the
// `loadModels` export. The table is checked in full before it replaces the
// installed one, so that evaluation can then read it without bounds checks.
//
// Model table, all integers little-endian, no padding:
//
//   header, 16 bytes
//      0 u32 magic 0x544d5346 (bytes "FSMT")
//      4 u16 version (TABLE_VERSION)
//      6 u16 model count
//      8 u32 table length in bytes, header included
//     12 u16 field id of the Modbus unit id, read by the master baseline
//            (0: no model uses the `modbus_master` scorer)
//     14 u16 reserved, 0
//   then `model count` models, each:
//      0 u32 model length in bytes, conditions included
//      4 u16 record type the model watches (RecordType)
//      6 u8  base score, 0-100
//      7 u8  scorer (SCORER_NONE, SCORER_MODBUS_MASTER, SCORER_BEACONING,
//            SCORER_PROFILE_MASTER, SCORER_PROFILE_WRITE, SCORER_PROFILE_FUNCTION,
//            SCORER_NEW_DEVICE, SCORER_NEW_MASTER, SCORER_OT_OUTBOUND,
//            SCORER_AFTER_FILE_WRITE)
//      8 u8  learning factor in percent, 0-100: the score is scaled by it
//            while the learning period runs or the scorer has no baseline
//      9 u8  condition count
//     10 u8  frequency `by` flags (BY_SRC, BY_DST, BY_SRC_PORT, BY_DST_PORT)
//     11 u8  number of `by` field ids used, 0-MAX_BY_FIELDS
//     12 u32 frequency count N, 0 when the model has no frequency
//     16 u32 frequency window T in seconds
//     20 u32 modbus_master: requests before a client is an established master
//     24 u32 modbus_master: seconds of packet time those requests must span;
//            new_device, new_master: seconds the baselines must have
//            learned before a newcomer counts; after_file_write: seconds
//            the write may precede the record
//     28 u16 x MAX_BY_FIELDS `by` field ids
//     36 u16 `distinct` field id: the frequency counts distinct values of
//            this field instead of matches (0: counts matches)
//     38 u16 reserved, 0
//     40 conditions, each:
//          0 u16 field id
//          2 u8  operator (OP_*)
//          3 u8  value count
//          4 u32 condition length in bytes, values included
//          8 values, each: u8 kind (VALUE_*) | u8 reserved | u16 length | bytes
//            VALUE_INTEGER: 8 bytes, i64; VALUE_TEXT: UTF-8; VALUE_BOOL: 1 byte;
//            VALUE_ADDRESS: 18 bytes, u8 IP version (4 or 6), u8 prefix
//            length in bits, 16 address bytes (IPv4 in the first 4).
//        The field ids FIELD_ID_SRC and FIELD_ID_DST test the record's
//        originator and responder address with equals, in, not_in or exists.
//
// A model fires when every condition holds for at least one value of its
// field (a field may repeat in a record), the scorer does not suppress it and
// its frequency, if any, is reached. It then writes an alert record.

import { RecordType, ValueType, Field } from "../../protocols/fields";
import {
  RECORD_HEADER_BYTES, FIELD_HEADER_BYTES, FLAG_SERVER_TO_CLIENT,
  beginRecord, endRecord, fieldU64, fieldI64, fieldBool, fieldText, fieldBytes,
  eventBufferBase, eventBufferUsed,
} from "./events";
import { indexRecord, recordField, recordLastField, forgetIndexedRecord } from "./record-index";
import {
  indexModels, typeModelList, typeModelCount, candidateModels, MASKED_MODELS,
  conditionSlot, memoResult, memoStore, nextMemoStamp, memoStamp, modelsTestingSlot, NOT_SHARED, MEMO_UNKNOWN,
} from "./model-index";
import { countAnomaly } from "./counters";
import { FNV64_OFFSET, fnv64, fnv64Byte, fnv64Word } from "./fnv";
import { ModelField, ModelAnomaly } from "./model-fields";
import {
  initBaselines, resetModelBaselines, installWindowKeys, frequencyObserve, frequencyObserveDistinct, masterStatus, masterObserve,
  MAX_FREQUENCY_COUNT, UNIT_ID_ABSENT, MASTER_NONE, MASTER_THIS_CLIENT,
} from "./baseline";
import {
  historyFind, historyObserve, historyBeginRecord, historyEndRecord, deviceFind, inLearningPeriod, entryRoles, entryAlerted, markAlerted, learningStartSec,
  LEVEL_PAIR, LEVEL_SERVICE, ROLE_MODBUS_SERVER, ROLE_MODBUS_CLIENT,
} from "./baseline-history";
import { scoreAlert, writeScoreFields } from "./scorer";
import { periodicityOf, periodicityScore, intervalCount } from "./scorer-periodicity";
import { Factor } from "./model-fields";
import { observeHostMacs } from "./host-macs";
import {
  profileFind, profileMasterViolated, profileWriteViolated, profileFunctionViolated, installedProfileDevices,
} from "./scorer-profile";
import { DcerpcField } from "../../protocols/dcerpc/fields";
import { ModbusField } from "../../protocols/modbus/fields";
import { Dnp3Field } from "../../protocols/dnp3/fields";
import { SmbField } from "../../protocols/smb/fields";
import { findFileWrite, noteFileRecord, resetFileWrites, writeFileWriteFields } from "./sequence";
import {
  SCORER_LOGIN_BURST, SCORER_REMOTE_ACCESS_NOVELTY, loginBurstObserve, takeExpiredBurst, writeBurstFields, burstModelIndex,
  burstRecord, releaseBurst, resetLoginBursts, sweepLoginBursts, remoteAccessIsNovel,
} from "./scorer-access";

@inline export const TABLE_MAGIC: u32 = 0x544d5346;
// Version 2 added the beaconing scorer and the learning factor's use for the
// learning period.
@inline export const TABLE_VERSION: u16 = 2;
@inline export const TABLE_HEADER_BYTES: u32 = 16;
@inline export const MODEL_HEADER_BYTES: u32 = 40;
@inline export const CONDITION_HEADER_BYTES: u32 = 8;
@inline export const VALUE_HEADER_BYTES: u32 = 4;

// Maximum size of a model table in bytes and maximum number of models in it.
// The table region is allocated once at this size, so a reload allocates nothing.
@inline export const MODEL_TABLE_MAX_BYTES: u32 = 65536;
@inline export const MAX_MODELS: u32 = 256;
@inline export const MAX_BY_FIELDS: u32 = 4;

@inline export const SCORER_NONE: u8 = 0;
@inline export const SCORER_MODBUS_MASTER: u8 = 1;
@inline export const SCORER_BEACONING: u8 = 2;
// Firmware-profile scorers (scorer-profile.ts): they fire only on Modbus
// requests to a device that an installed profile covers.
@inline export const SCORER_PROFILE_MASTER: u8 = 3;
@inline export const SCORER_PROFILE_WRITE: u8 = 4;
@inline export const SCORER_PROFILE_FUNCTION: u8 = 5;
// Novelty scorers on the OT side: a Modbus request to a device never seen
// responding to one, a request from a host never seen sending one, and a
// connection an OT device opened to an IT or external host.
@inline export const SCORER_NEW_DEVICE: u8 = 6;
@inline export const SCORER_NEW_MASTER: u8 = 7;
@inline export const SCORER_OT_OUTBOUND: u8 = 8;
// Fires only after an executable written to an admin share of the same host
// by the same source (sequence.ts).
@inline export const SCORER_AFTER_FILE_WRITE: u8 = 9;

// Beaconing scorer: the pair plus service needs at least this many earlier
// occurrences, and this periodicity (scorer-periodicity.ts), before it fires.
@inline export const BEACON_MIN_OCCURRENCES: u32 = 8;
@inline export const BEACON_MIN_PERIODICITY: u32 = 80;

@inline export const BY_SRC: u8 = 1;
@inline export const BY_DST: u8 = 2;
@inline export const BY_SRC_PORT: u8 = 4;
@inline export const BY_DST_PORT: u8 = 8;

@inline export const OP_EQUALS: u8 = 1;    // one value
@inline export const OP_IN: u8 = 2;        // one or more values
@inline export const OP_RANGE: u8 = 3;     // two integers: minimum, maximum (inclusive)
@inline export const OP_CONTAINS: u8 = 4;  // one or more texts, ASCII case-insensitive
@inline export const OP_BITS_ANY: u8 = 5;  // one integer mask: any bit set
@inline export const OP_BITS_ALL: u8 = 6;  // one integer mask: every bit set
@inline export const OP_EXISTS: u8 = 7;    // no value
@inline export const OP_NOT_IN: u8 = 8;    // zero or more values: the value equals none of them
@inline export const OP_ENDS_WITH: u8 = 9; // one or more texts, ASCII case-insensitive

// Condition field ids that name the record's addresses rather than a field.
@inline export const FIELD_ID_SRC: u16 = 0xfff0;
@inline export const FIELD_ID_DST: u16 = 0xfff1;

@inline export const VALUE_INTEGER: u8 = 1;
@inline export const VALUE_TEXT: u8 = 2;
@inline export const VALUE_BOOL: u8 = 3;
@inline export const VALUE_ADDRESS: u8 = 4;
@inline const ADDRESS_VALUE_BYTES: u32 = 18;

// Results of installModelTable. The host turns them into messages.
@inline export const LOAD_TOO_LARGE: i32 = -1;
@inline export const LOAD_BAD_MAGIC: i32 = -2;
@inline export const LOAD_BAD_VERSION: i32 = -3;
@inline export const LOAD_LENGTH_MISMATCH: i32 = -4;
@inline export const LOAD_TOO_MANY_MODELS: i32 = -5;
@inline export const LOAD_MODEL_TRUNCATED: i32 = -6;
@inline export const LOAD_BAD_MODEL_HEADER: i32 = -7;
@inline export const LOAD_CONDITION_TRUNCATED: i32 = -8;
@inline export const LOAD_BAD_OPERATOR: i32 = -9;
@inline export const LOAD_BAD_VALUE: i32 = -10;

let tableBase: usize = 0;
let modelCount: u32 = 0;
let unitIdFieldId: u16 = 0;
// Offset of each model in the table, u32 x MAX_MODELS.
const modelOffsets = memory.data(<i32>(MAX_MODELS * 4));

export function installedModelCount(): u32 { return modelCount; }

// ---------------------------------------------------------------------------
// Loading

function checkValue(kind: u8, length: u32): bool {
  if (kind == VALUE_INTEGER) return length == 8;
  if (kind == VALUE_BOOL) return length == 1;
  if (kind == VALUE_ADDRESS) return length == ADDRESS_VALUE_BYTES;
  return kind == VALUE_TEXT;
}

// Checks one condition at `p`, with `available` bytes left in its model.
// Returns its length, or a LOAD_* error.
function checkCondition(p: usize, available: u32): i32 {
  if (available < CONDITION_HEADER_BYTES) return LOAD_CONDITION_TRUNCATED;
  const op = load<u8>(p, 2);
  const values = <u32>load<u8>(p, 3);
  const length = load<u32>(p, 4);
  if (length < CONDITION_HEADER_BYTES || length > available) return LOAD_CONDITION_TRUNCATED;
  if (op < OP_EQUALS || op > OP_ENDS_WITH) return LOAD_BAD_OPERATOR;

  let at: u32 = CONDITION_HEADER_BYTES;
  let integers: u32 = 0;
  let texts: u32 = 0;
  let addresses: u32 = 0;
  for (let i: u32 = 0; i < values; i++) {
    if (length - at < VALUE_HEADER_BYTES) return LOAD_CONDITION_TRUNCATED;
    const kind = load<u8>(p + <usize>at);
    const valueLength = <u32>load<u16>(p + <usize>at, 2);
    if (length - at - VALUE_HEADER_BYTES < valueLength) return LOAD_CONDITION_TRUNCATED;
    if (!checkValue(kind, valueLength)) return LOAD_BAD_VALUE;
    if (kind == VALUE_INTEGER) integers++;
    if (kind == VALUE_TEXT) texts++;
    if (kind == VALUE_ADDRESS) {
      const version = load<u8>(p + <usize>at + VALUE_HEADER_BYTES);
      const prefix = <u32>load<u8>(p + <usize>at + VALUE_HEADER_BYTES, 1);
      if (!(version == 4 && prefix <= 32) && !(version == 6 && prefix <= 128)) return LOAD_BAD_VALUE;
      addresses++;
    }
    at += VALUE_HEADER_BYTES + valueLength;
  }
  if (at != length) return LOAD_CONDITION_TRUNCATED;

  if (op == OP_EQUALS && values != 1) return LOAD_BAD_VALUE;
  if (op == OP_IN && values == 0) return LOAD_BAD_VALUE;
  if (op == OP_RANGE && (values != 2 || integers != 2)) return LOAD_BAD_VALUE;
  if (op == OP_CONTAINS && (values == 0 || texts != values)) return LOAD_BAD_VALUE;
  if ((op == OP_BITS_ANY || op == OP_BITS_ALL) && (values != 1 || integers != 1)) return LOAD_BAD_VALUE;
  if (op == OP_EXISTS && values != 0) return LOAD_BAD_VALUE;
  if (op == OP_ENDS_WITH && (values == 0 || texts != values)) return LOAD_BAD_VALUE;
  // Address values only on the address ids, and those take only equals,
  // in, not_in and exists with address values.
  const id = load<u16>(p);
  if (id == FIELD_ID_SRC || id == FIELD_ID_DST) {
    if (addresses != values) return LOAD_BAD_VALUE;
    if (op != OP_EQUALS && op != OP_IN && op != OP_NOT_IN && op != OP_EXISTS) return LOAD_BAD_OPERATOR;
  } else if (addresses != 0) {
    return LOAD_BAD_VALUE;
  }
  return <i32>length;
}

// Checks one model at `p`, with `available` bytes left in the table. Returns
// its length, or a LOAD_* error.
function checkModel(p: usize, available: u32): i32 {
  if (available < MODEL_HEADER_BYTES) return LOAD_MODEL_TRUNCATED;
  const length = load<u32>(p);
  if (length < MODEL_HEADER_BYTES || length > available) return LOAD_MODEL_TRUNCATED;
  const score = load<u8>(p, 6);
  const scorer = load<u8>(p, 7);
  const learningFactor = load<u8>(p, 8);
  const byFields = <u32>load<u8>(p, 11);
  const frequencyCount = load<u32>(p, 12);
  if (score > 100 || learningFactor > 100) return LOAD_BAD_MODEL_HEADER;
  if (scorer > SCORER_REMOTE_ACCESS_NOVELTY) return LOAD_BAD_MODEL_HEADER;
  // login_burst needs a failure count and a window.
  if (scorer == SCORER_LOGIN_BURST && (frequencyCount == 0 || load<u32>(p, 16) == 0)) return LOAD_BAD_MODEL_HEADER;
  if (byFields > MAX_BY_FIELDS || frequencyCount > MAX_FREQUENCY_COUNT) return LOAD_BAD_MODEL_HEADER;
  if (load<u16>(p, 36) != 0 && frequencyCount == 0) return LOAD_BAD_MODEL_HEADER;
  if (load<u16>(p, 4) == RecordType.ALERT) return LOAD_BAD_MODEL_HEADER;

  const conditions = <u32>load<u8>(p, 9);
  let at: u32 = MODEL_HEADER_BYTES;
  for (let i: u32 = 0; i < conditions; i++) {
    const result = checkCondition(p + <usize>at, length - at);
    if (result < 0) return result;
    at += <u32>result;
  }
  if (at != length) return LOAD_MODEL_TRUNCATED;
  return <i32>length;
}

// Checks the model table at `ptr` and, when it is valid, installs a copy of
// it in place of the current one. Returns the number of models installed, or
// a LOAD_* error (the installed table is then unchanged). With `windowKeys`
// (one u32 per model, see installWindowKeys in baseline.ts) the frequency
// windows move to the new table; without, they are forgotten.
export function installModelTable(ptr: usize, length: u32, windowKeys: usize = 0): i32 {
  if (length > MODEL_TABLE_MAX_BYTES) return LOAD_TOO_LARGE;
  if (length < TABLE_HEADER_BYTES || load<u32>(ptr) != TABLE_MAGIC) return LOAD_BAD_MAGIC;
  if (load<u16>(ptr, 4) != TABLE_VERSION) return LOAD_BAD_VERSION;
  if (load<u32>(ptr, 8) != length) return LOAD_LENGTH_MISMATCH;
  const count = <u32>load<u16>(ptr, 6);
  if (count > MAX_MODELS) return LOAD_TOO_MANY_MODELS;

  let at: u32 = TABLE_HEADER_BYTES;
  for (let i: u32 = 0; i < count; i++) {
    const result = checkModel(ptr + <usize>at, length - at);
    if (result < 0) return result;
    at += <u32>result;
  }
  if (at != length) return LOAD_LENGTH_MISMATCH;

  if (tableBase == 0) tableBase = heap.alloc(<usize>MODEL_TABLE_MAX_BYTES);
  initBaselines();
  memory.copy(tableBase, ptr, <usize>length);
  at = TABLE_HEADER_BYTES;
  for (let i: u32 = 0; i < count; i++) {
    store<u32>(modelOffsets + (<usize>i << 2), at);
    at += load<u32>(tableBase + <usize>at);
  }
  modelCount = count;
  indexModels(tableBase, modelOffsets, count);
  unitIdFieldId = load<u16>(tableBase, 12);
  if (windowKeys != 0) installWindowKeys(windowKeys, count);
  else resetModelBaselines();
  resetFileWrites();
  resetLoginBursts();
  return <i32>count;
}

// Magic of the window key section that may follow the model table.
@inline const WINDOW_KEYS_MAGIC: u32 = 0x4b575346; // bytes "FSWK"

// Installs the model table at `ptr` as installModelTable does. When `length`
// runs past the table's own length, the window key section follows it, so
// that frequency windows survive the reload (installWindowKeys in
// baseline.ts):
//   0 u32 magic WINDOW_KEYS_MAGIC | 4 u32 model count | 8 u32 key per model
// A section of another magic, count or length rejects the table with
// LOAD_LENGTH_MISMATCH.
export function installModels(ptr: usize, length: u32): i32 {
  if (length < TABLE_HEADER_BYTES || load<u32>(ptr) != TABLE_MAGIC) return installModelTable(ptr, length);
  const tableLength = load<u32>(ptr, 8);
  if (tableLength >= length) return installModelTable(ptr, length);
  const keys = ptr + <usize>tableLength;
  const count = length - tableLength >= 8 ? load<u32>(keys, 4) : 0xffffffff;
  if (load<u32>(keys) != WINDOW_KEYS_MAGIC || count != <u32>load<u16>(ptr, 6) ||
      <u64>length - <u64>tableLength != 8 + <u64>count * 4) {
    return LOAD_LENGTH_MISMATCH;
  }
  return installModelTable(ptr, tableLength, keys + 8);
}

// ---------------------------------------------------------------------------
// Field values

// Set by readNumber: whether the field held a number, and its value.
export let numberOk: bool = false;
export let numberValue: i64 = 0;

// Reads an integer or boolean field value; a U64 above the i64 range
// saturates, so it still compares above every condition value.
export function readNumber(type: u8, value: usize, length: u32): void {
  numberOk = true;
  if ((type == ValueType.U64 || type == ValueType.I64) && length == 8) {
    const raw = load<u64>(value);
    numberValue = type == ValueType.U64 && raw > <u64>i64.MAX_VALUE ? i64.MAX_VALUE : <i64>raw;
    return;
  }
  if (type == ValueType.BOOL && length == 1) {
    numberValue = load<u8>(value) != 0 ? 1 : 0;
    return;
  }
  numberOk = false;
}

@inline function lowerAscii(c: u32): u32 {
  return c >= 0x41 && c <= 0x5a ? c + 0x20 : c;
}

@inline function hexDigit(nibble: u32): u32 {
  return nibble < 10 ? 0x30 + nibble : 0x57 + nibble;
}

// Length of a field value as text: UTF-8 bytes for STR, lowercase hex digits
// for BYTES (as the host renders them).
@inline function textLength(type: u8, length: u32): u32 {
  return type == ValueType.BYTES ? length << 1 : length;
}

@inline function textAt(type: u8, value: usize, i: u32): u32 {
  if (type == ValueType.BYTES) {
    const b = <u32>load<u8>(value + <usize>(i >> 1));
    return hexDigit((i & 1) == 0 ? b >> 4 : b & 0x0f);
  }
  return <u32>load<u8>(value + <usize>i);
}

// True when the `length` bytes at `a` and at `b` are equal, compared eight
// at a time.
function sameBytes(a: usize, b: usize, length: u32): bool {
  let i: u32 = 0;
  for (; length - i >= 8; i += 8) {
    if (load<u64>(a + <usize>i) != load<u64>(b + <usize>i)) return false;
  }
  for (; i < length; i++) {
    if (load<u8>(a + <usize>i) != load<u8>(b + <usize>i)) return false;
  }
  return true;
}

// Exact comparison for STR values; hex digits of BYTES values compare without
// regard to case.
function textEquals(type: u8, value: usize, length: u32, text: usize, textBytes: u32): bool {
  if (textLength(type, length) != textBytes) return false;
  if (type == ValueType.STR) return sameBytes(value, text, textBytes);
  const fold = type == ValueType.BYTES;
  for (let i: u32 = 0; i < textBytes; i++) {
    let a = textAt(type, value, i);
    let b = <u32>load<u8>(text + <usize>i);
    if (fold) { a = lowerAscii(a); b = lowerAscii(b); }
    if (a != b) return false;
  }
  return true;
}

// ASCII case-insensitive substring test; bytes above 0x7f compare exactly.
function textContains(type: u8, value: usize, length: u32, text: usize, textBytes: u32): bool {
  const haystack = textLength(type, length);
  if (textBytes > haystack) return false;
  const last = haystack - textBytes;
  for (let start: u32 = 0; start <= last; start++) {
    let j: u32 = 0;
    while (j < textBytes) {
      if (lowerAscii(textAt(type, value, start + j)) != lowerAscii(<u32>load<u8>(text + <usize>j))) break;
      j++;
    }
    if (j == textBytes) return true;
  }
  return false;
}

// ASCII case-insensitive suffix test.
function textEndsWith(type: u8, value: usize, length: u32, text: usize, textBytes: u32): bool {
  const haystack = textLength(type, length);
  if (textBytes > haystack) return false;
  const start = haystack - textBytes;
  for (let j: u32 = 0; j < textBytes; j++) {
    if (lowerAscii(textAt(type, value, start + j)) != lowerAscii(<u32>load<u8>(text + <usize>j))) return false;
  }
  return true;
}

function valueEquals(type: u8, value: usize, length: u32, kind: u8, operand: usize, operandLength: u32): bool {
  if (kind == VALUE_TEXT) {
    if (type != ValueType.STR && type != ValueType.BYTES) return false;
    return textEquals(type, value, length, operand, operandLength);
  }
  readNumber(type, value, length);
  if (!numberOk) return false;
  if (kind == VALUE_BOOL) return numberValue == (load<u8>(operand) != 0 ? 1 : 0);
  return numberValue == load<i64>(operand);
}

// Tests one field value against the condition at `condition`.
function conditionHolds(condition: usize, field: usize): bool {
  const op = load<u8>(condition, 2);
  if (op == OP_EXISTS) return true;
  const type = load<u8>(field, 2);
  const length = <u32>load<u16>(field, 4);
  const value = field + FIELD_HEADER_BYTES;
  const values = <u32>load<u8>(condition, 3);
  let operand = condition + CONDITION_HEADER_BYTES;

  if (op == OP_RANGE || op == OP_BITS_ANY || op == OP_BITS_ALL) {
    readNumber(type, value, length);
    if (!numberOk) return false;
    const first = load<i64>(operand + VALUE_HEADER_BYTES);
    if (op == OP_BITS_ANY) return (numberValue & first) != 0;
    if (op == OP_BITS_ALL) return (numberValue & first) == first;
    const second = operand + VALUE_HEADER_BYTES + 8 + VALUE_HEADER_BYTES;
    return numberValue >= first && numberValue <= load<i64>(second);
  }

  const isText = type == ValueType.STR || type == ValueType.BYTES;
  for (let i: u32 = 0; i < values; i++) {
    const kind = load<u8>(operand);
    const operandLength = <u32>load<u16>(operand, 2);
    const bytes = operand + VALUE_HEADER_BYTES;
    if (op == OP_CONTAINS) {
      if (isText && textContains(type, value, length, bytes, operandLength)) return true;
    } else if (op == OP_ENDS_WITH) {
      if (isText && textEndsWith(type, value, length, bytes, operandLength)) return true;
    } else if (valueEquals(type, value, length, kind, bytes, operandLength)) {
      return op != OP_NOT_IN;
    }
    operand = bytes + <usize>operandLength;
  }
  return op == OP_NOT_IN;
}

// True when the record's address at `address` (16 bytes, IPv4 in the first
// 4) of IP version `version` lies in the prefix of the VALUE_ADDRESS at `value`.
function addressInPrefix(version: u8, address: usize, value: usize): bool {
  if (load<u8>(value) != version) return false;
  let bits = <u32>load<u8>(value, 1);
  const prefix = value + 2;
  let i: u32 = 0;
  while (bits >= 8) {
    if (load<u8>(address + <usize>i) != load<u8>(prefix + <usize>i)) return false;
    bits -= 8;
    i++;
  }
  if (bits == 0) return true;
  const mask = <u8>((<u32>0xff) << (8 - bits));
  return (load<u8>(address + <usize>i) & mask) == (load<u8>(prefix + <usize>i) & mask);
}

// Tests the record's originator (FIELD_ID_SRC) or responder address.
function addressConditionHolds(record: usize, condition: usize): bool {
  const op = load<u8>(condition, 2);
  if (op == OP_EXISTS) return true;
  const version = load<u8>(record, 20);
  const address = record + (load<u16>(condition) == FIELD_ID_SRC ? 28 : 44);
  const values = <u32>load<u8>(condition, 3);
  let operand = condition + CONDITION_HEADER_BYTES;
  for (let i: u32 = 0; i < values; i++) {
    if (addressInPrefix(version, address, operand + VALUE_HEADER_BYTES)) return op != OP_NOT_IN;
    operand += <usize>VALUE_HEADER_BYTES + <usize>load<u16>(operand, 2);
  }
  return op == OP_NOT_IN;
}

// True when some value of the condition's field in `record` satisfies it.
function conditionMatches(record: usize, condition: usize): bool {
  const id = load<u16>(condition);
  if (id == FIELD_ID_SRC || id == FIELD_ID_DST) return addressConditionHolds(record, condition);
  const first = recordField(record, id);
  if (first == 0) return false;
  // `exists` holds for the first value that lies inside the record.
  if (load<u8>(condition, 2) == OP_EXISTS) {
    return first + FIELD_HEADER_BYTES + <usize>load<u16>(first, 4) <= record + <usize>load<u32>(record);
  }
  // Values of a repeated field lie between its first and last occurrence.
  const last = recordLastField(record, id);
  const end = last != 0 ? last + FIELD_HEADER_BYTES + <usize>load<u16>(last, 4) : record + <usize>load<u32>(record);
  let p = first;
  while (p + FIELD_HEADER_BYTES <= end) {
    const next = p + FIELD_HEADER_BYTES + <usize>load<u16>(p, 4);
    if (next > end) break;
    if (load<u16>(p) == id && conditionHolds(condition, p)) return true;
    p = next;
  }
  return false;
}

// The memo slot of the shared condition that made the last conditionsMatch
// call fail, or NOT_SHARED.
let failedSlot: u16 = NOT_SHARED;

// True when every condition of model `modelIndex` at `model` holds for
// `record`. Shared conditions are tested once per record (shareConditions).
function conditionsMatch(record: usize, model: usize, modelIndex: u32): bool {
  const count = <u32>load<u8>(model, 9);
  let condition = model + MODEL_HEADER_BYTES;
  failedSlot = NOT_SHARED;
  for (let i: u32 = 0; i < count; i++) {
    const slot = conditionSlot(modelIndex, i);
    let holds: bool;
    if (slot == NOT_SHARED) {
      holds = conditionMatches(record, condition);
    } else {
      const known = memoResult(slot);
      if (known != MEMO_UNKNOWN) {
        holds = known != 0;
      } else {
        holds = conditionMatches(record, condition);
        memoStore(slot, holds);
      }
      if (!holds) failedSlot = slot;
    }
    if (!holds) return false;
    condition += <usize>load<u32>(condition, 4);
  }
  return true;
}

// Reads a numeric field of `record`, or returns `absent`.
function numberField(record: usize, id: u16, absent: u32): u32 {
  const f = recordField(record, id);
  if (f == 0) return absent;
  readNumber(load<u8>(f, 2), f + FIELD_HEADER_BYTES, <u32>load<u16>(f, 4));
  return numberOk ? <u32>numberValue : absent;
}

// ---------------------------------------------------------------------------
// Frequency key

// Hashes one field's value, type and length first, so that adjacent values
// cannot run together.
@inline function fieldHash(hash: u64, f: usize): u64 {
  hash = fnv64Word(hash, load<u32>(f, 2));
  const length = <u32>load<u16>(f, 4);
  // Integer values, the most common, take two words and no loop.
  if (length == 8) return fnv64Word(fnv64Word(hash, load<u32>(f, 6)), load<u32>(f, 10));
  return fnv64(hash, f + FIELD_HEADER_BYTES, length);
}

// The last frequency key hashed, the record (memo stamp) it was hashed for,
// and the `by` flags, count and field ids (model bytes 10-11 and 28-35) it
// was hashed by: models of one record mostly count by the same keys.
let lastKey: u64 = 0;
let lastKeyStamp: u32 = 0;
let lastKeyBy: u16 = 0;
let lastKeyFields: u64 = 0;

// Hashes the values of the model's `by` keys in `record`, once per record and
// set of keys.
function frequencyKey(record: usize, model: usize): u64 {
  const by = load<u16>(model, 10);
  const fields = load<u64>(model, 28);
  if (lastKeyStamp != memoStamp || lastKeyBy != by || lastKeyFields != fields) {
    lastKey = hashFrequencyKey(record, model);
    lastKeyStamp = memoStamp;
    lastKeyBy = by;
    lastKeyFields = fields;
  }
  return lastKey;
}

// Hashes the values of the model's `by` keys in `record`. A `by` field that
// is absent hashes as a marker distinct from any value.
function hashFrequencyKey(record: usize, model: usize): u64 {
  const flags = load<u8>(model, 10);
  let hash = FNV64_OFFSET;
  if ((flags & BY_SRC) != 0) hash = fnv64(hash, record + 28, 16);
  if ((flags & BY_DST) != 0) hash = fnv64(hash, record + 44, 16);
  if ((flags & BY_SRC_PORT) != 0) hash = fnv64(hash, record + 24, 2);
  if ((flags & BY_DST_PORT) != 0) hash = fnv64(hash, record + 26, 2);
  const byFields = <u32>load<u8>(model, 11);
  for (let i: u32 = 0; i < byFields; i++) {
    const f = recordField(record, load<u16>(model + 28 + (<usize>i << 1)));
    if (f == 0) {
      hash = fnv64Byte(hash, 0xff);
      continue;
    }
    hash = fieldHash(hash, f);
  }
  return hash;
}

// ---------------------------------------------------------------------------
// Evaluation

@inline function recordTimeMs(record: usize): u64 {
  return <u64>load<u32>(record, 8) * 1000 + <u64>(load<u32>(record, 12) / 1_000_000);
}

// True for a Modbus record that is a request: its pdu_type is "request", or
// it has no pdu_type and travelled client to server.
function isModbusRequest(record: usize): bool {
  const f = recordField(record, Field.PDU_TYPE);
  if (f == 0) return (load<u8>(record, 22) & FLAG_SERVER_TO_CLIENT) == 0;
  const length = <u32>load<u16>(f, 4);
  const v = f + FIELD_HEADER_BYTES;
  // "request" as bytes.
  return length == 7 && load<u32>(v) == 0x75716572 && load<u16>(v, 4) == 0x7365 && load<u8>(v, 6) == 0x74;
}

// Copies every field of `record` into the open alert record.
function copyEvidence(record: usize): void {
  const end = record + <usize>load<u32>(record);
  let p = record + RECORD_HEADER_BYTES;
  while (p + FIELD_HEADER_BYTES <= end) {
    const id = load<u16>(p);
    const type = load<u8>(p, 2);
    const length = <u32>load<u16>(p, 4);
    const value = p + FIELD_HEADER_BYTES;
    if (value + <usize>length > end) break;
    if (type == ValueType.U64 && length == 8) fieldU64(id, load<u64>(value));
    else if (type == ValueType.I64 && length == 8) fieldI64(id, load<i64>(value));
    else if (type == ValueType.BOOL && length == 1) fieldBool(id, load<u8>(value) != 0);
    else if (type == ValueType.STR) fieldText(id, value, length);
    else fieldBytes(id, value, length);
    p = value + <usize>length;
  }
}

// Hashes what the record touches on its responder: the record type, the
// responder port and the fields that name the service (SMB share and named
// pipe, DCE-RPC interface, opnum and named pipe, Modbus function code and
// register range, DNP3 function code and outstation address).
function serviceHash(record: usize, type: u16): u64 {
  let hash = fnv64Byte(fnv64Byte(FNV64_OFFSET, <u32>type), <u32>(type >> 8));
  hash = fnv64Byte(fnv64Byte(hash, load<u8>(record, 26)), load<u8>(record, 27));
  if (type == RecordType.SMB) {
    hash = hashField(hash, record, SmbField.SHARE);
    hash = hashField(hash, record, SmbField.NAMED_PIPE);
  } else if (type == RecordType.DCERPC) {
    hash = hashField(hash, record, DcerpcField.INTERFACE_UUID);
    hash = hashField(hash, record, DcerpcField.OPNUM);
    hash = hashField(hash, record, DcerpcField.NAMED_PIPE);
  } else if (type == RecordType.MODBUS) {
    hash = hashField(hash, record, ModbusField.FUNCTION_CODE);
    hash = hashField(hash, record, ModbusField.START_ADDRESS);
    hash = hashField(hash, record, ModbusField.QUANTITY);
  } else if (type == RecordType.DNP3) {
    hash = hashField(hash, record, Dnp3Field.FUNCTION_CODE);
    hash = hashField(hash, record, Dnp3Field.DESTINATION_ADDRESS);
  }
  return hash;
}

function hashField(hash: u64, record: usize, id: u16): u64 {
  const f = recordField(record, id);
  if (f == 0) return fnv64Byte(hash, 0xff);
  return fieldHash(hash, f);
}

// The admin-share write an after_file_write model found for the alert being
// written, or 0.
let alertFileWrite: usize = 0;

function writeAlert(record: usize, modelIndex: u32, base: u32, service: usize, pair: usize): void {
  const serverToClient = (load<u8>(record, 22) & FLAG_SERVER_TO_CLIENT) != 0;
  const alert = eventBufferBase() + <usize>eventBufferUsed();
  if (!beginRecord(RecordType.ALERT, serverToClient)) {
    countAnomaly(ModelAnomaly.ALERT_DROPPED);
    return;
  }
  // The alert carries the time, flow and addresses of the record that fired
  // it, whatever packet context the core has set since.
  memory.copy(alert + 8, record + 8, 14);
  memory.copy(alert + 24, record + 24, RECORD_HEADER_BYTES - 24);

  fieldU64(ModelField.MODEL_INDEX, modelIndex);
  writeScoreFields(base, service, pair, load<u32>(record, 8));
  if (alertFileWrite != 0) writeFileWriteFields(alertFileWrite);
  copyEvidence(record);
  endRecord();
}

// The device entries of the originator and the responder of the record
// being judged, each looked up at most once per record. Several scorers read
// them, and only historyObserve, which runs after the models, adds or moves
// history entries. evaluateInstalled resets them for each record.
let judgedOriginator: usize = 0;
let judgedResponder: usize = 0;
let originatorDevice: usize = 0;
let responderDevice: usize = 0;
let originatorDeviceLooked: bool = false;
let responderDeviceLooked: bool = false;

function judgedDevice(address: usize): usize {
  if (address == judgedOriginator) {
    if (!originatorDeviceLooked) {
      originatorDevice = deviceFind(address);
      originatorDeviceLooked = true;
    }
    return originatorDevice;
  }
  if (address == judgedResponder) {
    if (!responderDeviceLooked) {
      responderDevice = deviceFind(address);
      responderDeviceLooked = true;
    }
    return responderDevice;
  }
  return deviceFind(address);
}

// True for an address outside the private, loopback, link-local, shared
// (RFC 6598) and multicast ranges; `ipVersion` is the record's (4 or 6).
// IPv4 addresses sit in the first 4 of the 16 address bytes.
function isExternalAddress(address: usize, ipVersion: u8): bool {
  const a = <u32>load<u8>(address);
  const b = <u32>load<u8>(address, 1);
  if (ipVersion == 4) {
    if (a == 0 || a == 10 || a == 127 || a >= 224) return false;
    if (a == 172 && (b & 0xf0) == 16) return false;
    if (a == 192 && b == 168) return false;
    if (a == 169 && b == 254) return false;
    if (a == 100 && (b & 0xc0) == 64) return false;
    return true;
  }
  // fc00::/7 unique local, fe80::/10 link-local, ff00::/8 multicast, ::/8
  // (loopback, unspecified and embedded IPv4).
  if ((a & 0xfe) == 0xfc || a == 0xff || a == 0) return false;
  if (a == 0xfe && (b & 0xc0) == 0x80) return false;
  return true;
}

// True when the pair plus service `service` shows regular occurrences from an
// OT device (an address seen as a Modbus server) to an external address or an
// IT host (never seen in a Modbus role). Each entry is reported once.
// NOTE: only connections that a dissector turns into records are seen, so a
// beacon over a protocol without a dissector (TLS, HTTP) is not found yet.
function beaconingFound(service: usize, originator: usize, responder: usize, ipVersion: u8, tsSec: u32): bool {
  if (service == 0 || entryAlerted(service)) return false;
  const source = judgedDevice(originator);
  if (source == 0 || (entryRoles(source) & ROLE_MODBUS_SERVER) == 0) return false;
  if (!isExternalAddress(responder, ipVersion)) {
    const destination = judgedDevice(responder);
    if (destination != 0 && entryRoles(destination) != 0) return false;
  }
  periodicityOf(service, tsSec);
  return intervalCount + 1 >= BEACON_MIN_OCCURRENCES && periodicityScore >= BEACON_MIN_PERIODICITY;
}

// True when `address` was never seen in Modbus role `role` and the traffic
// baselines have learned for at least `settleSec` seconds of packet time, so
// that the devices of the first minutes are not all newcomers. The role is
// learned from this record after the models ran, so each newcomer fires once.
function newcomerFound(address: usize, role: u8, tsSec: u32, settleSec: u32): bool {
  if (learningStartSec == 0 || tsSec < learningStartSec || tsSec - learningStartSec < settleSec) return false;
  const entry = judgedDevice(address);
  return entry == 0 || (entryRoles(entry) & role) == 0;
}

// True when an OT device (an address seen responding to Modbus requests) opened
// a connection to an external address or to a host never seen in a Modbus
// role before this record. Each host pair is reported once: the pair's
// baseline entry remembers the alert (markPairAlerted).
function otOutboundFound(pair: usize, originator: usize, responder: usize, ipVersion: u8): bool {
  if (pair != 0 && entryAlerted(pair)) return false;
  const source = judgedDevice(originator);
  if (source == 0 || (entryRoles(source) & ROLE_MODBUS_SERVER) == 0) return false;
  if (isExternalAddress(responder, ipVersion)) return true;
  const destination = judgedDevice(responder);
  return destination == 0 || entryRoles(destination) == 0;
}

// Scores the record at `record` (a closed record in the event buffer) against
// the installed models and appends an alert record for each model that fires.
// Then it learns the record into the traffic baselines, so that an alert's
// context describes what was known before the record.
export function evaluateModels(record: usize): void {
  const type = load<u16>(record, 4);
  if (type == RecordType.ALERT) return;
  indexRecord(record);

  const tsSec = load<u32>(record, 8);
  const nowMs = recordTimeMs(record);
  const originator = record + 28;
  const responder = record + 44;
  const service = serviceHash(record, type);
  historyBeginRecord(originator, responder, service);
  const modbusRequest = type == RecordType.MODBUS && isModbusRequest(record);
  // A request that travelled responder -> originator (flag bit 0) came from a
  // Modbus server that opened the connection: the device is the originator.
  const reversed = (load<u8>(record, 22) & FLAG_SERVER_TO_CLIENT) != 0;
  const device = reversed ? originator : responder;
  const client = reversed ? responder : originator;

  // DNP3 requests feed the same master baseline, keyed by the outstation's
  // link address in place of the unit id, and CIP requests by the device's
  // address alone.
  const masterRequest = modbusRequest || (type == RecordType.DNP3 || type == RecordType.ENIP) && isModbusRequest(record);
  observeHostMacs(record);
  if (modelCount > 0) evaluateInstalled(record, type, tsSec, nowMs, service, masterRequest, device, client);
  if (type == RecordType.FILE) noteFileRecord(record);

  let roleOfOriginator: u8 = 0;
  let roleOfResponder: u8 = 0;
  if (modbusRequest) {
    roleOfOriginator = reversed ? ROLE_MODBUS_SERVER : ROLE_MODBUS_CLIENT;
    roleOfResponder = reversed ? ROLE_MODBUS_CLIENT : ROLE_MODBUS_SERVER;
  }
  // A connection start is followed at once by the records of what the
  // connection carries; it learns the pair level only through them, so that
  // their alerts still find the pair new.
  historyObserve(originator, responder, service, tsSec, load<u32>(record), roleOfOriginator, roleOfResponder, type != RecordType.CONN);
  if (markPairAlerted) {
    markPairAlerted = false;
    const pair = historyFind(LEVEL_PAIR, originator, responder, 0);
    if (pair != 0) markAlerted(pair);
  }
  historyEndRecord();
  forgetIndexedRecord();
}

// Set by the ot_outbound scorer: mark the record's host pair as reported
// after the record is learned.
let markPairAlerted: bool = false;

// True when the Modbus request `record` to `device` from `client` breaks the
// installed firmware profile that covers the device, as the profile scorer
// `scorer` checks it. A device no profile covers never breaks one.
function profileViolated(scorer: u8, record: usize, device: usize, client: usize): bool {
  // Several profile models judge one record: the lookup (a scan of the
  // profile table) runs once per record.
  if (!profileLookupDone) {
    // Without installed profiles no device is covered: the unit id is not read.
    profileEntry = installedProfileDevices() == 0 ? 0 : profileFind(device, numberField(record, ModbusField.UNIT_ID, UNIT_ID_ABSENT));
    profileLookupDone = true;
  }
  const entry = profileEntry;
  if (entry == 0) return false;
  if (scorer == SCORER_PROFILE_MASTER) return profileMasterViolated(entry, client);
  const functionCode = numberField(record, ModbusField.FUNCTION_CODE, 0);
  if (scorer == SCORER_PROFILE_WRITE) return profileWriteViolated(entry, record, functionCode);
  return profileFunctionViolated(entry, functionCode);
}

// The profile entry of the record being judged, found by the first profile
// scorer that needs it (evaluateInstalled resets it for each record).
let profileLookupDone: bool = false;
let profileEntry: usize = 0;

function evaluateInstalled(
  record: usize, type: u16, tsSec: u32, nowMs: u64, service: u64, masterRequest: bool, device: usize, client: usize,
): void {
  // The profile and newcomer scorers judge Modbus requests only.
  const modbusRequest = masterRequest && type == RecordType.MODBUS;
  const originator = record + 28;
  const responder = record + 44;
  let unitField = unitIdFieldId;
  if (type == RecordType.DNP3) unitField = Dnp3Field.DESTINATION_ADDRESS;
  // A CIP request has no unit: field 0 is never written, so it reads as absent.
  else if (type == RecordType.ENIP) unitField = 0;
  const unitId = masterRequest && unitIdFieldId != 0 ? numberField(record, unitField, UNIT_ID_ABSENT) : UNIT_ID_ABSENT;
  // The history entries are looked up when the first model matches: most
  // records match none, and nothing changes the history before that point.
  let historyLooked = false;
  let serviceEntry: usize = 0;
  let pairEntry: usize = 0;
  const learningPeriod = inLearningPeriod(tsSec);
  profileLookupDone = false;
  judgedOriginator = originator;
  judgedResponder = responder;
  originatorDeviceLooked = false;
  responderDeviceLooked = false;
  if (nextMemoStamp()) lastKeyStamp = 0;

  // Only the models of the record's type, in table order (typeModelList),
  // and of those only the candidates of the record's key value.
  const listed = typeModelList(type);
  const models = typeModelCount(type);
  let candidates = candidateModels(record, type);
  for (let position: u32 = 0; position < models; position++) {
    // Jump to the next candidate. With the built-in models a Modbus record
    // has about 20 models of its type, and only a few are candidates.
    // Positions past MASKED_MODELS are all evaluated.
    if (position < MASKED_MODELS) {
      const ahead = candidates >> <u64>position;
      position = ahead != 0 ? position + <u32>ctz<u64>(ahead) : MASKED_MODELS;
      if (position >= models) break;
    }
    const i = load<u32>(listed + (<usize>position << 2));
    const model = tableBase + <usize>load<u32>(modelOffsets + (<usize>i << 2));
    if (!conditionsMatch(record, model, i)) {
      // The later models that test a failed shared condition fail as well.
      if (failedSlot != NOT_SHARED) candidates &= ~modelsTestingSlot(failedSlot);
      continue;
    }
    if (!historyLooked) {
      serviceEntry = historyFind(LEVEL_SERVICE, originator, responder, service);
      pairEntry = historyFind(LEVEL_PAIR, originator, responder, 0);
      historyLooked = true;
    }

    const base = <u32>load<u8>(model, 6);
    const learningPercent = <u32>load<u8>(model, 8);
    let scorerFactor: u8 = 0;
    let scorerPoints: i32 = 0;
    alertFileWrite = 0;
    const scorer = load<u8>(model, 7);
    if (scorer == SCORER_MODBUS_MASTER) {
      // Only requests have a client to judge; the scorer never fires on others.
      if (!masterRequest) continue;
      const minSpanMs = <u64>load<u32>(model, 24) * 1000;
      const status = masterStatus(device, unitId, client, load<u32>(model, 20), minSpanMs);
      if (status == MASTER_THIS_CLIENT) continue;
      if (status == MASTER_NONE) {
        scorerFactor = Factor.NO_MASTER_YET;
        scorerPoints = <i32>((base * learningPercent + 50) / 100) - <i32>base;
      }
    } else if (scorer == SCORER_BEACONING) {
      if (!beaconingFound(serviceEntry, originator, responder, load<u8>(record, 20), tsSec)) continue;
      scorerFactor = Factor.BEACONING;
      markAlerted(serviceEntry);
    } else if (scorer == SCORER_AFTER_FILE_WRITE) {
      alertFileWrite = findFileWrite(record, tsSec, load<u32>(model, 24));
      if (alertFileWrite == 0) continue;
    } else if (scorer >= SCORER_PROFILE_MASTER && scorer <= SCORER_PROFILE_FUNCTION) {
      if (!modbusRequest || !profileViolated(scorer, record, device, client)) continue;
      scorerFactor = Factor.PROFILE;
    } else if (scorer == SCORER_NEW_DEVICE || scorer == SCORER_NEW_MASTER) {
      if (!modbusRequest) continue;
      const newcomer = scorer == SCORER_NEW_DEVICE ? device : client;
      const role = scorer == SCORER_NEW_DEVICE ? ROLE_MODBUS_SERVER : ROLE_MODBUS_CLIENT;
      if (!newcomerFound(newcomer, role, tsSec, load<u32>(model, 24))) continue;
      scorerFactor = Factor.NEWCOMER;
    } else if (scorer == SCORER_OT_OUTBOUND) {
      if (!otOutboundFound(pairEntry, originator, responder, load<u8>(record, 20))) continue;
      scorerFactor = Factor.OT_OUTBOUND;
      // The first record of a pair has no entry yet; evaluateModels marks
      // the entry once it has learned the record.
      markPairAlerted = true;
    } else if (scorer == SCORER_LOGIN_BURST) {
      // The scorer keeps its own window and writes its own alerts.
      observeLoginBurst(record, i, model, tsSec);
      continue;
    } else if (scorer == SCORER_REMOTE_ACCESS_NOVELTY) {
      if (!remoteAccessIsNovel(serviceEntry, tsSec)) continue;
    }

    const frequencyCount = load<u32>(model, 12);
    if (frequencyCount > 0) {
      const windowMs = <u64>load<u32>(model, 16) * 1000;
      const distinctField = load<u16>(model, 36);
      if (distinctField != 0) {
        // A record without the field brings no value to count.
        const f = recordField(record, distinctField);
        if (f == 0) continue;
        const valueHash = fieldHash(FNV64_OFFSET, f);
        if (!frequencyObserveDistinct(i, frequencyKey(record, model), valueHash, nowMs, frequencyCount, windowMs)) continue;
      } else if (!frequencyObserve(i, frequencyKey(record, model), nowMs, frequencyCount, windowMs)) {
        continue;
      }
    }

    // The modbus_master scorer already scaled the score down for a device
    // with no master: the learning period does not scale it twice.
    scoreAlert(base, scorerFactor, scorerPoints, learningPeriod && scorerFactor != Factor.NO_MASTER_YET,
      learningPercent, serviceEntry, pairEntry, tsSec);
    writeAlert(record, i, base, serviceEntry, pairEntry);
  }

  // Learn from the request only after judging it, so that a new client's
  // first write is judged against the masters seen before it.
  if (masterRequest && unitIdFieldId != 0) masterObserve(device, unitId, client, nowMs);
}

// ---------------------------------------------------------------------------
// login_burst scorer (scorer-access.ts): the engine side, which scores and
// writes its alerts.

function observeLoginBurst(record: usize, modelIndex: u32, model: usize, tsSec: u32): void {
  const due = loginBurstObserve(modelIndex, frequencyKey(record, model), record, tsSec, load<u32>(model, 12), load<u32>(model, 16));
  const expired = takeExpiredBurst();
  if (expired != 0) {
    writeBurstAlert(burstRecord(expired), expired, false);
    releaseBurst(expired);
  }
  if (due != 0) {
    writeBurstAlert(record, due, true);
    releaseBurst(due);
  }
}

// Writes the alert of burst `b` on `record` (the success that ended it, or
// the burst's last failure), scored like any alert of the model.
function writeBurstAlert(record: usize, b: usize, succeeded: bool): void {
  const modelIndex = burstModelIndex(b);
  if (modelIndex >= modelCount) return;
  const model = tableBase + <usize>load<u32>(modelOffsets + (<usize>modelIndex << 2));
  const type = load<u16>(record, 4);
  const tsSec = load<u32>(record, 8);
  const service = historyFind(LEVEL_SERVICE, record + 28, record + 44, serviceHash(record, type));
  const pair = historyFind(LEVEL_PAIR, record + 28, record + 44, 0);
  const base = <u32>load<u8>(model, 6);
  scoreAlert(base, 0, 0, inLearningPeriod(tsSec), <u32>load<u8>(model, 8), service, pair, tsSec);
  const serverToClient = (load<u8>(record, 22) & FLAG_SERVER_TO_CLIENT) != 0;
  const alert = eventBufferBase() + <usize>eventBufferUsed();
  if (!beginRecord(RecordType.ALERT, serverToClient)) {
    countAnomaly(ModelAnomaly.ALERT_DROPPED);
    return;
  }
  memory.copy(alert + 8, record + 8, 14);
  memory.copy(alert + 24, record + 24, RECORD_HEADER_BYTES - 24);
  fieldU64(ModelField.MODEL_INDEX, modelIndex);
  writeScoreFields(base, service, pair, tsSec);
  writeBurstFields(b, succeeded);
  copyEvidence(record);
  endRecord();
}

function burstWindowOf(modelIndex: u32): u32 {
  return modelIndex < modelCount ? load<u32>(tableBase + <usize>load<u32>(modelOffsets + (<usize>modelIndex << 2)), 16) : 0;
}

function burstCountOf(modelIndex: u32): u32 {
  return modelIndex < modelCount ? load<u32>(tableBase + <usize>load<u32>(modelOffsets + (<usize>modelIndex << 2)), 12) : 0xffffffff;
}

function reportBurst(b: usize): void {
  writeBurstAlert(burstRecord(b), b, false);
}

// Reports login bursts whose window ended by `nowSec` (all of them when
// `all`, at the end of input). Returns false when it stopped to leave event
// room; drain the events and call again.
export function sweepModelBursts(nowSec: u32, all: bool): bool {
  if (modelCount == 0) return true;
  return sweepLoginBursts(nowSec, all, burstWindowOf, burstCountOf, reportBurst);
}
