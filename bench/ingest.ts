// Correlator ingest: alerts per second into SQLite and into PostgreSQL.
// "Store only" calls Store.insertAlerts in this process, in batches as the
// correlator hands them over. "End to end" publishes through the agent's
// publisher and its outbox to Mosquitto, and `fieldsense correlator`
// validates and stores the alerts in its own process.
//
// Two sets of alerts, both from the models on the plant mix:
// - as raised: the alerts in the order and with the hosts the models gave
//   them. Alerts that share a host join one incident, so incidents grow.
// - one incident each: copies with their own id and their own pair of hosts,
//   which measures the insert path without incident growth.
import Database from "better-sqlite3";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Alert } from "../agent/src/publish/alert.js";
import type { CorpusFile } from "./corpus.js";
import { createBenchDatabase, startCorrelator, startMosquitto, startPostgres, type PostgresServer } from "./services.js";
import type { Tool } from "./tools.js";

const SITE = "bench";
const GATEWAY = "ingest";
const STORE_TIMEOUT_MS = 120_000;

export interface BackendIngest {
  asRaised: { storeAlertsPerSecond: number; endToEndAlertsPerSecond: number | null; endToEndStored: number };
  oneIncidentEach: { storeAlertsPerSecond: number };
}

export interface IngestResult {
  distinctModelAlerts: number;
  asRaised: { alerts: number };
  oneIncidentEach: { alerts: number };
  // Alerts per Store.insertAlerts call in the store-only rows, the correlator's batch size.
  batchMessages: number;
  sqlite: BackendIngest;
  // The figures, or why PostgreSQL was not measured.
  postgres: ({ server: string } & BackendIngest) | { notMeasured: string };
  storeCommand: string;
  endToEndCommand: string;
}

// Gives alert `index` its own id and its own pair of hosts.
function isolateAlert(base: Alert, index: number): Alert {
  const id = createHash("sha256").update(`${base.id}/${index}`).digest("hex").slice(0, 32);
  const host = `${(index >>> 16) & 0xff}.${(index >>> 8) & 0xff}.${index & 0xff}`;
  return {
    ...base, id, site: SITE, gateway: GATEWAY,
    src: { ...base.src, ip: `10.${host}` },
    dst: { ...base.dst, ip: `11.${host}` },
  };
}

export async function collectAlerts(file: CorpusFile): Promise<Alert[]> {
  const { replayFiles } = await import("../agent/src/pipeline.js");
  const alerts: Alert[] = [];
  await replayFiles([file.path], { site: SITE, gateway: GATEWAY, onAlert: (alert) => void alerts.push(alert) });
  if (alerts.length === 0) throw new Error(`the models raised no alert on ${file.path}; the ingest benchmark needs alerts to store`);
  return alerts;
}

// A fresh store for one measurement and a count of its alerts read from a
// second connection, as a user of the database would see them.
interface BenchStore {
  target: string;
  countAlerts(): Promise<number>;
  remove(): Promise<void>;
}

function sqliteStore(): BenchStore {
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-bench-ingest-"));
  const target = join(dir, "store.db");
  return {
    target,
    countAlerts: async () => {
      const db = new Database(target, { readonly: true, fileMustExist: true });
      try {
        return (db.prepare("SELECT COUNT(*) AS n FROM alerts").get() as { n: number }).n;
      } finally {
        db.close();
      }
    },
    remove: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

async function postgresStore(server: PostgresServer): Promise<BenchStore> {
  const { default: pg } = await import("pg");
  const database = await createBenchDatabase(server, "ingest");
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  return {
    target: database.url,
    countAlerts: async () => {
      // The correlator creates the table at start, so before that there is none.
      const found = await client.query("SELECT to_regclass('alerts') IS NOT NULL AS found");
      if (!found.rows[0].found) return 0;
      return Number((await client.query("SELECT COUNT(*) AS n FROM alerts")).rows[0].n);
    },
    remove: async () => {
      await client.end().catch(() => undefined);
      await database.drop();
    },
  };
}

async function storeRate(alerts: Alert[], batchMessages: number, fresh: () => Promise<BenchStore>): Promise<number> {
  const { openStore } = await import("../correlator/src/store.js");
  const bench = await fresh();
  try {
    const store = await openStore(bench.target);
    try {
      const started = performance.now();
      for (let i = 0; i < alerts.length; i += batchMessages) await store.insertAlerts(alerts.slice(i, i + batchMessages));
      const seconds = (performance.now() - started) / 1000;
      const stored = await bench.countAlerts();
      if (stored !== alerts.length) throw new Error(`the store contains ${stored} of ${alerts.length} alerts after the insert`);
      return alerts.length / seconds;
    } finally {
      await store.close();
    }
  } finally {
    await bench.remove();
  }
}

// Publishes the alerts to a fresh broker and correlator and returns the rate
// from the first publish until the store contains them all.
async function endToEndRate(alerts: Alert[], mosquitto: Tool, repoRoot: string, fresh: () => Promise<BenchStore>): Promise<{ rate: number | null; stored: number }> {
  const broker = await startMosquitto(mosquitto);
  const outboxDir = mkdtempSync(join(tmpdir(), "fieldsense-bench-outbox-"));
  const bench = await fresh();
  try {
    const correlator = await startCorrelator(repoRoot, broker.url, bench.target);
    const count = bench.countAlerts;
    try {
      const { Publisher } = await import("../agent/src/publish/publisher.js");
      const publisher = await Publisher.start({ url: broker.url, site: SITE, gateway: GATEWAY, outboxDir, metricsIntervalMs: 0 });
      await publisher.whenConnected();
      try {
        const started = performance.now();
        for (const alert of alerts) {
          if (!publisher.publish(alert)) throw new Error(`the outbox rejected alert ${alert.id} as full; raise outboxMaxBytes for ${alerts.length} alerts`);
        }
        const deadline = Date.now() + STORE_TIMEOUT_MS;
        let stored = await count();
        while (stored < alerts.length && Date.now() < deadline) {
          await new Promise((done) => setTimeout(done, 20));
          stored = await count();
        }
        const seconds = (performance.now() - started) / 1000;
        return { rate: stored === alerts.length ? alerts.length / seconds : null, stored };
      } finally {
        await publisher.close();
      }
    } finally {
      await correlator.stop();
    }
  } finally {
    await bench.remove();
    await broker.stop();
    rmSync(outboxDir, { recursive: true, force: true });
  }
}

async function measureBackend(asRaised: Alert[], isolated: Alert[], batchMessages: number, mosquitto: Tool, repoRoot: string,
  fresh: () => Promise<BenchStore>): Promise<BackendIngest> {
  const asRaisedStore = await storeRate(asRaised, batchMessages, fresh);
  const isolatedStore = await storeRate(isolated, batchMessages, fresh);
  const endToEnd = await endToEndRate(asRaised, mosquitto, repoRoot, fresh);
  return {
    asRaised: { storeAlertsPerSecond: asRaisedStore, endToEndAlertsPerSecond: endToEnd.rate, endToEndStored: endToEnd.stored },
    oneIncidentEach: { storeAlertsPerSecond: isolatedStore },
  };
}

export async function measureIngest(options: { file: CorpusFile; mosquitto?: Tool; alerts: number; repoRoot: string }): Promise<IngestResult> {
  if (!options.mosquitto) throw new Error("mosquitto is not installed; install Debian package mosquitto");
  const { DEFAULT_BATCH_MESSAGES } = await import("../correlator/src/service.js");
  const base = await collectAlerts(options.file);
  const asRaised = base.slice(0, options.alerts).map((alert) => ({ ...alert, site: SITE, gateway: GATEWAY }));
  const isolated = Array.from({ length: options.alerts }, (_, i) => isolateAlert(base[i % base.length], i));
  const sqlite = await measureBackend(asRaised, isolated, DEFAULT_BATCH_MESSAGES, options.mosquitto, options.repoRoot, async () => sqliteStore());

  let postgres: IngestResult["postgres"];
  let server: PostgresServer | undefined;
  try {
    server = await startPostgres();
  } catch (error) {
    postgres = { notMeasured: (error as Error).message };
  }
  if (server) {
    try {
      const measured = await measureBackend(asRaised, isolated, DEFAULT_BATCH_MESSAGES, options.mosquitto, options.repoRoot, () => postgresStore(server!));
      postgres = { server: server.description, ...measured };
    } finally {
      await server.stop();
    }
  }
  return {
    distinctModelAlerts: base.length,
    asRaised: { alerts: asRaised.length },
    oneIncidentEach: { alerts: isolated.length },
    batchMessages: DEFAULT_BATCH_MESSAGES,
    sqlite,
    postgres: postgres!,
    storeCommand: `Store.insertAlerts in-process (correlator/src/store.ts), ${DEFAULT_BATCH_MESSAGES} alerts per call`,
    endToEndCommand: "Publisher (outbox journal, QoS 1, 1000 in flight) -> mosquitto on 127.0.0.1 -> node bin/fieldsense.js correlator --db DB",
  };
}
