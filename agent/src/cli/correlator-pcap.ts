// `fieldsense correlator pcap`: fetches the packets of alerts from the
// gateways that raised them and stores them with their incidents.
import { existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { openStore } from "../../../correlator/src/store.js";
import { checkBrokerUrl } from "../config/config.js";
import { defaultDbPath } from "../config/data-dir.js";
import type { Alert } from "../publish/alert.js";
import { parseCommand, positiveInteger, UsageError, type Output } from "./args.js";
import { CORRELATOR_PCAP_HELP } from "./help.js";

const DEFAULT_REQUESTER = "correlator";

export async function correlatorPcapCommand(argv: string[], output: Output): Promise<number> {
  const { values, positionals } = parseCommand("correlator pcap", argv, {
    incident: { type: "string" },
    broker: { type: "string" },
    db: { type: "string" },
    captures: { type: "string" },
    requester: { type: "string" },
    "timeout-ms": { type: "string" },
    json: { type: "boolean" },
  });
  if (values.help) {
    output.stdout(CORRELATOR_PCAP_HELP);
    return 0;
  }
  if (values.broker === undefined) throw new UsageError('missing --broker URL for "fieldsense correlator pcap": the broker the gateways publish to');
  const problem = checkBrokerUrl(values.broker);
  if (problem) throw new UsageError(problem);
  if (positionals.length === 0 && values.incident === undefined) throw new UsageError('"fieldsense correlator pcap" needs ALERT_ID... or --incident ID');
  const requester = values.requester ?? DEFAULT_REQUESTER;
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(requester)) throw new UsageError(`invalid --requester "${requester}": use 1-64 letters, digits, "_", "." or "-"`);
  const timeoutMs = values["timeout-ms"] !== undefined ? positiveInteger("--timeout-ms", values["timeout-ms"]) : undefined;
  const dbPath = values.db ?? defaultDbPath();
  if (!existsSync(dbPath)) {
    output.stderr(`fieldsense: store ${dbPath} not found: give the correlator's store with --db FILE\n`);
    return 1;
  }
  const capturesDir = values.captures ?? join(dirname(dbPath), "captures");

  const incidentId = values.incident !== undefined ? positiveInteger("--incident", values.incident) : undefined;

  // An alert or incident missing from the store is a lookup that failed,
  // not a usage error: the command line was well formed.
  const wanted: { alert: Alert; incidentId: number | null }[] = [];
  const missing: string[] = [];
  const store = await openStore(dbPath, { readOnly: true });
  try {
    for (const id of positionals) {
      const found = await store.alert(id);
      if (found) wanted.push(found);
      else missing.push(`alert ${id} not found in store ${dbPath}`);
    }
    if (incidentId !== undefined) {
      const alerts = await store.alertsOfIncident(incidentId);
      if (alerts.length === 0) missing.push(`incident ${incidentId} not found in store ${dbPath}`);
      for (const alert of alerts) wanted.push({ alert, incidentId });
    }
  } finally {
    await store.close();
  }
  if (missing.length > 0) {
    for (const problem of missing) output.stderr(`fieldsense: ${problem}; list the incidents and their alerts with "fieldsense report --db ${dbPath}"\n`);
    return 1;
  }

  const { fetchPcap } = await import("../ring/requester.js");
  let failures = 0;
  for (const { alert, incidentId } of wanted) {
    try {
      const { bytes, packets, sha256 } = await fetchPcap({
        url: values.broker, site: alert.site, gateway: alert.gateway, requester, request: { alert: alert.id }, timeoutMs,
      });
      const folder = join(capturesDir, incidentId === null ? "no-incident" : `incident-${incidentId}`);
      mkdirSync(folder, { recursive: true, mode: 0o700 });
      const file = join(folder, `${alert.id}.pcapng`);
      // Written under a temporary name first, so that a file with the
      // final name is always complete.
      writeFileSync(`${file}.tmp`, bytes, { mode: 0o600 });
      renameSync(`${file}.tmp`, file);
      const meta = {
        alert: alert.id, incident: incidentId, model: alert.model, site: alert.site, gateway: alert.gateway,
        file, bytes: bytes.length, packets, sha256, requester, requested_at: new Date().toISOString(),
      };
      writeFileSync(join(folder, `${alert.id}.json`), JSON.stringify(meta, null, 2) + "\n", { mode: 0o600 });
      if (values.json) output.stdout(JSON.stringify(meta) + "\n");
      else output.stdout(`stored ${packets} packets of alert ${alert.id} (${alert.model}) from ${alert.site}/${alert.gateway} in ${file}\n`);
    } catch (error) {
      failures++;
      output.stderr(`fieldsense: alert ${alert.id}: ${(error as Error).message}\n`);
    }
  }
  return failures === 0 ? 0 : 1;
}
