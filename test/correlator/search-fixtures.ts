// Fills a correlator store for the search and console tests: real captures
// replayed through the core and the models, the way a gateway would forward
// them, plus crafted alerts and records for the corners of the language.
import { replayFiles } from "../../agent/src/pipeline.js";
import { AlertIdentity, type Alert } from "../../agent/src/publish/alert.js";
import { isForwardedRecord, type RecordJson } from "../../agent/src/publish/record.js";
import pg from "pg";
import type { Store } from "../../correlator/src/store.js";
import { alertRecord, modbusAlertRecord, PLC, sampleAlert, smbCopyRecords } from "../publish/samples.js";

// Replays captures and stores every alert and the forwarded selection of
// records under site/gateway. Returns the alerts stored.
export async function replayIntoStore(store: Store, files: string[], site = "plant-a", gateway = "gw-it"): Promise<Alert[]> {
  const alerts: Alert[] = [];
  await replayFiles(files, {
    site, gateway, keepRecords: true,
    onAlert: async (alert) => {
      alerts.push(alert);
      await store.insertAlert(alert);
    },
    onRecord: async (record: RecordJson) => {
      if (isForwardedRecord(record)) await store.insertRecord(site, gateway, record);
    },
  });
  return alerts;
}

// The markup an attacker could place in a service name or a file path.
export const SCRIPT_MARKUP = `<script>document.title="pwned"</script><img src=x onerror=alert(1)>`;

// Crafted rows on site "lab" in November 2026: an alert whose evidence
// carries markup, a Modbus write, a low-scored alert, an SMB copy and
// records whose values contain LIKE's own wildcards.
export async function insertCraftedRows(store: Store): Promise<Alert[]> {
  const identity = new AlertIdentity();
  const t0 = Date.parse("2026-11-02T10:00:00Z") / 1000;
  const markup = sampleAlert("lab", "gw-lab", alertRecord({
    tsSec: t0, src: "10.30.0.5", dst: "10.30.0.9",
    fields: {
      model_index: 0, score: 80, learning: false, seen_before: false, first_seen: 0,
      interface: "svcctl", opnum: 12, operation: "CreateServiceW", named_pipe: "svcctl", pdu_type: "request", call_id: 3,
      service_name: SCRIPT_MARKUP, binary_path: "C:\\Temp\\50%_off.exe", account: "LAB\\eve",
    },
  }), identity);
  const modbus = sampleAlert("lab", "gw-lab", { ...modbusAlertRecord(t0 + 60), src: { ip: "10.30.0.9", port: 50200 }, dst: { ip: PLC, port: 502 } }, identity);
  const low = { ...sampleAlert("lab", "gw-lab", alertRecord({ tsSec: t0 - 2 * 86_400, src: "10.30.0.7", dst: "10.30.0.8" }), identity), score: 35 };
  const alerts = [markup, modbus, low];
  for (const alert of alerts) await store.insertAlert(alert);
  for (const record of smbCopyRecords("2026-11-02T09:59:00")) {
    await store.insertRecord("lab", "gw-lab", { ...record, src: { ip: "10.30.0.5", port: 50112 }, dst: { ip: "10.30.0.9", port: 445 } });
  }
  await store.insertRecord("lab", "gw-lab", {
    type: "smb", ts: "2026-11-01T23:59:59.500000Z", src: { ip: "10.30.0.5", port: 50113 }, dst: { ip: "10.30.0.9", port: 445 },
    flow_id: 9, server_to_client: false, command: "CREATE", path: "report_100%.txt", share: "\\\\10.30.0.9\\C$", message_id: 8,
  });
  // A scheduled task file read back over SMB, as an analyst collecting it would.
  await store.insertRecord("lab", "gw-lab", {
    type: "smb", ts: "2026-11-02T10:05:00.000000Z", src: { ip: "10.30.0.5", port: 50114 }, dst: { ip: "10.30.0.9", port: 445 },
    flow_id: 10, server_to_client: false, command: "READ", path: "Windows\\Tasks\\At2.job", share: "\\\\10.30.0.9\\C$", message_id: 12, offset: 0, length: 872,
  });
  return alerts;
}

// The machine's PostgreSQL: trust auth on loopback.
export const POSTGRES = { host: "127.0.0.1", port: 5432, user: "postgres" };

export interface PostgresCopy {
  client: pg.Client;
  url: string;
  drop(): Promise<void>;
}

// Creates a database named `name` on the machine's PostgreSQL with the
// store's alerts and records tables and copies the SQLite store's rows into
// it. Returns undefined after printing why the calling test is skipped.
export async function copyStoreToPostgres(store: Store, name: string): Promise<PostgresCopy | undefined> {
  const admin = new pg.Client({ ...POSTGRES, database: "postgres", connectionTimeoutMillis: 3000 });
  try {
    await admin.connect();
  } catch (error) {
    console.log(`  skipped: PostgreSQL at ${POSTGRES.host}:${POSTGRES.port} not reachable (${(error as Error).message})`);
    return undefined;
  }
  await admin.query(`DROP DATABASE IF EXISTS ${name}`);
  await admin.query(`CREATE DATABASE ${name}`);
  const client = new pg.Client({ ...POSTGRES, database: name });
  const drop = async () => {
    await client.end().catch(() => undefined);
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  };
  try {
    await client.connect();
    await client.query(`CREATE TABLE alerts (id TEXT PRIMARY KEY, site TEXT NOT NULL, gateway TEXT NOT NULL, ts TEXT NOT NULL, ts_ms BIGINT NOT NULL,
      model TEXT NOT NULL, score INTEGER NOT NULL, src_ip TEXT NOT NULL, dst_ip TEXT NOT NULL, incident_id INTEGER, received_at TEXT NOT NULL, body TEXT NOT NULL)`);
    await client.query(`CREATE TABLE records (key TEXT PRIMARY KEY, site TEXT NOT NULL, gateway TEXT NOT NULL, type TEXT NOT NULL, ts TEXT NOT NULL,
      ts_ms BIGINT NOT NULL, src_ip TEXT NOT NULL, dst_ip TEXT NOT NULL, body TEXT NOT NULL)`);
    const alerts = store.db.prepare("SELECT id, site, gateway, ts, ts_ms, model, score, src_ip, dst_ip, incident_id, received_at, body FROM alerts").raw().all() as unknown[][];
    for (const row of alerts) await client.query("INSERT INTO alerts VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)", row);
    const records = store.db.prepare("SELECT key, site, gateway, type, ts, ts_ms, src_ip, dst_ip, body FROM records").raw().all() as unknown[][];
    for (const row of records) await client.query("INSERT INTO records VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)", row);
  } catch (error) {
    await drop();
    throw error;
  }
  return { client, url: `postgres://${POSTGRES.user}@${POSTGRES.host}:${POSTGRES.port}/${name}`, drop };
}
