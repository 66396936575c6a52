// The correlator service: subscribes to every gateway's alerts and records,
// validates and stores them, groups alerts into incidents and keeps one
// report per incident (Markdown and HTML) up to date.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import type { MqttClient } from "mqtt";
import type { Alert } from "../../agent/src/publish/alert.js";
import { connectWithFallback, logConnectionEvents, redactUrl, type MqttVersion } from "../../agent/src/publish/mqtt.js";
import type { RecordJson } from "../../agent/src/publish/record.js";
import { loadValidators, type Validators } from "../../agent/src/publish/schemas.js";
import type { Logger } from "../../agent/src/log.js";
import { silentLogger } from "../../agent/src/log.js";
import { reportToHtml } from "./html.js";
import { renderIncidentReport } from "./report.js";
import { DEFAULT_WINDOW_MS, Store } from "./store.js";

export const ALERTS_FILTER = "fieldsense/v1/+/+/alerts";
export const RECORDS_FILTER = "fieldsense/v1/+/+/records";
const TOPIC = /^fieldsense\/v1\/([^/]+)\/([^/]+)\/(alerts|records)$/;

// Reports of changed incidents are rewritten at most this often.
const REPORT_FLUSH_MS = 200;
// How long an MQTT 5 broker keeps the correlator's session (and queues its
// QoS 1 messages) while the correlator is away: 7 days, in seconds.
const SESSION_EXPIRY_SEC = 7 * 24 * 3600;

export interface CorrelatorOptions {
  url: string;
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
}

export class Correlator {
  readonly stats: CorrelatorStats = {
    alertsStored: 0, alertsDuplicate: 0, alertsInvalid: 0, alertsWrongTopic: 0,
    recordsStored: 0, recordsDuplicate: 0, recordsInvalid: 0,
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
    const store = new Store(options.dbPath, options.windowMs ?? DEFAULT_WINDOW_MS);
    if (options.reportsDir) mkdirSync(options.reportsDir, { recursive: true });
    // A persistent session's queued messages can arrive in the same read as
    // the CONNACK, before start() has built the Correlator, so they wait here.
    const early: Array<[string, Buffer]> = [];
    let deliver = (topic: string, payload: Buffer): void => { early.push([topic, payload]); };
    let client: MqttClient;
    try {
      ({ client } = await connectWithFallback(options.url, {
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

  // Handles one message; every failure is logged, counted and dropped so that
  // no payload can stop the service.
  handleMessage(topic: string, payload: Buffer): void {
    const match = TOPIC.exec(topic);
    if (!match) return;
    const [, site, gateway, leaf] = match;
    let value: unknown;
    try {
      value = JSON.parse(payload.toString("utf8"));
    } catch (error) {
      this.drop(leaf, topic, `invalid JSON: ${(error as Error).message}`);
      return;
    }
    try {
      if (leaf === "alerts") this.handleAlert(topic, site, gateway, value);
      else this.handleRecord(topic, site, gateway, value);
    } catch (error) {
      this.logger.error({ topic, err: (error as Error).message }, "storing the message failed; dropped");
    }
  }

  private handleAlert(topic: string, site: string, gateway: string, value: unknown): void {
    const check = this.validators.alert(value);
    if (!check.valid) {
      this.drop("alerts", topic, `alert does not match schemas/alert.schema.json: ${check.firstError}`);
      return;
    }
    const alert = value as Alert;
    if (alert.site !== site || alert.gateway !== gateway) {
      this.stats.alertsWrongTopic++;
      this.logger.warn({ topic, alertId: alert.id, site: alert.site, gateway: alert.gateway }, "alert names another site or gateway than its topic; dropped");
      return;
    }
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

  private handleRecord(topic: string, site: string, gateway: string, value: unknown): void {
    const check = this.validators.record(value);
    if (!check.valid) {
      this.drop("records", topic, `record does not match schemas/record.schema.json: ${check.firstError}`);
      return;
    }
    // Records carry no site or gateway of their own: the topic names them.
    const record = value as RecordJson;
    if (this.store.insertRecord(site, gateway, record)) this.stats.recordsStored++;
    else this.stats.recordsDuplicate++;
  }

  private drop(leaf: string, topic: string, reason: string): void {
    if (leaf === "alerts") this.stats.alertsInvalid++;
    else this.stats.recordsInvalid++;
    this.logger.warn({ topic, reason }, `invalid ${leaf === "alerts" ? "alert" : "record"} dropped`);
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
