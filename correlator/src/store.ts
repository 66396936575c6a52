// The correlator's SQLite store (better-sqlite3, WAL): alerts keyed by their
// id, forwarded protocol records, and incidents with the hosts they touch.
import { createHash } from "node:crypto";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import type { Alert } from "../../agent/src/publish/alert.js";
import { canonicalJson } from "../../agent/src/publish/alert.js";
import type { RecordJson } from "../../agent/src/publish/record.js";

export const STORE_SCHEMA_VERSION = 1;

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
  updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS incident_hosts (
  incident_id INTEGER NOT NULL,
  ip TEXT NOT NULL,
  PRIMARY KEY (incident_id, ip)
);
CREATE INDEX IF NOT EXISTS incident_hosts_by_ip ON incident_hosts (ip);
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

  constructor(readonly path: string, readonly windowMs = DEFAULT_WINDOW_MS) {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = NORMAL");
    this.db.exec(SCHEMA);
    this.checkVersion();
  }

  private checkVersion(): void {
    const row = this.db.prepare("SELECT version FROM schema_version").get() as { version: number } | undefined;
    if (!row) {
      this.db.prepare("INSERT INTO schema_version (version) VALUES (?)").run(STORE_SCHEMA_VERSION);
      return;
    }
    if (row.version !== STORE_SCHEMA_VERSION) {
      this.db.close();
      throw new Error(`store ${this.path} has schema version ${row.version}, this correlator reads version ${STORE_SCHEMA_VERSION}; use another --db file`);
    }
  }

  close(): void {
    this.db.close();
  }

  hasAlert(id: string): boolean {
    return this.db.prepare("SELECT 1 FROM alerts WHERE id = ?").get(id) !== undefined;
  }

  // Stores an alert unless its id is known, and attaches it to an incident.
  // That is the incident of the same site that shares a host with it within
  // the window, or a new one if none does. When several match, the oldest
  // absorbs the others.
  insertAlert(alert: Alert, receivedAt = new Date()): AlertInsert {
    return this.db.transaction((): AlertInsert => {
      if (this.hasAlert(alert.id)) return { stored: false, reason: "duplicate" };
      const tsMs = Date.parse(alert.ts);
      const hosts = [...new Set([alert.src.ip, alert.dst.ip])];
      const candidates = this.db.prepare(
        `SELECT DISTINCT i.id FROM incidents i JOIN incident_hosts h ON h.incident_id = i.id
         WHERE i.site = ? AND h.ip IN (${hosts.map(() => "?").join(",")})
           AND i.first_ms - ? <= ? AND i.last_ms + ? >= ?
         ORDER BY i.id`,
      ).all(alert.site, ...hosts, this.windowMs, tsMs, this.windowMs, tsMs) as { id: number }[];

      let incidentId: number;
      const merged: number[] = [];
      if (candidates.length === 0) {
        incidentId = Number(this.db.prepare(
          "INSERT INTO incidents (site, first_ms, last_ms, score, updated_at) VALUES (?, ?, ?, 0, ?)",
        ).run(alert.site, tsMs, tsMs, receivedAt.toISOString()).lastInsertRowid);
      } else {
        incidentId = candidates[0].id;
        for (const { id } of candidates.slice(1)) {
          this.mergeIncident(id, incidentId);
          merged.push(id);
        }
      }

      this.db.prepare(
        `INSERT INTO alerts (id, site, gateway, ts, ts_ms, model, score, src_ip, dst_ip, incident_id, received_at, body)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(alert.id, alert.site, alert.gateway, alert.ts, tsMs, alert.model, alert.score,
        alert.src.ip, alert.dst.ip, incidentId, receivedAt.toISOString(), JSON.stringify(alert));
      const addHost = this.db.prepare("INSERT OR IGNORE INTO incident_hosts (incident_id, ip) VALUES (?, ?)");
      for (const host of hosts) addHost.run(incidentId, host);
      this.refreshIncident(incidentId, receivedAt);
      return { stored: true, incidentId, mergedIncidentIds: merged };
    })();
  }

  private mergeIncident(from: number, into: number): void {
    this.db.prepare("UPDATE alerts SET incident_id = ? WHERE incident_id = ?").run(into, from);
    this.db.prepare("INSERT OR IGNORE INTO incident_hosts (incident_id, ip) SELECT ?, ip FROM incident_hosts WHERE incident_id = ?").run(into, from);
    this.db.prepare("DELETE FROM incident_hosts WHERE incident_id = ?").run(from);
    this.db.prepare("DELETE FROM incidents WHERE id = ?").run(from);
  }

  // Recomputes an incident's time span and score from its alerts.
  private refreshIncident(id: number, now: Date): void {
    const span = this.db.prepare("SELECT MIN(ts_ms) AS first, MAX(ts_ms) AS last FROM alerts WHERE incident_id = ?")
      .get(id) as { first: number; last: number };
    const alerts = this.alertsOfIncident(id);
    this.db.prepare("UPDATE incidents SET first_ms = ?, last_ms = ?, score = ?, updated_at = ? WHERE id = ?")
      .run(span.first, span.last, incidentScore(alerts), now.toISOString(), id);
  }

  // Stores a forwarded record; an identical record from the same gateway
  // (a resend, or the same capture replayed) is ignored. Returns whether it was new.
  insertRecord(site: string, gateway: string, record: RecordJson): boolean {
    const body = canonicalJson(record);
    const key = createHash("sha256").update(`${site}\n${gateway}\n${body}`).digest("hex");
    const result = this.db.prepare(
      `INSERT OR IGNORE INTO records (key, site, gateway, type, ts, ts_ms, src_ip, dst_ip, body)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(key, site, gateway, record.type, record.ts, Date.parse(record.ts), record.src.ip, record.dst.ip, body);
    return result.changes === 1;
  }

  incident(id: number): Incident | undefined {
    const row = this.db.prepare("SELECT id, site, first_ms, last_ms, score FROM incidents WHERE id = ?").get(id) as
      { id: number; site: string; first_ms: number; last_ms: number; score: number } | undefined;
    if (!row) return undefined;
    const hosts = (this.db.prepare("SELECT ip FROM incident_hosts WHERE incident_id = ? ORDER BY ip").all(id) as { ip: string }[])
      .map((h) => h.ip);
    return { id: row.id, site: row.site, firstMs: row.first_ms, lastMs: row.last_ms, score: row.score, hosts };
  }

  // All incidents, highest score first.
  incidents(): Incident[] {
    const ids = this.db.prepare("SELECT id FROM incidents ORDER BY score DESC, first_ms").all() as { id: number }[];
    return ids.map(({ id }) => this.incident(id)!);
  }

  alertsOfIncident(id: number): Alert[] {
    return (this.db.prepare("SELECT body FROM alerts WHERE incident_id = ? ORDER BY ts_ms, id").all(id) as { body: string }[])
      .map((row) => JSON.parse(row.body) as Alert);
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

export function incidentScore(alerts: Alert[]): number {
  if (alerts.length === 0) return 0;
  const top = Math.max(...alerts.map((a) => a.score));
  const models = new Set(alerts.map((a) => a.model)).size;
  const techniques = new Set(alerts.flatMap((a) => a.mitre)).size;
  const bonus = Math.min(SCORE_BONUS_MAX, SCORE_BONUS_PER_EXTRA * (Math.max(0, models - 1) + Math.max(0, techniques - 1)));
  return Math.min(100, top + bonus);
}
