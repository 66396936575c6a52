// Anomaly counters and their names.
//
// Anomalies are oddities that do not stop analysis (Zeek calls them weirds),
// named after what was observed: `tcp.seq_gap`, `modbus.length_mismatch`.
// Ids are grouped in the same ranges as field ids (protocols/fields.ts):
//   0-99 core (link, IP, TCP, UDP, flows, events), 100-199 Modbus,
//   200-299 SMB, 300-399 DCE-RPC, 400-449 NTLMSSP, 500-599 models.
// The host reads the names once through the `anomalyName` export.

import { modbusAnomalyName } from "../../protocols/modbus/fields";
import { smbAnomalyName } from "../../protocols/smb/fields";
import { dcerpcAnomalyName } from "../../protocols/dcerpc/fields";
import { ntlmAnomalyName } from "../../protocols/ntlm/fields";
import { modelAnomalyName } from "./model-fields";

@inline export const ANOMALY_ID_LIMIT: u32 = 600;

// Core anomalies. The core's own layers add theirs here.
export namespace CoreAnomaly {
  @inline export const EVENT_BUFFER_FULL: u16 = 1;
  @inline export const EVENT_FIELD_TRUNCATED: u16 = 2;
}

export function coreAnomalyName(id: u16): string {
  switch (id) {
    case CoreAnomaly.EVENT_BUFFER_FULL: return "event.buffer_full";
    case CoreAnomaly.EVENT_FIELD_TRUNCATED: return "event.field_truncated";
  }
  return "";
}

// u64 counters indexed by anomaly id, in a static region so that counting
// works before `configure`.
const anomalyCounts = memory.data(<i32>(ANOMALY_ID_LIMIT * 8));

export function countAnomaly(id: u16): void {
  if (<u32>id >= ANOMALY_ID_LIMIT) return;
  const p = anomalyCounts + (<usize>id << 3);
  store<u64>(p, load<u64>(p) + 1);
}

export function anomalyCount(id: u16): u64 {
  if (<u32>id >= ANOMALY_ID_LIMIT) return 0;
  return load<u64>(anomalyCounts + (<usize>id << 3));
}

export function resetAnomalyCounts(): void {
  memory.fill(anomalyCounts, 0, <usize>ANOMALY_ID_LIMIT * 8);
}

// Returns the name of an anomaly id, or "" when the id is unassigned.
export function anomalyName(id: u16): string {
  if (id < 100) return coreAnomalyName(id);
  if (id < 200) return modbusAnomalyName(id);
  if (id < 300) return smbAnomalyName(id);
  if (id < 400) return dcerpcAnomalyName(id);
  if (id < 450) return ntlmAnomalyName(id);
  if (id >= 500 && id < 600) return modelAnomalyName(id);
  return "";
}
