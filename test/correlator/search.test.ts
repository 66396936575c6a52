// The search language over a store filled from real captures and crafted
// rows: a table of queries with their hits, malformed queries with their
// errors, and the SQL written for SQLite and PostgreSQL.
import { test } from "uvu";
import * as assert from "uvu/assert";
import pg from "pg";
import { postgresSearchDatabase, search, searchDatabaseOf, type SearchHit } from "../../correlator/src/search/run.js";
import { compileSearch } from "../../correlator/src/search/sql.js";
import { cidrPatterns, parseQuery, SearchSyntaxError } from "../../correlator/src/search/syntax.js";
import { PostgresDatabase } from "../../correlator/src/sql.js";
import { openStore, Store } from "../../correlator/src/store.js";
import { capture } from "../helpers/captures.js";
import { copyStoreToPostgres, insertCraftedRows, replayIntoStore } from "./search-fixtures.js";

// "now" for last-N queries: noon on the day of the crafted lab rows.
const NOW_MS = Date.parse("2026-11-02T12:00:00Z");

// A hit as one readable line: the model of an alert, or the type, command
// (or operation) and path of a record, then the packet time.
function hitKey(hit: SearchHit): string {
  const body = hit.body as Record<string, unknown>;
  if (hit.kind === "alert") return `alert ${String(body.model)} ${hit.ts}`;
  const summary = [body.type, body.command ?? body.operation, body.path].filter((v) => v !== undefined).map(String).join(" ");
  return `record ${summary} ${hit.ts}`;
}

let store: Store | undefined;
let capturesPresent = false;

// 401trg_smb_at_schedule_atsvc.pcap: at.exe on 192.168.10.31 schedules
// c:\mimikatz.exe on 192.168.10.30 through NetrJobAdd over the atsvc pipe.
// 401trg_smb_psexec_add_user_svcctl.pcap: PsExec on 192.168.10.31 copies
// PSEXESVC.exe to ADMIN$ on 192.168.10.10, creates and starts the service
// over svcctl and opens its stdin/stdout/stderr pipes.
async function filledStore(): Promise<Store> {
  if (store) return store;
  store = await openStore(":memory:");
  const atsvc = capture("dcerpc/401trg_smb_at_schedule_atsvc.pcap");
  const psexec = capture("dcerpc/401trg_smb_psexec_add_user_svcctl.pcap");
  if (atsvc && psexec) {
    capturesPresent = true;
    await replayIntoStore(store, [atsvc]);
    await replayIntoStore(store, [psexec]);
  }
  await insertCraftedRows(store);
  return store;
}

const AT_JOB_READ = "record smb READ Windows\\Tasks\\At2.job 2026-11-02T10:05:00.000000Z";
const LAB_SVCCTL = "alert remote-service-svcctl 2026-11-02T10:00:00.660000Z";
const LAB_MODBUS = "alert modbus-write-not-master 2026-11-02T10:01:00.006000Z";
const LAB_LOW = "alert remote-service-svcctl 2026-10-31T10:00:00.660000Z";
const LAB_COPY = [
  "record smb WRITE upd4te.exe 2026-11-02T09:59:00.260000Z",
  "record smb CREATE upd4te.exe 2026-11-02T09:59:00.210000Z",
  "record smb TREE_CONNECT 2026-11-02T09:59:00.160000Z",
];
const LAB_PERCENT = "record smb CREATE report_100%.txt 2026-11-01T23:59:59.500000Z";
const ATSVC_ALERT = "alert remote-task-atsvc 2017-10-20T18:43:23.013830Z";
const ATSVC_RECORD = "record dcerpc c:\\mimikatz.exe 2017-10-20T18:43:23.013830Z";
const PSEXEC_PIPES = [
  "alert it-psexec-pipes 2017-10-09T16:45:00.439404Z",
  "alert it-psexec-pipes 2017-10-09T16:45:00.437879Z",
  "alert it-psexec-pipes 2017-10-09T16:45:00.436812Z",
  "alert it-psexec-pipes 2017-10-09T16:45:00.422449Z",
];
const PSEXEC_SVCCTL = ["alert remote-service-svcctl 2017-10-09T16:45:00.313373Z", "alert remote-service-svcctl 2017-10-09T16:45:00.302348Z"];
const PSEXEC_ADMIN_SHARE = "alert it-admin-share-executable 2017-10-09T16:44:39.269246Z";
// it-write-then-execute fires on the CreateServiceWOW64W request that follows
// the write of PSEXESVC.exe to ADMIN$ by the same source. It scores 100 and
// lists T1053.005 beside the service techniques, because the model also
// covers tasks registered after such a write. Its evidence carries the
// svcctl request's interface and operation.
const PSEXEC_WRITE_EXECUTE = "alert it-write-then-execute 2017-10-09T16:45:00.302348Z";
const PSEXESVC_WRITES = [
  "record smb WRITE PSEXESVC.exe 2017-10-09T16:44:39.272517Z",
  "record smb WRITE PSEXESVC.exe 2017-10-09T16:44:39.272191Z",
  "record smb WRITE PSEXESVC.exe 2017-10-09T16:44:39.271895Z",
  "record smb WRITE PSEXESVC.exe 2017-10-09T16:44:39.271761Z",
];

// Each query with its hits, newest first. Rows from the captures are listed
// separately, because a checkout without the captures has only the crafted rows.
const QUERIES: Array<{ query: string; crafted: string[]; fromCaptures?: string[] }> = [
  { query: "*.job AND smb", crafted: [AT_JOB_READ] },
  { query: "*.job", crafted: [AT_JOB_READ] },
  // A word without wildcards matches inside values: NetrJobAdd contains "job".
  { query: "job", crafted: [AT_JOB_READ], fromCaptures: [ATSVC_ALERT, ATSVC_RECORD] },
  { query: "score>=95", crafted: [], fromCaptures: [ATSVC_ALERT, ...PSEXEC_PIPES, ...PSEXEC_SVCCTL, PSEXEC_WRITE_EXECUTE, PSEXEC_ADMIN_SHARE] },
  { query: "score<50", crafted: [LAB_LOW] },
  { query: "score>=70 AND NOT score>=100 AND site:lab", crafted: [LAB_MODBUS, LAB_SVCCTL] },
  { query: "score!=100 AND kind:alert", crafted: [LAB_MODBUS, LAB_SVCCTL, LAB_LOW], fromCaptures: [PSEXEC_ADMIN_SHARE] },
  { query: "mitre:T1053*", crafted: [], fromCaptures: [ATSVC_ALERT, PSEXEC_WRITE_EXECUTE] },
  { query: "technique:t0855", crafted: [LAB_MODBUS] },
  { query: "model:remote-service-svcctl AND NOT site:lab", crafted: [], fromCaptures: PSEXEC_SVCCTL },
  { query: "(site:lab OR site:plant-a) AND type:modbus", crafted: [LAB_MODBUS] },
  { query: "port:502", crafted: [LAB_MODBUS] },
  { query: "ip:10.10.2.10", crafted: [LAB_MODBUS] },
  { query: "evidence.service_name:<script>*", crafted: [LAB_SVCCTL] },
  { query: "account:lab\\EVE", crafted: [LAB_SVCCTL] },
  { query: "from 2026-11-01 to 2026-11-02", crafted: [AT_JOB_READ, LAB_MODBUS, LAB_SVCCTL, ...LAB_COPY, LAB_PERCENT] },
  { query: "last 12h", crafted: [AT_JOB_READ, LAB_MODBUS, LAB_SVCCTL, ...LAB_COPY] },
  { query: "time:2026-11-01", crafted: [LAB_PERCENT] },
  { query: "time<=2026-11-01 AND site:lab", crafted: [LAB_PERCENT, LAB_LOW] },
  { query: "time>2026-11-02T10:00 AND site:lab", crafted: [AT_JOB_READ, LAB_MODBUS] },
  // LIKE's own wildcards in the data are matched literally.
  { query: '"100%"', crafted: [LAB_PERCENT] },
  { query: "50%_off", crafted: [LAB_SVCCTL] },
  { query: "report?100%.txt", crafted: [LAB_PERCENT] },
  { query: "record.command:READ OR record.command:WRITE", crafted: [AT_JOB_READ, LAB_COPY[0]], fromCaptures: PSEXESVC_WRITES },
  { query: "src.ip:10.30.0.* AND NOT record.command:CREATE", crafted: [AT_JOB_READ, LAB_MODBUS, LAB_SVCCTL, LAB_COPY[0], LAB_COPY[2], LAB_LOW] },
  // IPC$ ends in C$ too; the backslash keeps only the C$ share.
  { query: "record.share:*\\C$ AND NOT \"At2\"", crafted: [LAB_PERCENT] },
  {
    query: "svcctl CreateServiceWOW64W", crafted: [],
    fromCaptures: [PSEXEC_SVCCTL[1], PSEXEC_WRITE_EXECUTE, "record dcerpc CreateServiceWOW64W 2017-10-09T16:45:00.302348Z"],
  },
  { query: "kind:alert AND kind:record", crafted: [] },
  // 10.30.0.0/29 contains 10.30.0.5 and 10.30.0.7 but not 10.30.0.8 or 10.30.0.9.
  { query: "ip:10.30.0.0/29 AND kind:alert", crafted: [LAB_SVCCTL, LAB_LOW] },
  { query: "src.ip:10.30.0.4/30 AND NOT kind:alert", crafted: [AT_JOB_READ, ...LAB_COPY, LAB_PERCENT] },
  { query: "ip!=10.0.0.0/8 AND kind:alert", crafted: [], fromCaptures: [ATSVC_ALERT, ...PSEXEC_PIPES, ...PSEXEC_SVCCTL, PSEXEC_WRITE_EXECUTE, PSEXEC_ADMIN_SHARE] },
];

for (const { query, crafted, fromCaptures = [] } of QUERIES) {
  test(`search ${query}`, async () => {
    const result = await search(searchDatabaseOf(await filledStore()), query, { nowMs: NOW_MS });
    const expected = capturesPresent ? [...crafted, ...fromCaptures] : crafted;
    // Newest first; rows in the same millisecond keep the text order of ts.
    const byTime = (a: string, b: string) => b.slice(b.lastIndexOf(" ")).localeCompare(a.slice(a.lastIndexOf(" ")));
    assert.equal(result.hits.map(hitKey), [...expected].sort(byTime));
    assert.is(result.more, false);
  });
}

test("search phrase case and share", async () => {
  const db = searchDatabaseOf(await filledStore());
  const upper = await search(db, '"IPC$"');
  const lower = await search(db, "ipc$");
  assert.equal(lower.hits.map(hitKey), upper.hits.map(hitKey));
  if (capturesPresent) assert.is(upper.hits.length, 11);
  for (const hit of upper.hits) assert.match(JSON.stringify(hit.body).toLowerCase(), "ipc$");
});

test("search limit reports more", async () => {
  const db = searchDatabaseOf(await filledStore());
  const result = await search(db, "site:lab", { limit: 2 });
  assert.is(result.hits.length, 2);
  assert.is(result.more, true);
  assert.equal(result.hits.map(hitKey), [AT_JOB_READ, LAB_MODBUS]);
  let error: Error | undefined;
  try {
    await search(db, "smb", { limit: 0 });
  } catch (caught) {
    error = caught as Error;
  }
  assert.match(error?.message ?? "", "search limit 0 is out of range; give a whole number from 1 to 10000");
});

// Malformed queries: the 1-based column of the bad token and the message.
const ERRORS: Array<{ query: string; column: number; message: string }> = [
  { query: "", column: 1, message: 'empty query: expected a word, a "quoted phrase", field:value, NOT, "(", "last 60d" or "from DATE to DATE"' },
  { query: "score>=", column: 8, message: 'expected a value after "score>=", such as score>=70' },
  { query: "score>=high", column: 8, message: 'score compares numbers: "high" is not a number; for example score>=70' },
  { query: "(smb OR dcerpc", column: 15, message: 'expected ")" to close the "(" at column 1, found the end of the query' },
  { query: "smb)", column: 4, message: 'unexpected ")" with no matching "("; remove it or add a "(" before it' },
  { query: "smb AND", column: 8, message: "unexpected end of the query after AND: expected a word" },
  { query: "OR smb", column: 1, message: "unexpected OR: expected a word" },
  { query: "smb AND OR x", column: 9, message: "unexpected OR after AND" },
  { query: 'share "ADMIN$', column: 7, message: 'unterminated phrase: add the closing " or escape the quote as \\"' },
  { query: "scroe>=70", column: 1, message: 'unknown field "scroe"; did you mean score?' },
  { query: "last 60x", column: 6, message: 'expected a duration after "last", such as 60d, 12h, 30m, 45s or 2w; found "60x"' },
  { query: "smb last", column: 9, message: 'expected a duration after "last"' },
  { query: "from 2026-11-03 to 2026-11-01", column: 20, message: "the range ends (2026-11-01) before it starts (2026-11-03); swap the two dates" },
  { query: "from 2026-11-01", column: 16, message: 'expected "to" after "from 2026-11-01", as in from 2026-11-01 to 2026-11-03' },
  { query: "time<2026-13-01", column: 6, message: '"2026-13-01" is not a valid date or time; check the month, day and time' },
  { query: "time>=2026-02-30", column: 7, message: '"2026-02-30" is not a valid date or time' },
  { query: "time<yesterday", column: 6, message: '"yesterday" is not a date; write 2026-11-01' },
  { query: "record.:x", column: 1, message: 'invalid field path "record.": after "record." give the JSON field names' },
  { query: ":smb", column: 1, message: 'expected a field name before ":", such as score:70 or record.share:ADMIN$' },
  { query: "site>lab", column: 5, message: 'site is text and takes ":", "=" or "!=", not ">"' },
  { query: "record.path>*.job", column: 13, message: 'wildcards work with ":", "=" and "!=" only, not with ">"' },
  { query: "smb ()", column: 6, message: "empty parentheses" },
  { query: "type:modbus AND (", column: 18, message: 'unexpected end of the query after "(": expected a word' },
  { query: "to 2026-11-01", column: 1, message: '"to" without "from"' },
  { query: "smb dcerpc)", column: 11, message: 'unexpected ")" with no matching "("' },
  { query: "src.ip:10.30.0.5/16", column: 8, message: '"10.30.0.5/16" has host bits set; write 10.30.0.0/16' },
  { query: "ip:10.30.0.0/33", column: 4, message: '"10.30.0.0/33" is not an IPv4 CIDR block; write an address and a prefix length from 0 to 32' },
  { query: "ip:fe80::/64", column: 4, message: '"fe80::/64" is not an IPv4 CIDR block; write an address and a prefix length from 0 to 32, such as 10.10.0.0/16 (IPv6 blocks are not supported)' },
  { query: "ip>10.0.0.0/8", column: 3, message: 'ip takes ":", "=" or "!=" with a CIDR block, not ">"' },
  // Caps: the 33rd "(", the 101st term, a query over 4000 characters.
  { query: `${"(".repeat(33)}a${")".repeat(33)}`, column: 33, message: "parentheses and NOT nest more than 32 levels deep here; simplify the query" },
  { query: `${"NOT ".repeat(33)}a`, column: 129, message: "parentheses and NOT nest more than 32 levels deep here" },
  { query: Array.from({ length: 101 }, (_, i) => `w${i}`).join(" "), column: 391, message: "the query has more than 100 terms; split it or narrow it" },
  { query: "x".repeat(4001), column: 1, message: "the query is 4001 characters long; the maximum is 4000" },
];

for (const { query, column, message } of ERRORS) {
  test(`search error ${JSON.stringify(query.length > 60 ? `${query.slice(0, 40)}...` : query)}`, () => {
    let error: unknown;
    try {
      parseQuery(query, { nowMs: NOW_MS });
    } catch (caught) {
      error = caught;
    }
    assert.instance(error, SearchSyntaxError);
    const syntax = error as SearchSyntaxError;
    assert.is(syntax.column + 1, column, syntax.message);
    assert.match(syntax.message, `invalid query at column ${column}: ${message}`);
  });
}

test("search error caret under token", () => {
  let error: SearchSyntaxError | undefined;
  try {
    parseQuery("smb AND score>=high OR x");
  } catch (caught) {
    error = caught as SearchSyntaxError;
  }
  assert.ok(error);
  assert.equal(error!.format().split("\n"), [
    'invalid query at column 16: score compares numbers: "high" is not a number; for example score>=70',
    "  smb AND score>=high OR x",
    "                 ^^^^",
  ]);
});

test("search precedence not and or", () => {
  // NOT binds tighter than AND, AND tighter than OR; juxtaposition is AND.
  const tree = parseQuery("a OR NOT b c AND d");
  assert.equal(shape(tree), "(or a (and (and (not b) c) d))");
  assert.equal(shape(parseQuery("(a OR b) c")), "(and (or a b) c)");
  assert.equal(shape(parseQuery('site:"plant a" OR score:3')), '(or (cmp site "plant a") (cmp score 3))');
});

// A Lisp-like outline of a tree, for the precedence test.
function shape(node: ReturnType<typeof parseQuery>): string {
  switch (node.kind) {
    case "and": case "or": return `(${node.kind} ${shape(node.left)} ${shape(node.right)})`;
    case "not": return `(not ${shape(node.operand)})`;
    case "word": return node.text;
    case "compare": return `(cmp ${node.field.name} ${node.value.quoted ? JSON.stringify(node.value.text) : node.value.text})`;
    case "range": return `(range ${node.fromMs} ${node.toMs})`;
  }
}

test("search sql sqlite placeholders", () => {
  const tree = parseQuery("record.share:*ADMIN$ AND NOT score>=70 OR \"x' OR 1=1 --\"");
  const { sql, params } = compileSearch(tree, "sqlite", 50);
  assert.not.match(sql, "OR 1=1");
  assert.not.match(sql, "ADMIN");
  assert.is((sql.match(/\?/g) ?? []).length, params.length);
  assert.equal(params, [
    // alerts: the phrase only, because alerts have no record.share.
    "%x' OR 1=1 --%",
    // records: the share path and glob, then the phrase; records have no
    // score, so NOT score>=70 is true and drops out.
    '$."share"', "%ADMIN$", "%x' OR 1=1 --%",
    50,
  ]);
  assert.match(sql, "FROM json_each(records.body, ?) AS j WHERE j.type NOT IN ('object', 'array') AND (CASE j.type");
  assert.match(sql, "LIKE ? ESCAPE '\\'");
  assert.match(sql, "FROM json_tree(alerts.body) AS t");
  assert.match(sql, "ORDER BY sort_ms DESC, ts_ms DESC, ts DESC, kind, ref LIMIT ?");
});

test("search sql postgres placeholders", () => {
  const tree = parseQuery("record.share:*ADMIN$ AND record.length>=4096 OR ip:10.0.0.1");
  const { sql, params } = compileSearch(tree, "postgres", 10);
  const numbers = [...sql.matchAll(/\$(\d+)/g)].map((m) => Number(m[1]));
  assert.equal(numbers, params.map((_, i) => i + 1));
  assert.equal(params, [
    "10.0.0.1", "10.0.0.1",
    'lax $."share"[*]', "%ADMIN$", 'lax $."length"[*]', 4096, "10.0.0.1", "10.0.0.1",
    10,
  ]);
  assert.match(sql, "jsonb_path_query(records.body::jsonb, $3::jsonpath) AS j(v)");
  assert.match(sql, "(j.v #>> '{}') ILIKE $4 ESCAPE '\\'");
  assert.match(sql, "(CASE WHEN jsonb_typeof(j.v) = 'number' THEN (j.v #>> '{}')::numeric END) >= $6");
  assert.match(sql, "lower(alerts.src_ip) = lower($1)");
  assert.match(sql, "LIMIT $9");
});

test("search sql drops branches", () => {
  const alertsOnly = compileSearch(parseQuery("score>=70"), "postgres", 5);
  assert.not.match(alertsOnly.sql, "FROM records");
  assert.match(alertsOnly.sql, "FROM alerts WHERE (alerts.score IS NOT NULL AND alerts.score >= $1)");
  const recordsOnly = compileSearch(parseQuery("kind:record time<2026-11-01"), "sqlite", 5);
  assert.not.match(recordsOnly.sql, "FROM alerts");
  assert.equal(recordsOnly.params, [Date.parse("2026-11-01T00:00:00Z"), 5]);
  const none = compileSearch(parseQuery("kind:alert AND kind:record"), "sqlite", 5);
  assert.match(none.sql, "WHERE 1 = 0");
  assert.equal(none.params, []);
});

test("search database of either store", async () => {
  const store = await filledStore();
  const sqlite = searchDatabaseOf(store);
  assert.is(sqlite.dialect, "sqlite");
  assert.equal((await search(sqlite, "*.job")).hits.map(hitKey), [AT_JOB_READ]);
  // A store over a pool that records the SQL it is sent, so no server is needed.
  const queries: string[] = [];
  const pool = { query: async (text: string) => { queries.push(text); return { rows: [] }; } };
  const postgresStore = new Store(new PostgresDatabase(pool as unknown as pg.Pool), "postgres://127.0.0.1/recorded");
  const postgres = searchDatabaseOf(postgresStore);
  assert.is(postgres.dialect, "postgres");
  await search(postgres, "score>=70");
  assert.match(queries[0], "alerts.score >= $1");
});

test("search cidr patterns", () => {
  const fail = (reason: string) => new Error(reason);
  assert.equal(cidrPatterns("10.10.0.0/16", fail), ["10.10.%"]);
  assert.equal(cidrPatterns("10.10.2.10/32", fail), ["10.10.2.10"]);
  assert.equal(cidrPatterns("0.0.0.0/0", fail), ["%.%.%.%"]);
  assert.equal(cidrPatterns("10.10.16.0/20", fail), Array.from({ length: 16 }, (_, i) => `10.10.${16 + i}.%`));
  assert.equal(cidrPatterns("192.168.1.64/27", fail), Array.from({ length: 32 }, (_, i) => `192.168.1.${64 + i}`));
  assert.is(cidrPatterns("10.0.0.0/9", fail).length, 128);
});

test("search time spans", () => {
  const day = (query: string) => (parseQuery(query) as { value: { span: { startMs: number; endMs: number } } }).value.span;
  assert.equal(day("time:2026-11-01"), { startMs: Date.parse("2026-11-01T00:00:00Z"), endMs: Date.parse("2026-11-02T00:00:00Z") });
  assert.equal(day("time:2026-11-01T08:30"), { startMs: Date.parse("2026-11-01T08:30:00Z"), endMs: Date.parse("2026-11-01T08:31:00Z") });
  assert.equal(day("time:2026-11-01T08:30:00+02:00"), { startMs: Date.parse("2026-11-01T06:30:00Z"), endMs: Date.parse("2026-11-01T06:30:01Z") });
  const last = parseQuery("last 2w", { nowMs: NOW_MS }) as { fromMs: number; toMs: number };
  assert.is(last.fromMs, NOW_MS - 14 * 86_400_000);
});

// Every query of the table on the machine's PostgreSQL, in a database this
// test creates and drops, filled with the SQLite store's rows: both dialects
// must return the same hits.
test("search postgres matches sqlite", async () => {
  const sqlite = await filledStore();
  const copy = await copyStoreToPostgres(sqlite, `fieldsense_search_test_${process.pid}`);
  if (!copy) return;
  try {
    const postgres = postgresSearchDatabase(copy.client);
    for (const { query } of QUERIES) {
      const expected = await search(searchDatabaseOf(sqlite), query, { nowMs: NOW_MS });
      const actual = await search(postgres, query, { nowMs: NOW_MS });
      assert.equal(actual.hits.map(hitKey), expected.hits.map(hitKey), query);
      assert.equal(actual.hits.map((hit) => hit.incidentId), expected.hits.map((hit) => hit.incidentId), query);
    }
  } finally {
    await copy.drop();
  }
});

test.after(() => {
  store?.close();
});

test.run();
