// The guard that the arm64 same-output runs import: it must reject the native
// add-on packages and any .node file, and let plain JavaScript packages load.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { NATIVE_ADDON_GUARD, runNode } from "./emulator.js";

function guarded(script: string): string[] {
  return ["--import", NATIVE_ADDON_GUARD, "--input-type=module", "-e", script];
}

test("native guard rejects better-sqlite3", async () => {
  const run = await runNode(guarded('await import("better-sqlite3");'));
  assert.is.not(run.exitCode, 0, "importing better-sqlite3 must fail");
  assert.match(run.stderr, 'imports "better-sqlite3" (package better-sqlite3, a native add-on)');
});

test("native guard rejects a .node file", async () => {
  const run = await runNode(guarded('process.dlopen({ exports: {} }, "/nonexistent/addon.node");'));
  assert.is.not(run.exitCode, 0, "process.dlopen must fail");
  assert.match(run.stderr, "native add-on /nonexistent/addon.node loaded by the replay path");
});

test("native guard allows JavaScript packages", async () => {
  const run = await runNode(guarded('const { parse } = await import("yaml"); console.log(parse("a: 1").a);'));
  assert.is(run.exitCode, 0, run.stderr);
  assert.is(run.stdout, "1\n");
});

test.run();
