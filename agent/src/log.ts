// Structured logging for the agent and the correlator: pino, JSON lines to
// stderr, so that stdout stays free for alerts and reports.
import pino from "pino";

export type Logger = pino.Logger;

// Creates a logger writing to stderr (file descriptor 2). The level comes from
// FIELDSENSE_LOG_LEVEL (trace, debug, info, warn, error, fatal, silent) and
// defaults to "info".
export function createLogger(name: string, level = process.env.FIELDSENSE_LOG_LEVEL ?? "info"): Logger {
  return pino({ name, level, base: { pid: process.pid } }, pino.destination({ fd: 2, sync: true }));
}

// A logger that drops everything, for library callers and tests.
export const silentLogger: Logger = pino({ level: "silent" });
