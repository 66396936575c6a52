// The conversation a raw packet belongs to, read from its link, IP and
// transport headers, for the packet ring's per-flow index. Both directions of
// a conversation give the same key: the endpoints are put in a fixed order.
//
// Only what the index needs is decoded: Ethernet with 802.1Q/802.1ad tags,
// BSD null/loop, raw IP and Linux cooked captures (v1 and v2); IPv4 and IPv6
// (extension headers walked); TCP and UDP ports. A fragment after the first
// carries no ports and gets port 0, so a slice by flow can miss it while a
// slice by host still finds it (NOTE).

import { ipToText } from "../core/records.js";

export interface Endpoint { ip: string; port: number }

export interface PacketFlow {
  transport: "tcp" | "udp" | "other";
  // The endpoint that sorts first (by address text, then port) is `a`.
  a: Endpoint;
  b: Endpoint;
  // Bytes of link, IP and transport headers: what a truncated copy keeps.
  headerBytes: number;
}

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = 0x8100;
const ETHERTYPE_QINQ = 0x88a8;
const IP_PROTO_TCP = 6;
const IP_PROTO_UDP = 17;
// IPv6 extension headers that chain with a next-header byte and a length.
const IPV6_EXTENSIONS = new Set([0, 43, 60, 135, 139, 140]);
const IPV6_FRAGMENT = 44;
// BSD address families of IPv6 in null/loop headers (NetBSD/OpenBSD, FreeBSD, macOS).
const AF_INET = 2;
const AF_INET6 = new Set([24, 28, 30]);

// Offset of the IP header and its version (4 or 6), or undefined when the
// link header is not one the ring indexes or does not carry IP.
function ipStart(linkType: number, data: Uint8Array): { offset: number; ethertype: number } | undefined {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  switch (linkType) {
    case 1: {
      let offset = 12;
      if (data.length < 14) return undefined;
      let ethertype = view.getUint16(offset);
      // Up to two VLAN tags (802.1Q, 802.1ad QinQ).
      for (let tags = 0; tags < 2 && (ethertype === ETHERTYPE_VLAN || ethertype === ETHERTYPE_QINQ); tags++) {
        offset += 4;
        if (data.length < offset + 2) return undefined;
        ethertype = view.getUint16(offset);
      }
      return { offset: offset + 2, ethertype };
    }
    case 0:
    case 108: {
      if (data.length < 4) return undefined;
      // The family is in the capturing host's byte order (LINKTYPE_NULL) or
      // big-endian (LINKTYPE_LOOP): accept either reading.
      const little = view.getUint32(0, true);
      const big = view.getUint32(0, false);
      if (little === AF_INET || big === AF_INET) return { offset: 4, ethertype: ETHERTYPE_IPV4 };
      if (AF_INET6.has(little) || AF_INET6.has(big)) return { offset: 4, ethertype: ETHERTYPE_IPV6 };
      return undefined;
    }
    case 12: case 14: case 101: case 228: case 229: {
      if (data.length < 1) return undefined;
      const version = data[0] >> 4;
      return { offset: 0, ethertype: version === 6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4 };
    }
    case 113:
      if (data.length < 16) return undefined;
      return { offset: 16, ethertype: view.getUint16(14) };
    case 276:
      if (data.length < 20) return undefined;
      return { offset: 20, ethertype: view.getUint16(0) };
  }
  return undefined;
}

// Reads the conversation of one packet, or undefined when it is not IP over
// a link type the ring indexes (ARP, LLDP, a truncated header).
export function packetFlow(linkType: number, data: Uint8Array): PacketFlow | undefined {
  const start = ipStart(linkType, data);
  if (!start) return undefined;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let at = start.offset;
  let protocol: number;
  let src: string;
  let dst: string;
  let firstFragment = true;
  if (start.ethertype === ETHERTYPE_IPV4) {
    if (data.length < at + 20 || data[at] >> 4 !== 4) return undefined;
    const headerLength = (data[at] & 0x0f) * 4;
    if (headerLength < 20 || data.length < at + headerLength) return undefined;
    protocol = data[at + 9];
    firstFragment = (view.getUint16(at + 6) & 0x1fff) === 0;
    src = ipToText(data, at + 12, 4);
    dst = ipToText(data, at + 16, 4);
    at += headerLength;
  } else if (start.ethertype === ETHERTYPE_IPV6) {
    if (data.length < at + 40 || data[at] >> 4 !== 6) return undefined;
    protocol = data[at + 6];
    src = ipToText(data, at + 8, 6);
    dst = ipToText(data, at + 24, 6);
    at += 40;
    // At most eight extension headers, each checked against the packet end.
    for (let hops = 0; hops < 8 && (IPV6_EXTENSIONS.has(protocol) || protocol === IPV6_FRAGMENT); hops++) {
      if (data.length < at + 8) return undefined;
      const next = data[at];
      if (protocol === IPV6_FRAGMENT) {
        firstFragment = (view.getUint16(at + 2) & 0xfff8) === 0;
        at += 8;
      } else {
        at += (data[at + 1] + 1) * 8;
      }
      protocol = next;
    }
  } else {
    return undefined;
  }

  let transport: PacketFlow["transport"] = "other";
  let srcPort = 0;
  let dstPort = 0;
  let headerBytes = Math.min(at, data.length);
  if ((protocol === IP_PROTO_TCP || protocol === IP_PROTO_UDP) && firstFragment && data.length >= at + 4) {
    transport = protocol === IP_PROTO_TCP ? "tcp" : "udp";
    srcPort = view.getUint16(at);
    dstPort = view.getUint16(at + 2);
    const transportHeader = protocol === IP_PROTO_TCP && data.length >= at + 13 ? (data[at + 12] >> 4) * 4 : 8;
    headerBytes = Math.min(at + Math.max(transportHeader, 8), data.length);
  } else if (protocol === IP_PROTO_TCP || protocol === IP_PROTO_UDP) {
    transport = protocol === IP_PROTO_TCP ? "tcp" : "udp";
  }
  const one = { ip: src, port: srcPort };
  const two = { ip: dst, port: dstPort };
  const ordered = compareEndpoints(one, two) <= 0;
  return { transport, a: ordered ? one : two, b: ordered ? two : one, headerBytes };
}

function compareEndpoints(x: Endpoint, y: Endpoint): number {
  if (x.ip !== y.ip) return x.ip < y.ip ? -1 : 1;
  return x.port - y.port;
}

// The index key of a conversation, such as "tcp 10.0.0.1:49158 10.0.0.2:445".
export function flowKey(transport: string, one: Endpoint, two: Endpoint): string {
  const ordered = compareEndpoints(one, two) <= 0;
  const a = ordered ? one : two;
  const b = ordered ? two : one;
  return `${transport} ${endpointText(a)} ${endpointText(b)}`;
}

export function endpointText(endpoint: Endpoint): string {
  return endpoint.ip.includes(":") ? `[${endpoint.ip}]:${endpoint.port}` : `${endpoint.ip}:${endpoint.port}`;
}

// Parses a 5-tuple as people write it: "tcp 10.0.0.1:49158 10.0.0.2:445",
// "10.0.0.1:49158-10.0.0.2:445/tcp", IPv6 in brackets. Throws a RangeError
// that names the value and shows the form.
export function parseFlow(text: string): { transport: "tcp" | "udp"; one: Endpoint; two: Endpoint } {
  const fail = (why: string): never => {
    throw new RangeError(`invalid flow "${text}": ${why}; write it as "tcp 10.0.0.1:49158 10.0.0.2:445" or "10.0.0.1:49158-10.0.0.2:445/tcp"`);
  };
  let rest = text.trim();
  let transport: string | undefined;
  const prefix = /^(tcp|udp)\s+/i.exec(rest);
  const suffix = /\/(tcp|udp)$/i.exec(rest);
  if (prefix) { transport = prefix[1].toLowerCase(); rest = rest.slice(prefix[0].length); }
  else if (suffix) { transport = suffix[1].toLowerCase(); rest = rest.slice(0, -suffix[0].length); }
  else fail("the transport (tcp or udp) is missing");
  const parts = rest.split(/\s+|(?<=\d|\])-(?=\d|\[)/).filter((p) => p.length > 0);
  if (parts.length !== 2) fail("give exactly two endpoints");
  const endpoints = parts.map((part) => {
    const match = /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(part) ?? /^(\d{1,3}(?:\.\d{1,3}){3}):(\d+)$/.exec(part);
    if (!match) return fail(`endpoint "${part}" is not ADDRESS:PORT`);
    const port = Number(match[2]);
    if (port > 65535) fail(`port ${port} is above 65535`);
    return { ip: match[1].toLowerCase(), port };
  });
  return { transport: transport as "tcp" | "udp", one: endpoints[0], two: endpoints[1] };
}
