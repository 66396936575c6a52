// Local time of the plant for the baselines' hour-of-day profile and day
// count, so that a routine that follows daylight saving time stays in one
// hour slot. The host resolves the configured time zone to a schedule of UTC
// offsets (agent/src/core/timezone.ts) and installs it with
// configureTimeOffsets; without one, local time is UTC.
//
// Schedule, little-endian, at most MAX_OFFSET_CHANGES changes, sorted by
// start: each change is u32 start (packet time, s) | i32 offset (s). The
// first change's offset also applies before its start.

@inline export const MAX_OFFSET_CHANGES: u32 = 512;
@inline const CHANGE_BYTES: u32 = 8;
// UTC offsets in current use lie within -12:00 and +14:00, so a schedule
// beyond 18 hours is corrupt.
@inline const MAX_OFFSET_SEC: i32 = 18 * 3600;
@inline const SECONDS_PER_DAY: u64 = 86400;

// configureTimeOffsets results.
@inline export const OFFSETS_OK: i32 = 0;
@inline export const OFFSETS_BAD_LENGTH: i32 = -1;
@inline export const OFFSETS_NOT_SORTED: i32 = -2;
@inline export const OFFSETS_OUT_OF_RANGE: i32 = -3;

const changes = memory.data(<i32>(MAX_OFFSET_CHANGES * CHANGE_BYTES));
let changeCount: u32 = 0;
// The change found last: packet times mostly stay within one change, so
// offsetAt searches only when a record leaves [cachedStart, cachedEnd).
let cachedStart: u32 = 1;
let cachedEnd: u32 = 0;
let cachedOffset: i32 = 0;

// Checks and installs the schedule of `length` bytes at `ptr` (0 bytes: UTC).
// Returns OFFSETS_OK, or a negative OFFSETS_* code and keeps the old one.
export function configureTimeOffsets(ptr: usize, length: u32): i32 {
  if (length % CHANGE_BYTES != 0 || length / CHANGE_BYTES > MAX_OFFSET_CHANGES) return OFFSETS_BAD_LENGTH;
  const count = length / CHANGE_BYTES;
  for (let i: u32 = 0; i < count; i++) {
    const change = ptr + <usize>(i * CHANGE_BYTES);
    const offset = load<i32>(change, 4);
    if (offset < -MAX_OFFSET_SEC || offset > MAX_OFFSET_SEC) return OFFSETS_OUT_OF_RANGE;
    if (i > 0 && load<u32>(change) <= load<u32>(change - CHANGE_BYTES)) return OFFSETS_NOT_SORTED;
  }
  memory.copy(changes, ptr, <usize>length);
  changeCount = count;
  cachedStart = 1;
  cachedEnd = 0;
  return OFFSETS_OK;
}

// UTC offset in seconds at packet time `tsSec`.
export function offsetAt(tsSec: u32): i32 {
  if (changeCount == 0) return 0;
  if (tsSec >= cachedStart && tsSec < cachedEnd) return cachedOffset;
  // Binary search for the last change that starts at or before tsSec.
  let low: u32 = 0;
  let high: u32 = changeCount;
  while (high - low > 1) {
    const middle = (low + high) >> 1;
    if (load<u32>(changes + <usize>(middle * CHANGE_BYTES)) <= tsSec) low = middle;
    else high = middle;
  }
  const change = changes + <usize>(low * CHANGE_BYTES);
  // The first change also covers the times before it.
  cachedStart = low == 0 ? 0 : load<u32>(change);
  cachedEnd = low + 1 < changeCount ? load<u32>(change + CHANGE_BYTES) : 0xffffffff;
  cachedOffset = load<i32>(change, 4);
  return cachedOffset;
}

// Local seconds since 1970-01-01 00:00 local time (0 for earlier times).
@inline function localSeconds(tsSec: u32): u64 {
  const local = <i64>tsSec + <i64>offsetAt(tsSec);
  return local < 0 ? 0 : <u64>local;
}

// Local hour of the day, 0-23.
export function localHourOf(tsSec: u32): u32 {
  return <u32>((localSeconds(tsSec) % SECONDS_PER_DAY) / 3600);
}

// Local days since 1970-01-01.
export function localDayOf(tsSec: u32): u32 {
  return <u32>(localSeconds(tsSec) / SECONDS_PER_DAY);
}
