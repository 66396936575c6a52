// Runs captures and hand-built conversations through the WebAssembly core and
// collects the records by type, plus a reader for Zeek's SMB logs.
import type { CoreLimits, CoreRecord } from "../../agent/src/core/core.js";
import { type CoreRun, readZeekLog, runCaptureThroughCore, runFramesThroughCore } from "../helpers/core-run.js";

export interface RunResult extends CoreRun {
  smb: CoreRecord[];
}

function byType(run: CoreRun): RunResult {
  return { ...run, smb: run.records.filter((r) => r.type === "smb") };
}

export async function runCapture(path: string, limits?: CoreLimits): Promise<RunResult> {
  return byType(await runCaptureThroughCore(path, limits));
}

export async function runFrames(frames: Uint8Array[], limits?: CoreLimits): Promise<RunResult> {
  return byType(await runFramesThroughCore(frames, limits));
}

// Records of one command, in order.
export function byCommand(records: CoreRecord[], command: string): CoreRecord[] {
  return records.filter((r) => r.type === "smb" && r.fields.command === command);
}

export { readZeekLog };
