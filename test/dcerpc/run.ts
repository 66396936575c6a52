// Runs captures and hand-built conversations through the WebAssembly core and
// collects the DCE-RPC and NTLM records, plus a reader for Zeek logs.
import type { CoreRecord } from "../../agent/src/core/core.js";
import { type CoreRun, readZeekLog, runCaptureThroughCore, runFramesThroughCore } from "../helpers/core-run.js";
import { TcpConversation } from "../helpers/frames.js";

export interface RunResult extends CoreRun {
  dcerpc: CoreRecord[];
  ntlm: CoreRecord[];
}

function byType(run: CoreRun): RunResult {
  return { ...run, dcerpc: run.records.filter((r) => r.type === "dcerpc"), ntlm: run.records.filter((r) => r.type === "ntlm") };
}

export async function runCapture(path: string): Promise<RunResult> {
  return byType(await runCaptureThroughCore(path));
}

export async function runFrames(frames: Uint8Array[]): Promise<RunResult> {
  return byType(await runFramesThroughCore(frames));
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

export { readZeekLog };
