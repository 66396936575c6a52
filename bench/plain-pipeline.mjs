#!/usr/bin/env node
// The comparison a Node developer would write without Fieldsense: node-pcap
// (npm `pcap` 3.1) reads the file and decodes Ethernet/IP/TCP, and hand-written
// checks extract Modbus/TCP, SMB (NetBIOS session + SMB1/SMB2 headers) and
// connection-oriented DCE-RPC headers. Each record is printed as one JSON line,
// as `fieldsense replay --json` does.
//
// It does less than Fieldsense: no TCP sequence checks, no gap handling, no
// DCE-RPC inside SMB named pipes, no NTLM, no models. That only flatters it.
//
// Usage: node bench/plain-pipeline.mjs FILE.pcap > records.jsonl
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
let pcap;
try {
  pcap = require("pcap");
} catch (error) {
  console.error(`plain-pipeline: cannot load npm package pcap (${error.message}); install Debian package libpcap-dev, then run npm install`);
  process.exit(2);
}

const file = process.argv[2];
if (!file) {
  console.error("usage: node bench/plain-pipeline.mjs FILE.pcap");
  process.exit(2);
}

const MODBUS_PORT = 502;
const SMB_PORTS = new Set([139, 445]);
const DCERPC_ENDPOINT_MAPPER_PORT = 135;
// A PDU larger than this ends the flow's dissection instead of being buffered.
const MAX_PDU_BYTES = 16 << 20;
const OUTPUT_FLUSH_BYTES = 1 << 16;

let output = [];
let outputBytes = 0;
let records = 0;
let packets = 0;

function emit(record) {
  const line = JSON.stringify(record) + "\n";
  output.push(line);
  outputBytes += line.length;
  records += 1;
  if (outputBytes >= OUTPUT_FLUSH_BYTES) flush();
}

function flush() {
  if (output.length === 0) return;
  process.stdout.write(output.join(""));
  output = [];
  outputBytes = 0;
}

// Per direction of a TCP connection: buffered bytes not yet parsed.
const streams = new Map();

function uuidText(buffer, at) {
  const hex = (start, end) => buffer.subarray(start, end).toString("hex");
  const d1 = buffer.readUInt32LE(at).toString(16).padStart(8, "0");
  const d2 = buffer.readUInt16LE(at + 4).toString(16).padStart(4, "0");
  const d3 = buffer.readUInt16LE(at + 6).toString(16).padStart(4, "0");
  return `${d1}-${d2}-${d3}-${hex(at + 8, at + 10)}-${hex(at + 10, at + 16)}`;
}

// Returns the length of the PDU at the start of `buffer`, 0 when more bytes
// are needed, or -1 when the bytes are not this protocol.
function modbusLength(buffer) {
  if (buffer.length < 7) return 0;
  if (buffer.readUInt16BE(2) !== 0) return -1;
  const length = buffer.readUInt16BE(4);
  if (length < 2 || length > 254) return -1;
  return 6 + length;
}

function smbLength(buffer) {
  if (buffer.length < 4) return 0;
  // NetBIOS session service header: type (0x00 for a session message) and a 17-bit length.
  return 4 + (buffer.readUInt32BE(0) & 0x1ffff);
}

function dcerpcLength(buffer) {
  if (buffer.length < 10) return 0;
  if (buffer[0] !== 5 || buffer[1] !== 0) return -1;
  const little = (buffer[4] & 0x10) !== 0;
  const length = little ? buffer.readUInt16LE(8) : buffer.readUInt16BE(8);
  return length < 16 ? -1 : length;
}

const PDU_LENGTH = { modbus: modbusLength, smb: smbLength, dcerpc: dcerpcLength };

function parseModbus(pdu, base, toServer) {
  emit({
    type: "modbus", ...base,
    direction: toServer ? "request" : "response",
    transaction_id: pdu.readUInt16BE(0),
    unit_id: pdu[6],
    function_code: pdu[7] & 0x7f,
    ...(pdu[7] & 0x80 && pdu.length > 8 ? { exception_code: pdu[8] } : {}),
  });
}

function parseSmb(message, base) {
  if (message.length < 8 || message[0] !== 0x00) return;
  const smb = message.subarray(4);
  if (smb[0] === 0xff && smb.toString("latin1", 1, 4) === "SMB" && smb.length >= 32) {
    emit({ type: "smb", ...base, version: 1, command: smb[4], nt_status: smb.readUInt32LE(5) });
    return;
  }
  if (smb[0] === 0xfd && smb.toString("latin1", 1, 4) === "SMB") {
    emit({ type: "smb", ...base, version: 3, encrypted: true });
    return;
  }
  if (smb[0] !== 0xfe || smb.toString("latin1", 1, 4) !== "SMB") return;
  // SMB2 compound: each header names the offset of the next one.
  let at = 0;
  for (let guard = 0; guard < 64 && at + 64 <= smb.length; guard++) {
    const command = smb.readUInt16LE(at + 12);
    const flags = smb.readUInt32LE(at + 16);
    const record = {
      type: "smb", ...base, version: 2, command,
      response: (flags & 1) === 1,
      nt_status: smb.readUInt32LE(at + 8),
      message_id: Number(smb.readBigUInt64LE(at + 24)),
      tree_id: smb.readUInt32LE(at + 36),
      session_id: smb.readBigUInt64LE(at + 40).toString(16),
    };
    const body = at + 64;
    if (!record.response && command === 3 && body + 8 <= smb.length) {
      const offset = smb.readUInt16LE(body + 4), length = smb.readUInt16LE(body + 6);
      if (offset + length <= smb.length) record.share = smb.toString("utf16le", offset, offset + length);
    }
    if (!record.response && command === 5 && body + 48 <= smb.length) {
      const offset = smb.readUInt16LE(body + 44), length = smb.readUInt16LE(body + 46);
      if (at + offset + length <= smb.length) record.file_name = smb.toString("utf16le", at + offset, at + offset + length);
    }
    emit(record);
    const next = smb.readUInt32LE(at + 20);
    if (next === 0) break;
    at += next;
  }
}

function parseDcerpc(pdu, base) {
  const little = (pdu[4] & 0x10) !== 0;
  const packetType = pdu[2];
  const record = { type: "dcerpc", ...base, packet_type: packetType, call_id: little ? pdu.readUInt32LE(12) : pdu.readUInt32BE(12) };
  if (packetType === 0 && pdu.length >= 24) record.opnum = little ? pdu.readUInt16LE(22) : pdu.readUInt16BE(22);
  if (packetType === 11 && pdu.length >= 48) record.interface_uuid = uuidText(pdu, 32);
  emit(record);
}

// Feeds one segment's payload to the direction's buffer and parses every
// complete PDU in it.
function onPayload(key, protocol, data, base, toServer) {
  let stream = streams.get(key);
  if (!stream) {
    stream = { chunks: [], length: 0, needed: 0, dead: false };
    streams.set(key, stream);
  }
  if (stream.dead) return;
  stream.chunks.push(data);
  stream.length += data.length;
  while (stream.length > 0) {
    if (stream.needed === 0 || stream.length >= stream.needed) {
      let buffer = stream.chunks.length === 1 ? stream.chunks[0] : Buffer.concat(stream.chunks, stream.length);
      stream.chunks = [buffer];
      const needed = PDU_LENGTH[protocol](buffer);
      if (needed < 0 || needed > MAX_PDU_BYTES) {
        stream.dead = true;
        stream.chunks = [];
        return;
      }
      if (needed === 0 || buffer.length < needed) {
        stream.needed = needed === 0 ? buffer.length + 1 : needed;
        return;
      }
      const pdu = buffer.subarray(0, needed);
      if (protocol === "modbus") parseModbus(pdu, base, toServer);
      else if (protocol === "smb") parseSmb(pdu, base);
      else parseDcerpc(pdu, base);
      buffer = buffer.subarray(needed);
      stream.chunks = buffer.length > 0 ? [buffer] : [];
      stream.length = buffer.length;
      stream.needed = 0;
    } else {
      return;
    }
  }
}

function onPacket(raw) {
  packets += 1;
  let decoded;
  try {
    decoded = pcap.decode.packet(raw);
  } catch {
    return; // node-pcap throws on some truncated frames
  }
  const ip = decoded.payload?.payload;
  const tcp = ip?.payload;
  if (!tcp || tcp.decoderName !== "tcp") return;

  const src = String(ip.saddr);
  const dst = String(ip.daddr);
  const key = `${src}:${tcp.sport}>${dst}:${tcp.dport}`;
  if (tcp.flags.fin || tcp.flags.rst) {
    streams.delete(key);
    streams.delete(`${dst}:${tcp.dport}>${src}:${tcp.sport}`);
    return;
  }
  const data = tcp.data;
  if (!data || data.length === 0) return;

  let protocol;
  let toServer;
  if (tcp.dport === MODBUS_PORT || tcp.sport === MODBUS_PORT) {
    protocol = "modbus";
    toServer = tcp.dport === MODBUS_PORT;
  } else if (SMB_PORTS.has(tcp.dport) || SMB_PORTS.has(tcp.sport)) {
    protocol = "smb";
    toServer = SMB_PORTS.has(tcp.dport);
  } else if (tcp.dport === DCERPC_ENDPOINT_MAPPER_PORT || tcp.sport === DCERPC_ENDPOINT_MAPPER_PORT || (data[0] === 5 && data[1] === 0) || streams.has(key)) {
    protocol = "dcerpc";
    toServer = tcp.dport < tcp.sport;
  } else {
    return;
  }

  const header = decoded.pcap_header;
  const base = {
    ts: new Date(header.tv_sec * 1000 + Math.floor(header.tv_usec / 1000)).toISOString(),
    src, src_port: tcp.sport, dst, dst_port: tcp.dport,
  };
  onPayload(key, protocol, data, base, toServer);
}

const session = pcap.createOfflineSession(file, {});
session.on("packet", onPacket);
session.on("complete", () => {
  flush();
  console.error(`plain-pipeline: ${packets} packets, ${records} records`);
});
