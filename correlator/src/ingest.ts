// Validation of every message the correlator receives, before anything is
// stored: topic shape, size cap, JSON, JSON Schema, and for alerts that the
// site and gateway in the payload are the ones in the topic. A broker ACL lets
// each gateway publish only under its own topic, so a mismatch is a forgery
// or a misconfigured gateway.
import type { Alert } from "../../agent/src/publish/alert.js";
import type { RecordJson } from "../../agent/src/publish/record.js";
import type { Validators } from "../../agent/src/publish/schemas.js";

// Largest accepted payload. A typical alert is about 1 KiB; the evidence of
// the largest models stays well below this.
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024;

const TOPIC = /^fieldsense\/v1\/([^/+#]+)\/([^/+#]+)\/(alerts|records)$/;

export type RejectionKind =
  | "unexpected_topic"
  | "oversized"
  | "invalid_json"
  | "invalid_alert"
  | "invalid_record"
  | "topic_mismatch";

export const REJECTION_KINDS: readonly RejectionKind[] = [
  "unexpected_topic", "oversized", "invalid_json", "invalid_alert", "invalid_record", "topic_mismatch",
];

export type IngestResult =
  | { accepted: true; leaf: "alerts"; site: string; gateway: string; alert: Alert }
  | { accepted: true; leaf: "records"; site: string; gateway: string; record: RecordJson }
  | { accepted: false; kind: RejectionKind; leaf?: "alerts" | "records"; reason: string };

// Checks one message. Every failure on the content becomes a rejection:
// JSON.parse is the only call that throws, and it is caught.
export function ingestMessage(topic: string, payload: Buffer, validators: Validators, maxBytes = DEFAULT_MAX_MESSAGE_BYTES): IngestResult {
  const match = TOPIC.exec(topic);
  if (!match) {
    return { accepted: false, kind: "unexpected_topic", reason: "topic is not fieldsense/v1/{site}/{gateway}/alerts or .../records" };
  }
  const [, site, gateway, leafText] = match;
  const leaf = leafText as "alerts" | "records";

  if (payload.length > maxBytes) {
    return { accepted: false, kind: "oversized", leaf, reason: `payload of ${payload.length} bytes exceeds the cap of ${maxBytes} bytes` };
  }
  let value: unknown;
  try {
    value = JSON.parse(payload.toString("utf8"));
  } catch (error) {
    return { accepted: false, kind: "invalid_json", leaf, reason: `invalid JSON: ${(error as Error).message}` };
  }

  if (leaf === "records") {
    const check = validators.record(value);
    if (!check.valid) return { accepted: false, kind: "invalid_record", leaf, reason: `record does not match schemas/record.schema.json: ${check.firstError}` };
    // Records carry no site or gateway of their own: the topic names them.
    return { accepted: true, leaf, site, gateway, record: value as RecordJson };
  }

  const check = validators.alert(value);
  if (!check.valid) return { accepted: false, kind: "invalid_alert", leaf, reason: `alert does not match schemas/alert.schema.json: ${check.firstError}` };
  const alert = value as Alert;
  if (alert.site !== site || alert.gateway !== gateway) {
    return {
      accepted: false, kind: "topic_mismatch", leaf,
      reason: `alert ${alert.id} names site "${alert.site}" and gateway "${alert.gateway}" but arrived on the topic of "${site}"/"${gateway}"`,
    };
  }
  return { accepted: true, leaf, site, gateway, alert };
}
