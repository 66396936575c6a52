// `fieldsense correlator` option checks and `fieldsense report` on a
// PostgreSQL store, through the CLI's main().
import { test } from "uvu";
import * as assert from "uvu/assert";
import { main } from "../../agent/src/cli/main.js";
import { openStore } from "../../correlator/src/store.js";
import { modbusAlertRecord, sampleAlert } from "../publish/samples.js";
import { createTestDatabase } from "./postgres.js";

async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, { stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; } });
  return { code, stdout, stderr };
}

test("correlator options rejected with the fix", async () => {
  const broker = ["--broker", "mqtt://127.0.0.1:1"];
  const cases: [string[], string][] = [
    [[...broker, "--share-group", "a/b", "--db", "postgres://u@127.0.0.1/db"], 'invalid --share-group "a/b"'],
    [[...broker, "--share-group", "group", "--db", "/tmp/c.db"], "--share-group needs a PostgreSQL store"],
    [[...broker, "--min-incident-score", "101"], 'invalid --min-incident-score "101"'],
    [[...broker, "--min-incident-score", "4.5"], 'invalid --min-incident-score "4.5"'],
    [[...broker, "--retention-days", "0"], 'invalid --retention-days "0"'],
    [[...broker, "--retention-max-mb", "x"], 'invalid --retention-max-mb "x"'],
  ];
  for (const [argv, expected] of cases) {
    const result = await run("correlator", ...argv);
    assert.is(result.code, 2, `${argv.join(" ")}: ${result.stderr}`);
    assert.match(result.stderr, expected);
  }
});

test("correlator start without postgres", async () => {
  // Nothing listens on port 1 of the loopback interface.
  const result = await run("correlator", "--broker", "mqtt://127.0.0.1:1", "--db", "postgres://fieldsense:secret@127.0.0.1:1/fieldsense");
  assert.is(result.code, 1, result.stderr);
  assert.match(result.stderr, "cannot open store postgres://fieldsense:***@127.0.0.1:1/fieldsense (PostgreSQL: ");
  assert.match(result.stderr, "check that the server runs");
  assert.not.match(result.stderr, "secret");
});

test("report from postgres ranked", async () => {
  const database = await createTestDatabase("report");
  if (!database) return;
  try {
    const store = await openStore(database.url);
    await store.insertAlert(sampleAlert());
    await store.insertAlert(sampleAlert("plant-a", "gw-1", modbusAlertRecord()));
    await store.close();
    const result = await run("report", "--db", database.url);
    assert.is(result.code, 0, result.stderr);
    assert.match(result.stdout, "# Incidents by rank\n\n| Rank | Incident | Score | Alerts | Tactics | IT-to-OT pivot | Hosts |");
    assert.match(result.stdout, "| 120 | 1 | 100 | 2 | Execution, Persistence, Privilege Escalation, Impair Process Control | no | 10.10.0.55, 10.10.1.20, 10.10.2.10 |");
    assert.match(result.stdout, "# Incident 1: score 100");
    assert.match(result.stdout, "- Rank: ");
    assert.match(result.stdout, "## ATT&CK mapping");
    const missing = await run("report", "--db", database.url, "--incident", "7");
    assert.is(missing.code, 1);
    assert.match(missing.stderr, `incident 7 not found in ${database.url}`);
  } finally {
    await database.drop();
  }
});

test.run();
