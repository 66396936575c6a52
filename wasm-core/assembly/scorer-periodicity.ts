// Periodicity of a baseline entry's occurrences, in the manner of RITA's
// beacon analysis. Regular intervals have a symmetric distribution (Bowley
// skew near 0) and a small median absolute deviation (MAD) next to their
// median. Regular sizes have a small MAD next to their median too. A beacon
// also runs around the clock and for as long as the sensor has watched, so
// the spread of the occurrences over the hours of the day and the duration
// of the series count as well.
//
// All scores are integers from 0 (irregular) to 100 (perfectly regular).
// periodicityOf() sets the results below; it reads the entry's ring of
// occurrence start times and sizes, its hour-of-day profile and its first
// and last seen times (baseline-history.ts).

import {
  RING_SLOTS, entryRingCount, entryOccurrenceTime, entryOccurrenceBytes, entryHourCount, entryFirstSeen,
  entryLastSeen, learningStartSec,
} from "./baseline-history";

// Intervals or sizes being ranked; at most RING_SLOTS values.
const values = memory.data(<i32>(RING_SLOTS * 8));
const deviations = memory.data(<i32>(RING_SLOTS * 8));

// Results of the last periodicityOf call.
export let intervalCount: u32 = 0;
export let medianIntervalSec: f64 = 0;
export let intervalSkewScore: u32 = 0;
export let intervalMadScore: u32 = 0;
export let sizeScore: u32 = 0;
export let spreadScore: u32 = 0;
export let durationScore: u32 = 0;
// Mean of the five scores above: the entry's periodicity.
export let periodicityScore: u32 = 0;

@inline const SECONDS_PER_HOUR: u32 = 3600;

// 100 x the hours of the day in which the entry's occurrences fell, divided by
// the hours of the day the observed window (learningStartSec to `nowSec`)
// spans, at most 24. A job confined to one hour a day scores about 4 after a
// day of watching; a beacon that runs around the clock scores 100.
function spreadOf(e: usize, nowSec: u32): u32 {
  let covered: u32 = 0;
  for (let hour: u32 = 0; hour < 24; hour++) {
    if (entryHourCount(e, hour) != 0) covered++;
  }
  let windowHours: u32 = 24;
  if (learningStartSec != 0 && nowSec >= learningStartSec) {
    const hours = nowSec / SECONDS_PER_HOUR - learningStartSec / SECONDS_PER_HOUR + 1;
    if (hours < windowHours) windowHours = hours;
  }
  if (covered >= windowHours) return 100;
  return <u32>Math.round(<f64>covered * 100.0 / <f64>windowHours);
}

// 100 x the time from the entry's first occurrence to `nowSec` (or its last,
// when later), divided by the observed window (learningStartSec to `nowSec`).
// A series that started when the sensor did scores 100, one that began an
// hour ago after ten days of watching about 0.
function durationOf(e: usize, nowSec: u32): u32 {
  if (learningStartSec == 0 || nowSec <= learningStartSec) return 100;
  const last = entryLastSeen(e) > nowSec ? entryLastSeen(e) : nowSec;
  const first = entryFirstSeen(e);
  if (first >= last) return 0;
  const ratio = <f64>(last - first) / <f64>(nowSec - learningStartSec);
  return ratio >= 1.0 ? 100 : <u32>Math.round(ratio * 100.0);
}

function sortValues(base: usize, count: u32): void {
  for (let i: u32 = 1; i < count; i++) {
    const v = load<f64>(base + (<usize>i << 3));
    let j = i;
    while (j > 0 && load<f64>(base + (<usize>(j - 1) << 3)) > v) {
      store<f64>(base + (<usize>j << 3), load<f64>(base + (<usize>(j - 1) << 3)));
      j--;
    }
    store<f64>(base + (<usize>j << 3), v);
  }
}

// Quantile of sorted values by linear interpolation, q in 0..1.
function quantile(base: usize, count: u32, q: f64): f64 {
  const position = q * <f64>(count - 1);
  const low = <u32>Math.floor(position);
  const high = low + 1 < count ? low + 1 : low;
  const fraction = position - <f64>low;
  const a = load<f64>(base + (<usize>low << 3));
  const b = load<f64>(base + (<usize>high << 3));
  return a + (b - a) * fraction;
}

// 100 * (1 - MAD / median) of the `count` sorted values at `values`,
// clamped to 0..100. Also leaves the median in `lastMedian`.
let lastMedian: f64 = 0;
function madScore(count: u32): u32 {
  const median = quantile(values, count, 0.5);
  lastMedian = median;
  if (median <= 0) return 0;
  for (let i: u32 = 0; i < count; i++) {
    store<f64>(deviations + (<usize>i << 3), Math.abs(load<f64>(values + (<usize>i << 3)) - median));
  }
  sortValues(deviations, count);
  const mad = quantile(deviations, count, 0.5);
  const score = 1.0 - mad / median;
  return score <= 0 ? 0 : <u32>Math.round(score * 100);
}

// Scores the occurrences of entry `e` at packet time `nowSec` (the record
// being judged). With fewer than 3 occurrences (2 intervals) every score
// is 0. `e` may be 0 (no entry): every score is then 0.
export function periodicityOf(e: usize, nowSec: u32): void {
  const count = e != 0 ? entryRingCount(e) : 0;
  intervalCount = count > 1 ? count - 1 : 0;
  medianIntervalSec = 0;
  intervalSkewScore = 0;
  intervalMadScore = 0;
  sizeScore = 0;
  spreadScore = 0;
  durationScore = 0;
  periodicityScore = 0;
  if (intervalCount < 2) return;

  for (let i: u32 = 0; i < intervalCount; i++) {
    const interval = <f64>entryOccurrenceTime(e, i + 1) - <f64>entryOccurrenceTime(e, i);
    store<f64>(values + (<usize>i << 3), interval);
  }
  sortValues(values, intervalCount);
  const q1 = quantile(values, intervalCount, 0.25);
  const q2 = quantile(values, intervalCount, 0.5);
  const q3 = quantile(values, intervalCount, 0.75);
  // Bowley skew (q1 + q3 - 2 q2) / (q3 - q1); equal quartiles are symmetric.
  let skew: f64 = 0;
  if (q3 - q1 > 0) skew = (q1 + q3 - 2 * q2) / (q3 - q1);
  intervalSkewScore = <u32>Math.round((1.0 - Math.min(1.0, Math.abs(skew))) * 100);
  intervalMadScore = madScore(intervalCount);
  medianIntervalSec = lastMedian;

  for (let i: u32 = 0; i < count; i++) {
    store<f64>(values + (<usize>i << 3), <f64>entryOccurrenceBytes(e, i));
  }
  sortValues(values, count);
  sizeScore = madScore(count);
  spreadScore = spreadOf(e, nowSec);
  durationScore = durationOf(e, nowSec);
  periodicityScore = (intervalSkewScore + intervalMadScore + sizeScore + spreadScore + durationScore + 2) / 5;
}
