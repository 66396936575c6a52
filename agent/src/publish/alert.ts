// Alerts: what a gateway publishes when a model fires. schemas/alert.schema.json
// fixes the JSON layout. This module builds alerts from the core's alert
// records, gives each a stable id and formats it for people.
import { createHash } from "node:crypto";
import type { CoreRecord, Endpoint, FieldValue } from "../core/core.js";
import type { ModelInfo } from "../core/models.js";
import { evidenceFromFields, KEY_EVIDENCE } from "./evidence.js";

export const ALERT_SCHEMA_VERSION = 1;

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
  context: BaselineContext;
  // The factors that made the score, so an analyst can tell why it is 83 and not 40.
  why: ScoreFactor[];
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
  const explanation = explainAlert(record, model);
  const alert: Alert = {
    type: "alert",
    version: ALERT_SCHEMA_VERSION,
    id: identity.next(origin, model.id, record, evidence),
    ts: record.ts,
    site: origin.site,
    gateway: origin.gateway,
    model: model.id,
    name: model.name,
    score: explanation.score,
    mitre: [...new Set(model.mitre)],
    src: { ip: record.src.ip, port: record.src.port },
    dst: { ip: record.dst.ip, port: record.dst.port },
    transport: record.transport,
    flow_id: record.flowId,
    record: model.record,
    evidence,
    logic: model.logic,
    learning: record.fields.learning === true,
    context: explanation.context,
    why: explanation.why,
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

// One factor of an alert's score and its signed contribution in points. The
// points of all factors add up to the score before it is clamped to 0-100.
export interface ScoreFactor {
  factor: string;
  points: number;
  reason: string;
}

// Baseline context of an alert: is this routine between these hosts?
export interface BaselineContext {
  seen_before: boolean;
  first_seen?: string;
  last_seen?: string;
  times_seen?: number;
  days_seen?: number;
  occurrences?: number;
  usual_hour?: number;
  median_interval_s?: number;
  periodicity?: number;
  pair_seen_before?: boolean;
  // after_file_write models: the file written to an admin share before.
  written_file?: string;
  written_file_sha256?: string;
  routine: boolean;
  // The baseline context in one sentence, such as "seen daily at about
  // 06:00 Europe/Berlin on 30 days between these hosts since 2026-01-01",
  // in the time zone of the baselines.
  summary: string;
}

export interface AlertExplanation {
  score: number;
  why: ScoreFactor[];
  context: BaselineContext;
}

// Factor ids of the core (Factor in wasm-core/assembly/model-fields.ts).
const FACTOR_NAMES: Record<number, string> = {
  1: "base", 2: "new_service", 3: "new_pair", 4: "rare", 5: "unusual_hour", 6: "routine",
  7: "learning_period", 8: "no_master_yet", 9: "beaconing", 10: "profile", 11: "newcomer", 12: "ot_outbound",
};

function numbers(value: FieldValue | undefined): number[] {
  if (value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.filter((v): v is number => typeof v === "number");
}

function numberOf(value: FieldValue | undefined): number | undefined {
  return typeof value === "number" ? value : undefined;
}

const pad2 = (n: number) => String(n).padStart(2, "0");

function formatInterval(seconds: number): string {
  if (seconds >= 20 * 3600 && seconds <= 28 * 3600) return "about a day";
  if (seconds >= 3600) return `about ${Math.round(seconds / 3600)} h`;
  if (seconds >= 60) return `about ${Math.round(seconds / 60)} min`;
  return `about ${Math.round(seconds)} s`;
}

function day(iso: string | undefined): string {
  return iso ? iso.slice(0, 10) : "an unknown day";
}

// Reads the score factors and baseline context of a core alert record and
// puts them into words.
export function explainAlert(record: CoreRecord, model: ModelInfo): AlertExplanation {
  const f = record.fields;
  const context: BaselineContext = { seen_before: f.seen_before === true, routine: f.routine === true, summary: "" };
  const firstSeen = firstSeenIso(f.first_seen);
  if (firstSeen !== undefined && context.seen_before) context.first_seen = firstSeen;
  const lastSeen = firstSeenIso(f.last_seen);
  if (lastSeen !== undefined) context.last_seen = lastSeen;
  const copy = (key: "times_seen" | "days_seen" | "occurrences" | "usual_hour" | "periodicity", name: string) => {
    const v = numberOf(f[name]);
    if (v !== undefined) context[key] = v;
  };
  copy("times_seen", "times_seen");
  copy("days_seen", "days_seen");
  copy("occurrences", "occurrences");
  copy("usual_hour", "usual_hour");
  copy("periodicity", "periodicity");
  const interval = numberOf(f.median_interval);
  if (interval !== undefined) context.median_interval_s = interval;
  if (typeof f.pair_seen_before === "boolean") context.pair_seen_before = f.pair_seen_before;
  if (typeof f.written_file === "string") context.written_file = f.written_file;
  if (typeof f.written_file_sha256 === "string") context.written_file_sha256 = f.written_file_sha256;
  context.summary = contextSummary(context);
  if (context.written_file) context.summary += `; it follows the write of ${context.written_file} by the same source`;

  const ids = numbers(f.factor);
  const points = numbers(f.factor_points);
  const why: ScoreFactor[] = ids.map((id, i) => {
    const factor = FACTOR_NAMES[id] ?? `factor_${id}`;
    const p = points[i] ?? 0;
    return { factor, points: p, reason: factorReason(factor, p, model, context) };
  });
  return { score: alertScore(f.score, model.score), why, context };
}

// Time zone of the core's hour-of-day profile, named in the routine text
// (set by the model install, BaselineOptions.timeZone).
let alertTimeZone = "UTC";

export function setAlertTimeZone(zone: string): void {
  alertTimeZone = zone;
}

function contextSummary(c: BaselineContext): string {
  const hour = c.usual_hour !== undefined ? `${pad2(c.usual_hour)}:00 ${alertTimeZone}` : undefined;
  if (c.routine && hour) {
    return `seen daily at about ${hour} on ${c.days_seen} days between these hosts since ${day(c.first_seen)}`;
  }
  if (!c.seen_before) {
    if (c.pair_seen_before === false) return "new: these hosts were never seen talking to each other before";
    if (c.pair_seen_before === true) return "new: these hosts talked before, but never with this service";
    return "new: first time seen between these hosts";
  }
  if (c.times_seen === undefined || c.days_seen === undefined) {
    return `seen before between these hosts, first on ${day(c.first_seen)}`;
  }
  const parts = [`seen ${c.times_seen} times on ${c.days_seen} days between these hosts since ${day(c.first_seen)}`];
  if (hour) parts.push(`usually at about ${hour}`);
  if (c.median_interval_s !== undefined) parts.push(`every ${formatInterval(c.median_interval_s)}`);
  return parts.join(", ");
}

function factorReason(factor: string, points: number, model: ModelInfo, c: BaselineContext): string {
  switch (factor) {
    case "base": return `base score of model ${model.id}`;
    case "new_service": return "first time these hosts used this service";
    case "new_pair": return "first time these hosts talked to each other";
    case "rare": return `seen on only ${c.days_seen ?? 0} day(s) before`;
    case "unusual_hour": return `seen on ${c.days_seen ?? 0} days, but never within an hour of this time`;
    case "routine": return contextSummary(c);
    case "learning_period": return "the baselines are still in their learning period";
    case "no_master_yet": return "the device has no established Modbus or DNP3 master yet";
    case "profile": return "the request breaks the firmware profile of the device (0 points: the base score carries it)";
    case "newcomer": return "first time this host is seen in this Modbus role after the baselines settled";
    case "ot_outbound": return "an OT device opened a connection to an IT or external host";
    case "beaconing": return `regular connections every ${formatInterval(c.median_interval_s ?? 0)} (periodicity ${c.periodicity ?? 0} of 100)`;
  }
  return `${points} points`;
}

// Formats one alert as a block of lines for a person at a terminal. With the
// core record's `explanation` (explainAlert), it adds the score factors and
// the baseline context in words.
export function formatAlertText(alert: Alert, explanation?: AlertExplanation): string {
  const lines = [
    `${alert.ts}  score ${alert.score}  ${alert.name} (${alert.model})${alert.learning ? "  [learning]" : ""}`,
    `  ${formatEndpoint(alert.src)} -> ${formatEndpoint(alert.dst)}${alert.account ? `  account ${alert.account}` : ""}`,
  ];
  const shown = KEY_EVIDENCE.filter((name) => alert.evidence[name] !== undefined);
  if (shown.length > 0) {
    lines.push(`  ${shown.map((name) => `${name}=${formatValue(alert.evidence[name])}`).join("  ")}`);
  }
  if (alert.mitre.length > 0) lines.push(`  ATT&CK ${alert.mitre.join(", ")}`);
  if (explanation) {
    lines.push(`  ${explanation.context.summary}`);
    const why = explanation.why.map((w) => `${w.points >= 0 ? "+" : ""}${w.points} ${w.factor} (${w.reason})`);
    if (why.length > 0) lines.push(`  why: ${why.join("; ")}`);
    return lines.join("\n");
  }
  const routine = alert.context.seen_before
    ? `seen before${alert.context.first_seen ? `, first on ${alert.context.first_seen}` : ""}`
    : "first time seen";
  lines.push(`  ${routine}`);
  return lines.join("\n");
}
