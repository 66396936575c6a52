// Packet times that a gateway's clock got wrong. The correlator stores such
// alerts as they are, because the rest of the alert is still evidence. It
// counts and logs them and marks them in the incident report, and searches
// for the newest hits sort them by the time the correlator received them.

// A packet time more than this far after the receive time is taken to be a
// gateway clock set ahead. Alerts reach the correlator seconds after the
// packet, and this leaves room for a gateway clock that drifted a little.
export const CLOCK_AHEAD_MAX_MS = 60 * 60 * 1000;

// A packet time before this is taken to be a gateway clock that was never
// set: such a clock starts at 1970-01-01. Earlier times than the receive
// time are otherwise normal, because a replayed capture or an alert that
// waited in the gateway's outbox carries its packet time.
export const CLOCK_UNSET_BEFORE_MS = Date.UTC(2000, 0, 1);

export type ClockProblem = "ahead" | "unset";

// Returns what is wrong with a packet time `tsMs` received at `receivedMs`,
// or undefined when it is plausible.
export function clockProblem(tsMs: number, receivedMs: number): ClockProblem | undefined {
  if (tsMs > receivedMs + CLOCK_AHEAD_MAX_MS) return "ahead";
  if (tsMs < CLOCK_UNSET_BEFORE_MS) return "unset";
  return undefined;
}

// The SQL expression of the time a row sorts by in "newest first" lists: its
// packet time, or its receive time when the packet time is too far ahead of
// it. Rows stored before the store recorded receive times have received_ms 0
// and sort by packet time. `table` is a trusted table name.
export function sortTimeSql(table: string): string {
  return `CASE WHEN ${table}.received_ms > 0 AND ${table}.ts_ms > ${table}.received_ms + ${CLOCK_AHEAD_MAX_MS}` +
    ` THEN ${table}.received_ms ELSE ${table}.ts_ms END`;
}
