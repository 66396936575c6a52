// Incident reports in Markdown. Each report answers, in order, the four
// questions of an analyst's triage: what fired and why, which host did what to
// which host with which account, which files moved, and whether this is routine.
import type { Alert } from "../../agent/src/publish/alert.js";
import { formatEndpoint } from "../../agent/src/publish/alert.js";
import { KEY_EVIDENCE } from "../../agent/src/publish/evidence.js";
import type { RecordJson } from "../../agent/src/publish/record.js";
import type { FieldValue } from "../../agent/src/core/core.js";
import { CLOCK_AHEAD_MAX_MS } from "./clock.js";
import { markdownCode, markdownText } from "./markdown.js";
import { MODEL_NEXT_STEPS, NEXT_STEPS, OT_RECORD_TYPES, STAGE_NAMES, tacticsOf, TECHNIQUES } from "./attack.js";
import { IDENTITY_FACTS } from "./graph.js";
import { explainRank } from "./rank.js";
import { scoreIncident, type Incident, type ModelSummary, type RankedIncident, type Store } from "./store.js";

const CREATE_COMMANDS = new Set(["CREATE", "SMB_COM_NT_CREATE_ANDX"]);
const WRITE_COMMANDS = new Set(["WRITE", "SMB_COM_WRITE_ANDX"]);
const READ_COMMANDS = new Set(["READ", "SMB_COM_READ_ANDX"]);

// Alerts listed one per line in sections 2 and 4. An incident with more
// alerts lists its first ones and counts the rest; the summaries of section 1
// and the header still cover every alert.
export const REPORT_MAX_ALERT_LINES = 500;

export async function renderIncidentReport(store: Store, incidentId: number): Promise<string | undefined> {
  const incident = await store.rankedIncident(incidentId);
  if (!incident) return undefined;
  const alerts = await store.alertsOfIncident(incidentId, REPORT_MAX_ALERT_LINES);
  const score = scoreIncident({ maxScore: incident.maxAlertScore, models: incident.models.length, techniques: incident.techniques.length });
  const lines: string[] = [];
  lines.push(`# Incident ${incident.id}: score ${incident.score}`, "");
  lines.push(`- Site: ${markdownText(incident.site)}`);
  lines.push(`- Rank: ${markdownText(explainRank(incident))}`);
  lines.push(`- Score: ${score.explanation}`);
  lines.push(`- Packet time: ${iso(incident.firstMs)} to ${iso(incident.lastMs)}`);
  lines.push(...clockNotes(await store.incidentClockProblems(incidentId)));
  lines.push(`- Hosts: ${incident.hosts.map(markdownText).join(", ")}`);
  lines.push(`- Alerts: ${incident.alertCount} from gateway(s) ${(await store.incidentGateways(incidentId)).map(markdownText).join(", ")}`);
  if (incident.progression.length >= 2) {
    lines.push(`- Progression: ${incident.progression.map((stage) => STAGE_NAMES[stage]).join(" -> ")}`);
  }
  if (incident.pivot) {
    lines.push(`- IT-to-OT pivot: a host reached from IT sent OT commands at ${iso(incident.pivotMs!)}.`);
  } else if (spansItAndOt(await store.incidentRecordTypes(incidentId))) {
    lines.push("- Spans IT and OT: the same hosts appear in IT protocol alerts and in OT protocol alerts.");
  }
  lines.push("");
  lines.push(...whatFired(await store.modelSummaries(incidentId)), "");
  lines.push(...await whoDidWhat(store, incident, alerts), "");
  lines.push(...await filesMoved(store, incident, alerts), "");
  lines.push(...await isRoutine(store, incident, alerts), "");
  lines.push(...timeline(incident, alerts), "");
  lines.push(...attackMapping(incident), "");
  lines.push(...nextSteps(incident, await store.modelSummaries(incidentId)), "");
  return lines.join("\n");
}

// Header lines on alerts whose gateway clock was wrong, none when all
// packet times are plausible.
function clockNotes(problems: { ahead: number; unset: number; maxAheadMs: number }): string[] {
  const lines: string[] = [];
  if (problems.ahead > 0) {
    lines.push(`- Gateway clock ahead: ${problems.ahead} alert(s) carry a packet time more than ${CLOCK_AHEAD_MAX_MS / 3_600_000} h after the correlator received them` +
      ` (up to ${(problems.maxAheadMs / 3_600_000).toFixed(1)} h), so the packet time span above is not reliable.`);
  }
  if (problems.unset > 0) {
    lines.push(`- Gateway clock not set: ${problems.unset} alert(s) carry a packet time before 2000, so the packet time span above is not reliable.`);
  }
  return lines;
}

// A table of incidents by rank, highest first, to head a listing of their
// reports.
export function renderIncidentIndex(incidents: RankedIncident[]): string {
  const lines = ["# Incidents by rank", "", "| Rank | Incident | Score | Alerts | Tactics | IT-to-OT pivot | Hosts |", "|---|---|---|---|---|---|---|"];
  for (const incident of incidents) {
    const tactics = incident.tactics.map((tactic) => tactic.name).join(", ");
    lines.push(`| ${incident.rank} | ${incident.id} | ${incident.score} | ${incident.alertCount} | ${markdownText(tactics)} | ${incident.pivot ? "yes" : "no"} | ${incident.hosts.map(markdownText).join(", ")} |`);
  }
  return lines.join("\n") + "\n";
}

function whatFired(models: ModelSummary[]): string[] {
  const lines = ["## 1. What fired, and the model's logic", ""];
  for (const { model, alerts, maxScore, first } of models) {
    lines.push(`### ${markdownText(first.name)} (${markdownCode(model)})`, "");
    lines.push(`- Fired ${alerts} time(s), score ${maxScore}${first.learning ? ", baseline still learning" : ""}`);
    lines.push(`- ATT&CK: ${first.mitre.length > 0 ? first.mitre.map(markdownText).join(", ") : "none given"}`);
    lines.push(`- Logic: ${markdownText(first.logic.trim().replace(/\s+/g, " "))}`, "");
  }
  lines.pop();
  return lines;
}

async function whoDidWhat(store: Store, incident: Incident, alerts: Alert[]): Promise<string[]> {
  const lines = ["## 2. Who did what to which host", "", "| Time (UTC) | From | To | Account | Model | Evidence |", "|---|---|---|---|---|---|"];
  for (const alert of alerts) {
    const account = markdownText(alert.account ?? "unknown");
    lines.push(`| ${markdownText(alert.ts)} | ${markdownText(formatEndpoint(alert.src))} | ${markdownText(formatEndpoint(alert.dst))} | ${account} | ${markdownText(alert.name)} | ${keyEvidence(alert.evidence)} |`);
  }
  if (incident.alertCount > alerts.length) lines.push("", omitted(incident, alerts));

  // Protocols without authentication (Modbus) name no account, but the same
  // source host may have logged on elsewhere in the incident.
  const accounts = await accountsByHost(store, incident);
  const unattributed = (await store.incidentAccounts(incident.id)).filter((row) => row.account === null).map((row) => row.srcIp);
  const hints = unattributed
    .filter((host) => accounts.has(host))
    .map((host) => `- No account in the alerts from ${markdownText(host)}, but ${markdownText(host)} used ${[...accounts.get(host)!].map(markdownCode).join(", ")} in this incident.`);
  if (hints.length > 0) lines.push("", ...hints);
  lines.push("", ...await entitySummary(store, incident));
  return lines;
}

// Hosts with the names learned for them, OT devices with their identity,
// and accounts, from the incident's entity graph.
async function entitySummary(store: Store, incident: Incident): Promise<string[]> {
  const nodes = await store.entities(incident.id);
  const lines: string[] = [];
  for (const node of nodes) {
    if (node.kind === "host") {
      const names = Array.isArray(node.facts.names) ? ` (names: ${node.facts.names.map(markdownText).join(", ")})` : "";
      lines.push(`- Host ${markdownText(String(node.facts.ip))}${names}${node.facts.critical ? ", configured as critical" : ""}`);
    } else if (node.kind === "ot_device") {
      const identity = IDENTITY_FACTS.filter((name) => node.facts[name] !== undefined).map((name) => `${name}=${String(node.facts[name])}`);
      lines.push(`- OT device ${markdownText(String(node.facts.ip))}${identity.length > 0 ? ` (${markdownText(identity.join(", "))})` : ""}${node.facts.critical ? ", configured as critical" : ""}`);
    } else if (node.kind === "account") {
      lines.push(`- Account ${markdownCode(node.label)}`);
    }
  }
  return lines.length > 0 ? ["Entities:", "", ...lines] : [];
}

// Accounts seen per source host: from the incident's alerts and from NTLM
// AUTHENTICATE records between its hosts around its time.
async function accountsByHost(store: Store, incident: Incident): Promise<Map<string, Set<string>>> {
  const accounts = new Map<string, Set<string>>();
  const add = (host: string, account: string | null | undefined) => {
    if (!account) return;
    accounts.set(host, (accounts.get(host) ?? new Set()).add(account));
  };
  for (const row of await store.incidentAccounts(incident.id)) add(row.srcIp, row.account);
  const ntlm = await store.recordsBetween(incident.site, incident.hosts, "ntlm", incident.firstMs - store.windowMs, incident.lastMs + store.windowMs);
  for (const record of ntlm) add(record.src.ip, text(record.account));
  return accounts;
}

interface FileActivity {
  file: string;
  share: string;
  client: string;
  server: string;
  written: number;
  read: number;
  size?: number;
  disposition?: string;
  firstTs: string;
}

// Lists the files opened, written and read over SMB between the incident's
// hosts, from one window before the first alert to one window after the last.
async function filesMoved(store: Store, incident: Incident, alerts: Alert[]): Promise<string[]> {
  const lines = ["## 3. Files moved", ""];
  const records = await store.recordsBetween(incident.site, incident.hosts, "smb",
    incident.firstMs - store.windowMs, incident.lastMs + store.windowMs);
  const files = new Map<string, FileActivity>();
  const pipes = new Set<string>();
  const countedTransfers = new Set<string>();
  for (const record of records) {
    const command = String(record.command ?? "");
    if (typeof record.named_pipe === "string") {
      pipes.add(`${markdownText(record.named_pipe)} on ${markdownText(record.dst.ip)}`);
      continue;
    }
    const name = text(record.path) ?? text(record.file_id);
    if (name === undefined) continue;
    const key = `${record.src.ip}|${record.dst.ip}|${name}`;
    const activity: FileActivity = files.get(key) ?? {
      file: name, share: text(record.share) ?? "", client: record.src.ip, server: record.dst.ip, written: 0, read: 0, firstTs: record.ts,
    };
    if (!activity.share && text(record.share)) activity.share = text(record.share)!;
    if (CREATE_COMMANDS.has(command)) {
      if (typeof record.file_size === "number") activity.size = record.file_size;
      if (record.create_disposition !== undefined) activity.disposition = String(record.create_disposition);
    } else if (typeof record.length === "number" && !countedTransfers.has(transferKey(record))) {
      // The command gives the direction (WRITE client to server, READ server
      // to client), whichever PDU the record was written on.
      countedTransfers.add(transferKey(record));
      if (WRITE_COMMANDS.has(command)) activity.written += record.length;
      else if (READ_COMMANDS.has(command)) activity.read += record.length;
    }
    files.set(key, activity);
  }
  if (files.size === 0) {
    lines.push(records.length === 0
      ? "No SMB records between these hosts were forwarded around this time, so no file transfer is known."
      : "SMB traffic between these hosts named no files around this time.");
  } else {
    lines.push("| First seen (UTC) | File | Share | Direction | Bytes written | Bytes read | Size at open | Disposition |", "|---|---|---|---|---|---|---|---|");
    for (const f of files.values()) {
      const [client, server] = [markdownText(f.client), markdownText(f.server)];
      const direction = f.written > 0 && f.read === 0 ? `${client} -> ${server}`
        : f.read > 0 && f.written === 0 ? `${server} -> ${client}`
        : `${client} <-> ${server}`;
      lines.push(`| ${markdownText(f.firstTs)} | ${markdownText(f.file)} | ${markdownText(f.share)} | ${direction} | ${f.written} | ${f.read} | ${f.size ?? ""} | ${markdownText(f.disposition ?? "")} |`);
    }
    lines.push("", "File contents are not kept: the gateway forwards facts about transfers, not payload bytes.");
  }
  if (pipes.size > 0) lines.push("", `Named pipes opened: ${[...pipes].join(", ")}.`);
  lines.push(...await hashedFiles(store, incident));
  lines.push(...whatRuns(alerts));
  return lines;
}

async function isRoutine(store: Store, incident: Incident, alerts: Alert[]): Promise<string[]> {
  const lines = ["## 4. Is this routine?", ""];
  for (const alert of alerts) {
    const firstSeen = alert.context.first_seen ? `, first on ${markdownText(String(alert.context.first_seen))}` : "";
    const context = alert.context.seen_before ? `seen before by the gateway${firstSeen}` : "first time the gateway has seen it";
    lines.push(`- ${markdownText(alert.ts)} ${markdownText(alert.name)}: ${context}${alert.learning ? " (baseline still learning)" : ""}.`);
  }
  if (incident.alertCount > alerts.length) lines.push("", omitted(incident, alerts));
  lines.push("");
  // History ends one correlation window before the first alert, so that the
  // records of the incident itself (the logon and file copy just before a
  // service is created) do not count as routine.
  const before = incident.firstMs - store.windowMs;
  for (const [a, b] of await store.incidentHostPairs(incident.id)) {
    const h = await store.history(incident.site, a, b, before);
    const pair = `${markdownText(a)} and ${markdownText(b)}`;
    if (h.alerts === 0 && h.records === 0) {
      lines.push(`- ${pair}: the store contains nothing between these hosts before ${iso(before)}; this pair is new.`);
    } else {
      lines.push(`- ${pair}: before ${iso(before)} the store contains ${h.alerts} alert(s) and ${h.records} record(s) between these hosts over ${h.days} day(s), the first on ${markdownText(h.firstTs ?? "")}.`);
    }
  }
  return lines;
}

function omitted(incident: Incident, shown: Alert[]): string {
  return `The first ${shown.length} of ${incident.alertCount} alerts are listed; the other ${incident.alertCount - shown.length} are in the store.`;
}

// File-transfer records between the incident's hosts that carry a SHA-256
// of the content.
async function hashedFiles(store: Store, incident: Incident): Promise<string[]> {
  const records = await store.recordsBetween(incident.site, incident.hosts, "file",
    incident.firstMs - store.windowMs, incident.lastMs + store.windowMs);
  const lines: string[] = [];
  for (const record of records) {
    const hash = text(record.sha256);
    if (!hash) continue;
    const name = text(record.path) ?? text(record.file_name) ?? text(record.name) ?? "(no name)";
    const size = typeof record.size === "number" ? `, ${record.size} bytes` : "";
    lines.push(`- ${markdownText(record.ts)} ${markdownText(name)} ${markdownText(record.src.ip)} -> ${markdownText(record.dst.ip)}: SHA-256 ${markdownCode(hash)}${size}`);
  }
  return lines.length > 0 ? ["", "Files with a content hash:", "", ...lines] : [];
}

// Evidence that names what a service or task runs, shown under files.
// `command` is the task's command line in DCE-RPC alerts but the SMB command
// (CREATE, WRITE) in SMB alerts, so it counts for DCE-RPC alerts only.
const RUN_EVIDENCE = ["service_name", "binary_path", "task_name", "command"];

// The commands that the incident's services and tasks run, from the evidence
// of their alerts.
function whatRuns(alerts: Alert[]): string[] {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const alert of alerts) {
    const shown = RUN_EVIDENCE
      .filter((name) => alert.evidence[name] !== undefined && (name !== "command" || alert.record === "dcerpc"))
      .map((name) => `${name}=${valueText(alert.evidence[name])}`);
    if (shown.length === 0) continue;
    const text = `${alert.dst.ip}: ${shown.join(", ")}`;
    if (seen.has(text)) continue;
    seen.add(text);
    lines.push(`- On ${markdownText(alert.dst.ip)}: ${markdownText(shown.join(", "))} (${markdownText(alert.name)})`);
  }
  return lines.length > 0 ? ["", "Services and tasks created, with what they run:", "", ...lines] : [];
}

// The alerts in packet-time order with their ATT&CK tactics.
function timeline(incident: Incident, alerts: Alert[]): string[] {
  const lines = ["## Timeline", "", "| Time (UTC) | Alert | From | To | Tactics |", "|---|---|---|---|---|"];
  for (const alert of alerts) {
    const tactics = tacticsOf(alert.mitre).map((tactic) => `${tactic.name} (${tactic.id})`).join(", ") || "none mapped";
    lines.push(`| ${markdownText(alert.ts)} | ${markdownText(alert.name)} | ${markdownText(alert.src.ip)} | ${markdownText(alert.dst.ip)} | ${markdownText(tactics)} |`);
  }
  if (incident.alertCount > alerts.length) lines.push("", omitted(incident, alerts));
  return lines;
}

function attackMapping(incident: RankedIncident): string[] {
  const lines = ["## ATT&CK mapping", ""];
  for (const id of incident.techniques) {
    const tactics = tacticsOf([id]);
    const names = tactics.map((tactic) => `${tactic.name} ${tactic.id} (${tactic.domain === "ics" ? "ICS" : "Enterprise"})`);
    lines.push(`- ${markdownText(id)} ${markdownText(techniqueName(id))}: ${names.length > 0 ? markdownText(names.join(", ")) : "tactic not in the correlator's table"}`);
  }
  if (incident.techniques.length === 0) lines.push("No alert of this incident names an ATT&CK technique.");
  return lines;
}

function nextSteps(incident: RankedIncident, models: ModelSummary[]): string[] {
  const lines = ["## Recommended next steps", ""];
  if (incident.pivot) {
    lines.push("- IT-to-OT pivot: isolate the pivot host from the OT network, and check with operations the values it wrote to the devices.");
  }
  for (const { model, first } of models) {
    const step = MODEL_NEXT_STEPS[model];
    if (step) lines.push(`- ${markdownText(first.name)} (${markdownCode(model)}): ${step}`);
  }
  for (const tactic of incident.tactics) {
    const step = NEXT_STEPS[tactic.id];
    if (step) lines.push(`- ${tactic.name} (${tactic.id}): ${step}`);
  }
  if (lines.length === 2) lines.push("- Review the alerts above with the owners of the hosts involved.");
  return lines;
}

// Identifies one READ or WRITE exchange, so that a dissector writing a record
// for the request and another for the response is counted once.
function transferKey(record: RecordJson): string {
  return `${record.flow_id}|${String(record.session_id ?? "")}|${String(record.message_id ?? record.ts)}|${String(record.command)}`;
}

function spansItAndOt(recordTypes: string[]): boolean {
  const kinds = new Set(recordTypes.map((type) => (OT_RECORD_TYPES.has(type) ? "ot" : "it")));
  return kinds.size > 1;
}

function keyEvidence(evidence: Record<string, FieldValue>): string {
  const shown = KEY_EVIDENCE.filter((name) => evidence[name] !== undefined);
  return markdownText(shown.map((name) => `${name}=${valueText(evidence[name])}`).join(", "));
}

function valueText(value: FieldValue): string {
  return Array.isArray(value) ? value.map(valueText).join(", ") : String(value);
}

function text(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

function techniqueName(id: string): string {
  return TECHNIQUES[id]?.name ?? TECHNIQUES[id.split(".")[0]]?.name ?? "";
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
