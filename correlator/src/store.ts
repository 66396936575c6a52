// The correlator's store: alerts keyed by their id, forwarded protocol
// records, and incidents over an entity graph, on SQLite (a file path, the
// default) or PostgreSQL (a postgres:// URL). Every method is async on both.
//
// Ingest is idempotent and race-free across correlator processes sharing one
// PostgreSQL database. An alert id is the primary key. Each batch of alerts
// and records runs in one transaction that first takes an advisory lock on
// every site of the batch, so two processes never assign alerts of one site
// to incidents at the same time. SQLite has one writer per file, and this
// process queues its writes.
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
import { CLOCK_AHEAD_MAX_MS, CLOCK_UNSET_BEFORE_MS } from "./clock.js";
import { rankIncident, type Rank, type RankFactor } from "./rank.js";
import { PendingWrites } from "./pending.js";
import {
  forEachChunk, INCIDENT_SET_TABLES, lockKeys, PostgresDatabase, schemaSql, SqliteDatabase, STORE_SCHEMA_VERSION,
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

// One message of an ingest batch.
export type IngestItem =
  | { kind: "alert"; alert: Alert }
  | { kind: "record"; site: string; gateway: string; record: RecordJson };

// The result of storing one item: an alert's AlertInsert, or whether a record was new.
export type IngestOutcome =
  | { kind: "alert"; result: AlertInsert }
  | { kind: "record"; stored: boolean };

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
  // Any other scheme, or a postgres URL with a typo, would become a relative file path.
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(target);
  if (scheme) {
    throw new StoreError(`invalid store "${redactDbUrl(target)}": "${scheme[1]}:" is not a store this correlator opens; give a postgres:// or postgresql:// URL, or the path of a SQLite file such as /var/lib/fieldsense/correlator.db`, "STORE_OPEN");
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
    return (await this.insertAlerts([alert], receivedAt))[0];
  }

  // Stores alerts in one transaction, each as insertAlert would in turn.
  async insertAlerts(alerts: Alert[], receivedAt = new Date()): Promise<AlertInsert[]> {
    const outcomes = await this.ingest(alerts.map((alert) => ({ kind: "alert", alert })), receivedAt);
    return outcomes.map((outcome) => (outcome.kind === "alert" ? outcome.result : { stored: false, reason: "duplicate" }));
  }

  // Stores a forwarded record; an identical record from the same gateway
  // (a resend, or the same capture replayed) is ignored. Learns host names
  // and device identity from it, and marks a pivot when it is an OT command
  // from a host that an IT alert entered. Returns whether it was new.
  async insertRecord(site: string, gateway: string, record: RecordJson, receivedAt = new Date()): Promise<boolean> {
    const [outcome] = await this.ingest([{ kind: "record", site, gateway, record }], receivedAt);
    return outcome.kind === "record" && outcome.stored;
  }

  // Stores alerts and records in one transaction, in their order, with the
  // result each would have on its own. The transaction locks every site of
  // the batch once, and writes through PendingWrites, so that a batch costs
  // a few statements more than its new incidents rather than about ten
  // statements per alert. Nothing is stored when it throws.
  async ingest(items: readonly IngestItem[], receivedAt = new Date()): Promise<IngestOutcome[]> {
    if (items.length === 0) return [];
    const sites = [...new Set(items.map((item) => (item.kind === "alert" ? item.alert.site : item.site)))].sort();
    const changed = new Set<number>();
    const outcomes = await this.sql.transaction(sites.map((site) => `site:${site}`), (tx) => this.ingestIn(tx, items, receivedAt, changed));
    this.notifyChanged([...changed]);
    return outcomes;
  }

  // Adds to `changed` the incidents whose pivot an item completed, other
  // than the incident of an alert that joined it.
  private async ingestIn(tx: SqlRunner, items: readonly IngestItem[], receivedAt: Date, changed: Set<number>): Promise<IngestOutcome[]> {
    const facts = items.map((item) => (item.kind === "alert" ? alertFacts(item.alert) : undefined));
    const alerts = items.flatMap((item, i) => (item.kind === "alert" ? [{ alert: item.alert, facts: facts[i]! }] : []));
    const commands: OtCommand[] = items.flatMap((item, i) => {
      if (item.kind === "alert") return facts[i]!.otCommand ? [{ site: item.alert.site, host: item.alert.src.ip, tsMs: facts[i]!.tsMs }] : [];
      return isOtCommandRecord(item.record) ? [{ site: item.site, host: item.record.src.ip, tsMs: Date.parse(item.record.ts) }] : [];
    });
    const known = await knownAlertIds(tx, alerts.map(({ alert }) => alert.id));
    const joining = alerts.filter(({ alert }) => alert.score >= this.minIncidentScore);
    const ctx: IngestContext = {
      tx, now: receivedAt.toISOString(), pending: new PendingWrites(), touched: new Set(), merged: new Map(),
      index: await IncidentIndex.load(tx, this.windowMs, joining),
      entries: await EntryAlerts.load(tx, this.windowMs, commands),
      commands: await OtCommandTimes.load(tx, this.windowMs, joining),
    };
    const outcomes: IngestOutcome[] = [];
    for (const [i, item] of items.entries()) {
      if (item.kind === "record") {
        outcomes.push({ kind: "record", stored: await this.insertRecordIn(ctx, item.site, item.gateway, item.record, receivedAt, changed) });
        continue;
      }
      if (known.has(item.alert.id)) {
        outcomes.push({ kind: "alert", result: { stored: false, reason: "duplicate" } });
        continue;
      }
      known.add(item.alert.id);
      outcomes.push({ kind: "alert", result: await this.insertAlertIn(ctx, item.alert, facts[i]!, receivedAt, changed) });
    }
    await this.finish(ctx);
    return outcomes;
  }

  private async insertAlertIn(ctx: IngestContext, alert: Alert, facts: AlertFacts, receivedAt: Date, changed: Set<number>): Promise<AlertInsert> {
    const addRow = (incidentId: number | null) => ctx.pending.addAlertRow([
      alert.id, alert.site, alert.gateway, alert.ts, facts.tsMs, alert.model, alert.score, alert.src.ip, alert.dst.ip,
      incidentId, ctx.now, JSON.stringify(alert), alert.record ?? "", alert.account ?? null, flag(facts.routine),
      flag(facts.itEntry), flag(facts.otCommand), receivedAt.getTime()]);

    if (facts.otCommand) ctx.commands.add(alert.site, alert.src.ip, facts.tsMs);
    if (alert.score < this.minIncidentScore) {
      addRow(null);
      // A low-scored OT command can still complete a pivot of an incident.
      if (facts.otCommand) for (const id of this.checkPivotFromCommand(ctx, alert.site, alert.src.ip, facts.tsMs)) changed.add(id);
      return { stored: true, incidentId: null, mergedIncidentIds: [] };
    }

    const candidates = ctx.index.candidates(alert.site, facts, this.windowMs);
    let incidentId: number;
    const merged: number[] = [];
    if (candidates.length === 0) {
      const row = await ctx.tx.get<{ id: number }>(
        "INSERT INTO incidents (site, first_ms, last_ms, score, updated_at, max_score, alert_count) VALUES (?, ?, ?, 0, ?, 0, 0) RETURNING id",
        [alert.site, facts.tsMs, facts.tsMs, ctx.now]);
      incidentId = Number(row!.id);
      ctx.index.add(incidentId, alert.site, facts.tsMs);
    } else {
      incidentId = candidates[0];
      for (const id of candidates.slice(1)) {
        await this.mergeIncident(ctx, id, incidentId);
        merged.push(id);
      }
    }
    addRow(incidentId);
    if (facts.itEntry) ctx.entries.add(alert.site, alert.dst.ip, facts.tsMs, incidentId);
    this.addToIncident(ctx, incidentId, alert, facts);
    for (const id of await this.checkPivotOfAlert(ctx, incidentId, alert, facts)) changed.add(id);
    return { stored: true, incidentId, mergedIncidentIds: merged };
  }

  // Writes what is pending and recomputes the rank of every incident the
  // transaction changed.
  // NOTE: the rank reads critical host names as they are at the end of the
  // batch. One message at a time, an incident's rank misses names that
  // records later in the batch teach, so with --critical-hosts the two can
  // differ until the incident's next alert.
  private async finish(ctx: IngestContext): Promise<void> {
    await ctx.pending.flush(ctx.tx);
    const ids = [...new Set([...ctx.touched].map((id) => resolveMerged(ctx.merged, id)))].sort((a, b) => a - b);
    await this.refreshRanks(ctx.tx, ids, ctx.now);
  }

  // Adds an alert's aggregates, hosts, entities and tactics to an incident.
  private addToIncident(ctx: IngestContext, incidentId: number, alert: Alert, facts: AlertFacts): void {
    ctx.pending.addToSet("incident_hosts", incidentId, facts.hosts);
    ctx.pending.addToSet("incident_models", incidentId, [alert.model]);
    ctx.pending.addToSet("incident_techniques", incidentId, alert.mitre);
    ctx.pending.addToSet("incident_entities", incidentId, facts.entities);
    for (const tactic of facts.tactics) ctx.pending.addTacticSpan(incidentId, tactic.id, facts.tsMs, facts.tsMs);
    ctx.pending.addAlert(incidentId, facts.tsMs, alert.score, facts.routine);
    ctx.index.addAlert(incidentId, facts);
    ctx.touched.add(incidentId);
  }

  // Moves the alerts, sets, tactics and aggregates of incident `from` into
  // `into`. It writes what is pending first, because it moves rows.
  private async mergeIncident(ctx: IngestContext, from: number, into: number): Promise<void> {
    const { tx } = ctx;
    await ctx.pending.flush(tx);
    await tx.run("UPDATE alerts SET incident_id = ? WHERE incident_id = ?", [into, from]);
    for (const [table, column] of INCIDENT_SET_TABLES) {
      await tx.run(`INSERT INTO ${table} (incident_id, ${column}) SELECT ?, ${column} FROM ${table} WHERE incident_id = ? ON CONFLICT DO NOTHING`, [into, from]);
      await tx.run(`DELETE FROM ${table} WHERE incident_id = ?`, [from]);
    }
    const spans = await tx.all<{ tactic: string; first_ms: number; last_ms: number }>(
      "SELECT tactic, first_ms, last_ms FROM incident_tactics WHERE incident_id = ?", [from]);
    for (const span of spans) ctx.pending.addTacticSpan(into, span.tactic, Number(span.first_ms), Number(span.last_ms));
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
    if (old.pivot_ms !== null) ctx.pending.setPivot(into, Number(old.pivot_ms));
    await tx.run("DELETE FROM incidents WHERE id = ?", [from]);
    ctx.index.merge(from, into);
    ctx.merged.set(from, into);
    ctx.touched.add(into);
  }

  // Records a pivot in the incident when the alert completes one. That is an
  // IT entry into a host that then sends OT commands (alerts or records)
  // within the window, or an OT command from a host that an IT alert entered
  // before.
  // Returns the other incidents whose pivot the alert completed.
  private async checkPivotOfAlert(ctx: IngestContext, incidentId: number, alert: Alert, facts: AlertFacts): Promise<number[]> {
    if (facts.itEntry) {
      const first = ctx.commands.first(alert, facts.tsMs, facts.tsMs + this.windowMs);
      if (first !== undefined) ctx.pending.setPivot(incidentId, first);
    }
    if (!facts.otCommand) return [];
    return this.checkPivotFromCommand(ctx, alert.site, alert.src.ip, facts.tsMs).filter((id) => id !== resolveMerged(ctx.merged, incidentId));
  }

  // Marks a pivot in every incident with an IT entry into `host` at most one
  // window before an OT command that `host` sent at `tsMs`. Returns those
  // incidents.
  private checkPivotFromCommand(ctx: IngestContext, site: string, host: string, tsMs: number): number[] {
    const ids = ctx.entries.incidentsEntered(site, host, tsMs - this.windowMs, tsMs, ctx.merged);
    for (const id of ids) {
      ctx.pending.setPivot(id, tsMs);
      ctx.touched.add(id);
    }
    return ids;
  }

  // Recomputes the score and rank of incidents from their aggregates, one
  // statement per chunk of incidents.
  private async refreshRanks(tx: SqlRunner, ids: readonly number[], now: string): Promise<void> {
    await forEachChunk(ids, async (chunk) => {
      const ranked = await this.computeRanks(tx, chunk);
      if (ranked.size === 0) return;
      const row = "(CAST(? AS BIGINT), CAST(? AS INTEGER), CAST(? AS INTEGER), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT))";
      await tx.run(
        `WITH ranked (id, score, rank, rank_why, rank_tactics, rank_progression) AS (VALUES ${[...ranked.keys()].map(() => row).join(", ")})
         UPDATE incidents SET score = ranked.score, rank = ranked.rank, rank_why = ranked.rank_why, rank_tactics = ranked.rank_tactics,
           rank_progression = ranked.rank_progression, updated_at = ?
         FROM ranked WHERE incidents.id = ranked.id`,
        [...[...ranked].flatMap(([id, r]) => [id, r.score, r.rank.rank, JSON.stringify(r.rank.why),
          JSON.stringify(r.tactics.map((tactic) => tactic.id)), JSON.stringify(r.rank.progression)]), now]);
    });
  }

  // Score, rank and tactics of each of `ids` that exists, from a few
  // statements for all of them.
  private async computeRanks(runner: SqlRunner, ids: readonly number[]): Promise<Map<number, { score: number; rank: Rank; tactics: Tactic[] }>> {
    const ranked = new Map<number, { score: number; rank: Rank; tactics: Tactic[] }>();
    if (ids.length === 0) return ranked;
    const list = marks(ids);
    const rows = await runner.all<IncidentRow>(`SELECT ${INCIDENT_COLUMNS} FROM incidents WHERE id IN (${list})`, ids);
    if (rows.length === 0) return ranked;
    const counts = new Map<string, number>();
    for (const row of await runner.all<{ id: number; kind: string; n: number }>(
      `SELECT incident_id AS id, 'models' AS kind, COUNT(*) AS n FROM incident_models WHERE incident_id IN (${list}) GROUP BY incident_id
       UNION ALL SELECT incident_id, 'techniques', COUNT(*) FROM incident_techniques WHERE incident_id IN (${list}) GROUP BY incident_id
       UNION ALL SELECT incident_id, 'devices', COUNT(*) FROM incident_entities WHERE incident_id IN (${list}) AND entity LIKE 'ot_device:%' GROUP BY incident_id`,
      [...ids, ...ids, ...ids])) {
      counts.set(`${Number(row.id)}/${row.kind}`, Number(row.n));
    }
    const spansOf = new Map<number, Array<{ tactic: string; firstMs: number; lastMs: number }>>();
    for (const span of await runner.all<{ id: number; tactic: string; first_ms: number; last_ms: number }>(
      `SELECT incident_id AS id, tactic, first_ms, last_ms FROM incident_tactics WHERE incident_id IN (${list})`, ids)) {
      const list = spansOf.get(Number(span.id)) ?? [];
      list.push({ tactic: span.tactic, firstMs: Number(span.first_ms), lastMs: Number(span.last_ms) });
      spansOf.set(Number(span.id), list);
    }
    const critical = await this.criticalHostsOfMany(runner, ids);
    for (const row of rows) {
      const id = Number(row.id);
      const score = scoreIncident({ maxScore: row.max_score, models: counts.get(`${id}/models`) ?? 0, techniques: counts.get(`${id}/techniques`) ?? 0 }).score;
      const spans = spansOf.get(id) ?? [];
      const tactics = Object.values(TACTICS).filter((tactic) => spans.some((span) => span.tactic === tactic.id));
      const stageSpans = new Map<Stage, StageSpan>();
      for (const span of spans) {
        for (const stage of stagesOf([span.tactic])) {
          const known = stageSpans.get(stage);
          stageSpans.set(stage, known
            ? { firstMs: Math.min(known.firstMs, span.firstMs), lastMs: Math.max(known.lastMs, span.lastMs) }
            : { firstMs: span.firstMs, lastMs: span.lastMs });
        }
      }
      const rank = rankIncident({
        score,
        tactics: tactics.map((tactic) => `${tactic.name} ${tactic.id}`),
        stageSpans,
        pivot: row.pivot_ms !== null,
        criticalHosts: critical.get(id) ?? [],
        otDevices: counts.get(`${id}/devices`) ?? 0,
        alerts: Number(row.alert_count),
        routineAlerts: Number(row.routine_count),
      });
      ranked.set(id, { score, rank, tactics });
    }
    return ranked;
  }

  // Configured critical hosts the incident touches, by IP or learned name.
  private async criticalHostsOf(runner: SqlRunner, id: number): Promise<string[]> {
    return (await this.criticalHostsOfMany(runner, [id])).get(id) ?? [];
  }

  private async criticalHostsOfMany(runner: SqlRunner, ids: readonly number[]): Promise<Map<number, string[]>> {
    const found = new Map<number, string[]>();
    if (this.criticalHosts.length === 0 || ids.length === 0) return found;
    const rows = await runner.all<{ id: number; ip: string; name: string | null }>(
      `SELECT h.incident_id AS id, h.ip AS ip, n.name AS name FROM incident_hosts h JOIN incidents i ON i.id = h.incident_id
         LEFT JOIN host_names n ON n.site = i.site AND n.ip = h.ip WHERE h.incident_id IN (${marks(ids)})`, ids);
    const hits = new Map<number, Set<string>>();
    for (const row of rows) {
      const id = Number(row.id);
      const set = hits.get(id) ?? new Set<string>();
      hits.set(id, set);
      if (this.criticalHosts.includes(row.ip.toLowerCase())) set.add(row.ip);
      else if (row.name !== null && this.criticalHosts.includes(row.name.toLowerCase())) set.add(`${row.name} (${row.ip})`);
    }
    for (const [id, set] of hits) found.set(id, [...set].sort());
    return found;
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
    const facts = alerts.map(alertFacts);
    await tx.run("UPDATE incidents SET first_ms = ?, last_ms = ?, max_score = 0, alert_count = 0, routine_count = 0, pivot_ms = NULL WHERE id = ?",
      [facts[0].tsMs, facts[0].tsMs, id]);
    const commands = alerts.flatMap((alert, i) => (facts[i].otCommand ? [{ site: alert.site, host: alert.src.ip, tsMs: facts[i].tsMs }] : []));
    const ctx: IngestContext = {
      tx, now: new Date().toISOString(), pending: new PendingWrites(), touched: new Set([id]), merged: new Map(),
      index: new IncidentIndex(), entries: await EntryAlerts.load(tx, this.windowMs, commands),
      commands: await OtCommandTimes.load(tx, this.windowMs, alerts.map((alert, i) => ({ alert, facts: facts[i] }))),
    };
    for (const [i, alert] of alerts.entries()) {
      this.addToIncident(ctx, id, alert, facts[i]);
      if (facts[i].itEntry || facts[i].otCommand) await this.checkPivotOfAlert(ctx, id, alert, facts[i]);
    }
    await this.finish(ctx);
    return true;
  }

  // Writes a record unless the same gateway sent it before, learns names and
  // device facts from it, and marks the pivots an OT command completes.
  private async insertRecordIn(ctx: IngestContext, site: string, gateway: string, record: RecordJson, receivedAt: Date,
    changed: Set<number>): Promise<boolean> {
    const { tx } = ctx;
    const otCommand = isOtCommandRecord(record);
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
      ctx.commands.add(site, record.src.ip, tsMs);
      for (const id of this.checkPivotFromCommand(ctx, site, record.src.ip, tsMs)) changed.add(id);
    }
    return true;
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

  // How many of the incident's alerts carry a packet time that clock.ts
  // takes for a wrong gateway clock, and the largest lead of a packet time
  // over its receive time among those ahead.
  async incidentClockProblems(id: number): Promise<{ ahead: number; unset: number; maxAheadMs: number }> {
    const ahead = "received_ms > 0 AND ts_ms > received_ms + ?";
    const row = await this.sql.get<{ ahead: number | null; unset: number | null; max_ahead_ms: number | null }>(
      `SELECT SUM(CASE WHEN ${ahead} THEN 1 ELSE 0 END) AS ahead, SUM(CASE WHEN ts_ms < ? THEN 1 ELSE 0 END) AS unset,
         MAX(CASE WHEN ${ahead} THEN ts_ms - received_ms ELSE NULL END) AS max_ahead_ms
       FROM alerts WHERE incident_id = ?`, [CLOCK_AHEAD_MAX_MS, CLOCK_UNSET_BEFORE_MS, CLOCK_AHEAD_MAX_MS, id]);
    return { ahead: Number(row?.ahead ?? 0), unset: Number(row?.unset ?? 0), maxAheadMs: Number(row?.max_ahead_ms ?? 0) };
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
    const critical = new Set(await this.criticalHostsOf(this.sql, incidentId));
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
      // lock of every site, in the order lockKeys gives every transaction,
      // so that it and an ingest batch cannot wait on each other in a cycle.
      if (tx.dialect === "postgres") {
        const sites = await tx.all<{ site: string }>("SELECT DISTINCT site FROM incidents");
        await lockKeys(tx, sites.map(({ site }) => `site:${site}`));
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

// State of one ingest transaction.
interface IngestContext {
  tx: SqlRunner;
  // Time of the transaction, for updated_at.
  now: string;
  pending: PendingWrites;
  // Incidents whose rank is recomputed at the end.
  touched: Set<number>;
  // Incidents merged away in this transaction -> the incident that absorbed them.
  merged: Map<number, number>;
  index: IncidentIndex;
  entries: EntryAlerts;
  commands: OtCommandTimes;
}

// An OT command from `host` at `tsMs`: an alert or a record.
interface OtCommand {
  site: string;
  host: string;
  tsMs: number;
}

// The incident that absorbed `id`, following merges, or `id` itself.
function resolveMerged(merged: ReadonlyMap<number, number>, id: number): number {
  let current = id;
  for (let next = merged.get(current); next !== undefined; next = merged.get(current)) current = next;
  return current;
}

// Keys of each IN list, so that a batch with many hosts stays within the
// parameter limits of both databases.
const KEYS_PER_QUERY = 256;

// The ids among `ids` that the alerts table holds, in a few statements.
async function knownAlertIds(tx: SqlRunner, ids: readonly string[]): Promise<Set<string>> {
  const known = new Set<string>();
  const unique = [...new Set(ids)];
  for (let i = 0; i < unique.length; i += KEYS_PER_QUERY) {
    const chunk = unique.slice(i, i + KEYS_PER_QUERY);
    for (const row of await tx.all<{ id: string }>(`SELECT id FROM alerts WHERE id IN (${marks(chunk)})`, chunk)) known.add(row.id);
  }
  return known;
}

// Groups items by site.
function bySite<T extends { site: string }>(items: readonly T[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(item.site) ?? [];
    group.push(item);
    groups.set(item.site, group);
  }
  return groups;
}

// The incidents a batch of alerts may join, with their time spans and the
// batch's hosts and entities they share, loaded once and then kept up to
// date as the batch adds alerts, creates incidents and merges them. It
// answers the question the store used to ask the database for each alert:
// which incidents of the site share a host or another entity (not a host
// or an OT device) with the alert and span a time within one window of it.
class IncidentIndex {
  private readonly incidents = new Map<number, { site: string; firstMs: number; lastMs: number; keys: Set<string> }>();
  private readonly byKey = new Map<string, Set<number>>();

  // Loads every incident of the batch's sites within one window of the
  // batch's time range that shares a host or entity with one of `alerts`.
  // An incident outside the range can join no alert of the batch.
  static async load(tx: SqlRunner, windowMs: number, alerts: ReadonlyArray<{ alert: Alert; facts: AlertFacts }>): Promise<IncidentIndex> {
    const index = new IncidentIndex();
    for (const [site, group] of bySite(alerts.map(({ alert, facts }) => ({ site: alert.site, facts })))) {
      const times = group.map(({ facts }) => facts.tsMs);
      const window = [site, windowMs, Math.max(...times), windowMs, Math.min(...times)];
      const hosts = [...new Set(group.flatMap(({ facts }) => facts.hosts))];
      const others = [...new Set(group.flatMap(({ facts }) => matchedEntities(facts)))];
      const queries: Array<[string, string[], string]> = [
        ["SELECT i.id AS id, i.first_ms AS first_ms, i.last_ms AS last_ms, h.ip AS value FROM incident_hosts h JOIN incidents i ON i.id = h.incident_id WHERE h.ip", hosts, "host"],
        ["SELECT i.id AS id, i.first_ms AS first_ms, i.last_ms AS last_ms, e.entity AS value FROM incident_entities e JOIN incidents i ON i.id = e.incident_id WHERE e.entity", others, "entity"],
      ];
      for (const [select, keys, kind] of queries) {
        for (let i = 0; i < keys.length; i += KEYS_PER_QUERY) {
          const chunk = keys.slice(i, i + KEYS_PER_QUERY);
          const rows = await tx.all<{ id: number; first_ms: number; last_ms: number; value: string }>(
            `${select} IN (${marks(chunk)}) AND i.site = ? AND i.first_ms - ? <= ? AND i.last_ms + ? >= ?`, [...chunk, ...window]);
          for (const row of rows) {
            const id = Number(row.id);
            if (!index.incidents.has(id)) index.incidents.set(id, { site, firstMs: Number(row.first_ms), lastMs: Number(row.last_ms), keys: new Set() });
            index.addKey(id, `${kind}:${row.value}`);
          }
        }
      }
    }
    return index;
  }

  private addKey(id: number, key: string): void {
    this.incidents.get(id)!.keys.add(key);
    const ids = this.byKey.get(key) ?? new Set<number>();
    ids.add(id);
    this.byKey.set(key, ids);
  }

  // Incidents the alert joins, oldest (lowest id) first.
  candidates(site: string, facts: AlertFacts, windowMs: number): number[] {
    const found = new Set<number>();
    for (const key of keysOf(facts)) {
      for (const id of this.byKey.get(key) ?? []) {
        const incident = this.incidents.get(id)!;
        if (incident.site === site && incident.firstMs - windowMs <= facts.tsMs && incident.lastMs + windowMs >= facts.tsMs) found.add(id);
      }
    }
    return [...found].sort((a, b) => a - b);
  }

  add(id: number, site: string, tsMs: number): void {
    this.incidents.set(id, { site, firstMs: tsMs, lastMs: tsMs, keys: new Set() });
  }

  addAlert(id: number, facts: AlertFacts): void {
    const incident = this.incidents.get(id);
    // An incident rebuilt after retention is not indexed: nothing joins it.
    if (!incident) return;
    incident.firstMs = Math.min(incident.firstMs, facts.tsMs);
    incident.lastMs = Math.max(incident.lastMs, facts.tsMs);
    for (const key of keysOf(facts)) this.addKey(id, key);
  }

  merge(from: number, into: number): void {
    const source = this.incidents.get(from)!;
    const target = this.incidents.get(into)!;
    target.firstMs = Math.min(target.firstMs, source.firstMs);
    target.lastMs = Math.max(target.lastMs, source.lastMs);
    for (const key of source.keys) {
      this.byKey.get(key)!.delete(from);
      this.addKey(into, key);
    }
    this.incidents.delete(from);
  }
}

// The entities other than hosts and OT devices by which an alert joins an
// incident; hosts join through incident_hosts.
function matchedEntities(facts: AlertFacts): string[] {
  return facts.entities.filter((id) => !id.startsWith("host:") && !id.startsWith("ot_device:"));
}

function keysOf(facts: AlertFacts): string[] {
  return [...facts.hosts.map((ip) => `host:${ip}`), ...matchedEntities(facts).map((entity) => `entity:${entity}`)];
}

// IT-entry alerts with an incident into the hosts that send the batch's OT
// commands, loaded once and kept up to date as the batch stores alerts. It
// answers which incidents an OT command completes a pivot of.
class EntryAlerts {
  // "site\nhost" -> the alerts that entered the host.
  private readonly byHost = new Map<string, Array<{ tsMs: number; incidentId: number }>>();

  // Loads the entries at most one window before each command of `commands`.
  static async load(tx: SqlRunner, windowMs: number, commands: readonly OtCommand[]): Promise<EntryAlerts> {
    const entries = new EntryAlerts();
    for (const [site, group] of bySite(commands)) {
      const times = group.map((command) => command.tsMs);
      const hosts = [...new Set(group.map((command) => command.host))];
      for (let i = 0; i < hosts.length; i += KEYS_PER_QUERY) {
        const chunk = hosts.slice(i, i + KEYS_PER_QUERY);
        const rows = await tx.all<{ incident_id: number; dst_ip: string; ts_ms: number }>(
          `SELECT incident_id, dst_ip, ts_ms FROM alerts WHERE site = ? AND it_entry = 1 AND incident_id IS NOT NULL
             AND dst_ip IN (${marks(chunk)}) AND ts_ms BETWEEN ? AND ?`,
          [site, ...chunk, Math.min(...times) - windowMs, Math.max(...times)]);
        for (const row of rows) entries.add(site, row.dst_ip, Number(row.ts_ms), Number(row.incident_id));
      }
    }
    return entries;
  }

  add(site: string, host: string, tsMs: number, incidentId: number): void {
    const key = `${site}\n${host}`;
    const list = this.byHost.get(key) ?? [];
    list.push({ tsMs, incidentId });
    this.byHost.set(key, list);
  }

  // Incidents, after merges, of the alerts that entered `host` within
  // [fromMs, toMs], in ascending order.
  incidentsEntered(site: string, host: string, fromMs: number, toMs: number, merged: ReadonlyMap<number, number>): number[] {
    const ids = new Set<number>();
    for (const entry of this.byHost.get(`${site}\n${host}`) ?? []) {
      if (entry.tsMs >= fromMs && entry.tsMs <= toMs) ids.add(resolveMerged(merged, entry.incidentId));
    }
    return [...ids].sort((a, b) => a - b);
  }
}

// When the hosts that IT-entry alerts entered sent OT commands (alerts or
// records): for each such alert of a batch, the first command stored before
// the batch within one window after it, read in one statement per site and
// table, and the commands the batch stores, kept as it stores them.
class OtCommandTimes {
  // Alert id -> time of the first command before the batch.
  private readonly before = new Map<string, number>();
  // "site\nhost" -> times of the batch's commands.
  private readonly inBatch = new Map<string, number[]>();

  static async load(tx: SqlRunner, windowMs: number, alerts: ReadonlyArray<{ alert: Alert; facts: AlertFacts }>): Promise<OtCommandTimes> {
    const times = new OtCommandTimes();
    const entries = alerts.filter(({ facts }) => facts.itEntry).map(({ alert, facts }) => ({ site: alert.site, alert, facts }));
    for (const [site, group] of bySite(entries)) {
      await forEachChunk(group, async (chunk) => {
        const row = "(CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS BIGINT))";
        const query = (table: string) => `SELECT q.id AS id, MIN(c.ts_ms) AS ts FROM q JOIN ${table} c
          ON c.site = ? AND c.src_ip = q.host AND c.ot_command = 1 AND c.ts_ms BETWEEN q.lo AND q.hi GROUP BY q.id`;
        const rows = await tx.all<{ id: string; ts: number }>(
          `WITH q (id, host, lo, hi) AS (VALUES ${chunk.map(() => row).join(", ")})
           ${query("alerts")} UNION ALL ${query("records")}`,
          [...chunk.flatMap(({ alert, facts }) => [alert.id, alert.dst.ip, facts.tsMs, facts.tsMs + windowMs]), site, site]);
        for (const { id, ts } of rows) {
          const known = times.before.get(id);
          times.before.set(id, known === undefined ? Number(ts) : Math.min(known, Number(ts)));
        }
      });
    }
    return times;
  }

  add(site: string, host: string, tsMs: number): void {
    const key = `${site}\n${host}`;
    const list = this.inBatch.get(key) ?? [];
    list.push(tsMs);
    this.inBatch.set(key, list);
  }

  // The first OT command that the host `alert` entered sent within
  // [fromMs, toMs], among those stored before the batch and those the
  // batch stored so far.
  first(alert: Alert, fromMs: number, toMs: number): number | undefined {
    let first = this.before.get(alert.id);
    for (const tsMs of this.inBatch.get(`${alert.site}\n${alert.dst.ip}`) ?? []) {
      if (tsMs >= fromMs && tsMs <= toMs && (first === undefined || tsMs < first)) first = tsMs;
    }
    return first;
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
  if (code === "SQLITE_FULL") {
    return new StoreError(`cannot open store ${path} (${found}): the disk is full; free space on the disk of ${dirname(path)}, or give --db a path on another disk`, code);
  }
  return new StoreError(`cannot open store ${path} (${found}); give --db another path if the file is damaged`, code || "STORE_OPEN");
}
