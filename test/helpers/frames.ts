// Byte builders for test fixtures: Ethernet/IPv4/IPv6 frames with TCP or UDP,
// and the core's batch layout (pcap records, little-endian headers).
// Checksums are left zero: the core does not verify them, as captures taken on
// the sending host often carry offloaded, unset checksums.
import type { PacketBatch } from "../../agent/src/capture/batch.js";

export interface TcpSegment {
  src: string;            // "10.0.0.1" or an IPv6 address such as "fd00::1"
  dst: string;
  srcPort: number;
  dstPort: number;
  seq: number;            // taken modulo 2^32
  ack?: number;
  flags?: string;         // any of "SAFRP" (SYN, ACK, FIN, RST, PSH); default "AP"
  payload?: Uint8Array | number[];
}

export interface UdpDatagram {
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  payload?: Uint8Array | number[];
}

const MAC_CLIENT = [0x02, 0, 0, 0, 0, 1];
const MAC_SERVER = [0x02, 0, 0, 0, 0, 2];

export function ipv4Bytes(address: string): number[] {
  const parts = address.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !(p >= 0 && p <= 255))) {
    throw new Error(`invalid IPv4 address in test fixture: ${address}`);
  }
  return parts;
}

export function ipv6Bytes(address: string): number[] {
  const [head, tail] = address.split("::");
  const headGroups = head ? head.split(":") : [];
  const tailGroups = tail !== undefined && tail !== "" ? tail.split(":") : [];
  const missing = 8 - headGroups.length - tailGroups.length;
  const groups = [...headGroups, ...Array(tail === undefined ? 0 : missing).fill("0"), ...tailGroups];
  if (groups.length !== 8) throw new Error(`invalid IPv6 address in test fixture: ${address}`);
  return groups.flatMap((g) => {
    const v = parseInt(g, 16);
    return [v >> 8, v & 0xff];
  });
}

const u16 = (v: number) => [(v >> 8) & 0xff, v & 0xff];
const u32 = (v: number) => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];

function tcpFlagsByte(flags: string): number {
  let b = 0;
  if (flags.includes("F")) b |= 0x01;
  if (flags.includes("S")) b |= 0x02;
  if (flags.includes("R")) b |= 0x04;
  if (flags.includes("P")) b |= 0x08;
  if (flags.includes("A")) b |= 0x10;
  return b;
}

function ipHeader(src: string, dst: string, protocol: number, payloadLength: number): { bytes: number[]; etherType: number } {
  if (src.includes(":")) {
    const bytes = [0x60, 0, 0, 0, ...u16(payloadLength), protocol, 64, ...ipv6Bytes(src), ...ipv6Bytes(dst)];
    return { bytes, etherType: 0x86dd };
  }
  const total = 20 + payloadLength;
  const bytes = [0x45, 0, ...u16(total), 0, 1, 0x40, 0, 64, protocol, 0, 0, ...ipv4Bytes(src), ...ipv4Bytes(dst)];
  return { bytes, etherType: 0x0800 };
}

function ethernet(etherType: number, body: number[], fromClient: boolean): Uint8Array {
  const [dstMac, srcMac] = fromClient ? [MAC_SERVER, MAC_CLIENT] : [MAC_CLIENT, MAC_SERVER];
  return Uint8Array.from([...dstMac, ...srcMac, ...u16(etherType), ...body]);
}

// Builds an Ethernet frame carrying one TCP segment.
export function tcpFrame(segment: TcpSegment): Uint8Array {
  const payload = Array.from(segment.payload ?? []);
  const tcp = [
    ...u16(segment.srcPort), ...u16(segment.dstPort),
    ...u32(segment.seq >>> 0), ...u32((segment.ack ?? 0) >>> 0),
    0x50, tcpFlagsByte(segment.flags ?? "AP"), ...u16(65535), 0, 0, 0, 0,
    ...payload,
  ];
  const ip = ipHeader(segment.src, segment.dst, 6, tcp.length);
  return ethernet(ip.etherType, [...ip.bytes, ...tcp], segment.srcPort >= segment.dstPort);
}

// Builds an Ethernet frame carrying one UDP datagram.
export function udpFrame(datagram: UdpDatagram): Uint8Array {
  const payload = Array.from(datagram.payload ?? []);
  const udp = [...u16(datagram.srcPort), ...u16(datagram.dstPort), ...u16(8 + payload.length), 0, 0, ...payload];
  const ip = ipHeader(datagram.src, datagram.dst, 17, udp.length);
  return ethernet(ip.etherType, [...ip.bytes, ...udp], datagram.srcPort >= datagram.dstPort);
}

export interface TimedFrame {
  tsSec: number;
  tsFrac: number;        // microseconds unless the batch says nanoseconds
  bytes: Uint8Array;
  wireLength?: number;   // defaults to bytes.length
}

// Lays frames out as little-endian pcap records: ts_sec, ts_frac, caplen,
// wirelen, then the captured bytes.
export function batchOf(frames: TimedFrame[], linkType = 1, fracPerSecond = 1_000_000): PacketBatch {
  const total = recordsLength(frames);
  const bytes = new Uint8Array(total);
  writeRecords(bytes, 0, frames, true);
  return { linkType, fracPerSecond, bytes, byteLength: total, count: frames.length, source: "test fixture", firstRecordOffset: 0 };
}

// Numbers frames one millisecond apart from a fixed start time.
export function timed(frames: Uint8Array[], startSec = 1_700_000_000): TimedFrame[] {
  return frames.map((bytes, i) => ({ tsSec: startSec + Math.floor(i / 1000), tsFrac: (i % 1000) * 1000, bytes }));
}

// Builds a classic pcap file (for reader tests and committed fixtures).
export function pcapFile(
  frames: TimedFrame[],
  options: { linkType?: number; nanoseconds?: boolean; bigEndian?: boolean; snapLength?: number } = {},
): Uint8Array {
  const little = !options.bigEndian;
  const magic = options.nanoseconds ? 0xa1b23c4d : 0xa1b2c3d4;
  const out = new Uint8Array(24 + recordsLength(frames));
  const view = new DataView(out.buffer);
  view.setUint32(0, magic, little);
  view.setUint16(4, 2, little);
  view.setUint16(6, 4, little);
  view.setUint32(16, options.snapLength ?? 262144, little);
  view.setUint32(20, options.linkType ?? 1, little);
  writeRecords(out, 24, frames, little);
  return out;
}

// Returns the byte length of the frames as pcap records, which are a
// 16-byte header each followed by the captured bytes.
function recordsLength(frames: TimedFrame[]): number {
  return frames.reduce((n, f) => n + 16 + f.bytes.length, 0);
}

// Writes the frames as pcap records (ts_sec, ts_frac, caplen, wirelen, then
// the captured bytes) into `out` from byte `at`.
function writeRecords(out: Uint8Array, at: number, frames: TimedFrame[], littleEndian: boolean): void {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (const f of frames) {
    view.setUint32(at, f.tsSec, littleEndian);
    view.setUint32(at + 4, f.tsFrac, littleEndian);
    view.setUint32(at + 8, f.bytes.length, littleEndian);
    view.setUint32(at + 12, f.wireLength ?? f.bytes.length, littleEndian);
    out.set(f.bytes, at + 16);
    at += 16 + f.bytes.length;
  }
}

// A client/server TCP conversation whose sequence numbers advance with the
// payload, so fixtures can describe only the application bytes.
export class TcpConversation {
  clientSeq: number;
  serverSeq: number;
  readonly frames: Uint8Array[] = [];

  constructor(
    readonly client: string, readonly clientPort: number,
    readonly server: string, readonly serverPort: number,
    clientIsn = 1000, serverIsn = 5000,
  ) {
    this.clientSeq = clientIsn >>> 0;
    this.serverSeq = serverIsn >>> 0;
  }

  // Three-way handshake; the SYNs take one sequence number each.
  handshake(): this {
    this.frames.push(tcpFrame({ src: this.client, dst: this.server, srcPort: this.clientPort, dstPort: this.serverPort, seq: this.clientSeq, flags: "S" }));
    this.clientSeq = (this.clientSeq + 1) >>> 0;
    this.frames.push(tcpFrame({ src: this.server, dst: this.client, srcPort: this.serverPort, dstPort: this.clientPort, seq: this.serverSeq, ack: this.clientSeq, flags: "SA" }));
    this.serverSeq = (this.serverSeq + 1) >>> 0;
    this.frames.push(tcpFrame({ src: this.client, dst: this.server, srcPort: this.clientPort, dstPort: this.serverPort, seq: this.clientSeq, ack: this.serverSeq, flags: "A" }));
    return this;
  }

  fromClient(payload: Uint8Array | number[]): this {
    this.frames.push(tcpFrame({ src: this.client, dst: this.server, srcPort: this.clientPort, dstPort: this.serverPort, seq: this.clientSeq, ack: this.serverSeq, payload }));
    this.clientSeq = (this.clientSeq + payload.length) >>> 0;
    return this;
  }

  fromServer(payload: Uint8Array | number[]): this {
    this.frames.push(tcpFrame({ src: this.server, dst: this.client, srcPort: this.serverPort, dstPort: this.clientPort, seq: this.serverSeq, ack: this.clientSeq, payload }));
    this.serverSeq = (this.serverSeq + payload.length) >>> 0;
    return this;
  }

  // Sends `bytes` in one direction as segments of at most `segmentBytes`
  // (1460: the TCP payload of a 1500-byte Ethernet MTU), as a sender does
  // with a message longer than one segment.
  segmented(toServer: boolean, bytes: number[], segmentBytes = 1460): this {
    for (let at = 0; at < bytes.length; at += segmentBytes) {
      const part = bytes.slice(at, at + segmentBytes);
      if (toServer) this.fromClient(part);
      else this.fromServer(part);
    }
    return this;
  }
}
