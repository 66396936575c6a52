// Correlator ingest: alerts per second into SQLite, straight into the store
// (Store.insertAlert in this process) and end to end (published by the
// agent's publisher through its outbox to Mosquitto, validated and stored by
// `fieldsense correlator` in its own process).
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
import { startCorrelator, startMosquitto } from "./services.js";
import type { Tool } from "./tools.js";

const SITE = "bench";
const GATEWAY = "ingest";
const STORE_TIMEOUT_MS = 120_000;

export interface IngestResult {
  distinctModelAlerts: number;
  asRaised: { alerts: number; storeAlertsPerSecond: number; endToEndAlertsPerSecond: number | null; endToEndStored: number };
  oneIncidentEach: { alerts: number; storeAlertsPerSecond: number };
  storeCommand: string;
  endToEndCommand: string;
  postgres: string;
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

async function storeRate(alerts: Alert[]): Promise<number> {
  const { openStore } = await import("../correlator/src/store.js");
  const dir = mkdtempSync(join(tmpdir(), "fieldsense-bench-ingest-"));
  try {
    const store = await openStore(join(dir, "store.db"));
    const started = performance.now();
    for (const alert of alerts) await store.insertAlert(alert);
    const seconds = (performance.now() - started) / 1000;
    await store.close();
    return alerts.length / seconds;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Publishes the alerts to a fresh broker and correlator and returns the rate
// from the first publish until the store contains them all.
async function endToEndRate(alerts: Alert[], mosquitto: Tool, repoRoot: string): Promise<{ rate: number | null; stored: number }> {
  const broker = await startMosquitto(mosquitto);
  const outboxDir = mkdtempSync(join(tmpdir(), "fieldsense-bench-outbox-"));
  try {
    const correlator = await startCorrelator(repoRoot, broker.url);
    try {
      const { Publisher } = await import("../agent/src/publish/publisher.js");
      const publisher = await Publisher.start({ url: broker.url, site: SITE, gateway: GATEWAY, outboxDir, metricsIntervalMs: 0 });
      await publisher.whenConnected();
      const db = new Database(correlator.dbPath, { readonly: true, fileMustExist: true });
      try {
        const count = () => (db.prepare("SELECT COUNT(*) AS n FROM alerts").get() as { n: number }).n;
        const started = performance.now();
        for (const alert of alerts) {
          if (!publisher.publish(alert)) throw new Error(`the outbox rejected alert ${alert.id} as full; raise outboxMaxBytes for ${alerts.length} alerts`);
        }
        const deadline = Date.now() + STORE_TIMEOUT_MS;
        let stored = count();
        while (stored < alerts.length && Date.now() < deadline) {
          await new Promise((done) => setTimeout(done, 20));
          stored = count();
        }
        const seconds = (performance.now() - started) / 1000;
        return { rate: stored === alerts.length ? alerts.length / seconds : null, stored };
      } finally {
        db.close();
        await publisher.close();
      }
    } finally {
      await correlator.stop();
    }
  } finally {
    await broker.stop();
    rmSync(outboxDir, { recursive: true, force: true });
  }
}

export async function measureIngest(options: { file: CorpusFile; mosquitto?: Tool; alerts: number; repoRoot: string }): Promise<IngestResult> {
  if (!options.mosquitto) throw new Error("mosquitto is not installed; install Debian package mosquitto");
  const base = await collectAlerts(options.file);
  const asRaised = base.slice(0, options.alerts).map((alert) => ({ ...alert, site: SITE, gateway: GATEWAY }));
  const isolated = Array.from({ length: options.alerts }, (_, i) => isolateAlert(base[i % base.length], i));
  const asRaisedStore = await storeRate(asRaised);
  const isolatedStore = await storeRate(isolated);
  const endToEnd = await endToEndRate(asRaised, options.mosquitto, options.repoRoot);
  return {
    distinctModelAlerts: base.length,
    asRaised: { alerts: asRaised.length, storeAlertsPerSecond: asRaisedStore, endToEndAlertsPerSecond: endToEnd.rate, endToEndStored: endToEnd.stored },
    oneIncidentEach: { alerts: isolated.length, storeAlertsPerSecond: isolatedStore },
    storeCommand: "Store.insertAlert in-process (correlator/src/store.ts), SQLite WAL, synchronous NORMAL",
    endToEndCommand: "Publisher (outbox journal, QoS 1, 1000 in flight) -> mosquitto on 127.0.0.1 -> node bin/fieldsense.js correlator --db DB",
    postgres: "not measured: the correlator store supports SQLite only (correlator/src/store.ts has no PostgreSQL backend yet)",
  };
}
