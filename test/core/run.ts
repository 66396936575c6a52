// Runs hand-built frames through the WebAssembly core and collects records
// and statistics, plus builders for the link layers and IP variants that
// test/helpers/frames.ts does not make.
import pino from "pino";
import { Core, type CoreLimits, type CoreRecord } from "../../agent/src/core/core.js";
import { silentLogger, type Logger } from "../../agent/src/log.js";
import { batchOf, timed, type TimedFrame } from "../helpers/frames.js";

export interface CoreRun {
  records: CoreRecord[];
  counters: Record<string, number>;
  anomalies: Record<string, number>;
}

// FIELDSENSE_CORE_WASM points the tests at another build of the core. The
// core's log goes nowhere unless a test passes its own logger.
export function loadCore(limits?: CoreLimits, logger: Logger = silentLogger): Promise<Core> {
  return Core.load({ limits, wasmPath: process.env.FIELDSENSE_CORE_WASM, logger });
}

// A logger that keeps every entry, for tests that check what was logged.
export function memoryLogger(): { logger: Logger; entries: Array<Record<string, unknown>> } {
  const entries: Array<Record<string, unknown>> = [];
  const logger = pino({ level: "trace" }, { write: (line: string) => { entries.push(JSON.parse(line)); } });
  return { logger, entries };
}

// Processes timed frames as one batch of `linkType`, then ends the input.
export async function runTimed(frames: TimedFrame[], options: { linkType?: number; limits?: CoreLimits } = {}): Promise<CoreRun> {
  const core = await loadCore(options.limits);
  const records: CoreRecord[] = [];
  const onRecord = (r: CoreRecord) => { records.push(r); };
  core.process(batchOf(frames, options.linkType ?? 1), onRecord);
  core.finish(onRecord);
  return { records, ...core.stats() };
}

// Frames one millisecond apart.
export function runFrames(frames: Uint8Array[], options: { linkType?: number; limits?: CoreLimits } = {}): Promise<CoreRun> {
  return runTimed(timed(frames), options);
}

const u16 = (v: number) => [(v >> 8) & 0xff, v & 0xff];

// A Modbus/TCP ADU: MBAP header (transaction id, protocol id 0, length,
// unit id) and the PDU.
export function modbusAdu(transactionId: number, unitId: number, pdu: number[]): number[] {
  return [...u16(transactionId), 0, 0, ...u16(pdu.length + 1), unitId, ...pdu];
}

// Read Holding Registers (function code 3) request and its response.
export function readHoldingRequest(transactionId: number, startAddress: number, quantity: number): number[] {
  return modbusAdu(transactionId, 1, [3, ...u16(startAddress), ...u16(quantity)]);
}

export function readHoldingResponse(transactionId: number, values: number[]): number[] {
  return modbusAdu(transactionId, 1, [3, values.length * 2, ...values.flatMap(u16)]);
}

export function modbusRecords(run: CoreRun): CoreRecord[] {
  return run.records.filter((r) => r.type === "modbus");
}

// The network-layer bytes of an Ethernet frame built by frames.ts.
export function stripEthernet(frame: Uint8Array): Uint8Array {
  return frame.subarray(14);
}

// Inserts 802.1Q/802.1ad tags after the MAC addresses: each entry is a tag
// protocol identifier (0x8100, 0x88a8) and its VLAN id.
export function withVlanTags(frame: Uint8Array, tags: Array<[number, number]>): Uint8Array {
  const tagBytes = tags.flatMap(([tpid, vlan]) => [...u16(tpid), ...u16(vlan & 0x0fff)]);
  return Uint8Array.from([...frame.subarray(0, 12), ...tagBytes, ...frame.subarray(12)]);
}

// Linux cooked capture v1 header (LINKTYPE_LINUX_SLL, 113).
export function sllFrame(frame: Uint8Array): Uint8Array {
  const etherType = [frame[12], frame[13]];
  return Uint8Array.from([0, 0, 0, 1, 0, 6, ...frame.subarray(6, 12), 0, 0, ...etherType, ...frame.subarray(14)]);
}

// Linux cooked capture v2 header (LINKTYPE_LINUX_SLL2, 276).
export function sll2Frame(frame: Uint8Array): Uint8Array {
  const etherType = [frame[12], frame[13]];
  return Uint8Array.from([...etherType, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, ...frame.subarray(6, 12), 0, 0, ...frame.subarray(14)]);
}

// BSD null / loop header: the address family as a 32-bit integer.
export function nullFrame(frame: Uint8Array, family: number, bigEndian: boolean): Uint8Array {
  const header = new Uint8Array(4);
  new DataView(header.buffer).setUint32(0, family, !bigEndian);
  return Uint8Array.from([...header, ...frame.subarray(14)]);
}

// Splits the IPv4 packet of an Ethernet frame into fragments of at most
// `size` payload bytes (a multiple of 8); returns Ethernet frames.
export function ipv4Fragments(frame: Uint8Array, size: number): Uint8Array[] {
  if (size % 8 !== 0) throw new Error(`fragment size ${size} is not a multiple of 8`);
  const ethernet = frame.subarray(0, 14);
  const ip = frame.subarray(14);
  const headerLength = (ip[0] & 0x0f) * 4;
  const payload = ip.subarray(headerLength);
  const out: Uint8Array[] = [];
  for (let offset = 0; offset < payload.length; offset += size) {
    const piece = payload.subarray(offset, Math.min(payload.length, offset + size));
    const header = Uint8Array.from(ip.subarray(0, headerLength));
    const view = new DataView(header.buffer);
    view.setUint16(2, headerLength + piece.length);
    const more = offset + size < payload.length ? 0x2000 : 0;
    view.setUint16(6, more | (offset / 8));
    out.push(Uint8Array.from([...ethernet, ...header, ...piece]));
  }
  return out;
}

// Rebuilds the IPv6 packet of an Ethernet frame with extension headers
// between the fixed header and the upper-layer header. Each extension is
// given as [header type, body bytes after next header and length]; the
// body is padded to the header's unit.
export function ipv6WithExtensions(frame: Uint8Array, extensions: Array<[number, number[]]>): Uint8Array {
  const ethernet = frame.subarray(0, 14);
  const ip = frame.subarray(14);
  const fixed = Uint8Array.from(ip.subarray(0, 40));
  const upper = ip.subarray(40);
  const upperProtocol = fixed[6];
  const chain: number[] = [];
  extensions.forEach(([type, body], i) => {
    const next = i + 1 < extensions.length ? extensions[i + 1][0] : upperProtocol;
    if (type === 44) {
      chain.push(next, 0, ...body.slice(0, 6));
      return;
    }
    const padded = [...body];
    while ((padded.length + 2) % 8 !== 0) padded.push(0);
    chain.push(next, (padded.length + 2) / 8 - 1, ...padded);
  });
  fixed[6] = extensions.length > 0 ? extensions[0][0] : upperProtocol;
  new DataView(fixed.buffer).setUint16(4, chain.length + upper.length);
  return Uint8Array.from([...ethernet, ...fixed, ...chain, ...upper]);
}

// Splits an IPv6 frame's upper-layer bytes into fragments behind a
// fragment header (RFC 8200 section 4.5); `size` is a multiple of 8.
export function ipv6Fragments(frame: Uint8Array, size: number, identification: number): Uint8Array[] {
  const ethernet = frame.subarray(0, 14);
  const ip = frame.subarray(14);
  const upperProtocol = ip[6];
  const payload = ip.subarray(40);
  const out: Uint8Array[] = [];
  for (let offset = 0; offset < payload.length; offset += size) {
    const piece = payload.subarray(offset, Math.min(payload.length, offset + size));
    const fixed = Uint8Array.from(ip.subarray(0, 40));
    fixed[6] = 44;
    new DataView(fixed.buffer).setUint16(4, 8 + piece.length);
    const more = offset + size < payload.length ? 1 : 0;
    const fragmentHeader = new Uint8Array(8);
    const view = new DataView(fragmentHeader.buffer);
    fragmentHeader[0] = upperProtocol;
    view.setUint16(2, offset | more);
    view.setUint32(4, identification);
    out.push(Uint8Array.from([...ethernet, ...fixed, ...fragmentHeader, ...piece]));
  }
  return out;
}

// Deterministic xorshift32 generator for the robustness tests.
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 0x100000000;
  };
}
