// The correlator's schema and the two SQL back ends behind one small async
// interface: SQLite through better-sqlite3 (the default) and PostgreSQL
// through pg. Statements are written once with `?` placeholders in the
// subset of SQL both dialects accept (ON CONFLICT DO NOTHING, RETURNING,
// CASE instead of two-argument MIN/MAX). What differs is named in DIALECTS.
import Database from "better-sqlite3";
import pg from "pg";

export type DialectName = "sqlite" | "postgres";

interface Dialect {
  // Column type of an incident id that the database numbers itself.
  serialKey: string;
  // Integer type wide enough for Unix time in milliseconds.
  bigint: string;
}

const DIALECTS: Record<DialectName, Dialect> = {
  sqlite: { serialKey: "INTEGER PRIMARY KEY AUTOINCREMENT", bigint: "INTEGER" },
  postgres: { serialKey: "BIGSERIAL PRIMARY KEY", bigint: "BIGINT" },
};

// Schema version 3 adds the entity graph, ATT&CK tactics, ranking and
// retention columns to version 2.
export const STORE_SCHEMA_VERSION = 3;

// The whole schema of a new store. Times named *_ms are Unix milliseconds:
// ts_ms is packet time, received_ms the time the correlator stored the row.
export function schemaSql(name: DialectName): string {
  const { serialKey, bigint } = DIALECTS[name];
  return `
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS alerts (
  id TEXT PRIMARY KEY,
  site TEXT NOT NULL,
  gateway TEXT NOT NULL,
  ts TEXT NOT NULL,
  ts_ms ${bigint} NOT NULL,
  model TEXT NOT NULL,
  score INTEGER NOT NULL,
  src_ip TEXT NOT NULL,
  dst_ip TEXT NOT NULL,
  incident_id ${bigint},
  received_at TEXT NOT NULL,
  body TEXT NOT NULL,
  record TEXT NOT NULL DEFAULT '',
  account TEXT,
  routine INTEGER NOT NULL DEFAULT 0,
  it_entry INTEGER NOT NULL DEFAULT 0,
  ot_command INTEGER NOT NULL DEFAULT 0,
  received_ms ${bigint} NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS alerts_by_hosts ON alerts (site, src_ip, dst_ip, ts_ms);
CREATE INDEX IF NOT EXISTS alerts_by_incident ON alerts (incident_id, ts_ms);
CREATE INDEX IF NOT EXISTS alerts_by_dst ON alerts (site, dst_ip, ts_ms);
CREATE INDEX IF NOT EXISTS alerts_by_received ON alerts (received_ms);
CREATE TABLE IF NOT EXISTS records (
  key TEXT PRIMARY KEY,
  site TEXT NOT NULL,
  gateway TEXT NOT NULL,
  type TEXT NOT NULL,
  ts TEXT NOT NULL,
  ts_ms ${bigint} NOT NULL,
  src_ip TEXT NOT NULL,
  dst_ip TEXT NOT NULL,
  body TEXT NOT NULL,
  ot_command INTEGER NOT NULL DEFAULT 0,
  received_ms ${bigint} NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS records_by_hosts ON records (site, src_ip, dst_ip, ts_ms);
CREATE INDEX IF NOT EXISTS records_by_received ON records (received_ms);
CREATE TABLE IF NOT EXISTS incidents (
  id ${serialKey},
  site TEXT NOT NULL,
  first_ms ${bigint} NOT NULL,
  last_ms ${bigint} NOT NULL,
  score INTEGER NOT NULL,
  updated_at TEXT NOT NULL,
  max_score INTEGER NOT NULL DEFAULT 0,
  alert_count INTEGER NOT NULL DEFAULT 0,
  routine_count INTEGER NOT NULL DEFAULT 0,
  pivot_ms ${bigint},
  rank INTEGER NOT NULL DEFAULT 0,
  rank_why TEXT NOT NULL DEFAULT '[]',
  rank_tactics TEXT NOT NULL DEFAULT '[]',
  rank_progression TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS incidents_by_rank ON incidents (rank, first_ms);
${INCIDENT_SET_TABLES.map(([table, column]) => incidentSetTableSql(table, column, bigint)).join("\n")}
CREATE INDEX IF NOT EXISTS incident_hosts_by_ip ON incident_hosts (ip);
CREATE INDEX IF NOT EXISTS incident_entities_by_entity ON incident_entities (entity);
CREATE TABLE IF NOT EXISTS incident_tactics (
  incident_id ${bigint} NOT NULL,
  tactic TEXT NOT NULL,
  first_ms ${bigint} NOT NULL,
  last_ms ${bigint} NOT NULL,
  PRIMARY KEY (incident_id, tactic)
);
CREATE TABLE IF NOT EXISTS host_names (
  site TEXT NOT NULL,
  ip TEXT NOT NULL,
  name TEXT NOT NULL,
  source TEXT NOT NULL,
  first_ms ${bigint} NOT NULL,
  last_ms ${bigint} NOT NULL,
  PRIMARY KEY (site, ip, name, source)
);
CREATE TABLE IF NOT EXISTS device_facts (
  site TEXT NOT NULL,
  ip TEXT NOT NULL,
  name TEXT NOT NULL,
  value TEXT NOT NULL,
  last_ms ${bigint} NOT NULL,
  PRIMARY KEY (site, ip, name)
);
`;
}

// Per-incident tables keyed by (incident_id, column), which a merge unites.
// schemaSql creates them from this list.
export const INCIDENT_SET_TABLES: ReadonlyArray<[string, string]> = [
  ["incident_hosts", "ip"], ["incident_models", "model"], ["incident_techniques", "technique"], ["incident_entities", "entity"],
];

function incidentSetTableSql(table: string, column: string, bigint: string): string {
  return `CREATE TABLE IF NOT EXISTS ${table} (
  incident_id ${bigint} NOT NULL,
  ${column} TEXT NOT NULL,
  PRIMARY KEY (incident_id, ${column})
);`;
}

export interface RunResult {
  changes: number;
}

// The operations the store runs. Placeholders are `?` in every dialect.
export interface SqlRunner {
  readonly dialect: DialectName;
  all<T>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  get<T>(sql: string, params?: readonly unknown[]): Promise<T | undefined>;
  run(sql: string, params?: readonly unknown[]): Promise<RunResult>;
}

export interface SqlDatabase extends SqlRunner {
  // Runs several statements separated by semicolons, without parameters.
  exec(sql: string): Promise<void>;
  // Runs `work` in one transaction that holds the write locks of `lockKeys`
  // from its first statement. For SQLite the lock covers this process (BEGIN
  // IMMEDIATE, one writer at a time). For PostgreSQL it covers every process
  // (transaction-level advisory locks on hashes of the keys, see lockKeys).
  transaction<T>(lockKeys: string | readonly string[], work: (tx: SqlRunner) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

// Runs promises one after another, for a connection that has one
// transaction at a time.
class Queue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(work: () => Promise<T>): Promise<T> {
    const result = this.tail.then(work, work);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

export class SqliteDatabase implements SqlDatabase {
  readonly dialect = "sqlite";
  private readonly statements = new Map<string, Database.Statement>();
  private readonly writes = new Queue();

  constructor(readonly db: Database.Database) {}

  // Prepares each SQL text once: an alert runs about twenty statements, and
  // preparing them per alert would cost more than running them.
  private statement(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  async all<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    return this.statement(sql).all(...params) as T[];
  }

  async get<T>(sql: string, params: readonly unknown[] = []): Promise<T | undefined> {
    return this.statement(sql).get(...params) as T | undefined;
  }

  async run(sql: string, params: readonly unknown[] = []): Promise<RunResult> {
    return { changes: this.statement(sql).run(...params).changes };
  }

  async exec(sql: string): Promise<void> {
    this.db.exec(sql);
  }

  transaction<T>(_lockKeys: string | readonly string[], work: (tx: SqlRunner) => Promise<T>): Promise<T> {
    return this.writes.run(async () => {
      this.db.exec("BEGIN IMMEDIATE");
      try {
        const result = await work(this);
        this.db.exec("COMMIT");
        return result;
      } catch (error) {
        if (this.db.inTransaction) this.db.exec("ROLLBACK");
        throw error;
      }
    });
  }

  async close(): Promise<void> {
    // Waits for a transaction in progress before closing.
    await this.writes.run(async () => undefined);
    if (this.db.open) this.db.close();
  }
}

// PostgreSQL returns BIGINT (int8, type oid 20) and COUNT(*) as strings by
// default, because they can exceed 2^53. Times in ms and row counts stay far
// below that, so this pool parses them as numbers. The parsers apply to this
// pool only, not to other users of pg in the process.
const PG_INT8_OID = 20;
const PG_TYPES = {
  getTypeParser(oid: number, format?: string): (value: string) => unknown {
    if (oid === PG_INT8_OID) return (value: string) => Number(value);
    return (pg.types.getTypeParser as (oid: number, format?: string) => (value: string) => unknown)(oid, format);
  },
};

// Rewrites `?` placeholders as $1, $2, ... The store's SQL has no `?` inside
// string literals, so every `?` is a placeholder.
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

class PgRunner implements SqlRunner {
  readonly dialect = "postgres";

  constructor(private readonly client: pg.Pool | pg.PoolClient) {}

  async all<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    return (await this.client.query(numbered(sql), params as unknown[])).rows as T[];
  }

  async get<T>(sql: string, params: readonly unknown[] = []): Promise<T | undefined> {
    return (await this.all<T>(sql, params))[0];
  }

  async run(sql: string, params: readonly unknown[] = []): Promise<RunResult> {
    return { changes: (await this.client.query(numbered(sql), params as unknown[])).rowCount ?? 0 };
  }
}

export class PostgresDatabase extends PgRunner implements SqlDatabase {
  constructor(readonly pool: pg.Pool) {
    super(pool);
  }

  // The last error of an idle pooled connection (a server restart, say).
  lastIdleError: Error | undefined;

  static connect(url: string): PostgresDatabase {
    const pool = new pg.Pool({ connectionString: url, max: 4, types: PG_TYPES, connectionTimeoutMillis: 10_000 });
    const database = new PostgresDatabase(pool);
    // pg emits these on the pool, and an unhandled "error" event would end
    // the process. The pool drops the connection, and the next query opens
    // a new one or fails where the caller handles it.
    pool.on("error", (error) => { database.lastIdleError = error; });
    return database;
  }

  async exec(sql: string): Promise<void> {
    await this.pool.query(sql);
  }

  // The advisory locks serialise writers of one key across every correlator
  // process on this database, and are released at COMMIT or ROLLBACK.
  async transaction<T>(keys: string | readonly string[], work: (tx: SqlRunner) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      const tx = new PgRunner(client);
      await lockKeys(tx, typeof keys === "string" ? [keys] : keys);
      const result = await work(tx);
      await client.query("COMMIT");
      return result;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

// Takes the transaction-level advisory lock of every key, in one statement.
// The locks are taken in the order of their hash values, the order every
// transaction uses, so two transactions that lock overlapping sets of keys
// cannot each hold a lock the other waits for. Keys whose hashes collide
// share one lock. SQLite needs none: BEGIN IMMEDIATE admits one writer.
export async function lockKeys(tx: SqlRunner, keys: readonly string[]): Promise<void> {
  if (tx.dialect !== "postgres" || keys.length === 0) return;
  await tx.all(
    `SELECT pg_advisory_xact_lock(h) AS locked
     FROM (SELECT DISTINCT hashtext(k) AS h FROM unnest(CAST(? AS TEXT[])) AS k ORDER BY h) AS hashes`, [[...keys]]);
}

// Most rows of one multi-row statement. Row counts are powers of two up to
// this, so that a table has at most nine statement texts and SQLite's cache
// of prepared statements stays small.
const MAX_ROWS_PER_STATEMENT = 256;

// Inserts `rows` with multi-row INSERT statements: `head` names the table
// and columns, `tail` follows the VALUES (an ON CONFLICT clause, or "").
// Every row has the same number of values, each bound to a `?`.
export async function insertRows(tx: SqlRunner, head: string, tail: string, rows: readonly unknown[][]): Promise<void> {
  await forEachChunk(rows, async (chunk) => {
    const row = `(${chunk[0].map(() => "?").join(", ")})`;
    await tx.run(`${head} VALUES ${chunk.map(() => row).join(", ")} ${tail}`, chunk.flat());
  });
}

// Calls `work` on consecutive chunks of `rows` whose sizes are powers of two
// no larger than MAX_ROWS_PER_STATEMENT.
export async function forEachChunk<T>(rows: readonly T[], work: (chunk: T[]) => Promise<void>): Promise<void> {
  let start = 0;
  while (start < rows.length) {
    let size = MAX_ROWS_PER_STATEMENT;
    while (size > rows.length - start) size >>= 1;
    await work(rows.slice(start, start + size));
    start += size;
  }
}
