// Field index of the record the model engine is scoring.
//
// Every model condition, `by` key and service hash looks up a field of the
// record by id. A linear scan per lookup costs (lookups x fields) per record,
// and a Modbus record meets some 20 models with one to three conditions
// each. The index stores, for each id below INDEXED_FIELD_ID_LIMIT, the
// first and the last field with that id, so a lookup costs one load. The
// event writer fills it as it writes a record (indexWrittenField), and
// indexRecord walks the fields of a record that the writer did not index.
// Ids at or above the limit, and lookups on any other record, fall back to
// the linear scan, so a lookup always returns what `findField` would return.
//
// Stamps mark which entries belong to the indexed record, so no entry is ever
// cleared between records.

import { RECORD_HEADER_BYTES, FIELD_HEADER_BYTES, findField } from "./events";

// One past the highest field id kept in the index. Protocol field ids run up
// to 1199 (FIELD_ID_LIMIT in protocols/fields.ts).
@inline export const INDEXED_FIELD_ID_LIMIT: u32 = 2048;

// Per id: u32 stamp, u32 offset of the first field, u32 offset of the last
// field, both from the record's start.
@inline const ENTRY_BYTES: u32 = 12;
const entries = memory.data(<i32>(INDEXED_FIELD_ID_LIMIT * ENTRY_BYTES));

let indexedRecord: usize = 0;
let stamp: u32 = 0;
// The record that the event writer is writing and indexing, or 0.
let writingRecord: usize = 0;

// Starts an index for a new record at `record`.
function startIndex(record: usize): void {
  stamp++;
  if (stamp == 0) {
    // The stamp wrapped: old entries could carry the new stamp.
    memory.fill(entries, 0, <usize>(INDEXED_FIELD_ID_LIMIT * ENTRY_BYTES));
    stamp = 1;
  }
  indexedRecord = record;
}

// Adds the field with `id` at `field` of the record at `record` to the index.
@inline function indexField(record: usize, field: usize, id: u32): void {
  if (id >= INDEXED_FIELD_ID_LIMIT) return;
  const entry = entries + <usize>(id * ENTRY_BYTES);
  const offset = <u32>(field - record);
  if (load<u32>(entry) != stamp) {
    store<u32>(entry, stamp);
    store<u32>(entry, offset, 4);
  }
  store<u32>(entry, offset, 8);
}

// Starts indexing the record that the event writer opened at `record`. The
// writer then reports each field it writes with indexWrittenField, in order,
// which builds the index that indexRecord would build on the closed record.
export function beginIndexing(record: usize): void {
  startIndex(record);
  writingRecord = record;
}

// Stops indexing written fields (the record closed, or the writer opened an
// alert, which the model engine does not score).
export function stopIndexing(): void {
  writingRecord = 0;
}

@inline export function indexWrittenField(field: usize, id: u16): void {
  if (writingRecord != 0) indexField(writingRecord, field, <u32>id);
}

// Indexes the fields of the closed record at `record`, unless the event
// writer indexed it as it wrote it. A field whose value runs past the
// record's length ends the walk, as it ends every scan of the model engine.
export function indexRecord(record: usize): void {
  if (record == indexedRecord && record != 0) return;
  startIndex(record);
  const end = record + <usize>load<u32>(record);
  let p = record + RECORD_HEADER_BYTES;
  while (p + FIELD_HEADER_BYTES <= end) {
    const next = p + FIELD_HEADER_BYTES + <usize>load<u16>(p, 4);
    if (next > end) break;
    indexField(record, p, <u32>load<u16>(p));
    p = next;
  }
}

// True when lookups of `id` in `record` can use the index.
@inline function indexCovers(record: usize, id: u16): bool {
  return record == indexedRecord && indexedRecord != 0 && <u32>id < INDEXED_FIELD_ID_LIMIT;
}

// Returns the first field with `id` in `record`, or 0 when it has none.
// Inlined: the model engine calls it for most conditions and keys.
@inline export function recordField(record: usize, id: u16): usize {
  if (!indexCovers(record, id)) return findField(record, id);
  const entry = entries + <usize>(<u32>id * ENTRY_BYTES);
  if (load<u32>(entry) != stamp) return 0;
  return record + <usize>load<u32>(entry, 4);
}

// Returns the last field with `id` in `record`, or 0 when it has none or the
// index does not cover the lookup (callers then scan to the record's end).
export function recordLastField(record: usize, id: u16): usize {
  if (!indexCovers(record, id)) return 0;
  const entry = entries + <usize>(<u32>id * ENTRY_BYTES);
  if (load<u32>(entry) != stamp) return 0;
  return record + <usize>load<u32>(entry, 8);
}

// Forgets the indexed record, so that a record later written at the same
// address is never read through stale entries.
export function forgetIndexedRecord(): void {
  indexedRecord = 0;
}
