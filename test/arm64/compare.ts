// Compares the NDJSON output of two runs line by line, with NaN values made
// equal, and renders differences as a readable line diff.
//
// When a WebAssembly arithmetic operator returns a NaN, its bits are
// nondeterministic (WebAssembly design, Nondeterminism.md), and x86 and arm64
// differ: f64.div of 0 by 0 gives 0xfff8000000000000 on x86 and
// 0x7ff8000000000000 on arm64 (measured by probe.mjs in this folder). JSON
// cannot carry NaN: JSON.stringify writes it as null, which compares equal
// already. The core has no float value type (see ValueType in
// protocols/fields.ts), so a NaN it computes reaches the output as text or as
// raw bits in a BYTES field, which the host renders as hex. Both forms are
// folded to one value here.
//
// NOTE: NaN bits stored in a U64 field (an integer in JSON) are not
// recognized. And a 4-byte or 8-byte BYTES field that is not a float (an NTLM
// server challenge, for example) is folded too when its bytes happen to form
// a NaN. Both runs fold it alike, so only a change from one such value to
// another would go unseen.

// Text that some encoders write for a NaN.
const NAN_TEXT = /^[+-]?nan(\(.*\))?$/i;
// Hex renderings of exactly one little-endian f32 or f64 (wasm memory order).
const HEX_F32 = /^[0-9a-f]{8}$/i;
const HEX_F64 = /^[0-9a-f]{16}$/i;

export const CANONICAL_NAN = "NaN";

// Returns true when `hex` contains one little-endian float whose exponent bits
// are all ones and whose significand is not zero.
export function isNanHex(hex: string): boolean {
  if (!HEX_F32.test(hex) && !HEX_F64.test(hex)) return false;
  const bytes = Buffer.from(hex, "hex");
  const value = bytes.length === 4 ? bytes.readFloatLE(0) : bytes.readDoubleLE(0);
  return Number.isNaN(value);
}

// Replaces every NaN (a number, NaN text, or a hex float that is a NaN) in a
// parsed JSON value by CANONICAL_NAN, keeping keys in their order.
export function canonicalizeNan(value: unknown): unknown {
  if (typeof value === "number") return Number.isNaN(value) ? CANONICAL_NAN : value;
  if (typeof value === "string") return NAN_TEXT.test(value) || isNanHex(value) ? CANONICAL_NAN : value;
  if (Array.isArray(value)) return value.map(canonicalizeNan);
  if (value !== null && typeof value === "object") {
    const result: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) result[key] = canonicalizeNan(item);
    return result;
  }
  return value;
}

// Splits NDJSON into lines and canonicalizes NaN in each. A line that is not
// JSON stays as it is, so it still takes part in the comparison.
export function canonicalNdjsonLines(text: string): string[] {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines.map((line) => {
    try {
      return JSON.stringify(canonicalizeNan(JSON.parse(line)));
    } catch {
      return line;
    }
  });
}

// Lines of context shown around each difference, and the cap on diff lines.
const CONTEXT_LINES = 2;
const MAX_DIFF_LINES = 60;
// Above this many cells the longest-common-subsequence table is not built and
// the diff lists lines from the first difference on instead.
const MAX_LCS_CELLS = 16_000_000;

type Edit = { kind: " " | "-" | "+"; line: string; expectedNumber?: number; actualNumber?: number };

// Edit script from `expected` to `actual` by longest common subsequence.
function editScript(expected: string[], actual: string[]): Edit[] {
  const rows = expected.length + 1;
  const columns = actual.length + 1;
  if (rows * columns > MAX_LCS_CELLS) return prefixEdits(expected, actual);
  // lengths[i * columns + j]: LCS length of expected[i..] and actual[j..].
  const lengths = new Uint32Array(rows * columns);
  for (let i = expected.length - 1; i >= 0; i--) {
    for (let j = actual.length - 1; j >= 0; j--) {
      lengths[i * columns + j] = expected[i] === actual[j]
        ? lengths[(i + 1) * columns + j + 1] + 1
        : Math.max(lengths[(i + 1) * columns + j], lengths[i * columns + j + 1]);
    }
  }
  const edits: Edit[] = [];
  let i = 0;
  let j = 0;
  while (i < expected.length || j < actual.length) {
    // On a tie the removal goes first, so each hunk reads "-" lines, then "+".
    if (i < expected.length && j < actual.length && expected[i] === actual[j]) {
      edits.push({ kind: " ", line: expected[i], expectedNumber: ++i, actualNumber: ++j });
    } else if (i < expected.length && (j === actual.length || lengths[(i + 1) * columns + j] >= lengths[i * columns + j + 1])) {
      edits.push({ kind: "-", line: expected[i], expectedNumber: ++i });
    } else {
      edits.push({ kind: "+", line: actual[j], actualNumber: ++j });
    }
  }
  return edits;
}

// Edit script for outputs too long for the LCS table: equal lines up to the
// first difference, then every remaining line as removed or added.
function prefixEdits(expected: string[], actual: string[]): Edit[] {
  const edits: Edit[] = [];
  let same = 0;
  while (same < expected.length && same < actual.length && expected[same] === actual[same]) {
    edits.push({ kind: " ", line: expected[same], expectedNumber: same + 1, actualNumber: same + 1 });
    same++;
  }
  for (let i = same; i < expected.length; i++) edits.push({ kind: "-", line: expected[i], expectedNumber: i + 1 });
  for (let j = same; j < actual.length; j++) edits.push({ kind: "+", line: actual[j], actualNumber: j + 1 });
  return edits;
}

// Describes how two JSON lines differ, field by field as dotted paths
// ("fields.unit_id: 1 | 7"), or returns undefined when either is not a JSON
// object. At most MAX_FIELD_DIFFERENCES paths are listed.
const MAX_FIELD_DIFFERENCES = 8;

export function jsonFieldDifferences(expectedLine: string, actualLine: string): string | undefined {
  let expected: unknown;
  let actual: unknown;
  try {
    expected = JSON.parse(expectedLine);
    actual = JSON.parse(actualLine);
  } catch {
    return undefined;
  }
  if (!isObject(expected) || !isObject(actual)) return undefined;
  const differences: string[] = [];
  collectDifferences(expected, actual, "", differences);
  const listed = differences.slice(0, MAX_FIELD_DIFFERENCES);
  if (differences.length > listed.length) listed.push(`${differences.length - listed.length} more`);
  return listed.join("; ");
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function collectDifferences(expected: unknown, actual: unknown, path: string, out: string[]): void {
  if (isObject(expected) && isObject(actual)) {
    const keys = new Set([...Object.keys(expected), ...Object.keys(actual)]);
    for (const key of keys) collectDifferences(expected[key], actual[key], path ? `${path}.${key}` : key, out);
    return;
  }
  const expectedText = expected === undefined ? "(missing)" : JSON.stringify(expected);
  const actualText = actual === undefined ? "(missing)" : JSON.stringify(actual);
  if (expectedText !== actualText) out.push(`${path || "(line)"}: ${expectedText} | ${actualText}`);
}

// Returns "" when the line lists are equal, otherwise a diff with line
// numbers: "-" lines only in `expected`, "+" lines only in `actual`, and a
// header naming both sides. When a hunk removes and adds the same number of
// JSON lines, each added line is followed by a "~" line that lists the fields
// that differ, so a change stays readable in long NDJSON lines.
export function lineDiff(expected: string[], actual: string[], expectedLabel: string, actualLabel: string): string {
  const edits = editScript(expected, actual);
  const changed = edits.map((edit, index) => (edit.kind === " " ? -1 : index)).filter((index) => index >= 0);
  if (changed.length === 0) return "";

  const visibleEdits = new Set<number>();
  for (const index of changed) {
    for (let k = index - CONTEXT_LINES; k <= index + CONTEXT_LINES; k++) {
      if (k >= 0 && k < edits.length) visibleEdits.add(k);
    }
  }
  const pairs = pairChangedLines(edits);
  const removed = edits.filter((edit) => edit.kind === "-").length;
  const added = edits.filter((edit) => edit.kind === "+").length;
  const out = [
    `--- ${expectedLabel} (${expected.length} lines)`,
    `+++ ${actualLabel} (${actual.length} lines)`,
    `${removed} lines only in ${expectedLabel}, ${added} lines only in ${actualLabel}`,
  ];
  let previous = -1;
  let written = 0;
  for (const index of [...visibleEdits].sort((a, b) => a - b)) {
    if (written >= MAX_DIFF_LINES) {
      out.push(`... diff cut after ${MAX_DIFF_LINES} lines`);
      break;
    }
    if (index !== previous + 1) out.push("@@");
    const edit = edits[index];
    const number = edit.kind === "+" ? `${actualLabel}:${edit.actualNumber}` : `${expectedLabel}:${edit.expectedNumber}`;
    out.push(`${edit.kind} [${number}] ${edit.line}`);
    written++;
    const partner = pairs.get(index);
    const fields = partner === undefined ? undefined : jsonFieldDifferences(edits[partner].line, edit.line);
    if (fields) {
      out.push(`~ [${expectedLabel} | ${actualLabel}] ${fields}`);
      written++;
    }
    previous = index;
  }
  return out.join("\n");
}

// Maps the index of each "+" edit to the "-" edit it replaces, where a run of
// removals is followed by a run of additions of the same length.
function pairChangedLines(edits: Edit[]): Map<number, number> {
  const pairs = new Map<number, number>();
  let index = 0;
  while (index < edits.length) {
    if (edits[index].kind !== "-") {
      index++;
      continue;
    }
    const removalsStart = index;
    while (index < edits.length && edits[index].kind === "-") index++;
    const additionsStart = index;
    while (index < edits.length && edits[index].kind === "+") index++;
    const removals = additionsStart - removalsStart;
    if (index - additionsStart !== removals) continue;
    for (let k = 0; k < removals; k++) pairs.set(additionsStart + k, removalsStart + k);
  }
  return pairs;
}
