// Writes build/schema-validators/*.cjs: standalone Ajv validators of the
// model and firmware profile schemas, loaded by agent/src/config/yaml-errors.ts
// in place of compiling the schemas at every start. Runs after tsc, because it
// uses the compiled agent/src/config/schema-validators.ts.
//
// Usage: node scripts/schema-validators.mjs
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const { writeStandaloneValidators } = await import(join(root, "dist/agent/src/config/schema-validators.js"));
const schemas = [join(root, "models", "model.schema.json"), join(root, "firmware-profiles", "profile.schema.json")];
const written = writeStandaloneValidators(join(root, "build", "schema-validators"), schemas);
console.log(`schema validators: ${written.map((file) => relative(root, file)).join(", ")}`);
