// The agent's publisher: alerts go through the durable outbox to MQTT QoS 1,
// records go out directly, and the gateway reports its health.
//
// Flow control: at most maxInFlight QoS 1 messages wait for a PUBACK (mqtt.js
// numbers them with 16-bit packet ids and stops matching acknowledgements
// once 65,535 are open), fewer when an MQTT 5 broker announces a smaller
// Receive Maximum. A PUBACK missing for publishTimeoutMs on a live connection
// means the connection is broken: it is dropped and dialled again.
// Reconnects back off from reconnectMinMs to reconnectMaxMs with jitter, so a
// plant full of gateways does not reconnect in lockstep after a broker restart.
// A half-open link is found by mqtt.js's keep-alive: a PINGREQ goes out one
// keep-alive interval after the last packet received, and the connection is
// dropped when nothing arrived for 1.5 intervals (mqtt.js 5.16
// KeepaliveManager).
//
// Topics under fieldsense/v1/{site}/{gateway}/: alerts (QoS 1, journaled),
// records (QoS 1, not journaled: dropped and counted while disconnected),
// status (retained: "online" with version, uptime and counters, and the
// last will "offline"), metrics (QoS 0, every metricsIntervalMs).
import { createHash, randomInt } from "node:crypto";
import type { IClientOptions, IClientPublishOptions, IConnackPacket, MqttClient } from "mqtt";
import type { Logger } from "../log.js";
import { silentLogger } from "../log.js";
import { ALERT_SCHEMA_VERSION, type Alert } from "./alert.js";
import { brokerClientOptions, type BrokerSettings } from "./broker-settings.js";
import { connectOnce, isVersionRejection, redactUrl, topicFor, type MqttVersion, type TopicLeaf } from "./mqtt.js";
import { Outbox, type FsyncPolicy } from "./outbox.js";
import { formatPrometheus, startMetricsServer, type Metric, type MetricsServer } from "./prometheus.js";
import type { RecordJson } from "./record.js";

export const DEFAULT_MAX_IN_FLIGHT = 1000;
export const DEFAULT_PUBLISH_TIMEOUT_MS = 30_000;
export const DEFAULT_KEEPALIVE_SEC = 30;
export const DEFAULT_RECONNECT_MIN_MS = 1000;
export const DEFAULT_RECONNECT_MAX_MS = 60_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_METRICS_INTERVAL_MS = 60_000;
// MQTT 5 message expiry of alerts: how long a broker keeps one queued for an
// absent correlator. Seven days, the correlator's session expiry.
export const DEFAULT_MESSAGE_EXPIRY_SEC = 7 * 24 * 3600;
export const DEFAULT_CLOSE_TIMEOUT_MS = 10_000;
// MQTT 5 PUBACK reason codes after which a resend cannot succeed: the message
// is removed from the outbox and counted as rejected (MQTT 5.0 section 3.4.2.1).
const PERMANENT_REJECTIONS = new Set([0x83, 0x87, 0x90, 0x95, 0x99]);
// Delay before a message rejected for a transient reason (0x97 quota exceeded,
// 0x80 unspecified) is sent again on the same connection.
const TRANSIENT_RETRY_MS = 1000;
// The MQTT 5 user property "schema" of each kind of message.
const SCHEMA_NAMES = { alert: "fieldsense.alert", record: "fieldsense.record", health: "fieldsense.metrics" } as const;
// Topic levels must not contain MQTT separators or wildcards.
const TOPIC_LEVEL = /^[^/+#\u0000]+$/;

export interface PublisherSettings extends BrokerSettings {
  site: string;
  gateway: string;
  // Folder of the outbox journal, usually <data directory>/outbox.
  outboxDir: string;
  outboxMaxBytes?: number;
  fsync?: FsyncPolicy;
  fsyncIntervalMs?: number;
  maxInFlight?: number;
  publishTimeoutMs?: number;
  keepaliveSec?: number;
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  connectTimeoutMs?: number;
  // Skip the MQTT 5 attempt (4) or refuse to fall back (5).
  protocolVersion?: MqttVersion;
  messageExpirySec?: number;
  // 0 turns the periodic metrics message off.
  metricsIntervalMs?: number;
  // Port of the Prometheus endpoint on metricsHost; absent means off.
  metricsPort?: number;
  metricsHost?: string;
  // The agent's version, in the status message.
  version?: string;
  // Counters of other parts (packets, core drops), added to status, metrics
  // and the Prometheus endpoint under their snake_case names.
  counters?: () => Record<string, number>;
  logger?: Logger;
}

export interface ReliablePublisherStats {
  alertsJournaled: number;
  alertsAcknowledged: number;
  alertsDroppedFull: number;
  alertsRejected: number;
  recordsPublished: number;
  recordsDropped: number;
  reconnects: number;
  publishTimeouts: number;
  keepaliveTimeouts: number;
  peakInFlight: number;
}

export class Publisher {
  readonly stats: ReliablePublisherStats = {
    alertsJournaled: 0, alertsAcknowledged: 0, alertsDroppedFull: 0, alertsRejected: 0,
    recordsPublished: 0, recordsDropped: 0, reconnects: 0, publishTimeouts: 0, keepaliveTimeouts: 0, peakInFlight: 0,
  };
  readonly outbox: Outbox;
  private readonly logger: Logger;
  private readonly broker: string;
  private readonly clientOptions: IClientOptions;
  private readonly maxInFlight: number;
  private readonly startedMs = Date.now();
  private client: MqttClient | undefined;
  // The client of a dial still waiting for its CONNACK, ended by close().
  private dialing: MqttClient | undefined;
  private version: MqttVersion | undefined;
  // Bumped on every new connection, so callbacks of an old one are ignored.
  private generation = 0;
  private windowSize: number;
  private everConnected = false;
  private closing = false;
  private reconnectAttempts = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private metricsServer: MetricsServer | undefined;
  // Outbox sequences to send on this connection, in journal order; `head`
  // is the next one.
  private queue: number[] = [];
  private head = 0;
  // Sequence (alerts) or negative id (records) -> send time in ms.
  private readonly inFlight = new Map<number, number>();
  private nextRecordId = -1;
  private readonly drainWaiters: Array<() => void> = [];
  private readonly connectWaiters: Array<() => void> = [];
  private readonly loggedRejections = new Set<number>();

  private constructor(private readonly settings: PublisherSettings) {
    this.logger = settings.logger ?? silentLogger;
    this.broker = redactUrl(settings.url);
    for (const [name, value] of [["site", settings.site], ["gateway", settings.gateway]] as const) {
      if (typeof value !== "string" || !TOPIC_LEVEL.test(value)) {
        throw new RangeError(`invalid ${name} "${value}": use a non-empty name without "/", "+" or "#", because it becomes an MQTT topic level`);
      }
    }
    this.maxInFlight = settings.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
    if (!Number.isInteger(this.maxInFlight) || this.maxInFlight < 1 || this.maxInFlight > 65535) {
      throw new RangeError(`invalid maxInFlight ${settings.maxInFlight}: use an integer from 1 to 65535`);
    }
    this.windowSize = this.maxInFlight;
    const keepalive = settings.keepaliveSec ?? DEFAULT_KEEPALIVE_SEC;
    if (!Number.isInteger(keepalive) || keepalive < 1 || keepalive > 65535) {
      throw new RangeError(`invalid keepaliveSec ${settings.keepaliveSec}: use an integer from 1 to 65535 seconds`);
    }
    for (const name of ["publishTimeoutMs", "reconnectMinMs", "reconnectMaxMs"] as const) {
      const value = settings[name];
      if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
        throw new RangeError(`invalid ${name} ${value}: use a positive integer of milliseconds`);
      }
    }
    this.clientOptions = {
      ...brokerClientOptions(settings),
      // A fixed client id makes the broker end a stale session of this
      // gateway (a half-open link it has not noticed yet) when the new one connects.
      clientId: publisherClientId(settings.site, settings.gateway),
      clean: true,
      keepalive,
      will: { topic: this.topic("status"), payload: Buffer.from(JSON.stringify(this.statusBody("offline"))), qos: 1, retain: true },
    };
    this.outbox = new Outbox({
      dir: settings.outboxDir, maxBytes: settings.outboxMaxBytes, fsync: settings.fsync,
      fsyncIntervalMs: settings.fsyncIntervalMs, logger: this.logger,
    });
  }

  // Opens the outbox and starts connecting in the background: alerts are
  // journaled at once and sent when the broker is reached. Throws on invalid
  // settings or an outbox that cannot be opened.
  static async start(settings: PublisherSettings): Promise<Publisher> {
    const publisher = new Publisher(settings);
    try {
      await publisher.startTimers();
    } catch (error) {
      for (const periodic of publisher.timers) clearInterval(periodic);
      publisher.outbox.close();
      throw error;
    }
    publisher.logger.info({ broker: publisher.broker, site: settings.site, gateway: settings.gateway, waiting: publisher.outbox.depth }, "publisher started");
    void publisher.dial();
    return publisher;
  }

  get connected(): boolean {
    return this.client !== undefined;
  }

  get protocolVersion(): MqttVersion | undefined {
    return this.version;
  }

  get metricsPort(): number | undefined {
    return this.metricsServer?.port;
  }

  // Journals an alert and sends it when a slot is free. Returns false when
  // the outbox was full and this alert had the lowest score.
  publish(alert: Alert): boolean {
    if (this.closing) throw new Error(`publisher for ${this.settings.site}/${this.settings.gateway} is closed; alert ${alert.id} not journaled`);
    const entry = this.outbox.append(this.topic("alerts"), Buffer.from(JSON.stringify(alert)), alert.score);
    this.stats.alertsDroppedFull = this.outbox.stats.droppedFull;
    if (!entry) return false;
    this.stats.alertsJournaled++;
    if (this.client) {
      this.queue.push(entry.sequence);
      this.pump();
    }
    return true;
  }

  // Sends a record if connected and the window has room; otherwise drops and counts it.
  publishRecord(record: RecordJson): boolean {
    const client = this.client;
    if (!client || this.closing || this.inFlight.size >= this.windowSize) {
      this.stats.recordsDropped++;
      return false;
    }
    const id = this.nextRecordId--;
    const generation = this.generation;
    this.markSent(id);
    client.publish(this.topic("records"), JSON.stringify(record), this.publishOptions("record"), (error) => {
      if (generation !== this.generation) return;
      this.inFlight.delete(id);
      if (error) this.stats.recordsDropped++;
      else this.stats.recordsPublished++;
      this.pump();
    });
    return true;
  }

  // Publishes the OT asset inventory retained at QoS 1 on the `inventory`
  // topic, so that a subscriber gets the latest one when it subscribes. The
  // caller publishes when the inventory changed; without a connection the
  // latest body waits and goes out on the next connection.
  publishInventory(inventory: unknown): void {
    this.pendingInventory = JSON.stringify(inventory);
    this.flushInventory();
  }

  private pendingInventory: string | undefined;

  private flushInventory(): void {
    const client = this.client;
    const body = this.pendingInventory;
    if (!client || this.closing || body === undefined) return;
    this.pendingInventory = undefined;
    const generation = this.generation;
    client.publish(this.topic("inventory"), body, { qos: 1, retain: true }, (error) => {
      if (!error || generation !== this.generation) return;
      this.logger.warn({ broker: this.broker, err: error.message }, "publishing the inventory failed; it is sent again on the next change or connection");
      this.pendingInventory ??= body;
    });
  }

  // Resolves once the outbox is empty.
  drain(): Promise<void> {
    if (this.outbox.depth === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  // Resolves once connected to the broker.
  whenConnected(): Promise<void> {
    if (this.client) return Promise.resolve();
    return new Promise((resolve) => this.connectWaiters.push(resolve));
  }

  // Waits up to timeoutMs for the outbox to drain, marks the gateway offline
  // (retained) and disconnects. Alerts still waiting stay in the journal for
  // the next start; their number is returned.
  async close(timeoutMs = DEFAULT_CLOSE_TIMEOUT_MS): Promise<number> {
    if (this.closing) return this.outbox.depth;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<void>((resolve) => { timer = setTimeout(resolve, timeoutMs); });
    await Promise.race([this.drain(), expired]);
    clearTimeout(timer);
    this.closing = true;
    clearTimeout(this.reconnectTimer);
    this.dialing?.end(true);
    for (const periodic of this.timers) clearInterval(periodic);
    const client = this.client;
    if (client) {
      const offline = new Promise<void>((resolve) => {
        client.publish(this.topic("status"), JSON.stringify(this.statusBody("offline")), { qos: 1, retain: true }, () => resolve());
      });
      await Promise.race([offline, new Promise((resolve) => setTimeout(resolve, Math.min(timeoutMs, 2000)))]);
      await new Promise<void>((resolve) => client.end(false, {}, () => resolve()));
    }
    this.client = undefined;
    this.generation++;
    await this.metricsServer?.close();
    const waiting = this.outbox.depth;
    this.outbox.close();
    this.logger.info({ broker: this.broker, waiting, ...this.stats }, "publisher stopped");
    return waiting;
  }

  // Counters of this publisher and of the settings' counters() hook.
  counters(): Record<string, number> {
    return {
      alerts_journaled: this.stats.alertsJournaled,
      alerts_acknowledged: this.stats.alertsAcknowledged,
      alerts_dropped_outbox_full: this.outbox.stats.droppedFull,
      alerts_rejected: this.stats.alertsRejected,
      outbox_depth: this.outbox.depth,
      outbox_bytes: this.outbox.bytes,
      outbox_journal_bytes: this.outbox.journalBytes,
      outbox_write_failures: this.outbox.stats.writeFailures,
      in_flight: this.inFlight.size,
      peak_in_flight: this.stats.peakInFlight,
      records_published: this.stats.recordsPublished,
      records_dropped: this.stats.recordsDropped,
      reconnects: this.stats.reconnects,
      publish_timeouts: this.stats.publishTimeouts,
      keepalive_timeouts: this.stats.keepaliveTimeouts,
      ...(this.settings.counters?.() ?? {}),
    };
  }

  // The counters in Prometheus text format.
  prometheusText(): string {
    const gauges = new Set(["outbox_depth", "outbox_bytes", "outbox_journal_bytes", "in_flight", "peak_in_flight"]);
    const metrics: Metric[] = Object.entries(this.counters()).map(([name, value]) => ({
      name: `fieldsense_${name}${gauges.has(name) ? "" : "_total"}`,
      help: `Fieldsense agent ${name.replace(/_/g, " ")}.`,
      type: gauges.has(name) ? "gauge" : "counter",
      value,
    }));
    metrics.push({ name: "fieldsense_uptime_seconds", help: "Seconds since the publisher started.", type: "gauge", value: this.uptimeSec() });
    metrics.push({ name: "fieldsense_broker_connected", help: "1 while connected to the MQTT broker.", type: "gauge", value: this.client ? 1 : 0 });
    return formatPrometheus(metrics, { site: this.settings.site, gateway: this.settings.gateway });
  }

  private async startTimers(): Promise<void> {
    const timeout = this.settings.publishTimeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS;
    const check = setInterval(() => this.checkPublishTimeout(timeout), Math.max(50, Math.min(1000, Math.floor(timeout / 4))));
    check.unref();
    this.timers.push(check);
    const metricsInterval = this.settings.metricsIntervalMs ?? DEFAULT_METRICS_INTERVAL_MS;
    if (metricsInterval > 0) {
      const periodic = setInterval(() => this.publishHealth(), metricsInterval);
      periodic.unref();
      this.timers.push(periodic);
    }
    if (this.settings.metricsPort !== undefined) {
      this.metricsServer = await startMetricsServer(this.settings.metricsPort, () => this.prometheusText(), {
        host: this.settings.metricsHost, logger: this.logger,
      });
    }
  }

  private topic(leaf: TopicLeaf): string {
    return topicFor(this.settings.site, this.settings.gateway, leaf);
  }

  private uptimeSec(): number {
    return Math.floor((Date.now() - this.startedMs) / 1000);
  }

  private statusBody(state: "online" | "offline"): Record<string, unknown> {
    const body: Record<string, unknown> = {
      state, site: this.settings.site, gateway: this.settings.gateway, version: this.settings.version ?? "unknown",
      ts: new Date().toISOString(),
    };
    if (state === "online") {
      body.started = new Date(this.startedMs).toISOString();
      body.uptime_s = this.uptimeSec();
      body.counters = this.counters();
    }
    return body;
  }

  private publishOptions(kind: "alert" | "record" | "health"): IClientPublishOptions {
    const options: IClientPublishOptions = { qos: kind === "health" ? 0 : 1 };
    if (this.version === 5) {
      options.properties = {
        contentType: "application/json",
        payloadFormatIndicator: true,
        userProperties: { schema: SCHEMA_NAMES[kind], schema_version: String(ALERT_SCHEMA_VERSION) },
      };
      if (kind === "alert") options.properties.messageExpiryInterval = this.settings.messageExpirySec ?? DEFAULT_MESSAGE_EXPIRY_SEC;
    }
    return options;
  }

  // Dials the broker with MQTT 5 and falls back to 3.1.1 when rejected; once a
  // version worked, later reconnects use only that one.
  private async dial(): Promise<void> {
    if (this.closing) return;
    let versions: MqttVersion[] = [5, 4];
    if (this.settings.protocolVersion) versions = [this.settings.protocolVersion];
    if (this.version) versions = [this.version];
    const timeout = this.settings.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    let lastError: Error | undefined;
    for (const version of versions) {
      try {
        const options: IClientOptions = version === 5 ? { ...this.clientOptions, properties: { sessionExpiryInterval: 0 } } : this.clientOptions;
        const { client, connack } = await connectOnce(this.settings.url, version, options, timeout, (candidate) => { this.dialing = candidate; });
        this.dialing = undefined;
        if (this.closing) {
          client.end(true);
          return;
        }
        this.attach(client, version, connack);
        return;
      } catch (error) {
        this.dialing = undefined;
        if (this.closing) return;
        lastError = error as Error;
        if (version === 5 && versions.length > 1 && isVersionRejection(lastError)) {
          this.logger.info({ broker: this.broker }, "broker rejected MQTT 5, retrying with MQTT 3.1.1");
          continue;
        }
        break;
      }
    }
    this.reconnectAttempts++;
    const delay = this.backoffMs();
    // Logged at attempts 1, 2, 4, 8, ... so a long outage does not flood the log.
    if ((this.reconnectAttempts & (this.reconnectAttempts - 1)) === 0) {
      this.logger.warn({ broker: this.broker, attempts: this.reconnectAttempts, retryInMs: delay, err: lastError?.message }, "connecting to MQTT broker failed; retrying");
    }
    this.scheduleDial(delay);
  }

  private scheduleDial(delayMs: number): void {
    if (this.closing) return;
    this.reconnectTimer = setTimeout(() => { void this.dial(); }, delayMs);
  }

  // Exponential backoff with "equal jitter": half the step is fixed, half random.
  private backoffMs(): number {
    const min = this.settings.reconnectMinMs ?? DEFAULT_RECONNECT_MIN_MS;
    const max = Math.max(min, this.settings.reconnectMaxMs ?? DEFAULT_RECONNECT_MAX_MS);
    const step = Math.min(max, min * 2 ** Math.min(30, this.reconnectAttempts - 1));
    return Math.floor(step / 2) + randomInt(Math.max(1, Math.ceil(step / 2)));
  }

  private attach(client: MqttClient, version: MqttVersion, connack: IConnackPacket): void {
    this.generation++;
    const generation = this.generation;
    this.client = client;
    this.version = version;
    const receiveMaximum = connack.properties?.receiveMaximum;
    this.windowSize = receiveMaximum ? Math.min(this.maxInFlight, receiveMaximum) : this.maxInFlight;
    if (this.everConnected) this.stats.reconnects++;
    this.logger.info({ broker: this.broker, protocolVersion: version, attempts: this.reconnectAttempts, window: this.windowSize, waiting: this.outbox.depth }, this.everConnected ? "reconnected to MQTT broker" : "connected to MQTT broker");
    this.everConnected = true;
    this.reconnectAttempts = 0;

    client.on("error", (error) => {
      if (/keepalive timeout/i.test(error.message)) {
        this.stats.keepaliveTimeouts++;
        this.logger.warn({ broker: this.broker }, "no packet from the MQTT broker for 1.5 keep-alive intervals; the link is half-open, reconnecting");
      } else {
        this.logger.error({ broker: this.broker, err: error.message }, "MQTT client error");
      }
    });
    client.on("close", () => this.detach(generation));

    this.inFlight.clear();
    this.queue = Array.from(this.outbox.waiting(), (entry) => entry.sequence);
    this.head = 0;
    client.publish(this.topic("status"), JSON.stringify(this.statusBody("online")), { qos: 1, retain: true }, (error) => {
      if (error && generation === this.generation) this.logger.warn({ err: error.message }, "publishing the online status failed");
    });
    for (const resolve of this.connectWaiters.splice(0)) resolve();
    this.flushInventory();
    this.pump();
  }

  // Forgets a lost connection: messages in flight stay in the outbox and are
  // sent again on the next connection.
  private detach(generation: number): void {
    if (generation !== this.generation || !this.client) return;
    const client = this.client;
    this.client = undefined;
    this.generation++;
    this.inFlight.clear();
    this.queue = [];
    this.head = 0;
    client.removeAllListeners("close");
    client.on("error", () => {});
    client.end(true);
    if (this.closing) return;
    this.logger.warn({ broker: this.broker, waiting: this.outbox.depth }, "MQTT broker connection lost");
    this.reconnectAttempts++;
    this.scheduleDial(this.backoffMs());
  }

  private markSent(id: number): void {
    this.inFlight.set(id, Date.now());
    if (this.inFlight.size > this.stats.peakInFlight) this.stats.peakInFlight = this.inFlight.size;
  }

  // Sends queued alerts while the window has room.
  private pump(): void {
    const client = this.client;
    while (client && this.inFlight.size < this.windowSize && this.head < this.queue.length) {
      const sequence = this.queue[this.head++];
      const entry = this.outbox.get(sequence);
      if (!entry || this.inFlight.has(sequence)) continue;
      const generation = this.generation;
      this.markSent(sequence);
      client.publish(entry.topic, entry.payload, this.publishOptions("alert"), (error) => this.onPuback(generation, sequence, error));
    }
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.resolveDrained();
  }

  private onPuback(generation: number, sequence: number, error: Error | undefined): void {
    if (generation !== this.generation) return;
    this.inFlight.delete(sequence);
    if (!error) {
      this.outbox.acknowledge(sequence);
      this.stats.alertsAcknowledged++;
    } else {
      const reasonCode = (error as { code?: unknown }).code;
      if (typeof reasonCode === "number" && PERMANENT_REJECTIONS.has(reasonCode)) {
        this.outbox.reject(sequence);
        this.stats.alertsRejected++;
        if (!this.loggedRejections.has(reasonCode)) {
          this.loggedRejections.add(reasonCode);
          this.logger.error({ broker: this.broker, topic: this.topic("alerts"), reasonCode, err: error.message }, "broker rejected an alert; dropped (logged once per reason code, see the alerts_rejected counter)");
        }
      } else if (typeof reasonCode === "number") {
        this.logger.warn({ broker: this.broker, reasonCode, err: error.message, sequence }, "broker rejected an alert with a transient reason code; sending it again");
        setTimeout(() => {
          if (generation !== this.generation) return;
          this.queue.push(sequence);
          this.pump();
        }, TRANSIENT_RETRY_MS).unref();
      }
      // Other errors come from a connection that is closing: detach() resends.
    }
    this.pump();
  }

  private resolveDrained(): void {
    if (this.outbox.depth === 0) {
      for (const resolve of this.drainWaiters.splice(0)) resolve();
    }
  }

  private checkPublishTimeout(timeoutMs: number): void {
    const client = this.client;
    if (!client) return;
    // The Map keeps insertion order, so the first entry is the oldest send.
    const oldest = this.inFlight.values().next();
    if (oldest.done || Date.now() - oldest.value < timeoutMs) return;
    this.stats.publishTimeouts++;
    this.logger.warn({ broker: this.broker, timeoutMs, inFlight: this.inFlight.size }, "no PUBACK within the publish timeout; reconnecting");
    this.detach(this.generation);
  }

  private publishHealth(): void {
    const client = this.client;
    if (!client) return;
    const counters = this.counters();
    client.publish(this.topic("metrics"), JSON.stringify({ ts: new Date().toISOString(), uptime_s: this.uptimeSec(), ...counters }), this.publishOptions("health"));
    client.publish(this.topic("status"), JSON.stringify(this.statusBody("online")), { qos: 1, retain: true });
  }
}

// Client id of a gateway's publisher, one per site and gateway. Two gateways
// of the same name at different sites must not share one: the broker would
// end each one's session whenever the other connects. Site and gateway never
// contain "/" (they are topic levels), so the id is unambiguous. An id past
// 64 characters is cut and ends in a hash of the whole, to stay distinct.
export function publisherClientId(site: string, gateway: string): string {
  const id = `fieldsense/${site}/${gateway}`;
  if (id.length <= 64) return id;
  return `${id.slice(0, 47)}-${createHash("sha256").update(id).digest("hex").slice(0, 16)}`;
}
