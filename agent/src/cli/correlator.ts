// `fieldsense correlator` and `fieldsense report`.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { Correlator } from "../../../correlator/src/service.js";
import { reportToHtml } from "../../../correlator/src/html.js";
import { renderIncidentReport } from "../../../correlator/src/report.js";
import { Store } from "../../../correlator/src/store.js";
import { checkBrokerUrl } from "../config/config.js";
import { defaultDbPath } from "../config/data-dir.js";
import { createLogger } from "../log.js";
import { CORRELATOR_HELP, REPORT_HELP } from "./help.js";
import { parseCommand, positiveInteger, UsageError, type Output } from "./args.js";

export async function correlatorCommand(argv: string[], output: Output): Promise<number> {
  if (argv[0] === "pcap") return (await import("./correlator-pcap.js")).correlatorPcapCommand(argv.slice(1), output);
  const { values, positionals } = parseCommand("correlator", argv, {
    broker: { type: "string" },
    db: { type: "string" },
    reports: { type: "string" },
    "window-minutes": { type: "string" },
  });
  if (values.help) {
    output.stdout(CORRELATOR_HELP);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}" for "fieldsense correlator"; it takes options only`);
  const broker = values.broker as string | undefined;
  if (broker === undefined) throw new UsageError('missing --broker URL for "fieldsense correlator"; for example --broker mqtt://127.0.0.1:1883');
  const problem = checkBrokerUrl(broker);
  if (problem) throw new UsageError(problem);
  const windowMinutes = values["window-minutes"] !== undefined ? positiveInteger("--window-minutes", values["window-minutes"] as string) : 60;
  const { dbPath, reportsDir } = correlatorPaths(values.db as string | undefined, values.reports as string | undefined);

  const logger = createLogger("fieldsense-correlator");
  const correlator = await Correlator.start({ url: broker, dbPath, reportsDir, windowMs: windowMinutes * 60_000, logger });
  output.stderr(`correlator running: store ${dbPath}, reports in ${reportsDir}; stop with Ctrl-C\n`);
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
