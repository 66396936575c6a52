// The value types each field id can carry, from build/field-types.json
// (written by scripts/field-types.mjs beside build/core.wasm at every core
// build). The model compiler checks condition values against them: a text
// value on a numeric field, or `range` on a text field, could never hold.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";

// ValueType in protocols/fields.ts.
const U64 = 1;
const TEXT = 2;
const BYTES = 3;
const BOOL = 4;
const I64 = 5;

export type FieldValueTypes = ReadonlyMap<number, readonly number[]>;

export const FIELD_TYPES_FILE = "field-types.json";

// Reads the table beside the core module at `wasmPath`; undefined when the
// file is missing (a core built before the table existed).
export function readFieldValueTypes(wasmPath: string): FieldValueTypes | undefined {
  const path = join(dirname(wasmPath), FIELD_TYPES_FILE);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  let parsed: { fields?: Record<string, unknown> };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch (error) {
    throw new Error(`${path} is not valid JSON (${(error as Error).message}); rebuild it with npm run build:core`);
  }
  const types = new Map<number, number[]>();
  for (const [id, list] of Object.entries(parsed.fields ?? {})) {
    if (!Array.isArray(list) || !list.every((t) => Number.isInteger(t) && t >= U64 && t <= I64)) {
      throw new Error(`${path}: field ${id} has value types ${JSON.stringify(list)}, expected integers from ${U64} to ${I64}; rebuild it with npm run build:core`);
    }
    types.set(Number(id), list as number[]);
  }
  return types;
}

export type Operand = number | boolean | string;

const isNumeric = (t: number) => t === U64 || t === I64 || t === BOOL;
const isText = (t: number) => t === TEXT || t === BYTES;

// Describes the value types of a field for a message: "a number", "text" or both.
export function describeValueTypes(types: readonly number[]): string {
  const parts: string[] = [];
  if (types.some(isNumeric)) parts.push(types.every((t) => t === BOOL) ? "true or false" : "a number");
  if (types.some((t) => t === TEXT)) parts.push("text");
  if (types.some((t) => t === BYTES)) parts.push("bytes (compared as hex text)");
  return parts.join(" or ");
}

// Explains why `operator` with `values` can never match a field carrying
// `types`, or returns undefined when it can. The message ends with the fix.
export function operandTypeProblem(operator: string, values: readonly Operand[], types: readonly number[]): string | undefined {
  const numeric = types.some(isNumeric);
  const text = types.some(isText);
  const carried = describeValueTypes(types);
  if ((operator === "contains" || operator === "ends_with") && !text) {
    return `${operator} needs text, but the field holds ${carried}; use equals, in or range`;
  }
  if ((operator === "range" || operator === "bits_any" || operator === "bits_all") && !numeric) {
    return `${operator} needs numbers, but the field holds ${carried}; use equals, in, contains or ends_with`;
  }
  if (operator !== "equals" && operator !== "in" && operator !== "not_in") return undefined;
  for (const value of values) {
    if (typeof value === "string" && !text) {
      const fix = /^-?\d+$/.test(value) ? `write ${value} without quotes` : "compare it with a number";
      return `the value ${JSON.stringify(value)} is text, but the field holds ${carried}; ${fix}`;
    }
    if (typeof value !== "string" && !numeric) {
      return `the value ${String(value)} is ${typeof value === "boolean" ? "a boolean" : "a number"}, but the field holds ${carried}; write "${String(value)}" in quotes`;
    }
  }
  return undefined;
}
