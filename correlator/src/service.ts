// The correlator service: subscribes to every gateway's alerts and records,
// validates and stores them, groups alerts into incidents and keeps one
// report per incident (Markdown and HTML) up to date.
import { rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import type { MqttClient } from "mqtt";
import type { Alert } from "../../agent/src/publish/alert.js";
import { brokerClientOptions, type BrokerSettings } from "../../agent/src/publish/broker-settings.js";
import { connectWithFallback, logConnectionEvents, redactUrl, type MqttVersion } from "../../agent/src/publish/mqtt.js";
import type { RecordJson } from "../../agent/src/publish/record.js";
import { loadValidators, type Validators } from "../../agent/src/publish/schemas.js";
import type { Logger } from "../../agent/src/log.js";
import { silentLogger } from "../../agent/src/log.js";
import { clockProblem, CLOCK_AHEAD_MAX_MS, type ClockProblem } from "./clock.js";
import { reportToHtml } from "./html.js";
import { DEFAULT_MAX_MESSAGE_BYTES, ingestMessage, REJECTION_KINDS, type RejectionKind } from "./ingest.js";
import { renderIncidentReport } from "./report.js";
import { isTransientStoreError, storeErrorCode } from "./store-errors.js";
import {
  createFolder, openStore, redactDbUrl, type AlertInsert, type IngestItem, type IngestOutcome, type RetentionSettings, type Store,
} from "./store.js";
import { checkConsoleOptions, WebConsole, type ConsoleOptions } from "./web/server.js";

export const ALERTS_FILTER = "fieldsense/v1/+/+/alerts";
export const RECORDS_FILTER = "fieldsense/v1/+/+/records";

// Maximum number of messages stored in one transaction. Messages that
// arrive while a transaction commits wait and go into the next one
// together, so a burst costs one commit and one set of site locks per this
// many messages.
export const DEFAULT_BATCH_MESSAGES = 500;

// After a store write fails in a way that may pass (see store-errors.ts),
// the correlator waits this long before the first retry and doubles the
// wait after each failed retry, up to STORE_RETRY_MAX_MS.
export const DEFAULT_STORE_RETRY_MS = 1000;
const STORE_RETRY_MAX_MS = 60_000;
// At most this many alert ids go into one log line about held messages.
const LOGGED_IDS_MAX = 20;

// Reports of changed incidents are rewritten at most this often.
const REPORT_FLUSH_MS = 200;
// How long an MQTT 5 broker keeps the correlator's session (and queues its
// QoS 1 messages) while the correlator is away: 7 days, in seconds.
const SESSION_EXPIRY_SEC = 7 * 24 * 3600;
// How long start() waits for the SUBACK. A broker that accepts the connection
// but never confirms the subscription delivers nothing, so a service that
// waited forever would look healthy while receiving no alert.
export const DEFAULT_SUBSCRIBE_TIMEOUT_MS = 30_000;
// Mosquitto publishes its version here as a retained message. Other brokers
// (aedes among them) send nothing, and the subscription is dropped after
// BROKER_VERSION_WAIT_MS.
const BROKER_VERSION_TOPIC = "$SYS/broker/version";
const BROKER_VERSION_WAIT_MS = 2000;

// How often retention runs while the service is up, when it is configured.
const RETENTION_INTERVAL_MS = 60 * 60 * 1000;

// url plus the TLS files and credentials of BrokerSettings.
export interface CorrelatorOptions extends BrokerSettings {
  // A SQLite file path or a postgres:// URL.
  dbPath: string;
  // MQTT 5 shared-subscription group: correlators of one group share the
  // messages, each delivered to one of them ($share/GROUP/fieldsense/v1/...).
  // They must share one PostgreSQL store.
  shareGroup?: string;
  minIncidentScore?: number;
  criticalHosts?: string[];
  retention?: RetentionSettings;
  retentionIntervalMs?: number;
  // Folder for incident-<id>.md and incident-<id>.html; no reports are
  // written when absent.
  reportsDir?: string;
  windowMs?: number;
  // MQTT client id of a persistent session: the broker queues alerts that
  // arrive while the correlator is stopped. Defaults to one id per host, so
  // two correlators on one host need distinct ids.
  clientId?: string;
  protocolVersion?: MqttVersion;
  connectTimeoutMs?: number;
  subscribeTimeoutMs?: number;
  // Messages larger than this are rejected unread.
  maxMessageBytes?: number;
  logger?: Logger;
  // The web console's listener; none when absent.
  console?: ConsoleOptions;
  // Maximum number of messages stored in one transaction (default DEFAULT_BATCH_MESSAGES).
  batchMessages?: number;
  // Wait before the first retry of a store that failed (default
  // DEFAULT_STORE_RETRY_MS); later retries wait twice as long each time.
  storeRetryMs?: number;
  // Called after each alert is stored, for callers that wait on the store.
  // `incidentId` is null for an alert below the incident threshold.
  onAlertStored?: (alert: Alert, incidentId: number | null) => void;
}

export interface CorrelatorStats {
  alertsStored: number;
  alertsDuplicate: number;
  alertsInvalid: number;
  alertsWrongTopic: number;
  recordsStored: number;
  recordsDuplicate: number;
  recordsInvalid: number;
  // Valid messages that the store rejected with an error that a retry
  // cannot change (a constraint, a value PostgreSQL does not take). They
  // are acknowledged, so no broker sends them again, and each is logged
  // with its id.
  alertsLost: number;
  recordsLost: number;
  // Times the store became unavailable: a write failed in a way that may
  // pass (disk full, I/O error, lost PostgreSQL connection). Messages wait
  // unacknowledged meanwhile and are retried with backoff.
  storeOutages: number;
  // Messages still waiting for an unavailable store when the correlator
  // stopped. They were never acknowledged, so the broker keeps them in this
  // correlator's persistent session and sends them again at the next start.
  alertsUnacknowledged: number;
  recordsUnacknowledged: number;
  // Stored alerts whose packet time is more than CLOCK_AHEAD_MAX_MS after
  // the time they were received, or before 2000 (a clock never set).
  alertsClockAhead: number;
  alertsClockUnset: number;
  // Every rejected message, by reason.
  rejected: Record<RejectionKind, number>;
}

export class Correlator {
  readonly stats: CorrelatorStats = {
    alertsStored: 0, alertsDuplicate: 0, alertsInvalid: 0, alertsWrongTopic: 0,
    recordsStored: 0, recordsDuplicate: 0, recordsInvalid: 0, alertsLost: 0, recordsLost: 0,
    storeOutages: 0, alertsUnacknowledged: 0, recordsUnacknowledged: 0, alertsClockAhead: 0, alertsClockUnset: 0,
    rejected: Object.fromEntries(REJECTION_KINDS.map((kind) => [kind, 0])) as Record<RejectionKind, number>,
  };
  private dirtyIncidents = new Set<number>();
  private flushTimer: NodeJS.Timeout | undefined;
  private brokerVersionTimer: NodeJS.Timeout | undefined;
  private retentionTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  // Work on the store runs one task after another: batches of messages in
  // the order they arrived, report rewrites and retention.
  private processing: Promise<void> = Promise.resolve();
  // Accepted messages waiting for the next batch.
  private readonly queue: QueuedMessage[] = [];
  private batchScheduled = false;
  // Gateways whose wrong clock was logged, as "problem site gateway".
  private readonly clockWarned = new Set<string>();
  // Set while the store is unavailable: the failure and the pending retry.
  private outage: StoreOutage | undefined;
  private webConsole: WebConsole | undefined;

  private constructor(
    readonly store: Store,
    private readonly client: MqttClient,
    private readonly validators: Validators,
    private readonly options: CorrelatorOptions,
    private readonly logger: Logger,
  ) {}

  static async start(options: CorrelatorOptions): Promise<Correlator> {
    const logger = options.logger ?? silentLogger;
    const validators = loadValidators();
    if (options.console) checkConsoleOptions(options.console);
    const brokerOptions = brokerClientOptions(options);
    const store = await openStore(options.dbPath, {
      windowMs: options.windowMs, minIncidentScore: options.minIncidentScore, criticalHosts: options.criticalHosts, retention: options.retention,
    });
    // The console listens before the broker connection opens, so that a
    // port in use stops the start before the broker creates or resumes the
    // persistent session and sends it messages.
    let webConsole: WebConsole | undefined;
    try {
      if (options.reportsDir) {
        createFolder(options.reportsDir, "the reports folder", "create it with write access for this user, or give --reports another folder");
      }
      if (options.console) webConsole = await WebConsole.start(store, { logger, ...options.console });
    } catch (error) {
      await store.close();
      throw error;
    }
    // A persistent session's queued messages can arrive in the same read as
    // the CONNACK, before start() has built the Correlator, so they wait here.
    const early: Array<[string, Buffer, Acknowledge | undefined]> = [];
    let deliver = (topic: string, payload: Buffer, ack?: Acknowledge): void => { early.push([topic, payload, ack]); };
    let client: MqttClient;
    try {
      ({ client } = await connectWithFallback(options.url, {
        ...brokerOptions,
        clientId: options.clientId ?? defaultClientId(),
        clean: false,
        properties: { sessionExpiryInterval: SESSION_EXPIRY_SEC },
      }, {
        protocolVersion: options.protocolVersion, connectTimeoutMs: options.connectTimeoutMs, logger,
        prepare: (candidate) => acknowledgeAfterStoring(candidate, (topic, payload, ack) => deliver(topic, payload, ack)),
      }));
    } catch (error) {
      await webConsole?.stop();
      await store.close();
      throw error;
    }
    const correlator = new Correlator(store, client, validators, options, logger);
    correlator.webConsole = webConsole;
    store.onIncidentChange((ids) => correlator.markChanged(ids));
    deliver = (topic, payload, ack) => correlator.handleMessage(topic, payload, ack);
    for (const [topic, payload, ack] of early.splice(0)) correlator.handleMessage(topic, payload, ack);
    logConnectionEvents(client, options.url, logger);
    // Subscriptions are renewed by mqtt.js after a reconnect (resubscribe defaults to true).
    const subscribeTimeoutMs = options.subscribeTimeoutMs ?? DEFAULT_SUBSCRIBE_TIMEOUT_MS;
    const filters = subscriptionFilters(options.shareGroup);
    try {
      await withTimeout(client.subscribeAsync(filters, { qos: 1 }), subscribeTimeoutMs);
    } catch (error) {
      await correlator.stop(true);
      const timedOut = error instanceof SubscribeTimeout;
      const message = timedOut
        ? `broker ${redactUrl(options.url)} accepted the connection but did not confirm the subscription to ${filters.join(" and ")} (no SUBACK) within ${subscribeTimeoutMs} ms; check the broker's log and its ACL for this client`
        : `subscribing to ${filters.join(" and ")} at ${redactUrl(options.url)} failed: ${(error as Error).message}; check the broker's ACL for this client`;
      logger.error({ broker: redactUrl(options.url), topics: filters, timedOut }, message);
      throw new Error(message);
    }
    logger.info({ broker: redactUrl(options.url), db: redactDbUrl(options.dbPath), reportsDir: options.reportsDir, shareGroup: options.shareGroup }, "correlator started");
    correlator.requestBrokerVersion();
    correlator.startRetention();
    return correlator;
  }

  // Runs retention now and then every retentionIntervalMs, when the store
  // has a retention setting.
  private startRetention(): void {
    const { maxAgeMs, maxBytes } = this.store.retention;
    if (maxAgeMs === undefined && maxBytes === undefined) return;
    const run = () => {
      this.processing = this.processing.then(async () => {
        try {
          const result = await this.store.applyRetention();
          this.logger.info({ ...result }, "retention applied");
        } catch (error) {
          this.logger.error({ db: redactDbUrl(this.options.dbPath), err: (error as Error).message }, "retention failed; it is retried at the next interval");
        }
      });
    };
    run();
    this.retentionTimer = setInterval(run, this.options.retentionIntervalMs ?? RETENTION_INTERVAL_MS);
    this.retentionTimer.unref();
  }

  // Resolves when every message received so far is stored, or waits
  // unacknowledged for a store that is unavailable.
  async idle(): Promise<void> {
    for (;;) {
      const processing = this.processing;
      await processing;
      if (processing === this.processing && (this.queue.length === 0 || this.outage !== undefined)) return;
    }
  }

  // Handles one message; every failure is counted and dropped so that no
  // payload can stop the service. The first rejection of each kind is logged
  // as a warning, later ones at debug level, so a flood of bad messages
  // cannot flood the log. `ack` sends the message's PUBACK: at once for a
  // rejected message, after the commit for a stored one.
  handleMessage(topic: string, payload: Buffer, ack?: Acknowledge): void {
    if (topic === BROKER_VERSION_TOPIC) {
      this.onBrokerVersion(payload.toString("utf8"));
      ack?.();
      return;
    }
    const result = ingestMessage(topic, payload, this.validators, this.options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES);
    if (!result.accepted) {
      this.reject(result.kind, result.leaf, topic, result.reason);
      ack?.();
      return;
    }
    const item: IngestItem = result.leaf === "alerts"
      ? { kind: "alert", alert: result.alert }
      : { kind: "record", site: result.site, gateway: result.gateway, record: result.record };
    this.queue.push({ topic, item, ack });
    this.scheduleBatch();
  }

  // Stores the messages queued so far, at most batchMessages of them, after
  // the work already scheduled. Messages that arrive meanwhile wait for the
  // next batch, so an idle correlator stores a lone message at once and a
  // busy one stores many per transaction.
  // While the store is unavailable, the retry timer schedules the next
  // batch and arriving messages only join the queue.
  private scheduleBatch(): void {
    if (this.batchScheduled || this.outage?.retryTimer !== undefined) return;
    this.batchScheduled = true;
    this.processing = this.processing.then(async () => {
      this.batchScheduled = false;
      // A batch scheduled before the store failed waits for the retry.
      if (this.outage?.retryTimer !== undefined) return;
      const batch = this.queue.splice(0, this.options.batchMessages ?? DEFAULT_BATCH_MESSAGES);
      const held = await this.storeBatch(batch);
      if (held) {
        this.queue.unshift(...held.messages);
        this.storeUnavailable(held.error);
        return;
      }
      if (batch.length > 0) this.storeAvailable(batch);
      if (this.queue.length > 0) this.scheduleBatch();
    });
  }

  // Stores a batch in one transaction and acknowledges its messages after
  // the commit. When the transaction fails in a way that may pass, the
  // whole batch is returned to wait for a retry, unacknowledged. When it
  // fails otherwise, each message is stored alone, so that one message the
  // store cannot write loses no other, and that message is acknowledged and
  // counted as lost.
  private async storeBatch(batch: QueuedMessage[]): Promise<HeldMessages | undefined> {
    if (batch.length === 0) return undefined;
    let outcomes: IngestOutcome[];
    const receivedAt = new Date();
    try {
      outcomes = await this.store.ingest(batch.map((message) => message.item), receivedAt);
    } catch (error) {
      if (isTransientStoreError(error)) return { messages: batch, error: error as Error };
      if (batch.length === 1) {
        this.storeRejected(batch[0], error as Error);
        batch[0].ack?.();
        return undefined;
      }
      for (const [i, message] of batch.entries()) {
        const held = await this.storeBatch([message]);
        if (held) return { messages: batch.slice(i), error: held.error };
      }
      return undefined;
    }
    for (const [i, message] of batch.entries()) {
      const outcome = outcomes[i];
      if (outcome.kind === "alert" && message.item.kind === "alert") this.alertStored(message.item.alert, outcome.result, receivedAt.getTime());
      else if (outcome.kind === "record") this.recordStored(outcome.stored);
      message.ack?.();
    }
    return undefined;
  }

  // Enters or stays in the outage state and schedules the next retry. Only
  // the first failure of an outage is logged, and retries at debug
  // level.
  private storeUnavailable(error: Error): void {
    const first = this.options.storeRetryMs ?? DEFAULT_STORE_RETRY_MS;
    if (this.outage === undefined) {
      this.stats.storeOutages++;
      this.outage = { sinceMs: Date.now(), retries: 0, delayMs: first };
      const held = this.heldCounts();
      this.logger.error({
        db: redactDbUrl(this.options.dbPath), err: error.message, code: storeErrorCode(error), ...held, alertIds: this.heldAlertIds(),
      }, `store unavailable; ${held.alertsHeld} alert(s) and ${held.recordsHeld} record(s) wait unacknowledged and are retried with backoff starting at ${first} ms`);
    } else {
      this.outage.retries++;
      this.outage.delayMs = Math.min(this.outage.delayMs * 2, Math.max(first, STORE_RETRY_MAX_MS));
      this.logger.debug({ err: error.message, code: storeErrorCode(error), retries: this.outage.retries, nextRetryMs: this.outage.delayMs }, "store still unavailable");
    }
    if (this.stopped) return;
    const outage = this.outage;
    outage.retryTimer = setTimeout(() => {
      outage.retryTimer = undefined;
      this.scheduleBatch();
    }, outage.delayMs);
  }

  // Ends the outage state after a batch was stored, and logs it once.
  private storeAvailable(batch: QueuedMessage[]): void {
    if (this.outage === undefined) return;
    const { sinceMs, retries } = this.outage;
    this.outage = undefined;
    const alertIds = batch.flatMap((message) => (message.item.kind === "alert" ? [message.item.alert.id] : [])).slice(0, LOGGED_IDS_MAX);
    this.logger.info({ db: redactDbUrl(this.options.dbPath), unavailableMs: Date.now() - sinceMs, retries, alertIds, waiting: this.queue.length },
      "store available again; the held messages are being stored and acknowledged");
  }

  // Alerts received and held unacknowledged while the store is unavailable.
  get alertsWaitingForStore(): number {
    return this.outage === undefined ? 0 : this.heldCounts().alertsHeld;
  }

  private heldCounts(): { alertsHeld: number; recordsHeld: number } {
    const alertsHeld = this.queue.filter((message) => message.item.kind === "alert").length;
    return { alertsHeld, recordsHeld: this.queue.length - alertsHeld };
  }

  // The ids of the first LOGGED_IDS_MAX alerts waiting in the queue.
  private heldAlertIds(): string[] {
    const ids: string[] = [];
    for (const message of this.queue) {
      if (ids.length === LOGGED_IDS_MAX) break;
      if (message.item.kind === "alert") ids.push(message.item.alert.id);
    }
    return ids;
  }

  // Asks the broker for its version, without delaying the start: Mosquitto
  // queues at most max_queued_messages (default 1000) messages per client, so
  // a longer correlator outage loses alerts unless the setting is raised, and
  // without persistence a broker restart loses the queue.
  private requestBrokerVersion(): void {
    const unsubscribe = () => {
      this.brokerVersionTimer = undefined;
      if (!this.stopped) this.client.unsubscribeAsync(BROKER_VERSION_TOPIC).catch(() => undefined);
    };
    this.client.subscribeAsync(BROKER_VERSION_TOPIC, { qos: 0 }).catch(() => undefined);
    this.brokerVersionTimer = setTimeout(unsubscribe, BROKER_VERSION_WAIT_MS);
    this.brokerVersionTimer.unref();
  }

  private onBrokerVersion(version: string): void {
    if (!/^mosquitto/i.test(version) || this.brokerVersionTimer === undefined) return;
    clearTimeout(this.brokerVersionTimer);
    this.brokerVersionTimer = undefined;
    this.client.unsubscribeAsync(BROKER_VERSION_TOPIC).catch(() => undefined);
    this.logger.warn(
      { broker: redactUrl(this.options.url), brokerVersion: version.slice(0, 80), setting: "max_queued_messages" },
      "the broker is Mosquitto, which queues at most max_queued_messages (default 1000) messages for this correlator, while it is stopped or while it stores slower than the gateways publish, and drops the rest, records and alerts alike; it keeps queued alerts across its own restart only with persistence true; check that mosquitto.conf sets both as deploy/mosquitto/mosquitto.conf.example does",
    );
  }

  // The console's address, such as http://127.0.0.1:8080, when it runs.
  get consoleUrl(): string | undefined {
    return this.webConsole?.url;
  }

  // Whether the store rejected an alert since start, or was unavailable
  // with alerts waiting when the correlator stopped; the CLI then exits 1.
  get failed(): boolean {
    return this.stats.alertsLost > 0 || this.stats.alertsUnacknowledged > 0;
  }

  // Counts a message the store rejected for good and logs it with its id.
  // Such a message passed validation, so these are rare and each is logged.
  private storeRejected(message: QueuedMessage, error: Error): void {
    const { item, topic } = message;
    const fields = {
      topic, db: redactDbUrl(this.options.dbPath), err: error.message, code: storeErrorCode(error),
      alertId: item.kind === "alert" ? item.alert.id : undefined, recordType: item.kind === "record" ? item.record.type : undefined,
    };
    if (item.kind === "alert") {
      this.stats.alertsLost++;
      this.logger.error({ ...fields, alertsLost: this.stats.alertsLost }, `store rejected alert ${item.alert.id}; it is acknowledged and lost`);
    } else {
      this.stats.recordsLost++;
      this.logger.error({ ...fields, recordsLost: this.stats.recordsLost }, "store rejected a record; it is acknowledged and lost");
    }
  }

  private alertStored(alert: Alert, result: AlertInsert, receivedMs: number): void {
    if (!result.stored) {
      this.stats.alertsDuplicate++;
      this.logger.debug({ alertId: alert.id }, "duplicate alert ignored");
      return;
    }
    this.stats.alertsStored++;
    const problem = clockProblem(Date.parse(alert.ts), receivedMs);
    if (problem) this.clockWrong(alert, problem, receivedMs);
    this.markDirty(result.incidentId, result.mergedIncidentIds);
    this.options.onAlertStored?.(alert, result.incidentId);
  }

  // Counts an alert whose gateway clock is wrong, and logs the first one of
  // each gateway and problem with the skew.
  private clockWrong(alert: Alert, problem: ClockProblem, receivedMs: number): void {
    if (problem === "ahead") this.stats.alertsClockAhead++;
    else this.stats.alertsClockUnset++;
    const key = `${problem}\n${alert.site}\n${alert.gateway}`;
    if (this.clockWarned.has(key)) return;
    this.clockWarned.add(key);
    const skewMs = Date.parse(alert.ts) - receivedMs;
    const fields = { site: alert.site, gateway: alert.gateway, alertId: alert.id, ts: alert.ts, receivedAt: new Date(receivedMs).toISOString(), skewMs };
    const hours = (Math.abs(skewMs) / 3_600_000).toFixed(1);
    const message = problem === "ahead"
      ? `gateway clock ahead: packet time ${alert.ts} is ${hours} h after the time the alert was received (more than ${CLOCK_AHEAD_MAX_MS / 3_600_000} h); the alert is stored, marked in its report and sorted by receive time in searches; set the gateway's clock (NTP)`
      : `gateway clock not set: packet time ${alert.ts} is before 2000; the alert is stored and marked in its report; set the gateway's clock (NTP)`;
    this.logger.warn(fields, `${message}. Later alerts of this gateway with the same problem are counted, not logged`);
  }

  private recordStored(stored: boolean): void {
    if (stored) this.stats.recordsStored++;
    else this.stats.recordsDuplicate++;
  }

  private reject(kind: RejectionKind, leaf: "alerts" | "records" | undefined, topic: string, reason: string): void {
    this.stats.rejected[kind]++;
    if (kind === "topic_mismatch") this.stats.alertsWrongTopic++;
    else if (leaf === "alerts") this.stats.alertsInvalid++;
    else if (leaf === "records") this.stats.recordsInvalid++;
    const count = this.stats.rejected[kind];
    const fields = { topic, kind, reason, count };
    if (count === 1) this.logger.warn(fields, "message rejected; later rejections of this kind are logged at debug level and counted");
    else this.logger.debug(fields, "message rejected");
  }

  private markDirty(incidentId: number | null, merged: number[]): void {
    if (!this.options.reportsDir || incidentId === null) return;
    for (const id of merged) {
      this.dirtyIncidents.delete(id);
      rmSync(join(this.options.reportsDir, `incident-${id}.md`), { force: true });
      rmSync(join(this.options.reportsDir, `incident-${id}.html`), { force: true });
    }
    this.markChanged([incidentId]);
  }

  // Schedules the reports of `incidentIds` to be rewritten.
  private markChanged(incidentIds: number[]): void {
    if (!this.options.reportsDir) return;
    for (const id of incidentIds) this.dirtyIncidents.add(id);
    if (!this.flushTimer && !this.stopped) {
      this.flushTimer = setTimeout(() => {
        this.processing = this.processing.then(async () => {
          await this.writeReports();
        });
      }, REPORT_FLUSH_MS);
    }
  }

  // Rewrites the reports of incidents changed since the last call.
  // Returns how many reports could not be written; those stay due and are
  // tried again at the next call.
  async writeReports(): Promise<number> {
    this.flushTimer = undefined;
    if (!this.options.reportsDir) return 0;
    const failed = new Set<number>();
    for (const id of [...this.dirtyIncidents]) {
      try {
        const report = await renderIncidentReport(this.store, id);
        if (report === undefined) continue;
        writeFileSync(join(this.options.reportsDir, `incident-${id}.md`), report);
        writeFileSync(join(this.options.reportsDir, `incident-${id}.html`), reportToHtml(report, `Fieldsense incident ${id}`));
      } catch (error) {
        failed.add(id);
        this.logger.error({ incidentId: id, reportsDir: this.options.reportsDir, err: (error as Error).message }, "incident report could not be written; tried again when the incident changes or the correlator stops");
      }
    }
    this.dirtyIncidents = failed;
    return failed.size;
  }

  // Disconnects, writes pending reports and closes the store. The broker keeps
  // the session and its subscriptions for the next start.
  // `force` ends the connection without waiting for packets in flight, for a
  // broker that does not answer.
  async stop(force = false): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    if (this.brokerVersionTimer) clearTimeout(this.brokerVersionTimer);
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    // Stores what was received and acknowledges it before disconnecting,
    // unless `force` is set because the broker may not respond.
    if (!force) await this.idle();
    await new Promise<void>((resolve) => this.client.end(force, {}, () => resolve()));
    await this.webConsole?.stop();
    await this.idle();
    // Messages held for an unavailable store stay unacknowledged.
    if (this.outage?.retryTimer) clearTimeout(this.outage.retryTimer);
    const held = this.heldCounts();
    const heldAlertIds = this.heldAlertIds();
    this.stats.alertsUnacknowledged = held.alertsHeld;
    this.stats.recordsUnacknowledged = held.recordsHeld;
    await this.writeReports();
    await this.store.close();
    if (this.failed) {
      const parts: string[] = [];
      if (this.stats.alertsLost > 0) parts.push(`the store rejected ${this.stats.alertsLost} alert(s), which are lost (the error lines name each one)`);
      if (this.stats.alertsUnacknowledged > 0) {
        parts.push(`${this.stats.alertsUnacknowledged} alert(s) waited unacknowledged for the unavailable store; the broker sends them again at the next start with this client id`);
      }
      this.logger.error({ ...this.stats, db: redactDbUrl(this.options.dbPath), heldAlertIds }, `correlator stopped: ${parts.join("; ")}`);
    } else {
      this.logger.info({ ...this.stats }, "correlator stopped");
    }
  }
}

// The topic filters of the correlator, in a shared subscription when a
// group is given.
export function subscriptionFilters(shareGroup?: string): string[] {
  if (shareGroup === undefined) return [ALERTS_FILTER, RECORDS_FILTER];
  return [ALERTS_FILTER, RECORDS_FILTER].map((filter) => `$share/${shareGroup}/${filter}`);
}

// Sends the PUBACK of one received message.
export type Acknowledge = () => void;

interface QueuedMessage {
  topic: string;
  item: IngestItem;
  ack?: Acknowledge;
}

// Messages returned to the queue because the store failed in a way that may pass.
interface HeldMessages {
  messages: QueuedMessage[];
  error: Error;
}

interface StoreOutage {
  sinceMs: number;
  retries: number;
  // Wait before the next retry.
  delayMs: number;
  retryTimer?: NodeJS.Timeout;
}

// The error that makes mqtt.js's handleMessage skip its automatic
// PUBACK. One instance serves every message, because an Error records a
// stack trace when it is created.
const ACKNOWLEDGED_LATER = new Error("the correlator sends this PUBACK after storing the message");

// Delivers every message with a function that sends its PUBACK, and stops
// mqtt.js from sending the PUBACK itself. mqtt.js acknowledges a QoS 1
// message when handleMessage calls back, and reads no further packet until
// then, so a handleMessage that waited for the commit would store one
// message per transaction. Instead it calls back at once with an error,
// which makes mqtt.js skip the PUBACK and read on, and the correlator sends
// the PUBACK after the commit.
// NOTE: mqtt.js 5.16 has no public call that sends a PUBACK, so `ack` uses
// its internal _sendPacket. The test "correlator acknowledges an alert
// after storing it" fails if a later mqtt.js changes that.
// A PUBACK is dropped when the connection that carried the message has
// closed meanwhile: the broker sends the message again on the next one, and
// the store ignores it as a duplicate.
export function acknowledgeAfterStoring(client: MqttClient, deliver: (topic: string, payload: Buffer, ack?: Acknowledge) => void): void {
  let connection = 0;
  client.on("close", () => { connection++; });
  const sender = client as unknown as { _sendPacket(packet: { cmd: "puback"; messageId: number; reasonCode: number }): void };
  client.on("message", (topic, payload, packet) => {
    if (packet.qos !== 1 || packet.messageId === undefined) {
      deliver(topic, payload);
      return;
    }
    const messageId = packet.messageId;
    const receivedOn = connection;
    let sent = false;
    deliver(topic, payload, () => {
      if (sent || receivedOn !== connection || !client.connected) return;
      sent = true;
      sender._sendPacket({ cmd: "puback", messageId, reasonCode: 0 });
    });
  });
  client.handleMessage = (packet, callback) => callback(packet.qos === 1 ? ACKNOWLEDGED_LATER : undefined);
}

class SubscribeTimeout extends Error {}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SubscribeTimeout(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function defaultClientId(): string {
  return `fieldsense-correlator-${hostname().replace(/[^A-Za-z0-9_.-]/g, "-")}`.slice(0, 64);
}
