// `fieldsense demo` end to end with its embedded aedes broker (no Mosquitto):
// broker, correlator and replay of test/fixtures/demo/plant-scene.pcap.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../agent/src/cli/main.js";
import { withTmpfs } from "../helpers/tmpfs.js";

async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, { stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; } });
  return { code, stdout, stderr };
}

test("demo prints alerts and incident report", async () => {
  const result = await run("demo");
  assert.is(result.code, 0, result.stderr);
  assert.not.match(result.stderr, "may be incomplete");
  assert.match(result.stdout, /broker mqtt:\/\/127\.0\.0\.1:\d+/);
  assert.not.match(result.stdout, "127.0.0.1:1883");
  const [alerts, reports] = result.stdout.split("== Incident reports ==");
  assert.match(alerts, "operation=CreateServiceW");
  assert.match(alerts, "function=WRITE_MULTIPLE_REGISTERS");
  assert.match(reports, "# Incident 1: score");
  for (const heading of ["## 1. What fired", "## 2. Who did what", "## 3. Files moved", "## 4. Is this routine?"]) {
    assert.match(reports, heading);
  }
  assert.match(reports, "upd4te.exe");
  assert.match(reports, "Spans IT and OT");
  assert.not.match(reports, "# Incident 2");
});

test("demo keeps data with --data", async () => {
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-demo-test-"));
  try {
    const result = await run("demo", "--data", dir);
    assert.is(result.code, 0, result.stderr);
    assert.ok(existsSync(join(dir, "correlator.db")));
    assert.equal(readdirSync(join(dir, "reports")).sort(), ["incident-1.html", "incident-1.md"]);
    const report = await run("report", "--db", join(dir, "correlator.db"), "--incident", "1");
    assert.is(report.code, 0, report.stderr);
    assert.match(report.stdout, "## 4. Is this routine?");
    // A second demo on the same store finds every alert already stored.
    const again = await run("demo", "--data", dir);
    assert.is(again.code, 0, again.stderr);
    assert.not.match(again.stdout, "# Incident 2");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// A tmpfs of 300 KiB has room for the new store but not for the alerts, so
// the demo must not report success. Skipped where a tmpfs cannot be mounted.
test("demo on a full disk exits 1", async () => {
  await withTmpfs("300k", async (dir) => {
    const result = await run("demo", "--data", dir);
    assert.is(result.code, 1, result.stderr);
    assert.match(result.stderr, /the correlator stored \d of 5 alerts/);
    assert.match(result.stderr, `fieldsense: writing ${join(dir, "correlator.db")} failed for`);
    assert.match(result.stderr, "free space on that disk or give --data a folder on another disk");
  });
});

// A report file that cannot be written (here a link to /dev/full, where every
// write fails with ENOSPC) makes the demo exit 1 and name the folder.
test("demo exits 1 when a report cannot be written", async () => {
  if (!existsSync("/dev/full")) return;
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-demo-"));
  try {
    mkdirSync(join(dir, "reports"));
    symlinkSync("/dev/full", join(dir, "reports", "incident-1.md"));
    const result = await run("demo", "--data", dir);
    assert.is(result.code, 1, result.stderr);
    assert.match(result.stderr, `fieldsense: 1 incident report(s) could not be written to ${join(dir, "reports")}`);
    assert.match(result.stdout, "== Incident reports ==");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// A tmpfs of 64 KiB cannot even hold the new store: the message names the
// demo's own option, not the correlator's --db.
test("demo store on a full disk names --data", async () => {
  await withTmpfs("64k", async (dir) => {
    const result = await run("demo", "--data", dir);
    assert.is(result.code, 1, result.stderr);
    assert.match(result.stderr, `cannot create the demo's store ${join(dir, "correlator.db")}`);
    assert.match(result.stderr, "give --data a folder on another disk");
    assert.not.match(result.stderr, "--db");
  });
});

test.run();
