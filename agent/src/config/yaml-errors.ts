// Helpers shared by the loaders of YAML files: models, firmware profiles and
// the agent configuration. They parse with line positions, find the line of a
// key and locate the package folders that ship beside the code. They also turn
// a JSON Schema error into a message that names the file, the line and the key.
// Also the messages for the header checks of the core tables compiled from
// those files (model table, profile table).
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import type { Document, LineCounter, Node } from "yaml";
import type * as Yaml from "yaml";
import type { ErrorObject, ValidateFunction } from "ajv/dist/2020.js";
import { compileFileSchema, loadStandaloneValidator } from "./schema-validators.js";

export type YamlPath = (string | number)[];

export interface ParsedYaml {
  document: Document;
  lines: LineCounter;
  // The first syntax error, if any, with its 1-based line; a document the
  // parser gave up on (alias expansion, nesting) is reported on line 1.
  syntaxError?: { line: number; message: string };
  // The document as plain values, when there is no syntax error.
  value?: unknown;
}

// Parses `text` keeping line positions. Duplicate keys count as syntax errors.
// What a document that the YAML parser gave up on did wrong, and the fix:
// aliases that expand too far, or nesting deeper than its stack.
export function yamlLimitProblem(error: unknown): string {
  const message = (error as Error).message ?? String(error);
  if (/alias count/i.test(message)) {
    return "its aliases (*name) expand to more nodes than the YAML parser allows; write the values out instead of nesting aliases";
  }
  if (error instanceof RangeError || /call stack/i.test(message)) {
    return "its lists or maps are nested too deeply for the YAML parser; a file here needs only a few levels";
  }
  return message;
}

const require = createRequire(import.meta.url);
let yamlLibrary: typeof Yaml | undefined;

// Loads the YAML parser, 72 CommonJS modules, on first use: a replay whose
// models and profiles come from the parse cache needs none of them.
function yaml(): typeof Yaml {
  yamlLibrary ??= require("yaml") as typeof Yaml;
  return yamlLibrary;
}

// This module's URL, for parse caches whose key covers the code that parses.
export const yamlErrorsModuleUrl = import.meta.url;

export function parseYaml(text: string): ParsedYaml {
  const library = yaml();
  const lines = new library.LineCounter();
  let document: Document;
  try {
    document = library.parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  } catch (error) {
    return { document: new library.Document(), lines, syntaxError: { line: 1, message: yamlLimitProblem(error) } };
  }
  if (document.errors.length > 0) {
    const first = document.errors[0];
    const message = /call stack/i.test(first.message) ? yamlLimitProblem(new RangeError(first.message)) : first.message.split("\n")[0];
    return { document, lines, syntaxError: { line: lines.linePos(first.pos[0]).line, message } };
  }
  try {
    return { document, lines, value: document.toJS() };
  } catch (error) {
    return { document, lines, syntaxError: { line: 1, message: yamlLimitProblem(error) } };
  }
}

// Returns the folder `name` of the package that contains `marker`, looked up
// from the module at `moduleUrl` (agent/src/<dir> when run from source,
// dist/agent/src/<dir> when built).
export function findPackageDir(moduleUrl: string, name: string, marker: string): string {
  const here = dirname(fileURLToPath(moduleUrl));
  for (const up of [`../../../${name}`, `../../../../${name}`]) {
    const candidate = resolve(here, up);
    if (existsSync(join(candidate, marker))) return candidate;
  }
  return resolve(here, `../../../${name}`);
}

// Folder of the validators that `npm run build` writes (schema-validators.ts).
const standaloneValidatorsDir = join(findPackageDir(import.meta.url, "build", "core.wasm"), "schema-validators");

// Returns a function that loads the validator of the JSON Schema file at
// `schemaPath` on its first call (the one built with the package, else one
// compiled now) and returns the same validator after that.
export function lazySchemaValidator(schemaPath: string): () => ValidateFunction {
  let validator: ValidateFunction | undefined;
  return () => {
    if (validator) return validator;
    const schemaText = readFileSync(schemaPath, "utf8");
    validator = loadStandaloneValidator(standaloneValidatorsDir, schemaPath, schemaText) ?? compileFileSchema(schemaText);
    return validator;
  };
}

// Returns the node at `path`, or with `keyOf` the key node of that member.
export function nodeAt(document: Document, path: YamlPath, keyOf?: string): Node | undefined {
  const { isMap, isPair, isScalar, isSeq } = yaml();
  let node: unknown = document.contents;
  for (const step of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === step);
      node = pair?.value;
    } else if (isSeq(node) && typeof step === "number") {
      node = node.items[step];
    } else {
      return undefined;
    }
  }
  if (keyOf !== undefined && isMap(node)) {
    const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === keyOf);
    if (pair && isScalar(pair.key)) return pair.key;
  }
  return (node as Node | undefined) ?? undefined;
}

// Returns the 1-based line of the node at `path`, or of the nearest
// enclosing node that exists.
export function lineOf(document: Document, lines: LineCounter, path: YamlPath, keyOf?: string): number {
  let node = nodeAt(document, path, keyOf);
  for (let cut = path.length - 1; !node?.range && cut >= 0; cut--) node = nodeAt(document, path.slice(0, cut));
  return lines.linePos(node?.range?.[0] ?? 0).line;
}

// Splits a JSON Pointer (Ajv's instancePath) into keys and indexes.
export function pathOf(instancePath: string): YamlPath {
  if (instancePath === "") return [];
  return instancePath.slice(1).split("/").map((s) => {
    const text = s.replace(/~1/g, "/").replace(/~0/g, "~");
    return /^\d+$/.test(text) ? Number(text) : text;
  });
}

// Writes a path as `a.b[2].c`, or `subject` for the document itself.
export function describePath(path: YamlPath, subject: string): string {
  let out = "";
  for (const step of path) {
    if (typeof step === "number") out += `[${step}]`;
    else if (out === "") out = step;
    else out += `.${step}`;
  }
  return out === "" ? subject : out;
}

// An error in a YAML file with a stable code ("model.unknown_key") and, where
// known, the 1-based line and the key it concerns.
export class YamlFileError extends Error {
  readonly code: string;
  readonly file: string;
  readonly line?: number;
  readonly key?: string;

  constructor(code: string, message: string, file: string, line?: number, key?: string) {
    super(message);
    this.code = code;
    this.file = file;
    this.line = line;
    this.key = key;
  }
}

// Messages for the negative results that every core table loader returns
// for a bad header, before the codes of its own entries.
export function tableHeaderErrors(table: string, maxBytes: number, version: number): Record<number, string> {
  return {
    [-1]: `the table is larger than the core's ${maxBytes} bytes`,
    [-2]: `the table does not start with the ${table} table magic`,
    [-3]: `the core expects ${table} table version ${version}`,
    [-4]: "the table length does not match its header",
  };
}

export type ErrorFactory<E extends Error> = (code: string, message: string, file: string, line?: number, key?: string) => E;

export interface SchemaErrorOptions<E extends Error> {
  create: ErrorFactory<E>;
  // Error code prefix ("model" gives "model.unknown_key") and schema name.
  prefix: string;
  // Name of the whole document in messages ("the model").
  subject: string;
  // A clearer expectation than Ajv's message for some keys, or undefined.
  expectation?: (error: ErrorObject, path: YamlPath, lastKey: string | undefined) => string | undefined;
}

// Turns the first schema error of a YAML file into an error that names the
// file, the line and the key.
export function schemaError<E extends Error>(
  file: string, document: Document, lines: LineCounter, error: ErrorObject | undefined, options: SchemaErrorOptions<E>,
): E {
  const { create, prefix, subject } = options;
  if (!error) return create(`${prefix}.schema_invalid`, `${file} does not match the ${prefix} schema`, file);
  const path = pathOf(error.instancePath);
  const where = describePath(path, subject);
  const lastKey = [...path].reverse().find((s): s is string => typeof s === "string");
  const parent = error.parentSchema as { properties?: Record<string, unknown>; required?: string[] } | undefined;
  const allowedKeys = parent?.properties ? Object.keys(parent.properties).join(", ") : "";

  switch (error.keyword) {
    case "additionalProperties": {
      const key = String((error.params as { additionalProperty: string }).additionalProperty);
      const line = lineOf(document, lines, path, key);
      return create(`${prefix}.unknown_key`, `${file} line ${line}: unknown key "${key}" in ${where}; allowed keys: ${allowedKeys}`, file, line, key);
    }
    case "required": {
      const key = String((error.params as { missingProperty: string }).missingProperty);
      const line = lineOf(document, lines, path);
      return create(`${prefix}.missing_key`, `${file} line ${line}: ${where} is missing the required key "${key}"; required keys: ${(parent?.required ?? []).join(", ")}`, file, line, key);
    }
    default: {
      const line = lineOf(document, lines, path);
      const shown = shortValue(error.data);
      let expected = (error.message ?? `does not match the ${prefix} schema`).replace(/\bmust NOT\b/g, "must not");
      if (error.keyword === "enum") expected = `must be one of ${(error.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(", ")}`;
      expected = options.expectation?.(error, path, lastKey) ?? expected;
      return create(`${prefix}.value_invalid`, `${file} line ${line}: ${where} is ${shown}, but it ${expected}`, file, line, lastKey);
    }
  }
}

// Longest value text an error message quotes in full.
const MAX_SHOWN_CHARS = 120;

// The value as JSON, or for a long one its start and its size, so that a
// message about a list of 20,000 addresses stays one readable line.
export function shortValue(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  if (text.length <= MAX_SHOWN_CHARS) return text;
  const size = Array.isArray(value) ? `a list of ${value.length} items` : `${text.length} characters`;
  return `${text.slice(0, MAX_SHOWN_CHARS)}... (${size})`;
}
