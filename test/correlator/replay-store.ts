// Replays capture files through the agent's replay path (core, models,
// alerts, the forwarded selection of records) into a correlator store, as a
// gateway publishing to the correlator would.
import { replayFiles } from "../../agent/src/pipeline.js";
import type { Alert } from "../../agent/src/publish/alert.js";
import { isForwardedRecord, type RecordJson } from "../../agent/src/publish/record.js";
import type { Store } from "../../correlator/src/store.js";

export interface Replayed {
  alerts: Alert[];
  records: RecordJson[];
}

// Runs `files` through the replay path and returns the alerts and the
// forwarded records, without storing them.
export async function replayCaptures(files: string[], site = "plant-a", gateway = "gw-1"): Promise<Replayed> {
  const alerts: Alert[] = [];
  const records: RecordJson[] = [];
  await replayFiles(files, {
    site, gateway, keepRecords: true,
    onAlert: (alert) => { alerts.push(alert); },
    onRecord: (record) => { if (isForwardedRecord(record)) records.push(record); },
  });
  return { alerts, records };
}

// Stores replayed records, then alerts, in the order a gateway sends them
// within each kind.
export async function storeReplayed(store: Store, replayed: Replayed, site = "plant-a", gateway = "gw-1"): Promise<void> {
  for (const record of replayed.records) await store.insertRecord(site, gateway, record);
  for (const alert of replayed.alerts) await store.insertAlert(alert);
}
