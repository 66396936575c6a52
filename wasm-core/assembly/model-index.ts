// Indexes of the installed model table, built once per table so that a
// record meets only the models that can match it: the models grouped by
// record type, the candidate masks by key value, and the memo slots of
// shared conditions. models.ts installs the table and calls indexModels.

import { RecordType } from "../../protocols/fields";
import { FIELD_HEADER_BYTES } from "./events";
import { recordField, recordLastField, INDEXED_FIELD_ID_LIMIT } from "./record-index";
import {
  MAX_MODELS, MODEL_TABLE_MAX_BYTES, MODEL_HEADER_BYTES, CONDITION_HEADER_BYTES, VALUE_HEADER_BYTES,
  OP_EQUALS, OP_IN, FIELD_ID_SRC, FIELD_ID_DST, VALUE_INTEGER, readNumber, numberOk, numberValue,
} from "./models";

// The installed table (indexModels).
let tableBase: usize = 0;
let modelCount: u32 = 0;
let modelOffsets: usize = 0;

// Builds every index of the table at `base` with `count` models, whose
// offsets from `base` are the u32 at `offsets`.
export function indexModels(base: usize, offsets: usize, count: u32): void {
  // The regions sized by the table format are allocated once, here rather
  // than as static data: models.ts, which defines the format, imports this
  // file.
  if (modelsByType == 0) {
    modelsByType = heap.alloc(<usize>MAX_MODELS * 4);
    firstConditions = heap.alloc(<usize>MAX_MODELS * 4);
    conditionSlots = heap.alloc(<usize>(MODEL_TABLE_MAX_BYTES / CONDITION_HEADER_BYTES) * 2);
  }
  tableBase = base;
  modelOffsets = offsets;
  modelCount = count;
  groupModelsByType();
  indexModelsByKey();
  shareConditions();
}

// Model indexes grouped by the record type they watch, each group in table
// order (u32 x MAX_MODELS), and per record type up to RecordType.MAX the
// group's start in that list and its length (u32 pairs). Built at install
// time, so that a record meets only the models of its type.
let modelsByType: usize = 0;
const typeGroups = memory.data(<i32>((<u32>RecordType.MAX + 1) * 8));

@inline export function typeModelList(type: u16): usize {
  if (<u32>type > <u32>RecordType.MAX) return modelsByType;
  return modelsByType + (<usize>load<u32>(typeGroups + (<usize>type << 3)) << 2);
}

@inline export function typeModelCount(type: u16): u32 {
  if (<u32>type > <u32>RecordType.MAX) return 0;
  return load<u32>(typeGroups + (<usize>type << 3), 4);
}

// Fills modelsByType and typeGroups from the installed table. A model of a
// type above RecordType.MAX is never evaluated, as no record carries that type.
function groupModelsByType(): void {
  memory.fill(typeGroups, 0, <usize>((<u32>RecordType.MAX + 1) * 8));
  let listed: u32 = 0;
  for (let type: u32 = 0; type <= <u32>RecordType.MAX; type++) {
    store<u32>(typeGroups + (<usize>type << 3), listed);
    for (let i: u32 = 0; i < modelCount; i++) {
      const model = tableBase + <usize>load<u32>(modelOffsets + (<usize>i << 2));
      if (<u32>load<u16>(model, 4) != type) continue;
      store<u32>(modelsByType + (<usize>listed << 2), i);
      listed++;
    }
    store<u32>(typeGroups + (<usize>type << 3), listed - load<u32>(typeGroups + (<usize>type << 3)), 4);
  }
}

// ---------------------------------------------------------------------------
// Candidate index
//
// Most models of a record type test one integer field with equals or in: the
// Modbus function code, the DCE-RPC opnum. At install time the engine picks,
// per record type, the field that the most models test this way (the key
// field). For each key value below KEY_VALUES it writes a mask of the type's
// models that a record with that value can match. These are the models whose
// key condition lists the value, and the models without a key condition. A
// record whose key field appears once then meets only the models of its mask.
// Other records meet all models of their type. A model's key condition still
// runs with its other conditions, so the index only skips models that could
// not match.
//
// A mask covers the first MASKED_MODELS models of a type (their positions in
// the type's group); later models of the type are always evaluated.

@inline const KEY_VALUES: u32 = 256;
@inline export const MASKED_MODELS: u32 = 64;
// Types with a key field, each with KEY_VALUES masks (u64). Types past the
// first MAX_KEYED_TYPES that have one evaluate all their models.
@inline const MAX_KEYED_TYPES: u32 = 16;
@inline const NO_KEY_SLOT: u8 = 0xff;
@inline const ALL_MODELS: u64 = 0xffffffffffffffff;

// Per record type up to RecordType.MAX: u16 key field id (0: none), u8 slot
// of its masks, u8 reserved, u32 reserved, u64 mask of the models without a
// key condition.
@inline const TYPE_KEY_BYTES: u32 = 16;
const typeKeys = memory.data(<i32>((<u32>RecordType.MAX + 1) * TYPE_KEY_BYTES));
const keyMasks = memory.data(<i32>(MAX_KEYED_TYPES * KEY_VALUES * 8));

// True when the condition at `c` holds only for a number equal to one of its
// values and every value is an integer in 0..KEY_VALUES-1.
function isKeyCondition(c: usize): bool {
  const op = load<u8>(c, 2);
  if (op != OP_EQUALS && op != OP_IN) return false;
  const id = load<u16>(c);
  if (id == FIELD_ID_SRC || id == FIELD_ID_DST || <u32>id >= INDEXED_FIELD_ID_LIMIT) return false;
  const values = <u32>load<u8>(c, 3);
  let operand = c + CONDITION_HEADER_BYTES;
  for (let i: u32 = 0; i < values; i++) {
    if (load<u8>(operand) != VALUE_INTEGER) return false;
    const value = load<i64>(operand + VALUE_HEADER_BYTES);
    if (value < 0 || value >= <i64>KEY_VALUES) return false;
    operand += <usize>VALUE_HEADER_BYTES + <usize>load<u16>(operand, 2);
  }
  return true;
}

// The first key condition of `model` on field `id`, or 0.
function keyConditionOf(model: usize, id: u16): usize {
  const count = <u32>load<u8>(model, 9);
  let condition = model + MODEL_HEADER_BYTES;
  for (let i: u32 = 0; i < count; i++) {
    if (load<u16>(condition) == id && isKeyCondition(condition)) return condition;
    condition += <usize>load<u32>(condition, 4);
  }
  return 0;
}

@inline function groupModel(listed: usize, position: u32): usize {
  return tableBase + <usize>load<u32>(modelOffsets + (<usize>load<u32>(listed + (<usize>position << 2)) << 2));
}

// The field that the most masked models of `type` have a key condition on
// (the lowest id among equals), or 0 when no model has one.
function chooseKeyField(type: u16): u16 {
  const listed = typeModelList(type);
  let models = typeModelCount(type);
  if (models > MASKED_MODELS) models = MASKED_MODELS;
  let best: u16 = 0;
  let bestModels: u32 = 0;
  for (let m: u32 = 0; m < models; m++) {
    const model = groupModel(listed, m);
    const count = <u32>load<u8>(model, 9);
    let condition = model + MODEL_HEADER_BYTES;
    for (let c: u32 = 0; c < count; c++) {
      const id = load<u16>(condition);
      if (isKeyCondition(condition)) {
        let using: u32 = 0;
        for (let other: u32 = 0; other < models; other++) {
          if (keyConditionOf(groupModel(listed, other), id) != 0) using++;
        }
        if (using > bestModels || (using == bestModels && id < best)) {
          best = id;
          bestModels = using;
        }
      }
      condition += <usize>load<u32>(condition, 4);
    }
  }
  return best;
}

// Fills typeKeys and keyMasks from the grouped models (groupModelsByType).
function indexModelsByKey(): void {
  let slots: u32 = 0;
  for (let type: u32 = 0; type <= <u32>RecordType.MAX; type++) {
    const entry = typeKeys + <usize>(type * TYPE_KEY_BYTES);
    store<u16>(entry, 0);
    store<u8>(entry, NO_KEY_SLOT, 2);
    store<u64>(entry, ALL_MODELS, 8);
    const key = chooseKeyField(<u16>type);
    if (key == 0 || slots == MAX_KEYED_TYPES) continue;
    const masks = keyMasks + <usize>(slots * KEY_VALUES * 8);
    const listed = typeModelList(<u16>type);
    let models = typeModelCount(<u16>type);
    if (models > MASKED_MODELS) models = MASKED_MODELS;
    // Positions past the masked models stay set, so that no mask drops them.
    let unkeyed = ALL_MODELS;
    for (let m: u32 = 0; m < models; m++) {
      if (keyConditionOf(groupModel(listed, m), key) != 0) unkeyed &= ~(<u64>1 << m);
    }
    for (let v: u32 = 0; v < KEY_VALUES; v++) store<u64>(masks + (<usize>v << 3), unkeyed);
    for (let m: u32 = 0; m < models; m++) {
      const condition = keyConditionOf(groupModel(listed, m), key);
      if (condition == 0) continue;
      const values = <u32>load<u8>(condition, 3);
      let operand = condition + CONDITION_HEADER_BYTES;
      for (let i: u32 = 0; i < values; i++) {
        const slot = masks + (<usize>load<i64>(operand + VALUE_HEADER_BYTES) << 3);
        store<u64>(slot, load<u64>(slot) | (<u64>1 << m));
        operand += <usize>VALUE_HEADER_BYTES + <usize>load<u16>(operand, 2);
      }
    }
    store<u16>(entry, key);
    store<u8>(entry, <u8>slots, 2);
    store<u64>(entry, unkeyed, 8);
    slots++;
  }
}

// The mask of the models of `type` (positions in its group) that the indexed
// record `record` can match.
export function candidateModels(record: usize, type: u16): u64 {
  if (<u32>type > <u32>RecordType.MAX) return ALL_MODELS;
  const entry = typeKeys + (<usize>type * TYPE_KEY_BYTES);
  const key = load<u16>(entry);
  if (key == 0) return ALL_MODELS;
  const f = recordField(record, key);
  // Without the field no key condition holds.
  if (f == 0) return load<u64>(entry, 8);
  // A repeated field matches a condition through any of its values.
  if (recordLastField(record, key) != f) return ALL_MODELS;
  readNumber(load<u8>(f, 2), f + FIELD_HEADER_BYTES, <u32>load<u16>(f, 4));
  if (!numberOk || numberValue < 0 || numberValue >= <i64>KEY_VALUES) return load<u64>(entry, 8);
  return load<u64>(keyMasks + <usize>((<u32>load<u8>(entry, 2) * KEY_VALUES + <u32>numberValue) << 3));
}

// ---------------------------------------------------------------------------
// Shared conditions
//
// Many models repeat a condition (a Modbus model mostly starts with
// `pdu_type equals request`). At install time each condition that another
// model of the same record type repeats byte for byte gets a memo slot. A
// record meets only the models of its type, so a slot shared across types
// would never be read back. While a record is judged, the first test of a
// shared condition stores its result there, and later tests read it. A slot
// contains the stamp of the record it was written for, shifted left by one,
// with the result in bit 0. When a shared condition fails, every model that
// tests it fails too: slotModels lists them, so the engine skips them
// without a test.

@inline const MAX_SHARED_CONDITIONS: u32 = 1024;
@inline export const NOT_SHARED: u16 = 0xffff;
// Memo slot of each condition of the table in order (u16, NOT_SHARED:
// evaluated every time), at most one per CONDITION_HEADER_BYTES of the
// table, and the number of each model's first condition (u32 x MAX_MODELS).
let conditionSlots: usize = 0;
let firstConditions: usize = 0;
const conditionMemo = memory.data(<i32>(MAX_SHARED_CONDITIONS * 4));
// Per memo slot (u64): the positions in their type's group, below
// MASKED_MODELS, of the models that test the slot's condition.
const slotModels = memory.data(<i32>(MAX_SHARED_CONDITIONS * 8));
// Stamp of the record being judged (nextMemoStamp).
export let memoStamp: u32 = 0;
@inline export const MEMO_UNKNOWN: u32 = 2;

// The memo slot of condition `c` (counted from 0) of model `modelIndex`, or
// NOT_SHARED.
@inline export function conditionSlot(modelIndex: u32, c: u32): u16 {
  return load<u16>(conditionSlots + (<usize>(load<u32>(firstConditions + (<usize>modelIndex << 2)) + c) << 1));
}

// The result of memo slot `slot` for the record being judged (0 or 1), or
// MEMO_UNKNOWN when no model has tested its condition yet.
@inline export function memoResult(slot: u16): u32 {
  const known = load<u32>(conditionMemo + (<usize>slot << 2));
  return (known >> 1) == memoStamp ? known & 1 : MEMO_UNKNOWN;
}

// The candidate positions (as candidateModels returns them) of the models
// that test the condition of memo slot `slot`.
@inline export function modelsTestingSlot(slot: u16): u64 {
  return load<u64>(slotModels + (<usize>slot << 3));
}

@inline export function memoStore(slot: u16, holds: bool): void {
  store<u32>(conditionMemo + (<usize>slot << 2), (memoStamp << 1) | <u32>holds);
}

@inline function sameCondition(a: usize, b: usize): bool {
  const length = load<u32>(a, 4);
  return length == load<u32>(b, 4) && memory.compare(a, b, <usize>length) == 0;
}

// Fills conditionSlots and firstConditions from the installed table.
function shareConditions(): void {
  let number: u32 = 0;
  for (let i: u32 = 0; i < modelCount; i++) {
    store<u32>(firstConditions + (<usize>i << 2), number);
    const model = tableBase + <usize>load<u32>(modelOffsets + (<usize>i << 2));
    const count = <u32>load<u8>(model, 9);
    let condition = model + MODEL_HEADER_BYTES;
    for (let c: u32 = 0; c < count; c++) {
      store<u16>(conditionSlots + (<usize>number << 1), NOT_SHARED);
      number++;
      condition += <usize>load<u32>(condition, 4);
    }
  }
  // Pair each condition with the first equal one of an earlier model of the
  // same record type.
  let slots: u32 = 0;
  for (let i: u32 = 1; i < modelCount; i++) {
    const model = tableBase + <usize>load<u32>(modelOffsets + (<usize>i << 2));
    const type = load<u16>(model, 4);
    const count = <u32>load<u8>(model, 9);
    let condition = model + MODEL_HEADER_BYTES;
    for (let c: u32 = 0; c < count; c++) {
      const at = conditionSlots + (<usize>(load<u32>(firstConditions + (<usize>i << 2)) + c) << 1);
      for (let j: u32 = 0; j < i && load<u16>(at) == NOT_SHARED; j++) {
        const earlier = tableBase + <usize>load<u32>(modelOffsets + (<usize>j << 2));
        if (load<u16>(earlier, 4) != type) continue;
        const earlierCount = <u32>load<u8>(earlier, 9);
        let other = earlier + MODEL_HEADER_BYTES;
        for (let k: u32 = 0; k < earlierCount; k++) {
          if (sameCondition(condition, other)) {
            const earlierNumber = load<u32>(firstConditions + (<usize>j << 2)) + k;
            let slot = load<u16>(conditionSlots + (<usize>earlierNumber << 1));
            if (slot == NOT_SHARED && slots < MAX_SHARED_CONDITIONS) {
              slot = <u16>slots;
              slots++;
              store<u16>(conditionSlots + (<usize>earlierNumber << 1), slot);
            }
            store<u16>(at, slot);
            break;
          }
          other += <usize>load<u32>(other, 4);
        }
      }
      condition += <usize>load<u32>(condition, 4);
    }
  }
  listModelsBySlot(slots);
}

// Fills slotModels for the first `slots` memo slots from the grouped models.
function listModelsBySlot(slots: u32): void {
  memory.fill(slotModels, 0, <usize>slots << 3);
  for (let type: u32 = 0; type <= <u32>RecordType.MAX; type++) {
    const listed = typeModelList(<u16>type);
    let models = typeModelCount(<u16>type);
    if (models > MASKED_MODELS) models = MASKED_MODELS;
    for (let position: u32 = 0; position < models; position++) {
      const i = load<u32>(listed + (<usize>position << 2));
      const count = <u32>load<u8>(groupModel(listed, position), 9);
      for (let c: u32 = 0; c < count; c++) {
        const slot = conditionSlot(i, c);
        if (slot == NOT_SHARED) continue;
        const entry = slotModels + (<usize>slot << 3);
        store<u64>(entry, load<u64>(entry) | (<u64>1 << position));
      }
    }
  }
}

// Starts the memo of a new record. Stamps only grow, so that nothing written
// for an earlier record or table is read back, until they wrap: then the
// memo is emptied, and the function returns true so that the caller empties
// what else it keeps by stamp.
export function nextMemoStamp(): bool {
  memoStamp++;
  if (memoStamp <= 0x7fffffff) return false;
  memory.fill(conditionMemo, 0, <usize>(MAX_SHARED_CONDITIONS * 4));
  memoStamp = 1;
  return true;
}
