// Which store errors the correlator retries (the store may recover) and
// which lose the message (the message itself is at fault).
import { test } from "uvu";
import * as assert from "uvu/assert";
import Database from "better-sqlite3";
import pg from "pg";
import { isTransientStoreError } from "../../correlator/src/store-errors.js";
import { freeLoopbackPort } from "./mosquitto.js";

const coded = (message: string, code: string) => Object.assign(new Error(message), { code });

test("store errors sorted by code", () => {
  const cases: [Error, boolean][] = [
    [new Database.SqliteError("database or disk is full", "SQLITE_FULL"), true],
    [new Database.SqliteError("disk I/O error", "SQLITE_IOERR_WRITE"), true],
    [new Database.SqliteError("database is locked", "SQLITE_BUSY"), true],
    [new Database.SqliteError("attempt to write a readonly database", "SQLITE_READONLY_DBMOVED"), true],
    [new Database.SqliteError("UNIQUE constraint failed: alerts.id", "SQLITE_CONSTRAINT_PRIMARYKEY"), false],
    [new Database.SqliteError("string or blob too big", "SQLITE_TOOBIG"), false],
    // A code that only starts like a transient one.
    [new Database.SqliteError("made up", "SQLITE_FULLNESS"), false],
    [coded("terminating connection due to administrator command", "57P01"), true],
    [coded("could not extend file: No space left on device", "53100"), true],
    [coded("connection failure", "08006"), true],
    [coded("deadlock detected", "40P01"), true],
    [coded("invalid byte sequence for encoding \"UTF8\": 0x00", "22021"), false],
    [coded("value too long for type character varying(64)", "22001"), false],
    [coded("connect ECONNREFUSED 127.0.0.1:5432", "ECONNREFUSED"), true],
    [new Error("Connection terminated unexpectedly"), true],
    [new Error("timeout exceeded when trying to connect"), true],
    [new TypeError("Cannot read properties of undefined (reading 'ip')"), false],
  ];
  for (const [error, transient] of cases) {
    assert.is(isTransientStoreError(error), transient, `${(error as { code?: string }).code ?? error.name}: ${error.message}`);
  }
});

// A real SQLITE_FULL: max_page_count caps the file, as a full disk would.
test("store errors from a full sqlite file", () => {
  const db = new Database(":memory:");
  db.exec("CREATE TABLE t (v TEXT)");
  db.pragma(`max_page_count = ${db.pragma("page_count", { simple: true }) as number}`);
  let caught: unknown;
  try {
    for (let i = 0; i < 100; i++) db.prepare("INSERT INTO t VALUES (?)").run("x".repeat(4096));
  } catch (error) {
    caught = error;
  }
  db.close();
  assert.is((caught as { code?: string }).code, "SQLITE_FULL");
  assert.ok(isTransientStoreError(caught));
});

// A real refused PostgreSQL connection: nothing listens on the port.
test("store errors from a refused postgres connection", async () => {
  const port = await freeLoopbackPort();
  const client = new pg.Client({ host: "127.0.0.1", port, user: "fieldsense", database: "fieldsense", connectionTimeoutMillis: 5000 });
  const caught = await client.connect().then(() => undefined, (error: unknown) => error);
  await client.end().catch(() => undefined);
  assert.ok(caught instanceof Error, "the connection did not fail");
  assert.ok(isTransientStoreError(caught), String(caught));
});

test.run();
