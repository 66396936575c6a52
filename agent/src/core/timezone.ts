// Resolves the plant's time zone (an IANA name such as "Europe/Berlin") to
// the schedule of UTC offsets the core's baselines use for the hour of day
// (wasm-core/assembly/baseline-time.ts documents the bytes). Node's Intl
// carries the time zone database (full ICU in the official Node 20 builds).

// Limits of the core: MAX_OFFSET_CHANGES changes, start times as u32 seconds.
export const MAX_OFFSET_CHANGES = 512;
const LAST_SECOND = 0xffffffff;
// Offsets are sampled weekly and each change is then searched to the second.
// NOTE: two changes less than a week apart that return to the same offset
// would both be missed.
const STEP_SECONDS = 7 * 86400;

export interface OffsetChange {
  // Packet time (s since the Unix epoch) from which `offsetSec` applies.
  startSec: number;
  offsetSec: number;
}

export class TimeZoneError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TimeZoneError";
  }
}

// Formats a date as "M/D/YYYY, GMT+HH:MM", or "GMT" for offset 0, with ":SS"
// added for offsets that are not whole minutes. Reading the offset from this
// text takes about a quarter of the CPU of formatToParts and the local time.
function offsetFormatter(zone: string): Intl.DateTimeFormat {
  try {
    return new Intl.DateTimeFormat("en-US", { timeZone: zone, timeZoneName: "longOffset" });
  } catch {
    throw new TimeZoneError(`invalid time zone "${zone}": expected an IANA time zone name such as Europe/Berlin or UTC`);
  }
}

const LONG_OFFSET = /GMT(?:([+-])(\d{2}):(\d{2})(?::(\d{2}))?)?$/;

// UTC offset of `zone` at `sec`, in seconds.
function offsetAt(format: Intl.DateTimeFormat, sec: number): number {
  const text = format.format(new Date(sec * 1000));
  const match = LONG_OFFSET.exec(text);
  if (!match) throw new TimeZoneError(`time zone offset "${text}" from ICU is not in the form GMT+HH:MM; check the Node build's ICU data`);
  if (match[1] === undefined) return 0;
  const seconds = Number(match[2]) * 3600 + Number(match[3]) * 60 + Number(match[4] ?? 0);
  return match[1] === "-" ? -seconds : seconds;
}

// The time zone database defines UTC (and its aliases) and the Etc/GMT+N
// zones as fixed offsets, so their schedule needs no sampling.
function isFixedOffsetZone(format: Intl.DateTimeFormat): boolean {
  const zone = format.resolvedOptions().timeZone;
  return zone === "UTC" || /^Etc\/GMT[+-]\d{1,2}$/.test(zone);
}

const schedules = new Map<string, OffsetChange[]>();

// Returns the offset changes of `zone` from 1970 to the end of u32 seconds
// (2106). The first change starts at 0. Raises TimeZoneError for an unknown
// zone or one with more changes than the core keeps.
export function offsetScheduleOf(zone: string): OffsetChange[] {
  const cached = schedules.get(zone);
  if (cached) return cached;
  // UTC, the default, never changes its offset. Returning its schedule
  // without Intl keeps the time zone data out of memory, because building
  // the formatter makes about 6 MiB of Node's binary resident.
  if (zone === "UTC") {
    const utc = [{ startSec: 0, offsetSec: 0 }];
    schedules.set(zone, utc);
    return utc;
  }
  const format = offsetFormatter(zone);
  const changes: OffsetChange[] = [{ startSec: 0, offsetSec: offsetAt(format, 0) }];
  if (isFixedOffsetZone(format)) {
    schedules.set(zone, changes);
    return changes;
  }
  let previous = changes[0].offsetSec;
  for (let at = STEP_SECONDS; at - STEP_SECONDS < LAST_SECOND; at += STEP_SECONDS) {
    const sample = Math.min(at, LAST_SECOND);
    const offset = offsetAt(format, sample);
    if (offset === previous) continue;
    // The change lies in (sample - STEP_SECONDS, sample]: search its first second.
    let low = sample - STEP_SECONDS;
    let high = sample;
    while (high - low > 1) {
      const middle = Math.floor((low + high) / 2);
      if (offsetAt(format, middle) === previous) low = middle;
      else high = middle;
    }
    changes.push({ startSec: high, offsetSec: offset });
    previous = offset;
  }
  if (changes.length > MAX_OFFSET_CHANGES) {
    throw new TimeZoneError(`time zone "${zone}" has ${changes.length} UTC offset changes from 1970 to 2106, but the core keeps at most ${MAX_OFFSET_CHANGES}; use a fixed zone such as Etc/GMT-1`);
  }
  schedules.set(zone, changes);
  return changes;
}

// Encodes a schedule for the core's configureTimeZone export.
export function encodeOffsetSchedule(changes: OffsetChange[]): Uint8Array {
  const bytes = new Uint8Array(changes.length * 8);
  const view = new DataView(bytes.buffer);
  changes.forEach((change, i) => {
    view.setUint32(i * 8, change.startSec, true);
    view.setInt32(i * 8 + 4, change.offsetSec, true);
  });
  return bytes;
}
