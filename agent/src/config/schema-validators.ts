// Validators of the JSON Schema files that ship with the package (models and
// firmware profiles). `npm run build` writes each as standalone Ajv code to
// build/schema-validators/, so that a command loads a ready validator instead
// of loading Ajv and compiling the schema and the 2020-12 meta-schema (about
// 0.15 s of CPU at every start, measured on one machine). Without that file,
// or when it was built from another version of the schema, the schema is
// compiled at run time.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, join } from "node:path";
import type { Ajv2020, Options, ValidateFunction } from "ajv/dist/2020.js";

const require = createRequire(import.meta.url);

// verbose: error objects carry the failing schema, which the messages of
// schemaError (yaml-errors.ts) read.
const FILE_SCHEMA_OPTIONS: Options = { allErrors: false, verbose: true, strict: true, allowUnionTypes: true };

// One instance for every schema compiled at run time: each instance compiles
// the 2020-12 meta-schema to check a schema against it, which costs more than
// compiling one of ours.
let runtimeAjv: Ajv2020 | undefined;

function newAjv(options: Options): Ajv2020 {
  const { Ajv2020: AjvClass } = require("ajv/dist/2020.js") as typeof import("ajv/dist/2020.js");
  return new AjvClass(options);
}

function schemaDigest(schemaText: string): string {
  return createHash("sha256").update(schemaText).digest("hex");
}

// Compiles a schema with the options of the package's schema files. A second
// call for a schema $id returns the validator compiled first, because Ajv
// rejects adding a schema $id twice.
export function compileFileSchema(schemaText: string): ValidateFunction {
  runtimeAjv ??= newAjv(FILE_SCHEMA_OPTIONS);
  const schema = JSON.parse(schemaText) as Record<string, unknown>;
  const compiled = typeof schema.$id === "string" ? runtimeAjv.getSchema(schema.$id) : undefined;
  return compiled ?? runtimeAjv.compile(schema);
}

// Returns a CommonJS module that exports the validator of `schemaText` and
// the SHA-256 of that text.
export function standaloneValidatorSource(schemaText: string): string {
  const ajv = newAjv({ ...FILE_SCHEMA_OPTIONS, code: { source: true } });
  const validate = ajv.compile(JSON.parse(schemaText) as Record<string, unknown>);
  const { default: standaloneCode } = require("ajv/dist/standalone/index.js") as typeof import("ajv/dist/standalone/index.js");
  return `${standaloneCode(ajv, validate)}\nmodule.exports.schemaSha256 = ${JSON.stringify(schemaDigest(schemaText))};\n`;
}

// File name of the standalone validator of the schema file `schemaPath`.
export function standaloneValidatorFile(dir: string, schemaPath: string): string {
  return join(dir, basename(schemaPath).replace(/\.json$/, ".cjs"));
}

// Writes the standalone validator of each schema file into `dir`.
export function writeStandaloneValidators(dir: string, schemaPaths: string[]): string[] {
  mkdirSync(dir, { recursive: true });
  return schemaPaths.map((schemaPath) => {
    const file = standaloneValidatorFile(dir, schemaPath);
    writeFileSync(file, standaloneValidatorSource(readFileSync(schemaPath, "utf8")));
    return file;
  });
}

// Loads the standalone validator of `schemaPath` from `dir`, or returns
// undefined when there is none or it was built from another schema text.
export function loadStandaloneValidator(dir: string, schemaPath: string, schemaText: string): ValidateFunction | undefined {
  const file = standaloneValidatorFile(dir, schemaPath);
  if (!existsSync(file)) return undefined;
  const validate = require(file) as ValidateFunction & { schemaSha256?: string };
  return validate.schemaSha256 === schemaDigest(schemaText) ? validate : undefined;
}
