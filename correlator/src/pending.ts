// Writes of one ingest transaction held back and sent as a few multi-row
// statements: on PostgreSQL every statement is a round trip to the server,
// and a burst of alerts would otherwise cost about ten per alert.
//
// The store never queries what is pending here. It keeps what it must know
// of its pending writes in IncidentIndex, EntryAlerts and OtCommandTimes
// (store.ts), updated along with them. It calls flush() before a statement
// that reads or moves their rows: a merge of incidents, and the rank at the
// end of a batch.
import { forEachChunk, insertRows, INCIDENT_SET_TABLES, type SqlRunner } from "./sql.js";

// Changes to an incident's aggregates. A null time or score leaves the
// stored one as it is.
interface IncidentDelta {
  firstMs: number | null;
  lastMs: number | null;
  maxScore: number | null;
  alerts: number;
  routine: number;
  pivotMs: number | null;
}

export const ALERT_COLUMNS =
  "id, site, gateway, ts, ts_ms, model, score, src_ip, dst_ip, incident_id, received_at, body, record, account, routine, it_entry, ot_command, received_ms";

export class PendingWrites {
  private alertRows: unknown[][] = [];
  // Table -> "incident id, value" -> row, so that each row is written once.
  private readonly sets = new Map<string, Map<string, [number, string]>>(INCIDENT_SET_TABLES.map(([table]) => [table, new Map()]));
  private readonly tactics = new Map<string, { incidentId: number; tactic: string; firstMs: number; lastMs: number }>();
  private readonly deltas = new Map<number, IncidentDelta>();

  // One row of the alerts table, its values in the order of ALERT_COLUMNS.
  addAlertRow(row: unknown[]): void {
    this.alertRows.push(row);
  }

  addToSet(table: string, incidentId: number, values: readonly string[]): void {
    const rows = this.sets.get(table)!;
    for (const value of values) rows.set(`${incidentId}\n${value}`, [incidentId, value]);
  }

  // Widens the incident's span of a tactic.
  addTacticSpan(incidentId: number, tactic: string, firstMs: number, lastMs: number): void {
    const key = `${incidentId}\n${tactic}`;
    const known = this.tactics.get(key);
    if (!known) this.tactics.set(key, { incidentId, tactic, firstMs, lastMs });
    else this.tactics.set(key, { incidentId, tactic, firstMs: Math.min(known.firstMs, firstMs), lastMs: Math.max(known.lastMs, lastMs) });
  }

  // Adds one alert at `tsMs` scored `score` to the incident's aggregates.
  addAlert(incidentId: number, tsMs: number, score: number, routine: boolean): void {
    const delta = this.delta(incidentId);
    delta.firstMs = delta.firstMs === null ? tsMs : Math.min(delta.firstMs, tsMs);
    delta.lastMs = delta.lastMs === null ? tsMs : Math.max(delta.lastMs, tsMs);
    delta.maxScore = delta.maxScore === null ? score : Math.max(delta.maxScore, score);
    delta.alerts += 1;
    delta.routine += routine ? 1 : 0;
  }

  // Marks a pivot at `tsMs` unless the incident has an earlier one.
  setPivot(incidentId: number, tsMs: number): void {
    const delta = this.delta(incidentId);
    delta.pivotMs = delta.pivotMs === null ? tsMs : Math.min(delta.pivotMs, tsMs);
  }

  private delta(incidentId: number): IncidentDelta {
    let delta = this.deltas.get(incidentId);
    if (!delta) {
      delta = { firstMs: null, lastMs: null, maxScore: null, alerts: 0, routine: 0, pivotMs: null };
      this.deltas.set(incidentId, delta);
    }
    return delta;
  }

  private async flushAlerts(tx: SqlRunner): Promise<void> {
    const rows = this.alertRows;
    this.alertRows = [];
    await insertRows(tx, `INSERT INTO alerts (${ALERT_COLUMNS})`, "", rows);
  }

  async flush(tx: SqlRunner): Promise<void> {
    await this.flushAlerts(tx);
    for (const [table, column] of INCIDENT_SET_TABLES) {
      const rows = this.sets.get(table)!;
      await insertRows(tx, `INSERT INTO ${table} (incident_id, ${column})`, "ON CONFLICT DO NOTHING", [...rows.values()]);
      rows.clear();
    }
    // Each (incident, tactic) appears once: PostgreSQL rejects an upsert
    // that updates one row twice.
    await insertRows(tx, "INSERT INTO incident_tactics (incident_id, tactic, first_ms, last_ms)",
      `ON CONFLICT (incident_id, tactic) DO UPDATE SET
         first_ms = CASE WHEN excluded.first_ms < incident_tactics.first_ms THEN excluded.first_ms ELSE incident_tactics.first_ms END,
         last_ms = CASE WHEN excluded.last_ms > incident_tactics.last_ms THEN excluded.last_ms ELSE incident_tactics.last_ms END`,
      [...this.tactics.values()].map((span) => [span.incidentId, span.tactic, span.firstMs, span.lastMs]));
    this.tactics.clear();
    const deltas = [...this.deltas];
    this.deltas.clear();
    // One UPDATE per chunk of incidents, from a table of values. The casts
    // give PostgreSQL the types of the parameters.
    await forEachChunk(deltas, async (chunk) => {
      const row = "(CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS INTEGER), CAST(? AS INTEGER), CAST(? AS INTEGER), CAST(? AS BIGINT))";
      await tx.run(
        `WITH delta (id, first_ms, last_ms, max_score, alerts, routine, pivot_ms) AS (VALUES ${chunk.map(() => row).join(", ")})
         UPDATE incidents SET
           first_ms = CASE WHEN delta.first_ms < incidents.first_ms THEN delta.first_ms ELSE incidents.first_ms END,
           last_ms = CASE WHEN delta.last_ms > incidents.last_ms THEN delta.last_ms ELSE incidents.last_ms END,
           max_score = CASE WHEN delta.max_score > incidents.max_score THEN delta.max_score ELSE incidents.max_score END,
           alert_count = incidents.alert_count + delta.alerts,
           routine_count = incidents.routine_count + delta.routine,
           pivot_ms = CASE WHEN delta.pivot_ms IS NOT NULL AND (incidents.pivot_ms IS NULL OR delta.pivot_ms < incidents.pivot_ms)
             THEN delta.pivot_ms ELSE incidents.pivot_ms END
         FROM delta WHERE incidents.id = delta.id`,
        chunk.flatMap(([id, d]) => [id, d.firstMs, d.lastMs, d.maxScore, d.alerts, d.routine, d.pivotMs]));
    });
  }
}
