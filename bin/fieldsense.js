#!/usr/bin/env node
// Loads the compiled CLI from dist/; `npm run build` produces it.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const entry = new URL("../dist/agent/src/cli/main.js", import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write(`fieldsense: ${fileURLToPath(entry)} not found; run "npm run build" in the package folder first\n`);
  process.exit(1);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
