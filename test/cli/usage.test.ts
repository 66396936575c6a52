import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../agent/src/cli/main.js";
import { openStore } from "../../correlator/src/store.js";
import { sampleAlert } from "../publish/samples.js";

async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, { stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; } });
  return { code, stdout, stderr };
}

test("cli without command prints help", async () => {
  const result = await run();
  assert.is(result.code, 2);
  assert.match(result.stderr, "Usage: fieldsense COMMAND");
});

test("cli usage errors name the option", async () => {
  const cases: [string[], string][] = [
    [["launch"], 'unknown command "launch"'],
    [["replay"], "missing capture FILE"],
    [["replay", "a.pcap", "--bogus"], "unknown option --bogus"],
    [["replay", "a.pcap", "--site", "plant/a"], 'invalid --site "plant/a"'],
    [["replay", "a.pcap", "--gateway", ""], 'invalid --gateway ""'],
    [["replay", "a.pcap", "--broker", "http://127.0.0.1:1883"], "scheme http: is not an MQTT scheme"],
    [["replay", "a.pcap", "--broker", "not a url"], 'invalid broker URL "not a url"'],
    [["replay", "a.pcap", "--site"], "--site"],
    [["correlator"], "missing --broker URL"],
    [["correlator", "--broker", "mqtt://127.0.0.1:1", "--window-minutes", "0"], 'invalid --window-minutes "0"'],
    [["correlator", "--broker", "mqtt://127.0.0.1:1", "extra"], 'unexpected argument "extra"'],
    [["report", "--incident", "abc"], 'invalid --incident "abc"'],
    [["demo", "--site", "a+b"], 'invalid --site "a+b"'],
    [["help", "launch"], 'unknown command "launch"'],
  ];
  for (const [argv, expected] of cases) {
    const result = await run(...argv);
    assert.is(result.code, 2, `${argv.join(" ")} exited ${result.code}: ${result.stderr}`);
    assert.ok(result.stderr.includes(expected), `${argv.join(" ")}: "${result.stderr.trim()}" lacks "${expected}"`);
    assert.is(result.stdout, "", `${argv.join(" ")} wrote to stdout`);
  }
});

test("cli help for every command", async () => {
  for (const command of ["replay", "correlator", "report", "demo"]) {
    const viaOption = await run(command, "--help");
    assert.is(viaOption.code, 0);
    assert.match(viaOption.stdout, `Usage: fieldsense ${command}`);
    const viaHelp = await run("help", command);
    assert.is(viaHelp.stdout, viaOption.stdout);
  }
  const top = await run("--help");
  assert.is(top.code, 0);
  assert.match(top.stdout, "replay FILE...");
});

// Each command's help lists its own failures: status reads no capture and
// writes no file, while extract does both.
test("cli exit codes fit the command", async () => {
  const status = await run("status", "--help");
  const statusCodes = status.stdout.slice(status.stdout.indexOf("Exit codes:"));
  assert.match(statusCodes, "no agent answers on the control socket");
  assert.not.match(statusCodes, "capture");
  assert.not.match(statusCodes, "written");
  const extract = await run("extract", "--help");
  const extractCodes = extract.stdout.slice(extract.stdout.indexOf("Exit codes:"));
  assert.match(extractCodes, "a capture cannot be read");
  assert.match(extractCodes, "the disk is full");
  assert.match(extractCodes, "no agent answers on the control socket");
});

test("cli report reads the store", async () => {
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-cli-"));
  try {
    const db = join(dir, "c.db");
    const missing = await run("report", "--db", join(dir, "none.db"));
    assert.is(missing.code, 1);
    assert.match(missing.stderr, "none.db not found");

    const store = await openStore(db);
    await store.insertAlert(sampleAlert());
    await store.close();
    const all = await run("report", "--db", db);
    assert.is(all.code, 0, all.stderr);
    assert.match(all.stdout, "# Incident 1: score 85");
    const one = await run("report", "--db", db, "--incident", "1");
    // The listing of all incidents adds the index by rank before the reports.
    assert.ok(all.stdout.startsWith("# Incidents by rank\n"), all.stdout.slice(0, 80));
    assert.ok(all.stdout.endsWith(one.stdout), "the listing does not end with the report of incident 1");
    const html = await run("report", "--db", db, "--incident", "1", "--html");
    assert.is(html.code, 0, html.stderr);
    assert.match(html.stdout, "<h1>Incident 1: score 85</h1>");
    const unknown = await run("report", "--db", db, "--incident", "7");
    assert.is(unknown.code, 1);
    assert.match(unknown.stderr, "incident 7 not found");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
