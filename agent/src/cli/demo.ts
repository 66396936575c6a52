// `fieldsense demo [FILE...]` runs the whole chain on one machine without any
// installed service. It starts an embedded aedes broker on a free port of
// 127.0.0.1 (never 1883) and the correlator with a SQLite store, then replays
// the files into the broker and prints the alerts and the incident reports.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Correlator } from "../../../correlator/src/service.js";
import { StoreError } from "../../../correlator/src/store.js";
import { renderIncidentReport } from "../../../correlator/src/report.js";
import { forTerminal } from "./correlator.js";
import { demoCapturePath } from "../config/paths.js";
import { createFolders, FolderError, freeSpaceNote } from "../config/folders.js";
import { checkTopicLevel } from "../config/config.js";
import { createLogger } from "../log.js";
import { EMBEDDED_BROKER_MQTT_VERSION, startBroker } from "../publish/embedded-broker.js";
import { GatewayPublisher } from "../publish/mqtt.js";
import { DEMO_HELP } from "./help.js";
import { folderOption, parseCommand, UsageError, type Output } from "./args.js";
import { runReplay } from "./replay.js";
import { formatSummary } from "./summary.js";

// How long the demo waits for the correlator to store what was published.
const STORE_WAIT_MS = 15_000;

export async function demoCommand(argv: string[], output: Output): Promise<number> {
  const { values, positionals } = parseCommand("demo", argv, {
    data: { type: "string" },
    models: { type: "string" },
    site: { type: "string" },
    gateway: { type: "string" },
    all: { type: "boolean" },
  });
  if (values.help) {
    output.stdout(DEMO_HELP);
    return 0;
  }
  const site = (values.site as string | undefined) ?? "demo";
  const gateway = (values.gateway as string | undefined) ?? "gateway-1";
  const problem = checkTopicLevel("--site", site) ?? checkTopicLevel("--gateway", gateway);
  if (problem) throw new UsageError(problem);
  const files = positionals.length > 0 ? positionals : [demoCapturePath()];
  // Created first: an invalid FIELDSENSE_LOG_LEVEL stops the demo before anything starts.
  const logger = createLogger("fieldsense-demo", process.env.FIELDSENSE_LOG_LEVEL ?? "warn");
  const keepData = values.data !== undefined;
  if (keepData) {
    try {
      createFolders(values.data as string);
    } catch (error) {
      if (!(error instanceof FolderError)) throw error;
      throw new UsageError(`invalid --data "${String(values.data)}": ${error.reason}; give a folder path on a writable disk`);
    }
  }
  const dataDir = keepData ? (values.data as string) : mkdtempSync(join(tmpdir(), "fieldsense-demo-"));

  const broker = await startBroker();
  const url = `mqtt://127.0.0.1:${broker.port}`;
  let correlator: Correlator | undefined;
  let publisher: GatewayPublisher | undefined;
  try {
    try {
      correlator = await Correlator.start({
        url, dbPath: join(dataDir, "correlator.db"), reportsDir: join(dataDir, "reports"), logger,
      });
    } catch (error) {
      // The store's own advice names --db, which the demo does not have.
      if (error instanceof StoreError && (error.code === "SQLITE_FULL" || error.code.startsWith("SQLITE_IOERR"))) {
        const cause = error.code === "SQLITE_FULL" ? "the disk is full" : "a write to the disk failed, as on a full disk";
        throw new Error(`cannot create the demo's store ${join(dataDir, "correlator.db")}: ${cause}${freeSpaceNote(dataDir)}; free space on that disk or give --data a folder on another disk`);
      }
      throw error;
    }
    publisher = await GatewayPublisher.connect({ url, site, gateway, logger, protocolVersion: EMBEDDED_BROKER_MQTT_VERSION });
    output.stdout(`Fieldsense demo: broker ${url}, store ${join(dataDir, "correlator.db")}\n\n== Alerts ==\n\n`);
    const run = await runReplay({
      files, json: false, records: false, site, gateway, modelsDir: values.models !== undefined ? folderOption("--models", values.models as string, "the model .yaml files") : undefined, all: values.all === true,
      keepAlerts: true,
    }, output, publisher);
    await publisher.flush();
    output.stderr(formatSummary(run.result));
    if (run.alerts.length === 0) output.stdout("(no alerts)\n\n");

    const stored = correlator;
    const recordsPublished = publisher.stats.recordsPublished;
    const missingAlerts = async () => {
      await stored.idle();
      let missing = 0;
      for (const alert of run.alerts) if (!(await stored.store.hasAlert(alert.id))) missing++;
      return missing;
    };
    // Alerts the store lost, or keeps unacknowledged while it cannot write (a full disk).
    const unstored = () => stored.stats.alertsLost + stored.alertsWaitingForStore;
    // Waiting ends early when every missing alert is one the store failed to
    // write, because waiting for the broker would not bring it.
    const done = async () => {
      const missing = await missingAlerts();
      if (missing > 0 && missing <= unstored()) return true;
      return missing === 0 && stored.stats.recordsStored + stored.stats.recordsDuplicate + stored.stats.recordsInvalid + stored.stats.recordsLost >= recordsPublished;
    };
    await waitFor(done, STORE_WAIT_MS);
    const missing = await missingAlerts();
    if (missing > 0) {
      output.stderr(`the correlator stored ${run.alerts.length - missing} of ${run.alerts.length} alerts within ${STORE_WAIT_MS / 1000} s; the reports below may be incomplete\n`);
      output.stderr(`fieldsense: ${storeFailureCause(unstored(), join(dataDir, "correlator.db"), dataDir)}\n`);
    }
    const reportsUnwritten = await stored.writeReports();
    if (reportsUnwritten > 0) {
      output.stderr(`fieldsense: ${reportsUnwritten} incident report(s) could not be written to ${join(dataDir, "reports")} (the logged error above says why${freeSpaceNote(dataDir)}); free space on that disk or give --data a folder on another disk\n`);
    }

    output.stdout("== Incident reports ==\n\n");
    const incidents = await stored.store.rankedIncidents();
    if (incidents.length === 0) output.stdout("(no incidents)\n");
    for (const incident of incidents) output.stdout(`${forTerminal((await renderIncidentReport(stored.store, incident.id))!, output)}\n`);
    if (keepData) output.stdout(`Reports written to ${join(dataDir, "reports")}\n`);
    return run.result.files.some((f) => f.error) || missing > 0 || reportsUnwritten > 0 ? 1 : 0;
  } finally {
    await publisher?.close();
    await correlator?.stop();
    await broker.close();
    if (!keepData) rmSync(dataDir, { recursive: true, force: true });
  }
}

// Says why alerts are missing from the store and what to do.
function storeFailureCause(alertsUnstored: number, dbPath: string, dataDir: string): string {
  if (alertsUnstored === 0) {
    return `alerts not stored: the correlator did not receive them in time; run the demo again, and check the log lines above for broker errors`;
  }
  return `writing ${dbPath} failed for ${alertsUnstored} alert(s) (the logged error above says why${freeSpaceNote(dataDir)}); free space on that disk or give --data a folder on another disk`;
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}
