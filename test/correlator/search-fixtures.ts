// Fills a correlator store for the search and console tests: real captures
// replayed through the core and the models, the way a gateway would forward
// them, plus crafted alerts and records for the corners of the language.
import { replayFiles } from "../../agent/src/pipeline.js";
import { AlertIdentity, type Alert } from "../../agent/src/publish/alert.js";
import { isForwardedRecord, type RecordJson } from "../../agent/src/publish/record.js";
import pg from "pg";
import { openStore, type Store } from "../../correlator/src/store.js";
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

// Tables of the store copied by copyStoreToPostgres, every one of schema
// version 3, so that the copy contains the same incidents as the original.
const STORE_TABLES = [
  "alerts", "records", "incidents", "incident_hosts", "incident_models", "incident_techniques", "incident_entities", "incident_tactics",
  "host_names", "device_facts",
];

// Creates a database named `name` on the machine's PostgreSQL, lets the
// store create its schema there (a read-only store only checks the schema
// version), and copies every row of the SQLite store's tables into it.
// Returns undefined after printing why the calling test is skipped.
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
  const url = `postgres://${POSTGRES.user}@${POSTGRES.host}:${POSTGRES.port}/${name}`;
  const client = new pg.Client({ ...POSTGRES, database: name });
  const drop = async () => {
    await client.end().catch(() => undefined);
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  };
  try {
    await (await openStore(url)).close();
    await client.connect();
    for (const table of STORE_TABLES) {
      const columns = (store.db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>).map((column) => column.name);
      const marks = columns.map((_, i) => `$${i + 1}`).join(", ");
      const insert = `INSERT INTO ${table} (${columns.join(", ")}) VALUES (${marks})`;
      for (const row of store.db.prepare(`SELECT ${columns.join(", ")} FROM ${table}`).raw().all() as unknown[][]) await client.query(insert, row);
    }
    // Incident ids were copied, so the sequence moves past them.
    await client.query("SELECT setval(pg_get_serial_sequence('incidents', 'id'), MAX(id)) FROM incidents HAVING MAX(id) IS NOT NULL");
  } catch (error) {
    await drop();
    throw error;
  }
  return { client, url, drop };
}
