// Runs a search on a store's database: parse, compile for the database's
// dialect, execute, and turn rows into hits.
import type Database from "better-sqlite3";
import { PostgresDatabase, SqliteDatabase } from "../sql.js";
import type { Store } from "../store.js";
import { compileSearch, DEFAULT_SEARCH_LIMIT, MAX_SEARCH_LIMIT, type Dialect, type RowKind } from "./sql.js";
import { parseQuery, type Node } from "./syntax.js";

export interface SearchDatabase {
  dialect: Dialect;
  all(sql: string, params: Array<string | number>): Promise<SearchRow[]>;
}

export interface SearchRow {
  kind: RowKind;
  ref: string;
  site: string;
  gateway: string;
  ts: string;
  ts_ms: number | string;
  incident_id: number | null;
  body: string | object;
}

export interface SearchHit {
  kind: RowKind;
  // The alert id, or the record key (a SHA-256 of site, gateway and record).
  ref: string;
  site: string;
  gateway: string;
  ts: string;
  tsMs: number;
  incidentId?: number;
  body: Record<string, unknown>;
}

export interface SearchResult {
  tree: Node;
  hits: SearchHit[];
  // True when more rows matched than `limit`.
  more: boolean;
}

export interface SearchOptions {
  limit?: number;
  nowMs?: number;
}

// The database of a store as a SearchDatabase. Search runs its own SQL with
// the dialect's placeholders on the store's better-sqlite3 handle or pg
// pool, not through the store's statement cache, which would keep every
// distinct query prepared.
export function searchDatabaseOf(store: Store): SearchDatabase {
  const backend = store.sql;
  if (backend instanceof PostgresDatabase) return postgresSearchDatabase(backend.pool);
  if (backend instanceof SqliteDatabase) return sqliteSearchDatabase(backend.db);
  throw new TypeError(`store ${store.path} has a ${backend.dialect} back end that search does not support`);
}

export function sqliteSearchDatabase(db: Database.Database): SearchDatabase {
  return {
    dialect: "sqlite",
    all: async (sql, params) => db.prepare(sql).all(...params) as SearchRow[],
  };
}

// The part of pg's Client and Pool that search uses.
export interface PostgresQueryable {
  query(text: string, values: unknown[]): Promise<{ rows: unknown[] }>;
}

export function postgresSearchDatabase(client: PostgresQueryable): SearchDatabase {
  return {
    dialect: "postgres",
    all: async (sql, params) => (await client.query(sql, params)).rows as SearchRow[],
  };
}

// Parses and runs `query`; throws SearchSyntaxError for an invalid query and
// RangeError for a limit outside 1..MAX_SEARCH_LIMIT.
export async function search(database: SearchDatabase, query: string, options: SearchOptions = {}): Promise<SearchResult> {
  const limit = options.limit ?? DEFAULT_SEARCH_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_SEARCH_LIMIT) {
    throw new RangeError(`search limit ${limit} is out of range; give a whole number from 1 to ${MAX_SEARCH_LIMIT}`);
  }
  const tree = parseQuery(query, { nowMs: options.nowMs });
  // One row more than requested shows whether the result was cut.
  const compiled = compileSearch(tree, database.dialect, limit + 1);
  const rows = await database.all(compiled.sql, compiled.params);
  const hits = rows.slice(0, limit).map(toHit);
  return { tree, hits, more: rows.length > limit };
}

function toHit(row: SearchRow): SearchHit {
  const hit: SearchHit = {
    kind: row.kind,
    ref: row.ref,
    site: row.site,
    gateway: row.gateway,
    ts: row.ts,
    tsMs: Number(row.ts_ms),
    body: (typeof row.body === "string" ? JSON.parse(row.body) : row.body) as Record<string, unknown>,
  };
  if (row.incident_id !== null && row.incident_id !== undefined) hit.incidentId = Number(row.incident_id);
  return hit;
}

// The fields of a record shown in one-line summaries, in this order, when present.
const SUMMARY_FIELDS = [
  "command", "share", "path", "named_pipe", "operation", "interface", "function", "account", "user", "domain",
  "service_name", "binary_path", "file_size", "length", "status",
];

// One line for people: for an alert its score, model, endpoints and name,
// for a record its type, endpoints and main fields.
export function describeHit(hit: SearchHit): { what: string; from: string; to: string; details: string } {
  const body = hit.body;
  const endpoint = (value: unknown) => {
    const e = value as { ip?: string; port?: number } | undefined;
    if (e?.ip === undefined) return "";
    if (e.port === undefined || e.port === 0) return e.ip;
    return `${e.ip}:${e.port}`;
  };
  if (hit.kind === "alert") {
    const evidence = (body.evidence ?? {}) as Record<string, unknown>;
    const details = [String(body.name ?? ""), ...SUMMARY_FIELDS.filter((f) => evidence[f] !== undefined).map((f) => `${f}=${String(evidence[f])}`)];
    return { what: `alert ${String(body.score ?? "")} ${String(body.model ?? "")}`, from: endpoint(body.src), to: endpoint(body.dst), details: details.join(" ") };
  }
  const details = SUMMARY_FIELDS.filter((f) => body[f] !== undefined).map((f) => `${f}=${String(body[f])}`);
  return { what: `record ${String(body.type ?? "")}`, from: endpoint(body.src), to: endpoint(body.dst), details: details.join(" ") };
}
