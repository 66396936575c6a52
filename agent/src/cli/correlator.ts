// `fieldsense correlator` and `fieldsense report`.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { ConfigError, readCorrelatorConfig, type CorrelatorConfigFile } from "../../../correlator/src/config.js";
import { Correlator, type CorrelatorOptions } from "../../../correlator/src/service.js";
import { hashConsolePassword } from "../../../correlator/src/web/auth.js";
import type { ConsoleOptions } from "../../../correlator/src/web/server.js";
import { reportToHtml } from "../../../correlator/src/html.js";
import { markdownToPlainText } from "../../../correlator/src/markdown.js";
import { renderIncidentIndex, renderIncidentReport } from "../../../correlator/src/report.js";
import { DEFAULT_MIN_INCIDENT_SCORE, DEFAULT_WINDOW_MS, openStore, redactDbUrl, type RetentionSettings } from "../../../correlator/src/store.js";
import { checkBrokerUrl } from "../config/config.js";
import { defaultDbPath } from "../config/data-dir.js";
import { createLogger } from "../log.js";
import { CORRELATOR_HELP, REPORT_HELP } from "./help.js";
import { parseCommand, positiveInteger, printable, UsageError, type Output } from "./args.js";

export async function correlatorCommand(argv: string[], output: Output): Promise<number> {
  if (argv[0] === "pcap") return (await import("./correlator-pcap.js")).correlatorPcapCommand(argv.slice(1), output);
  const { values, positionals } = parseCommand("correlator", argv, {
    config: { type: "string" },
    broker: { type: "string" },
    db: { type: "string" },
    reports: { type: "string" },
    "window-minutes": { type: "string" },
    "share-group": { type: "string" },
    "client-id": { type: "string" },
    "critical-hosts": { type: "string" },
    "min-incident-score": { type: "string" },
    "retention-days": { type: "string" },
    "retention-max-mb": { type: "string" },
    console: { type: "string" },
    "console-host": { type: "string" },
    "console-login": { type: "boolean" },
    "hash-password": { type: "boolean" },
  });
  if (values.help) {
    output.stdout(CORRELATOR_HELP);
    return 0;
  }
  if (values["hash-password"]) return hashPasswordFromStdin(output);
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}" for "fieldsense correlator"; it takes options only`);
  let settings: CorrelatorSettings;
  try {
    settings = correlatorSettings(values);
  } catch (error) {
    // Exit 1, as the agent does for its configuration file.
    if (!(error instanceof ConfigError)) throw error;
    output.stderr(`fieldsense: ${error.message}\n`);
    return 1;
  }
  const { dbPath, reportsDir } = settings;

  const logger = createLogger("fieldsense-correlator");
  const correlator = await Correlator.start({ ...settings, logger });
  const consoleText = correlator.consoleUrl ? `, console at ${correlator.consoleUrl}` : "";
  output.stderr(`correlator running: store ${redactDbUrl(dbPath)}, reports in ${reportsDir}${consoleText}; stop with Ctrl-C\n`);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal }, "stopping on signal");
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  await correlator.stop();
  if (correlator.failed) {
    const { alertsLost, alertsUnacknowledged } = correlator.stats;
    if (alertsLost > 0) {
      output.stderr(`correlator lost ${alertsLost} alert(s) that store ${redactDbUrl(dbPath)} rejected; the log names each one ("store rejected alert ...")\n`);
    }
    if (alertsUnacknowledged > 0) {
      output.stderr(`correlator stopped while store ${redactDbUrl(dbPath)} was unavailable: ${alertsUnacknowledged} alert(s) were not stored and not acknowledged, so the broker sends them again when the correlator starts with the same client id; fix the store (see "store unavailable" in the log) and start it again\n`);
    }
    return 1;
  }
  return 0;
}

// The correlator's settings from its options and --config FILE. Throws
// UsageError for an option and ConfigError for a key of the file.
type CorrelatorSettings = Omit<CorrelatorOptions, "logger"> & { reportsDir: string };

function correlatorSettings(values: Record<string, unknown>): CorrelatorSettings {
  // Command-line options override the configuration file.
  const file: CorrelatorConfigFile | undefined = values.config !== undefined ? readCorrelatorConfig(values.config as string) : undefined;
  const fileValues = file?.values ?? {};
  const option = (name: string): string | undefined => (values as Record<string, unknown>)[name] as string | undefined;

  const broker = option("broker") ?? fileValues.broker;
  if (broker === undefined) throw new UsageError('missing --broker URL for "fieldsense correlator"; for example --broker mqtt://127.0.0.1:1883');
  const problem = checkBrokerUrl(broker);
  if (problem && option("broker") === undefined) throw file!.invalid("broker", problem);
  if (problem) throw new UsageError(problem);
  const windowMinutes = option("window-minutes") !== undefined
    ? positiveInteger("--window-minutes", option("window-minutes")!) : fileValues.window_minutes ?? DEFAULT_WINDOW_MS / 60_000;
  const { dbPath, reportsDir } = correlatorPaths(option("db") ?? fileValues.db, option("reports") ?? fileValues.reports);
  const shareGroup = option("share-group") ?? fileValues.share_group;
  if (shareGroup !== undefined && !/^[^/+#$]+$/.test(shareGroup)) {
    throw new UsageError(`invalid --share-group "${shareGroup}": a share name must not be empty or contain /, +, # or $; use for example --share-group correlators`);
  }
  if (shareGroup !== undefined && !isPostgresUrl(dbPath)) {
    // The file's mistake when the file sets both, or the group alone.
    if (option("share-group") === undefined && option("db") === undefined) {
      throw file!.invalid("share_group", `"${shareGroup}" needs a PostgreSQL store that every member shares, but db is ${dbPath}; set db to postgres://USER@HOST/DATABASE`);
    }
    throw new UsageError(`--share-group needs a PostgreSQL store that every member shares, but --db is ${dbPath}; give --db postgres://USER@HOST/DATABASE`);
  }
  const minIncidentScore = option("min-incident-score") !== undefined
    ? scoreValue(option("min-incident-score")!) : fileValues.min_incident_score ?? DEFAULT_MIN_INCIDENT_SCORE;
  const criticalHosts = option("critical-hosts") !== undefined
    ? option("critical-hosts")!.split(",").map((h) => h.trim()).filter((h) => h !== "") : fileValues.critical_hosts ?? [];
  const retention: RetentionSettings = {};
  const retentionDays = option("retention-days") !== undefined ? positiveInteger("--retention-days", option("retention-days")!) : fileValues.retention?.days;
  const retentionMb = option("retention-max-mb") !== undefined ? positiveInteger("--retention-max-mb", option("retention-max-mb")!) : fileValues.retention?.max_mb;
  if (retentionDays !== undefined) retention.maxAgeMs = retentionDays * 86_400_000;
  if (retentionMb !== undefined) retention.maxBytes = retentionMb * 1024 * 1024;
  return {
    url: broker, dbPath, reportsDir, windowMs: windowMinutes * 60_000, shareGroup,
    clientId: option("client-id") ?? fileValues.client_id, minIncidentScore, criticalHosts, retention, console: consoleSettings(values),
  };
}

// The console listener from --console, --console-host, --console-login and
// FIELDSENSE_CONSOLE_PASSWORD_HASH; undefined without --console.
export function consoleSettings(values: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): ConsoleOptions | undefined {
  const port = values.console as string | undefined;
  if (port === undefined) {
    for (const option of ["console-host", "console-login"]) {
      if (values[option] !== undefined) throw new UsageError(`--${option} needs --console PORT`);
    }
    return undefined;
  }
  if (!/^[0-9]+$/.test(port) || Number(port) > 65_535) throw new UsageError(`invalid --console "${port}": expected a TCP port from 0 to 65535 (0 picks a free one)`);
  const passwordHash = env.FIELDSENSE_CONSOLE_PASSWORD_HASH || undefined;
  return {
    port: Number(port),
    host: (values["console-host"] as string | undefined) ?? "127.0.0.1",
    passwordHash,
    requireLogin: values["console-login"] === true,
  };
}

// Reads a password from stdin (the first line) and prints its hash for
// FIELDSENSE_CONSOLE_PASSWORD_HASH.
async function hashPasswordFromStdin(output: Output): Promise<number> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const password = Buffer.concat(chunks).toString("utf8").split(/\r?\n/)[0];
  if (password === "") {
    output.stderr('no password on stdin; for example: printf %s "$PASSWORD" | fieldsense correlator --hash-password\n');
    return 1;
  }
  output.stdout(`${hashConsolePassword(password)}\n`);
  return 0;
}

// The store, by default in the data directory, and the reports folder, by
// default reports/ beside a SQLite store and beside the default store for
// PostgreSQL.
export function correlatorPaths(db: string | undefined, reports: string | undefined): { dbPath: string; reportsDir: string } {
  const dbPath = db ?? defaultDbPath();
  const base = isPostgresUrl(dbPath) ? defaultDbPath() : dbPath;
  return { dbPath, reportsDir: reports ?? join(dirname(base), "reports") };
}

function isPostgresUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//i.test(db);
}

function scoreValue(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value > 100) {
    throw new UsageError(`invalid --min-incident-score "${text}": give an integer from 0 to 100, for example --min-incident-score 40`);
  }
  return value;
}

export async function reportCommand(argv: string[], output: Output): Promise<number> {
  const { values, positionals } = parseCommand("report", argv, {
    db: { type: "string" },
    incident: { type: "string" },
    html: { type: "boolean" },
  });
  if (values.help) {
    output.stdout(REPORT_HELP);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}" for "fieldsense report"; use --incident ID to pick one incident`);
  const dbPath = (values.db as string | undefined) ?? defaultDbPath();
  const incidentId = values.incident !== undefined ? positiveInteger("--incident", values.incident as string) : undefined;
  if (!isPostgresUrl(dbPath) && !existsSync(dbPath)) {
    output.stderr(`fieldsense: store ${dbPath} not found: run "fieldsense correlator" or "fieldsense demo --data DIR" first, or give --db FILE\n`);
    return 1;
  }
  const store = await openStore(dbPath, { readOnly: true });
  try {
    if (incidentId !== undefined) {
      const report = await renderIncidentReport(store, incidentId);
      if (report === undefined) {
        output.stderr(`fieldsense: incident ${incidentId} not found in ${redactDbUrl(dbPath)}; run "fieldsense report --db ${redactDbUrl(dbPath)}" to list all incidents\n`);
        return 1;
      }
      output.stdout(values.html ? reportToHtml(report, `Fieldsense incident ${incidentId}`) : forTerminal(report, output));
      return 0;
    }
    const incidents = await store.rankedIncidents();
    if (incidents.length === 0) {
      output.stderr(`no incidents in ${redactDbUrl(dbPath)}\n`);
      return 0;
    }
    const reports: string[] = [renderIncidentIndex(incidents)];
    for (const incident of incidents) reports.push((await renderIncidentReport(store, incident.id))!);
    const all = reports.join("\n---\n\n");
    output.stdout(values.html ? reportToHtml(all, "Fieldsense incidents") : forTerminal(all, output));
    return 0;
  } finally {
    await store.close();
  }
}

// A Markdown report as plain text when stdout is a terminal, with control
// characters shown as escapes. Redirected to a file, it stays Markdown.
export function forTerminal(report: string, output: Output): string {
  if (output.stdoutIsTTY !== true) return report;
  return markdownToPlainText(report).split("\n").map(printable).join("\n");
}
