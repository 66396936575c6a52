// The running agent: live capture -> core -> alerts and records -> publisher,
// local stores for the CLI, the control socket, baseline snapshots, reload
// and shutdown.
//
// Start order matters: everything that needs root (the capture handle, the
// control socket under /run, the data directory) is opened first, then the
// process switches to the configured user, and only then is a packet parsed.
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { createFolders } from "../config/folders.js";
import { LiveCapture } from "../capture/live.js";
import type { AgentConfig } from "../config/agent-config.js";
import { Core } from "../core/core.js";
import { loadModelSet, type ModelSet } from "../core/models.js";
import type { Logger } from "../log.js";
import { RecordRouter } from "../pipeline.js";
import type { Alert } from "../publish/alert.js";
import { EMBEDDED_BROKER_MQTT_VERSION, startBroker, type EmbeddedBroker } from "../publish/embedded-broker.js";
import { redactUrl } from "../publish/mqtt.js";
import { Publisher } from "../publish/publisher.js";
import { isForwardedCoreRecord, type RecordJson } from "../publish/record.js";
import { BoundedAlerts, Inventory } from "./inventory.js";
import { InventorySession } from "../inventory/session.js";
import { ActiveIdentifier } from "../inventory/active.js";
import { loadProfiles, packageProfilesDir } from "../profiles/profiles.js";
import { dropPrivileges, handOver, lookupAccount } from "./privileges.js";
import { ControlServer } from "./server.js";
import { SnapshotSupport } from "./snapshots.js";
import { brokerClientOptions } from "../publish/broker-settings.js";
import { PacketRing } from "../ring/ring.js";
import { PcapResponder } from "../ring/responder.js";

// Host-time timer that expires idle flows when no packets arrive.
const TICK_INTERVAL_MS = 1000;
// Window of the packet and alert rates in the status.
const RATE_WINDOW_MS = 10_000;

export const SNAPSHOT_FILE = "baselines.snapshot";
// Folder of the packet ring inside the data directory, unless ring.dir is set.
export const RING_FOLDER = "ring";
// Seconds between attempts to start the pcap responder while the broker is away.
const RESPONDER_RETRY_MS = 30_000;
// Folder of the publisher's alert journal inside the data directory.
const OUTBOX_FOLDER = "outbox";

export class StartError extends Error {
  readonly code = "FIELDSENSE_AGENT_START";
}

export class AgentRuntime {
  private readonly startedAt = new Date();
  private timers: NodeJS.Timeout[] = [];
  private snapshotTimer: NodeJS.Timeout | undefined;
  // OT inventory and firmware-profile bindings, published retained when the
  // inventory changes.
  inventorySession: InventorySession | undefined;
  // Opt-in identification of the configured hosts, stopped with the agent.
  activeIdentifier: ActiveIdentifier | undefined;
  private loop: Promise<void> = Promise.resolve();
  private stopping: Promise<void> | undefined;
  private rate = { atMs: Date.now(), packets: 0, alerts: 0, packetsPerSecond: 0, alertsPerMinute: 0 };
  private snapshots: { written: number; lastWritten?: string; restoredFrom?: string; lastError?: string } = { written: 0 };
  private reloads = { count: 0, lastError: undefined as string | undefined };
  private loopError: Error | undefined;
  // Alerts that the outbox failed to journal (a full disk).
  private journalFailures = { alerts: 0, failing: false };
  // The packet ring and the MQTT responder that serves slices of it, when enabled.
  private ring: PacketRing | undefined;
  private responder: PcapResponder | undefined;
  private responderTimer: NodeJS.Timeout | undefined;

  private constructor(
    private config: AgentConfig,
    private readonly logger: Logger,
    private readonly core: Core,
    private modelSet: ModelSet,
    private readonly router: RecordRouter,
    private readonly capture: LiveCapture,
    private readonly publisher: Publisher,
    private readonly brokerUrl: string,
    private readonly broker: EmbeddedBroker | undefined,
    private readonly control: ControlServer,
    private readonly snapshot: SnapshotSupport,
    readonly alerts: BoundedAlerts,
    readonly inventory: Inventory,
  ) {}

  // Starts the agent; resolves once packets flow into the core. Anything
  // opened before a failure is closed again.
  static async start(config: AgentConfig, logger: Logger, options: { wasmPath?: string } = {}): Promise<AgentRuntime> {
    if (!config.capture.interface) {
      throw new StartError(`no capture interface configured${config.file ? ` in ${config.file}` : ""}; set capture.interface or give --interface`);
    }
    const closers: (() => Promise<void> | void)[] = [];
    try {
      const core = await Core.load({ limits: config.limits, wasmPath: options.wasmPath });
      const modelSet = await loadModelSet(config.modelsDir);
      modelSet.install(core, { timeZone: config.baselines.timeZone });
      createFolders(config.dataDir, 0o750);
      const snapshot = new SnapshotSupport(core, logger);
      const restoredFrom = snapshot.restore(join(config.dataDir, SNAPSHOT_FILE));

      // Opened as root, handed to the agent's user with the data directory.
      const ringDir = config.ring.dir ?? join(config.dataDir, RING_FOLDER);
      const ring = config.ring.enabled ? PacketRing.open(ringDir, config.ring.limits, { logger }) : undefined;
      if (ring) closers.push(() => ring.close());

      const alerts = new BoundedAlerts(config.store.alerts);
      const inventory = new Inventory(config.store.assets, config.store.files);
      // Profile bindings follow the inventory, because an identity seen on
      // the wire binds its profile. An invalid profile file stops the
      // start-up with its file, line and key.
      const inventorySession = new InventorySession(loadProfiles(config.profilePaths ?? [packageProfilesDir]), inventory.ot);
      inventorySession.attach(core);
      // The only requests the agent sends to plant devices, and only to the
      // hosts the configuration names.
      const activeIdentifier = config.identify
        ? new ActiveIdentifier(config.identify.hosts, config.identify.intervalSec, inventorySession, logger)
        : undefined;
      let publisher: Publisher | undefined;
      // A journal write that fails (a full disk) loses that alert's delivery,
      // but not detection: the alert stays in the CLI's store, and the loss
      // is counted and logged when it starts and when it ends.
      const journalFailures = { alerts: 0, failing: false };
      const journalAlert = (alert: Alert) => {
        try {
          publisher?.publish(alert);
          if (journalFailures.failing) logger.info({ alertsNotJournaled: journalFailures.alerts }, "alert journal written again");
          journalFailures.failing = false;
        } catch (error) {
          journalFailures.alerts++;
          if (!journalFailures.failing) {
            logger.error({ alertId: alert.id, err: (error as Error).message }, "alert not journaled, so it is not published; detection goes on");
          }
          journalFailures.failing = true;
        }
      };
      const router = new RecordRouter(modelSet, { site: config.site, gateway: config.gateway }, {
        keepRecords: true,
        logger,
        onAlert: (alert: Alert) => {
          alerts.add(alert);
          ring?.noteAlert(alert);
          logger.info({ alertId: alert.id, model: alert.model, score: alert.score, learning: alert.learning }, "alert");
          // The outbox journals the alert; when it is full the lowest score
          // goes, and the publisher counts it.
          journalAlert(alert);
        },
        // The inventory reads the decoded records, and JSON is built only
        // for the forwarded selection that goes to the broker.
        observeRecord: (record) => inventory.addCoreRecord(record),
        selectRecord: isForwardedCoreRecord,
        onRecord: (record: RecordJson) => {
          // Records are dropped and counted while the broker is away.
          publisher?.publishRecord(record);
        },
      });

      const capture = LiveCapture.open({ ...config.capture, interface: config.capture.interface });
      closers.push(() => capture.close());
      logger.info({ interface: config.capture.interface, filter: config.capture.filter, snapLength: config.capture.snapLength }, "live capture opened");

      let runtime: AgentRuntime | undefined;
      const control = await ControlServer.listen(config.controlSocket, {
        status: () => runtime?.status() ?? { state: "starting" },
        alerts,
        inventory,
        otInventory: () => inventorySession.snapshot(),
      }, logger);
      closers.push(() => control.close());

      const outboxDir = join(config.dataDir, OUTBOX_FOLDER);
      if (config.user !== undefined) {
        const account = lookupAccount(config.user, config.group);
        handOver(account, [
          config.dataDir, join(config.dataDir, SNAPSHOT_FILE), config.controlSocket,
          ...(control.createdFolder ? [control.createdFolder] : []), ...folderAndFiles(outboxDir),
          ...(ring ? folderAndFiles(ringDir) : []),
        ]);
        dropPrivileges(account);
        logger.info({ user: account.user, uid: account.uid, gid: account.gid }, "privileges dropped");
      }

      // Broker and publisher need no privileges, so they start after the switch.
      let broker: EmbeddedBroker | undefined;
      let brokerUrl = config.brokerUrl;
      if (brokerUrl === undefined) {
        broker = await startBroker();
        closers.push(() => broker!.close());
        brokerUrl = `mqtt://127.0.0.1:${broker.port}`;
        logger.info({ broker: brokerUrl }, "embedded MQTT broker started");
      }
      publisher = await Publisher.start({
        url: brokerUrl,
        ...config.broker,
        site: config.site,
        gateway: config.gateway,
        outboxDir,
        logger,
        counters: () => runtime?.captureCounters() ?? {},
        protocolVersion: broker !== undefined ? EMBEDDED_BROKER_MQTT_VERSION : undefined,
      });
      closers.push(async () => { await publisher!.close(); });

      runtime = new AgentRuntime(config, logger, core, modelSet, router, capture, publisher, brokerUrl, broker, control, snapshot, alerts, inventory);
      runtime.inventorySession = inventorySession;
      if (activeIdentifier) {
        runtime.activeIdentifier = activeIdentifier;
        activeIdentifier.start();
        closers.push(() => activeIdentifier.stop());
        logger.info({ hosts: config.identify!.hosts.length, intervalSec: config.identify!.intervalSec }, "active identification of configured hosts started");
      }
      runtime.snapshots.restoredFrom = restoredFrom;
      runtime.journalFailures = journalFailures;
      runtime.ring = ring;
      if (ring) runtime.startResponder();
      runtime.run();
      return runtime;
    } catch (error) {
      for (const close of closers.reverse()) {
        try {
          await close();
        } catch (closeError) {
          logger.warn({ err: (closeError as Error).message }, "cleanup after a failed start failed");
        }
      }
      throw error;
    }
  }

  // Resolves when the capture loop has ended (after stop(), or on an error).
  get finished(): Promise<void> {
    return this.loop;
  }

  get error(): Error | undefined {
    return this.loopError;
  }

  private run(): void {
    this.loop = (async () => {
      for await (const batch of this.capture.batches()) {
        this.ring?.append(batch);
        this.core.process(batch, this.router.onCoreRecord);
        await this.router.drain();
      }
    })().catch((error: Error) => {
      this.loopError = error;
      this.logger.error({ err: error.message, code: (error as { code?: string }).code }, "capture loop stopped by an error");
    });
    this.timers.push(setInterval(() => this.onTick(), TICK_INTERVAL_MS));
    this.snapshotTimer = setInterval(() => this.writeSnapshot(), this.config.snapshotIntervalSec * 1000);
    this.logger.info({ site: this.config.site, gateway: this.config.gateway, models: this.modelSet.models.length, pid: process.pid, uid: process.getuid?.() }, "agent running");
  }

  private onTick(): void {
    try {
      this.core.tick(Date.now() / 1000, this.router.onCoreRecord);
      void this.router.drain();
    } catch (error) {
      this.logger.error({ err: (error as Error).message }, "flow expiry tick failed");
    }
    try {
      this.inventorySession?.tick(Date.now(), (snapshot) => this.publisher.publishInventory(snapshot));
    } catch (error) {
      this.logger.error({ err: (error as Error).message, code: (error as { code?: string }).code }, "inventory or profile table update failed");
    }
    const now = Date.now();
    if (now - this.rate.atMs >= RATE_WINDOW_MS) {
      const packets = this.capture.stats().packets;
      const alerts = this.router.counts.alerts;
      const seconds = (now - this.rate.atMs) / 1000;
      this.rate = {
        atMs: now, packets, alerts,
        packetsPerSecond: (packets - this.rate.packets) / seconds,
        alertsPerMinute: ((alerts - this.rate.alerts) * 60) / seconds,
      };
    }
  }

  // Serves pcap requests from the ring over MQTT. It starts even when no
  // requester is configured, so that a request is rejected with the way to
  // allow it instead of silence. It retries while the broker is unreachable.
  private startResponder(): void {
    const ring = this.ring;
    if (!ring) return;
    const attempt = () => {
      this.responderTimer = undefined;
      PcapResponder.start(this.brokerUrl, brokerClientOptions({ url: this.brokerUrl, ...this.config.broker }), ring, {
        site: this.config.site, gateway: this.config.gateway, logger: this.logger, ...this.config.pcapRequests,
        protocolVersion: this.broker !== undefined ? EMBEDDED_BROKER_MQTT_VERSION : undefined,
      }).then((responder) => {
        if (this.stopping) void responder.close();
        else this.responder = responder;
      }, (error: Error) => {
        this.logger.warn({ err: error.message, retryInMs: RESPONDER_RETRY_MS }, "pcap responder not started");
        if (!this.stopping) this.responderTimer = setTimeout(attempt, RESPONDER_RETRY_MS);
      });
    };
    attempt();
  }

  // `atStop` is set for the last write before the agent exits, which is not tried again.
  private writeSnapshot(atStop = false): void {
    const path = join(this.config.dataDir, SNAPSHOT_FILE);
    try {
      if (!this.snapshot.save(path)) return;
      this.snapshots.written++;
      this.snapshots.lastWritten = new Date().toISOString();
      this.snapshots.lastError = undefined;
    } catch (error) {
      this.snapshots.lastError = (error as Error).message;
      if (atStop) {
        this.logger.error({ path, err: (error as Error).message }, "baseline snapshot not written at stop; what was learned since the last snapshot is lost, and the next start restores the last one written");
      } else {
        this.logger.error({ path, err: (error as Error).message, retryInS: this.config.snapshotIntervalSec }, "baseline snapshot not written; the agent tries again at the next interval");
      }
    }
  }

  // Applies a new configuration and reloads the models. Capture, broker,
  // control socket and user stay as they are until a restart, because
  // reopening them needs the privileges the agent has dropped. A change to
  // them is logged.
  async reload(next: AgentConfig): Promise<void> {
    this.reloads.count++;
    const needRestart: string[] = [];
    const changed = (a: unknown, b: unknown) => JSON.stringify(a) !== JSON.stringify(b);
    if (changed(next.capture, this.config.capture)) needRestart.push("capture");
    if (next.brokerUrl !== this.config.brokerUrl || changed(next.broker, this.config.broker)) needRestart.push("broker");
    if (next.controlSocket !== this.config.controlSocket) needRestart.push("control.socket");
    if (next.user !== this.config.user || next.group !== this.config.group) needRestart.push("user");
    if (changed(next.limits, this.config.limits)) needRestart.push("core");
    if (next.site !== this.config.site || next.gateway !== this.config.gateway) needRestart.push("site/gateway");
    if (next.dataDir !== this.config.dataDir) needRestart.push("data_dir");
    try {
      const modelSet = await loadModelSet(next.modelsDir);
      modelSet.install(this.core, { timeZone: next.baselines.timeZone });
      this.modelSet = modelSet;
      this.router.modelSet = modelSet;
      this.logger.level = next.logLevel;
      if (next.snapshotIntervalSec !== this.config.snapshotIntervalSec) {
        clearInterval(this.snapshotTimer);
        this.snapshotTimer = setInterval(() => this.writeSnapshot(), next.snapshotIntervalSec * 1000);
      }
      this.config = { ...this.config, modelsDir: next.modelsDir, logLevel: next.logLevel, snapshotIntervalSec: next.snapshotIntervalSec };
      this.reloads.lastError = undefined;
      this.logger.info({ models: modelSet.models.length, keptUntilRestart: needRestart }, "configuration and models reloaded");
      if (needRestart.length > 0) this.logger.warn({ settings: needRestart }, "changed settings take effect at the next restart");
    } catch (error) {
      this.reloads.lastError = (error as Error).message;
      this.logger.error({ err: (error as Error).message }, "reload failed; the agent keeps the models it had");
      throw error;
    }
  }

  // Stops capturing, hands the last batch to the core, flushes the publisher,
  // writes the snapshot and closes the control socket and broker.
  stop(reason: string): Promise<void> {
    this.stopping ??= (async () => {
      this.logger.info({ reason }, "agent stopping");
      for (const timer of this.timers) clearInterval(timer);
      clearInterval(this.snapshotTimer);
      await this.activeIdentifier?.stop();
      this.capture.close();
      await this.loop;
      try {
        this.core.finish(this.router.onCoreRecord);
        await this.router.drain();
      } catch (error) {
        // The shutdown goes on: the publisher and the snapshot matter more
        // than the records of the flows still open.
        this.logger.error({ err: (error as Error).message }, "closing the open flows failed");
      }
      clearTimeout(this.responderTimer);
      await this.responder?.close();
      this.ring?.close();
      const unacknowledged = await this.publisher.close();
      this.writeSnapshot(true);
      await this.control.close();
      await this.broker?.close();
      this.logger.info({ reason, unacknowledged, alerts: this.router.counts.alerts, records: this.router.counts.records }, "agent stopped");
    })();
    return this.stopping;
  }

  private ringStatus(): unknown {
    if (!this.ring) return { enabled: false };
    const stats = this.ring.stats();
    const time = (sec: number | undefined) => sec === undefined ? null : new Date(sec * 1000).toISOString();
    return {
      enabled: true,
      dir: this.ring.dir,
      max_bytes: this.ring.limits.maxBytes,
      max_age_s: this.ring.limits.maxAgeSeconds,
      bytes: stats.bytesStored,
      packets: stats.packetsStored,
      oldest: time(stats.oldestSec),
      newest: time(stats.newestSec),
      packets_dropped: stats.packetsDropped,
      bytes_dropped: stats.bytesDropped,
      packets_truncated: stats.packetsTruncated,
      // False after a failed write (a full disk) until a retry succeeds;
      // write_error is the last failure, also after writing resumed.
      writing: stats.writing,
      write_error: stats.writeError ?? null,
      write_failures: stats.writeFailures,
      packets_not_stored: stats.packetsNotStored,
      effective_max_bytes: stats.effectiveMaxBytes,
      responder: this.responder !== undefined,
      requesters: this.config.pcapRequests.requesters,
    };
  }

  // Capture and core counters that the publisher adds to its status and
  // metrics messages.
  captureCounters(): Record<string, number> {
    const capture = this.capture.stats();
    return {
      capture_packets: capture.packets,
      capture_dropped: capture.dropped,
      capture_interface_dropped: capture.interfaceDropped,
      records: this.router.counts.records,
      alerts: this.router.counts.alerts,
    };
  }

  status(): unknown {
    const capture = this.capture.stats();
    const publisher = this.publisher.counters();
    const core = this.core.stats();
    return {
      agent: {
        pid: process.pid,
        uid: process.getuid?.(),
        started: this.startedAt.toISOString(),
        uptime_s: Math.round((Date.now() - this.startedAt.getTime()) / 1000),
        config: this.config.file ?? null,
        site: this.config.site,
        gateway: this.config.gateway,
        reloads: this.reloads.count,
        last_reload_error: this.reloads.lastError ?? null,
      },
      capture: {
        interface: this.config.capture.interface,
        filter: this.config.capture.filter,
        snap_length: this.config.capture.snapLength,
        promiscuous: this.config.capture.promiscuous,
        buffer_bytes: this.config.capture.bufferBytes,
        received: capture.received,
        dropped: capture.dropped,
        interface_dropped: capture.interfaceDropped,
        packets: capture.packets,
        batches: capture.batches,
        packets_per_s: round(this.rate.packetsPerSecond),
      },
      broker: {
        url: redactUrl(this.brokerUrl),
        embedded: this.broker !== undefined,
        connected: this.publisher.connected,
        alerts_acknowledged: publisher.alerts_acknowledged ?? 0,
        alerts_dropped_outbox_full: publisher.alerts_dropped_outbox_full ?? 0,
        alerts_not_journaled: this.journalFailures.alerts,
        records_published: publisher.records_published ?? 0,
        records_dropped: publisher.records_dropped ?? 0,
        reconnects: publisher.reconnects ?? 0,
        // Alerts journaled and not yet acknowledged by the broker.
        outbox: publisher.outbox_depth ?? 0,
        in_flight: publisher.in_flight ?? 0,
      },
      core: {
        records: this.router.counts.records,
        records_by_type: this.router.counts.recordsByType,
        alerts: this.router.counts.alerts,
        alerts_per_min: round(this.rate.alertsPerMinute),
        counters: core.counters,
        anomalies: core.anomalies,
      },
      models: {
        loaded: this.modelSet.models.map((model) => model.id),
        // Alerts raised while a baseline (such as a device's Modbus master) was still being learned.
        learning_alerts: this.alerts.list().filter((item) => item.alert.learning).length,
      },
      ring: this.ringStatus(),
      snapshots: {
        written: this.snapshots.written,
        last_written: this.snapshots.lastWritten ?? null,
        restored_from: this.snapshots.restoredFrom ?? null,
        last_error: this.snapshots.lastError ?? null,
      },
      stores: {
        alerts_kept: this.alerts.size,
        alerts_dropped: this.alerts.dropped,
        assets: this.inventory.listAssets().length,
        assets_dropped: this.inventory.assetsDropped,
        files: this.inventory.listFiles().length,
        files_dropped: this.inventory.filesDropped,
      },
    };
  }
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

// `folder` and the files directly in it, those that exist.
function folderAndFiles(folder: string): string[] {
  if (!existsSync(folder)) return [];
  return [folder, ...readdirSync(folder).map((name) => join(folder, name))];
}
