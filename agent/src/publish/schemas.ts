// JSON Schema validators for alerts and records (ajv, draft 2020-12), shared
// by the tests and the correlator.
import { readFileSync } from "node:fs";
import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { schemaPath } from "../config/paths.js";

// ajv-formats is CommonJS; under NodeNext its default export arrives wrapped.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv2020) => Ajv2020;

export interface SchemaCheck {
  valid: boolean;
  // The first error as "<instance path> <message>", e.g. "/score must be <= 100".
  firstError?: string;
}

export interface Validators {
  alert(value: unknown): SchemaCheck;
  record(value: unknown): SchemaCheck;
}

let cached: Validators | undefined;

export function loadValidators(): Validators {
  if (cached) return cached;
  const ajv = new Ajv2020({ allErrors: false, strict: true });
  addFormats(ajv);
  const alert = ajv.compile(JSON.parse(readFileSync(schemaPath("alert"), "utf8")));
  const record = ajv.compile(JSON.parse(readFileSync(schemaPath("record"), "utf8")));
  cached = { alert: (value) => check(alert, value), record: (value) => check(record, value) };
  return cached;
}

function check(validate: ValidateFunction, value: unknown): SchemaCheck {
  if (validate(value)) return { valid: true };
  return { valid: false, firstError: describeError(validate.errors?.[0]) };
}

function describeError(error: ErrorObject | undefined): string {
  if (!error) return "invalid";
  const where = error.instancePath === "" ? "(root)" : error.instancePath;
  const extra = error.keyword === "additionalProperties"
    ? ` (${(error.params as { additionalProperty: string }).additionalProperty})`
    : "";
  return `${where} ${error.message ?? error.keyword}${extra}`;
}
