// The correlator service: subscribes to every gateway's alerts and records,
// validates and stores them, groups alerts into incidents and keeps one
// report per incident (Markdown and HTML) up to date.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
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
import { reportToHtml } from "./html.js";
import { DEFAULT_MAX_MESSAGE_BYTES, ingestMessage, REJECTION_KINDS, type RejectionKind } from "./ingest.js";
import { renderIncidentReport } from "./report.js";
import { DEFAULT_WINDOW_MS, Store } from "./store.js";

export const ALERTS_FILTER = "fieldsense/v1/+/+/alerts";
export const RECORDS_FILTER = "fieldsense/v1/+/+/records";

// Reports of changed incidents are rewritten at most this often.
const REPORT_FLUSH_MS = 200;
// How long an MQTT 5 broker keeps the correlator's session (and queues its
// QoS 1 messages) while the correlator is away: 7 days, in seconds.
const SESSION_EXPIRY_SEC = 7 * 24 * 3600;

// url plus the TLS files and credentials of BrokerSettings.
export interface CorrelatorOptions extends BrokerSettings {
  dbPath: string;
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
  // Messages larger than this are rejected unread.
  maxMessageBytes?: number;
  logger?: Logger;
  // Called after each alert is stored, for callers that wait on the store.
  onAlertStored?: (alert: Alert, incidentId: number) => void;
}

export interface CorrelatorStats {
  alertsStored: number;
  alertsDuplicate: number;
  alertsInvalid: number;
  alertsWrongTopic: number;
  recordsStored: number;
  recordsDuplicate: number;
  recordsInvalid: number;
  // Every rejected message, by reason.
  rejected: Record<RejectionKind, number>;
}

export class Correlator {
  readonly stats: CorrelatorStats = {
    alertsStored: 0, alertsDuplicate: 0, alertsInvalid: 0, alertsWrongTopic: 0,
    recordsStored: 0, recordsDuplicate: 0, recordsInvalid: 0,
    rejected: Object.fromEntries(REJECTION_KINDS.map((kind) => [kind, 0])) as Record<RejectionKind, number>,
  };
  private readonly dirtyIncidents = new Set<number>();
  private flushTimer: NodeJS.Timeout | undefined;
  private stopped = false;

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
    const brokerOptions = brokerClientOptions(options);
    const store = new Store(options.dbPath, options.windowMs ?? DEFAULT_WINDOW_MS);
    if (options.reportsDir) mkdirSync(options.reportsDir, { recursive: true });
    // A persistent session's queued messages can arrive in the same read as
    // the CONNACK, before start() has built the Correlator, so they wait here.
    const early: Array<[string, Buffer]> = [];
    let deliver = (topic: string, payload: Buffer): void => { early.push([topic, payload]); };
    let client: MqttClient;
    try {
      ({ client } = await connectWithFallback(options.url, {
        ...brokerOptions,
        clientId: options.clientId ?? defaultClientId(),
        clean: false,
        properties: { sessionExpiryInterval: SESSION_EXPIRY_SEC },
      }, {
        protocolVersion: options.protocolVersion, connectTimeoutMs: options.connectTimeoutMs, logger,
        prepare: (candidate) => candidate.on("message", (topic, payload) => deliver(topic, payload)),
      }));
    } catch (error) {
      store.close();
      throw error;
    }
    const correlator = new Correlator(store, client, validators, options, logger);
    deliver = (topic, payload) => correlator.handleMessage(topic, payload);
    for (const [topic, payload] of early.splice(0)) correlator.handleMessage(topic, payload);
    logConnectionEvents(client, options.url, logger);
    // Subscriptions are renewed by mqtt.js after a reconnect (resubscribe defaults to true).
    try {
      await client.subscribeAsync([ALERTS_FILTER, RECORDS_FILTER], { qos: 1 });
    } catch (error) {
      await correlator.stop();
      throw new Error(`subscribing to ${ALERTS_FILTER} and ${RECORDS_FILTER} at ${redactUrl(options.url)} failed: ${(error as Error).message}; check the broker's ACL for this client`);
    }
    logger.info({ broker: redactUrl(options.url), db: options.dbPath, reportsDir: options.reportsDir }, "correlator started");
    return correlator;
  }

  // Handles one message; every failure is counted and dropped so that no
  // payload can stop the service. The first rejection of each kind is logged
  // as a warning, later ones at debug level, so a flood of bad messages
  // cannot flood the log.
  handleMessage(topic: string, payload: Buffer): void {
    const result = ingestMessage(topic, payload, this.validators, this.options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES);
    if (!result.accepted) {
      this.reject(result.kind, result.leaf, topic, result.reason);
      return;
    }
    try {
      if (result.leaf === "alerts") this.storeAlert(result.alert);
      else this.storeRecord(result.site, result.gateway, result.record);
    } catch (error) {
      this.logger.error({ topic, err: (error as Error).message }, "storing the message failed; dropped");
    }
  }

  private storeAlert(alert: Alert): void {
    const result = this.store.insertAlert(alert);
    if (!result.stored) {
      this.stats.alertsDuplicate++;
      this.logger.debug({ alertId: alert.id }, "duplicate alert ignored");
      return;
    }
    this.stats.alertsStored++;
    this.markDirty(result.incidentId, result.mergedIncidentIds);
    this.options.onAlertStored?.(alert, result.incidentId);
  }

  private storeRecord(site: string, gateway: string, record: RecordJson): void {
    if (this.store.insertRecord(site, gateway, record)) this.stats.recordsStored++;
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

  private markDirty(incidentId: number, merged: number[]): void {
    if (!this.options.reportsDir) return;
    for (const id of merged) {
      this.dirtyIncidents.delete(id);
      rmSync(join(this.options.reportsDir, `incident-${id}.md`), { force: true });
      rmSync(join(this.options.reportsDir, `incident-${id}.html`), { force: true });
    }
    this.dirtyIncidents.add(incidentId);
    if (!this.flushTimer && !this.stopped) {
      this.flushTimer = setTimeout(() => this.writeReports(), REPORT_FLUSH_MS);
    }
  }

  // Rewrites the reports of incidents changed since the last call.
  writeReports(): void {
    this.flushTimer = undefined;
    if (!this.options.reportsDir) return;
    for (const id of this.dirtyIncidents) {
      const report = renderIncidentReport(this.store, id);
      if (report === undefined) continue;
      try {
        writeFileSync(join(this.options.reportsDir, `incident-${id}.md`), report);
        writeFileSync(join(this.options.reportsDir, `incident-${id}.html`), reportToHtml(report, `Fieldsense incident ${id}`));
      } catch (error) {
        this.logger.error({ incidentId: id, err: (error as Error).message }, "incident report could not be written");
      }
    }
    this.dirtyIncidents.clear();
  }

  // Disconnects, writes pending reports and closes the store. The broker keeps
  // the session and its subscriptions for the next start.
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    await new Promise<void>((resolve) => this.client.end(false, {}, () => resolve()));
    this.writeReports();
    this.store.close();
    this.logger.info({ ...this.stats }, "correlator stopped");
  }
}

function defaultClientId(): string {
  return `fieldsense-correlator-${hostname().replace(/[^A-Za-z0-9_.-]/g, "-")}`.slice(0, 64);
}
