// The correlator's SQLite store (better-sqlite3, WAL): alerts keyed by their
// id, forwarded protocol records, and incidents with the hosts they touch.
import { createHash } from "node:crypto";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import type { Alert } from "../../agent/src/publish/alert.js";
import { canonicalJson } from "../../agent/src/publish/alert.js";
import type { RecordJson } from "../../agent/src/publish/record.js";

// Version 2 keeps each incident's aggregates (highest alert score, alert
// count, models, techniques) up to date per alert. Version 1 stores are
// migrated in place at open.
export const STORE_SCHEMA_VERSION = 2;

// Default correlation window: alerts closer than this in packet time that
// share a host join one incident.
export const DEFAULT_WINDOW_MS = 60 * 60 * 1000;

// Incident score = highest alert score + SCORE_BONUS_PER_EXTRA for every
// distinct model beyond the first and for every distinct ATT&CK technique
// beyond the first, the bonus capped at SCORE_BONUS_MAX and the total at 100.
// Several techniques chained between the same hosts are more telling than
// one model firing repeatedly, which adds nothing.
export const SCORE_BONUS_PER_EXTRA = 5;
export const SCORE_BONUS_MAX = 20;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS alerts (
  id TEXT PRIMARY KEY,
  site TEXT NOT NULL,
  gateway TEXT NOT NULL,
  ts TEXT NOT NULL,
  ts_ms INTEGER NOT NULL,
  model TEXT NOT NULL,
  score INTEGER NOT NULL,
  src_ip TEXT NOT NULL,
  dst_ip TEXT NOT NULL,
  incident_id INTEGER,
  received_at TEXT NOT NULL,
  body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alerts_by_hosts ON alerts (site, src_ip, dst_ip, ts_ms);
CREATE INDEX IF NOT EXISTS alerts_by_incident ON alerts (incident_id, ts_ms);
CREATE TABLE IF NOT EXISTS records (
  key TEXT PRIMARY KEY,
  site TEXT NOT NULL,
  gateway TEXT NOT NULL,
  type TEXT NOT NULL,
  ts TEXT NOT NULL,
  ts_ms INTEGER NOT NULL,
  src_ip TEXT NOT NULL,
  dst_ip TEXT NOT NULL,
  body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS records_by_hosts ON records (site, src_ip, dst_ip, ts_ms);
CREATE TABLE IF NOT EXISTS incidents (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  site TEXT NOT NULL,
  first_ms INTEGER NOT NULL,
  last_ms INTEGER NOT NULL,
  score INTEGER NOT NULL,
  updated_at TEXT NOT NULL,
  max_score INTEGER NOT NULL DEFAULT 0,
  alert_count INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS incident_hosts (
  incident_id INTEGER NOT NULL,
  ip TEXT NOT NULL,
  PRIMARY KEY (incident_id, ip)
);
CREATE INDEX IF NOT EXISTS incident_hosts_by_ip ON incident_hosts (ip);
CREATE TABLE IF NOT EXISTS incident_models (
  incident_id INTEGER NOT NULL,
  model TEXT NOT NULL,
  PRIMARY KEY (incident_id, model)
);
CREATE TABLE IF NOT EXISTS incident_techniques (
  incident_id INTEGER NOT NULL,
  technique TEXT NOT NULL,
  PRIMARY KEY (incident_id, technique)
);
`;

// Adds the version 2 aggregates to a version 1 store and fills them from its
// alerts. The new tables already exist: SCHEMA creates them.
const MIGRATE_1_TO_2 = `
ALTER TABLE incidents ADD COLUMN max_score INTEGER NOT NULL DEFAULT 0;
ALTER TABLE incidents ADD COLUMN alert_count INTEGER NOT NULL DEFAULT 0;
UPDATE incidents SET
  max_score = COALESCE((SELECT MAX(score) FROM alerts WHERE incident_id = incidents.id), 0),
  alert_count = (SELECT COUNT(*) FROM alerts WHERE incident_id = incidents.id);
INSERT OR IGNORE INTO incident_models (incident_id, model) SELECT incident_id, model FROM alerts WHERE incident_id IS NOT NULL;
INSERT OR IGNORE INTO incident_techniques (incident_id, technique)
  SELECT a.incident_id, t.value FROM alerts a, json_each(a.body, '$.mitre') t WHERE a.incident_id IS NOT NULL;
UPDATE schema_version SET version = 2;
`;

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

export type AlertInsert =
  | { stored: true; incidentId: number; mergedIncidentIds: number[] }
  | { stored: false; reason: "duplicate" };

export interface HostPairHistory {
  hostA: string;
  hostB: string;
  alerts: number;
  records: number;
  days: number;
  firstTs?: string;
}

export class Store {
  readonly db: Database.Database;

  private readonly statements = new Map<string, Database.Statement>();

  // Opens or creates the store and checks that this process can write it, so
  // that a read-only file or folder stops the start instead of every alert.
  // With `readOnly` it opens an existing store for reading reports, and
  // neither creates anything nor checks for write access.
  // Throws StoreError naming the path and the fix.
  constructor(readonly path: string, readonly windowMs = DEFAULT_WINDOW_MS, readonly readOnly = false) {
    if (path !== ":memory:" && !readOnly) createFolder(dirname(path), `the folder of store ${path}`, "give --db a path in a folder this user can create");
    let db: Database.Database | undefined;
    try {
      db = new Database(path, { readonly: readOnly, fileMustExist: readOnly });
      this.db = db;
      if (!readOnly) {
        db.pragma("journal_mode = WAL");
        db.pragma("synchronous = NORMAL");
        db.exec(SCHEMA);
      }
      this.checkVersion();
      if (!readOnly) this.checkWritable();
    } catch (error) {
      if (db?.open) db.close();
      throw storeOpenError(path, error);
    }
  }

  private checkVersion(): void {
    const row = this.db.prepare("SELECT version FROM schema_version").get() as { version: number } | undefined;
    if (!row) {
      this.db.prepare("INSERT INTO schema_version (version) VALUES (?)").run(STORE_SCHEMA_VERSION);
      return;
    }
    if (row.version === 1 && !this.readOnly) {
      this.db.transaction(() => this.db.exec(MIGRATE_1_TO_2))();
      return;
    }
    if (row.version !== STORE_SCHEMA_VERSION) {
      const fix = row.version === 1 ? "start the correlator on it once to upgrade it" : "use another --db file";
      throw new StoreError(`store ${this.path} has schema version ${row.version}, this correlator reads version ${STORE_SCHEMA_VERSION}; ${fix}`, "STORE_SCHEMA_VERSION");
    }
  }

  // Writes a row inside a transaction and rolls it back. SQLite opens a file
  // it cannot write read-only without an error, and reports SQLITE_READONLY
  // only at the first write.
  private checkWritable(): void {
    this.db.exec("BEGIN IMMEDIATE");
    try {
      this.db.prepare("INSERT INTO schema_version (version) VALUES (0)").run();
    } finally {
      this.db.exec("ROLLBACK");
    }
  }

  // Prepares each SQL text once: an alert runs about ten statements, and
  // preparing them per alert would cost more than running them.
  private sql(text: string): Database.Statement {
    let statement = this.statements.get(text);
    if (!statement) {
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  close(): void {
    this.db.close();
  }

  hasAlert(id: string): boolean {
    return this.sql("SELECT 1 FROM alerts WHERE id = ?").get(id) !== undefined;
  }

  // The stored alert with this id, with the incident it belongs to.
  alert(id: string): { alert: Alert; incidentId: number | null } | undefined {
    const row = this.sql("SELECT body, incident_id FROM alerts WHERE id = ?").get(id) as { body: string; incident_id: number | null } | undefined;
    return row ? { alert: JSON.parse(row.body) as Alert, incidentId: row.incident_id } : undefined;
  }

  // Stores an alert unless its id is known, and attaches it to an incident.
  // That is the incident of the same site that shares a host with it within
  // the window, or a new one if none does. When several match, the oldest
  // absorbs the others.
  insertAlert(alert: Alert, receivedAt = new Date()): AlertInsert {
    return this.db.transaction((): AlertInsert => {
      if (this.hasAlert(alert.id)) return { stored: false, reason: "duplicate" };
      const tsMs = Date.parse(alert.ts);
      const now = receivedAt.toISOString();
      const hosts = [...new Set([alert.src.ip, alert.dst.ip])];
      const candidates = this.sql(
        `SELECT DISTINCT i.id FROM incidents i JOIN incident_hosts h ON h.incident_id = i.id
         WHERE i.site = ? AND h.ip IN (${hosts.map(() => "?").join(",")})
           AND i.first_ms - ? <= ? AND i.last_ms + ? >= ?
         ORDER BY i.id`,
      ).all(alert.site, ...hosts, this.windowMs, tsMs, this.windowMs, tsMs) as { id: number }[];

      let incidentId: number;
      const merged: number[] = [];
      if (candidates.length === 0) {
        incidentId = Number(this.sql(
          "INSERT INTO incidents (site, first_ms, last_ms, score, updated_at, max_score, alert_count) VALUES (?, ?, ?, 0, ?, 0, 0)",
        ).run(alert.site, tsMs, tsMs, now).lastInsertRowid);
      } else {
        incidentId = candidates[0].id;
        for (const { id } of candidates.slice(1)) {
          this.mergeIncident(id, incidentId);
          merged.push(id);
        }
      }

      this.sql(
        `INSERT INTO alerts (id, site, gateway, ts, ts_ms, model, score, src_ip, dst_ip, incident_id, received_at, body)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(alert.id, alert.site, alert.gateway, alert.ts, tsMs, alert.model, alert.score,
        alert.src.ip, alert.dst.ip, incidentId, now, JSON.stringify(alert));
      const addHost = this.sql("INSERT OR IGNORE INTO incident_hosts (incident_id, ip) VALUES (?, ?)");
      for (const host of hosts) addHost.run(incidentId, host);
      this.sql("INSERT OR IGNORE INTO incident_models (incident_id, model) VALUES (?, ?)").run(incidentId, alert.model);
      const addTechnique = this.sql("INSERT OR IGNORE INTO incident_techniques (incident_id, technique) VALUES (?, ?)");
      for (const technique of alert.mitre) addTechnique.run(incidentId, technique);
      this.sql(
        `UPDATE incidents SET first_ms = MIN(first_ms, ?), last_ms = MAX(last_ms, ?), max_score = MAX(max_score, ?),
           alert_count = alert_count + 1 WHERE id = ?`,
      ).run(tsMs, tsMs, alert.score, incidentId);
      this.refreshScore(incidentId, now);
      return { stored: true, incidentId, mergedIncidentIds: merged };
    })();
  }

  // Moves the alerts, hosts and aggregates of incident `from` into `into`.
  private mergeIncident(from: number, into: number): void {
    this.sql("UPDATE alerts SET incident_id = ? WHERE incident_id = ?").run(into, from);
    for (const [table, column] of INCIDENT_SET_TABLES) {
      this.sql(`INSERT OR IGNORE INTO ${table} (incident_id, ${column}) SELECT ?, ${column} FROM ${table} WHERE incident_id = ?`).run(into, from);
      this.sql(`DELETE FROM ${table} WHERE incident_id = ?`).run(from);
    }
    this.sql(
      `UPDATE incidents SET
         first_ms = MIN(first_ms, (SELECT first_ms FROM incidents WHERE id = @from)),
         last_ms = MAX(last_ms, (SELECT last_ms FROM incidents WHERE id = @from)),
         max_score = MAX(max_score, (SELECT max_score FROM incidents WHERE id = @from)),
         alert_count = alert_count + (SELECT alert_count FROM incidents WHERE id = @from)
       WHERE id = @into`,
    ).run({ from, into });
    this.sql("DELETE FROM incidents WHERE id = ?").run(from);
  }

  // Recomputes an incident's score from its aggregates.
  private refreshScore(id: number, now: string): void {
    const row = this.sql(
      `SELECT max_score AS maxScore,
         (SELECT COUNT(*) FROM incident_models WHERE incident_id = @id) AS models,
         (SELECT COUNT(*) FROM incident_techniques WHERE incident_id = @id) AS techniques
       FROM incidents WHERE id = @id`,
    ).get({ id }) as ScoreInputs;
    this.sql("UPDATE incidents SET score = ?, updated_at = ? WHERE id = ?").run(scoreIncident(row).score, now, id);
  }

  // Stores a forwarded record; an identical record from the same gateway
  // (a resend, or the same capture replayed) is ignored. Returns whether it was new.
  insertRecord(site: string, gateway: string, record: RecordJson): boolean {
    const body = canonicalJson(record);
    const key = createHash("sha256").update(`${site}\n${gateway}\n${body}`).digest("hex");
    const result = this.sql(
      `INSERT OR IGNORE INTO records (key, site, gateway, type, ts, ts_ms, src_ip, dst_ip, body)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(key, site, gateway, record.type, record.ts, Date.parse(record.ts), record.src.ip, record.dst.ip, body);
    return result.changes === 1;
  }

  incident(id: number): Incident | undefined {
    const row = this.sql("SELECT id, site, first_ms, last_ms, score, max_score, alert_count FROM incidents WHERE id = ?").get(id) as
      { id: number; site: string; first_ms: number; last_ms: number; score: number; max_score: number; alert_count: number } | undefined;
    if (!row) return undefined;
    const column = (sql: string) => (this.sql(sql).pluck().all(id) as string[]);
    return {
      id: row.id, site: row.site, firstMs: row.first_ms, lastMs: row.last_ms, score: row.score,
      hosts: column("SELECT ip FROM incident_hosts WHERE incident_id = ? ORDER BY ip"),
      maxAlertScore: row.max_score,
      alertCount: row.alert_count,
      models: column("SELECT model FROM incident_models WHERE incident_id = ? ORDER BY model"),
      techniques: column("SELECT technique FROM incident_techniques WHERE incident_id = ? ORDER BY technique"),
    };
  }

  // All incidents, highest score first.
  incidents(): Incident[] {
    const ids = this.sql("SELECT id FROM incidents ORDER BY score DESC, first_ms").all() as { id: number }[];
    return ids.map(({ id }) => this.incident(id)!);
  }

  // The alerts of an incident in packet-time order, the first `limit` only
  // when given.
  alertsOfIncident(id: number, limit = -1): Alert[] {
    return (this.sql("SELECT body FROM alerts WHERE incident_id = ? ORDER BY ts_ms, id LIMIT ?").all(id, limit) as { body: string }[])
      .map((row) => JSON.parse(row.body) as Alert);
  }

  // Per model of an incident: alert count, highest score and earliest alert,
  // in the order the models first fired.
  modelSummaries(id: number): ModelSummary[] {
    const rows = this.sql(
      `SELECT model, COUNT(*) AS alerts, MAX(score) AS maxScore, MIN(ts_ms) AS firstMs,
         (SELECT body FROM alerts b WHERE b.incident_id = @id AND b.model = a.model ORDER BY ts_ms, id LIMIT 1) AS body
       FROM alerts a WHERE incident_id = @id GROUP BY model ORDER BY firstMs, model`,
    ).all({ id }) as { model: string; alerts: number; maxScore: number; body: string }[];
    return rows.map((row) => ({ model: row.model, alerts: row.alerts, maxScore: row.maxScore, first: JSON.parse(row.body) as Alert }));
  }

  // Distinct gateways that sent the incident's alerts.
  incidentGateways(id: number): string[] {
    return this.sql("SELECT DISTINCT gateway FROM alerts WHERE incident_id = ? ORDER BY gateway").pluck().all(id) as string[];
  }

  // Distinct record types of the incident's alerts (modbus, dcerpc, ...).
  incidentRecordTypes(id: number): string[] {
    return this.sql("SELECT DISTINCT json_extract(body, '$.record') FROM alerts WHERE incident_id = ? ORDER BY 1").pluck().all(id) as string[];
  }

  // Source hosts of the incident with the accounts their alerts name;
  // `account` is null for a source host with alerts that name none.
  incidentAccounts(id: number): { srcIp: string; account: string | null }[] {
    return this.sql(
      "SELECT DISTINCT src_ip AS srcIp, json_extract(body, '$.account') AS account FROM alerts WHERE incident_id = ? ORDER BY src_ip, account",
    ).all(id) as { srcIp: string; account: string | null }[];
  }

  // Distinct unordered host pairs of the incident's alerts, each sorted.
  incidentHostPairs(id: number): [string, string][] {
    return (this.sql(
      "SELECT DISTINCT MIN(src_ip, dst_ip) AS a, MAX(src_ip, dst_ip) AS b FROM alerts WHERE incident_id = ? ORDER BY a, b",
    ).all(id) as { a: string; b: string }[]).map((row) => [row.a, row.b]);
  }

  countAlerts(): number {
    return (this.db.prepare("SELECT COUNT(*) AS n FROM alerts").get() as { n: number }).n;
  }

  countRecords(): number {
    return (this.db.prepare("SELECT COUNT(*) AS n FROM records").get() as { n: number }).n;
  }

  // Records of one type between any two of `hosts` within [fromMs, toMs].
  recordsBetween(site: string, hosts: string[], type: string, fromMs: number, toMs: number): RecordJson[] {
    if (hosts.length === 0) return [];
    const list = hosts.map(() => "?").join(",");
    return (this.db.prepare(
      `SELECT body FROM records WHERE site = ? AND type = ? AND src_ip IN (${list}) AND dst_ip IN (${list})
         AND ts_ms BETWEEN ? AND ? ORDER BY ts_ms`,
    ).all(site, type, ...hosts, ...hosts, fromMs, toMs) as { body: string }[]).map((row) => JSON.parse(row.body) as RecordJson);
  }

  // Counts alerts, records and days stored between two hosts (either
  // direction) before `beforeMs`.
  history(site: string, hostA: string, hostB: string, beforeMs: number): HostPairHistory {
    const pair = "site = ? AND ((src_ip = ? AND dst_ip = ?) OR (src_ip = ? AND dst_ip = ?)) AND ts_ms < ?";
    const args = [site, hostA, hostB, hostB, hostA, beforeMs];
    const alerts = this.db.prepare(`SELECT COUNT(*) AS n, MIN(ts) AS first FROM alerts WHERE ${pair}`).get(...args) as { n: number; first: string | null };
    const records = this.db.prepare(`SELECT COUNT(*) AS n, MIN(ts) AS first FROM records WHERE ${pair}`).get(...args) as { n: number; first: string | null };
    const days = this.db.prepare(
      `SELECT COUNT(DISTINCT day) AS n FROM (
         SELECT substr(ts, 1, 10) AS day FROM alerts WHERE ${pair}
         UNION SELECT substr(ts, 1, 10) AS day FROM records WHERE ${pair})`,
    ).get(...args, ...args) as { n: number };
    const firsts = [alerts.first, records.first].filter((t): t is string => t !== null).sort();
    const history: HostPairHistory = { hostA, hostB, alerts: alerts.n, records: records.n, days: days.n };
    if (firsts.length > 0) history.firstTs = firsts[0];
    return history;
  }
}

// The per-incident set tables and the column each one keeps.
const INCIDENT_SET_TABLES: Array<[string, string]> = [
  ["incident_hosts", "ip"], ["incident_models", "model"], ["incident_techniques", "technique"],
];

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
    mkdirSync(path, { recursive: true });
  } catch (error) {
    const cause = error as NodeJS.ErrnoException;
    throw new StoreError(`cannot create ${what}, ${path}: ${cause.code ?? cause.message}; ${fix}`, "STORE_FOLDER");
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
