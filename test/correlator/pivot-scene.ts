// Byte-built Modbus writes that the engineering workstation of the demo
// scene sends to a second PLC a minute after it received a service: with the
// scene, an IT-to-OT pivot.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { pcapFile, TcpConversation, type TimedFrame } from "../helpers/frames.js";
import { ENGINEERING_HOST } from "../fixtures/demo/make-sample.js";

export const SECOND_PLC = "10.10.2.11";
// 2026-03-10 08:02:00 UTC, a minute after the service was created. Frames
// are 1 ms apart, so the first write request (after the handshake) is at
// FIRST_WRITE_MS.
export const WRITES_AT = Date.UTC(2026, 2, 10, 8, 2, 0) / 1000;
export const FIRST_WRITE_MS = WRITES_AT * 1000 + 3;

// Modbus/TCP ADU: transaction id, protocol id 0, length, unit id, then
// function 16 (Write Multiple Registers) or its response.
function writeRegisters(transactionId: number, start: number, values: number[]): number[] {
  const pdu = [0x10, start >> 8, start & 0xff, 0, values.length, values.length * 2, ...values.flatMap((v) => [v >> 8, v & 0xff])];
  return [transactionId >> 8, transactionId & 0xff, 0, 0, 0, pdu.length + 1, 1, ...pdu];
}

function writeResponse(transactionId: number, start: number, quantity: number): number[] {
  const pdu = [0x10, start >> 8, start & 0xff, 0, quantity];
  return [transactionId >> 8, transactionId & 0xff, 0, 0, 0, pdu.length + 1, 1, ...pdu];
}

// Writes the capture into `dir` and returns its path.
export function pivotWrites(dir: string): string {
  const c = new TcpConversation(ENGINEERING_HOST, 49900, SECOND_PLC, 502, 0x51000000, 0x62000000).handshake();
  for (let i = 1; i <= 3; i++) {
    c.fromClient(writeRegisters(i, 100 + i, [0, 1]));
    c.fromServer(writeResponse(i, 100 + i, 2));
  }
  const frames: TimedFrame[] = c.frames.map((bytes, i) => ({ tsSec: WRITES_AT, tsFrac: i * 1000, bytes }));
  const path = join(dir, "pivot-writes.pcap");
  writeFileSync(path, pcapFile(frames));
  return path;
}
