// The correlator's store: alerts keyed by their id, forwarded protocol
// records, and incidents over an entity graph, on SQLite (a file path, the
// default) or PostgreSQL (a postgres:// URL). Every method is async on both.
//
// Ingest is idempotent and race-free across correlator processes sharing one
// PostgreSQL database. An alert id is the primary key. Each insert runs in
// one transaction that first takes an advisory lock on the alert's site, so
// two processes never assign alerts of one site to incidents at the same
// time. SQLite has one writer per file, and this process queues its writes.
import { createHash } from "node:crypto";
import { createFolders, FolderError } from "../../agent/src/config/folders.js";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import type { Alert } from "../../agent/src/publish/alert.js";
import { canonicalJson } from "../../agent/src/publish/alert.js";
import type { RecordJson } from "../../agent/src/publish/record.js";
import {
  isItEntryAlert, isOtCommandAlert, isOtCommandRecord, stagesOf, tacticsOf, TACTICS,
  type Stage, type StageSpan, type Tactic,
} from "./attack.js";
import {
  accountId, addEdge, alertGraph, deviceFacts, destinationId, deviceId, fileId, hostId, kindOf, learnedNames, recordAccount,
  type EntityEdge, type EntityNode, type FactValue,
} from "./graph.js";
import { rankIncident, type Rank, type RankFactor } from "./rank.js";
import {
  INCIDENT_SET_TABLES, PostgresDatabase, schemaSql, SqliteDatabase, STORE_SCHEMA_VERSION,
  type SqlDatabase, type SqlRunner,
} from "./sql.js";

export { STORE_SCHEMA_VERSION } from "./sql.js";
export type { EntityEdge, EntityNode } from "./graph.js";

// Default correlation window: alerts closer than this in packet time that
// share an entity join one incident. The stages of one intrusion are often
// tens of minutes apart (enumeration, then a tool copied and run an hour
// later), so the window spans several hours.
export const DEFAULT_WINDOW_MS = 4 * 60 * 60 * 1000;

// Alerts scored below this are stored and searchable but neither open nor
// join incidents: a baseline still learning scores its alerts low, and
// routine polling must not fill the incident list.
export const DEFAULT_MIN_INCIDENT_SCORE = 40;

// Incident score = highest alert score + SCORE_BONUS_PER_EXTRA for every
// distinct model beyond the first and for every distinct ATT&CK technique
// beyond the first, the bonus capped at SCORE_BONUS_MAX and the total at 100.
// Several techniques chained between the same hosts are more telling than
// one model firing repeatedly, which adds nothing.
export const SCORE_BONUS_PER_EXTRA = 5;
export const SCORE_BONUS_MAX = 20;

// Rows deleted per statement when retention trims the store by size.
const RETENTION_BATCH = 500;

export interface RetentionSettings {
  // Alerts and records stored longer ago than this are deleted.
  maxAgeMs?: number;
  // Above this many bytes of stored alert and record JSON, the oldest are
  // deleted. Indexes and free pages are not counted.
  maxBytes?: number;
}

export interface StoreOptions {
  windowMs?: number;
  readOnly?: boolean;
  minIncidentScore?: number;
  // IPs or host names that make an incident more critical.
  criticalHosts?: string[];
  retention?: RetentionSettings;
}

export interface StoredAlert {
  alert: Alert;
  incidentId: number;
}

export interface Incident {
  id: number;
  site: string;
  firstMs: number;
  lastMs: number;
  score: number;
  hosts: string[];
  maxAlertScore: number;
  alertCount: number;
  models: string[];
  techniques: string[];
}

export interface RankedIncident extends Incident {
  rank: number;
  why: RankFactor[];
  tactics: Tactic[];
  progression: Stage[];
  pivot: boolean;
  // Packet time of the OT command that completed the pivot, in ms.
  pivotMs?: number;
  routineAlerts: number;
}

export interface TimelineEntry {
  alert: Alert;
  tactics: Tactic[];
}

// One model's alerts in an incident.
export interface ModelSummary {
  model: string;
  alerts: number;
  maxScore: number;
  // The model's earliest alert in the incident, for its name, logic and techniques.
  first: Alert;
}

// Error opening or writing the store, with the path and what to do.
export class StoreError extends Error {
  constructor(message: string, readonly code: string) {
    super(message);
    this.name = "StoreError";
  }
}

// `incidentId` is null for an alert scored below the incident threshold.
export type AlertInsert =
  | { stored: true; incidentId: number | null; mergedIncidentIds: number[] }
  | { stored: false; reason: "duplicate" };

export interface RetentionResult {
  alertsDeleted: number;
  recordsDeleted: number;
  incidentsDeleted: number;
}

export interface HostPairHistory {
  hostA: string;
  hostB: string;
  alerts: number;
  records: number;
  days: number;
  firstTs?: string;
}

// Facts derived from an alert once, at insert, and kept in its row.
interface AlertFacts {
  tsMs: number;
  hosts: string[];
  entities: string[];
  tactics: Tactic[];
  routine: boolean;
  itEntry: boolean;
  otCommand: boolean;
}

function alertFacts(alert: Alert): AlertFacts {
  const graph = alertGraph(alert);
  return {
    tsMs: Date.parse(alert.ts),
    hosts: [...new Set([alert.src.ip, alert.dst.ip])],
    entities: [...new Set([hostId(alert.src.ip), destinationId(alert), ...graph.entities])],
    tactics: tacticsOf(alert.mitre),
    routine: alert.context.routine === true || alert.context.seen_before === true,
    itEntry: isItEntryAlert(alert.record, alert.mitre),
    otCommand: isOtCommandAlert(alert.record, alert.mitre),
  };
}

interface IncidentRow {
  id: number;
  site: string;
  first_ms: number;
  last_ms: number;
  score: number;
  max_score: number;
  alert_count: number;
  routine_count: number;
  pivot_ms: number | null;
  rank: number;
  rank_why: string;
  // JSON arrays of tactic ids and progression stages, kept with the rank so
  // that listing incidents reads no other table.
  rank_tactics: string;
  rank_progression: string;
}

const INCIDENT_COLUMNS =
  "id, site, first_ms, last_ms, score, max_score, alert_count, routine_count, pivot_ms, rank, rank_why, rank_tactics, rank_progression";

// Opens the store named by `target`: a postgres:// or postgresql:// URL, or
// the path of a SQLite file (":memory:" for a store in memory).
// Throws StoreError naming the target and the fix.
export async function openStore(target: string, options: StoreOptions = {}): Promise<Store> {
  if (/^postgres(ql)?:\/\//i.test(target)) {
    const db = PostgresDatabase.connect(target);
    try {
      const store = new Store(db, redactDbUrl(target), options);
      await store.prepare();
      return store;
    } catch (error) {
      await db.close().catch(() => undefined);
      if (error instanceof StoreError) throw error;
      throw new StoreError(`cannot open store ${redactDbUrl(target)} (PostgreSQL: ${(error as Error).message}); check that the server runs, the database exists and this user may create tables in it`, "STORE_OPEN");
    }
  }
  const readOnly = options.readOnly === true;
  if (target !== ":memory:" && !readOnly) createFolder(dirname(target), `the folder of store ${target}`, "give --db a path in a folder this user can create");
  let sqlite: Database.Database | undefined;
  try {
    sqlite = new Database(target, { readonly: readOnly, fileMustExist: readOnly });
    if (!readOnly) {
      sqlite.pragma("journal_mode = WAL");
      sqlite.pragma("synchronous = NORMAL");
    }
    const store = new Store(new SqliteDatabase(sqlite), target, options);
    await store.prepare();
    return store;
  } catch (error) {
    if (sqlite?.open) sqlite.close();
    throw storeOpenError(target, error);
  }
}

export class Store {
  readonly windowMs: number;
  readonly readOnly: boolean;
  readonly minIncidentScore: number;
  readonly criticalHosts: string[];
  readonly retention: RetentionSettings;

  private readonly changeListeners: Array<(incidentIds: number[]) => void> = [];

  constructor(readonly sql: SqlDatabase, readonly path: string, options: StoreOptions = {}) {
    this.windowMs = options.windowMs ?? DEFAULT_WINDOW_MS;
    this.readOnly = options.readOnly === true;
    this.minIncidentScore = options.minIncidentScore ?? DEFAULT_MIN_INCIDENT_SCORE;
    this.criticalHosts = (options.criticalHosts ?? []).map((host) => host.toLowerCase());
    this.retention = options.retention ?? {};
  }

  get dialect(): "sqlite" | "postgres" {
    return this.sql.dialect;
  }

  // The better-sqlite3 connection of a SQLite store, for tests and tools.
  get db(): Database.Database {
    if (!(this.sql instanceof SqliteDatabase)) throw new StoreError(`store ${this.path} is not a SQLite store`, "STORE_DIALECT");
    return this.sql.db;
  }

  // Creates or upgrades the schema and checks that this process can write.
  async prepare(): Promise<void> {
    if (this.sql.dialect === "postgres" && this.readOnly) {
      // A reader may not create the schema, so an empty database is an error
      // here and not a failed SELECT.
      const schema = await this.sql.get<{ found: string | null }>("SELECT to_regclass('schema_version')::text AS found");
      if (schema?.found === null || schema?.found === undefined) {
        throw new StoreError(`store ${this.path} has no correlator schema; start "fieldsense correlator --db" on this database once, or give the --db of a correlator's store`, "STORE_NO_SCHEMA");
      }
      await this.checkVersion(this.sql);
      return;
    }
    if (this.sql.dialect === "postgres") {
      // Two correlators starting at once would race on CREATE TABLE and on
      // the version row.
      await this.sql.transaction("fieldsense-schema", async (tx) => {
        for (const statement of splitStatements(schemaSql("postgres"))) await tx.run(statement);
        await this.checkVersion(tx);
      });
      return;
    }
    if (!this.readOnly) {
      await this.addMissingColumns();
      await this.sql.exec(schemaSql("sqlite"));
    }
    await this.checkVersion(this.sql);
    if (!this.readOnly && this.sql instanceof SqliteDatabase) this.checkWritable(this.sql.db);
  }

  // Columns that version 1 and 2 stores lack. They are added before the
  // schema runs, because its indexes name them.
  private async addMissingColumns(): Promise<void> {
    const tables = await this.sql.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'");
    const existing = new Set(tables.map((t) => t.name));
    const expectedColumns: Record<string, string[]> = {
      alerts: ["record TEXT NOT NULL DEFAULT ''", "account TEXT", "routine INTEGER NOT NULL DEFAULT 0", "it_entry INTEGER NOT NULL DEFAULT 0",
        "ot_command INTEGER NOT NULL DEFAULT 0", "received_ms INTEGER NOT NULL DEFAULT 0"],
      records: ["ot_command INTEGER NOT NULL DEFAULT 0", "received_ms INTEGER NOT NULL DEFAULT 0"],
      incidents: ["max_score INTEGER NOT NULL DEFAULT 0", "alert_count INTEGER NOT NULL DEFAULT 0", "routine_count INTEGER NOT NULL DEFAULT 0",
        "pivot_ms INTEGER", "rank INTEGER NOT NULL DEFAULT 0", "rank_why TEXT NOT NULL DEFAULT '[]'",
        "rank_tactics TEXT NOT NULL DEFAULT '[]'", "rank_progression TEXT NOT NULL DEFAULT '[]'"],
    };
    for (const [table, columns] of Object.entries(expectedColumns)) {
      if (!existing.has(table)) continue;
      const have = new Set((await this.sql.all<{ name: string }>(`PRAGMA table_info(${table})`)).map((c) => c.name));
      for (const column of columns) {
        if (!have.has(column.split(" ")[0])) await this.sql.exec(`ALTER TABLE ${table} ADD COLUMN ${column}`);
      }
    }
  }

  private async checkVersion(runner: SqlRunner): Promise<void> {
    const row = await runner.get<{ version: number }>("SELECT MAX(version) AS version FROM schema_version");
    if (row?.version === null || row?.version === undefined) {
      await runner.run("INSERT INTO schema_version (version) VALUES (?)", [STORE_SCHEMA_VERSION]);
      return;
    }
    if (row.version < STORE_SCHEMA_VERSION && row.version >= 1 && !this.readOnly && this.sql.dialect === "sqlite") {
      await this.upgrade();
      return;
    }
    if (row.version !== STORE_SCHEMA_VERSION) {
      const fix = row.version < STORE_SCHEMA_VERSION ? "start the correlator on it once to upgrade it" : "use another --db";
      throw new StoreError(`store ${this.path} has schema version ${row.version}, this correlator reads version ${STORE_SCHEMA_VERSION}; ${fix}`, "STORE_SCHEMA_VERSION");
    }
  }

  // Fills the version 3 columns of every alert and record and rebuilds every
  // incident's aggregates and graph from its alerts.
  private async upgrade(): Promise<void> {
    await this.sql.transaction("", async (tx) => {
      for (const { id, body } of await tx.all<{ id: string; body: string }>("SELECT id, body FROM alerts")) {
        const alert = JSON.parse(body) as Alert;
        const facts = alertFacts(alert);
        await tx.run("UPDATE alerts SET record = ?, account = ?, routine = ?, it_entry = ?, ot_command = ? WHERE id = ?",
          [alert.record ?? "", alert.account ?? null, flag(facts.routine), flag(facts.itEntry), flag(facts.otCommand), id]);
      }
      for (const { key, body } of await tx.all<{ key: string; body: string }>("SELECT key, body FROM records")) {
        await tx.run("UPDATE records SET ot_command = ? WHERE key = ?", [flag(isOtCommandRecord(JSON.parse(body) as RecordJson)), key]);
      }
      for (const { id } of await tx.all<{ id: number }>("SELECT id FROM incidents")) await this.rebuildIncident(tx, id);
      await tx.run("DELETE FROM schema_version");
      await tx.run("INSERT INTO schema_version (version) VALUES (?)", [STORE_SCHEMA_VERSION]);
    });
  }

  // Writes a row inside a transaction and rolls it back. SQLite opens a file
  // it cannot write read-only without an error, and reports SQLITE_READONLY
  // only at the first write.
  private checkWritable(db: Database.Database): void {
    db.exec("BEGIN IMMEDIATE");
    try {
      db.prepare("INSERT INTO schema_version (version) VALUES (0)").run();
    } finally {
      db.exec("ROLLBACK");
    }
  }

  async close(): Promise<void> {
    await this.sql.close();
  }

  // Registers a listener for incidents that changed without an alert joining
  // them: a pivot completed by a record or by an alert below the incident
  // threshold. It is called after the change is committed.
  onIncidentChange(listener: (incidentIds: number[]) => void): void {
    this.changeListeners.push(listener);
  }

  private notifyChanged(incidentIds: number[]): void {
    if (incidentIds.length === 0) return;
    for (const listener of this.changeListeners) listener(incidentIds);
  }

  async hasAlert(id: string): Promise<boolean> {
    return (await this.sql.get("SELECT 1 AS found FROM alerts WHERE id = ?", [id])) !== undefined;
  }

  // The stored alert with this id, with the incident it belongs to.
  async alert(id: string): Promise<{ alert: Alert; incidentId: number | null } | undefined> {
    const row = await this.sql.get<{ body: string; incident_id: number | null }>("SELECT body, incident_id FROM alerts WHERE id = ?", [id]);
    return row ? { alert: JSON.parse(row.body) as Alert, incidentId: row.incident_id === null ? null : Number(row.incident_id) } : undefined;
  }

  // Stores an alert unless its id is known, and attaches it to an incident:
  // the incident of the same site that shares a host, account or file with
  // it within the window, or a new one if none does. When several match, the
  // oldest absorbs the others. Alerts scored below minIncidentScore are
  // stored without an incident.
  async insertAlert(alert: Alert, receivedAt = new Date()): Promise<AlertInsert> {
    const changed: number[] = [];
    const result = await this.sql.transaction(`site:${alert.site}`, (tx) => this.insertAlertIn(tx, alert, receivedAt, changed));
    this.notifyChanged(changed);
    return result;
  }

  // Stores alerts one after another, for a replay or a bulk load.
  async insertAlerts(alerts: Alert[], receivedAt = new Date()): Promise<AlertInsert[]> {
    const results: AlertInsert[] = [];
    for (const alert of alerts) results.push(await this.insertAlert(alert, receivedAt));
    return results;
  }

  // Adds to `changed` the incidents other than the alert's own that changed.
  private async insertAlertIn(tx: SqlRunner, alert: Alert, receivedAt: Date, changed: number[]): Promise<AlertInsert> {
    if (await tx.get("SELECT 1 AS found FROM alerts WHERE id = ?", [alert.id])) return { stored: false, reason: "duplicate" };
    const facts = alertFacts(alert);
    const now = receivedAt.toISOString();
    const body = JSON.stringify(alert);
    const insertRow = (incidentId: number | null) => tx.run(
      `INSERT INTO alerts (id, site, gateway, ts, ts_ms, model, score, src_ip, dst_ip, incident_id, received_at, body,
         record, account, routine, it_entry, ot_command, received_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [alert.id, alert.site, alert.gateway, alert.ts, facts.tsMs, alert.model, alert.score, alert.src.ip, alert.dst.ip,
        incidentId, now, body, alert.record ?? "", alert.account ?? null, flag(facts.routine), flag(facts.itEntry),
        flag(facts.otCommand), receivedAt.getTime()]);

    if (alert.score < this.minIncidentScore) {
      await insertRow(null);
      // A low-scored OT command can still complete a pivot of an incident.
      const pivots = facts.otCommand ? await this.checkPivotFromCommand(tx, alert.site, alert.src.ip, facts.tsMs) : [];
      for (const id of pivots) await this.refreshRank(tx, id, now);
      changed.push(...pivots);
      return { stored: true, incidentId: null, mergedIncidentIds: [] };
    }

    const candidates = await this.candidateIncidents(tx, alert.site, facts);
    let incidentId: number;
    const merged: number[] = [];
    if (candidates.length === 0) {
      const row = await tx.get<{ id: number }>(
        "INSERT INTO incidents (site, first_ms, last_ms, score, updated_at, max_score, alert_count) VALUES (?, ?, ?, 0, ?, 0, 0) RETURNING id",
        [alert.site, facts.tsMs, facts.tsMs, now]);
      incidentId = Number(row!.id);
    } else {
      incidentId = candidates[0];
      for (const id of candidates.slice(1)) {
        await this.mergeIncident(tx, id, incidentId);
        merged.push(id);
      }
    }
    await insertRow(incidentId);
    await this.addToIncident(tx, incidentId, alert, facts);
    changed.push(...await this.checkPivotOfAlert(tx, incidentId, alert, facts));
    await this.refreshRank(tx, incidentId, now);
    return { stored: true, incidentId, mergedIncidentIds: merged };
  }

  // Incidents of the site, oldest first, that share a host or another entity
  // with the alert and whose time span is within one window of it.
  private async candidateIncidents(tx: SqlRunner, site: string, facts: AlertFacts): Promise<number[]> {
    const window = "i.site = ? AND i.first_ms - ? <= ? AND i.last_ms + ? >= ?";
    const windowArgs = [site, this.windowMs, facts.tsMs, this.windowMs, facts.tsMs];
    const others = facts.entities.filter((id) => !id.startsWith("host:") && !id.startsWith("ot_device:"));
    let sql = `SELECT h.incident_id AS id FROM incident_hosts h JOIN incidents i ON i.id = h.incident_id
      WHERE h.ip IN (${marks(facts.hosts)}) AND ${window}`;
    const args: unknown[] = [...facts.hosts, ...windowArgs];
    if (others.length > 0) {
      sql += ` UNION SELECT e.incident_id AS id FROM incident_entities e JOIN incidents i ON i.id = e.incident_id
        WHERE e.entity IN (${marks(others)}) AND ${window}`;
      args.push(...others, ...windowArgs);
    }
    const rows = await tx.all<{ id: number }>(`SELECT DISTINCT id FROM (${sql}) candidates ORDER BY id`, args);
    return rows.map((row) => Number(row.id));
  }

  // Adds an alert's aggregates, hosts, entities and tactics to an incident.
  // Each set and the tactic spans take one multi-row statement, because on
  // PostgreSQL every statement is a round trip to the server.
  private async addToIncident(tx: SqlRunner, incidentId: number, alert: Alert, facts: AlertFacts): Promise<void> {
    await addToSet(tx, "incident_hosts", "ip", incidentId, facts.hosts);
    await addToSet(tx, "incident_models", "model", incidentId, [alert.model]);
    await addToSet(tx, "incident_techniques", "technique", incidentId, alert.mitre);
    await addToSet(tx, "incident_entities", "entity", incidentId, facts.entities);
    await this.addTacticSpans(tx, incidentId, facts.tactics.map((tactic) => ({ tactic: tactic.id, firstMs: facts.tsMs, lastMs: facts.tsMs })));
    await tx.run(
      `UPDATE incidents SET
         first_ms = CASE WHEN ? < first_ms THEN ? ELSE first_ms END,
         last_ms = CASE WHEN ? > last_ms THEN ? ELSE last_ms END,
         max_score = CASE WHEN ? > max_score THEN ? ELSE max_score END,
         alert_count = alert_count + 1,
         routine_count = routine_count + ?
       WHERE id = ?`,
      [facts.tsMs, facts.tsMs, facts.tsMs, facts.tsMs, alert.score, alert.score, flag(facts.routine), incidentId]);
  }

  // Widens the incident's time span of each tactic. `spans` names each
  // tactic once: PostgreSQL rejects an upsert that updates a row twice.
  private async addTacticSpans(tx: SqlRunner, incidentId: number, spans: Array<{ tactic: string; firstMs: number; lastMs: number }>): Promise<void> {
    if (spans.length === 0) return;
    await tx.run(
      `INSERT INTO incident_tactics (incident_id, tactic, first_ms, last_ms) VALUES ${spans.map(() => "(?, ?, ?, ?)").join(", ")}
       ON CONFLICT (incident_id, tactic) DO UPDATE SET
         first_ms = CASE WHEN excluded.first_ms < incident_tactics.first_ms THEN excluded.first_ms ELSE incident_tactics.first_ms END,
         last_ms = CASE WHEN excluded.last_ms > incident_tactics.last_ms THEN excluded.last_ms ELSE incident_tactics.last_ms END`,
      spans.flatMap((span) => [incidentId, span.tactic, span.firstMs, span.lastMs]));
  }

  // Moves the alerts, sets, tactics and aggregates of incident `from` into `into`.
  private async mergeIncident(tx: SqlRunner, from: number, into: number): Promise<void> {
    await tx.run("UPDATE alerts SET incident_id = ? WHERE incident_id = ?", [into, from]);
    for (const [table, column] of INCIDENT_SET_TABLES) {
      await tx.run(`INSERT INTO ${table} (incident_id, ${column}) SELECT ?, ${column} FROM ${table} WHERE incident_id = ? ON CONFLICT DO NOTHING`, [into, from]);
      await tx.run(`DELETE FROM ${table} WHERE incident_id = ?`, [from]);
    }
    const spans = await tx.all<{ tactic: string; first_ms: number; last_ms: number }>(
      "SELECT tactic, first_ms, last_ms FROM incident_tactics WHERE incident_id = ?", [from]);
    await this.addTacticSpans(tx, into, spans.map((span) => ({ tactic: span.tactic, firstMs: Number(span.first_ms), lastMs: Number(span.last_ms) })));
    await tx.run("DELETE FROM incident_tactics WHERE incident_id = ?", [from]);
    const old = (await tx.get<IncidentRow>(`SELECT ${INCIDENT_COLUMNS} FROM incidents WHERE id = ?`, [from]))!;
    await tx.run(
      `UPDATE incidents SET
         first_ms = CASE WHEN ? < first_ms THEN ? ELSE first_ms END,
         last_ms = CASE WHEN ? > last_ms THEN ? ELSE last_ms END,
         max_score = CASE WHEN ? > max_score THEN ? ELSE max_score END,
         alert_count = alert_count + ?,
         routine_count = routine_count + ?
       WHERE id = ?`,
      [old.first_ms, old.first_ms, old.last_ms, old.last_ms, old.max_score, old.max_score, old.alert_count, old.routine_count, into]);
    if (old.pivot_ms !== null) await this.setPivot(tx, into, Number(old.pivot_ms));
    await tx.run("DELETE FROM incidents WHERE id = ?", [from]);
  }

  // Records a pivot in the incident when the alert completes one. That is an
  // IT entry into a host that then sends OT commands (alerts or records)
  // within the window, or an OT command from a host that an IT alert entered
  // before.
  // Returns the other incidents whose pivot the alert completed.
  private async checkPivotOfAlert(tx: SqlRunner, incidentId: number, alert: Alert, facts: AlertFacts): Promise<number[]> {
    const others: number[] = [];
    if (facts.itEntry) {
      const host = alert.dst.ip;
      const range = [alert.site, host, facts.tsMs, facts.tsMs + this.windowMs];
      const fromAlert = await tx.get<{ ts: number | null }>(
        "SELECT MIN(ts_ms) AS ts FROM alerts WHERE site = ? AND src_ip = ? AND ot_command = 1 AND ts_ms BETWEEN ? AND ?", range);
      const fromRecord = await tx.get<{ ts: number | null }>(
        "SELECT MIN(ts_ms) AS ts FROM records WHERE site = ? AND src_ip = ? AND ot_command = 1 AND ts_ms BETWEEN ? AND ?", range);
      const times = [fromAlert?.ts, fromRecord?.ts].filter((t): t is number => t !== null && t !== undefined).map(Number);
      if (times.length > 0) await this.setPivot(tx, incidentId, Math.min(...times));
    }
    if (facts.otCommand) {
      for (const id of await this.checkPivotFromCommand(tx, alert.site, alert.src.ip, facts.tsMs)) {
        if (id === incidentId) continue;
        await this.refreshRank(tx, id, new Date().toISOString());
        others.push(id);
      }
    }
    return others;
  }

  // Marks a pivot in every incident with an IT entry into `host` at most one
  // window before an OT command that `host` sent at `tsMs`. Returns those
  // incidents.
  private async checkPivotFromCommand(tx: SqlRunner, site: string, host: string, tsMs: number): Promise<number[]> {
    const rows = await tx.all<{ id: number }>(
      `SELECT DISTINCT incident_id AS id FROM alerts
       WHERE site = ? AND dst_ip = ? AND it_entry = 1 AND incident_id IS NOT NULL AND ts_ms BETWEEN ? AND ?`,
      [site, host, tsMs - this.windowMs, tsMs]);
    const ids = rows.map((row) => Number(row.id));
    for (const id of ids) await this.setPivot(tx, id, tsMs);
    return ids;
  }

  private async setPivot(tx: SqlRunner, incidentId: number, tsMs: number): Promise<void> {
    await tx.run("UPDATE incidents SET pivot_ms = CASE WHEN pivot_ms IS NULL OR ? < pivot_ms THEN ? ELSE pivot_ms END WHERE id = ?",
      [tsMs, tsMs, incidentId]);
  }

  // Recomputes an incident's score and rank from its aggregates.
  private async refreshRank(tx: SqlRunner, id: number, now: string): Promise<void> {
    const ranked = await this.computeRank(tx, id);
    if (!ranked) return;
    await tx.run("UPDATE incidents SET score = ?, rank = ?, rank_why = ?, rank_tactics = ?, rank_progression = ?, updated_at = ? WHERE id = ?",
      [ranked.score, ranked.rank.rank, JSON.stringify(ranked.rank.why), JSON.stringify(ranked.tactics.map((tactic) => tactic.id)),
        JSON.stringify(ranked.rank.progression), now, id]);
  }

  private async computeRank(runner: SqlRunner, id: number): Promise<{ score: number; rank: Rank; tactics: Tactic[] } | undefined> {
    const row = await runner.get<IncidentRow>(`SELECT ${INCIDENT_COLUMNS} FROM incidents WHERE id = ?`, [id]);
    if (!row) return undefined;
    const counts = (await runner.get<{ models: number; techniques: number; devices: number }>(
      `SELECT (SELECT COUNT(*) FROM incident_models WHERE incident_id = ?) AS models,
         (SELECT COUNT(*) FROM incident_techniques WHERE incident_id = ?) AS techniques,
         (SELECT COUNT(*) FROM incident_entities WHERE incident_id = ? AND entity LIKE 'ot_device:%') AS devices`, [id, id, id]))!;
    const models = Number(counts.models);
    const techniques = Number(counts.techniques);
    const otDevices = Number(counts.devices);
    const score = scoreIncident({ maxScore: row.max_score, models, techniques }).score;
    const spans = await runner.all<{ tactic: string; first_ms: number; last_ms: number }>(
      "SELECT tactic, first_ms, last_ms FROM incident_tactics WHERE incident_id = ?", [id]);
    const tactics = Object.values(TACTICS).filter((tactic) => spans.some((span) => span.tactic === tactic.id));
    const stageSpans = new Map<Stage, StageSpan>();
    for (const span of spans) {
      for (const stage of stagesOf([span.tactic])) {
        const known = stageSpans.get(stage);
        const firstMs = Number(span.first_ms);
        const lastMs = Number(span.last_ms);
        stageSpans.set(stage, known ? { firstMs: Math.min(known.firstMs, firstMs), lastMs: Math.max(known.lastMs, lastMs) } : { firstMs, lastMs });
      }
    }
    const rank = rankIncident({
      score,
      tactics: tactics.map((tactic) => `${tactic.name} ${tactic.id}`),
      stageSpans,
      pivot: row.pivot_ms !== null,
      criticalHosts: await this.criticalHostsOf(runner, row.site, id),
      otDevices,
      alerts: Number(row.alert_count),
      routineAlerts: Number(row.routine_count),
    });
    return { score, rank, tactics };
  }

  // Configured critical hosts the incident touches, by IP or learned name.
  private async criticalHostsOf(runner: SqlRunner, site: string, id: number): Promise<string[]> {
    if (this.criticalHosts.length === 0) return [];
    const rows = await runner.all<{ ip: string; name: string | null }>(
      "SELECT h.ip AS ip, n.name AS name FROM incident_hosts h LEFT JOIN host_names n ON n.site = ? AND n.ip = h.ip WHERE h.incident_id = ?",
      [site, id]);
    const hits = new Set<string>();
    for (const row of rows) {
      if (this.criticalHosts.includes(row.ip.toLowerCase())) hits.add(row.ip);
      else if (row.name !== null && this.criticalHosts.includes(row.name.toLowerCase())) hits.add(`${row.name} (${row.ip})`);
    }
    return [...hits].sort();
  }

  // Rebuilds an incident's aggregates, sets, tactics and pivot from its
  // alerts, after an upgrade or after retention deleted some of them.
  // Returns false and deletes the incident when it has no alerts left.
  private async rebuildIncident(tx: SqlRunner, id: number): Promise<boolean> {
    for (const [table] of INCIDENT_SET_TABLES) await tx.run(`DELETE FROM ${table} WHERE incident_id = ?`, [id]);
    await tx.run("DELETE FROM incident_tactics WHERE incident_id = ?", [id]);
    const bodies = await tx.all<{ body: string }>("SELECT body FROM alerts WHERE incident_id = ? ORDER BY ts_ms, id", [id]);
    if (bodies.length === 0) {
      await tx.run("DELETE FROM incidents WHERE id = ?", [id]);
      return false;
    }
    const alerts = bodies.map((row) => JSON.parse(row.body) as Alert);
    const firstMs = Date.parse(alerts[0].ts);
    await tx.run("UPDATE incidents SET first_ms = ?, last_ms = ?, max_score = 0, alert_count = 0, routine_count = 0, pivot_ms = NULL WHERE id = ?",
      [firstMs, firstMs, id]);
    for (const alert of alerts) {
      const facts = alertFacts(alert);
      await this.addToIncident(tx, id, alert, facts);
      if (facts.itEntry || facts.otCommand) await this.checkPivotOfAlert(tx, id, alert, facts);
    }
    await this.refreshRank(tx, id, new Date().toISOString());
    return true;
  }

  // Stores a forwarded record; an identical record from the same gateway
  // (a resend, or the same capture replayed) is ignored. Learns host names
  // and device identity from it, and marks a pivot when it is an OT command
  // from a host that an IT alert entered. Returns whether it was new.
  // On PostgreSQL a record that is no OT command is written without the
  // site lock: its statements are single-row upserts that need no order.
  async insertRecord(site: string, gateway: string, record: RecordJson, receivedAt = new Date()): Promise<boolean> {
    const otCommand = isOtCommandRecord(record);
    const changed: number[] = [];
    const work = async (tx: SqlRunner): Promise<boolean> => {
      const body = canonicalJson(record);
      const key = createHash("sha256").update(`${site}\n${gateway}\n${body}`).digest("hex");
      const tsMs = Date.parse(record.ts);
      const result = await tx.run(
        `INSERT INTO records (key, site, gateway, type, ts, ts_ms, src_ip, dst_ip, body, ot_command, received_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
        [key, site, gateway, record.type, record.ts, tsMs, record.src.ip, record.dst.ip, body, flag(otCommand), receivedAt.getTime()]);
      if (result.changes !== 1) return false;
      for (const [ip, name, source] of learnedNames(record)) {
        await tx.run(
          `INSERT INTO host_names (site, ip, name, source, first_ms, last_ms) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (site, ip, name, source) DO UPDATE SET
             first_ms = CASE WHEN excluded.first_ms < host_names.first_ms THEN excluded.first_ms ELSE host_names.first_ms END,
             last_ms = CASE WHEN excluded.last_ms > host_names.last_ms THEN excluded.last_ms ELSE host_names.last_ms END`,
          [site, ip, name, source, tsMs, tsMs]);
      }
      for (const [name, value] of deviceFacts(record)) {
        await tx.run(
          `INSERT INTO device_facts (site, ip, name, value, last_ms) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (site, ip, name) DO UPDATE SET value = excluded.value, last_ms = excluded.last_ms`,
          [site, record.dst.ip, name, value, tsMs]);
      }
      if (otCommand) {
        const now = receivedAt.toISOString();
        for (const id of await this.checkPivotFromCommand(tx, site, record.src.ip, tsMs)) {
          await this.refreshRank(tx, id, now);
          changed.push(id);
        }
      }
      return true;
    };
    if (!otCommand && this.sql.dialect === "postgres") return work(this.sql);
    const stored = await this.sql.transaction(`site:${site}`, work);
    this.notifyChanged(changed);
    return stored;
  }

  async incident(id: number): Promise<Incident | undefined> {
    const row = await this.sql.get<IncidentRow>(`SELECT ${INCIDENT_COLUMNS} FROM incidents WHERE id = ?`, [id]);
    if (!row) return undefined;
    return this.toIncident(row);
  }

  private async toIncident(row: IncidentRow): Promise<Incident> {
    const id = Number(row.id);
    const column = async (sql: string) => (await this.sql.all<{ v: string }>(sql, [id])).map((r) => r.v);
    return {
      id, site: row.site, firstMs: Number(row.first_ms), lastMs: Number(row.last_ms), score: row.score,
      hosts: await column("SELECT ip AS v FROM incident_hosts WHERE incident_id = ? ORDER BY ip"),
      maxAlertScore: row.max_score,
      alertCount: Number(row.alert_count),
      models: await column("SELECT model AS v FROM incident_models WHERE incident_id = ? ORDER BY model"),
      techniques: await column("SELECT technique AS v FROM incident_techniques WHERE incident_id = ? ORDER BY technique"),
    };
  }

  // All incidents, highest score first.
  async incidents(): Promise<Incident[]> {
    const rows = await this.sql.all<IncidentRow>(`SELECT ${INCIDENT_COLUMNS} FROM incidents ORDER BY score DESC, first_ms, id`);
    const incidents: Incident[] = [];
    for (const row of rows) incidents.push(await this.toIncident(row));
    return incidents;
  }

  // One incident with its rank and the reasons for it.
  async rankedIncident(id: number): Promise<RankedIncident | undefined> {
    const row = await this.sql.get<IncidentRow>(`SELECT ${INCIDENT_COLUMNS} FROM incidents WHERE id = ?`, [id]);
    return row ? this.toRanked(row) : undefined;
  }

  private async toRanked(row: IncidentRow): Promise<RankedIncident> {
    const incident = await this.toIncident(row);
    const tacticIds = JSON.parse(row.rank_tactics) as string[];
    const ranked: RankedIncident = {
      ...incident, rank: row.rank, why: JSON.parse(row.rank_why) as RankFactor[],
      tactics: tacticIds.map((id) => TACTICS[id]).filter((tactic): tactic is Tactic => tactic !== undefined),
      progression: JSON.parse(row.rank_progression) as Stage[], pivot: row.pivot_ms !== null, routineAlerts: Number(row.routine_count),
    };
    if (row.pivot_ms !== null) ranked.pivotMs = Number(row.pivot_ms);
    return ranked;
  }

  // Incidents by criticality rank, highest first, the first `limit` only
  // when given.
  async rankedIncidents(limit = -1): Promise<RankedIncident[]> {
    const rows = await this.sql.all<IncidentRow>(
      `SELECT ${INCIDENT_COLUMNS} FROM incidents ORDER BY rank DESC, first_ms, id${limit >= 0 ? " LIMIT ?" : ""}`, limit >= 0 ? [limit] : []);
    const ranked: RankedIncident[] = [];
    for (const row of rows) ranked.push(await this.toRanked(row));
    return ranked;
  }

  // The alerts of an incident in packet-time order, the first `limit` only
  // when given.
  async alertsOfIncident(id: number, limit = -1): Promise<Alert[]> {
    const sql = `SELECT body FROM alerts WHERE incident_id = ? ORDER BY ts_ms, id${limit >= 0 ? " LIMIT ?" : ""}`;
    const rows = await this.sql.all<{ body: string }>(sql, limit >= 0 ? [id, limit] : [id]);
    return rows.map((row) => JSON.parse(row.body) as Alert);
  }

  // The alerts of an incident in packet-time order with their ATT&CK tactics.
  async timeline(id: number, limit = -1): Promise<TimelineEntry[]> {
    return (await this.alertsOfIncident(id, limit)).map((alert) => ({ alert, tactics: tacticsOf(alert.mitre) }));
  }

  // Per model of an incident: alert count, highest score and earliest alert,
  // in the order the models first fired.
  async modelSummaries(id: number): Promise<ModelSummary[]> {
    const rows = await this.sql.all<{ model: string; alerts: number; maxScore: number; firstMs: number }>(
      `SELECT model, COUNT(*) AS alerts, MAX(score) AS "maxScore", MIN(ts_ms) AS "firstMs"
       FROM alerts WHERE incident_id = ? GROUP BY model ORDER BY "firstMs", model`, [id]);
    const summaries: ModelSummary[] = [];
    for (const row of rows) {
      const first = await this.sql.get<{ body: string }>(
        "SELECT body FROM alerts WHERE incident_id = ? AND model = ? ORDER BY ts_ms, id LIMIT 1", [id, row.model]);
      summaries.push({ model: row.model, alerts: Number(row.alerts), maxScore: row.maxScore, first: JSON.parse(first!.body) as Alert });
    }
    return summaries;
  }

  // Distinct gateways that sent the incident's alerts.
  async incidentGateways(id: number): Promise<string[]> {
    return (await this.sql.all<{ v: string }>("SELECT DISTINCT gateway AS v FROM alerts WHERE incident_id = ? ORDER BY v", [id])).map((r) => r.v);
  }

  // Distinct record types of the incident's alerts (modbus, dcerpc, ...).
  async incidentRecordTypes(id: number): Promise<string[]> {
    return (await this.sql.all<{ v: string }>("SELECT DISTINCT record AS v FROM alerts WHERE incident_id = ? ORDER BY v", [id])).map((r) => r.v);
  }

  // Source hosts of the incident with the accounts their alerts name;
  // `account` is null for a source host with alerts that name none.
  async incidentAccounts(id: number): Promise<{ srcIp: string; account: string | null }[]> {
    const rows = await this.sql.all<{ src_ip: string; account: string | null }>(
      "SELECT DISTINCT src_ip, account FROM alerts WHERE incident_id = ? ORDER BY src_ip, account", [id]);
    return rows.map((row) => ({ srcIp: row.src_ip, account: row.account }));
  }

  // Distinct unordered host pairs of the incident's alerts, each sorted.
  async incidentHostPairs(id: number): Promise<[string, string][]> {
    const rows = await this.sql.all<{ a: string; b: string }>(
      `SELECT DISTINCT CASE WHEN src_ip < dst_ip THEN src_ip ELSE dst_ip END AS a,
         CASE WHEN src_ip < dst_ip THEN dst_ip ELSE src_ip END AS b
       FROM alerts WHERE incident_id = ? ORDER BY a, b`, [id]);
    return rows.map((row) => [row.a, row.b]);
  }

  async countAlerts(): Promise<number> {
    return Number((await this.sql.get<{ n: number }>("SELECT COUNT(*) AS n FROM alerts"))!.n);
  }

  async countRecords(): Promise<number> {
    return Number((await this.sql.get<{ n: number }>("SELECT COUNT(*) AS n FROM records"))!.n);
  }

  // Records of one type between any two of `hosts` within [fromMs, toMs].
  async recordsBetween(site: string, hosts: string[], type: string, fromMs: number, toMs: number, limit = 10_000): Promise<RecordJson[]> {
    if (hosts.length === 0) return [];
    const rows = await this.sql.all<{ body: string }>(
      `SELECT body FROM records WHERE site = ? AND type = ? AND src_ip IN (${marks(hosts)}) AND dst_ip IN (${marks(hosts)})
         AND ts_ms BETWEEN ? AND ? ORDER BY ts_ms LIMIT ?`,
      [site, type, ...hosts, ...hosts, fromMs, toMs, limit]);
    return rows.map((row) => JSON.parse(row.body) as RecordJson);
  }

  // Records of one type sent by any of `hosts` within [fromMs, toMs].
  async recordsFrom(site: string, hosts: string[], type: string, fromMs: number, toMs: number, limit = 10_000): Promise<RecordJson[]> {
    if (hosts.length === 0) return [];
    const rows = await this.sql.all<{ body: string }>(
      `SELECT body FROM records WHERE site = ? AND type = ? AND src_ip IN (${marks(hosts)}) AND ts_ms BETWEEN ? AND ? ORDER BY ts_ms LIMIT ?`,
      [site, type, ...hosts, fromMs, toMs, limit]);
    return rows.map((row) => JSON.parse(row.body) as RecordJson);
  }

  // Counts alerts, records and days stored between two hosts (either
  // direction) before `beforeMs`.
  async history(site: string, hostA: string, hostB: string, beforeMs: number): Promise<HostPairHistory> {
    const pair = "site = ? AND ((src_ip = ? AND dst_ip = ?) OR (src_ip = ? AND dst_ip = ?)) AND ts_ms < ?";
    const args = [site, hostA, hostB, hostB, hostA, beforeMs];
    const alerts = (await this.sql.get<{ n: number; first: string | null }>(`SELECT COUNT(*) AS n, MIN(ts) AS first FROM alerts WHERE ${pair}`, args))!;
    const records = (await this.sql.get<{ n: number; first: string | null }>(`SELECT COUNT(*) AS n, MIN(ts) AS first FROM records WHERE ${pair}`, args))!;
    const days = (await this.sql.get<{ n: number }>(
      `SELECT COUNT(DISTINCT day) AS n FROM (
         SELECT substr(ts, 1, 10) AS day FROM alerts WHERE ${pair}
         UNION SELECT substr(ts, 1, 10) AS day FROM records WHERE ${pair}) days`, [...args, ...args]))!;
    const firsts = [alerts.first, records.first].filter((t): t is string => t !== null).sort();
    const history: HostPairHistory = { hostA, hostB, alerts: Number(alerts.n), records: Number(records.n), days: Number(days.n) };
    if (firsts.length > 0) history.firstTs = firsts[0];
    return history;
  }

  // Names learned for hosts of a site, by IP.
  async hostNames(site: string, ips: string[]): Promise<Map<string, string[]>> {
    const names = new Map<string, string[]>();
    if (ips.length === 0) return names;
    const rows = await this.sql.all<{ ip: string; name: string }>(
      `SELECT DISTINCT ip, name FROM host_names WHERE site = ? AND ip IN (${marks(ips)})`, [site, ...ips]);
    // Sorted here by code unit, because the two databases collate differently.
    rows.sort((a, b) => compareText(a.ip, b.ip) || compareText(a.name, b.name));
    for (const row of rows) {
      const list = names.get(row.ip) ?? [];
      if (!list.some((name) => name.toLowerCase() === row.name.toLowerCase())) list.push(row.name);
      names.set(row.ip, list);
    }
    return names;
  }

  // The nodes of an incident's entity graph: its hosts, OT devices, accounts
  // and files, from its alerts and from the NTLM, Kerberos and SMB records
  // between its hosts within one window of it, with the facts known of each.
  async entities(incidentId: number): Promise<EntityNode[]> {
    return (await this.graph(incidentId))?.nodes ?? [];
  }

  // The edges of an incident's entity graph.
  async edges(incidentId: number): Promise<EntityEdge[]> {
    return (await this.graph(incidentId))?.edges ?? [];
  }

  private async graph(incidentId: number): Promise<{ nodes: EntityNode[]; edges: EntityEdge[] } | undefined> {
    const incident = await this.incident(incidentId);
    if (!incident) return undefined;
    const ids = (await this.sql.all<{ entity: string }>("SELECT entity FROM incident_entities WHERE incident_id = ? ORDER BY entity", [incidentId]))
      .map((row) => row.entity);
    const nodes = new Map<string, EntityNode>();
    const addNode = (id: string, label: string) => {
      if (!nodes.has(id)) nodes.set(id, { id, kind: kindOf(id), label, facts: {} });
      return nodes.get(id)!;
    };
    const edges = new Map<string, EntityEdge>();
    const alerts = await this.alertsOfIncident(incidentId, GRAPH_MAX_ALERTS);
    for (const alert of alerts) {
      for (const edge of alertGraph(alert).edges) addEdge(edges, edge);
      if (alert.account) addNode(accountId(alert.account), alert.account);
    }
    for (const id of ids) addNode(id, id.slice(id.indexOf(":") + 1));

    // Accounts the incident's hosts logged on with, from NTLM and Kerberos
    // records they sent, and the Kerberos services and domains they used.
    // A Kerberos record goes to the KDC, so its logon edge points there.
    const from = incident.firstMs - this.windowMs;
    const to = incident.lastMs + this.windowMs;
    const hostFacts = new Map<string, { services: Set<string>; domains: Set<string> }>();
    for (const type of ["ntlm", "kerberos"]) {
      for (const record of await this.recordsFrom(incident.site, incident.hosts, type, from, to, GRAPH_MAX_RECORDS)) {
        const facts = hostFacts.get(record.src.ip) ?? { services: new Set<string>(), domains: new Set<string>() };
        hostFacts.set(record.src.ip, facts);
        if (typeof record.service === "string" && record.service !== "") facts.services.add(record.service);
        const domain = record.type === "ntlm" ? record.domain : record.client_realm ?? record.realm;
        if (typeof domain === "string" && domain !== "") facts.domains.add(domain);
        const account = recordAccount(record);
        if (!account) continue;
        addNode(accountId(account), account);
        addEdge(edges, { from: accountId(account), to: hostId(record.dst.ip), kind: "logon", alertIds: [] });
      }
    }
    for (const record of await this.recordsBetween(incident.site, incident.hosts, "smb", from, to, GRAPH_MAX_RECORDS)) {
      if (record.named_pipe !== undefined || (record.command !== "WRITE" && record.command !== "SMB_COM_WRITE_ANDX")) continue;
      const file = fileId(record as { path?: unknown; share?: unknown }, record.dst.ip);
      if (!file) continue;
      const node = addNode(file, `${typeof record.share === "string" ? record.share + "\\" : ""}${String(record.path ?? record.file ?? "")}`);
      node.facts.share = String(record.share ?? "");
      addEdge(edges, { from: hostId(record.src.ip), to: file, kind: "file_write", alertIds: [] });
      addEdge(edges, { from: file, to: hostId(record.dst.ip), kind: "file_on", alertIds: [] });
    }

    // OT write and control requests that the incident's hosts sent.
    const commands = await this.sql.all<{ src_ip: string; dst_ip: string }>(
      `SELECT DISTINCT src_ip, dst_ip FROM records WHERE site = ? AND ot_command = 1 AND src_ip IN (${marks(incident.hosts)})
         AND ts_ms BETWEEN ? AND ? LIMIT ?`,
      [incident.site, ...incident.hosts, from, to, GRAPH_MAX_RECORDS]);
    for (const row of commands) addEdge(edges, { from: hostId(row.src_ip), to: deviceId(row.dst_ip), kind: "ot_command", alertIds: [] });

    // Hosts named in edges but not yet nodes (an OT device's IP seen as a host).
    for (const edge of edges.values()) for (const id of [edge.from, edge.to]) addNode(id, id.slice(id.indexOf(":") + 1));

    const ips = [...nodes.values()].filter((n) => n.kind === "host" || n.kind === "ot_device").map((n) => n.label);
    const names = await this.hostNames(incident.site, ips);
    const critical = new Set(await this.criticalHostsOf(this.sql, incident.site, incidentId));
    for (const node of nodes.values()) {
      if (node.kind !== "host" && node.kind !== "ot_device") continue;
      const ip = node.label;
      node.facts.ip = ip;
      const known = names.get(ip);
      if (known) {
        node.facts.names = known;
        node.label = `${known[0]} (${ip})`;
      }
      if ([...critical].some((entry) => entry === ip || entry.endsWith(`(${ip})`))) node.facts.critical = true;
      if (node.kind === "ot_device") Object.assign(node.facts, await this.deviceFactsOf(incident.site, ip));
      const used = hostFacts.get(ip);
      if (used && used.services.size > 0) node.facts.kerberos_services = [...used.services].sort();
      if (used && used.domains.size > 0) node.facts.domains = [...used.domains].sort();
    }
    return { nodes: [...nodes.values()], edges: [...edges.values()] };
  }

  private async deviceFactsOf(site: string, ip: string): Promise<Record<string, FactValue>> {
    const rows = await this.sql.all<{ name: string; value: string }>("SELECT name, value FROM device_facts WHERE site = ? AND ip = ? ORDER BY name", [site, ip]);
    return Object.fromEntries(rows.map((row) => [row.name, row.value]));
  }

  // Deletes alerts and records past the configured age, then the oldest
  // until the store is under the configured size, and rebuilds or deletes
  // the incidents that lost alerts. `nowMs` is the current time.
  async applyRetention(nowMs = Date.now()): Promise<RetentionResult> {
    const { maxAgeMs, maxBytes } = this.retention;
    const result: RetentionResult = { alertsDeleted: 0, recordsDeleted: 0, incidentsDeleted: 0 };
    if (maxAgeMs === undefined && maxBytes === undefined) return result;
    return this.sql.transaction("retention", async (tx) => {
      // Retention may rebuild incidents of any site, so it also takes the
      // lock of every site, in sorted order. An insert takes one site lock
      // only, so the two cannot wait on each other in a cycle.
      if (tx.dialect === "postgres") {
        const sites = await tx.all<{ site: string }>("SELECT DISTINCT site FROM incidents ORDER BY site");
        for (const { site } of sites) await tx.get("SELECT pg_advisory_xact_lock(hashtext(?)) AS locked", [`site:${site}`]);
      }
      const touched = new Set<number>();
      const noteIncidents = async (where: string, args: unknown[]) => {
        for (const row of await tx.all<{ id: number }>(`SELECT DISTINCT incident_id AS id FROM alerts WHERE incident_id IS NOT NULL AND ${where}`, args)) {
          touched.add(Number(row.id));
        }
      };
      if (maxAgeMs !== undefined) {
        const cutoff = nowMs - maxAgeMs;
        await noteIncidents("received_ms < ?", [cutoff]);
        result.alertsDeleted += (await tx.run("DELETE FROM alerts WHERE received_ms < ?", [cutoff])).changes;
        result.recordsDeleted += (await tx.run("DELETE FROM records WHERE received_ms < ?", [cutoff])).changes;
      }
      if (maxBytes !== undefined) {
        let bytes = await storedBytes(tx);
        while (bytes > maxBytes) {
          // Deletes the oldest batch of the table that contains the oldest row.
          const oldest = await tx.get<{ a: number | null; r: number | null }>(
            "SELECT (SELECT MIN(received_ms) FROM alerts) AS a, (SELECT MIN(received_ms) FROM records) AS r");
          const a = oldest?.a === null || oldest?.a === undefined ? Infinity : Number(oldest.a);
          const r = oldest?.r === null || oldest?.r === undefined ? Infinity : Number(oldest.r);
          if (a === Infinity && r === Infinity) break;
          if (a <= r) {
            const batch = await tx.all<{ id: string }>("SELECT id FROM alerts ORDER BY received_ms, ts_ms, id LIMIT ?", [RETENTION_BATCH]);
            const ids = batch.map((row) => row.id);
            await noteIncidents(`id IN (${marks(ids)})`, ids);
            result.alertsDeleted += (await tx.run(`DELETE FROM alerts WHERE id IN (${marks(ids)})`, ids)).changes;
          } else {
            const batch = await tx.all<{ key: string }>("SELECT key FROM records ORDER BY received_ms, ts_ms, key LIMIT ?", [RETENTION_BATCH]);
            const keys = batch.map((row) => row.key);
            result.recordsDeleted += (await tx.run(`DELETE FROM records WHERE key IN (${marks(keys)})`, keys)).changes;
          }
          bytes = await storedBytes(tx);
        }
      }
      for (const id of touched) if (!(await this.rebuildIncident(tx, id))) result.incidentsDeleted++;
      return result;
    });
  }

  // Bytes of alert and record JSON in the store, the measure of maxBytes.
  async storedBytes(): Promise<number> {
    return storedBytes(this.sql);
  }
}

// The graph of an incident reads at most this many alerts and records per
// type, so that one huge incident cannot stall a console page.
const GRAPH_MAX_ALERTS = 2000;
const GRAPH_MAX_RECORDS = 2000;

async function storedBytes(runner: SqlRunner): Promise<number> {
  const lengthOf = runner.dialect === "postgres" ? "OCTET_LENGTH(body)" : "LENGTH(CAST(body AS BLOB))";
  const row = await runner.get<{ a: number | null; r: number | null }>(
    `SELECT (SELECT SUM(${lengthOf}) FROM alerts) AS a, (SELECT SUM(${lengthOf}) FROM records) AS r`);
  return Number(row?.a ?? 0) + Number(row?.r ?? 0);
}

// Adds values to one of the per-incident set tables in one statement.
async function addToSet(tx: SqlRunner, table: string, column: string, incidentId: number, values: readonly string[]): Promise<void> {
  if (values.length === 0) return;
  await tx.run(`INSERT INTO ${table} (incident_id, ${column}) VALUES ${values.map(() => "(?, ?)").join(", ")} ON CONFLICT DO NOTHING`,
    values.flatMap((value) => [incidentId, value]));
}

function compareText(a: string, b: string): number {
  if (a < b) return -1;
  return a > b ? 1 : 0;
}

function marks(values: readonly unknown[]): string {
  return values.map(() => "?").join(",");
}

function flag(value: boolean): number {
  return value ? 1 : 0;
}

function splitStatements(script: string): string[] {
  return script.split(";").map((s) => s.trim()).filter((s) => s !== "");
}

// A database URL with its password replaced, for messages and logs.
export function redactDbUrl(url: string): string {
  return url.replace(/^(postgres(?:ql)?:\/\/[^:/@]*:)[^@]*@/i, "$1***@");
}

// Inputs of an incident score.
export interface ScoreInputs {
  maxScore: number;
  models: number;
  techniques: number;
}

// Computes an incident score and describes the formula with this incident's
// numbers, so that the report shows the same arithmetic the store applied.
export function scoreIncident(inputs: ScoreInputs): { score: number; explanation: string } {
  if (inputs.models === 0) return { score: 0, explanation: "0: the incident has no alerts" };
  const extraModels = Math.max(0, inputs.models - 1);
  const extraTechniques = Math.max(0, inputs.techniques - 1);
  const uncappedBonus = SCORE_BONUS_PER_EXTRA * (extraModels + extraTechniques);
  const bonus = Math.min(SCORE_BONUS_MAX, uncappedBonus);
  const total = inputs.maxScore + bonus;
  const score = Math.min(100, total);
  const bonusText = `${SCORE_BONUS_PER_EXTRA} x (${extraModels} extra model(s) + ${extraTechniques} extra ATT&CK technique(s))` +
    ` = ${uncappedBonus}${uncappedBonus > SCORE_BONUS_MAX ? `, capped at ${SCORE_BONUS_MAX}` : ""}`;
  const explanation = `${score} = highest alert score ${inputs.maxScore} + bonus ${bonus} (${bonusText})` +
    `${total > 100 ? `; the sum ${total} is capped at 100` : ""}`;
  return { score, explanation };
}

// The score of an incident made of `alerts`, for callers holding the alerts.
export function incidentScore(alerts: Alert[]): number {
  let maxScore = 0;
  const models = new Set<string>();
  const techniques = new Set<string>();
  for (const alert of alerts) {
    maxScore = Math.max(maxScore, alert.score);
    models.add(alert.model);
    for (const technique of alert.mitre) techniques.add(technique);
  }
  return scoreIncident({ maxScore, models: models.size, techniques: techniques.size }).score;
}

// Creates a folder and its parents, or throws an error naming it and the fix.
export function createFolder(path: string, what: string, fix: string): void {
  try {
    createFolders(path);
  } catch (error) {
    if (!(error instanceof FolderError)) throw error;
    throw new StoreError(`cannot create ${what}, ${path}: ${error.reason}; ${fix}`, "STORE_FOLDER");
  }
}

// Turns an error of better-sqlite3 at open into one that names the store,
// what SQLite found and what to do.
function storeOpenError(path: string, error: unknown): Error {
  if (error instanceof StoreError) return error;
  const cause = error as { code?: string; message?: string };
  const code = cause.code ?? "";
  const found = `SQLite: ${cause.message ?? String(error)}`;
  if (code === "SQLITE_NOTADB") {
    return new StoreError(`store ${path} is not a SQLite database (${found}); give --db the path of a correlator store or of a new file, or move this file away`, code);
  }
  if (code === "SQLITE_CANTOPEN") {
    return new StoreError(`cannot open store ${path} (${found}); check that ${dirname(path)} exists and that this user can read and create files in it, or give --db another path`, code);
  }
  if (code.startsWith("SQLITE_READONLY")) {
    return new StoreError(
      `store ${path} cannot be written (${found}); make the file and its folder ${dirname(path)} writable for this user` +
      " (SQLite creates the -wal and -shm files beside the store), or give --db another path", code);
  }
  return new StoreError(`cannot open store ${path} (${found}); give --db another path if the file is damaged`, code || "STORE_OPEN");
}
