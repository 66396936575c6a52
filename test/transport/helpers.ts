// Shared pieces of the transport tests: numbered alerts, subscribers,
// waiting on a condition, and a temporary folder.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from "mqtt";
import type { Alert } from "../../agent/src/publish/alert.js";
import { sampleAlert } from "../publish/samples.js";

const BASE_TS_MS = Date.parse("2026-03-10T08:00:00Z");
// Alerts two hours apart in packet time fall outside the correlator's
// default one-hour window, so each one forms its own small incident.
const SPACING_MS = 2 * 3600 * 1000;

// A valid alert whose id encodes `index` (32 hex digits), so tests can tell
// which of a numbered series arrived without hashing each one.
export function numberedAlert(index: number, site = "plant-a", gateway = "gw-1", base: Alert = sampleAlert(site, gateway)): Alert {
  return {
    ...base,
    id: index.toString(16).padStart(32, "0"),
    ts: new Date(BASE_TS_MS + index * SPACING_MS).toISOString(),
    score: 40 + (index % 60),
  };
}

export function alertIndex(id: string): number {
  return parseInt(id, 16);
}

export interface Received { topic: string; payload: Buffer; packet: IPublishPacket }

export async function subscribe(
  url: string, filter: string, options: IClientOptions = {},
): Promise<{ client: MqttClient; messages: Received[] }> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, ...options });
  const messages: Received[] = [];
  client.on("message", (topic, payload, packet) => messages.push({ topic, payload, packet }));
  await client.subscribeAsync(filter, { qos: 1 });
  return { client, messages };
}

export async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export function temporaryDir(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), `fieldsense-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
