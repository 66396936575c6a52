// IPv4 (RFC 791) and IPv6 (RFC 8200): header checks, padding trimmed by the
// length fields, extension headers walked, fragments reassembled, then the
// payload handed to TCP or UDP.

import { readU16be, readU32be } from "../../protocols/api";
import { countAnomaly, CoreAnomaly } from "./counters";
import { count, CoreCounter } from "./stats";
import { setPacketAddresses, setPacketTtl, packetSrc, packetDst, packetTsSec } from "./packet";
import { addFragment, reassembledLength, reassembledProtocol } from "./fragments";
import { handleTcp } from "./tcp";
import { handleUdp } from "./udp";

@inline const PROTOCOL_TCP: u8 = 6;
@inline const PROTOCOL_UDP: u8 = 17;

@inline const IPV6_HOP_BY_HOP: u8 = 0;
@inline const IPV6_ROUTING: u8 = 43;
@inline const IPV6_FRAGMENT: u8 = 44;
@inline const IPV6_AUTHENTICATION: u8 = 51;
@inline const IPV6_NO_NEXT_HEADER: u8 = 59;
@inline const IPV6_DESTINATION_OPTIONS: u8 = 60;

// Extension headers walked before the packet is dropped; RFC 8200 section
// 4.1 allows each kind once (destination options twice), so 8 covers every
// well-formed chain.
@inline export const MAX_IPV6_EXTENSION_HEADERS: u32 = 8;

@inline const IPV4_MIN_HEADER_BYTES: u32 = 20;
@inline const IPV6_HEADER_BYTES: u32 = 40;
@inline const IPV4_MORE_FRAGMENTS: u16 = 0x2000;
@inline const IPV4_OFFSET_MASK: u16 = 0x1fff;

// Set by processBatch: the record's caplen is below its wirelen, so length
// fields larger than the captured bytes are expected, not malformed.
export let captureTruncated: bool = false;
export function setCaptureTruncated(value: bool): void { captureTruncated = value; }

export function handleIpByVersion(ptr: usize, length: u32): void {
  if (length == 0) {
    countAnomaly(CoreAnomaly.LINK_TRUNCATED);
    return;
  }
  const version = load<u8>(ptr) >> 4;
  if (version == 4) handleIpv4(ptr, length);
  else if (version == 6) handleIpv6(ptr, length);
  else count(CoreCounter.NOT_IP);
}

//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-------+-------+---------------+-------------------------------+
//   |Version|  IHL  |Type of Service|          Total Length         |
//   +-------+-------+---------------+-----+-------------------------+
//   |         Identification        |Flags|      Fragment Offset    |
//   +---------------+---------------+-----+-------------------------+
//   |  Time to Live |    Protocol   |         Header Checksum       |
//   +---------------+---------------+-------------------------------+
//   |                       Source Address                          |
//   |                    Destination Address                        |
//   |                    Options (IHL > 5)                          |
export function handleIpv4(ptr: usize, length: u32): void {
  count(CoreCounter.IPV4_PACKETS);
  if (length < IPV4_MIN_HEADER_BYTES) {
    countAnomaly(CoreAnomaly.IPV4_BAD_HEADER_LENGTH);
    return;
  }
  const versionIhl = load<u8>(ptr);
  if ((versionIhl >> 4) != 4) {
    countAnomaly(CoreAnomaly.IPV4_BAD_VERSION);
    return;
  }
  const headerLength = (<u32>(versionIhl & 0x0f)) << 2;
  if (headerLength < IPV4_MIN_HEADER_BYTES || headerLength > length) {
    countAnomaly(CoreAnomaly.IPV4_BAD_HEADER_LENGTH);
    return;
  }
  const totalLength = <u32>readU16be(ptr + 2);
  if (totalLength < headerLength) {
    countAnomaly(CoreAnomaly.IPV4_BAD_TOTAL_LENGTH);
    return;
  }
  let end = length;
  if (totalLength <= length) {
    // Ethernet pads short frames to 60 bytes; the padding is not payload.
    end = totalLength;
  } else if (!captureTruncated) {
    countAnomaly(CoreAnomaly.IPV4_BAD_TOTAL_LENGTH);
    return;
  }
  setPacketAddresses(4, ptr + 12, ptr + 16, 4);
  setPacketTtl(load<u8>(ptr, 8));
  const protocol = load<u8>(ptr, 9);
  const payload = ptr + <usize>headerLength;
  const payloadLength = end - headerLength;

  const flagsOffset = readU16be(ptr + 6);
  if ((flagsOffset & (IPV4_MORE_FRAGMENTS | IPV4_OFFSET_MASK)) != 0) {
    const offset = (<u32>(flagsOffset & IPV4_OFFSET_MASK)) << 3;
    const more = (flagsOffset & IPV4_MORE_FRAGMENTS) != 0;
    const whole = addFragment(4, packetSrc(), packetDst(), <u32>readU16be(ptr + 4), protocol,
      offset, more, payload, payloadLength, packetTsSec);
    if (whole != 0) handleTransport(reassembledProtocol, whole, reassembledLength);
    return;
  }
  handleTransport(protocol, payload, payloadLength);
}

//   +-------+---------------+---------------------------------------+
//   |Version| Traffic Class |              Flow Label               |
//   +-------+---------------+-------+---------------+---------------+
//   |         Payload Length        |  Next Header  |   Hop Limit   |
//   +-------------------------------+---------------+---------------+
//   |                  Source Address (128 bits)                    |
//   |               Destination Address (128 bits)                  |
export function handleIpv6(ptr: usize, length: u32): void {
  count(CoreCounter.IPV6_PACKETS);
  if (length < IPV6_HEADER_BYTES) {
    countAnomaly(CoreAnomaly.LINK_TRUNCATED);
    return;
  }
  if ((load<u8>(ptr) >> 4) != 6) {
    countAnomaly(CoreAnomaly.IPV6_BAD_VERSION);
    return;
  }
  const payloadLength = <u32>readU16be(ptr + 4);
  let available = length - IPV6_HEADER_BYTES;
  if (payloadLength <= available) {
    // A payload length of 0 announces a jumbogram (RFC 2675); use the
    // captured bytes then.
    if (payloadLength != 0) available = payloadLength;
  } else if (!captureTruncated) {
    countAnomaly(CoreAnomaly.IPV6_BAD_PAYLOAD_LENGTH);
    return;
  }
  setPacketAddresses(6, ptr + 8, ptr + 24, 16);
  setPacketTtl(load<u8>(ptr, 7));
  walkIpv6Headers(load<u8>(ptr, 6), ptr + IPV6_HEADER_BYTES, available, true);
}

// Walks the extension header chain to the upper-layer header. A fragment
// header sends the fragment to reassembly; the reassembled payload walks the
// rest of the chain (without accepting a second fragment header).
function walkIpv6Headers(nextHeader: u8, ptr: usize, length: u32, fragmentAllowed: bool): void {
  let header = nextHeader;
  let offset: u32 = 0;
  for (let walked: u32 = 0; ; walked++) {
    if (header != IPV6_HOP_BY_HOP && header != IPV6_ROUTING && header != IPV6_FRAGMENT &&
        header != IPV6_AUTHENTICATION && header != IPV6_DESTINATION_OPTIONS) break;
    if (walked == MAX_IPV6_EXTENSION_HEADERS) {
      countAnomaly(CoreAnomaly.IPV6_EXTENSION_CHAIN_TOO_LONG);
      return;
    }
    if (length - offset < 8) {
      countAnomaly(CoreAnomaly.IPV6_EXTENSION_TRUNCATED);
      return;
    }
    const p = ptr + <usize>offset;
    if (header == IPV6_FRAGMENT) {
      //   | Next Header | Reserved | Fragment Offset (13) |Res|M| | Identification (32) |
      if (!fragmentAllowed) {
        countAnomaly(CoreAnomaly.IPV6_SECOND_FRAGMENT_HEADER);
        return;
      }
      const offsetFlags = readU16be(p + 2);
      const fragmentOffset = <u32>(offsetFlags & 0xfff8);
      const more = (offsetFlags & 1) != 0;
      const id = readU32be(p + 4);
      const start = offset + 8;
      if (fragmentOffset == 0 && !more) {
        // An atomic fragment (RFC 6946): the payload is complete.
        header = load<u8>(p);
        offset = start;
        continue;
      }
      const whole = addFragment(6, packetSrc(), packetDst(), id, load<u8>(p),
        fragmentOffset, more, ptr + <usize>start, length - start, packetTsSec);
      if (whole != 0) walkIpv6Headers(reassembledProtocol, whole, reassembledLength, false);
      return;
    }
    let headerLength: u32;
    if (header == IPV6_AUTHENTICATION) {
      headerLength = (<u32>load<u8>(p, 1) + 2) << 2;    // RFC 4302 section 2.2: 4-octet units minus 2
    } else {
      headerLength = (<u32>load<u8>(p, 1) + 1) << 3;    // 8-octet units, not counting the first 8
    }
    if (headerLength > length - offset) {
      countAnomaly(CoreAnomaly.IPV6_EXTENSION_TRUNCATED);
      return;
    }
    header = load<u8>(p);
    offset += headerLength;
  }
  if (header == IPV6_NO_NEXT_HEADER) return;
  handleTransport(header, ptr + <usize>offset, length - offset);
}

function handleTransport(protocol: u8, ptr: usize, length: u32): void {
  if (protocol == PROTOCOL_TCP) handleTcp(ptr, length);
  else if (protocol == PROTOCOL_UDP) handleUdp(ptr, length);
  else count(CoreCounter.IP_OTHER_PROTOCOL);
}
