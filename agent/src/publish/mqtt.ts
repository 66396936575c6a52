// Publishes alerts and selected records to an MQTT broker with mqtt.js 5.
//
// Topics: fieldsense/v1/{site}/{gateway}/alerts and .../records (QoS 1, one
// JSON document per message) and .../status (retained "online", with a
// retained "offline" last will). MQTT 5 is tried first. A broker that rejects
// it is dialled again with 3.1.1: aedes 1.2 and other 3.1.1-only brokers reply
// to the CONNECT with "unacceptable protocol version" or close the connection.
import { randomBytes } from "node:crypto";
import mqtt, { type IClientOptions, type IClientPublishOptions, type IConnackPacket, type MqttClient } from "mqtt";
import type { Logger } from "../log.js";
import { silentLogger } from "../log.js";
import type { Alert } from "./alert.js";
import type { RecordJson } from "./record.js";

// mqtt.js numbers QoS 1 packets with 16-bit ids and loses acknowledgements
// once 65,535 are open, so publishing waits for PUBACKs past this window.
export const DEFAULT_MAX_IN_FLIGHT = 1000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
// How long GatewayPublisher waits for the PUBACK of one message.
export const DEFAULT_ACK_TIMEOUT_MS = 10_000;
// How long close() waits for outstanding acknowledgements.
export const DEFAULT_CLOSE_TIMEOUT_MS = 30_000;
// Delay between reconnect attempts once the first connection succeeded.
const RECONNECT_PERIOD_MS = 2000;

export type MqttVersion = 4 | 5;

export interface PublisherOptions {
  url: string;
  site: string;
  gateway: string;
  maxInFlight?: number;
  connectTimeoutMs?: number;
  // Milliseconds to wait for each message's PUBACK (default DEFAULT_ACK_TIMEOUT_MS).
  ackTimeoutMs?: number;
  // Skip the MQTT 5 attempt (4) or refuse to fall back (5).
  protocolVersion?: MqttVersion;
  logger?: Logger;
}

export interface PublisherStats {
  alertsPublished: number;
  recordsPublished: number;
  failed: number;
  // Messages without a PUBACK within the acknowledgement timeout, or given
  // up on because the broker had stopped acknowledging. Alerts are also
  // counted in alertsUnacknowledged.
  unacknowledged: number;
  alertsUnacknowledged: number;
  // Highest number of unacknowledged messages at one time.
  peakInFlight: number;
}

export type TopicLeaf = "alerts" | "records" | "status" | "metrics" | "inventory";

export function topicFor(site: string, gateway: string, leaf: TopicLeaf): string {
  return `fieldsense/v1/${site}/${gateway}/${leaf}`;
}

// Removes user name and password from a URL before it goes into a message.
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.username || parsed.password) {
      parsed.username = "";
      parsed.password = "";
    }
    return parsed.toString();
  } catch {
    return url;
  }
}

export class MqttConnectError extends Error {
  readonly code = "FIELDSENSE_MQTT_CONNECT";
}

export class MqttAckTimeoutError extends Error {
  readonly code = "FIELDSENSE_MQTT_ACK_TIMEOUT";
}

// Connects with MQTT 5, then 3.1.1 when the broker rejects version 5.
// `extra` adds options such as the last will; the returned client reconnects
// on its own after the first success.
export async function connectWithFallback(
  url: string,
  extra: IClientOptions,
  options: {
    connectTimeoutMs?: number;
    protocolVersion?: MqttVersion;
    logger?: Logger;
    // Called with each new client before it connects, to attach listeners
    // that must not miss packets arriving together with the CONNACK.
    prepare?: (client: MqttClient) => void;
  } = {},
): Promise<{ client: MqttClient; version: MqttVersion }> {
  const logger = options.logger ?? silentLogger;
  const versions: MqttVersion[] = options.protocolVersion ? [options.protocolVersion] : [5, 4];
  let lastError: Error | undefined;
  for (const version of versions) {
    try {
      const { client } = await connectOnce(url, version, extra, options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS, options.prepare);
      client.options.reconnectPeriod = RECONNECT_PERIOD_MS;
      logger.info({ broker: redactUrl(url), protocolVersion: version }, "connected to MQTT broker");
      return { client, version };
    } catch (error) {
      lastError = error as Error;
      if (version === 5 && versions.length > 1 && isVersionRejection(lastError)) {
        logger.info({ broker: redactUrl(url), reason: lastError.message }, "broker rejected MQTT 5, retrying with MQTT 3.1.1");
        continue;
      }
      break;
    }
  }
  throw new MqttConnectError(
    `cannot connect to MQTT broker ${redactUrl(url)}: ${lastError?.message ?? "unknown error"}; ` +
    "check that the broker runs and listens at that host and port, and that the URL scheme (mqtt://, mqtts://, ws://) matches it",
  );
}

// Logs connection loss, reconnect attempts and recovery of a connected
// client. During a long outage mqtt.js retries every RECONNECT_PERIOD_MS, so
// attempts are logged only at 1, 2, 4, 8, ... to bound the log volume.
export function logConnectionEvents(client: MqttClient, url: string, logger: Logger): void {
  const broker = redactUrl(url);
  let attempts = 0;
  client.on("offline", () => logger.warn({ broker }, "MQTT broker connection lost"));
  client.on("reconnect", () => {
    attempts++;
    if ((attempts & (attempts - 1)) === 0) logger.warn({ broker, attempts }, "reconnecting to MQTT broker");
  });
  client.on("connect", () => {
    if (attempts > 0) logger.info({ broker, attempts }, "reconnected to MQTT broker");
    attempts = 0;
  });
  client.on("error", (error) => logger.error({ broker, err: error.message }, "MQTT client error"));
}

// A rejected version shows as CONNACK return code 1 (3.1.1), reason code 0x84
// (MQTT 5), or as a connection the broker closed before any CONNACK.
export function isVersionRejection(error: Error): boolean {
  const code = (error as { code?: unknown }).code;
  return code === 1 || code === 0x84 || /protocol version|closed before CONNACK/i.test(error.message);
}

// Dials once with one protocol version and no automatic reconnect; resolves
// with the client and its CONNACK (which carries the MQTT 5 server limits).
export function connectOnce(
  url: string, version: MqttVersion, extra: IClientOptions, timeoutMs: number, prepare?: (client: MqttClient) => void,
): Promise<{ client: MqttClient; connack: IConnackPacket }> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, { ...extra, protocolVersion: version, reconnectPeriod: 0, connectTimeout: timeoutMs });
    prepare?.(client);
    // Only these listeners are removed later: mqtt.js keeps its own "close"
    // listener, which schedules reconnects.
    const onError = (error: Error) => fail(error);
    const onClose = () => fail(new Error("connection closed before CONNACK"));
    const detach = () => {
      clearTimeout(timer);
      client.off("connect", onConnect);
      client.off("error", onError);
      client.off("close", onClose);
    };
    const fail = (error: Error) => {
      detach();
      client.on("error", () => {});
      client.end(true);
      reject(error);
    };
    const onConnect = (connack: IConnackPacket) => {
      detach();
      resolve({ client, connack });
    };
    const timer = setTimeout(() => fail(new Error(`no CONNACK within ${timeoutMs} ms`)), timeoutMs + 500);
    client.once("connect", onConnect);
    client.once("error", onError);
    client.once("close", onClose);
  });
}

// Publishes alerts and records of one gateway through a bounded window of
// unacknowledged QoS 1 messages.
export class GatewayPublisher {
  readonly stats: PublisherStats = {
    alertsPublished: 0, recordsPublished: 0, failed: 0, unacknowledged: 0, alertsUnacknowledged: 0, peakInFlight: 0,
  };
  private inFlight = 0;
  // Set when a PUBACK times out and cleared by the next PUBACK. While set,
  // messages fail at once instead of each waiting out the timeout, so that a
  // stopped broker costs one timeout, not one per window of messages.
  private stalled = false;
  private readonly waiting: Array<() => void> = [];
  private readonly idle: Array<() => void> = [];

  private constructor(
    private readonly client: MqttClient,
    readonly protocolVersion: MqttVersion,
    private readonly options: PublisherOptions,
    private readonly logger: Logger,
    private readonly maxInFlight: number,
  ) {}

  static async connect(options: PublisherOptions): Promise<GatewayPublisher> {
    const logger = options.logger ?? silentLogger;
    const maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
    if (!Number.isInteger(maxInFlight) || maxInFlight < 1 || maxInFlight > 65535) {
      throw new RangeError(`invalid maxInFlight ${maxInFlight}: use an integer from 1 to 65535`);
    }
    const statusTopic = topicFor(options.site, options.gateway, "status");
    const { client, version } = await connectWithFallback(options.url, {
      clientId: `fieldsense-${options.gateway}-${randomBytes(4).toString("hex")}`,
      clean: true,
      will: { topic: statusTopic, payload: Buffer.from(statusPayload("offline")), qos: 1, retain: true },
    }, { connectTimeoutMs: options.connectTimeoutMs, protocolVersion: options.protocolVersion, logger });
    logConnectionEvents(client, options.url, logger);
    const publisher = new GatewayPublisher(client, version, options, logger, maxInFlight);
    // A broker that sent CONNACK but does not acknowledge the status still
    // gets the publisher: its alerts are then counted as unacknowledged.
    await publisher.send(statusTopic, statusPayload("online"), { qos: 1, retain: true })
      .catch((error: Error) => logger.warn({ err: error.message }, "publishing the online status failed"));
    return publisher;
  }

  publishAlert(alert: Alert): Promise<void> {
    const topic = topicFor(this.options.site, this.options.gateway, "alerts");
    return this.send(topic, JSON.stringify(alert), { qos: 1 }).then(
      () => { this.stats.alertsPublished++; },
      (error: Error) => {
        if (error instanceof MqttAckTimeoutError) this.stats.alertsUnacknowledged++;
        throw error;
      },
    );
  }

  publishRecord(record: RecordJson): Promise<void> {
    const topic = topicFor(this.options.site, this.options.gateway, "records");
    return this.send(topic, JSON.stringify(record), { qos: 1 }).then(() => { this.stats.recordsPublished++; });
  }

  // Resolves once every message handed over so far is acknowledged.
  flush(): Promise<void> {
    if (this.inFlight === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  // Marks the gateway offline (retained), waits up to `timeoutMs` for
  // acknowledgements and disconnects. Messages still unacknowledged then are
  // dropped: the count is logged and returned.
  async close(timeoutMs = DEFAULT_CLOSE_TIMEOUT_MS): Promise<number> {
    const statusTopic = topicFor(this.options.site, this.options.gateway, "status");
    const offline = this.send(statusTopic, statusPayload("offline"), { qos: 1, retain: true })
      .catch((error: Error) => this.logger.warn({ err: error.message }, "publishing the offline status failed"));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(true), timeoutMs); });
    const acknowledged = Promise.all([this.flush(), offline]).then(() => false);
    const expired = await Promise.race([acknowledged, timedOut]);
    clearTimeout(timer);
    const unacknowledged = expired ? this.inFlight + this.waiting.length : 0;
    if (expired) {
      this.logger.error({ broker: redactUrl(this.options.url), unacknowledged, timeoutMs }, "MQTT messages not acknowledged before close; dropped");
    }
    // Forced when acknowledgements are missing, because a graceful end waits
    // for them: mqtt.js keeps messages whose PUBACK timed out in its store.
    const force = expired || this.stats.unacknowledged > 0;
    await new Promise<void>((resolve) => this.client.end(force, {}, () => resolve()));
    this.logger.info({ broker: redactUrl(this.options.url), ...this.stats }, "disconnected from MQTT broker");
    return unacknowledged;
  }

  // Sends one QoS 1 message once a slot in the window is free; resolves on
  // PUBACK. Rejects with MqttAckTimeoutError when no PUBACK comes within the
  // acknowledgement timeout, or at once while the broker is stalled.
  private async send(topic: string, payload: string, publishOptions: IClientPublishOptions): Promise<void> {
    while (this.inFlight >= this.maxInFlight) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    const ackTimeoutMs = this.options.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS;
    if (this.stalled) {
      this.stats.unacknowledged++;
      // This message leaves the slot it was woken for unused, so the next
      // waiting message gets it; otherwise that one would wait forever.
      this.releaseSlot();
      throw new MqttAckTimeoutError(`not sent to ${redactUrl(this.options.url)}: the broker has not acknowledged an earlier message within ${ackTimeoutMs} ms`);
    }
    this.inFlight++;
    this.stats.peakInFlight = Math.max(this.stats.peakInFlight, this.inFlight);
    const options: IClientPublishOptions = this.protocolVersion === 5
      ? { ...publishOptions, properties: { contentType: "application/json" } }
      : publishOptions;
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        timer = setTimeout(() => reject(new MqttAckTimeoutError(
          `no PUBACK from ${redactUrl(this.options.url)} within ${ackTimeoutMs} ms for a message on ${topic}`)), ackTimeoutMs);
        this.client.publish(topic, payload, options, (error) => (error ? reject(error) : resolve()));
      });
      this.stalled = false;
    } catch (error) {
      if (error instanceof MqttAckTimeoutError) {
        this.stats.unacknowledged++;
        if (!this.stalled) this.logger.error({ topic, ackTimeoutMs, err: error.message }, "MQTT broker stopped acknowledging; later messages fail at once");
        this.stalled = true;
      } else {
        this.stats.failed++;
        this.logger.error({ topic, err: (error as Error).message }, "MQTT publish failed");
      }
      throw error;
    } finally {
      clearTimeout(timer);
      this.inFlight--;
      this.releaseSlot();
    }
  }

  // Wakes the next message waiting for a slot, or flush() once nothing is open.
  private releaseSlot(): void {
    this.waiting.shift()?.();
    if (this.inFlight === 0 && this.waiting.length === 0) {
      for (const resolve of this.idle.splice(0)) resolve();
    }
  }
}

function statusPayload(state: "online" | "offline"): string {
  return JSON.stringify({ state, ts: new Date().toISOString() });
}
