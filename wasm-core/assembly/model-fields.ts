// Field ids (500-599) and anomaly ids (500-599) of the model engine.
//
// An alert record (RecordType.ALERT) starts with the fields below, then
// repeats every field of the record that fired the model, as evidence. The
// baseline fields describe what was known before the record that fired.

export namespace ModelField {
  // Position of the model in the installed model table; the host maps it back
  // to the model's id and name.
  @inline export const MODEL_INDEX: u16 = 500;
  // 0-100: the final score, the sum of the FACTOR_POINTS clamped to 0-100.
  @inline export const SCORE: u16 = 501;
  // The learning period is running, or the scorer has no baseline yet.
  @inline export const LEARNING: u16 = 502;
  // The same host pair with the same service was seen more than an hour
  // (NEW_WINDOW_SEC in scorer.ts) before, so not only in this session.
  @inline export const SEEN_BEFORE: u16 = 503;
  // Packet time (seconds since the Unix epoch) the pair plus service was
  // first seen; the record's own time when it is new.
  @inline export const FIRST_SEEN: u16 = 504;
  // Records of the pair plus service seen before this one.
  @inline export const TIMES_SEEN: u16 = 505;
  // The model's base score.
  @inline export const BASE_SCORE: u16 = 506;
  // Distinct days (UTC) the pair plus service was seen on.
  @inline export const DAYS_SEEN: u16 = 507;
  // Packet time it was last seen before this record.
  @inline export const LAST_SEEN: u16 = 508;
  // UTC hour (0-23) with the most occurrences; absent when none.
  @inline export const USUAL_HOUR: u16 = 509;
  // The record belongs to a daily routine (see the routine factor).
  @inline export const ROUTINE: u16 = 510;
  // Median interval between occurrences, seconds.
  @inline export const MEDIAN_INTERVAL: u16 = 511;
  // 0-100 regularity of intervals and sizes (scorer-periodicity.ts).
  @inline export const PERIODICITY: u16 = 512;
  // The host pair, with any service, was seen more than an hour before.
  @inline export const PAIR_SEEN_BEFORE: u16 = 513;
  @inline export const PAIR_FIRST_SEEN: u16 = 514;
  // Factors of the score, repeated: FACTOR (a Factor id) and FACTOR_POINTS
  // (its signed contribution) in the same order.
  @inline export const FACTOR: u16 = 515;
  @inline export const FACTOR_POINTS: u16 = 516;
  // Occurrences (bursts of records) of the pair plus service seen before.
  @inline export const OCCURRENCES: u16 = 517;
  // Of those, occurrences within one hour of the usual hour.
  @inline export const USUAL_HOUR_OCCURRENCES: u16 = 518;
  // login_burst scorer (scorer-access.ts): failed logins in the burst, the
  // distinct accounts tried (counted up to 32, the first 8 named), whether
  // a login succeeded at its end, and its first and last failure times.
  @inline export const LOGIN_FAILURES: u16 = 580;
  @inline export const LOGIN_ACCOUNT_COUNT: u16 = 581;
  @inline export const LOGIN_ACCOUNTS: u16 = 582;
  @inline export const LOGIN_SUCCEEDED: u16 = 583;
  @inline export const BURST_FIRST_SEEN: u16 = 584;
  @inline export const BURST_LAST_SEEN: u16 = 585;
}

// Factors of an alert's score, in the FACTOR field.
export namespace Factor {
  @inline export const BASE: u8 = 1;             // the model's base score
  @inline export const NEW_SERVICE: u8 = 2;      // pair plus service never seen
  @inline export const NEW_PAIR: u8 = 3;         // host pair never seen
  @inline export const RARE: u8 = 4;             // seen on few days
  @inline export const UNUSUAL_HOUR: u8 = 5;     // an established activity at an hour it never ran
  @inline export const ROUTINE: u8 = 6;          // a daily routine at its usual hour
  @inline export const LEARNING_PERIOD: u8 = 7;  // baselines are still learning
  @inline export const NO_MASTER_YET: u8 = 8;    // modbus_master: the device has no established master
  @inline export const BEACONING: u8 = 9;        // beaconing scorer: regular outbound occurrences
  @inline export const PROFILE: u8 = 10;         // a profile scorer found the request outside the device's firmware profile
  @inline export const NEWCOMER: u8 = 11;        // new_device or new_master: first seen in its Modbus role
  @inline export const OT_OUTBOUND: u8 = 12;     // ot_outbound: an OT device opened a connection to an IT or external host
}

export function modelFieldName(id: u16): string {
  switch (id) {
    case ModelField.MODEL_INDEX: return "model_index";
    case ModelField.SCORE: return "score";
    case ModelField.LEARNING: return "learning";
    case ModelField.SEEN_BEFORE: return "seen_before";
    case ModelField.FIRST_SEEN: return "first_seen";
    case ModelField.TIMES_SEEN: return "times_seen";
    case ModelField.BASE_SCORE: return "base_score";
    case ModelField.DAYS_SEEN: return "days_seen";
    case ModelField.LAST_SEEN: return "last_seen";
    case ModelField.USUAL_HOUR: return "usual_hour";
    case ModelField.ROUTINE: return "routine";
    case ModelField.MEDIAN_INTERVAL: return "median_interval";
    case ModelField.PERIODICITY: return "periodicity";
    case ModelField.PAIR_SEEN_BEFORE: return "pair_seen_before";
    case ModelField.PAIR_FIRST_SEEN: return "pair_first_seen";
    case ModelField.FACTOR: return "factor";
    case ModelField.FACTOR_POINTS: return "factor_points";
    case ModelField.OCCURRENCES: return "occurrences";
    case ModelField.USUAL_HOUR_OCCURRENCES: return "usual_hour_occurrences";
    case ModelField.LOGIN_FAILURES: return "login_failures";
    case ModelField.LOGIN_ACCOUNT_COUNT: return "login_account_count";
    case ModelField.LOGIN_ACCOUNTS: return "login_accounts";
    case ModelField.LOGIN_SUCCEEDED: return "login_succeeded";
    case ModelField.BURST_FIRST_SEEN: return "burst_first_seen";
    case ModelField.BURST_LAST_SEEN: return "burst_last_seen";
  }
  return "";
}

// Anomalies of the model engine: its bounded tables were full and an entry
// was evicted, so a baseline forgot something it had learned.
export namespace ModelAnomaly {
  @inline export const FREQUENCY_KEY_EVICTED: u16 = 500;
  // Id 501 (model.pair_evicted) belonged to the per-model pair table that the
  // traffic baselines replaced; it stays unused so old counters keep meaning.
  @inline export const MASTER_DEVICE_EVICTED: u16 = 502;
  @inline export const MASTER_CLIENT_EVICTED: u16 = 503;
  // An alert could not be written because the event buffer was full.
  @inline export const ALERT_DROPPED: u16 = 504;
  @inline export const HISTORY_EVICTED: u16 = 505;
  // The Ethernet address table of the asset inventory (host-macs.ts) was full.
  @inline export const HOST_MAC_EVICTED: u16 = 506;
  // The login_burst table was full: the least recently seen burst was dropped.
  @inline export const LOGIN_BURST_EVICTED: u16 = 580;
}

export function modelAnomalyName(id: u16): string {
  switch (id) {
    case ModelAnomaly.FREQUENCY_KEY_EVICTED: return "model.frequency_key_evicted";
    case ModelAnomaly.MASTER_DEVICE_EVICTED: return "model.master_device_evicted";
    case ModelAnomaly.MASTER_CLIENT_EVICTED: return "model.master_client_evicted";
    case ModelAnomaly.ALERT_DROPPED: return "model.alert_dropped";
    case ModelAnomaly.HISTORY_EVICTED: return "model.baseline_evicted";
    case ModelAnomaly.HOST_MAC_EVICTED: return "model.host_mac_evicted";
    case ModelAnomaly.LOGIN_BURST_EVICTED: return "model.login_burst_evicted";
  }
  return "";
}
