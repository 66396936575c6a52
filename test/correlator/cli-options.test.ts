// `fieldsense correlator` option checks and `fieldsense report` on a
// PostgreSQL store, through the CLI's main().
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../agent/src/cli/main.js";
import { loadCorrelatorConfig } from "../../correlator/src/config.js";
import { repoRoot } from "../helpers/captures.js";
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

test("example configuration loads", () => {
  assert.equal(loadCorrelatorConfig(join(repoRoot, "deploy", "correlator.example.yaml")), {
    broker: "mqtts://broker.plant.example:8883",
    db: "postgres://fieldsense@db.plant.example/fieldsense",
    reports: "/var/lib/fieldsense/reports",
    window_minutes: 240,
    share_group: "correlators",
    client_id: "correlator-a",
    min_incident_score: 40,
    critical_hosts: ["10.10.2.10", "hmi01"],
    retention: { days: 180, max_mb: 4096 },
  });
});

// Each error names the file, the line, the key and the value found, and
// exits 1 as the agent's configuration errors do.
test("configuration errors name line and value", async () => {
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-config-"));
  try {
    const cases: [string, string][] = [
      ["brokr: mqtt://127.0.0.1:1\n", 'line 1: unknown key "brokr" in the configuration; allowed keys: broker, db,'],
      ["broker: mqtt://127.0.0.1:1\n# minutes\nwindow_minutes: 4h\n", 'line 3: window_minutes is "4h", but it must be a whole number, for example window_minutes: 240'],
      ["broker: mqtt://127.0.0.1:1\nretention:\n  days: zero\n", 'line 3: retention.days is "zero", but it must be a whole number, for example days: 180'],
      ["broker: mqtt://127.0.0.1:1\ncritical_hosts: 10.0.0.1\n", 'line 2: critical_hosts is "10.0.0.1", but it must be a list'],
      ["broker: mqtt://127.0.0.1:1\nmin_incident_score: 120\n", "line 2: min_incident_score is 120, but it must be from 0 to 100"],
      ["broker: mqtt://127.0.0.1:1\nshare_group: a/b\n", 'line 2: share_group is "a/b", but it must not be empty or contain /'],
      ["broker: http://127.0.0.1:1\n", 'line 1: broker: invalid broker URL "http://127.0.0.1:1"'],
      ["broker: [unclosed\n", "line 2: invalid YAML: "],
      // The file's share group needs PostgreSQL, and db from the file is SQLite.
      [`broker: mqtt://127.0.0.1:1\nshare_group: corr\ndb: ${join(dir, "c.db")}\n`, 'line 2: share_group: "corr" needs a PostgreSQL store'],
    ];
    for (const [i, [text, expected]] of cases.entries()) {
      const path = join(dir, `c${i}.yaml`);
      writeFileSync(path, text);
      const result = await run("correlator", "--config", path);
      assert.is(result.code, 1, `${text}: ${result.stderr}`);
      assert.match(result.stderr, `fieldsense: ${path} ${expected}`);
    }
    const missing = await run("correlator", "--config", join(dir, "none.yaml"));
    assert.is(missing.code, 1);
    assert.match(missing.stderr, "cannot read correlator configuration");
    assert.match(missing.stderr, "ENOENT");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// A well-formed command whose alert or incident is not in the store fails
// the lookup (exit 1), and is no usage error (exit 2).
test("correlator pcap alert not found", async () => {
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-pcap-"));
  try {
    const db = join(dir, "c.db");
    const store = await openStore(db);
    await store.insertAlert(sampleAlert());
    await store.close();
    const broker = ["--broker", "mqtt://127.0.0.1:1", "--db", db];

    const alert = await run("correlator", "pcap", "0123abcd", ...broker);
    assert.is(alert.code, 1, alert.stderr);
    assert.match(alert.stderr, `fieldsense: alert 0123abcd not found in store ${db}; list the incidents and their alerts with "fieldsense report --db ${db}"`);

    const incident = await run("correlator", "pcap", "--incident", "7", ...broker);
    assert.is(incident.code, 1, incident.stderr);
    assert.match(incident.stderr, `fieldsense: incident 7 not found in store ${db}`);

    const noStore = await run("correlator", "pcap", "0123abcd", "--broker", "mqtt://127.0.0.1:1", "--db", join(dir, "none.db"));
    assert.is(noStore.code, 1, noStore.stderr);
    assert.match(noStore.stderr, `store ${join(dir, "none.db")} not found`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
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
