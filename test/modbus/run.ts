// Runs captures and hand-built conversations through the WebAssembly core and
// collects the Modbus records, plus byte builders for Modbus/TCP ADUs.
import { readFileSync } from "node:fs";
import type { CoreLimits, CoreRecord } from "../../agent/src/core/core.js";
import { type CoreRun, runCaptureThroughCore, runFramesThroughCore } from "../helpers/core-run.js";

export interface RunResult extends CoreRun {
  modbus: CoreRecord[];
}

function byType(run: CoreRun): RunResult {
  return { ...run, modbus: run.records.filter((r) => r.type === "modbus") };
}

export async function runCapture(path: string, limits?: CoreLimits): Promise<RunResult> {
  return byType(await runCaptureThroughCore(path, limits));
}

export async function runFrames(frames: Uint8Array[], limits?: CoreLimits): Promise<RunResult> {
  return byType(await runFramesThroughCore(frames, limits));
}

// Builds a Modbus/TCP ADU: MBAP header (transaction id, protocol id, length,
// unit id) followed by the PDU bytes. `protocolId` and `length` may be given
// to build invalid headers.
export function adu(transactionId: number, unitId: number, pdu: number[], options: { protocolId?: number; length?: number } = {}): number[] {
  const length = options.length ?? pdu.length + 1;
  const protocolId = options.protocolId ?? 0;
  return [transactionId >> 8, transactionId & 0xff, protocolId >> 8, protocolId & 0xff, length >> 8, length & 0xff, unitId, ...pdu];
}

export const u16 = (v: number): number[] => [(v >> 8) & 0xff, v & 0xff];

// Rows of a Zeek modbus.log. ICSNPP's baseline keeps no header, so its rows
// are read by position: ts uid orig_h orig_p resp_h resp_p func exception.
export interface ZeekModbusRow { func: string; pduType: string | undefined; exception: string }

export function readZeekModbusLog(path: string): ZeekModbusRow[] {
  const lines = readFileSync(path, "utf8").split("\n");
  const header = lines.find((l) => l.startsWith("#fields"));
  const columns = header ? header.split("\t").slice(1) : ["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "func", "exception"];
  const rows: ZeekModbusRow[] = [];
  for (const line of lines) {
    if (line === "" || line.startsWith("#")) continue;
    const values = line.split("\t");
    const get = (name: string) => values[columns.indexOf(name)];
    rows.push({ func: get("func"), pduType: columns.includes("pdu_type") ? get("pdu_type") : undefined, exception: get("exception") });
  }
  return rows;
}

// Counts rows by "function pdu_type exception", the words Zeek logs: REQ or
// RESP for the PDU type and "-" for no exception.
export function countZeekRows(rows: ZeekModbusRow[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const row of rows) {
    const key = `${row.func} ${row.pduType ?? "RESP"} ${row.exception}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

export function countRecords(records: CoreRecord[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of records) {
    const pduType = r.fields.pdu_type === "request" ? "REQ" : "RESP";
    const key = `${String(r.fields.function)} ${pduType} ${r.fields.exception === undefined ? "-" : String(r.fields.exception)}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

// Returns the anomaly names a record carries in its `anomaly` field.
export function anomaliesOf(record: CoreRecord): string[] {
  const value = record.fields.anomaly;
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}

// Rows of a Zeek log with a #fields header, as column name to text. Zeek
// writes "-" for an unset field and "," between the items of a vector.
export function readZeekLog(path: string): Record<string, string>[] {
  const lines = readFileSync(path, "utf8").split("\n");
  const header = lines.find((l) => l.startsWith("#fields"));
  if (!header) throw new Error(`Zeek log ${path} has no #fields line; expected a log written with headers`);
  const columns = header.split("\t").slice(1);
  return lines
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => {
      const values = line.split("\t");
      return Object.fromEntries(columns.map((name, i) => [name, values[i]]));
    });
}

// A Zeek vector[count] column as numbers; undefined for "-".
export function zeekCounts(text: string | undefined): number[] | undefined {
  if (text === undefined || text === "-") return undefined;
  return text === "(empty)" ? [] : text.split(",").map(Number);
}

// A record's `values` field as an array: the host writes one value as a
// plain number.
export function valuesOf(record: CoreRecord | undefined): number[] | undefined {
  const value = record?.fields.values;
  if (value === undefined) return undefined;
  return (Array.isArray(value) ? value : [value]).map(Number);
}
