// `fieldsense replay FILE...`: runs capture files through the core and the
// models, prints alerts (and records), and optionally publishes them.
import { statSync } from "node:fs";
import { checkBrokerUrl, checkTopicLevel, DEFAULT_SITE, defaultGateway, MAX_PACING_GAP_SEC } from "../config/config.js";
import { freeSpaceNote } from "../config/folders.js";
import { offsetScheduleOf, TimeZoneError } from "../core/timezone.js";
import { createLogger } from "../log.js";
import type { ReplayResult } from "../pipeline.js";
import { formatAlertText, type Alert } from "../publish/alert.js";
// Type only: the MQTT client (about 20 MiB of resident memory and 0.2 s of
// start-up CPU once loaded) is imported only when --broker is given.
import type { GatewayPublisher } from "../publish/mqtt.js";
import type { RingStats } from "../ring/ring.js";
import { isForwardedRecord, type RecordJson } from "../publish/record.js";
import { LEARNING_SUMMARY_SCORE, REPLAY_HELP } from "./help.js";
import { folderOption, nonNegativeNumber, parseCommand, positiveInteger, UsageError, type Output } from "./args.js";
import { ProgressBar } from "./progress.js";
import { formatSummary, hasFileErrors } from "./summary.js";

export interface ReplaySettings {
  files: string[];
  json: boolean;
  records: boolean;
  broker?: string;
  site: string;
  gateway: string;
  modelsDir?: string;
  // IANA time zone of the baselines' hour of day (default UTC).
  timeZone?: string;
  // Firmware profile files and folders (default: the package's profiles).
  profilePaths?: string[];
  // Pacing: 1 is the captured rate, 0 (the default) as fast as possible.
  speed?: number;
  // Human output: also print learning alerts scored below LEARNING_SUMMARY_SCORE,
  // which are otherwise summed up in one line per model.
  all?: boolean;
  // Milliseconds to wait for the broker's CONNACK and for each PUBACK.
  timeoutMs?: number;
  // Keep the packets and alerts in a packet ring in this folder, for `fieldsense pcap`.
  ring?: string;
  // Collect every alert in ReplayRun.alerts, for a caller that reads them
  // after the replay (the demo). Off for `fieldsense replay`, whose memory
  // would otherwise grow with every alert.
  keepAlerts?: boolean;
  // Stops the replay before the next batch (SIGTERM, SIGINT).
  signal?: AbortSignal;
}

// Pacing notices printed per replay; the rest are counted in one line.
const MAX_PACING_NOTICES = 5;

export function parseReplay(argv: string[]): ReplaySettings | "help" {
  const { values, positionals } = parseCommand("replay", argv, {
    json: { type: "boolean" },
    records: { type: "boolean" },
    broker: { type: "string" },
    site: { type: "string" },
    gateway: { type: "string" },
    models: { type: "string" },
    timezone: { type: "string" },
    profiles: { type: "string", multiple: true },
    speed: { type: "string" },
    all: { type: "boolean" },
    "timeout-ms": { type: "string" },
    ring: { type: "string" },
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
    modelsDir: values.models !== undefined ? folderOption("--models", values.models as string, "the model .yaml files") : undefined,
    timeZone: values.timezone !== undefined ? timeZoneOption(values.timezone as string) : undefined,
    profilePaths: values.profiles as string[] | undefined,
    speed: values.speed !== undefined ? nonNegativeNumber("--speed", values.speed as string) : 0,
    all: values.all === true,
    timeoutMs: values["timeout-ms"] !== undefined ? positiveInteger("--timeout-ms", values["timeout-ms"] as string) : undefined,
    ring: values.ring as string | undefined,
  };
}

// Checks a --timezone value against the time zone database, so that a typo
// is a usage error before any capture is read.
function timeZoneOption(zone: string): string {
  try {
    offsetScheduleOf(zone);
  } catch (error) {
    if (error instanceof TimeZoneError) throw new UsageError(`--timezone: ${error.message}`);
    throw error;
  }
  return zone;
}

export interface ReplayRun {
  result: ReplayResult;
  // Every alert with ReplaySettings.keepAlerts, else empty.
  alerts: Alert[];
  // Messages (alerts and records) handed to the publisher.
  published: number;
  // The packet ring's counters after the replay, with --ring.
  ring?: { dir: string; stats: RingStats };
}

// Runs a replay; `publisher` (optional) receives every alert and the
// forwarded selection of records.
export async function runReplay(settings: ReplaySettings, output: Output, publisher?: GatewayPublisher): Promise<ReplayRun> {
  const alerts: Alert[] = [];
  const learning = new LearningSummary();
  const pendingAcks: Promise<void>[] = [];
  let published = 0;
  const track = (ack: Promise<void>) => {
    published++;
    // A failed publish is logged and counted by the publisher; the replay goes on.
    pendingAcks.push(ack.catch(() => undefined));
  };
  // Loaded here so that usage errors never need the WebAssembly core.
  const { replayFiles } = await import("../pipeline.js");
  const { InventorySession, INVENTORY_FIELDS } = await import("../inventory/session.js");
  const { loadProfiles, packageProfilesDir } = await import("../profiles/profiles.js");
  // The OT inventory binds firmware profiles (by address, or by the identity
  // a device reports) for the profile scorers, as the agent does.
  const inventory = new InventorySession(loadProfiles(settings.profilePaths ?? [packageProfilesDir]));
  const progress = output.stderrIsTTY ? progressFor(settings.files, output) : undefined;
  const ring = settings.ring !== undefined ? (await import("../ring/ring.js")).PacketRing.open(settings.ring) : undefined;
  let pacingSkips = 0;
  const result = await replayFiles(settings.files, {
    onBatch: ring ? (batch) => ring.append(batch) : undefined,
    speed: settings.speed,
    signal: settings.signal,
    onPacingSkip: (file, gapSec) => {
      pacingSkips++;
      if (pacingSkips <= MAX_PACING_NOTICES) output.stderr(`${pacingNotice(file, gapSec)}\n`);
    },
    onProgress: (file, offset) => {
      inventory.refresh();
      progress?.onProgress(file, offset);
    },
    onCoreReady: (core) => inventory.attach(core),
    site: settings.site,
    gateway: settings.gateway,
    modelsDir: settings.modelsDir,
    timeZone: settings.timeZone,
    keepRecords: true,
    // The summary reports unreadable files, so the log stays quiet unless asked.
    logger: createLogger("fieldsense-replay", process.env.FIELDSENSE_LOG_LEVEL ?? "error"),
    onAlert: async (alert) => {
      if (settings.keepAlerts) alerts.push(alert);
      ring?.noteAlert(alert);
      if (settings.json) output.stdout(JSON.stringify(alert) + "\n");
      else if (!settings.records && (settings.all || !learning.absorb(alert))) output.stdout(formatAlertText(alert) + "\n\n");
      if (publisher) track(publisher.publishAlert(alert));
      await settle(pendingAcks);
    },
    // The inventory reads the decoded records; JSON is built only for
    // --records and the broker.
    observeRecord: (record) => inventory.addCoreRecord(record),
    observedFields: INVENTORY_FIELDS,
    reuseObservedRecords: true,
    onRecord: settings.records || publisher ? async (record: RecordJson) => {
      if (settings.records) output.stdout(JSON.stringify(record) + "\n");
      if (publisher && isForwardedRecord(record)) track(publisher.publishRecord(record));
      await settle(pendingAcks);
    } : undefined,
  }).finally(() => ring?.close());
  const ringRun = ring ? { dir: ring.dir, stats: ring.stats() } : undefined;
  progress?.bar.finish();
  if (pacingSkips > MAX_PACING_NOTICES) {
    output.stderr(`pacing skipped ${pacingSkips - MAX_PACING_NOTICES} more gaps that are not listed\n`);
  }
  for (const line of learning.lines()) output.stdout(line + "\n");
  // Acknowledgements still open are the caller's to wait for, with
  // publisher.flush() or publisher.close(), which bounds the wait.
  return { result, alerts, published, ring: ringRun };
}

function pacingNotice(file: string, gapSec: number): string {
  const seconds = Math.abs(gapSec).toFixed(3).replace(/\.?0+$/, "");
  return gapSec < 0
    ? `${file}: packet time goes back ${seconds} s; pacing goes on from that packet without waiting`
    : `${file}: skipped a gap of ${seconds} s of packet time without waiting (pacing waits for gaps of at most ${MAX_PACING_GAP_SEC} s)`;
}

// Counts the low-scored learning alerts that the human output leaves out, per
// model and score, with the reason the model gave for the lower score. Models
// lower their scores while baselines are learned, so such alerts are many.
class LearningSummary {
  private readonly groups = new Map<string, { model: string; score: number; count: number; reason?: string }>();

  // Returns true when the alert is counted here instead of printed.
  absorb(alert: Alert): boolean {
    if (!alert.learning || alert.score >= LEARNING_SUMMARY_SCORE) return false;
    const key = `${alert.model}\u0000${alert.score}`;
    const group = this.groups.get(key);
    if (group) {
      group.count++;
      return true;
    }
    const lowering = alert.why.filter((factor) => factor.points < 0).sort((a, b) => a.points - b.points)[0];
    this.groups.set(key, { model: alert.model, score: alert.score, count: 1, reason: lowering?.reason });
    return true;
  }

  lines(): string[] {
    return [...this.groups.values()].map(({ model, score, count, reason }) => {
      const noun = count === 1 ? "learning alert" : "learning alerts";
      const because = reason ? `, scored low because ${reason}` : ", scored low while the baselines were being learned";
      return `${count} ${noun} of ${model} (score ${score})${because}; --all shows them`;
    });
  }
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
    const { GatewayPublisher } = await import("../publish/mqtt.js");
    publisher = await GatewayPublisher.connect({
      url: settings.broker, site: settings.site, gateway: settings.gateway,
      connectTimeoutMs: settings.timeoutMs, ackTimeoutMs: settings.timeoutMs,
      logger: createLogger("fieldsense-publish", process.env.FIELDSENSE_LOG_LEVEL ?? "warn"),
    });
  }
  let closed = false;
  const stop = stopOnSignals(output);
  try {
    const { result, ring } = await runReplay({ ...settings, signal: stop.signal }, output, publisher);
    output.stderr(formatSummary(result));
    const ringIncomplete = ring !== undefined && ring.stats.packetsNotStored > 0;
    if (ringIncomplete) output.stderr(`fieldsense: ${ringFailureLine(ring)}\n`);
    let unacknowledged = 0;
    if (publisher) {
      // close() drops what is still open after its timeout; messages whose
      // PUBACK timed out earlier are in stats.unacknowledged.
      unacknowledged = (await publisher.close()) + publisher.stats.unacknowledged;
      closed = true;
      output.stderr(await publishedLine(settings, publisher, unacknowledged));
    }
    if (stop.received) {
      output.stderr(`replay stopped by ${stop.received} before the end of the captures; the summary counts what was read\n`);
      return SIGNAL_EXIT_CODES[stop.received];
    }
    return hasFileErrors(result) || ringIncomplete || (publisher?.stats.failed ?? 0) > 0 || unacknowledged > 0 ? 1 : 0;
  } finally {
    stop.remove();
    if (publisher && !closed) await publisher.close();
  }
}

// 128 + the signal number, as a shell reports a process the signal ended,
// but after the summary.
const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;

// Turns the first SIGTERM or SIGINT into an abort, so that the replay stops
// reading, flushes and prints its summary. A second signal ends the process at once.
function stopOnSignals(output: Output): { signal: AbortSignal; readonly received: keyof typeof SIGNAL_EXIT_CODES | undefined; remove: () => void } {
  const controller = new AbortController();
  let received: keyof typeof SIGNAL_EXIT_CODES | undefined;
  const handlers = (Object.keys(SIGNAL_EXIT_CODES) as (keyof typeof SIGNAL_EXIT_CODES)[]).map((name) => {
    const handler = () => {
      if (received !== undefined) process.exit(SIGNAL_EXIT_CODES[name]);
      received = name;
      output.stderr(`${name} received: stopping the replay and waiting for the broker's acknowledgements (${name} again ends it at once)\n`);
      controller.abort();
    };
    process.on(name, handler);
    return [name, handler] as const;
  });
  return {
    signal: controller.signal,
    get received() { return received; },
    remove: () => { for (const [name, handler] of handlers) process.removeListener(name, handler); },
  };
}

// Says how many packets the ring lost to failed writes, why, and the fix.
function ringFailureLine(ring: { dir: string; stats: RingStats }): string {
  const { packetsNotStored, packetsStored, writeError } = ring.stats;
  return `the packet ring in ${ring.dir} did not store ${packetsNotStored} packets, and keeps ${packetsStored}: writing failed: ` +
    `${writeError ?? "unknown error"}${freeSpaceNote(ring.dir)}; free space on that disk or give --ring a folder on another disk, and replay again`;
}

async function publishedLine(settings: ReplaySettings, publisher: GatewayPublisher, unacknowledged: number): Promise<string> {
  const { DEFAULT_ACK_TIMEOUT_MS, redactUrl } = await import("../publish/mqtt.js");
  const { alertsPublished, recordsPublished, failed, alertsUnacknowledged } = publisher.stats;
  const broker = redactUrl(settings.broker!);
  let line = `published to ${broker}: ${alertsPublished} alerts and ${recordsPublished} records acknowledged, ${failed} failed, ${unacknowledged} unacknowledged\n`;
  if (alertsUnacknowledged > 0) {
    line += `error: ${alertsUnacknowledged} alerts were not acknowledged by ${broker} within ${settings.timeoutMs ?? DEFAULT_ACK_TIMEOUT_MS} ms; ` +
      "check that the broker runs and accepts QoS 1 messages, then replay again\n";
  }
  return line;
}
