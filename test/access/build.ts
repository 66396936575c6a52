// Byte builders for the remote-access tests: TCP conversations that end with
// FINs, RDP connection PDUs and RFB handshake messages.
import { TcpConversation, tcpFrame } from "../helpers/frames.js";

const ascii = (text: string): number[] => Array.from(Buffer.from(text, "latin1"));
export const text = ascii;

let nextPort = 40000;

// A conversation on `serverPort` with the handshake done; each call takes
// the next client port, so conversations in one batch are separate flows.
export function conversation(serverPort: number, client = "10.20.0.5", server = "10.30.0.7"): TcpConversation {
  nextPort = nextPort >= 60000 ? 40000 : nextPort + 1;
  return new TcpConversation(client, nextPort, server, serverPort).handshake();
}

// Appends FIN segments from both sides, so the flow closes.
export function close(c: TcpConversation): TcpConversation {
  c.frames.push(tcpFrame({ src: c.client, dst: c.server, srcPort: c.clientPort, dstPort: c.serverPort, seq: c.clientSeq, ack: c.serverSeq, flags: "FA" }));
  c.clientSeq = (c.clientSeq + 1) >>> 0;
  c.frames.push(tcpFrame({ src: c.server, dst: c.client, srcPort: c.serverPort, dstPort: c.clientPort, seq: c.serverSeq, ack: c.clientSeq, flags: "FA" }));
  c.serverSeq = (c.serverSeq + 1) >>> 0;
  return c;
}

const u16be = (v: number) => [(v >> 8) & 0xff, v & 0xff];
const u16le = (v: number) => [v & 0xff, (v >> 8) & 0xff];
const u32le = (v: number) => [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >>> 24) & 0xff];
export const u32be = (v: number) => [(v >>> 24) & 0xff, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff];

// TPKT (RFC 1006) around an X.224 TPDU.
function tpkt(tpdu: number[]): number[] {
  return [3, 0, ...u16be(4 + tpdu.length), ...tpdu];
}

// [MS-RDPBCGR] 2.2.1.1: X.224 Connection Request with an optional cookie
// and RDP_NEG_REQ.
export function rdpConnectionRequest(options: { cookie?: string; requestedProtocols?: number }): number[] {
  const variable: number[] = [];
  if (options.cookie !== undefined) variable.push(...ascii(`Cookie: mstshash=${options.cookie}\r\n`));
  if (options.requestedProtocols !== undefined) variable.push(1, 0, ...u16le(8), ...u32le(options.requestedProtocols));
  // LI counts the header after itself: code, DST-REF, SRC-REF, class, variable part.
  const header = [6 + variable.length, 0xe0, 0, 0, 0, 0, 0];
  return tpkt([...header, ...variable]);
}

// [MS-RDPBCGR] 2.2.1.2: X.224 Connection Confirm with RDP_NEG_RSP (type 2)
// or RDP_NEG_FAILURE (type 3).
export function rdpConnectionConfirm(type: 2 | 3, value: number): number[] {
  return tpkt([14, 0xd0, 0, 0, 0x12, 0x34, 0, type, 0, ...u16le(8), ...u32le(value)]);
}

// RFC 6143 7.1.1.
export const rfbVersion = (minor: 3 | 7 | 8): number[] => ascii(`RFB 003.00${minor}\n`);
