// Commands that ask a running agent through its control socket: status,
// alerts [--follow] [--since], assets, extract. Each prints a table for
// people or, with --json, the data as JSON (alerts --follow: NDJSON).
import { loadAgentConfig, DEFAULT_CONTROL_SOCKET } from "../config/agent-config.js";
import { followNdjson, getJson } from "../control/client.js";
import type { Asset, SeenFile, StoredAlert } from "../control/inventory.js";
import { formatAlertText } from "../publish/alert.js";
import { captureFiles, paint, parseCommand, positiveInteger, table, UsageError, useColour, type Output } from "./args.js";
import { ALERTS_HELP, ASSETS_HELP, EXTRACT_HELP, STATUS_HELP } from "./help.js";
import { droppedText, formatInventory } from "./assets.js";

const SOCKET_OPTIONS = {
  socket: { type: "string" },
  config: { type: "string" },
  json: { type: "boolean" },
} as const;

// The socket: --socket, else FIELDSENSE_SOCKET, else control.socket of
// --config FILE, else the default path.
function socketFrom(values: { socket?: unknown; config?: unknown }): string {
  if (typeof values.socket === "string") return values.socket;
  if (process.env.FIELDSENSE_SOCKET) return process.env.FIELDSENSE_SOCKET;
  if (typeof values.config === "string") return loadAgentConfig(values.config).controlSocket;
  return DEFAULT_CONTROL_SOCKET;
}

function noPositionals(command: string, positionals: string[]): void {
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}" for "fieldsense ${command}"; see "fieldsense ${command} --help"`);
}


export async function statusCommand(argv: string[], output: Output): Promise<number> {
  const { values, positionals } = parseCommand("status", argv, SOCKET_OPTIONS);
  if (values.help) {
    output.stdout(STATUS_HELP);
    return 0;
  }
  noPositionals("status", positionals);
  const status = await getJson<Status>(socketFrom(values), "/v1/status");
  if (values.json) {
    output.stdout(JSON.stringify(status, null, 2) + "\n");
    return 0;
  }
  const colour = useColour(output.stdoutIsTTY);
  const bold = paint(colour, "1");
  const warn = paint(colour, "33");
  const c = status.capture;
  const b = status.broker;
  const lines = [
    `${bold("agent")}     ${status.agent.site}/${status.agent.gateway}, pid ${status.agent.pid}, uid ${status.agent.uid}, up ${duration(status.agent.uptime_s)}, reloads ${status.agent.reloads}`,
    `${bold("capture")}   ${c.interface} filter "${c.filter}" snap ${c.snap_length} B, ${c.packets} packets, ${c.packets_per_s} packets/s`,
    `          libpcap: ${c.received} received, ${c.dropped > 0 ? warn(`${c.dropped} dropped`) : "0 dropped"}, ${c.interface_dropped} dropped by the interface`,
    `${bold("broker")}    ${b.url}${b.embedded ? " (embedded)" : ""}, ${b.connected ? "connected" : warn("not connected")}: ${b.alerts_acknowledged} alerts acknowledged, outbox ${b.outbox}, ${b.records_published} records published`,
    `          dropped: ${b.alerts_dropped_outbox_full > 0 ? warn(`${b.alerts_dropped_outbox_full} alerts (outbox full)`) : "0 alerts"}, ${b.records_dropped} records; ${b.reconnects} reconnects` +
      ((b.alerts_not_journaled ?? 0) > 0 ? `; ${warn(`${b.alerts_not_journaled} alerts not journaled (disk full or failing), not published`)}` : ""),
    `${bold("core")}      ${status.core.records} records, ${status.core.alerts} alerts (${status.core.alerts_per_min}/min)`,
    `${bold("models")}    ${status.models.loaded.length} loaded; ${status.models.learning_alerts} alerts raised while learning`,
    `${bold("snapshots")} ${status.snapshots.written} written, last ${status.snapshots.last_written ?? "never"}${status.snapshots.restored_from ? `, restored from ${status.snapshots.restored_from}` : ""}`,
  ];
  output.stdout(lines.join("\n") + "\n");
  return 0;
}

export async function alertsCommand(argv: string[], output: Output): Promise<number> {
  const { values, positionals } = parseCommand("alerts", argv, {
    ...SOCKET_OPTIONS,
    follow: { type: "boolean", short: "f" },
    since: { type: "string" },
    limit: { type: "string" },
  });
  if (values.help) {
    output.stdout(ALERTS_HELP);
    return 0;
  }
  noPositionals("alerts", positionals);
  const query = new URLSearchParams();
  if (values.since !== undefined) query.set("since", parseSince(values.since as string).toISOString());
  if (values.limit !== undefined) query.set("limit", String(positiveInteger("--limit", values.limit as string)));
  const socket = socketFrom(values);
  const colour = useColour(output.stdoutIsTTY);
  const print = (item: StoredAlert) => {
    if (values.json) output.stdout(JSON.stringify(item.alert) + "\n");
    else output.stdout(`${paint(colour, item.alert.score >= 70 ? "31" : "33")(`#${item.seq}`)} ${formatAlertText(item.alert)}\n\n`);
  };
  if (values.follow) {
    query.set("follow", "1");
    const abort = new AbortController();
    const onSignal = () => abort.abort();
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    try {
      await followNdjson(socket, `/v1/alerts?${query}`, (item) => print(item as StoredAlert), abort.signal);
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
    return 0;
  }
  const result = await getJson<{ alerts: StoredAlert[]; kept: number; total: number; dropped: number }>(socket, `/v1/alerts?${query}`);
  for (const item of result.alerts) print(item);
  if (!values.json) output.stderr(`${result.alerts.length} alerts shown; the agent keeps ${result.kept} of ${result.total} raised since it started\n`);
  return 0;
}

export async function assetsCommand(argv: string[], output: Output): Promise<number> {
  const { values, positionals } = parseCommand("assets", argv, {
    ...SOCKET_OPTIONS,
    capture: { type: "string", multiple: true },
    identities: { type: "string" },
    profiles: { type: "string", multiple: true },
    models: { type: "string" },
    ot: { type: "boolean" },
  });
  if (values.help) {
    output.stdout(ASSETS_HELP);
    return 0;
  }
  const captures = captureFiles(values.capture, positionals);
  if (captures === undefined) noPositionals("assets", positionals);
  const colour = useColour(output.stdoutIsTTY);
  const print = (header: string[], rows: string[][]) => table(header, rows, colour);
  if (captures !== undefined) {
    const { loadProfiles, packageProfilesDir } = await import("../profiles/profiles.js");
    const { replayWithInventory, readActiveIdentities } = await import("../inventory/session.js");
    const profiles = loadProfiles((values.profiles as string[] | undefined) ?? [packageProfilesDir]);
    const identities = typeof values.identities === "string" ? readActiveIdentities(values.identities) : [];
    const { session, result } = await replayWithInventory(captures, profiles, { modelsDir: values.models as string | undefined, identities });
    const failed = result.files.filter((f) => f.error !== undefined);
    for (const file of result.files) if (file.error) output.stderr(`${file.file}: ${file.error.message}\n`);
    const snapshot = session.snapshot();
    if (values.json) output.stdout(JSON.stringify(snapshot, null, 2) + "\n");
    else output.stdout(formatInventory(snapshot, print));
    output.stderr(droppedText(snapshot));
    return failed.length > 0 ? 1 : 0;
  }
  if (values.ot) {
    const snapshot = await getJson<Parameters<typeof formatInventory>[0]>(socketFrom(values), "/v1/inventory");
    if (values.json) output.stdout(JSON.stringify(snapshot, null, 2) + "\n");
    else output.stdout(formatInventory(snapshot, print));
    output.stderr(droppedText(snapshot));
    return 0;
  }
  const result = await getJson<{ assets: Asset[]; dropped: number }>(socketFrom(values), "/v1/assets");
  if (values.json) {
    output.stdout(JSON.stringify(result.assets, null, 2) + "\n");
    return 0;
  }
  const rows = result.assets.map((asset) => [
    asset.ip,
    asset.server_ports.join(",") || "-",
    asset.protocols.join(",") || "-",
    asset.modbus ? asset.modbus.role.join("+") : "-",
    asset.modbus?.unit_ids.join(",") || "-",
    asset.modbus?.function_codes.join(",") || "-",
    String(asset.peers.length),
    asset.last_seen,
  ]);
  output.stdout(table(["host", "server ports", "protocols", "modbus role", "unit ids", "function codes", "peers", "last seen"], rows, useColour(output.stdoutIsTTY)));
  if (result.dropped > 0) output.stderr(`${result.dropped} hosts not kept: the asset store is full (store.assets)\n`);
  return 0;
}

export async function extractCommand(argv: string[], output: Output): Promise<number> {
  const { values, positionals } = parseCommand("extract", argv, {
    ...SOCKET_OPTIONS, out: { type: "string" }, force: { type: "boolean" }, "max-bytes": { type: "string" },
  });
  if (values.help) {
    output.stdout(EXTRACT_HELP);
    return 0;
  }
  // With capture files: write the files they carry. Without: ask the agent.
  if (positionals.length > 0) {
    const { extractFiles, parseExtract } = await import("./extract.js");
    return extractFiles(parseExtract(values, positionals), output);
  }
  if (values.out !== undefined || values.force !== undefined || values["max-bytes"] !== undefined) {
    throw new UsageError('--out, --force and --max-bytes need capture files: "fieldsense extract CAPTURE... --out DIR"');
  }
  const result = await getJson<{ files: SeenFile[]; dropped: number }>(socketFrom(values), "/v1/files");
  if (values.json) {
    output.stdout(JSON.stringify(result.files, null, 2) + "\n");
    return 0;
  }
  const rows = result.files.map((file) => [
    file.server,
    file.share || "-",
    file.path,
    file.client,
    file.file_size !== undefined ? String(file.file_size) : "-",
    String(file.bytes_read),
    String(file.bytes_written),
    String(file.opens),
    file.file_type ?? "-",
    file.sha256 ?? "-",
    file.first_seen,
  ]);
  output.stdout(table(["server", "share", "path", "client", "size (B)", "read (B)", "written (B)", "opens", "type", "sha256", "first seen"], rows, useColour(output.stdoutIsTTY)));
  return 0;
}

// Accepts an ISO 8601 time or a duration back from now: 30s, 15m, 2h, 7d.
export function parseSince(value: string, now = Date.now()): Date {
  const relative = /^([0-9]{1,6})([smhd])$/.exec(value);
  if (relative) {
    const unit = { s: 1, m: 60, h: 3600, d: 86400 }[relative[2] as "s" | "m" | "h" | "d"];
    return new Date(now - Number(relative[1]) * unit * 1000);
  }
  const date = new Date(value);
  if (!/^[0-9]{4}-/.test(value) || Number.isNaN(date.getTime())) {
    throw new UsageError(`invalid --since "${value}": give an ISO 8601 time (2026-01-31T08:00:00Z) or a duration back from now (30s, 15m, 2h, 7d)`);
  }
  return date;
}

function duration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return h > 0 ? `${h} h ${m} min` : `${m} min ${seconds % 60} s`;
}


interface Status {
  agent: { pid: number; uid: number; site: string; gateway: string; uptime_s: number; reloads: number };
  capture: { interface: string; filter: string; snap_length: number; received: number; dropped: number; interface_dropped: number; packets: number; packets_per_s: number };
  broker: {
    url: string; embedded: boolean; connected: boolean; alerts_acknowledged: number; alerts_dropped_outbox_full: number;
    records_published: number; records_dropped: number; reconnects: number; outbox: number;
    // Alerts the outbox could not journal (a full or failing disk); absent from older agents.
    alerts_not_journaled?: number;
  };
  core: { records: number; alerts: number; alerts_per_min: number };
  models: { loaded: string[]; learning_alerts: number };
  snapshots: { written: number; last_written: string | null; restored_from: string | null };
}
