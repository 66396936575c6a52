// Alerts: what a gateway publishes when a model fires. schemas/alert.schema.json
// fixes the JSON layout. This module builds alerts from the core's alert
// records, gives each a stable id and formats it for people.
import { createHash } from "node:crypto";
import type { CoreRecord, Endpoint, FieldValue } from "../core/core.js";
import type { ModelInfo } from "../core/models.js";
import { evidenceFromFields, KEY_EVIDENCE } from "./evidence.js";

export const ALERT_SCHEMA_VERSION = 1;

export interface AlertContext {
  seen_before: boolean;
  first_seen?: string;
}

export interface Alert {
  type: "alert";
  version: number;
  id: string;
  ts: string;
  site: string;
  gateway: string;
  model: string;
  name: string;
  score: number;
  mitre: string[];
  src: Endpoint;
  dst: Endpoint;
  transport: "tcp" | "udp";
  flow_id: number;
  record: string;
  account?: string;
  evidence: Record<string, FieldValue>;
  logic: string;
  learning: boolean;
  context: AlertContext;
}

export interface AlertOrigin {
  site: string;
  gateway: string;
}

// Hands out alert ids for one replay or capture session. The id hashes what
// makes an alert itself: site, gateway, model, packet time, both endpoints and
// the evidence. The core's flow id is left out because it depends on what the
// core saw before (two replays of one file in one process number flows
// differently). Two alerts that agree on all of that still differ by an
// occurrence number, so ids never collide within a session and a replay of the
// same input yields the same ids in the same order.
export class AlertIdentity {
  private readonly seen = new Map<string, number>();

  next(origin: AlertOrigin, modelId: string, record: CoreRecord, evidence: Record<string, FieldValue>): string {
    const basis = canonicalJson([
      origin.site, origin.gateway, modelId, record.tsSec, record.tsNsec,
      record.transport, record.src, record.dst, evidence,
    ]);
    const occurrence = this.seen.get(basis) ?? 0;
    this.seen.set(basis, occurrence + 1);
    return createHash("sha256").update(basis).update(`#${occurrence}`).digest("hex").slice(0, 32);
  }
}

// Builds an alert from an alert record of the core and the model it names.
export function buildAlert(record: CoreRecord, model: ModelInfo, origin: AlertOrigin, identity: AlertIdentity): Alert {
  const { evidence, account } = evidenceFromFields(record.fields);
  const alert: Alert = {
    type: "alert",
    version: ALERT_SCHEMA_VERSION,
    id: identity.next(origin, model.id, record, evidence),
    ts: record.ts,
    site: origin.site,
    gateway: origin.gateway,
    model: model.id,
    name: model.name,
    score: alertScore(record.fields.score, model.score),
    mitre: [...new Set(model.mitre)],
    src: { ip: record.src.ip, port: record.src.port },
    dst: { ip: record.dst.ip, port: record.dst.port },
    transport: record.transport,
    flow_id: record.flowId,
    record: model.record,
    evidence,
    logic: model.logic,
    learning: record.fields.learning === true,
    context: alertContext(record.fields.seen_before, record.fields.first_seen),
  };
  if (account !== undefined) alert.account = account;
  return alert;
}

// The core's score wins over the model's base score; both are clamped to 0-100.
function alertScore(fromCore: FieldValue | undefined, base: number): number {
  const value = typeof fromCore === "number" ? fromCore : base;
  if (!Number.isFinite(value)) return 0;
  return Math.min(100, Math.max(0, Math.round(value)));
}

function alertContext(seenBefore: FieldValue | undefined, firstSeen: FieldValue | undefined): AlertContext {
  const context: AlertContext = { seen_before: seenBefore === true || seenBefore === 1 };
  const iso = firstSeenIso(firstSeen);
  if (iso !== undefined) context.first_seen = iso;
  return context;
}

// NOTE: the model engine's `first_seen` field is read as Unix seconds when it
// is a number (0 meaning never) and as a date when it is text.
function firstSeenIso(value: FieldValue | undefined): string | undefined {
  if (typeof value === "number") {
    if (!(value > 0)) return undefined;
    return new Date(value * 1000).toISOString();
  }
  if (typeof value === "string" && value !== "") {
    const time = Date.parse(value);
    return Number.isNaN(time) ? undefined : new Date(time).toISOString();
  }
  return undefined;
}

// JSON with object keys sorted, so that equal values hash equally.
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.keys(value as object).sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(",")}}`;
  }
  return JSON.stringify(value);
}

export function formatEndpoint(endpoint: Endpoint): string {
  return endpoint.ip.includes(":") ? `[${endpoint.ip}]:${endpoint.port}` : `${endpoint.ip}:${endpoint.port}`;
}

function formatValue(value: FieldValue): string {
  return Array.isArray(value) ? value.map(formatValue).join(", ") : String(value);
}

// Formats one alert as a block of lines for a person at a terminal.
export function formatAlertText(alert: Alert): string {
  const lines = [
    `${alert.ts}  score ${alert.score}  ${alert.name} (${alert.model})${alert.learning ? "  [learning]" : ""}`,
    `  ${formatEndpoint(alert.src)} -> ${formatEndpoint(alert.dst)}${alert.account ? `  account ${alert.account}` : ""}`,
  ];
  const shown = KEY_EVIDENCE.filter((name) => alert.evidence[name] !== undefined);
  if (shown.length > 0) {
    lines.push(`  ${shown.map((name) => `${name}=${formatValue(alert.evidence[name])}`).join("  ")}`);
  }
  if (alert.mitre.length > 0) lines.push(`  ATT&CK ${alert.mitre.join(", ")}`);
  const routine = alert.context.seen_before
    ? `seen before${alert.context.first_seen ? `, first on ${alert.context.first_seen}` : ""}`
    : "first time seen";
  lines.push(`  ${routine}`);
  return lines.join("\n");
}
