// Link layers: strip the capture's link header and hand the network-layer
// bytes to IPv4 or IPv6. Link types are the LINKTYPE_* values of the
// tcpdump.org link-layer header registry.

import { readU16be } from "../../protocols/api";
import { countAnomaly, CoreAnomaly } from "./counters";
import { count, CoreCounter } from "./stats";
import { handleIpv4, handleIpv6, handleIpByVersion } from "./ip";
import { setPacketMacs } from "./packet";

export namespace LinkType {
  @inline export const NULL: u32 = 0;        // BSD loopback, family in host byte order
  @inline export const ETHERNET: u32 = 1;
  @inline export const RAW_DLT12: u32 = 12;  // DLT_RAW on most BSDs and Linux
  @inline export const RAW_DLT14: u32 = 14;  // DLT_RAW on OpenBSD
  @inline export const RAW: u32 = 101;
  @inline export const LOOP: u32 = 108;      // OpenBSD loopback, family in network byte order
  @inline export const LINUX_SLL: u32 = 113;
  @inline export const IPV4: u32 = 228;
  @inline export const IPV6: u32 = 229;
  @inline export const LINUX_SLL2: u32 = 276;
}

@inline const ETHERTYPE_IPV4: u16 = 0x0800;
@inline const ETHERTYPE_IPV6: u16 = 0x86dd;
@inline const ETHERTYPE_VLAN: u16 = 0x8100;    // IEEE 802.1Q customer tag
@inline const ETHERTYPE_QINQ: u16 = 0x88a8;    // IEEE 802.1ad service tag
@inline const ETHERTYPE_QINQ_OLD: u16 = 0x9100; // pre-standard stacked tag

// Stacked VLAN tags walked before giving up (802.1ad uses two; more is
// unusual but seen with provider bridging).
@inline export const MAX_VLAN_TAGS: u32 = 4;

@inline const ETHERNET_HEADER_BYTES: u32 = 14;
@inline const VLAN_TAG_BYTES: u32 = 4;
@inline const SLL_HEADER_BYTES: u32 = 16;
@inline const SLL2_HEADER_BYTES: u32 = 20;
@inline const NULL_HEADER_BYTES: u32 = 4;

// Address family values found in BSD null/loop headers: AF_INET is 2 on
// every system, AF_INET6 is 10 (Linux), 24 (NetBSD, OpenBSD), 28 (FreeBSD)
// or 30 (macOS).
function familyToIpVersion(family: u32): u8 {
  if (family == 2) return 4;
  if (family == 10 || family == 24 || family == 28 || family == 30) return 6;
  return 0;
}

// Decodes one captured frame of `linkType`.
export function handleFrame(linkType: u32, ptr: usize, length: u32): void {
  switch (linkType) {
    case LinkType.ETHERNET: handleEthernet(ptr, length); return;
    case LinkType.LINUX_SLL: handleSll(ptr, length); return;
    case LinkType.LINUX_SLL2: handleSll2(ptr, length); return;
    case LinkType.RAW:
    case LinkType.RAW_DLT12:
    case LinkType.RAW_DLT14:
      count(CoreCounter.LINK_RAW);
      handleIpByVersion(ptr, length);
      return;
    case LinkType.IPV4:
      count(CoreCounter.LINK_RAW);
      handleIpv4(ptr, length);
      return;
    case LinkType.IPV6:
      count(CoreCounter.LINK_RAW);
      handleIpv6(ptr, length);
      return;
    case LinkType.NULL: handleNull(ptr, length, false); return;
    case LinkType.LOOP: handleNull(ptr, length, true); return;
  }
  count(CoreCounter.LINK_UNSUPPORTED);
  countAnomaly(CoreAnomaly.LINK_UNSUPPORTED_TYPE);
}

function handleByEtherType(etherType: u16, ptr: usize, length: u32): void {
  if (etherType == ETHERTYPE_IPV4) handleIpv4(ptr, length);
  else if (etherType == ETHERTYPE_IPV6) handleIpv6(ptr, length);
  else count(CoreCounter.NOT_IP);
}

//   +----------------------+----------------------+-----------+
//   | destination (6)      | source (6)           | type (2)  |
//   +----------------------+----------------------+-----------+
//   802.1Q / 802.1ad tag, repeated:  | TCI (2) | inner type (2) |
function handleEthernet(ptr: usize, length: u32): void {
  count(CoreCounter.LINK_ETHERNET);
  if (length < ETHERNET_HEADER_BYTES) {
    countAnomaly(CoreAnomaly.LINK_TRUNCATED);
    return;
  }
  setPacketMacs(ptr);
  let etherType = readU16be(ptr + 12);
  let offset = ETHERNET_HEADER_BYTES;
  let tags: u32 = 0;
  while (etherType == ETHERTYPE_VLAN || etherType == ETHERTYPE_QINQ || etherType == ETHERTYPE_QINQ_OLD) {
    if (tags == MAX_VLAN_TAGS) {
      countAnomaly(CoreAnomaly.LINK_VLAN_TOO_DEEP);
      return;
    }
    if (length - offset < VLAN_TAG_BYTES) {
      countAnomaly(CoreAnomaly.LINK_TRUNCATED);
      return;
    }
    etherType = readU16be(ptr + <usize>offset + 2);
    offset += VLAN_TAG_BYTES;
    tags++;
  }
  if (tags > 0) count(CoreCounter.VLAN_TAGGED);
  handleByEtherType(etherType, ptr + <usize>offset, length - offset);
}

// Linux cooked capture v1:
//   | packet type (2) | ARPHRD type (2) | address length (2) | address (8) | protocol (2) |
function handleSll(ptr: usize, length: u32): void {
  count(CoreCounter.LINK_SLL);
  if (length < SLL_HEADER_BYTES) {
    countAnomaly(CoreAnomaly.LINK_TRUNCATED);
    return;
  }
  handleByEtherType(readU16be(ptr + 14), ptr + SLL_HEADER_BYTES, length - SLL_HEADER_BYTES);
}

// Linux cooked capture v2:
//   | protocol (2) | reserved (2) | interface index (4) | ARPHRD type (2) |
//   | packet type (1) | address length (1) | address (8) |
function handleSll2(ptr: usize, length: u32): void {
  count(CoreCounter.LINK_SLL2);
  if (length < SLL2_HEADER_BYTES) {
    countAnomaly(CoreAnomaly.LINK_TRUNCATED);
    return;
  }
  handleByEtherType(readU16be(ptr), ptr + SLL2_HEADER_BYTES, length - SLL2_HEADER_BYTES);
}

// BSD null (family as a host-order u32, so either byte order appears in
// files) and OpenBSD loop (family in network byte order).
function handleNull(ptr: usize, length: u32, networkOrder: bool): void {
  count(CoreCounter.LINK_NULL);
  if (length < NULL_HEADER_BYTES) {
    countAnomaly(CoreAnomaly.LINK_TRUNCATED);
    return;
  }
  let family = load<u32>(ptr);
  if (networkOrder) {
    family = bswap<u32>(family);
  } else if (family > 0xffff) {
    // Written by a big-endian host: the family sits in the last byte.
    family = bswap<u32>(family);
  }
  const version = familyToIpVersion(family);
  const rest = length - NULL_HEADER_BYTES;
  if (version == 4) handleIpv4(ptr + NULL_HEADER_BYTES, rest);
  else if (version == 6) handleIpv6(ptr + NULL_HEADER_BYTES, rest);
  else count(CoreCounter.NOT_IP);
}
