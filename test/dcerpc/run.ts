// Runs captures and hand-built conversations through the WebAssembly core and
// collects the DCE-RPC and NTLM records, plus a reader for Zeek logs.
import { readFileSync } from "node:fs";
import { Core, type CoreRecord } from "../../agent/src/core/core.js";
import { readCapture } from "../../agent/src/capture/index.js";
import { batchOf, timed, TcpConversation } from "../helpers/frames.js";

export interface RunResult {
  records: CoreRecord[];
  dcerpc: CoreRecord[];
  ntlm: CoreRecord[];
  anomalies: Record<string, number>;
}

async function collect(feed: (core: Core, onRecord: (r: CoreRecord) => void) => Promise<void>): Promise<RunResult> {
  const core = await Core.load();
  const records: CoreRecord[] = [];
  const onRecord = (r: CoreRecord) => { records.push(r); };
  await feed(core, onRecord);
  core.finish(onRecord);
  return {
    records,
    dcerpc: records.filter((r) => r.type === "dcerpc"),
    ntlm: records.filter((r) => r.type === "ntlm"),
    anomalies: core.stats().anomalies,
  };
}

export function runCapture(path: string): Promise<RunResult> {
  return collect(async (core, onRecord) => {
    for await (const batch of readCapture(path)) core.process(batch, onRecord);
  });
}

// Frames are timed one millisecond apart and processed as one batch.
export function runFrames(frames: Uint8Array[]): Promise<RunResult> {
  return collect(async (core, onRecord) => {
    core.process(batchOf(timed(frames)), onRecord);
  });
}

// A TCP conversation to the endpoint mapper port, handshake done. Each call
// takes the next client port, so conversations in one batch are separate flows.
let nextClientPort = 49700;
export function rpcConversation(serverPort = 135): TcpConversation {
  nextClientPort = nextClientPort >= 65000 ? 49700 : nextClientPort + 1;
  return new TcpConversation("10.1.0.5", nextClientPort, "10.1.0.9", serverPort).handshake();
}

// Call records (pdu_type "request") in the order they were written.
export function calls(records: CoreRecord[]): CoreRecord[] {
  return records.filter((r) => r.type === "dcerpc" && r.fields.pdu_type === "request");
}

// Rows of a Zeek log as objects keyed by the #fields names; Zeek escapes a
// backslash as "\\".
export function readZeekLog(path: string): Record<string, string>[] {
  const lines = readFileSync(path, "utf8").split("\n");
  const header = lines.find((l) => l.startsWith("#fields"));
  if (!header) throw new Error(`missing #fields line in Zeek log ${path}`);
  const columns = header.split("\t").slice(1);
  const rows: Record<string, string>[] = [];
  for (const line of lines) {
    if (line === "" || line.startsWith("#")) continue;
    const values = line.split("\t");
    const row: Record<string, string> = {};
    columns.forEach((name, i) => { row[name] = (values[i] ?? "").replace(/\\\\/g, "\\"); });
    rows.push(row);
  }
  return rows;
}
