// Hostile inputs for the fuzz harness: byte mutations of seed frames (public
// captures and project fixtures) and structure-aware generators that build
// Modbus ADUs, SMB2 headers and compound chains, DCE-RPC PDUs, NTLMSSP
// messages and DNP3 link frames with fields pushed to their edges, carried over TCP cut into
// hostile segment shapes. Every generator is a pure function of its random
// source, so a (seed, input index) pair rebuilds the same input.
import { tcpFrame } from "../helpers/frames.js";
import * as smb from "../smb/build.js";
import * as rpc from "../dcerpc/build.js";
import * as dnp3 from "../dnp3/build.js";
import { ipv4Fragments } from "../core/run.js";

export type Random = () => number;

export function int(random: Random, below: number): number {
  return Math.floor(random() * below);
}

function pick<T>(random: Random, items: readonly T[]): T {
  return items[int(random, items.length)];
}

function randomBytes(random: Random, length: number): number[] {
  return Array.from({ length }, () => int(random, 256));
}

const le16 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff];
const le32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
const be16 = (v: number): number[] => [(v >>> 8) & 0xff, v & 0xff];

// Values at the edges of 8, 16 and 32-bit length and offset fields.
const EDGE_16 = [0, 1, 2, 3, 7, 8, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xfffe, 0xffff];
const EDGE_32 = [0, 1, 0x7f, 0xff, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffff0, 0xffffffff];

// A 16-bit length: usually right, sometimes an edge value or off by a little.
function length16(random: Random, right: number): number {
  const r = random();
  if (r < 0.7) return right & 0xffff;
  if (r < 0.85) return pick(random, EDGE_16);
  return (right + int(random, 9) - 4) & 0xffff;
}

function length32(random: Random, right: number): number {
  const r = random();
  if (r < 0.7) return right >>> 0;
  if (r < 0.85) return pick(random, EDGE_32);
  return (right + int(random, 9) - 4) >>> 0;
}

// ---------------------------------------------------------------------------
// Byte mutation

// Returns a mutated copy of one frame: bit flips, edge values, truncation,
// extension, and splices from another seed frame.
export function mutateFrame(random: Random, frame: Uint8Array, other: Uint8Array): Uint8Array {
  let bytes = Array.from(frame);
  const steps = 1 + int(random, 4);
  for (let s = 0; s < steps && bytes.length > 0; s++) {
    const at = int(random, bytes.length);
    switch (int(random, 8)) {
      case 0: bytes[at] ^= 1 << int(random, 8); break;
      case 1: bytes[at] = int(random, 256); break;
      case 2: {
        const value = pick(random, EDGE_16);
        bytes.splice(at, 2, ...(random() < 0.5 ? le16(value) : be16(value)));
        break;
      }
      case 3: bytes.splice(at, 4, ...le32(pick(random, EDGE_32))); break;
      case 4: bytes = bytes.slice(0, at); break;
      case 5: bytes.push(...randomBytes(random, 1 + int(random, 64))); break;
      case 6: {
        const from = int(random, Math.max(1, other.length));
        bytes.splice(at, 0, ...Array.from(other.subarray(from, from + 1 + int(random, 32))));
        break;
      }
      default: bytes.splice(at, 1 + int(random, 8)); break;
    }
  }
  return Uint8Array.from(bytes);
}

// A window of consecutive seed frames with some of them mutated, reordered
// or repeated.
export function mutatedWindow(random: Random, seeds: Uint8Array[][]): Uint8Array[] {
  const source = pick(random, seeds);
  const count = 20 + int(random, 100);
  const start = int(random, Math.max(1, source.length - count));
  const frames = source.slice(start, start + count).map((frame) => (
    random() < 0.3 ? mutateFrame(random, frame, pick(random, source)) : frame
  ));
  for (let i = 0; i < frames.length; i++) {
    const r = random();
    if (r < 0.03 && i + 1 < frames.length) [frames[i], frames[i + 1]] = [frames[i + 1], frames[i]];
    else if (r < 0.05) frames.splice(i, 0, frames[i]);
  }
  return frames;
}

// ---------------------------------------------------------------------------
// TCP carriage

export interface Stream {
  clientPort: number;
  serverPort: number;
  // Application bytes in the order they travel: [toServer, bytes].
  messages: Array<[boolean, number[]]>;
}

// Cuts a conversation into TCP segments of hostile shapes: 1-byte pieces,
// reordering, repeats, overlaps with conflicting bytes, holes, a missing
// handshake, and IPv4 fragments.
export function segmentStream(random: Random, stream: Stream, client: string, server: string): Uint8Array[] {
  const frames: Uint8Array[] = [];
  let clientSeq = (int(random, 0x100000000)) >>> 0;
  let serverSeq = (int(random, 0x100000000)) >>> 0;
  const segment = (toServer: boolean, seq: number, payload: number[], flags = "AP") => tcpFrame({
    src: toServer ? client : server, dst: toServer ? server : client,
    srcPort: toServer ? stream.clientPort : stream.serverPort, dstPort: toServer ? stream.serverPort : stream.clientPort,
    seq: seq >>> 0, payload, flags,
  });
  if (random() < 0.8) {
    frames.push(segment(true, clientSeq, [], "S"));
    frames.push(segment(false, serverSeq, [], "SA"));
    clientSeq = (clientSeq + 1) >>> 0;
    serverSeq = (serverSeq + 1) >>> 0;
  }
  const shape = int(random, 6);
  for (const [toServer, bytes] of stream.messages) {
    const base = toServer ? clientSeq : serverSeq;
    const pieces: Array<[number, number[]]> = [];
    let at = 0;
    while (at < bytes.length) {
      const size = shape === 0 ? 1 : 1 + int(random, shape === 1 ? 8 : 1500);
      pieces.push([at, bytes.slice(at, at + size)]);
      at += size;
    }
    if (shape === 2) pieces.reverse();
    for (const [offset, piece] of pieces) {
      if (shape === 3 && random() < 0.1) continue;                 // a hole
      if (shape === 4 && random() < 0.2) {
        // A conflicting copy of the same bytes first.
        frames.push(segment(toServer, base + offset, piece.map((b) => b ^ 0x5a)));
      }
      const frame = segment(toServer, base + offset, piece);
      if (shape === 5 && piece.length > 24 && random() < 0.3) {
        const fragments = ipv4Fragments(frame, 8 * (1 + int(random, 4)));
        if (random() < 0.5) fragments.reverse();
        frames.push(...fragments);
      } else {
        frames.push(frame);
      }
      if (random() < 0.05) frames.push(frame);                       // a retransmission
    }
    if (toServer) clientSeq = (clientSeq + bytes.length) >>> 0;
    else serverSeq = (serverSeq + bytes.length) >>> 0;
  }
  if (random() < 0.5) frames.push(segment(true, clientSeq, [], random() < 0.5 ? "FA" : "R"));
  return frames;
}

// ---------------------------------------------------------------------------
// Modbus/TCP (MBAP header and PDU)

const MODBUS_FUNCTIONS = [1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 15, 16, 17, 20, 21, 22, 23, 24, 43, 0x81, 0x83, 0x90, 0xab, 0, 0x7f, 0xff];

export function modbusAdu(random: Random): number[] {
  const functionCode = random() < 0.8 ? pick(random, MODBUS_FUNCTIONS) : int(random, 256);
  const dataLength = random() < 0.6 ? int(random, 12) : int(random, 300);
  const data = randomBytes(random, dataLength);
  if ((functionCode === 15 || functionCode === 16 || functionCode === 23) && data.length > 5 && random() < 0.7) {
    data[4] = random() < 0.5 ? data.length - 5 : int(random, 256);   // byte count
  }
  if (functionCode === 43 && data.length > 0) data[0] = random() < 0.7 ? 14 : int(random, 256);
  const transactionId = int(random, 0x10000);
  const protocolId = random() < 0.9 ? 0 : int(random, 0x10000);
  const mbapLength = length16(random, data.length + 2);
  return [...be16(transactionId), ...be16(protocolId), ...be16(mbapLength), int(random, 256), functionCode, ...data];
}

export function modbusStream(random: Random): Stream {
  const messages: Array<[boolean, number[]]> = [];
  const count = 1 + int(random, 30);
  for (let i = 0; i < count; i++) {
    const adus = Array.from({ length: 1 + int(random, 4) }, () => modbusAdu(random)).flat();
    messages.push([random() < 0.6, adus]);
  }
  const serverFirst = random() < 0.1;
  return { clientPort: serverFirst ? 502 : 1024 + int(random, 60000), serverPort: serverFirst ? 1024 + int(random, 60000) : 502, messages };
}

// ---------------------------------------------------------------------------
// SMB2 (MS-SMB2 2.2.1.2 header, 2.2.x bodies) and compound chains

const SMB2_COMMANDS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0xffff];

function smb2Body(random: Random, command: number, response: boolean): number[] {
  const r = random();
  if (r < 0.25) return randomBytes(random, int(random, 120));
  switch (command) {
    case smb.Command.TREE_CONNECT:
      return response ? smb.treeConnectResponse(int(random, 4)) : smb.treeConnectRequest(pick(random, ["\\\\PLC\\IPC$", "\\\\HIST\\C$", "", "x".repeat(300)]));
    case smb.Command.CREATE:
      return response ? smb.createResponse(smb.fileId(int(random, 8)), int(random, 1 << 20))
        : smb.createRequest(pick(random, ["atsvc", "svcctl", "Windows\\Tasks\\scan.job", "\u00e9\ud800", ""]), int(random, 6));
    case smb.Command.WRITE: {
      const data = random() < 0.5 ? dcerpcPdu(random) : randomBytes(random, int(random, 200));
      return smb.writeRequest(smb.fileId(int(random, 8)), int(random, 4096), data, length32(random, data.length));
    }
    case smb.Command.READ:
      return response ? smb.readResponse(randomBytes(random, int(random, 100)), length32(random, 100)) : smb.readRequest(smb.fileId(int(random, 8)), 0, int(random, 65536));
    case smb.Command.IOCTL: {
      const input = random() < 0.6 ? dcerpcPdu(random) : randomBytes(random, int(random, 64));
      return response ? smb.ioctlResponse(smb.fileId(int(random, 8)), 0x0011c017, input) : smb.ioctlRequest(smb.fileId(int(random, 8)), pick(random, [0x0011c017, 0x00060194, int(random, 0x100000000)]), input);
    }
    case smb.Command.CLOSE:
      return response ? smb.closeResponse(int(random, 4096)) : smb.closeRequest(smb.fileId(int(random, 8)));
    case smb.Command.SESSION_SETUP: {
      // Structure size 25, flags, security mode, capabilities, channel,
      // security buffer offset and length, previous session id, buffer.
      const blob = ntlmMessage(random);
      const offset = length16(random, 64 + 24);
      return [...le16(25), 0, 1, ...le32(0), ...le32(0), ...le16(offset), ...le16(length16(random, blob.length)), ...le32(0), ...le32(0), ...blob];
    }
  }
  return response ? smb.errorResponse() : randomBytes(random, int(random, 64));
}

function smb2Message(random: Random, response: boolean): number[] {
  const command = random() < 0.85 ? pick(random, SMB2_COMMANDS.slice(0, 13)) : pick(random, SMB2_COMMANDS);
  const header = smb.header({
    command, messageId: int(random, 1000), treeId: int(random, 8), sessionId: int(random, 4),
    response, related: random() < 0.3, status: random() < 0.8 ? 0 : pick(random, [0xc0000022, 0x80000005, 0xc0000016, 0x103]),
  });
  if (random() < 0.1) header[4] = int(random, 256);                  // structure size
  return [...header, ...smb2Body(random, command, response)];
}

// One NetBIOS session message: a single SMB2 message, a compound chain whose
// NextCommand offsets may point anywhere, or an SMB1 header.
function smbSessionMessage(random: Random, response: boolean): number[] {
  let message: number[];
  const r = random();
  if (r < 0.45) {
    message = smb2Message(random, response);
  } else if (r < 0.85) {
    const commands = Array.from({ length: 2 + int(random, 5) }, () => smb2Message(random, response));
    message = smb.compound(commands);
    if (random() < 0.4) {
      // Break one NextCommand: backwards, into the header, past the end, odd.
      const at = 20;
      message.splice(at, 4, ...le32(pick(random, [1, 8, 63, 64, message.length, message.length + 8, 0xfffffff8, 0x80000000])));
    }
  } else {
    const command = pick(random, [0x72, 0x73, 0x75, 0xa2, 0x25, 0x2f, 0x2e, int(random, 256)]);
    const words = randomBytes(random, 2 * int(random, 16));
    if (words.length >= 4 && random() < 0.5) words.splice(0, 4, ...smb.andX(pick(random, [0xff, 0x75, 0xa2, int(random, 256)]), pick(random, EDGE_16)));
    message = [...smb.smb1Header({ command, mid: int(random, 1000), response }), ...smb.smb1Block(words, randomBytes(random, int(random, 100)))];
  }
  const nbssLength = random() < 0.85 ? message.length : pick(random, [0, 1, 63, 64, 0xffff, 0x1ffff, 0xffffff, message.length + 1]);
  return smb.nbss(message, nbssLength);
}

export function smbStream(random: Random): Stream {
  const messages: Array<[boolean, number[]]> = [];
  const count = 1 + int(random, 12);
  for (let i = 0; i < count; i++) {
    const toServer = random() < 0.6;
    messages.push([toServer, smbSessionMessage(random, !toServer)]);
  }
  return { clientPort: 1024 + int(random, 60000), serverPort: random() < 0.85 ? 445 : 139, messages };
}

// ---------------------------------------------------------------------------
// DCE-RPC connection-oriented PDUs (C706 chapter 12) and NTLMSSP (MS-NLMP)

const INTERFACES = [rpc.Uuid.atsvc, rpc.Uuid.svcctl, rpc.Uuid.taskScheduler, rpc.Uuid.sasec, rpc.Uuid.epmapper, "00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff"];

export function ntlmMessage(random: Random): number[] {
  const r = random();
  let message: number[];
  if (r < 0.3) {
    message = rpc.ntlmNegotiate(int(random, 0x100000000));
  } else if (r < 0.6) {
    const pairs: [number, string][] = Array.from({ length: int(random, 6) }, () => [int(random, 12), pick(random, ["PLANT", "HIST01", "", "x".repeat(200), "\ud83d\ude00"])]);
    message = rpc.ntlmChallenge("PLANT", rpc.avPairs(pairs, random() < 0.8), random() < 0.2 ? pick(random, EDGE_16) : undefined);
  } else {
    message = rpc.ntlmAuthenticate({
      user: pick(random, ["operator", "", "a".repeat(300), "\u00fcser"]), domain: "PLANT", workstation: "HMI-3",
      unicode: random() < 0.8, ntResponseLength: pick(random, [0, 24, 48, 500]),
      userOffsetOverride: random() < 0.2 ? pick(random, [0, 8, 0xfff0, 0xffffffff]) : undefined,
    });
  }
  if (random() < 0.3) {
    // Corrupt a security buffer field (length, max length or offset).
    const at = 12 + 8 * int(random, 6) + pick(random, [0, 2, 4]);
    if (at + 4 <= message.length) message.splice(at, 4, ...le32(pick(random, EDGE_32)));
  }
  if (random() < 0.2) message = message.slice(0, int(random, message.length + 1));
  return message;
}

function contexts(random: Random): rpc.PresentationContext[] {
  return Array.from({ length: int(random, 4) }, (_, i) => ({
    contextId: random() < 0.8 ? i : int(random, 0x10000), uuid: pick(random, INTERFACES), versionMajor: int(random, 3),
  }));
}

export function dcerpcPdu(random: Random): number[] {
  const bigEndian = random() < 0.1;
  const auth = random() < 0.4 ? { authType: pick(random, [10, 9, 0x44, int(random, 256)]), value: ntlmMessage(random) } : undefined;
  let pdu: number[];
  switch (int(random, 6)) {
    case 0: pdu = rpc.bind(int(random, 100), contexts(random), auth, random() < 0.8 ? rpc.PduType.BIND : rpc.PduType.ALTER_CONTEXT, bigEndian); break;
    case 1: pdu = rpc.bindAck(int(random, 100), pick(random, ["135", "\\PIPE\\atsvc", ""]), int(random, 4), auth); break;
    case 2: pdu = rpc.request({
      callId: int(random, 100), contextId: int(random, 4), opnum: int(random, 80), stub: randomBytes(random, int(random, 200)),
      flags: pick(random, [3, 1, 2, 0, 0x83]), bigEndian, allocHint: random() < 0.8 ? undefined : pick(random, EDGE_32),
      objectUuid: random() < 0.1 ? pick(random, INTERFACES) : undefined,
    }); break;
    case 3: pdu = rpc.response(int(random, 100), int(random, 4), int(random, 64), pick(random, [3, 1, 2, 0])); break;
    case 4: pdu = rpc.pdu({ ptype: rpc.PduType.AUTH3, callId: int(random, 100), body: [0, 0, 0, 0], auth: { authType: 10, value: ntlmMessage(random) } }); break;
    default: pdu = rpc.fault(int(random, 100), int(random, 4), pick(random, EDGE_32)); break;
  }
  if (random() < 0.25) pdu.splice(8, 2, ...le16(pick(random, EDGE_16)));      // frag_length
  if (random() < 0.15) pdu.splice(10, 2, ...le16(pick(random, EDGE_16)));     // auth_length
  if (random() < 0.05) pdu[0] = int(random, 256);                              // rpc_vers
  return pdu;
}

export function dcerpcStream(random: Random): Stream {
  const messages: Array<[boolean, number[]]> = [];
  const count = 1 + int(random, 10);
  for (let i = 0; i < count; i++) {
    const fragments = Array.from({ length: 1 + int(random, 3) }, () => dcerpcPdu(random)).flat();
    messages.push([random() < 0.6, fragments]);
  }
  return { clientPort: 1024 + int(random, 60000), serverPort: random() < 0.7 ? 135 : 49152 + int(random, 16000), messages };
}

// ---------------------------------------------------------------------------
// S7comm over TPKT/COTP (RFC 1006, RFC 905): DT TPDUs with and without EOT,
// concatenated TPDUs, S7 headers with skewed lengths, and S7comm-plus.

const S7_FUNCTIONS = [0x04, 0x05, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x28, 0x29, 0xf0, 0x00];

function s7Pdu(random: Random): number[] {
  if (random() < 0.1) return [0x72, int(random, 4), ...be16(int(random, 60)), ...randomBytes(random, int(random, 60))];
  const rosctr = pick(random, [1, 2, 3, 7, 7, int(random, 256)]);
  const parameter = rosctr === 7
    ? [0x00, 0x01, 0x12, pick(random, [4, 8]), 0x11, pick(random, [0x44, 0x84, 0x43, 0x83, 0x45, 0x47, 0x00]), int(random, 4), 0, ...randomBytes(random, int(random, 6))]
    : [pick(random, S7_FUNCTIONS), int(random, 40), ...randomBytes(random, int(random, 40))];
  const data = randomBytes(random, random() < 0.6 ? int(random, 16) : int(random, 600));
  const header = [0x32, rosctr, 0, 0, ...be16(int(random, 0x10000)), ...be16(length16(random, parameter.length)), ...be16(length16(random, data.length))];
  return [...header, ...(rosctr === 2 || rosctr === 3 ? [int(random, 256), int(random, 256)] : []), ...parameter, ...data];
}

function s7Tpkt(random: Random): number[] {
  const tpdus: number[] = [];
  if (random() < 0.1) tpdus.push(4, pick(random, [0x60, 0x80, 0xc0, 0x20]), 0, 0, 0);
  if (random() < 0.1) tpdus.push(17, pick(random, [0xe0, 0xd0]), 0, 0, 0, 1, 0, 0xc0, 1, 0x0a, 0xc1, 2, 1, 0, 0xc2, 2, 1, int(random, 256));
  else tpdus.push(2, 0xf0, random() < 0.8 ? 0x80 : 0x00, ...s7Pdu(random));
  return [3, 0, ...be16(length16(random, tpdus.length + 4)), ...tpdus];
}

export function s7Stream(random: Random): Stream {
  const messages: Array<[boolean, number[]]> = [];
  const count = 1 + int(random, 20);
  for (let i = 0; i < count; i++) messages.push([random() < 0.6, Array.from({ length: 1 + int(random, 3) }, () => s7Tpkt(random)).flat()]);
  return { clientPort: 1024 + int(random, 60000), serverPort: 102, messages };
}

// ---------------------------------------------------------------------------
// EtherNet/IP encapsulation (CIP Vol 2 chapter 2) with CPF items and CIP
// requests: paths with random segments, Multiple Service Packet offsets,
// Unconnected Send sizes.

const ENIP_COMMANDS = [0x0004, 0x0063, 0x0064, 0x0065, 0x0066, 0x006f, 0x0070, 0x0000];
const CIP_SERVICES = [0x01, 0x02, 0x05, 0x0a, 0x0e, 0x10, 0x4e, 0x52, 0x54, 0x5b, 0x8a, 0x81, 0x8e, 0xd4, 0xcc];

function cipMessage(random: Random): number[] {
  const service = pick(random, CIP_SERVICES);
  const path = random() < 0.6 ? [0x20, int(random, 256), 0x24, int(random, 256)] : randomBytes(random, 2 * int(random, 6));
  const body = randomBytes(random, int(random, 80));
  if ((service & 0x7f) === 0x0a && body.length >= 6) body.splice(0, 6, ...le16(2), ...le16(pick(random, EDGE_16)), ...le16(int(random, 90)));
  if (service === 0x52 && body.length >= 4) body.splice(2, 2, ...le16(pick(random, EDGE_16)));
  if ((service & 0x80) !== 0) return [service, 0, int(random, 3) === 0 ? int(random, 256) : 0, int(random, 3), ...body];
  return [service, random() < 0.8 ? path.length / 2 : int(random, 256), ...path, ...body];
}

function enipMessage(random: Random): number[] {
  const command = random() < 0.9 ? pick(random, ENIP_COMMANDS) : int(random, 0x10000);
  let data: number[] = randomBytes(random, int(random, 40));
  if (command === 0x6f || command === 0x70) {
    const cip = cipMessage(random);
    const items = command === 0x70
      ? [...le16(0xa1), ...le16(4), ...le32(int(random, 0x10000)), ...le16(0xb1), ...le16(length16(random, cip.length + 2)), ...le16(int(random, 0x10000)), ...cip]
      : [...le16(0), ...le16(0), ...le16(0xb2), ...le16(length16(random, cip.length)), ...cip];
    data = [...le32(0), ...le16(10), ...le16(random() < 0.9 ? 2 : int(random, 20)), ...items];
  }
  return [...le16(command), ...le16(length16(random, data.length)), ...le32(int(random, 0x10000)), ...le32(0), ...randomBytes(random, 8), ...le32(0), ...data];
}

export function enipStream(random: Random): Stream {
  const messages: Array<[boolean, number[]]> = [];
  const count = 1 + int(random, 20);
  for (let i = 0; i < count; i++) messages.push([random() < 0.6, Array.from({ length: 1 + int(random, 3) }, () => enipMessage(random)).flat()]);
  return { clientPort: 1024 + int(random, 60000), serverPort: 44818, messages };
}

// DNP3 (IEEE 1815-2012): link frames with good or broken CRCs around
// transport segments of application fragments with edge-value object headers

const DNP3_FUNCTIONS = [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x0d, 0x0e, 0x12, 0x15, 0x19, 0x1b, 0x81, 0x82, 0x83, 0xff];
const DNP3_GROUPS = [1, 2, 3, 10, 12, 20, 30, 41, 50, 60, 70, 80, 110, 120, 0, 255];
const DNP3_QUALIFIERS = [0x00, 0x01, 0x02, 0x06, 0x07, 0x08, 0x09, 0x17, 0x28, 0x39, 0x5b, 0x0b, 0x0c, 0x78];

function dnp3Fragment(random: Random): number[] {
  const functionCode = random() < 0.85 ? pick(random, DNP3_FUNCTIONS) : int(random, 256);
  const out = [0xc0 | int(random, 64), functionCode];
  if (functionCode >= 0x81) out.push(int(random, 256), int(random, 256));
  const headers = int(random, 6);
  for (let h = 0; h < headers; h++) {
    out.push(pick(random, DNP3_GROUPS), int(random, 8), random() < 0.9 ? pick(random, DNP3_QUALIFIERS) : int(random, 256));
    out.push(...le16(random() < 0.7 ? int(random, 20) : pick(random, EDGE_16)));
    out.push(...le32(random() < 0.8 ? int(random, 40) : pick(random, EDGE_32)).slice(0, int(random, 5)));
    out.push(...randomBytes(random, random() < 0.8 ? int(random, 40) : int(random, 3000)));
  }
  return out;
}

export function dnp3Stream(random: Random): Stream {
  const messages: Array<[boolean, number[]]> = [];
  const count = 1 + int(random, 12);
  for (let i = 0; i < count; i++) {
    const toServer = random() < 0.6;
    const link = { control: toServer ? dnp3.FROM_MASTER : dnp3.FROM_OUTSTATION, destination: int(random, 4), source: int(random, 4) };
    const frames = dnp3.framesOf(link, dnp3Fragment(random), 1 + int(random, 249), int(random, 64));
    for (const frame of frames) {
      if (random() < 0.1) frame[int(random, frame.length)] ^= 1 << int(random, 8);
      if (random() < 0.05) frame.splice(int(random, frame.length));
      if (random() < 0.05) frame.push(...randomBytes(random, int(random, 30)));
    }
    messages.push([toServer, frames.flat()]);
  }
  return { clientPort: 1024 + int(random, 60000), serverPort: random() < 0.9 ? 20000 : 1024 + int(random, 60000), messages };
}

// ---------------------------------------------------------------------------

export type GeneratorName = "mutation" | "modbus" | "smb" | "dcerpc" | "s7comm" | "enip" | "dnp3";
export const GENERATORS: readonly GeneratorName[] = ["mutation", "modbus", "smb", "dcerpc", "s7comm", "enip", "dnp3"];

// Builds the hostile frames of one input.
export function hostileFrames(random: Random, seeds: Uint8Array[][]): { generator: GeneratorName; frames: Uint8Array[] } {
  const generator = seeds.length > 0 ? pick(random, GENERATORS) : pick(random, GENERATORS.slice(1));
  if (generator === "mutation") return { generator, frames: mutatedWindow(random, seeds) };
  const client = `10.${1 + int(random, 200)}.${int(random, 256)}.${1 + int(random, 250)}`;
  const server = `10.${1 + int(random, 200)}.${int(random, 256)}.${1 + int(random, 250)}`;
  const streamMakers = { modbus: modbusStream, smb: smbStream, dcerpc: dcerpcStream, s7comm: s7Stream, enip: enipStream, dnp3: dnp3Stream };
  const makeStream = streamMakers[generator as keyof typeof streamMakers] ?? dcerpcStream;
  const streams = Array.from({ length: 1 + int(random, 3) }, () => makeStream(random));
  return { generator, frames: streams.flatMap((s) => segmentStream(random, s, client, server)) };
}
