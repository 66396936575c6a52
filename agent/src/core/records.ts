// Decoding of the core's event buffer into CoreRecord objects. The record
// layout is drawn in wasm-core/assembly/events.ts; this is its only reader.
import type { CoreRecord, Endpoint, FieldValue } from "./core.js";

export const RECORD_HEADER_BYTES = 60;
const FIELD_HEADER_BYTES = 6;
const FLAG_SERVER_TO_CLIENT = 1;
const FLAG_TRUNCATED = 2;

// Value types (ValueType in protocols/fields.ts).
const VALUE_U64 = 1;
const VALUE_STR = 2;
const VALUE_BYTES = 3;
const VALUE_BOOL = 4;
const VALUE_I64 = 5;

const IP_PROTOCOL_TCP = 6;
const IP_PROTOCOL_UDP = 17;

// Name tables read once from the core at load time.
export interface NameTables {
  fieldNames: string[];        // by field id; "" when unassigned
  recordTypeNames: string[];   // by record type
}

export class EventDecodeError extends Error {
  readonly code = "CORE_EVENT_INVALID";
  constructor(message: string) {
    super(message);
    this.name = "EventDecodeError";
  }
}

const utf8 = new TextDecoder("utf-8");

// Strings up to this length that are plain ASCII are built without the
// TextDecoder, whose call cost more than the copy for short values in the
// core benchmark's profile.
const SHORT_STRING_BYTES = 64;
// ASCII strings up to this length are looked up in a direct-mapped cache
// first: most are names that repeat in every record (pdu_type "request",
// Modbus function names, SMB commands), and a hit builds no string.
const CACHED_STRING_BYTES = 32;
const STRING_CACHE_SLOTS = 1024;
const stringCache: string[] = new Array<string>(STRING_CACHE_SLOTS).fill("");

function decodeText(bytes: Uint8Array, start: number, end: number): string {
  const length = end - start;
  if (length > SHORT_STRING_BYTES) return utf8.decode(bytes.subarray(start, end));
  if (length > CACHED_STRING_BYTES) return asciiText(bytes, start, end) ?? utf8.decode(bytes.subarray(start, end));
  // FNV-1a over the bytes; a byte of 0x80 or above is UTF-8, which the
  // TextDecoder handles.
  let hash = 0x811c9dc5;
  for (let i = start; i < end; i++) {
    const b = bytes[i];
    if (b >= 0x80) return utf8.decode(bytes.subarray(start, end));
    hash = Math.imul(hash ^ b, 0x01000193);
  }
  const slot = (hash ^ (hash >>> 16)) & (STRING_CACHE_SLOTS - 1);
  const cached = stringCache[slot];
  if (cached.length === length && sameText(cached, bytes, start)) return cached;
  const text = asciiText(bytes, start, end)!;
  stringCache[slot] = text;
  return text;
}

// The bytes as text when all are ASCII, else undefined.
function asciiText(bytes: Uint8Array, start: number, end: number): string | undefined {
  let text = "";
  for (let i = start; i < end; i++) {
    const b = bytes[i];
    if (b >= 0x80) return undefined;
    text += String.fromCharCode(b);
  }
  return text;
}

function sameText(text: string, bytes: Uint8Array, start: number): boolean {
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) !== bytes[start + i]) return false;
  }
  return true;
}

// IPv4 address text by the address as a 32-bit number. A record carries its
// flow's two addresses, so the same few repeat. The cache is cleared when it
// reaches IPV4_CACHE_LIMIT addresses.
const IPV4_CACHE_LIMIT = 65536;
const ipv4Text = new Map<number, string>();

function ipv4ToText(bytes: Uint8Array, offset: number): string {
  const key = ((bytes[offset] << 24) | (bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3]) >>> 0;
  let text = ipv4Text.get(key);
  if (text === undefined) {
    text = `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
    if (ipv4Text.size >= IPV4_CACHE_LIMIT) ipv4Text.clear();
    ipv4Text.set(key, text);
  }
  return text;
}

// Formats a 16-byte address field as IPv4 dotted text or RFC 5952 IPv6 text.
export function ipToText(bytes: Uint8Array, offset: number, version: number): string {
  if (version === 4) {
    return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
  }
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((bytes[offset + 2 * i] << 8) | bytes[offset + 2 * i + 1]);
  // RFC 5952 section 4.2: the longest run of two or more zero groups becomes
  // "::", the first such run on a tie.
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) { bestStart = i; bestLength = j - i; }
    i = j;
  }
  const hex = (g: number) => g.toString(16);
  if (bestStart < 0) return groups.map(hex).join(":");
  const head = groups.slice(0, bestStart).map(hex).join(":");
  const tail = groups.slice(bestStart + bestLength).map(hex).join(":");
  return `${head}::${tail}`;
}

// ISO 8601 UTC with microseconds: "2017-05-04T13:59:01.123456Z". Consecutive
// records mostly share a second, so the text up to the seconds is kept for
// the last second seen.
let isoSecond = -1;
let isoPrefix = "";

export function isoTimestamp(tsSec: number, tsNsec: number): string {
  if (tsSec !== isoSecond) {
    isoPrefix = new Date(tsSec * 1000).toISOString().slice(0, 19);   // "...T13:59:01"
    isoSecond = tsSec;
  }
  const micros = Math.floor(tsNsec / 1000);
  // Six digits with leading zeros; tsNsec below 10^9 keeps micros below 10^6.
  const digits = micros < 1_000_000 ? String(1_000_000 + micros).slice(1) : micros.toString().padStart(6, "0");
  return `${isoPrefix}.${digits}Z`;
}

const HEX_PAIRS = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0"));

// Byte fields longer than this (Modbus register values, hashes) are turned
// into hex by Buffer's native encoder, which builds no string per byte.
const NATIVE_HEX_BYTES = 16;

function toHex(bytes: Uint8Array): string {
  if (bytes.length > NATIVE_HEX_BYTES) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("hex");
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += HEX_PAIRS[bytes[i]];
  return out;
}

// A field id that repeats in one record becomes an array of its values.
// Single values from the core are never arrays, so an array found here comes
// from an earlier repetition. `fieldSeen[id] === recordNumber` marks a field
// id already written in the record being decoded, so a first value is stored
// without looking the name up.
let fieldSeen = new Uint32Array(1024);
let recordNumber = 0;

// Two field ids may share a JSON name; `fieldSeen` is indexed by the first
// id with the name, kept per name table.
const nameSlots = new WeakMap<string[], Uint32Array>();

function slotsOf(fieldNames: string[]): Uint32Array {
  let slots = nameSlots.get(fieldNames);
  if (slots === undefined) {
    slots = new Uint32Array(fieldNames.length);
    const first = new Map<string, number>();
    for (let id = 0; id < fieldNames.length; id++) {
      const name = fieldNames[id] || `field_${id}`;
      const known = first.get(name);
      if (known === undefined) first.set(name, id);
      slots[id] = known ?? id;
    }
    nameSlots.set(fieldNames, slots);
  }
  return slots;
}

function addRepeatedField(fields: Record<string, FieldValue>, name: string, value: FieldValue): void {
  const existing = fields[name];
  if (Array.isArray(existing)) existing.push(value);
  else fields[name] = [existing, value];
}

// Reads the two 32-bit halves: the high half times 2^32 is exact, and the
// one addition rounds to the nearest double as Number(BigInt) does. Counters
// and ids above 2^53 lose precision as JSON numbers; they do not occur in the
// fields the dissectors write (ids, lengths, offsets).
function readU64(view: DataView, at: number, signed: boolean): number {
  const low = view.getUint32(at, true);
  const high = signed ? view.getInt32(at + 4, true) : view.getUint32(at + 4, true);
  return high * 4294967296 + low;
}

// Which records a consumer wants decoded. A record of a type for which
// `decodes` is false is not turned into an object: `onSkipped` only learns
// its type, which saves most of the host's work when, say, a replay prints
// alerts only.
export interface RecordFilter {
  decodes(type: string): boolean;
  onSkipped(type: string): void;
  // The JSON names of the fields to decode in a record of `type`, or
  // undefined for all of them. The other fields are skipped unread, which
  // saves the host most of its work when only the OT inventory reads records.
  fields?(type: string): readonly string[] | undefined;
  // True when the consumer of records of `type` reads each record only
  // while its callback runs. The decoder then hands out one record object,
  // overwritten by the next record, so no object is built per record. Its
  // `ts` is formatted only when read, and the fields the record does not
  // carry read as undefined.
  reusesRecords?(type: string): boolean;
}

// Field masks by name list and name table: mask[id] is 1 for the ids whose
// name is in the list.
const fieldMasks = new WeakMap<readonly string[], WeakMap<string[], Uint8Array>>();

function fieldMaskOf(list: readonly string[], fieldNames: string[]): Uint8Array {
  let byTable = fieldMasks.get(list);
  if (byTable === undefined) {
    byTable = new WeakMap();
    fieldMasks.set(list, byTable);
  }
  let mask = byTable.get(fieldNames);
  if (mask === undefined) {
    const listed = new Set(list);
    mask = new Uint8Array(fieldNames.length);
    for (let id = 0; id < fieldNames.length; id++) mask[id] = listed.has(fieldNames[id]) ? 1 : 0;
    byTable.set(fieldNames, mask);
  }
  return mask;
}

// Decodes every record in bytes[start, end) and calls `onRecord` for each
// (or `filter.onSkipped` for the types the filter leaves out). `bytes` is a
// view of core memory; values are copied out before returning.
export function decodeRecords(
  bytes: Uint8Array, start: number, end: number, names: NameTables, onRecord: (record: CoreRecord) => void,
  filter?: RecordFilter,
): void {
  // A consumer that drains the core again from its callback gets new
  // objects in the inner drain, so the record of the outer one stays intact.
  const mayReuse = !reusedRecordBusy;
  reusedRecordBusy = true;
  try {
    decodeRange(bytes, start, end, names, onRecord, filter, mayReuse);
  } finally {
    if (mayReuse) reusedRecordBusy = false;
  }
}

function decodeRange(
  bytes: Uint8Array, start: number, end: number, names: NameTables, onRecord: (record: CoreRecord) => void,
  filter: RecordFilter | undefined, mayReuse: boolean,
): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const slots = slotsOf(names.fieldNames);
  // The mask of the last record type seen: a batch is mostly one type, so
  // the filter and the mask tables are asked once per run of that type.
  let maskType = -1;
  let typeMask: Uint8Array | undefined;
  let typeReused = false;
  let at = start;
  while (at < end) {
    if (end - at < RECORD_HEADER_BYTES) {
      throw new EventDecodeError(`core event at byte ${at - start} is cut short: ${end - at} bytes left, a record header needs ${RECORD_HEADER_BYTES}; the core and this loader disagree on the record layout (rebuild build/core.wasm)`);
    }
    const length = view.getUint32(at, true);
    if (length < RECORD_HEADER_BYTES || length > end - at) {
      throw new EventDecodeError(`core event at byte ${at - start} has invalid length ${length} (${end - at} bytes left); the core and this loader disagree on the record layout (rebuild build/core.wasm)`);
    }
    let mask: Uint8Array | undefined;
    let reused = false;
    if (filter) {
      const typeNumber = view.getUint16(at + 4, true);
      const type = names.recordTypeNames[typeNumber] || `type_${typeNumber}`;
      if (!filter.decodes(type)) {
        filter.onSkipped(type);
        at += length;
        continue;
      }
      if (typeNumber !== maskType) {
        const list = filter.fields?.(type);
        typeMask = list === undefined ? undefined : fieldMaskOf(list, names.fieldNames);
        typeReused = mayReuse && filter.reusesRecords?.(type) === true;
        maskType = typeNumber;
      }
      mask = typeMask;
      reused = typeReused;
    }
    onRecord(reused ? decodeIntoReused(bytes, view, at, length, names, slots, mask) : decodeRecord(bytes, view, at, length, names, slots, mask));
    at += length;
  }
}

// The record that decodeIntoReused overwrites. `ts` is a getter, so a
// consumer that never reads it (the OT inventory) formats no text.
class ReusedRecord implements CoreRecord {
  type = "";
  tsSec = 0;
  tsNsec = 0;
  flowId = 0;
  transport: "tcp" | "udp" = "tcp";
  serverToClient = false;
  truncated = false;
  readonly src: Endpoint = { ip: "", port: 0 };
  readonly dst: Endpoint = { ip: "", port: 0 };
  readonly fields: Record<string, FieldValue> = {};
  // Names set in `fields` by the record decoded last, the first
  // `fieldNameCount` of them, cleared before the next.
  readonly fieldNames: string[] = [];
  fieldNameCount = 0;

  get ts(): string {
    return isoTimestamp(this.tsSec, this.tsNsec);
  }
}

const reusedRecord = new ReusedRecord();
// Set while decodeRecords runs.
let reusedRecordBusy = false;

function decodeIntoReused(
  bytes: Uint8Array, view: DataView, at: number, length: number, names: NameTables, slots: Uint32Array, mask?: Uint8Array,
): CoreRecord {
  const record = reusedRecord;
  const header = readHeader(bytes, view, at);
  record.type = names.recordTypeNames[header.type] || `type_${header.type}`;
  record.tsSec = header.tsSec;
  record.tsNsec = header.tsNsec;
  record.flowId = header.flowId;
  record.transport = header.transport;
  record.serverToClient = header.serverToClient;
  record.truncated = header.truncated;
  record.src.ip = header.srcIp;
  record.src.port = header.srcPort;
  record.dst.ip = header.dstIp;
  record.dst.port = header.dstPort;
  const fields = record.fields;
  const set = record.fieldNames;
  for (let i = 0; i < record.fieldNameCount; i++) fields[set[i]] = undefined as unknown as FieldValue;
  record.fieldNameCount = decodeFields(bytes, view, at, length, header.fieldCount, header.flowId, names, slots, mask, fields, set);
  return record;
}

function decodeRecord(
  bytes: Uint8Array, view: DataView, at: number, length: number, names: NameTables, slots: Uint32Array, mask?: Uint8Array,
): CoreRecord {
  const header = readHeader(bytes, view, at);
  const fields: Record<string, FieldValue> = {};
  decodeFields(bytes, view, at, length, header.fieldCount, header.flowId, names, slots, mask, fields, undefined);
  return {
    type: names.recordTypeNames[header.type] || `type_${header.type}`,
    tsSec: header.tsSec,
    tsNsec: header.tsNsec,
    ts: isoTimestamp(header.tsSec, header.tsNsec),
    flowId: header.flowId,
    transport: header.transport,
    serverToClient: header.serverToClient,
    truncated: header.truncated,
    src: { ip: header.srcIp, port: header.srcPort },
    dst: { ip: header.dstIp, port: header.dstPort },
    fields,
  };
}

// The fixed part of the record being decoded. One object serves every
// record: its values are copied out before the next record is read.
const header = {
  type: 0,
  fieldCount: 0,
  tsSec: 0,
  tsNsec: 0,
  flowId: 0,
  transport: "tcp" as "tcp" | "udp",
  serverToClient: false,
  truncated: false,
  srcIp: "",
  srcPort: 0,
  dstIp: "",
  dstPort: 0,
};

function readHeader(bytes: Uint8Array, view: DataView, at: number): typeof header {
  const flowId = view.getUint32(at + 16, true);
  const ipVersion = bytes[at + 20];
  const transportNumber = bytes[at + 21];
  const flags = bytes[at + 22];
  header.type = view.getUint16(at + 4, true);
  header.fieldCount = view.getUint16(at + 6, true);
  header.tsSec = view.getUint32(at + 8, true);
  header.tsNsec = view.getUint32(at + 12, true);
  header.flowId = flowId;
  header.srcPort = view.getUint16(at + 24, true);
  header.dstPort = view.getUint16(at + 26, true);
  header.srcIp = ipVersion === 4 ? ipv4ToText(bytes, at + 28) : ipToText(bytes, at + 28, ipVersion);
  header.dstIp = ipVersion === 4 ? ipv4ToText(bytes, at + 44) : ipToText(bytes, at + 44, ipVersion);
  if (transportNumber !== IP_PROTOCOL_TCP && transportNumber !== IP_PROTOCOL_UDP) {
    throw new EventDecodeError(`core event of flow ${flowId} has transport ${transportNumber}; expected 6 (TCP) or 17 (UDP)`);
  }
  header.transport = transportNumber === IP_PROTOCOL_TCP ? "tcp" : "udp";
  header.serverToClient = (flags & FLAG_SERVER_TO_CLIENT) !== 0;
  header.truncated = (flags & FLAG_TRUNCATED) !== 0;
  return header;
}

// Decodes the fields of the record at `at` into `fields`. With `set`, it
// writes the names it assigned there into `set` from index 0 on and
// returns their number.
function decodeFields(
  bytes: Uint8Array, view: DataView, at: number, length: number, fieldCount: number, flowId: number,
  names: NameTables, slots: Uint32Array, mask: Uint8Array | undefined, fields: Record<string, FieldValue>, set: string[] | undefined,
): number {
  let assigned = 0;
  recordNumber = (recordNumber + 1) >>> 0;
  if (recordNumber === 0) {
    fieldSeen.fill(0);
    recordNumber = 1;
  }
  const end = at + length;
  let p = at + RECORD_HEADER_BYTES;
  for (let i = 0; i < fieldCount; i++) {
    if (end - p < FIELD_HEADER_BYTES) {
      throw new EventDecodeError(`core event of flow ${flowId} announces ${fieldCount} fields but ends after ${i}`);
    }
    const id = view.getUint16(p, true);
    const valueType = bytes[p + 2];
    const valueLength = view.getUint16(p + 4, true);
    const v = p + FIELD_HEADER_BYTES;
    if (valueLength > end - v) {
      throw new EventDecodeError(`field ${id} of a core event of flow ${flowId} has length ${valueLength}, past the record end`);
    }
    if (mask !== undefined && mask[id] !== 1) {
      p = v + valueLength;
      continue;
    }
    const name = names.fieldNames[id] || `field_${id}`;
    let value: FieldValue;
    switch (valueType) {
      case VALUE_U64:
      case VALUE_I64:
        if (valueLength !== 8) throw new EventDecodeError(`field ${name} (${id}) of flow ${flowId} is an integer of ${valueLength} bytes; expected 8`);
        value = readU64(view, v, valueType === VALUE_I64);
        break;
      case VALUE_STR:
        value = decodeText(bytes, v, v + valueLength);
        break;
      case VALUE_BYTES:
        value = toHex(bytes.subarray(v, v + valueLength));
        break;
      case VALUE_BOOL:
        if (valueLength !== 1) throw new EventDecodeError(`field ${name} (${id}) of flow ${flowId} is a boolean of ${valueLength} bytes; expected 1`);
        value = bytes[v] !== 0;
        break;
      default:
        throw new EventDecodeError(`field ${name} (${id}) of flow ${flowId} has unknown value type ${valueType}`);
    }
    const slot = id < slots.length ? slots[id] : id;
    if (slot >= fieldSeen.length) {
      const grown = new Uint32Array(Math.max(slot + 1, fieldSeen.length * 2));
      grown.set(fieldSeen);
      fieldSeen = grown;
    }
    if (fieldSeen[slot] === recordNumber) {
      addRepeatedField(fields, name, value);
    } else {
      fieldSeen[slot] = recordNumber;
      fields[name] = value;
      if (set !== undefined) set[assigned++] = name;
    }
    p = v + valueLength;
  }
  return assigned;
}
