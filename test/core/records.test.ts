// Decoding of the core's event layout (wasm-core/assembly/events.ts) on the
// host, from hand-built bytes.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { decodeRecords, ipToText, isoTimestamp, EventDecodeError, type NameTables } from "../../agent/src/core/records.js";
import type { CoreRecord } from "../../agent/src/core/core.js";

const names: NameTables = {
  fieldNames: Object.assign([] as string[], { 1: "pdu_type", 2: "truncated", 100: "transaction_id", 300: "interface_uuid", 301: "stub", 302: "offset" }),
  recordTypeNames: Object.assign([] as string[], { 1: "modbus", 3: "dcerpc" }),
};

interface FieldSpec { id: number; type: number; value: number[] }

function record(type: number, fields: FieldSpec[], options: { ipVersion?: number; flags?: number; transport?: number } = {}): Uint8Array {
  const body = fields.flatMap((f) => [f.id & 0xff, f.id >> 8, f.type, 0, f.value.length & 0xff, f.value.length >> 8, ...f.value]);
  const out = new Uint8Array(60 + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, out.length, true);
  view.setUint16(4, type, true);
  view.setUint16(6, fields.length, true);
  view.setUint32(8, 1_493_906_341, true);
  view.setUint32(12, 123_456_789, true);
  view.setUint32(16, 42, true);
  out[20] = options.ipVersion ?? 4;
  out[21] = options.transport ?? 6;
  out[22] = options.flags ?? 0;
  view.setUint16(24, 49152, true);
  view.setUint16(26, 502, true);
  out.set([192, 168, 1, 10], 28);
  out.set([192, 168, 1, 20], 44);
  out.set(body, 60);
  return out;
}

const u64 = (v: number) => { const b = new Uint8Array(8); new DataView(b.buffer).setBigUint64(0, BigInt(v), true); return Array.from(b); };
const text = (s: string) => Array.from(new TextEncoder().encode(s));

function decodeAll(bytes: Uint8Array): CoreRecord[] {
  const out: CoreRecord[] = [];
  decodeRecords(bytes, 0, bytes.length, names, (r) => out.push(r));
  return out;
}

test("record header and scalar fields", () => {
  const bytes = record(1, [
    { id: 1, type: 2, value: text("request") },
    { id: 100, type: 1, value: u64(7) },
    { id: 2, type: 4, value: [1] },
  ], { flags: 1 });
  const [r] = decodeAll(bytes);

  assert.is(r.type, "modbus");
  assert.is(r.ts, "2017-05-04T13:59:01.123456Z");
  assert.is(r.flowId, 42);
  assert.is(r.transport, "tcp");
  assert.is(r.serverToClient, true);
  assert.is(r.truncated, false);
  assert.equal(r.src, { ip: "192.168.1.10", port: 49152 });
  assert.equal(r.dst, { ip: "192.168.1.20", port: 502 });
  assert.equal(r.fields, { pdu_type: "request", transaction_id: 7, truncated: true });
});

test("repeated field becomes an array", () => {
  const bytes = record(3, [
    { id: 300, type: 2, value: text("a") },
    { id: 300, type: 2, value: text("b") },
    { id: 300, type: 2, value: text("c") },
    { id: 301, type: 3, value: [0x00, 0xab, 0x10] },
    { id: 302, type: 5, value: u64(2 ** 53 - 1) },
  ]);
  const [r] = decodeAll(bytes);
  assert.equal(r.fields.interface_uuid, ["a", "b", "c"]);
  assert.is(r.fields.stub, "00ab10");
  assert.is(r.fields.offset, 2 ** 53 - 1);
});

// Short ASCII strings come from a cache of recent ones: every string must
// still come out as its own bytes, whatever the cache held before.
test("repeated short strings decode to their bytes", () => {
  const words = ["request", "response", "READ_HOLDING_REGISTERS", "", "a", "b", "x".repeat(32), "y".repeat(33), "caf\u00e9", "request"];
  for (let round = 0; round < 3; round++) {
    for (const word of words) {
      const [r] = decodeAll(record(1, [{ id: 1, type: 2, value: text(word) }]));
      assert.is(r.fields.pdu_type, word);
    }
  }
  // 2,000 distinct names, about twice the 1,024 cache slots, make names share slots.
  for (let i = 0; i < 2000; i++) {
    const [r] = decodeAll(record(1, [{ id: 1, type: 2, value: text(`name_${i}`) }]));
    assert.is(r.fields.pdu_type, `name_${i}`);
  }
});

test("long byte fields decode to hex", () => {
  const bytes = Array.from({ length: 40 }, (_, i) => (i * 37) & 0xff);
  const [r] = decodeAll(record(3, [{ id: 301, type: 3, value: bytes }]));
  assert.is(r.fields.stub, bytes.map((b) => b.toString(16).padStart(2, "0")).join(""));
});

test("two records back to back", () => {
  const a = record(1, [{ id: 100, type: 1, value: u64(1) }]);
  const b = record(1, [{ id: 100, type: 1, value: u64(2) }], { flags: 2, transport: 17 });
  const records = decodeAll(Uint8Array.from([...a, ...b]));
  assert.equal(records.map((r) => r.fields.transaction_id), [1, 2]);
  assert.is(records[1].truncated, true);
  assert.is(records[1].transport, "udp");
});

test("field list limits decoded fields", () => {
  const modbus = record(1, [
    { id: 1, type: 2, value: text("request") },
    { id: 100, type: 1, value: u64(7) },
    { id: 2, type: 4, value: [1] },
  ]);
  const dcerpc = record(3, [{ id: 300, type: 2, value: text("a") }, { id: 302, type: 5, value: u64(9) }]);
  const decoded = ["pdu_type", "truncated"];
  const out: CoreRecord[] = [];
  const filter = { decodes: () => true, onSkipped: () => {}, fields: (type: string) => (type === "modbus" ? decoded : undefined) };
  decodeRecords(Uint8Array.from([...modbus, ...dcerpc, ...modbus]), 0, modbus.length * 2 + dcerpc.length, names, (r) => out.push(r), filter);
  assert.equal(out[0].fields, { pdu_type: "request", truncated: true }, "transaction_id is skipped");
  assert.equal(out[1].fields, { interface_uuid: "a", offset: 9 }, "a type without a list decodes every field");
  assert.equal(out[2].fields, { pdu_type: "request", truncated: true });
  assert.is(out[2].flowId, 42, "the header is decoded in full");
});

// A copy of what a consumer of a reused record reads during its callback.
function copyOf(r: CoreRecord): object {
  const fields = Object.fromEntries(Object.entries(r.fields).filter(([, value]) => value !== undefined));
  return { type: r.type, ts: r.ts, flowId: r.flowId, serverToClient: r.serverToClient, src: { ...r.src }, dst: { ...r.dst }, fields };
}

test("reused record matches new records", () => {
  const request = record(1, [{ id: 1, type: 2, value: text("request") }, { id: 100, type: 1, value: u64(7) }]);
  const response = record(1, [{ id: 100, type: 1, value: u64(8) }, { id: 100, type: 1, value: u64(9) }], { flags: 1 });
  const dcerpc = record(3, [{ id: 300, type: 2, value: text("a") }]);
  const bytes = Uint8Array.from([...request, ...response, ...dcerpc, ...request]);
  const fresh: object[] = [];
  const reused: object[] = [];
  const objects = new Set<CoreRecord>();
  const filter = (reuses: boolean) => ({ decodes: () => true, onSkipped: () => {}, reusesRecords: (type: string) => reuses && type === "modbus" });
  decodeRecords(bytes, 0, bytes.length, names, (r) => fresh.push(copyOf(r)), filter(false));
  decodeRecords(bytes, 0, bytes.length, names, (r) => { reused.push(copyOf(r)); if (r.type === "modbus") objects.add(r); }, filter(true));
  assert.equal(reused, fresh);
  assert.is(objects.size, 1, "one object serves every modbus record");
  assert.equal((fresh[1] as { fields: object }).fields, { transaction_id: [8, 9] }, "the request's pdu_type is cleared");
});

test("nested decode gets new records", () => {
  const bytes = record(1, [{ id: 100, type: 1, value: u64(7) }]);
  const filter = { decodes: () => true, onSkipped: () => {}, reusesRecords: () => true };
  let inner: CoreRecord | undefined;
  let outer: CoreRecord | undefined;
  decodeRecords(bytes, 0, bytes.length, names, (r) => {
    outer = r;
    decodeRecords(bytes, 0, bytes.length, names, (nested) => { inner = nested; }, filter);
  }, filter);
  assert.ok(inner !== undefined, "the nested decode saw the record");
  assert.ok(inner !== outer, "the nested decode built its own record");
  assert.is(outer!.fields.transaction_id, 7);
});

test("invalid record length raises", () => {
  const bytes = record(1, []);
  new DataView(bytes.buffer).setUint32(0, 10, true);
  assert.throws(() => decodeAll(bytes), (e: unknown) => e instanceof EventDecodeError && /invalid length 10/.test(e.message));
});

test("unknown value type raises", () => {
  const bytes = record(1, [{ id: 100, type: 9, value: [1] }]);
  assert.throws(() => decodeAll(bytes), (e: unknown) => e instanceof EventDecodeError && /unknown value type 9/.test(e.message));
});

test("ipv6 text is RFC 5952", () => {
  const address = (groups: number[]) => Uint8Array.from(groups.flatMap((g) => [g >> 8, g & 0xff]));
  assert.is(ipToText(address([0xfd00, 0, 0, 0, 0, 0, 0, 1]), 0, 6), "fd00::1");
  assert.is(ipToText(address([0x2001, 0xdb8, 0, 0, 1, 0, 0, 1]), 0, 6), "2001:db8::1:0:0:1");
  assert.is(ipToText(address([0x2001, 0xdb8, 0, 1, 1, 1, 1, 1]), 0, 6), "2001:db8:0:1:1:1:1:1");
  assert.is(ipToText(address([0, 0, 0, 0, 0, 0, 0, 0]), 0, 6), "::");
  assert.is(ipToText(address([1, 0, 0, 0, 0, 0, 0, 0]), 0, 6), "1::");
});

test("iso timestamp keeps microseconds", () => {
  assert.is(isoTimestamp(0, 999), "1970-01-01T00:00:00.000000Z");
  assert.is(isoTimestamp(1_493_906_341, 1_000), "2017-05-04T13:59:01.000001Z");
});

test.run();
