// Field ids (500-599) and anomaly ids (500-599) of the model engine.
//
// An alert record (RecordType.ALERT) starts with the fields below, then
// repeats every field of the record that fired the model, as evidence.

export namespace ModelField {
  // Position of the model in the installed model table; the host maps it back
  // to the model's id and name.
  @inline export const MODEL_INDEX: u16 = 500;
  // 0-100: the model's base score, scaled down while a scorer is learning.
  @inline export const SCORE: u16 = 501;
  // The scorer has no baseline yet for this device, so the score is reduced.
  @inline export const LEARNING: u16 = 502;
  // This model fired before for the same source and destination address.
  @inline export const SEEN_BEFORE: u16 = 503;
  // Packet time (seconds since the Unix epoch) of the first alert of this
  // model for the same source and destination address.
  @inline export const FIRST_SEEN: u16 = 504;
  // How many alerts of this model the pair had before this one.
  @inline export const TIMES_SEEN: u16 = 505;
}

export function modelFieldName(id: u16): string {
  switch (id) {
    case ModelField.MODEL_INDEX: return "model_index";
    case ModelField.SCORE: return "score";
    case ModelField.LEARNING: return "learning";
    case ModelField.SEEN_BEFORE: return "seen_before";
    case ModelField.FIRST_SEEN: return "first_seen";
    case ModelField.TIMES_SEEN: return "times_seen";
  }
  return "";
}

// Anomalies of the model engine: its bounded tables were full and an entry
// was evicted, so a baseline forgot something it had learned.
export namespace ModelAnomaly {
  @inline export const FREQUENCY_KEY_EVICTED: u16 = 500;
  @inline export const PAIR_EVICTED: u16 = 501;
  @inline export const MASTER_DEVICE_EVICTED: u16 = 502;
  @inline export const MASTER_CLIENT_EVICTED: u16 = 503;
  // An alert could not be written because the event buffer was full.
  @inline export const ALERT_DROPPED: u16 = 504;
}

export function modelAnomalyName(id: u16): string {
  switch (id) {
    case ModelAnomaly.FREQUENCY_KEY_EVICTED: return "model.frequency_key_evicted";
    case ModelAnomaly.PAIR_EVICTED: return "model.pair_evicted";
    case ModelAnomaly.MASTER_DEVICE_EVICTED: return "model.master_device_evicted";
    case ModelAnomaly.MASTER_CLIENT_EVICTED: return "model.master_client_evicted";
    case ModelAnomaly.ALERT_DROPPED: return "model.alert_dropped";
  }
  return "";
}
