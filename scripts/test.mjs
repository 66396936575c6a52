// Runs the uvu suites under test/ (through tsx, so tests import TypeScript
// directly), passes their output through, and ends with one summary line
// "N passed, N failed, N skipped" that CI systems read.
// Extra arguments narrow the run: `npm test -- modbus` runs test/**/*modbus*.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

// uvu's package exports list neither bin.js nor package.json, so find the
// package folder from its main entry (dist/index.js).
const require = createRequire(import.meta.url);
const uvuBin = join(dirname(require.resolve("uvu")), "..", "bin.js");
const filter = process.argv[2] ? `${process.argv[2]}.*\\.test\\.ts$` : "\\.test\\.ts$";
// FIELDSENSE_TEST_DIR runs another folder of suites; test/cli/test-runner.test.ts
// uses it to check this summary on suites it writes.
const testDir = process.env.FIELDSENSE_TEST_DIR ?? "test";

// The suites and the commands they start keep their parsed-model cache in a
// folder of this run, not in the user's ~/.cache/fieldsense.
const cacheDir = mkdtempSync(join(tmpdir(), "fieldsense-test-cache-"));
const child = spawn(process.execPath, [uvuBin, "-r", "tsx", testDir, filter], {
  stdio: ["ignore", "pipe", "inherit"],
  env: { ...process.env, FORCE_COLOR: "0", FIELDSENSE_CACHE_DIR: process.env.FIELDSENSE_CACHE_DIR ?? cacheDir },
});

// Passes an interrupt on to the suites, so that their cleanup hooks stop the
// agents and servers they started. A second signal ends this process at once.
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.once(signal, () => {
    child.kill(signal);
    process.once(signal, () => process.exit(1));
  });
}

let output = "";
child.stdout.on("data", (chunk) => {
  process.stdout.write(chunk);
  output += chunk.toString();
});

// uvu colours its totals even under FORCE_COLOR=0, with escape codes between
// a label and its number, so they are removed before parsing.
const ANSI_ESCAPE = /\u001b\[[0-9;]*[A-Za-z]/g;
// The message test/helpers/captures.ts prints when a real-capture test returns
// early because its capture is absent; uvu counts such a test as passed. It
// can follow uvu's progress dots on the same line.
// NOTE: a test that looks up two absent captures prints two messages and is
// counted twice here.
const CAPTURE_SKIP = /skipped: capture .* not found/g;

child.on("close", (code, signal) => {
  rmSync(cacheDir, { recursive: true, force: true });
  const plain = output.replace(ANSI_ESCAPE, "");
  const number = (label) => Number(new RegExp(`${label}:\\s+(\\d+)`).exec(plain)?.[1] ?? 0);
  const total = number("Total");
  const uvuSkipped = number("Skipped");
  const captureSkipped = plain.match(CAPTURE_SKIP)?.length ?? 0;
  const passed = Math.max(0, number("Passed") - captureSkipped);
  const skipped = uvuSkipped + captureSkipped;
  const failed = Math.max(0, total - number("Passed") - uvuSkipped);
  console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
  if (signal) console.error(`test runner stopped by signal ${signal}`);
  process.exit(code ?? 1);
});
