// The comparison behind the arm64 same-output test: NaN values compare equal,
// any other difference yields a line diff that names both sides.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { CANONICAL_NAN, canonicalizeNan, canonicalNdjsonLines, isNanHex, jsonFieldDifferences, lineDiff } from "./compare.js";

test("nan hex: x86 and arm64 default NaN", () => {
  // f64.div 0/0 as stored in little-endian wasm memory: x86 0xfff8000000000000,
  // arm64 0x7ff8000000000000.
  assert.ok(isNanHex("000000000000f8ff"));
  assert.ok(isNanHex("000000000000f87f"));
  // f32 quiet NaNs 0xffc00000 and 0x7fc00000.
  assert.ok(isNanHex("0000c0ff"));
  assert.ok(isNanHex("0000c07f"));
});

test("nan hex: infinity, numbers and other lengths", () => {
  assert.not.ok(isNanHex("000000000000f07f"), "f64 +infinity");
  assert.not.ok(isNanHex("0000807f"), "f32 +infinity");
  assert.not.ok(isNanHex("000000000000f03f"), "f64 1.0");
  assert.not.ok(isNanHex("7ff8000000000000"), "big-endian order is a tiny positive number");
  assert.not.ok(isNanHex("000000000000f8ff00"), "nine bytes");
  assert.not.ok(isNanHex("4d0000000000000005000000ffffffff"), "a 16-byte SMB2 file id");
});

test("canonicalize nan inside records", () => {
  const record = { type: "modbus", fields: ["0000c0ff", "nan", 3], value: Number.NaN, nested: { bits: "000000000000f87f", text: "banana" } };
  assert.equal(canonicalizeNan(record), {
    type: "modbus",
    fields: [CANONICAL_NAN, CANONICAL_NAN, 3],
    value: CANONICAL_NAN,
    nested: { bits: CANONICAL_NAN, text: "banana" },
  });
});

test("ndjson lines: different NaN bits compare equal", () => {
  const x86 = '{"type":"alert","score":"000000000000f8ff"}\n';
  const arm64 = '{"type":"alert","score":"000000000000f87f"}\n';
  assert.equal(canonicalNdjsonLines(x86), canonicalNdjsonLines(arm64));
  assert.is(lineDiff(canonicalNdjsonLines(x86), canonicalNdjsonLines(arm64), "x86", "arm64"), "");
});

test("ndjson lines: non-JSON line kept as is", () => {
  assert.equal(canonicalNdjsonLines("not json\n{\"a\":1}\n"), ["not json", '{"a":1}']);
  assert.equal(canonicalNdjsonLines(""), []);
});

test("line diff: changed field shows both lines", () => {
  const x86 = ['{"n":1}', '{"n":2}', '{"unit_id":1}', '{"n":4}'];
  const arm64 = ['{"n":1}', '{"n":2}', '{"unit_id":7}', '{"n":4}'];
  const diff = lineDiff(x86, arm64, "x86", "arm64");
  assert.ok(diff.includes('- [x86:3] {"unit_id":1}'), diff);
  assert.ok(diff.includes('+ [arm64:3] {"unit_id":7}'), diff);
  assert.ok(diff.includes('  [x86:2] {"n":2}'), `context line missing:\n${diff}`);
  assert.ok(diff.includes("1 lines only in x86, 1 lines only in arm64"), diff);
});

test("line diff: removed line before added line", () => {
  const diff = lineDiff(["a", "b", "c"], ["a", "x", "c"], "x86", "arm64");
  assert.ok(diff.indexOf("- [x86:2] b") < diff.indexOf("+ [arm64:2] x"), diff);
});

test("line diff: differing JSON fields listed", () => {
  const x86 = ['{"type":"alert","site":"plant","fields":{"unit_id":1,"function_code":6}}'];
  const arm64 = ['{"type":"alert","site":"plant","fields":{"unit_id":7,"function_code":6,"extra":true}}'];
  const diff = lineDiff(x86, arm64, "x86", "arm64");
  assert.ok(diff.includes("~ [x86 | arm64] fields.unit_id: 1 | 7; fields.extra: (missing) | true"), diff);
  assert.not.ok(diff.includes("site:"), `equal fields are not listed:\n${diff}`);
});

test("json field differences: not objects", () => {
  assert.is(jsonFieldDifferences("plain text", '{"a":1}'), undefined);
  assert.is(jsonFieldDifferences("[1]", "[2]"), undefined);
  assert.is(jsonFieldDifferences('{"a":[1,2]}', '{"a":[1,3]}'), "a: [1,2] | [1,3]");
});

test("line diff: missing and extra lines", () => {
  const diff = lineDiff(["a", "b", "c"], ["a", "c", "d"], "x86", "arm64");
  assert.ok(diff.includes("- [x86:2] b"), diff);
  assert.ok(diff.includes("+ [arm64:3] d"), diff);
  assert.not.ok(diff.includes("- [x86:3] c"), `c is common to both:\n${diff}`);
});

test("line diff: long outputs cut with a note", () => {
  const x86 = Array.from({ length: 200 }, (_, i) => `line ${i}`);
  const arm64 = x86.map((line) => `${line} changed`);
  const diff = lineDiff(x86, arm64, "x86", "arm64");
  assert.ok(diff.includes("200 lines only in x86, 200 lines only in arm64"), diff);
  assert.ok(diff.endsWith("... diff cut after 60 lines"), diff.slice(-200));
});

test.run();
