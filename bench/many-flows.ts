// The many-flows corpus: synthetic Modbus/TCP connections that all stay open
// until the end of the file. Each flow is SYN, SYN-ACK, ACK, one Read Holding
// Registers request and its response. After the last flow opens, every flow
// closes with FIN, FIN-ACK, ACK. All checksums are valid.
import { onesComplementSum } from "./checksum.js";
import { PcapWriter } from "./pcap.js";

const LINKTYPE_ETHERNET = 1;
// 2023-11-14T22:13:20Z, the same fixed start as the plant mix.
const CORPUS_START_SECONDS = 1_700_000_000;
const TCP_FIN = 0x01;
const TCP_SYN = 0x02;
const TCP_PSH = 0x08;
const TCP_ACK = 0x10;
const MODBUS_PORT = 502;
const MANY_FLOW_SERVERS = 50;
const FLOW_SPACING_MICROSECONDS = 50;
const PACKET_SPACING_MICROSECONDS = 8;

// Builds Ethernet + IPv4 + TCP frames with valid checksums into one buffer.
class TcpFrameBuilder {
  private frame = new Uint8Array(14 + 20 + 20 + 64);
  private id = 0;

  constructor() {
    this.frame.set([0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00]);
  }

  build(src: number, dst: number, srcPort: number, dstPort: number, seq: number, ack: number, flags: number, payload: Uint8Array): Uint8Array {
    const f = this.frame;
    const ip = 14;
    const tcp = ip + 20;
    const total = 20 + 20 + payload.length;
    f[ip] = 0x45; f[ip + 1] = 0;
    f[ip + 2] = total >> 8; f[ip + 3] = total & 0xff;
    this.id = (this.id + 1) & 0xffff;
    f[ip + 4] = this.id >> 8; f[ip + 5] = this.id & 0xff;
    f[ip + 6] = 0x40; f[ip + 7] = 0;            // don't fragment
    f[ip + 8] = 64; f[ip + 9] = 6;
    f[ip + 10] = 0; f[ip + 11] = 0;
    writeU32(f, ip + 12, src);
    writeU32(f, ip + 16, dst);
    const ipSum = ~onesComplementSum(f, ip, ip + 20) & 0xffff;
    f[ip + 10] = ipSum >> 8; f[ip + 11] = ipSum & 0xff;

    f[tcp] = srcPort >> 8; f[tcp + 1] = srcPort & 0xff;
    f[tcp + 2] = dstPort >> 8; f[tcp + 3] = dstPort & 0xff;
    writeU32(f, tcp + 4, seq >>> 0);
    writeU32(f, tcp + 8, ack >>> 0);
    f[tcp + 12] = 0x50; f[tcp + 13] = flags;
    f[tcp + 14] = 0xfa; f[tcp + 15] = 0xf0;     // window 64240
    f[tcp + 16] = 0; f[tcp + 17] = 0; f[tcp + 18] = 0; f[tcp + 19] = 0;
    f.set(payload, tcp + 20);
    const tcpLength = 20 + payload.length;
    // Pseudo-header: source, destination, zero, protocol, TCP length.
    let pseudo = onesComplementSum(f, ip + 12, ip + 20);
    pseudo += 6 + tcpLength;
    const tcpSum = ~onesComplementSum(f, tcp, tcp + tcpLength, pseudo) & 0xffff;
    f[tcp + 16] = tcpSum >> 8; f[tcp + 17] = tcpSum & 0xff;
    return f.subarray(0, 14 + total);
  }
}

function writeU32(target: Uint8Array, offset: number, value: number): void {
  target[offset] = (value >>> 24) & 0xff;
  target[offset + 1] = (value >>> 16) & 0xff;
  target[offset + 2] = (value >>> 8) & 0xff;
  target[offset + 3] = value & 0xff;
}

// Read Holding Registers (function code 3), 10 registers from address 0:
// MBAP (transaction id, protocol id 0, length 6, unit id 1) + PDU.
function modbusRequest(transactionId: number): Uint8Array {
  return Uint8Array.from([transactionId >> 8, transactionId & 0xff, 0, 0, 0, 6, 1, 3, 0, 0, 0, 10]);
}

function modbusResponse(transactionId: number): Uint8Array {
  const registers = Array.from({ length: 20 }, (_, i) => (transactionId + i) & 0xff);
  return Uint8Array.from([transactionId >> 8, transactionId & 0xff, 0, 0, 0, 23, 1, 3, 20, ...registers]);
}

// Writes `flows` concurrent Modbus/TCP connections. Client i is 10.64.0.0 + i
// (up to 4 million flows), servers are 192.168.50.1 to .50.
export function writeManyFlows(path: string, flows: number): void {
  if (!Number.isInteger(flows) || flows < 1 || flows > 4_000_000) {
    throw new Error(`invalid many-flows count ${flows}: expected an integer from 1 to 4000000`);
  }
  const writer = new PcapWriter(path, { linkType: LINKTYPE_ETHERNET });
  const builder = new TcpFrameBuilder();
  const empty = new Uint8Array(0);
  const clientBase = (10 << 24) | (64 << 16);
  const serverBase = (192 << 24) | (168 << 16) | (50 << 8);
  const client = (i: number) => (clientBase + i) >>> 0;
  const server = (i: number) => (serverBase + 1 + (i % MANY_FLOW_SERVERS)) >>> 0;
  const clientPort = (i: number) => 49152 + (i % 16384);
  const clientIsn = (i: number) => Math.imul(i + 1, 2654435761) >>> 0;
  const serverIsn = (i: number) => Math.imul(i + 7, 40503) >>> 0;
  let time = CORPUS_START_SECONDS * 1_000_000;
  const emit = (frame: Uint8Array) => {
    writer.write(Math.floor(time / 1_000_000), time % 1_000_000, frame);
    time += PACKET_SPACING_MICROSECONDS;
  };
  try {
    for (let i = 0; i < flows; i++) {
      const flowStart = time;
      const c = client(i), s = server(i), cp = clientPort(i);
      const cs = clientIsn(i), ss = serverIsn(i);
      const transactionId = i & 0xffff;
      const request = modbusRequest(transactionId);
      const response = modbusResponse(transactionId);
      emit(builder.build(c, s, cp, MODBUS_PORT, cs, 0, TCP_SYN, empty));
      emit(builder.build(s, c, MODBUS_PORT, cp, ss, cs + 1, TCP_SYN | TCP_ACK, empty));
      emit(builder.build(c, s, cp, MODBUS_PORT, cs + 1, ss + 1, TCP_ACK, empty));
      emit(builder.build(c, s, cp, MODBUS_PORT, cs + 1, ss + 1, TCP_PSH | TCP_ACK, request));
      emit(builder.build(s, c, MODBUS_PORT, cp, ss + 1, cs + 1 + request.length, TCP_PSH | TCP_ACK, response));
      time = Math.max(time, flowStart + FLOW_SPACING_MICROSECONDS);
    }
    time += 1_000_000;
    for (let i = 0; i < flows; i++) {
      const c = client(i), s = server(i), cp = clientPort(i);
      const clientSeq = clientIsn(i) + 1 + 12;
      const serverSeq = serverIsn(i) + 1 + 29;
      emit(builder.build(c, s, cp, MODBUS_PORT, clientSeq, serverSeq, TCP_FIN | TCP_ACK, empty));
      emit(builder.build(s, c, MODBUS_PORT, cp, serverSeq, clientSeq + 1, TCP_FIN | TCP_ACK, empty));
      emit(builder.build(c, s, cp, MODBUS_PORT, clientSeq + 1, serverSeq + 1, TCP_ACK, empty));
    }
  } finally {
    writer.close();
  }
}
