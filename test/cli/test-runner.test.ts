// scripts/test.mjs (`npm test`) on suites this test writes to a temporary
// folder: its closing line counts uvu's skipped tests and the tests that
// returned early because a capture is missing.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "../helpers/captures.js";

const require = createRequire(import.meta.url);
// The suites live outside the repository, so they import uvu by its path.
const uvuEntry = JSON.stringify(require.resolve("uvu"));
const assertEntry = JSON.stringify(require.resolve("uvu/assert"));

function runSuites(files: Record<string, string>): Promise<{ code: number | null; stdout: string }> {
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-runner-"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const child = spawn(process.execPath, [join(repoRoot, "scripts", "test.mjs")], {
    cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, FIELDSENSE_TEST_DIR: dir },
  });
  let stdout = "";
  child.stdout.on("data", (chunk: Buffer) => { stdout += chunk.toString(); });
  return new Promise((resolve) => child.once("close", (code) => {
    rmSync(dir, { recursive: true, force: true });
    resolve({ code, stdout });
  }));
}

test("runner counts skipped tests", async () => {
  const result = await runSuites({
    "counting.test.ts": `
      import { test } from ${uvuEntry};
      import * as assert from ${assertEntry};
      test("passes", () => { assert.ok(true); });
      test("passes too", () => { assert.ok(true); });
      test("capture absent", () => {
        console.log("  skipped: capture /nowhere/plant.pcap not found (set FIELDSENSE_CAPTURES to the captures folder)");
      });
      test.skip("skipped by uvu", () => { assert.ok(false); });
      test.run();
    `,
  });
  assert.is(result.code, 0, result.stdout);
  assert.match(result.stdout, /\n2 passed, 0 failed, 2 skipped\n$/, result.stdout);
});

test("runner counts failures", async () => {
  const result = await runSuites({
    "failing.test.ts": `
      import { test } from ${uvuEntry};
      import * as assert from ${assertEntry};
      test("passes", () => { assert.ok(true); });
      test("fails", () => { assert.is(1, 2); });
      test.run();
    `,
  });
  assert.is(result.code, 1);
  assert.match(result.stdout, /\n1 passed, 1 failed, 0 skipped\n$/, result.stdout);
});

test.run();
