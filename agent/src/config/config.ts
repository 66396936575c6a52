// Defaults and checks for the values that name a gateway on the wire.
import { hostname } from "node:os";

// Site and gateway become MQTT topic levels, so they must not contain the
// level separator or the wildcards ('/', '+', '#'), and stay short.
const TOPIC_LEVEL = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export const DEFAULT_SITE = "default";

// Default control socket (for the CLI) and data directory (for snapshots) of the agent.
export const DEFAULT_CONTROL_SOCKET = "/run/fieldsense/agent.sock";
export const DEFAULT_AGENT_DATA_DIR = "/var/lib/fieldsense";
// Maximum gap of packet time between two packets that a paced replay waits
// for; a longer one (a capture that resumed days later) is skipped.
export const MAX_PACING_GAP_SEC = 60;

// The gateway name defaults to the host name, reduced to topic-safe characters.
export function defaultGateway(): string {
  const cleaned = hostname().replace(/[^A-Za-z0-9_.-]/g, "-").replace(/^[^A-Za-z0-9]+/, "").slice(0, 64);
  return cleaned || "gateway";
}

// Returns an error message for an invalid site or gateway name, else undefined.
export function checkTopicLevel(option: string, value: string): string | undefined {
  if (TOPIC_LEVEL.test(value)) return undefined;
  return `invalid ${option} "${value}": use 1 to 64 letters, digits, '_', '.' or '-', starting with a letter or digit (it becomes an MQTT topic level)`;
}

// MQTT URL schemes mqtt.js dials: tcp: and ssl: are its aliases of mqtt: and mqtts:.
export const BROKER_URL_SCHEMES = ["mqtt:", "mqtts:", "tcp:", "ssl:", "ws:", "wss:"];

// Returns an error message for a broker URL that mqtt.js cannot use, else
// undefined. A URL without a host ("mqtt://", "mqtt:127.0.0.1") is rejected,
// because mqtt.js would quietly dial localhost:1883 instead.
export function checkBrokerUrl(value: string): string | undefined {
  const expected = "expected mqtt://HOST:PORT or mqtts://HOST:PORT, such as mqtt://127.0.0.1:1883";
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `invalid broker URL "${value}": ${expected}`;
  }
  if (!BROKER_URL_SCHEMES.includes(url.protocol)) {
    return `invalid broker URL "${value}": scheme ${url.protocol} is not an MQTT scheme; use mqtt://, mqtts://, ws:// or wss://`;
  }
  if (url.hostname === "") {
    return `invalid broker URL "${value}": it names no host; ${expected}`;
  }
  return undefined;
}
