// `fieldsense search` on a store file and on PostgreSQL: human and JSON
// output, the limit, a malformed query's error with its caret line, and a
// database without the correlator's schema.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../agent/src/cli/main.js";
import { openStore, type Store } from "../../correlator/src/store.js";
import { createTestDatabase } from "./postgres.js";
import { copyStoreToPostgres, insertCraftedRows, SCRIPT_MARKUP } from "./search-fixtures.js";

async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, { stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; } });
  return { code, stdout, stderr };
}

const dir = mkdtempSync(join(tmpdir(), "fieldsense-search-cli-"));
const dbPath = join(dir, "correlator.db");

test.before(async () => {
  const store = await openStore(dbPath);
  await insertCraftedRows(store);
  await store.close();
});

test("search cli prints hits newest first", async () => {
  const result = await run("search", "--db", dbPath, "record.share:*ADMIN$", "OR", "*.job");
  assert.is(result.code, 0, result.stderr);
  const lines = result.stdout.trimEnd().split("\n");
  assert.is(lines.length, 4);
  assert.match(lines[0], "2026-11-02T10:05:00.000000Z  lab/gw-lab  record smb  10.30.0.5:50114 -> 10.30.0.9:445  command=READ share=\\\\10.30.0.9\\C$ path=Windows\\Tasks\\At2.job length=872");
  assert.match(lines[3], "record smb  10.30.0.5:50112 -> 10.30.0.9:445  command=TREE_CONNECT");
  assert.is(result.stderr, "4 hits\n");
});

test("search cli json lines", async () => {
  const result = await run("search", "--db", dbPath, "--json", "evidence.service_name:<script>*");
  assert.is(result.code, 0, result.stderr);
  const hits = result.stdout.trimEnd().split("\n").map((line) => JSON.parse(line));
  assert.is(hits.length, 1);
  assert.is(hits[0].kind, "alert");
  assert.is(hits[0].site, "lab");
  assert.is(hits[0].incident_id, 1);
  assert.is(hits[0].body.evidence.service_name, SCRIPT_MARKUP);
});

test("search cli limit notes more", async () => {
  const result = await run("search", "--db", dbPath, "--limit", "2", "site:lab");
  assert.is(result.code, 0, result.stderr);
  assert.is(result.stdout.trimEnd().split("\n").length, 2);
  assert.is(result.stderr, "2 hits shown, the newest first; more match: raise --limit (now 2) or narrow the query\n");
});

test("search cli invalid query exits 2", async () => {
  const result = await run("search", "--db", dbPath, "score>=high");
  assert.is(result.code, 2);
  assert.is(result.stdout, "");
  assert.is(result.stderr, [
    'fieldsense: invalid query at column 8: score compares numbers: "high" is not a number; for example score>=70',
    "  score>=high",
    "         ^^^^",
    "",
  ].join("\n"));
});

test("search cli usage errors", async () => {
  const missing = await run("search", "--db", dbPath);
  assert.is(missing.code, 2);
  assert.match(missing.stderr, 'missing QUERY for "fieldsense search"');
  const limit = await run("search", "--db", dbPath, "--limit", "0", "smb");
  assert.is(limit.code, 2);
  assert.match(limit.stderr, 'invalid --limit "0"');
  const absent = await run("search", "--db", join(dir, "absent.db"), "smb");
  assert.is(absent.code, 1);
  assert.match(absent.stderr, `store ${join(dir, "absent.db")} not found`);
});

test("search cli on postgres", async () => {
  const store = await openStore(dbPath, { readOnly: true });
  let copy;
  try {
    copy = await copyStoreToPostgres(store, `fieldsense_search_cli_test_${process.pid}`);
  } finally {
    await store.close();
  }
  if (!copy) return;
  try {
    const query = ["record.share:*ADMIN$", "OR", "(*.job AND time>=2026-11-02)"];
    const onPostgres = await run("search", "--db", copy.url, ...query);
    const onSqlite = await run("search", "--db", dbPath, ...query);
    assert.is(onPostgres.code, 0, onPostgres.stderr);
    assert.is(onPostgres.stderr, "4 hits\n");
    assert.is(onPostgres.stdout, onSqlite.stdout);
  } finally {
    await copy.drop();
  }
});

test("search cli on empty postgres", async () => {
  const database = await createTestDatabase("search_empty");
  if (!database) return;
  try {
    const result = await run("search", "--db", database.url, "smb");
    assert.is(result.code, 1);
    assert.is(result.stdout, "");
    assert.match(result.stderr, `fieldsense: store ${database.url} has no correlator schema; start "fieldsense correlator --db" on this database once`);
  } finally {
    await database.drop();
  }
});

test.after(() => {
  rmSync(dir, { recursive: true, force: true });
});

test.run();
