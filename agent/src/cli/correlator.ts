// `fieldsense correlator` and `fieldsense report`.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { Correlator } from "../../../correlator/src/service.js";
import { hashConsolePassword } from "../../../correlator/src/web/auth.js";
import type { ConsoleOptions } from "../../../correlator/src/web/server.js";
import { reportToHtml } from "../../../correlator/src/html.js";
import { renderIncidentReport } from "../../../correlator/src/report.js";
import { Store } from "../../../correlator/src/store.js";
import { checkBrokerUrl } from "../config/config.js";
import { defaultDbPath } from "../config/data-dir.js";
import { createLogger } from "../log.js";
import { CORRELATOR_HELP, REPORT_HELP } from "./help.js";
import { parseCommand, positiveInteger, UsageError, type Output } from "./args.js";

export async function correlatorCommand(argv: string[], output: Output): Promise<number> {
  const { values, positionals } = parseCommand("correlator", argv, {
    broker: { type: "string" },
    db: { type: "string" },
    reports: { type: "string" },
    "window-minutes": { type: "string" },
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
  const broker = values.broker as string | undefined;
  if (broker === undefined) throw new UsageError('missing --broker URL for "fieldsense correlator"; for example --broker mqtt://127.0.0.1:1883');
  const problem = checkBrokerUrl(broker);
  if (problem) throw new UsageError(problem);
  const windowMinutes = values["window-minutes"] !== undefined ? positiveInteger("--window-minutes", values["window-minutes"] as string) : 60;
  const { dbPath, reportsDir } = correlatorPaths(values.db as string | undefined, values.reports as string | undefined);
  const consoleOptions = consoleSettings(values);

  const logger = createLogger("fieldsense-correlator");
  const correlator = await Correlator.start({ url: broker, dbPath, reportsDir, windowMs: windowMinutes * 60_000, logger, console: consoleOptions });
  const consoleText = correlator.consoleUrl ? `, console at ${correlator.consoleUrl}` : "";
  output.stderr(`correlator running: store ${dbPath}, reports in ${reportsDir}${consoleText}; stop with Ctrl-C\n`);
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
    output.stderr(`correlator stopped after losing ${correlator.stats.alertsLost} alert(s) that store ${dbPath} could not write; see the error lines in the log\n`);
    return 1;
  }
  return 0;
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
// default reports/ beside the store.
export function correlatorPaths(db: string | undefined, reports: string | undefined): { dbPath: string; reportsDir: string } {
  const dbPath = db ?? defaultDbPath();
  return { dbPath, reportsDir: reports ?? join(dirname(dbPath), "reports") };
}

export function reportCommand(argv: string[], output: Output): number {
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
  if (!existsSync(dbPath)) {
    output.stderr(`store ${dbPath} not found: run "fieldsense correlator" or "fieldsense demo --data DIR" first, or give --db FILE\n`);
    return 1;
  }
  const store = new Store(dbPath, undefined, true);
  try {
    if (incidentId !== undefined) {
      const report = renderIncidentReport(store, incidentId);
      if (report === undefined) {
        output.stderr(`incident ${incidentId} not found in ${dbPath}; run "fieldsense report --db ${dbPath}" to list all incidents\n`);
        return 1;
      }
      output.stdout(values.html ? reportToHtml(report, `Fieldsense incident ${incidentId}`) : report);
      return 0;
    }
    const incidents = store.incidents();
    if (incidents.length === 0) {
      output.stderr(`no incidents in ${dbPath}\n`);
      return 0;
    }
    const all = incidents.map((incident) => renderIncidentReport(store, incident.id)).join("\n---\n\n");
    output.stdout(values.html ? reportToHtml(all, "Fieldsense incidents") : all);
    return 0;
  } finally {
    store.close();
  }
}
