// Runs the uvu suites under test/ (through tsx, so tests import TypeScript
// directly), passes their output through, and ends with one summary line
// "N passed, N failed, N skipped" that CI systems read.
// Extra arguments narrow the run: `npm test -- modbus` runs test/**/*modbus*.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

// uvu's package exports list neither bin.js nor package.json, so find the
// package folder from its main entry (dist/index.js).
const require = createRequire(import.meta.url);
const uvuBin = join(dirname(require.resolve("uvu")), "..", "bin.js");
const filter = process.argv[2] ? `${process.argv[2]}.*\\.test\\.ts$` : "\\.test\\.ts$";

const child = spawn(process.execPath, [uvuBin, "-r", "tsx", "test", filter], {
  stdio: ["ignore", "pipe", "inherit"],
  env: { ...process.env, FORCE_COLOR: "0" },
});

let output = "";
child.stdout.on("data", (chunk) => {
  process.stdout.write(chunk);
  output += chunk.toString();
});

child.on("close", (code, signal) => {
  const number = (label) => Number(new RegExp(`${label}:\\s+(\\d+)`).exec(output)?.[1] ?? 0);
  const total = number("Total");
  const passed = number("Passed");
  const skipped = number("Skipped");
  const failed = Math.max(0, total - passed - skipped);
  console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
  if (signal) console.error(`test runner stopped by signal ${signal}`);
  process.exit(code ?? 1);
});
