// `fieldsense replay FILE...`: runs capture files through the core and the
// models, prints alerts (and records), and optionally publishes them.
import { statSync } from "node:fs";
import { checkBrokerUrl, checkTopicLevel, DEFAULT_SITE, defaultGateway } from "../config/config.js";
import { createLogger } from "../log.js";
import type { ReplayResult } from "../pipeline.js";
import { formatAlertText, type Alert } from "../publish/alert.js";
import { GatewayPublisher, redactUrl } from "../publish/mqtt.js";
import { isForwardedRecord, type RecordJson } from "../publish/record.js";
import { REPLAY_HELP } from "./help.js";
import { nonNegativeNumber, parseCommand, UsageError, type Output } from "./args.js";
import { ProgressBar } from "./progress.js";
import { formatSummary } from "./summary.js";

export interface ReplaySettings {
  files: string[];
  json: boolean;
  records: boolean;
  broker?: string;
  site: string;
  gateway: string;
  modelsDir?: string;
  // Pacing: 1 is the captured rate, 0 (the default) as fast as possible.
  speed?: number;
}

export function parseReplay(argv: string[]): ReplaySettings | "help" {
  const { values, positionals } = parseCommand("replay", argv, {
    json: { type: "boolean" },
    records: { type: "boolean" },
    broker: { type: "string" },
    site: { type: "string" },
    gateway: { type: "string" },
    models: { type: "string" },
    speed: { type: "string" },
  });
  if (values.help) return "help";
  if (positionals.length === 0) {
    throw new UsageError('missing capture FILE for "fieldsense replay"; give one or more .pcap or .pcapng paths');
  }
  const site = (values.site as string | undefined) ?? DEFAULT_SITE;
  const gateway = (values.gateway as string | undefined) ?? defaultGateway();
  const problem = checkTopicLevel("--site", site) ?? checkTopicLevel("--gateway", gateway)
    ?? (values.broker !== undefined ? checkBrokerUrl(values.broker as string) : undefined);
  if (problem) throw new UsageError(problem);
  return {
    files: positionals,
    json: values.json === true,
    records: values.records === true,
    broker: values.broker as string | undefined,
    site,
    gateway,
    modelsDir: values.models as string | undefined,
    speed: values.speed !== undefined ? nonNegativeNumber("--speed", values.speed as string) : 0,
  };
}

export interface ReplayRun {
  result: ReplayResult;
  alerts: Alert[];
  // Messages (alerts and records) handed to the publisher.
  published: number;
}

// Runs a replay; `publisher` (optional) receives every alert and the
// forwarded selection of records.
export async function runReplay(settings: ReplaySettings, output: Output, publisher?: GatewayPublisher): Promise<ReplayRun> {
  const alerts: Alert[] = [];
  const pendingAcks: Promise<void>[] = [];
  let published = 0;
  const track = (ack: Promise<void>) => {
    published++;
    // A failed publish is logged and counted by the publisher; the replay goes on.
    pendingAcks.push(ack.catch(() => undefined));
  };
  // Loaded here so that usage errors never need the WebAssembly core.
  const { replayFiles } = await import("../pipeline.js");
  const progress = output.stderrIsTTY ? progressFor(settings.files, output) : undefined;
  const result = await replayFiles(settings.files, {
    speed: settings.speed,
    onProgress: progress?.onProgress,
    site: settings.site,
    gateway: settings.gateway,
    modelsDir: settings.modelsDir,
    keepRecords: settings.records || publisher !== undefined,
    // The summary reports unreadable files, so the log stays quiet unless asked.
    logger: createLogger("fieldsense-replay", process.env.FIELDSENSE_LOG_LEVEL ?? "error"),
    onAlert: async (alert) => {
      alerts.push(alert);
      if (settings.json) output.stdout(JSON.stringify(alert) + "\n");
      else if (!settings.records) output.stdout(formatAlertText(alert) + "\n\n");
      if (publisher) track(publisher.publishAlert(alert));
      await settle(pendingAcks);
    },
    onRecord: async (record: RecordJson) => {
      if (settings.records) output.stdout(JSON.stringify(record) + "\n");
      if (publisher && isForwardedRecord(record)) track(publisher.publishRecord(record));
      await settle(pendingAcks);
    },
  });
  progress?.bar.finish();
  // Acknowledgements still open are the caller's to wait for, with
  // publisher.flush() or publisher.close(), which bounds the wait.
  return { result, alerts, published };
}

// A progress bar over the bytes of all files; a file that cannot be read
// counts as empty, and the replay reports it.
function progressFor(files: string[], output: Output): { bar: ProgressBar; onProgress: (file: string, offset: number) => void } {
  const sizes = files.map((file) => {
    try {
      return statSync(file).size;
    } catch {
      return 0;
    }
  });
  const before = new Map<string, number>();
  let sum = 0;
  files.forEach((file, i) => {
    if (!before.has(file)) before.set(file, sum);
    sum += sizes[i];
  });
  const bar = new ProgressBar(sum, output.stderr);
  return { bar, onProgress: (file, offset) => bar.update((before.get(file) ?? 0) + offset) };
}

// Waits for acknowledgements only once many are open, so that publishing
// overlaps with decoding while memory for pending promises stays bounded.
async function settle(pending: Promise<void>[]): Promise<void> {
  if (pending.length < 10_000) return;
  await Promise.all(pending.splice(0));
}

export async function replayCommand(argv: string[], output: Output): Promise<number> {
  const settings = parseReplay(argv);
  if (settings === "help") {
    output.stdout(REPLAY_HELP);
    return 0;
  }
  let publisher: GatewayPublisher | undefined;
  if (settings.broker) {
    publisher = await GatewayPublisher.connect({
      url: settings.broker, site: settings.site, gateway: settings.gateway,
      logger: createLogger("fieldsense-publish", process.env.FIELDSENSE_LOG_LEVEL ?? "warn"),
    });
  }
  let closed = false;
  try {
    const { result } = await runReplay(settings, output, publisher);
    output.stderr(formatSummary(result));
    let unacknowledged = 0;
    if (publisher) {
      unacknowledged = await publisher.close();
      closed = true;
      const { alertsPublished, recordsPublished, failed } = publisher.stats;
      output.stderr(`published to ${redactUrl(settings.broker!)}: ${alertsPublished} alerts and ${recordsPublished} records acknowledged, ${failed} failed, ${unacknowledged} unacknowledged\n`);
    }
    const unreadable = result.files.filter((f) => f.error).length;
    return unreadable > 0 || (publisher?.stats.failed ?? 0) > 0 || unacknowledged > 0 ? 1 : 0;
  } finally {
    if (publisher && !closed) await publisher.close();
  }
}
