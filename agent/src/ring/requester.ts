// The correlator's side of packets on request (responder.ts has the topics
// and messages): requests a capture from one gateway and joins the chunks of
// its response, checking their number and the SHA-256 of the whole.
import { createHash, randomUUID } from "node:crypto";
import type { IClientOptions } from "mqtt";
import { connectWithFallback } from "../publish/mqtt.js";
import type { PcapRequest } from "./export.js";
import { pcapTopics, type PcapResponse, type PcapStatus } from "./responder.js";

export const DEFAULT_PCAP_TIMEOUT_MS = 30_000;

export class PcapResponseError extends Error {
  constructor(message: string, readonly status: PcapStatus | "timeout" | "corrupt") {
    super(message);
    this.name = "PcapResponseError";
  }
}

export interface PcapFetch {
  url: string;
  clientOptions?: IClientOptions;
  site: string;
  gateway: string;
  requester: string;
  request: PcapRequest;
  timeoutMs?: number;
}

// Sends the request and waits for the whole response. Resolves with the pcapng
// bytes; rejects with PcapResponseError for a refusal, packets the gateway no
// longer has, a response that does not add up, or none in time.
export async function fetchPcap(fetch: PcapFetch): Promise<{ bytes: Buffer; packets: number; sha256: string }> {
  const topics = pcapTopics(fetch.site, fetch.gateway);
  const responseTopic = topics.response(fetch.requester);
  const requestId = randomUUID();
  const chunks = new Map<number, Buffer>();
  let settle: ((result: { bytes: Buffer; packets: number; sha256: string } | Error) => void) | undefined;
  const done = new Promise<{ bytes: Buffer; packets: number; sha256: string } | Error>((resolve) => { settle = resolve; });

  const onAnswer = (answer: PcapResponse) => {
    if (answer.request_id !== requestId) return;
    if (answer.status !== "ok") {
      settle!(new PcapResponseError(`gateway ${fetch.site}/${fetch.gateway} answered ${answer.status}: ${answer.message ?? "no reason given"}`, answer.status));
      return;
    }
    const total = answer.chunks ?? 0;
    if (!Number.isInteger(answer.chunk) || answer.chunk! < 0 || answer.chunk! >= total || typeof answer.data !== "string") {
      settle!(new PcapResponseError(`gateway ${fetch.site}/${fetch.gateway} sent chunk ${answer.chunk} of ${total}, which does not fit; ask again`, "corrupt"));
      return;
    }
    chunks.set(answer.chunk!, Buffer.from(answer.data, "base64"));
    if (chunks.size < total) return;
    const bytes = Buffer.concat([...Array(total).keys()].map((i) => chunks.get(i)!));
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    if (bytes.length !== answer.bytes || sha256 !== answer.sha256) {
      settle!(new PcapResponseError(`the capture from ${fetch.site}/${fetch.gateway} does not match its announced size and SHA-256 (${bytes.length} bytes, ${sha256}; announced ${answer.bytes}, ${answer.sha256}); ask again`, "corrupt"));
      return;
    }
    settle!({ bytes, packets: answer.packets ?? 0, sha256 });
  };

  const { client, version } = await connectWithFallback(fetch.url, { ...fetch.clientOptions, clean: true }, {
    prepare: (candidate) => candidate.on("message", (topic, payload) => {
      if (topic !== responseTopic) return;
      try {
        onAnswer(JSON.parse(payload.toString("utf8")) as PcapResponse);
      } catch {
        settle!(new PcapResponseError(`gateway ${fetch.site}/${fetch.gateway} sent an answer that is not JSON on ${topic}`, "corrupt"));
      }
    }),
  });
  const timeoutMs = fetch.timeoutMs ?? DEFAULT_PCAP_TIMEOUT_MS;
  const timer = setTimeout(() => settle!(new PcapResponseError(
    `timed out after ${timeoutMs} ms waiting for gateway ${fetch.site}/${fetch.gateway}; check that the agent runs with its packet ring and is connected to this broker`, "timeout")), timeoutMs);
  try {
    await client.subscribeAsync(responseTopic, { qos: 1 });
    const body = JSON.stringify({ request_id: requestId, requester: fetch.requester, ...fetch.request });
    await client.publishAsync(topics.request, body, {
      qos: 1,
      ...(version === 5 ? { properties: { responseTopic, correlationData: Buffer.from(requestId) } } : {}),
    });
    const result = await done;
    if (result instanceof Error) throw result;
    return result;
  } finally {
    clearTimeout(timer);
    await client.endAsync();
  }
}
