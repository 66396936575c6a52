// Structured logging for the agent and the correlator: pino, JSON lines to
// stderr, so that stdout stays free for alerts and reports.
import pino from "pino";

export type Logger = pino.Logger;

// pino's levels, most verbose first; "silent" logs nothing.
export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;

export class LogLevelError extends Error {
  readonly code = "FIELDSENSE_LOG_LEVEL";
}

// Creates a logger writing to stderr (file descriptor 2). The level comes from
// FIELDSENSE_LOG_LEVEL (one of LOG_LEVELS) and defaults to "info". Throws
// LogLevelError for a level pino does not know, naming where it came from.
export function createLogger(name: string, level = process.env.FIELDSENSE_LOG_LEVEL ?? "info"): Logger {
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    const source = level === process.env.FIELDSENSE_LOG_LEVEL ? `FIELDSENSE_LOG_LEVEL="${level}"` : `log level "${level}"`;
    throw new LogLevelError(`invalid ${source}: use one of ${LOG_LEVELS.join(", ")}`);
  }
  return pino({ name, level, base: { pid: process.pid } }, pino.destination({ fd: 2, sync: true }));
}

// A logger that drops everything, for library callers and tests.
export const silentLogger: Logger = pino({ level: "silent" });
