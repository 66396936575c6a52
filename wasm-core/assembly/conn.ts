// Connection-start records: one record of type CONN for every TCP connection
// the flow table takes in, whether or not a dissector claims it. Models and
// the traffic baselines see them like any record, so that beaconing and new
// pairs are found on traffic no dissector decodes (TLS, HTTP, a remote-access
// tool on a high port).
//
// A connection start carries nothing the host needs on its own: the header
// names the flow, and the dissectors' records describe what happened in it.
// So the record leaves the event buffer again unless a model fired on it;
// then the host receives it followed by its alert, as with any other record.

import { RecordType } from "../../protocols/fields";
import { beginRecord, endRecord, eventBufferUsed, fieldBool, dropRecordsFrom } from "./events";
import { ConnField } from "./conn-fields";
import { setContext } from "./stream";

export function writeConnectionStart(flow: usize, synSeen: bool): void {
  setContext(flow);
  const start = eventBufferUsed();
  if (!beginRecord(RecordType.CONN, false)) return;
  fieldBool(ConnField.SYN_SEEN, synSeen);
  const record = endRecord();
  // No alert followed the record: take it back out of the event buffer.
  if (record != 0 && eventBufferUsed() == start + load<u32>(record)) dropRecordsFrom(start);
}
