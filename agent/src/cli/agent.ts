// `fieldsense agent`: the long-running gateway service. Captures live,
// publishes alerts, serves the CLI on its control socket, reloads on SIGHUP
// and shuts down cleanly on SIGTERM or SIGINT. Logs are pino JSON lines on
// stdout, which journald stores under systemd.
import { resolve } from "node:path";
import pino from "pino";
import { ConfigError, defaultAgentConfig, loadAgentConfig, type AgentConfig } from "../config/agent-config.js";
import { checkBrokerUrl, checkTopicLevel } from "../config/config.js";
import { LOG_LEVELS, type Logger } from "../log.js";
import { folderOption, parseCommand, positiveInteger, UsageError, type Output } from "./args.js";
import { AGENT_HELP } from "./help.js";
import { liveSessionsOpened } from "../capture/live.js";

// Time for bin/fieldsense.js to set the exit code before the forced exit.
const EXIT_GRACE_MS = 200;

const AGENT_OPTIONS = {
  config: { type: "string" },
  interface: { type: "string", short: "i" },
  filter: { type: "string" },
  "snap-length": { type: "string" },
  "no-promiscuous": { type: "boolean" },
  "buffer-bytes": { type: "string" },
  user: { type: "string" },
  group: { type: "string" },
  socket: { type: "string" },
  "data-dir": { type: "string" },
  models: { type: "string" },
  broker: { type: "string" },
  site: { type: "string" },
  gateway: { type: "string" },
  "log-level": { type: "string" },
} as const;

type AgentValues = ReturnType<typeof parseAgentArgs>["values"];

// Parses the arguments that follow "fieldsense agent".
export function parseAgentArgs(argv: string[]) {
  return parseCommand("agent", argv, AGENT_OPTIONS);
}

// Builds the configuration: the file (if any), then the flags on top.
export function agentConfigFrom(values: AgentValues): AgentConfig {
  const config = values.config !== undefined ? loadAgentConfig(values.config as string) : defaultAgentConfig();
  const text = (name: keyof AgentValues) => values[name] as string | undefined;

  if (text("interface") !== undefined) config.capture.interface = text("interface");
  if (text("filter") !== undefined) config.capture.filter = text("filter")!;
  if (text("snap-length") !== undefined) config.capture.snapLength = positiveInteger("--snap-length", text("snap-length")!);
  if (values["no-promiscuous"] === true) config.capture.promiscuous = false;
  if (text("buffer-bytes") !== undefined) config.capture.bufferBytes = positiveInteger("--buffer-bytes", text("buffer-bytes")!);
  if (text("user") !== undefined) config.user = text("user");
  if (text("group") !== undefined) config.group = text("group");
  if (text("socket") !== undefined) config.controlSocket = resolve(text("socket")!);
  if (text("data-dir") !== undefined) config.dataDir = resolve(text("data-dir")!);
  if (text("models") !== undefined) config.modelsDir = resolve(folderOption("--models", text("models")!, "the model .yaml files"));

  if (text("broker") !== undefined) {
    const problem = checkBrokerUrl(text("broker")!);
    if (problem) throw new UsageError(problem);
    config.brokerUrl = text("broker");
  }
  for (const name of ["site", "gateway"] as const) {
    const value = text(name);
    if (value === undefined) continue;
    const problem = checkTopicLevel(`--${name}`, value);
    if (problem) throw new UsageError(problem);
    config[name] = value;
  }

  const level = text("log-level");
  if (level !== undefined) {
    if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new UsageError(`invalid --log-level "${level}": use one of ${LOG_LEVELS.join(", ")}`);
    config.logLevel = level;
  }
  if (config.capture.snapLength < 64 || config.capture.snapLength > 262144) {
    throw new UsageError(`invalid --snap-length ${config.capture.snapLength}: use 64 to 262144 bytes`);
  }
  return config;
}

// Logs to stdout for journald (the other commands log to stderr, because
// their stdout carries data).
function agentLogger(level: string): Logger {
  return pino({ name: "fieldsense-agent", level, base: { pid: process.pid } }, pino.destination({ fd: 1, sync: true }));
}

export async function agentCommand(argv: string[], output: Output): Promise<number> {
  const { values, positionals } = parseAgentArgs(argv);
  if (values.help) {
    output.stdout(AGENT_HELP);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}" for "fieldsense agent"; see "fieldsense agent --help"`);
  let config: AgentConfig;
  try {
    config = agentConfigFrom(values);
  } catch (error) {
    if (error instanceof ConfigError) {
      output.stderr(`fieldsense: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
  const logger = agentLogger(config.logLevel);
  // Loaded here so that `fieldsense agent --help` needs neither the core nor node-pcap.
  const { AgentRuntime } = await import("../control/runtime.js");
  let runtime: Awaited<ReturnType<typeof AgentRuntime.start>>;
  try {
    runtime = await AgentRuntime.start(config, logger);
  } catch (error) {
    logger.fatal({ err: (error as Error).message, code: (error as { code?: string }).code }, "agent failed to start");
    output.stderr(`fieldsense: agent failed to start: ${(error as Error).message}\n`);
    exitSoon(1);
    return 1;
  }

  const stopped = new Promise<void>((done) => {
    const stop = (reason: string) => {
      void runtime.stop(reason).then(done, (error: Error) => {
        logger.error({ err: error.message }, "shutdown failed");
        done();
      });
    };
    process.on("SIGTERM", () => stop("SIGTERM"));
    process.on("SIGINT", () => stop("SIGINT"));
    void runtime.finished.then(() => { if (runtime.error) stop("capture loop error"); });
  });
  process.on("SIGHUP", () => {
    logger.info("SIGHUP received: reloading configuration and models");
    try {
      const next = agentConfigFrom(values);
      runtime.reload(next).catch(() => undefined);
    } catch (error) {
      logger.error({ err: (error as Error).message }, "reload failed: configuration not loaded; the agent keeps the one it runs with");
    }
  });
  await stopped;
  for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) process.removeAllListeners(signal);
  const code = runtime.error ? 1 : 0;
  if (runtime.error) output.stderr(`fieldsense: agent stopped: the capture loop failed: ${runtime.error.message}; the log on stdout has the details\n`);
  exitSoon(code);
  return code;
}

// Ends the process shortly after main() has returned, when a live capture was
// opened: on a quiet interface node-pcap 3.1 keeps its poll handle
// referenced after close() (see LiveCapture.close). Everything is flushed
// and closed by then. The timer is unref'd, so a process whose event loop
// empties earlier exits at once.
function exitSoon(code: number): void {
  if (liveSessionsOpened() === 0) return;
  setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref();
}
