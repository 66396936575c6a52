// Final score of an alert: the model's base score plus signed factors from
// the traffic baselines, clamped to 0-100. Each factor is written into the
// alert (FACTOR, FACTOR_POINTS) so the host can say why the score is what it
// is. models/README.md documents the same function for analysts.
//
//   base            the model's score (after its scorer, see models.ts)
//   learning        the learning period runs: the score drops to
//                   learning_factor x score and no baseline factor applies
//                   (nor when the model's scorer is still learning)
//   new service     the host pair never used this service     +NEW_SERVICE_POINTS
//   new pair        the two hosts never talked                 +NEW_PAIR_POINTS
//                   ("never": not before NEW_WINDOW_SEC ahead of the record)
//   rare            seen on fewer than RARE_DAYS days          +RARE_POINTS_PER_DAY x missing days
//   unusual hour    seen on ROUTINE_MIN_DAYS days or more, never within an
//                   hour of this one                            +UNUSUAL_HOUR_POINTS
//   routine         a daily routine at its usual hour           -ROUTINE_PERCENT % of the base

import { ModelField, Factor } from "./model-fields";
import { fieldU64, fieldI64, fieldBool } from "./events";
import {
  entryFirstSeen, entryLastSeen, entryRecords, entryDays, entryOccurrences, entryUsualHour,
  entryOccurrencesNearHour,
} from "./baseline-history";
import { localHourOf } from "./baseline-time";
import { periodicityOf, medianIntervalSec, intervalMadScore, periodicityScore } from "./scorer-periodicity";

// A pair or pair plus service first seen less than NEW_WINDOW_SEC before the
// record counts as new: the session that carries an alert (an SMB negotiate
// and tree connect before a DCE-RPC call) must not make its hosts known.
@inline export const NEW_WINDOW_SEC: u32 = 3600;
@inline export const NEW_SERVICE_POINTS: i32 = 15;
@inline export const NEW_PAIR_POINTS: i32 = 10;
@inline export const RARE_DAYS: u32 = 3;
@inline export const RARE_POINTS_PER_DAY: i32 = 5;
@inline export const UNUSUAL_HOUR_POINTS: i32 = 10;
@inline export const ROUTINE_MIN_DAYS: u32 = 7;
@inline export const ROUTINE_PERCENT: i32 = 70;
// At least this share (percent) of the occurrences fall within an hour of the
// usual hour, and the median interval is about a day.
@inline export const ROUTINE_MIN_HOUR_SHARE: u32 = 80;
@inline export const ROUTINE_MIN_INTERVAL_SEC: f64 = 20 * 3600;
@inline export const ROUTINE_MAX_INTERVAL_SEC: f64 = 28 * 3600;
// Minimum regularity (intervalMadScore) of the daily intervals.
@inline export const ROUTINE_MIN_REGULARITY: u32 = 50;

@inline const MAX_FACTORS: u32 = 8;
const factorIds = memory.data(<i32>MAX_FACTORS);
const factorPoints = memory.data(<i32>(MAX_FACTORS * 4));
let factorCount: u32 = 0;

function addFactor(id: u8, points: i32): void {
  if (factorCount >= MAX_FACTORS) return;
  store<u8>(factorIds + <usize>factorCount, id);
  store<i32>(factorPoints + (<usize>factorCount << 2), points);
  factorCount++;
}

// Results of scoreAlert.
export let finalScore: u32 = 0;
export let finalLearning: bool = false;
export let routineFound: bool = false;

// Hours are local hours of the configured time zone (baseline-time.ts), as
// in the hour-of-day profile.
@inline function hourOf(tsSec: u32): u32 { return localHourOf(tsSec); }

// True when entry `e` (0: never seen) was first seen within NEW_WINDOW_SEC
// before `tsSec`, or never.
export function isNew(e: usize, tsSec: u32): bool {
  if (e == 0) return true;
  const first = entryFirstSeen(e);
  return tsSec < first || tsSec - first < NEW_WINDOW_SEC;
}

function isDailyRoutine(service: usize, tsSec: u32): bool {
  if (entryDays(service) < ROUTINE_MIN_DAYS) return false;
  const usual = entryUsualHour(service);
  if (usual >= 24) return false;
  const occurrences = entryOccurrences(service);
  if (entryOccurrencesNearHour(service, usual) * 100 < occurrences * ROUTINE_MIN_HOUR_SHARE) return false;
  if (medianIntervalSec < ROUTINE_MIN_INTERVAL_SEC || medianIntervalSec > ROUTINE_MAX_INTERVAL_SEC) return false;
  if (intervalMadScore < ROUTINE_MIN_REGULARITY) return false;
  const hour = hourOf(tsSec);
  return hour == usual || hour == (usual + 1) % 24 || hour == (usual + 23) % 24;
}

// Computes the final score of an alert of base score `base` and sets
// finalScore, finalLearning and routineFound. `service` and `pair` are the
// record's baseline entries (0 when never seen). `scorerPoints` is the change
// the model's scorer made, named by `scorerFactor` (0: none), and
// `learningPercent` is the model's learning factor.
export function scoreAlert(
  base: u32, scorerFactor: u8, scorerPoints: i32, learningPeriod: bool, learningPercent: u32,
  service: usize, pair: usize, tsSec: u32,
): void {
  factorCount = 0;
  routineFound = false;
  finalLearning = scorerFactor == Factor.NO_MASTER_YET;
  addFactor(Factor.BASE, <i32>base);
  let score = <i32>base;
  if (scorerFactor != 0) {
    addFactor(scorerFactor, scorerPoints);
    score += scorerPoints;
  }

  periodicityOf(service, tsSec);

  if (learningPeriod) {
    finalLearning = true;
    const scaled = (score * <i32>learningPercent + 50) / 100;
    addFactor(Factor.LEARNING_PERIOD, scaled - score);
    score = scaled;
  } else if (scorerFactor == Factor.NO_MASTER_YET) {
    // The scorer's own baseline is still learning: the traffic baselines are
    // too young to call anything new or routine.
  } else if (isNew(service, tsSec)) {
    addFactor(Factor.NEW_SERVICE, NEW_SERVICE_POINTS);
    score += NEW_SERVICE_POINTS;
    if (isNew(pair, tsSec)) {
      addFactor(Factor.NEW_PAIR, NEW_PAIR_POINTS);
      score += NEW_PAIR_POINTS;
    }
  } else {
    const days = entryDays(service);
    if (days < RARE_DAYS) {
      const points = RARE_POINTS_PER_DAY * <i32>(RARE_DAYS - days);
      addFactor(Factor.RARE, points);
      score += points;
    }
    if (isDailyRoutine(service, tsSec)) {
      routineFound = true;
      const points = -((<i32>base * ROUTINE_PERCENT + 50) / 100);
      addFactor(Factor.ROUTINE, points);
      score += points;
    } else if (days >= ROUTINE_MIN_DAYS && entryOccurrencesNearHour(service, hourOf(tsSec)) == 0) {
      addFactor(Factor.UNUSUAL_HOUR, UNUSUAL_HOUR_POINTS);
      score += UNUSUAL_HOUR_POINTS;
    }
  }
  if (score < 0) score = 0;
  if (score > 100) score = 100;
  finalScore = <u32>score;
}

// Writes the score, the baseline context and the factors of the last
// scoreAlert call into the open alert record.
export function writeScoreFields(base: u32, service: usize, pair: usize, tsSec: u32): void {
  fieldU64(ModelField.SCORE, finalScore);
  fieldBool(ModelField.LEARNING, finalLearning);
  fieldU64(ModelField.BASE_SCORE, base);
  fieldBool(ModelField.SEEN_BEFORE, !isNew(service, tsSec));
  fieldU64(ModelField.FIRST_SEEN, service != 0 ? entryFirstSeen(service) : tsSec);
  fieldU64(ModelField.TIMES_SEEN, service != 0 ? entryRecords(service) : 0);
  fieldBool(ModelField.PAIR_SEEN_BEFORE, !isNew(pair, tsSec));
  if (pair != 0) fieldU64(ModelField.PAIR_FIRST_SEEN, entryFirstSeen(pair));
  if (service != 0) {
    fieldU64(ModelField.LAST_SEEN, entryLastSeen(service));
    fieldU64(ModelField.DAYS_SEEN, entryDays(service));
    fieldU64(ModelField.OCCURRENCES, entryOccurrences(service));
    const usual = entryUsualHour(service);
    if (usual < 24) {
      fieldU64(ModelField.USUAL_HOUR, usual);
      fieldU64(ModelField.USUAL_HOUR_OCCURRENCES, entryOccurrencesNearHour(service, usual));
    }
    if (medianIntervalSec > 0) {
      fieldU64(ModelField.MEDIAN_INTERVAL, <u64>Math.round(medianIntervalSec));
      fieldU64(ModelField.PERIODICITY, periodicityScore);
    }
  }
  fieldBool(ModelField.ROUTINE, routineFound);
  for (let i: u32 = 0; i < factorCount; i++) {
    fieldU64(ModelField.FACTOR, load<u8>(factorIds + <usize>i));
    fieldI64(ModelField.FACTOR_POINTS, load<i32>(factorPoints + (<usize>i << 2)));
  }
}
