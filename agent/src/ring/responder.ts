// Packets on request over MQTT: a correlator requests the packets of an
// alert, a flow, a host or a time range, and the gateway responds from its
// packet ring in chunks.
//
//   request   fieldsense/v1/{site}/{gateway}/pcap/request
//             {"request_id", "requester", "alert" | "flow" | "host" | "from" | "to", "before", "after"}
//   answer    fieldsense/v1/{site}/{gateway}/pcap/response/{requester}
//             {"request_id", "status", "message"?, "packets", "bytes", "sha256",
//              "chunk", "chunks", "data" (base64)}
//
// `status` is "ok" for each chunk of a capture, or one message with
// "refused" (the requester is not in pcap_requests.requesters),
// "not_found" (the alert or its packets are no longer in the ring),
// "too_large" (above pcap_requests.max_bytes) or "bad_request". Under MQTT 5
// the answer carries the request's correlation data, and goes to the
// request's response topic when that topic is this gateway's answer topic
// for the requester. `sha256` covers the whole pcapng, so the receiver checks
// the chunks it put together.
//
// Who may ask is decided twice: the broker's ACL lets only the correlator's
// account write the request topic (deploy/mosquitto.acl), and the gateway
// answers only requesters it names. Every request is logged with the
// requester and the size of the answer.
import { createHash } from "node:crypto";
import type { IClientOptions, IPublishPacket, MqttClient } from "mqtt";
import { connectWithFallback, type MqttVersion } from "../publish/mqtt.js";
import type { Logger } from "../log.js";
import { silentLogger } from "../log.js";
import { exportToBytes, PcapRequestError, type PcapRequest } from "./export.js";
import type { PacketRing } from "./ring.js";

export const DEFAULT_PCAP_RESPONSE_BYTES = 32 * 1024 * 1024;
export const DEFAULT_PCAP_CHUNK_BYTES = 256 * 1024;
const MAX_REQUEST_BYTES = 4096;
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export type PcapStatus = "ok" | "refused" | "not_found" | "too_large" | "bad_request";

export interface PcapResponse {
  request_id: string;
  status: PcapStatus;
  message?: string;
  packets?: number;
  bytes?: number;
  sha256?: string;
  chunk?: number;
  chunks?: number;
  data?: string;
}

export interface PcapRequestMessage extends PcapRequest {
  request_id: string;
  requester: string;
}

export function pcapTopics(site: string, gateway: string) {
  const base = `fieldsense/v1/${site}/${gateway}/pcap`;
  return { request: `${base}/request`, response: (requester: string) => `${base}/response/${requester}` };
}

export interface ResponderSettings {
  site: string;
  gateway: string;
  requesters: string[];
  maxBytes?: number;
  chunkBytes?: number;
  logger?: Logger;
  // Skip the MQTT 5 attempt (4), as for the embedded broker.
  protocolVersion?: MqttVersion;
}

// Reads and checks a request. Returns the request or the reason it is bad.
export function parsePcapRequest(payload: Buffer): PcapRequestMessage | { error: string; requestId?: string; requester?: string } {
  if (payload.length > MAX_REQUEST_BYTES) return { error: `request of ${payload.length} bytes is above ${MAX_REQUEST_BYTES}` };
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(payload.toString("utf8")) as Record<string, unknown>;
  } catch {
    return { error: "request is not JSON" };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return { error: "request is not a JSON object" };
  const requestId = value.request_id;
  const requester = value.requester;
  if (typeof requestId !== "string" || !NAME.test(requestId)) return { error: 'request_id must be 1-64 letters, digits, "_", "." or "-"' };
  if (typeof requester !== "string" || !NAME.test(requester)) return { error: 'requester must be 1-64 letters, digits, "_", "." or "-"', requestId };
  const request: PcapRequestMessage = { request_id: requestId, requester };
  for (const key of ["alert", "flow", "host"] as const) {
    if (value[key] === undefined) continue;
    if (typeof value[key] !== "string" || (value[key] as string).length > 256) return { error: `${key} must be text of at most 256 characters`, requestId, requester };
    request[key] = value[key] as string;
  }
  for (const key of ["from", "to", "before", "after"] as const) {
    if (value[key] === undefined) continue;
    const seconds = typeof value[key] === "string" ? Date.parse(value[key] as string) / 1000 : value[key];
    if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds < 0) {
      return { error: `${key} must be seconds or an ISO 8601 time`, requestId, requester };
    }
    request[key] = seconds;
  }
  const unknown = Object.keys(value).filter((k) => !["request_id", "requester", "alert", "flow", "host", "from", "to", "before", "after"].includes(k));
  if (unknown.length > 0) return { error: `unknown key "${unknown[0]}"`, requestId, requester };
  return request;
}

// Builds the response to one request from the ring: the messages to
// publish, in order.
export async function respondToPcapRequest(ring: PacketRing, request: PcapRequestMessage, settings: ResponderSettings): Promise<PcapResponse[]> {
  const requestId = request.request_id;
  if (!settings.requesters.includes(request.requester)) {
    return [{ request_id: requestId, status: "refused", message: `requester "${request.requester}" may not ask gateway ${settings.gateway} for packets; add it to pcap_requests.requesters in the gateway's configuration` }];
  }
  try {
    const { bytes, packets } = await exportToBytes(ring, request, settings.maxBytes ?? DEFAULT_PCAP_RESPONSE_BYTES);
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    const chunkBytes = settings.chunkBytes ?? DEFAULT_PCAP_CHUNK_BYTES;
    const chunks = Math.max(1, Math.ceil(bytes.length / chunkBytes));
    const answers: PcapResponse[] = [];
    for (let chunk = 0; chunk < chunks; chunk++) {
      const data = Buffer.from(bytes.buffer, bytes.byteOffset + chunk * chunkBytes, Math.min(chunkBytes, bytes.length - chunk * chunkBytes));
      answers.push({ request_id: requestId, status: "ok", packets, bytes: bytes.length, sha256, chunk, chunks, data: data.toString("base64") });
    }
    return answers;
  } catch (error) {
    if (!(error instanceof PcapRequestError)) throw error;
    const status: PcapStatus = error.code === "pcap.too_large" ? "too_large"
      : error.code === "pcap.unknown_alert" || error.code === "pcap.no_packets" ? "not_found" : "bad_request";
    return [{ request_id: requestId, status, message: error.message }];
  }
}

// Subscribes to this gateway's request topic and responds from the ring.
export class PcapResponder {
  private readonly logger: Logger;
  private readonly topics: ReturnType<typeof pcapTopics>;
  // Requests are handled one at a time, in arrival order.
  private queue: Promise<void> = Promise.resolve();

  private client!: MqttClient;

  private constructor(private readonly ring: PacketRing, private readonly settings: ResponderSettings) {
    this.logger = settings.logger ?? silentLogger;
    this.topics = pcapTopics(settings.site, settings.gateway);
  }

  // Connects with its own client (id fieldsense-GATEWAY-pcap), MQTT 5 when
  // the broker speaks it, and subscribes again after every reconnect.
  static async start(url: string, clientOptions: IClientOptions, ring: PacketRing, settings: ResponderSettings): Promise<PcapResponder> {
    const responder = new PcapResponder(ring, settings);
    const logger = settings.logger ?? silentLogger;
    const topic = pcapTopics(settings.site, settings.gateway).request;
    const { client } = await connectWithFallback(url, { ...clientOptions, clientId: `fieldsense-${settings.gateway}-pcap`.slice(0, 64), clean: true }, {
      logger,
      protocolVersion: settings.protocolVersion,
      prepare: (candidate) => {
        // Answers wait in the queue until the client below is set.
        candidate.on("message", (_topic, payload, packet) => responder.enqueue(payload, packet));
        candidate.on("connect", () => {
          candidate.subscribe(topic, { qos: 1 }, (error) => {
            if (error) logger.error({ err: error.message, topic }, "pcap request topic not subscribed");
          });
        });
      },
    });
    responder.client = client;
    return responder;
  }

  private enqueue(payload: Buffer, packet: IPublishPacket): void {
    this.queue = this.queue.then(() => this.handle(payload, packet)).catch((error: Error) => {
      this.logger.error({ err: error.message }, "pcap request failed");
    });
  }

  private async handle(payload: Buffer, packet: IPublishPacket): Promise<void> {
    const parsed = parsePcapRequest(payload);
    const correlationData = packet.properties?.correlationData;
    if ("error" in parsed) {
      this.logger.warn({ requester: parsed.requester, requestId: parsed.requestId, err: parsed.error }, "pcap request rejected");
      if (parsed.requestId && parsed.requester) {
        await this.send(parsed.requester, packet, [{ request_id: parsed.requestId, status: "bad_request", message: `invalid pcap request: ${parsed.error}` }], correlationData);
      }
      return;
    }
    const answers = await respondToPcapRequest(this.ring, parsed, this.settings);
    const first = answers[0];
    this.logger.info({
      requester: parsed.requester, requestId: parsed.request_id, alert: parsed.alert, flow: parsed.flow, host: parsed.host,
      status: first.status, bytes: first.bytes ?? 0, packets: first.packets ?? 0, chunks: answers.length,
    }, "pcap request answered");
    await this.send(parsed.requester, packet, answers, correlationData);
  }

  private async send(requester: string, request: IPublishPacket, answers: PcapResponse[], correlationData?: Buffer): Promise<void> {
    const own = this.topics.response(requester);
    const asked = request.properties?.responseTopic;
    const topic = asked === own ? asked : own;
    for (const answer of answers) {
      await this.client.publishAsync(topic, JSON.stringify(answer), { qos: 1, ...(correlationData ? { properties: { correlationData } } : {}) });
    }
  }

  async close(): Promise<void> {
    await this.queue;
    await this.client.endAsync();
  }
}
