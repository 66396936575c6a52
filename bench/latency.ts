// Packet-to-alert latency through a real Mosquitto broker on loopback.
//
// The gateway side runs in this process: the core with the models, alerts
// built as the agent builds them, and the agent's publisher (durable outbox
// journal with its default fsync policy, then MQTT QoS 1). The
// plant mix is fed at a steady packet rate in ticks of TICK_MS. Packet i is
// due at start + i / rate. Each tick hands the packets that fell due to the
// core as one batch, so the latency includes up to one tick of batching.
// A subscriber in this process timestamps each alert as it arrives from the
// broker (packet to published alert). `fieldsense correlator` runs as its own
// process and stamps `received_at` when it stores an alert into SQLite
// (packet to stored incident, at millisecond resolution).
//
// A warm-up runs before the measured feed. It feeds the first warmupSeconds
// of the same file at the same rate through a throwaway core and a second
// publisher under another site name. V8 then has compiled the alert path, as
// on a gateway that has been running for a while. The warm-up's alerts are
// not counted, and the slowest of them is reported as the cold-start latency.
import Database from "better-sqlite3";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "mqtt";
import type { CorpusFile } from "./corpus.js";
import { summarise, type Summary } from "./measure.js";
import { loadBatches } from "./pcap.js";
import { startCorrelator, startMosquitto } from "./services.js";
import type { Tool } from "./tools.js";

const TICK_MS = 5;
const SITE = "bench";
const WARMUP_SITE = "bench-warmup";
const GATEWAY = "latency";
const DRAIN_TIMEOUT_MS = 15_000;

export interface LatencyResult {
  packetsPerSecond: number;
  tickMs: number;
  packetsSent: number;
  alertsPublished: number;
  alertsReceived: number;
  alertsStored: number;
  toPublishedMs: Summary & { p99: number } | null;
  toStoredMs: Summary & { p99: number } | null;
  lateTicks: number;
  warmupSeconds: number;
  warmupAlerts: number;
  // Slowest warm-up alert from packet to subscriber (ms), or null without warm-up alerts.
  // It shows the cost of a cold start.
  coldStartMaxMs: number | null;
  brokerCommand: string;
  correlatorCommand: string;
}

function percentile(values: number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)];
}

function describe(values: number[]): (Summary & { p99: number }) | null {
  return values.length === 0 ? null : { ...summarise(values), p99: percentile(values, 0.99) };
}

// Index of the first element >= value in a non-decreasing array.
function lowerBound(values: number[], value: number): number {
  let low = 0;
  let high = values.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (values[middle] < value) low = middle + 1;
    else high = middle;
  }
  return low;
}

export async function measureLatency(options: {
  file: CorpusFile; mosquitto?: Tool; packetsPerSecond: number; seconds: number; warmupSeconds: number; repoRoot: string;
}): Promise<LatencyResult> {
  if (!options.mosquitto) throw new Error("mosquitto is not installed; install Debian package mosquitto");
  const { Core } = await import("../agent/src/core/core.js");
  const { loadModelSet } = await import("../agent/src/core/models.js");
  const { AlertIdentity, buildAlert } = await import("../agent/src/publish/alert.js");
  const { topicFor } = await import("../agent/src/publish/mqtt.js");
  const { Publisher } = await import("../agent/src/publish/publisher.js");

  const packetsPerTick = Math.max(1, Math.round((options.packetsPerSecond * TICK_MS) / 1000));
  const times: number[] = [];
  const { batches } = loadBatches(options.file.path, { batchPackets: packetsPerTick, times });
  const tickCount = Math.min(batches.length, Math.ceil((options.seconds * 1000) / TICK_MS));
  const warmupTicks = Math.min(batches.length, Math.ceil((options.warmupSeconds * 1000) / TICK_MS));

  const broker = await startMosquitto(options.mosquitto);
  const outboxDir = mkdtempSync(join(tmpdir(), "fieldsense-bench-outbox-"));
  const cleanups: (() => Promise<void>)[] = [broker.stop, async () => rmSync(outboxDir, { recursive: true, force: true })];
  try {
    const correlator = await startCorrelator(options.repoRoot, broker.url);
    cleanups.unshift(correlator.stop);
    const modelSet = await loadModelSet();
    const startGateway = async (site: string) => {
      const core = await Core.load();
      modelSet.install(core);
      const publisher = await Publisher.start({ url: broker.url, site, gateway: GATEWAY, outboxDir: join(outboxDir, site), metricsIntervalMs: 0 });
      cleanups.unshift(async () => {
        await publisher.close();
      });
      await publisher.whenConnected();
      return { core, publisher, site, identity: new AlertIdentity() };
    };
    const warmup = await startGateway(WARMUP_SITE);
    const gateway = await startGateway(SITE);

    const subscriber = connect(broker.url, { clientId: `fieldsense-bench-latency-${process.pid}`, clean: true });
    cleanups.unshift(() => new Promise<void>((done) => subscriber.end(false, {}, () => done())));
    await new Promise<void>((done, fail) => {
      const topics = [topicFor(SITE, GATEWAY, "alerts"), topicFor(WARMUP_SITE, GATEWAY, "alerts")];
      subscriber.once("connect", () => subscriber.subscribe(topics, { qos: 1 }, (error) => (error ? fail(error) : done())));
      subscriber.once("error", fail);
    });

    // Wall time (performance.now) at which each alert arrived at the subscriber.
    const received = new Map<string, number>();
    subscriber.on("message", (_topic, payload) => {
      const arrived = performance.now();
      const id = (JSON.parse(payload.toString()) as { id: string }).id;
      received.set(id, arrived);
    });

    // Feeds `ticks` batches at the steady rate and returns how many ticks were late.
    // dueAt receives the wall time at which each alert's packet was due.
    const feed = async (target: typeof gateway, ticks: number, dueAt: Map<string, number>) => {
      let start = 0;
      const onRecord = (record: import("../agent/src/core/core.js").CoreRecord) => {
        if (record.type !== "alert") return;
        const index = record.fields.model_index;
        const model = typeof index === "number" ? modelSet.byIndex(index) : undefined;
        if (!model) return;
        const alert = buildAlert(record, model, { site: target.site, gateway: GATEWAY }, target.identity);
        const packetTime = record.tsSec * 1_000_000 + Math.floor(record.tsNsec / 1000);
        const packetIndex = Math.min(lowerBound(times, packetTime), times.length - 1);
        dueAt.set(alert.id, start + (packetIndex * 1000) / options.packetsPerSecond);
        if (!target.publisher.publish(alert)) notJournaled += 1;
      };
      let late = 0;
      start = performance.now();
      for (let tick = 0; tick < ticks; tick++) {
        // Batch `tick` contains the packets due during tick `tick`, handed over at the tick's end.
        const handOver = start + (tick + 1) * TICK_MS;
        const wait = handOver - performance.now();
        if (wait > 0) await new Promise((done) => setTimeout(done, wait));
        else if (wait < -TICK_MS) late += 1;
        target.core.process(batches[tick], onRecord);
      }
      await target.publisher.drain();
      return late;
    };
    const waitFor = async (ids: Map<string, number>, extra: () => boolean) => {
      const deadline = Date.now() + DRAIN_TIMEOUT_MS;
      while ((![...ids.keys()].every((id) => received.has(id)) || !extra()) && Date.now() < deadline) {
        await new Promise((done) => setTimeout(done, 100));
      }
    };

    let notJournaled = 0;
    const warmupDue = new Map<string, number>();
    await feed(warmup, warmupTicks, warmupDue);
    await waitFor(warmupDue, () => true);
    let coldStartMaxMs: number | null = null;
    for (const [id, due] of warmupDue) {
      const arrived = received.get(id);
      if (arrived !== undefined) coldStartMaxMs = Math.max(coldStartMaxMs ?? 0, arrived - due);
    }
    notJournaled = 0;

    const dueAt = new Map<string, number>();
    const lateTicks = await feed(gateway, tickCount, dueAt);
    const packetsSent = batches.slice(0, tickCount).reduce((n, b) => n + b.count, 0);

    const stored = () => {
      const db = new Database(correlator.dbPath, { readonly: true, fileMustExist: true });
      try {
        return db.prepare("SELECT id, received_at FROM alerts WHERE site = ?").all(SITE) as { id: string; received_at: string }[];
      } finally {
        db.close();
      }
    };
    let rows = stored();
    await waitFor(dueAt, () => (rows = stored()).length >= dueAt.size);

    const toPublished: number[] = [];
    for (const [id, arrived] of received) {
      const due = dueAt.get(id);
      if (due !== undefined) toPublished.push(arrived - due);
    }
    const toStored: number[] = [];
    for (const row of rows) {
      const due = dueAt.get(row.id);
      if (due !== undefined) toStored.push(Date.parse(row.received_at) - performance.timeOrigin - due);
    }
    return {
      packetsPerSecond: options.packetsPerSecond,
      tickMs: TICK_MS,
      packetsSent,
      alertsPublished: dueAt.size - notJournaled,
      alertsReceived: toPublished.length,
      alertsStored: toStored.length,
      toPublishedMs: describe(toPublished),
      toStoredMs: describe(toStored),
      lateTicks,
      warmupSeconds: options.warmupSeconds,
      warmupAlerts: warmupDue.size,
      coldStartMaxMs,
      brokerCommand: "mosquitto -c CONF (listener on a free 127.0.0.1 port, persistence false)",
      correlatorCommand: correlator.command.replace(broker.url, "mqtt://127.0.0.1:PORT"),
    };
  } finally {
    for (const cleanup of cleanups) await cleanup().catch(() => undefined);
  }
}
